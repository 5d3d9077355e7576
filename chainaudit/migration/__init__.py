"""Migrations between stores: signed manifests over a Merkle tree, inclusion proofs, the gates, diffs, and chain continuity."""
