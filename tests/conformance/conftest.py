"""The ``make_store`` fixture, parametrized over every store (STORE-9)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.stores import NdjsonFileStore, StoreUnderTest

#: The live stores' params carry their server's marker (tests/conftest.py).
STORES = [
    "ndjson",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("dynamodb", marks=pytest.mark.dynamodb),
]

MakeStore = Callable[..., StoreUnderTest]


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    """A factory of fresh, empty stores of one kind; ``make_store(**options)``."""
    kind = request.param
    cleanups: list[Callable[[], None]] = []

    if kind == "ndjson":

        def make(**_: Any) -> StoreUnderTest:
            return NdjsonFileStore(tmp_path / f"{uuid.uuid4().hex}.ndjson")

    elif kind == "postgres":
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        from chainaudit.sources.postgres import PostgresStore

        server = request.getfixturevalue("pg_server_dsn")

        def make(**options: Any) -> StoreUnderTest:
            schema = f"c_{uuid.uuid4().hex[:16]}"
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')

            def drop() -> None:
                with psycopg.connect(server, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

            cleanups.append(drop)
            params = conninfo_to_dict(server)
            params["options"] = f"-c search_path={schema}"
            opts = {"fetch_size": 7, "batch_size": 5, **options}
            store = PostgresStore(make_conninfo("", **params), **opts)
            store.create_schema()
            return store

    else:
        from chainaudit.sources.dynamodb import DynamoDBStore

        conn_opts = request.getfixturevalue("dynamodb_options")

        def make(**options: Any) -> StoreUnderTest:
            table = f"c_{uuid.uuid4().hex[:16]}"
            opts = {"segments": 3, "page_size": 7, "batch_size": 5, **options}
            store = DynamoDBStore(table, **conn_opts, **opts)
            store.create_table(wait_delay=0.05)
            cleanups.append(lambda: store.client.delete_table(TableName=table) and None)
            return store

    yield make
    for cleanup in cleanups:
        cleanup()
