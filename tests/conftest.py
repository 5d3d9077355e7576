"""Fixtures for the real servers that ``scripts/test.sh`` starts.

A test that needs PostgreSQL or DynamoDB gets an isolated namespace on the
shared server (a fresh schema, a fresh table) so tests never see each
other's rows. When the server's environment variable is missing the fixture
FAILS rather than skips: a skipped store test is a silently untested store,
and CI must never go green that way (docs/stores.md, STORE-9).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# CI runs on a shared 2-core machine next to two servers: a slow draw is load,
# not a failing property. Properties keep their example counts; only the
# wall-clock checks (deadline, too_slow) are off, so the verdict depends on
# what the code does, never on how busy the machine was.
settings.register_profile(
    "chainaudit",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("chainaudit")

PG_ENV = "CHAINAUDIT_TEST_PG_DSN"
DYNAMODB_ENV = "CHAINAUDIT_TEST_DYNAMODB_ENDPOINT"


def _require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: run the tests with `bash scripts/test.sh`, "
            "which starts PostgreSQL and dynalite and exports it",
            pytrace=False,
        )
    return value


@pytest.fixture(scope="session")
def pg_server_dsn() -> str:
    """DSN of the throwaway PostgreSQL server (database ``postgres``)."""
    return _require_env(PG_ENV)


@pytest.fixture()
def pg_dsn(pg_server_dsn: str) -> Iterator[str]:
    """A DSN whose ``search_path`` is a fresh, empty schema, dropped afterwards."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_server_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    params = conninfo_to_dict(pg_server_dsn)
    params["options"] = f"-c search_path={schema}"
    try:
        yield make_conninfo("", **params)
    finally:
        with psycopg.connect(pg_server_dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> str:
    """Endpoint URL of the local dynalite server."""
    return _require_env(DYNAMODB_ENV)


@pytest.fixture()
def dynamodb_options(dynamodb_endpoint: str) -> dict[str, Any]:
    """Connection options for the local server (dummy credentials; dynalite ignores them)."""
    return {
        "endpoint_url": dynamodb_endpoint,
        "region": "us-east-1",
        "access_key_id": "test",
        "secret_access_key": "test",
    }


@pytest.fixture()
def dynamodb_table_name(dynamodb_options: dict[str, Any]) -> Iterator[str]:
    """A unique table name; the table (if a test created it) is deleted afterwards."""
    import boto3

    name = f"t_{uuid.uuid4().hex[:16]}"
    yield name
    client = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_options["endpoint_url"],
        region_name=dynamodb_options["region"],
        aws_access_key_id=dynamodb_options["access_key_id"],
        aws_secret_access_key=dynamodb_options["secret_access_key"],
    )
    with contextlib.suppress(client.exceptions.ResourceNotFoundException):
        client.delete_table(TableName=name)
