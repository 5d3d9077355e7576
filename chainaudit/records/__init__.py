"""The neutral record model: records, their canonical addresses, stored items, record keys and digests."""
