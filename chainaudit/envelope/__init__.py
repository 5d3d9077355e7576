"""Envelope v1: sealing and opening AES-256-GCM envelopes bound to an address, their verifier, and nonce-reuse detection."""
