"""Fixtures for the real servers that ``scripts/test.sh`` starts.

A test that needs PostgreSQL, DynamoDB or S3 gets an isolated namespace on
the shared server (a fresh schema, a fresh table, a fresh bucket) so tests
never see each other's rows. When the server's environment variable is missing the fixture
FAILS rather than skips: a skipped store test is a silently untested store,
and CI must never go green that way (docs/stores.md, STORE-9).

Every test that reaches a server carries its marker (``postgres``,
``dynamodb``, ``s3``), applied here and not by hand, so a new test cannot
forget it: ``python3 -m pytest -m "not postgres and not dynamodb and not
s3"`` runs the rest with no server at all. A test is marked
when (``pytest_collection_modifyitems``):

- it uses, directly or through other fixtures, a fixture of
  ``SERVER_FIXTURES`` (``pg_dsn``, ``dynamodb_table_name``, ...);
- its source names a server's environment variable or ``services.sh``;
- a parametrized fixture reaches a server only for some of its params (with
  ``request.getfixturevalue``): that param is a ``pytest.param(...,
  marks=pytest.mark.postgres)``, as ``tests/conformance/conftest.py`` does.

A test that reaches a server in a way none of these saw fails at teardown
(``_server_marker_guard``) and says which marker to add.
"""

from __future__ import annotations

import contextlib
import inspect
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

#: ``pytester`` runs a throwaway suite against this conftest (tests/test_server_markers.py).
pytest_plugins = ["pytester"]

PG_ENV = "CHAINAUDIT_TEST_PG_DSN"
DYNAMODB_ENV = "CHAINAUDIT_TEST_DYNAMODB_ENDPOINT"
S3_ENV = "CHAINAUDIT_TEST_S3_ENDPOINT"
#: s3rver checks request signatures against these built-in credentials.
S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER"}

#: The fixtures that reach a server, by the marker their users get. Any
#: fixture depending on one of them is covered too: ``item.fixturenames`` is
#: the closure of every fixture a test uses.
SERVER_FIXTURES: dict[str, frozenset[str]] = {
    "postgres": frozenset({"pg_server_dsn", "pg_dsn"}),
    "dynamodb": frozenset({"dynamodb_endpoint", "dynamodb_options", "dynamodb_table_name"}),
    "s3": frozenset({"s3_endpoint", "s3_bucket"}),
}
#: Text in a test's own source that means it reaches a server without a fixture.
SERVER_SOURCE_HINTS: dict[str, tuple[str, ...]] = {
    "postgres": (PG_ENV, "services.sh"),
    "dynamodb": (DYNAMODB_ENV, "services.sh"),
    "s3": (S3_ENV, "services.sh"),
}


def _source(item: pytest.Item) -> str:
    function = getattr(item, "function", None)
    if function is None:
        return ""
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""


def servers_needed(item: pytest.Item) -> set[str]:
    """The markers ``item`` must carry, from its fixtures and its own source."""
    names = set(getattr(item, "fixturenames", ()))
    source = _source(item)
    return {
        marker
        for marker, fixtures in SERVER_FIXTURES.items()
        if names & fixtures or any(hint in source for hint in SERVER_SOURCE_HINTS[marker])
    }


#: Markers that imply others. An S3 test reads a DynamoDB Export to S3 (or
#: exports in S3) through the AWS SDK, like the DynamoDB tests: it carries
#: ``dynamodb`` too, so ``-m "not postgres and not dynamodb"`` still selects
#: exactly the tests that need no server.
IMPLIED_MARKERS = {"s3": ("dynamodb",)}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        needed = servers_needed(item)
        needed |= {m for n in needed for m in IMPLIED_MARKERS.get(n, ())}
        for marker in sorted(needed):
            if item.get_closest_marker(marker) is None:
                item.add_marker(marker)


@pytest.fixture(autouse=True)
def _server_marker_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that reached a server fixture it was not marked for.

    Only a fixture fetched with ``request.getfixturevalue`` escapes the
    collection hook; this catches it (the fixture names a test used are known
    once it ran), so the fast no-server run cannot silently select it.
    """
    yield
    used = set(request.fixturenames)
    for marker, fixtures in SERVER_FIXTURES.items():
        reached = sorted(used & fixtures)
        if reached and request.node.get_closest_marker(marker) is None:
            pytest.fail(
                f"{request.node.nodeid} uses {', '.join(reached)} but is not marked "
                f"{marker}: mark the fixture param that reaches it "
                f"(pytest.param(..., marks=pytest.mark.{marker})), see tests/conftest.py",
                pytrace=False,
            )


def _require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: run the tests with `bash scripts/test.sh`, "
            "which starts PostgreSQL, dynalite and s3rver and exports it",
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


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """Endpoint URL of the local s3rver server."""
    return _require_env(S3_ENV)


@pytest.fixture()
def s3_bucket(s3_endpoint: str) -> str:
    """A fresh, empty bucket on the local S3 server (its data goes with the server)."""
    import boto3
    import botocore.config

    name = f"t-{uuid.uuid4().hex[:16]}"
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=botocore.config.Config(s3={"addressing_style": "path"}),
    ).create_bucket(Bucket=name)
    return name


# --- the demo, through the installed command --------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``chainaudit demo DIR`` through the installed command, once per module
    (a module that needs another demo defines its own fixture of this name)."""
    from e2e_cli import Cli, Secrets, expect

    out = tmp_path_factory.mktemp("demo") / "demo"
    expect(Cli(Secrets())("demo", out), 0)
    return out


@pytest.fixture(scope="module")
def cli(demo: Any) -> Any:
    """The installed command, every run scanned for the demo's secrets (CLI-4)."""
    from e2e_cli import Cli, demo_secrets

    return Cli(demo_secrets(demo))
