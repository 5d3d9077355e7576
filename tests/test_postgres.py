"""PostgreSQL adapter tests against the real server scripts/test.sh starts (STORE)."""

from __future__ import annotations

import psycopg


def test_postgres_is_a_real_postgresql_15(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
    assert row is not None
    assert 150000 <= int(row[0]) < 160000
