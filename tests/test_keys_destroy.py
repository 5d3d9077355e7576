"""`chainaudit keys destroy`: crypto-shredding as a recorded act, in both live stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from e2e_stores import pg_schema

from chainaudit.audit import AuditOptions, audit
from chainaudit.cli import main
from chainaudit.keys.signing import TrustStore, private_key_from_label, public_bytes
from chainaudit.records.model import KeyState, WrappedDek
from chainaudit.report.render import exit_code_for
from chainaudit.sample import build_sample
from chainaudit.sources import Source
from chainaudit.sources.dynamodb import DynamoDBStore
from chainaudit.sources.postgres import PostgresStore

KEY = "dek#dlg-2026-001#1"
AT = "2026-11-01T10:00:00.000Z"


@pytest.fixture(
    params=[
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("dynamodb", marks=pytest.mark.dynamodb),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, list[str]]]:
    """A live store seeded with the sample, and the CLI args that reach it."""
    sample = build_sample()
    if request.param == "postgres":
        with pg_schema(request.getfixturevalue("pg_server_dsn")) as url:
            pg = PostgresStore(url)
            pg.create_schema()
            pg.import_records(sample.records)
            yield pg, [url]
    else:
        opts = request.getfixturevalue("dynamodb_options")
        table = request.getfixturevalue("dynamodb_table_name")
        ddb = DynamoDBStore(table, **opts)
        ddb.create_table(wait_delay=0.05)
        ddb.import_records(sample.records)
        yield (
            ddb,
            [
                f"dynamodb://{table}",
                "--endpoint-url",
                opts["endpoint_url"],
                "--region",
                opts["region"],
            ],
        )


#: The erasure authority whose key signs receipts in these tests (COMMIT-7).
AUTHORITY = private_key_from_label("test-erasure-authority")


def verify(src: Source) -> tuple[int, list[str]]:
    sample = build_sample()
    assert sample.signer is not None and sample.erasure_signer is not None
    pinned = [public_bytes(k) for k in (sample.signer, sample.erasure_signer, AUTHORITY)]
    result = audit(src, AuditOptions(umk=sample.umk, trust=TrustStore.of(pinned)))
    return exit_code_for(result), result.codes()


@pytest.fixture
def erasure_key(tmp_path: Path) -> str:
    """A signing-key file holding AUTHORITY's seed, as `keys signer` writes it."""
    path = tmp_path / "erasure.key"
    path.write_text(AUTHORITY.private_bytes_raw().hex() + "\n")
    path.chmod(0o600)
    return str(path)


def dek(src: Source) -> WrappedDek:
    return next(r for r in src.read() if isinstance(r, WrappedDek) and r.key_id == KEY)


def test_destroy_shreds_logs_and_is_idempotent(
    store: tuple[Any, list[str]], monkeypatch: pytest.MonkeyPatch, erasure_key: str
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    src, target = store
    before_code, before = verify(src)
    assert before_code == 0 and before.count("KEY_SHREDDED") == 30  # dlg-2026-003 only
    runner = CliRunner()
    args = ["keys", "destroy", KEY, *target, "--at", AT, "--erasure-key", erasure_key]
    run = runner.invoke(main, args)
    assert run.exit_code == 0, run.output
    assert "erasure receipt signed" in run.output
    record = dek(src)
    assert (
        record.state is KeyState.DESTROYED
        and record.wrapped_key is None
        and record.destroyed_at == AT
    )
    code, after = verify(src)
    # Every record of dlg-2026-001 is now shredded, not tampered; the chain and
    # the key history (destroy_dek logged) still verify.
    assert code == 0, after
    assert after.count("KEY_SHREDDED") == 60
    snapshot = sorted(str(x) for x in src.read())
    again = runner.invoke(
        main,
        ["keys", "destroy", KEY, *target, "--at", "2026-11-02T00:00:00.000Z",
         "--erasure-key", erasure_key],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "already" in again.output and "erasure receipt already present" in again.output
    assert sorted(str(x) for x in src.read()) == snapshot


def test_destroy_never_overwrites_a_concurrent_change(store: tuple[Any, list[str]]) -> None:
    src, _ = store
    record = dek(src)
    from chainaudit.errors import ConflictError
    from chainaudit.keys.hierarchy import destroy, retire

    assert src.replace_dek(record, retire(record)) is True  # someone else rotated it
    with pytest.raises(ConflictError):
        src.replace_dek(record, destroy(record, AT))
    assert dek(src).state is KeyState.RETIRED


def test_destroy_refuses_a_time_before_the_audit_log_tip(
    store: tuple[Any, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit log is append-only: an event dated before its tip would break it for good."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    src, target = store
    before = sorted(str(x) for x in src.read())
    run = CliRunner().invoke(
        main, ["keys", "destroy", KEY, *target, "--at", "2020-01-01T00:00:00Z"]
    )
    assert run.exit_code == 2, run.output
    assert "is not after the last event of audit chain crypto-audit" in run.output
    assert sorted(str(x) for x in src.read()) == before  # nothing written


def test_destroy_without_an_erasure_key_is_unsigned(
    store: tuple[Any, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """COMMIT-8: a destruction without a receipt is never 'not tampering': exit 3."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    src, target = store
    run = CliRunner().invoke(main, ["keys", "destroy", KEY, *target, "--at", AT])
    assert run.exit_code == 0, run.output
    assert "no erasure receipt" in run.output
    code, after = verify(src)
    assert code == 3 and after.count("ERASURE_UNSIGNED") == 1, after
