"""Record commitments and signed erasure receipts: the events, the verifier, and planning an erasure."""
