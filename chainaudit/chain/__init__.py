"""Audit hash chains: events and their hashed bytes, the writer, the streaming verifier, checkpoints and migration-boundary events."""
