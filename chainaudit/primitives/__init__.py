"""Cryptographic and parsing primitives behind one call path: AES-GCM, HKDF, BLAKE3 Merkle trees, strict JSON."""
