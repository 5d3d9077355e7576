"""chainaudit: prove that encrypted, hash-chained records are complete,
untampered, bound to their address and decryptable, in any store, and that a
migration between stores lost nothing and broke no chain."""

__version__ = "0.1.0"
