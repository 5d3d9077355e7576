"""The key hierarchy: the UMK, KEK derivation and DEK wrapping, key resolution, KMS, shredding, the key audit log, Ed25519 signing and trust."""
