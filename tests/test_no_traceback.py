"""CLI-4: no input and no fault ever ends in a traceback, nor in exit 1 by accident.

Every reader is fed, in the position the command line gives it, arbitrary
bytes, bytes close to its own format (a valid document with one value
replaced by something hostile), deep nesting, huge numbers, invalid UTF-8,
NUL bytes and truncated gzip. Whatever it is given, the run ends in exit 1
(integrity findings: the input read fine and was found wrong), 2 (unreadable
input) or 3 (could not verify), or 0 when the draw happened to be valid; on exit 2 or 3 stderr is exactly one line,
``chainaudit: error: WHERE: WHAT``, and WHERE names the file that was bad
(docs/cli.md CLI-3, CLI-4). The last-resort guard (``chainaudit: internal
error``) must never be what answers: each reader names its file itself.

The readers run in-process through click's runner on ``chainaudit.cli.main``
with ``catch_exceptions=False`` (fast, and an exception that escaped even the
guard fails the test with its traceback). Store configuration errors and a
full temporary directory run the installed ``chainaudit`` in a subprocess, as
a CI job would; the full disk is a 64 KiB tmpfs, so those tests need root (as
CI has) and fail, never skip, without it.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainaudit.cli import main
from chainaudit.conformance.vectorgen.export_fixtures import write_ddb_export, write_pg_copy
from chainaudit.envelope.seal import PayloadError, decode_payload
from chainaudit.findings import Finding
from chainaudit.keys.signer import load_signing_key
from chainaudit.migration.manifest import ManifestBuilder, dump_manifest, sign_manifest
from chainaudit.primitives.strictjson import MAX_DEPTH
from chainaudit.records.model import AuditEvent, EntityRecord, WrappedDek
from chainaudit.sources.ndjson import NdjsonSource, write_export

#: Examples per reader; CHAINAUDIT_FUZZ_EXAMPLES=2000 for a long hunt.
EXAMPLES = int(os.environ.get("CHAINAUDIT_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: For readers whose every example verifies the whole demo or builds an AWS client.
FUZZ_SLOW = settings(FUZZ, max_examples=max(1, EXAMPLES // 3))
CREATED = "2026-03-02T12:00:00.000Z"

# --- hostile content -------------------------------------------------------------

#: Whole documents no reader should survive by accident.
HOSTILE_DOCS: list[bytes] = [
    b"",
    b"\n",
    b"\x00",
    b"\x00" * 100,
    b"[" * 5000,
    b"{" * 5000,
    b'{"a":' * 2000,
    b'{"a":' * 2000 + b"1" + b"}" * 2000,
    b"[" * 1000 + b"]" * 1000,
    b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
    b"1" + b"0" * 5000,
    b"-" + b"9" * 5000,
    b"1e999999",
    b"-1e999999",
    b"1" + b"0" * 400 + b".5",
    b"NaN",
    b"Infinity",
    b"\xff\xfe\xfd",
    b"\xef\xbb\xbf{}",
    b'"\\ud800"',
    b'{"a":1,"a":2}',
    b"{}",
    b"[]",
    b"null",
    b'"x"',
    b"0" * 64,
    b"{}\n{}\n",
    b"\x1f\x8b",
    b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
    gzip.compress(b"[" * 5000)[:-4],
    gzip.compress(b'{"a":1}\n' * 20)[:30],
]

#: Raw JSON texts put where a value of a valid document was.
HOSTILE_VALUES: list[str] = [
    "[" * 5000,
    '{"a":' * 2000 + "1" + "}" * 2000,
    "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2),
    "1" + "0" * 5000,
    "-" + "9" * 4400,
    "1e999999",
    "-1e999999",
    "1e-999999",
    "9007199254740993",
    "18446744073709551616",
    "-1",
    "0",
    "0.5",
    "true",
    "null",
    '""',
    '"\\u0000"',
    '"\\ud800"',
    '"' + "a" * 5000 + '"',
    '"' + "0" * 64 + '"',
    '"' + "f" * 128 + '"',
    '"2026-13-45T99:99:99Z"',
    "[]",
    "{}",
    '["\\u0000", null, 1e308]',
    '{"S": "x"}',
    '{"N": "1e999999"}',
    '{"N": "' + "9" * 5000 + '"}',
    '{"B": "!!!"}',
    '{"M": ' + '{"a": {"M": ' * 60 + "{}" + "}}" * 60 + "}",
    '{"L": [' + '{"L": [' * 60 + "]}" * 60 + "]}",
]

_PLACEHOLDER = "\u2603HOSTILE\u2603"


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every position in a parsed JSON document (members, items, and the root)."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    doc = copy.deepcopy(doc)
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return doc


@st.composite
def mutated_json(draw: st.DrawFn, valid: bytes) -> bytes:
    """``valid`` (one JSON document) with one value, or a member name, made hostile."""
    try:
        doc = json.loads(valid)
    except ValueError:  # not JSON (a key file): hostile bytes in the middle instead
        at = draw(st.integers(0, len(valid)))
        return valid[:at] + draw(st.sampled_from(HOSTILE_DOCS)) + valid[at:]
    paths = list(_paths(doc))
    path = draw(st.sampled_from(paths))
    how = draw(st.sampled_from(["value", "value", "value", "drop", "rename", "bytes"]))
    if how == "drop" and path:
        doc = copy.deepcopy(doc)
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        del parent[path[-1]]
        return json.dumps(doc).encode()
    if how == "rename" and path and isinstance(path[-1], str):
        doc = copy.deepcopy(doc)
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        parent[draw(st.text(max_size=8))] = parent.pop(path[-1])
        return json.dumps(doc).encode()
    if how == "bytes":
        encoded = json.dumps(_replace(doc, path, _PLACEHOLDER)).encode()
        junk = draw(st.binary(max_size=12))
        return encoded.replace(json.dumps(_PLACEHOLDER).encode(), b'"' + junk + b'"')
    raw = draw(st.one_of(st.sampled_from(HOSTILE_VALUES), _json_scalars()))
    text = json.dumps(_replace(doc, path, _PLACEHOLDER))
    return text.replace(json.dumps(_PLACEHOLDER), raw).encode()


def _json_scalars() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers().map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        st.text(max_size=20).map(json.dumps),
    )


def hostile(valid: bytes | None = None) -> st.SearchStrategy[bytes]:
    """Bytes for a reader: hostile documents, random bytes, and (given a valid
    document) that document with one part made hostile."""
    options = [st.sampled_from(HOSTILE_DOCS), st.binary(max_size=200)]
    if valid is not None:
        options += [mutated_json(valid), mutated_json(valid)]
        options.append(st.integers(0, len(valid)).map(lambda n: valid[:n]))
    return st.one_of(*options)


# --- running ---------------------------------------------------------------------------


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    """``chainaudit ARGS`` in-process; an exception that escapes even the guard fails the test."""
    argv = [str(a) for a in args]
    return CliRunner().invoke(main, argv, catch_exceptions=False, env=env, prog_name="chainaudit")


def assert_clean(code: int, stdout: str, stderr: str, names: Path | str | None, what: str) -> None:
    """CLI-3/CLI-4: exit 1, 2 or 3 (0 only when the drawn input happens to be
    valid); no traceback; an error is one line on stderr naming ``names``. An
    exit 3 without an error line is a report's verdict (nothing checked), on stdout."""
    shown = f"{what}\nexit {code}\n--- stdout\n{stdout[:500]}\n--- stderr\n{stderr[-2000:]}"
    assert "Traceback" not in stderr, shown
    assert "internal error" not in stderr, shown
    assert code in (0, 1, 2, 3), shown
    if code == 2 or stderr:
        lines = stderr.splitlines()
        assert len(lines) == 1, shown
        assert lines[0].startswith("chainaudit: error: "), shown
        if names is not None:
            assert str(names) in lines[0], shown
    if code == 3 and not stderr:
        assert stdout, shown


def check(result: Result, names: Path | str | None, what: str = "") -> None:
    assert_clean(result.exit_code, result.stdout, result.stderr, names, what or repr(result))


# --- inputs ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``chainaudit demo DIR`` (export, UMK, signer, trusted keys, checkpoint), in-process."""
    out = tmp_path_factory.mktemp("nt") / "demo"
    result = invoke("demo", out)
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def small(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small valid export: the demo's first dialogue only (fast to verify)."""
    records = [r for r in NdjsonSource(demo / "export.ndjson").read() if _of_first_dialogue(r)]
    path = tmp_path_factory.mktemp("small") / "small.ndjson"
    write_export(path, records, source="no-traceback test", created_at=CREATED)
    return path


def _of_first_dialogue(r: object) -> bool:
    if isinstance(r, EntityRecord):
        return r.address.dialogue == "dlg-2026-001"
    return isinstance(r, WrappedDek) and r.dialogue == "dlg-2026-001"


@pytest.fixture(scope="module")
def gated(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A signed manifest of the demo and its leaves file (as ``gate pre`` writes them),
    and one inclusion proof from ``prove``."""
    d = tmp_path_factory.mktemp("gated")
    manifest, leaves = d / "manifest.json", d / "manifest.json.leaves"
    with ManifestBuilder() as builder, open(leaves, "wb") as leaves_out:
        for item in NdjsonSource(demo / "export.ndjson").read():
            if not isinstance(item, Finding):
                builder.add(item)
        source = {"backend": "file", "name": "demo"}
        statement = builder.statement(created_at=CREATED, source=source, leaves_out=leaves_out)
    signed = sign_manifest(statement, load_signing_key(demo / "signer.key"))
    manifest.write_bytes(dump_manifest(signed))
    key = json.loads(leaves.read_bytes().splitlines()[3])[0]
    proof = d / "proof.json"
    run = invoke("prove", key, "-m", manifest, "-o", proof)
    assert run.exit_code == 0, run.stderr
    return {"manifest": manifest, "leaves": leaves, "proof": proof, "key": Path(key)}


def _write(tmp: Path, name: str, data: bytes, mode: int = 0o600) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / name
    if path.exists():
        path.unlink()
    path.write_bytes(data)
    path.chmod(mode)
    return path


_counter = iter(range(10**9))


def fresh(tmp_path: Path) -> Path:
    """A new directory per hypothesis example (the function-scoped tmp_path is shared)."""
    d = tmp_path / f"ex{next(_counter)}"
    d.mkdir()
    return d


# --- NDJSON exports ------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_ndjson_export_whole_file(tmp_path: Path, small: Path, data: st.DataObject) -> None:
    raw = data.draw(hostile(), "export")
    path = _write(fresh(tmp_path), "x.ndjson", raw)
    check(invoke("verify", path), path)


@FUZZ
@given(data=st.data())
def test_ndjson_export_one_line_hostile(tmp_path: Path, small: Path, data: st.DataObject) -> None:
    lines = small.read_bytes().splitlines(keepends=True)
    i = data.draw(st.integers(0, len(lines) - 1), "line")
    new = data.draw(hostile(lines[i].rstrip(b"\n")), "content")
    gz = data.draw(st.booleans(), "gzip")
    body = b"".join(lines[:i]) + new + b"\n" + b"".join(lines[i + 1 :])
    d = fresh(tmp_path)
    path = _write(d, "x.ndjson.gz", gzip.compress(body)) if gz else _write(d, "x.ndjson", body)
    check(invoke("verify", path), path)


@FUZZ
@given(data=st.data())
def test_ndjson_gzip_truncated_or_corrupt(tmp_path: Path, small: Path, data: st.DataObject) -> None:
    packed = bytearray(gzip.compress(small.read_bytes()))
    if data.draw(st.booleans(), "flip"):
        at = data.draw(st.integers(0, len(packed) - 1), "at")
        packed[at] ^= data.draw(st.integers(1, 255), "bits")
    cut = data.draw(st.integers(0, len(packed)), "cut")
    path = _write(fresh(tmp_path), "x.ndjson.gz", bytes(packed[:cut]))
    check(invoke("verify", path), path)


# --- key and trust files given as options ----------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_checkpoint_file(tmp_path: Path, demo: Path, data: st.DataObject) -> None:
    valid = (demo / "checkpoint.json").read_bytes()
    if data.draw(st.booleans(), "as an array"):  # CHAIN-11: one file, many checkpoints
        valid = b"[" + valid + b"," + valid + b"]"
    raw = data.draw(hostile(valid), "checkpoint")
    path = _write(fresh(tmp_path), "checkpoint.json", raw)
    trust = ("--trusted-keys", demo / "trusted-keys.json")
    check(invoke("verify", demo / "export.ndjson", *trust, "--checkpoint", path), path)


@FUZZ
@given(data=st.data())
def test_trusted_keys_file(tmp_path: Path, demo: Path, small: Path, data: st.DataObject) -> None:
    raw = data.draw(hostile((demo / "trusted-keys.json").read_bytes()), "trusted keys")
    path = _write(fresh(tmp_path), "trusted-keys.json", raw)
    check(invoke("verify", small, "--trusted-keys", path), path)


@FUZZ
@given(data=st.data())
def test_umk_file(tmp_path: Path, demo: Path, small: Path, data: st.DataObject) -> None:
    raw = data.draw(hostile((demo / "umk.hex").read_bytes()), "umk")
    path = _write(fresh(tmp_path), "umk.hex", raw)
    check(invoke("verify", small, "--umk", path), path)


@FUZZ
@given(data=st.data())
def test_signing_key_file(tmp_path: Path, demo: Path, small: Path, data: st.DataObject) -> None:
    raw = data.draw(hostile((demo / "signer.key").read_bytes()), "signing key")
    d = fresh(tmp_path)
    path = _write(d, "signer.key", raw)
    run = invoke("gate", "pre", small, "--signing-key", path, "-m", d / "m.json")
    check(run, path)


#: boto3 reaches no network in these runs: a closed local port, one attempt.
OFFLINE_AWS = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_MAX_ATTEMPTS": "1",
    "AWS_RETRY_MODE": "standard",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


@FUZZ_SLOW
@given(data=st.data())
def test_kms_blob_file(tmp_path: Path, small: Path, data: st.DataObject) -> None:
    valid = base64.b64encode(hashlib.sha256(b"blob").digest() * 4) + b"\n"
    raw = data.draw(st.one_of(hostile(), st.just(valid), st.just(valid[:-9] + b"\n")), "blob")
    path = _write(fresh(tmp_path), "umk.blob", raw)
    args = ("--kms-umk-blob", path, "--kms-key-id", "arn:aws:kms:eu-west-1:1:key/x")
    # A blob that reads is sent to KMS, which is not there: exit 3 naming the service.
    check(invoke("verify", small, *args, env=OFFLINE_AWS), None)


# --- manifests, leaves files and proofs -----------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_manifest_file(
    tmp_path: Path, demo: Path, gated: dict[str, Path], data: st.DataObject
) -> None:
    raw = data.draw(hostile(gated["manifest"].read_bytes()), "manifest")
    d = fresh(tmp_path)
    path = _write(d, "manifest.json", raw)
    trust = ("--trusted-keys", demo / "trusted-keys.json")
    leaves = ("--leaves", gated["leaves"])
    command = data.draw(st.sampled_from(["gate post", "prove", "verify-proof"]), "command")
    if command == "gate post":
        run = invoke("gate", "post", demo / "export.ndjson", "-m", path, *leaves, *trust)
    elif command == "prove":
        run = invoke("prove", str(gated["key"]), "-m", path, *leaves, "-o", d / "p.json")
    else:
        run = invoke("verify-proof", gated["proof"], "-m", path, *trust)
    check(run, path, command)


@FUZZ_SLOW
@given(data=st.data())
def test_leaves_file(
    tmp_path: Path, demo: Path, gated: dict[str, Path], data: st.DataObject
) -> None:
    lines = gated["leaves"].read_bytes().splitlines(keepends=True)
    i = data.draw(st.integers(0, len(lines) - 1), "line")
    new = data.draw(hostile(lines[i].rstrip(b"\n")), "content")
    d = fresh(tmp_path)
    path = _write(d, "leaves", b"".join(lines[:i]) + new + b"\n" + b"".join(lines[i + 1 :]))
    m = ("-m", gated["manifest"], "--leaves", path)
    if data.draw(st.booleans(), "prove"):
        run = invoke("prove", str(gated["key"]), *m, "-o", d / "p.json")
        check(run, path, "prove")
    else:
        trust = ("--trusted-keys", demo / "trusted-keys.json")
        # A malformed leaves file is a finding of the gate (MANIFEST_LEAVES_INVALID).
        check(invoke("gate", "post", demo / "export.ndjson", *m, *trust), path, "gate post")


@FUZZ
@given(data=st.data())
def test_proof_file(
    tmp_path: Path, demo: Path, gated: dict[str, Path], data: st.DataObject
) -> None:
    raw = data.draw(hostile(gated["proof"].read_bytes()), "proof")
    path = _write(fresh(tmp_path), "proof.json", raw)
    trust = ("--trusted-keys", demo / "trusted-keys.json")
    check(invoke("verify-proof", path, "-m", gated["manifest"], *trust), path)


@pytest.mark.parametrize("command", ["gate post", "prove", "verify-proof", "import"])
def test_a_manifest_without_an_rfc8785_form(
    tmp_path: Path, demo: Path, gated: dict[str, Path], command: str
) -> None:
    """A well-shaped manifest holding an integer beyond 2**53 somewhere: it cannot
    be canonicalized, hence neither digested nor checked; exit 2 naming it."""
    doc = json.loads(gated["manifest"].read_bytes())
    doc["source"]["name"] = 2**60
    path = _write(tmp_path, "manifest.json", json.dumps(doc).encode())
    trust = ("--trusted-keys", demo / "trusted-keys.json")
    leaves = ("--leaves", gated["leaves"])
    if command == "gate post":
        run = invoke("gate", "post", demo / "export.ndjson", "-m", path, *leaves, *trust)
    elif command == "prove":
        run = invoke("prove", str(gated["key"]), "-m", path, *leaves)
    elif command == "verify-proof":
        run = invoke("verify-proof", gated["proof"], "-m", path, *trust)
    else:
        key = ("--boundary-key", demo / "signer.key")
        run = invoke("import", demo / "export.ndjson", UNREACHABLE_PG, *key, "--manifest", path)
    check(run, path, command)
    assert run.exit_code == 2, run.stderr


#: A PostgreSQL target nothing listens on: an import that gets that far is exit 3.
UNREACHABLE_PG = "postgresql://u@127.0.0.1:9/db?connect_timeout=2"


@FUZZ_SLOW
@given(data=st.data())
def test_import_reads_its_files_before_writing(
    tmp_path: Path, demo: Path, gated: dict[str, Path], data: st.DataObject
) -> None:
    """``import --boundary-key K --manifest M --boundary-time T``: a bad K, M or T is
    exit 2 naming it, before the target is even reached."""
    d = fresh(tmp_path)
    which = data.draw(st.sampled_from(["manifest", "key", "time"]), "which")
    key, manifest, when = demo / "signer.key", gated["manifest"], "2026-03-02T12:00:00.000Z"
    named: Path | str
    if which == "manifest":
        manifest = named = _write(d, "m.json", data.draw(hostile(manifest.read_bytes())))
    elif which == "key":
        key = named = _write(d, "k.key", data.draw(hostile(key.read_bytes())))
    else:
        when = data.draw(st.text(max_size=30).filter(lambda t: not t.startswith("-")))
        named = "--boundary-time"
    args = ("--boundary-key", key, "--manifest", manifest, "--boundary-time", when)
    run = invoke("import", demo / "export.ndjson", UNREACHABLE_PG, *args)
    check(run, named if run.exit_code == 2 else None, which)


# --- DynamoDB Export to S3 directories and PostgreSQL COPY files -----------------------------------------


def _small_records(small: Path) -> list[Any]:
    return [r for r in NdjsonSource(small).read() if not isinstance(r, Finding)]


@pytest.fixture(scope="module")
def ddb_dir(small: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from chainaudit.records.item import item_from_record

    items = [item_from_record(r) for r in _small_records(small)]
    directory = tmp_path_factory.mktemp("ddb") / "export"
    write_ddb_export(directory, [items[:10], items[10:]])
    return directory


@FUZZ
@given(data=st.data())
def test_ddb_export_directory(tmp_path: Path, ddb_dir: Path, data: st.DataObject) -> None:
    d = fresh(tmp_path) / "export"
    shutil.copytree(ddb_dir, d)
    files = sorted(p for p in d.rglob("*") if p.is_file())
    target = data.draw(st.sampled_from(files), "file")
    original = target.read_bytes()
    plain = gzip.decompress(original) if target.name.endswith(".gz") else original
    lines = plain.splitlines(keepends=True) or [b"{}"]
    i = data.draw(st.integers(0, len(lines) - 1), "line")
    whole = data.draw(st.booleans(), "whole file")
    new = data.draw(hostile(None if whole else lines[i].rstrip(b"\n")), "content")
    body = new if whole else b"".join(lines[:i]) + new + b"\n" + b"".join(lines[i + 1 :])
    if target.name.endswith(".gz") and data.draw(st.booleans(), "gzip"):
        body = gzip.compress(body)
    target.write_bytes(body)
    check(invoke("verify", d), target)


@pytest.fixture(scope="module")
def copy_dir(small: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("copy")
    records = _small_records(small)
    write_pg_copy(directory / "text", records, copy_text=True)
    write_pg_copy(directory / "raw", records, copy_text=False)
    return directory


@FUZZ
@given(data=st.data())
def test_pg_copy_file(tmp_path: Path, copy_dir: Path, data: st.DataObject) -> None:
    files = sorted(p for p in copy_dir.rglob("*") if p.is_file())
    source = data.draw(st.sampled_from(files), "file")
    lines = source.read_bytes().splitlines(keepends=True) or [b"{}\n"]
    i = data.draw(st.integers(0, len(lines) - 1), "line")
    new = data.draw(hostile(lines[i].rstrip(b"\n")), "content")
    body = b"".join(lines[:i]) + new + b"\n" + b"".join(lines[i + 1 :])
    d = fresh(tmp_path)
    path = _write(d, source.name, body)
    check(invoke("verify", path), path)


# --- golden-vector answers -------------------------------------------------------------------------------------

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
SOME_CASES = [
    "manifest/inclusion-n7-i3.json",
    "chain/partition.json",
    "export/ndjson-out-of-order.json",
]


@FUZZ
@given(data=st.data())
def test_vectors_compare_answers(tmp_path: Path, data: st.DataObject) -> None:
    d = fresh(tmp_path)
    vectors, answers = d / "vectors", d / "answers"
    for rel in SOME_CASES:
        (vectors / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(VECTORS / rel, vectors / rel)
    assert invoke("vectors", "compare", "--help").exit_code == 0
    from chainaudit.conformance.compare import write_reference_answers

    write_reference_answers(vectors, answers)
    rel = data.draw(st.sampled_from(SOME_CASES), "case")
    answer = answers / rel
    answer.write_bytes(data.draw(hostile(answer.read_bytes()), "answer"))
    run = invoke("vectors", "compare", answers, "--vectors", vectors)
    check(run, answer)


@FUZZ
@given(data=st.data())
def test_vectors_verify_case_file(tmp_path: Path, data: st.DataObject) -> None:
    d = fresh(tmp_path)
    rel = data.draw(st.sampled_from(SOME_CASES), "case")
    case = d / rel
    case.parent.mkdir(parents=True)
    case.write_bytes(data.draw(hostile((VECTORS / rel).read_bytes()), "vector"))
    check(invoke("vectors", "verify", d), case)


def test_usage_errors_are_one_line(tmp_path: Path, demo: Path, small: Path) -> None:
    """A file an option requires that is not there, an unknown option: one line, exit 2."""
    absent = tmp_path / "absent-manifest.json"
    trust = ("--trusted-keys", demo / "trusted-keys.json")
    check(invoke("gate", "post", small, "-m", absent, *trust), absent)
    run = invoke("verify", small, "--no-such-option")
    check(run, "--no-such-option")
    assert run.exit_code == 2 and "chainaudit verify --help" in run.stderr
    top = invoke("--no-such-option")
    check(top, "--no-such-option")
    assert top.exit_code == 2
    # A group named without its command still shows its help, not a squeezed line.
    help_run = invoke("gate")
    assert "Commands:" in help_run.output + help_run.stderr, help_run.stderr


# --- the last-resort guard ------------------------------------------------------------------------------------


def test_an_unexpected_exception_is_one_line_and_exit_3(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug is not a finding: one ``internal error`` line, exit 3, and the traceback
    only when asked for (CHAINAUDIT_DEBUG=1)."""

    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(sys.modules["chainaudit.cli.verify"], "run_audit", boom)
    run = invoke("verify", demo / "export.ndjson")
    assert run.exit_code == 3, run.stderr
    assert run.stderr.splitlines() == [
        "chainaudit: internal error: ZeroDivisionError: planted "
        "(please report; rerun with CHAINAUDIT_DEBUG=1 for the traceback)"
    ]
    debug = invoke("verify", demo / "export.ndjson", env={"CHAINAUDIT_DEBUG": "1"})
    assert debug.exit_code == 3
    assert "Traceback" in debug.stderr and "ZeroDivisionError: planted" in debug.stderr


# --- through the installed command: store configuration and local faults --------------------------------------


def run_cli(*args: str | Path, env: dict[str, str], timeout: float = 120) -> tuple[int, str, str]:
    proc = subprocess.run(
        ["chainaudit", *(str(a) for a in args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def _aws_free_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment without any AWS setting: an empty HOME and AWS config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CHAINAUDIT_"))}
    home.mkdir(parents=True, exist_ok=True)
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_MAX_ATTEMPTS="1",
        **extra,
    )
    return env


@pytest.mark.parametrize(
    ("case", "args", "extra", "code", "says"),
    [
        ("unknown profile", (), {"AWS_PROFILE": "nope"}, 2, "nope"),
        ("no region", (), {}, 2, "region"),
        (
            "no credentials",
            ("--region", "eu-west-1", "--endpoint-url", "http://127.0.0.1:9"),
            {},
            2,
            "credentials",
        ),
        (
            "bad endpoint URL",
            ("--region", "eu-west-1", "--endpoint-url", "not a url"),
            {},
            2,
            "not a url",
        ),
    ],
)
def test_dynamodb_configuration_errors_are_one_line(
    tmp_path: Path, case: str, args: tuple[str, ...], extra: dict[str, str], code: int, says: str
) -> None:
    """Found before any request leaves the machine: the command or its environment
    is wrong, exit 2 (a store that does not answer is exit 3, test_timeouts.py)."""
    env = _aws_free_env(tmp_path / "home", **extra)
    got, out, err = run_cli("verify", "dynamodb://t", *args, env=env)
    assert_clean(got, out, err, "dynamodb://t", case)
    assert got == code, f"{case}: exit {got}\n{err}"
    assert says in err, f"{case}: {err}"


@pytest.mark.parametrize(
    ("case", "args", "extra", "says"),
    [
        ("unknown profile", (), {"AWS_PROFILE": "nope"}, "nope"),
        ("no region", (), {}, "region"),
        ("no credentials", ("--region", "eu-west-1"), {}, "credentials"),
    ],
)
def test_kms_configuration_errors_are_one_line(
    tmp_path: Path, small: Path, case: str, args: tuple[str, ...], extra: dict[str, str], says: str
) -> None:
    blob = _write(tmp_path, "umk.blob", base64.b64encode(bytes(64)) + b"\n")
    env = _aws_free_env(tmp_path / "home", **extra)
    kms = ("--kms-umk-blob", blob, "--kms-key-id", "arn:aws:kms:eu-west-1:1:key/x")
    got, out, err = run_cli("verify", small, *kms, *args, env=env)
    assert_clean(got, out, err, "KMS", case)
    assert got == 2, f"{case}: exit {got}\n{err}"
    assert says in err, f"{case}: {err}"


@pytest.mark.parametrize(
    ("case", "dsn", "code"),
    [
        ("malformed URI", "postgresql://u:s3cr3t-pw@[::1/db", 2),
        ("bad escape", "postgresql://u:s3cr3t-pw%zz@localhost/db", 2),
        ("unknown option", "postgresql://u:s3cr3t-pw@localhost/db?nosuchoption=1", 2),
        ("nothing listening", "postgresql://u:s3cr3t-pw@127.0.0.1:9/db?connect_timeout=2", 3),
    ],
)
def test_postgresql_configuration_errors_are_one_line(
    tmp_path: Path, case: str, dsn: str, code: int
) -> None:
    """A connection string libpq refuses is input (exit 2), shown without its
    password; a server that does not answer is exit 3."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "CHAINAUDIT_"))}
    got, out, err = run_cli("verify", dsn, env=env)
    assert_clean(got, out, err, None, case)
    assert got == code, f"{case}: exit {got}\n{err}"
    assert "s3cr3t" not in out + err, f"{case}: the password was printed: {err}"


@pytest.fixture()
def full_tmpdir(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs, filled: a temporary directory with no room (needs root, as CI has)."""
    assert os.geteuid() == 0, (
        "this test mounts a tiny tmpfs to fill the temporary directory: run it as root "
        "(CI does); it is never skipped"
    )
    mount = tmp_path / "full"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_temporary_directory_is_one_line_exit_3(
    demo: Path, full_tmpdir: Path, tmp_path: Path
) -> None:
    """Sources read in no useful order are spooled to TMPDIR (CLI-5), and diff
    indexes both sides there: with TMPDIR full, one line naming it, exit 3."""
    from chainaudit.records.item import item_from_record

    items = [
        item_from_record(r)
        for r in NdjsonSource(demo / "export.ndjson").read()
        if not isinstance(r, Finding)
    ]
    items.sort(key=lambda i: hashlib.sha256(repr(i).encode()).digest())  # a Scan's order
    unsorted = tmp_path / "ddb-export"
    write_ddb_export(unsorted, [items[:200], items[200:]])
    env = {**os.environ, "TMPDIR": str(full_tmpdir)}
    trust = ("--trusted-keys", str(demo / "trusted-keys.json"))
    for argv in (
        ("verify", unsorted, *trust),
        ("diff", demo / "export.ndjson", demo / "export.ndjson"),
    ):
        code, _out, err = run_cli(*argv, env=env)
        assert_clean(code, "", err, full_tmpdir, f"{argv[0]} with a full TMPDIR")
        assert code == 3 and "TMPDIR" in err, err
        assert list(full_tmpdir.iterdir()) == [], "temporary files are removed on the way out"


def test_full_disk_under_an_export_is_exit_3(demo: Path, full_tmpdir: Path) -> None:
    code, _out, err = run_cli(
        "export", demo / "export.ndjson", "-o", full_tmpdir / "copy.ndjson", env=dict(os.environ)
    )
    assert_clean(code, "", err, full_tmpdir / "copy.ndjson", "export to a full disk")
    assert code == 3, err


# --- decrypted payloads, signals and driver logs ---------------------------------------------------------


@FUZZ
@given(payload=hostile(b'{"text": "hello", "n": [1, {"k": null}]}'))
def test_a_decrypted_payload_is_an_object_or_a_payload_error(payload: bytes) -> None:
    """ENV-8: whatever an authentic envelope decrypts to, decoding it either gives
    an object or raises PayloadError (a finding), never anything else."""
    try:
        value, _canonical = decode_payload(payload)
    except PayloadError:
        return
    assert isinstance(value, dict)


def test_ctrl_c_is_one_line_and_exit_130() -> None:
    """SIGINT is neither a finding (1) nor a traceback: ``verify -`` waits on stdin."""
    proc = subprocess.Popen(
        ["chainaudit", "verify", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err == "chainaudit: interrupted\n", err


def test_driver_log_lines_never_reach_stderr() -> None:
    """psycopg logs ``error ignored terminating <psycopg.Pipeline>`` on its own when a
    refused write ends a pipeline; the CLI has reported the error already (CLI-4)."""
    line = "error ignored terminating <psycopg.Pipeline [BAD] at 0x7f>"
    emit = f"logging.getLogger('psycopg').warning({line!r})"
    quiet = f"import logging; from chainaudit.cli import _quiet_driver_loggers as q; q(); {emit}"
    for code, expected in ((quiet, ""), (f"import logging; {emit}", line + "\n")):
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0 and proc.stderr == expected, proc.stderr


def test_an_import_refused_by_the_store_is_one_line(pg_server_dsn: str, demo: Path) -> None:
    """A role without INSERT: psycopg ends the refused pipeline and logs ``error
    ignored terminating <psycopg.Pipeline ...>`` on its own, on some runs only; the
    CLI's one line is all stderr may hold (exit 3: the store refused)."""
    import psycopg
    from e2e_stores import pg_schema

    role = f"ro_{uuid.uuid4().hex[:10]}"
    export = demo / "export.ndjson"
    with pg_schema(pg_server_dsn) as url:
        code, _out, err = run_cli("import", export, url, "--create", env=dict(os.environ))
        assert code == 0, err
        schema = url.rsplit("search_path%3D", 1)[-1]
        with psycopg.connect(pg_server_dsn, autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'ro'")
            conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
            conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {role}')
        as_role = url.replace("://postgres@", f"://{role}:ro@", 1)
        assert as_role != url
        try:
            for _ in range(6):  # the driver's extra line comes on some runs only
                code, out, err = run_cli("import", export, as_role, env=dict(os.environ))
                assert_clean(code, out, err, "postgresql://", "import without INSERT")
                assert code == 3 and "permission denied" in err, err
        finally:
            with psycopg.connect(pg_server_dsn, autocommit=True) as conn:
                conn.execute(f"DROP OWNED BY {role}")
                conn.execute(f"DROP ROLE {role}")


def test_a_deeply_nested_store_row_is_a_finding(pg_server_dsn: str, demo: Path) -> None:
    """A row whose jsonb nests thousands of levels (PostgreSQL takes it; DynamoDB
    stops at 32): RECORD_MALFORMED at that row, the rest still verified."""
    import psycopg
    from e2e_stores import pg_schema

    deep = '{"x": ' + '{"L": [' * 3000 + '{"S": "a"}' + "]}" * 3000 + "}"
    with pg_schema(pg_server_dsn) as url:
        code, _out, err = run_cli(
            "import", demo / "export.ndjson", url, "--create", env=dict(os.environ)
        )
        assert code == 0, err
        schema = url.rsplit("search_path%3D", 1)[-1]
        with psycopg.connect(pg_server_dsn, autocommit=True) as conn:
            conn.execute(
                f'INSERT INTO "{schema}".entities (dialogue_id, entity_type, subkey, attributes)'
                " VALUES ('deep', 'meta', '', %s::jsonb)",
                (deep,),
            )
        code, out, err = run_cli("verify", url, "--format", "json", env=dict(os.environ))
        assert_clean(code, out, err, None, "verify a store with a deep row")
        assert code == 1, err
        malformed = [f for f in json.loads(out)["findings"] if f["code"] == "RECORD_MALFORMED"]
        assert [f["where"] for f in malformed] == ["postgresql:entities('deep', 'meta', '')"]
        assert "nested deeper than 100 levels" in malformed[0]["message"]


def test_every_temporary_store_names_a_full_directory(demo: Path, full_tmpdir: Path) -> None:
    """The chain spool, the record index, the nonce ledger's spill files and an
    import's staging file: on a full temporary directory each raises LocalFaultError
    (exit 3) naming the directory, never an OSError or sqlite3 error of its own."""
    from chainaudit.chain.spool import EventSpool
    from chainaudit.envelope.nonces import NonceLedger, NonceLimits
    from chainaudit.errors import EXIT_UNVERIFIED, LocalFaultError
    from chainaudit.migration.index import LeafIndex
    from chainaudit.sources import ImportReport
    from chainaudit.sources.migration import import_encrypted_batch

    records = [r for r in NdjsonSource(demo / "export.ndjson").read() if not isinstance(r, Finding)]

    class NullSink:
        def describe(self) -> str:
            return "null"

        def import_records(self, records: Any) -> ImportReport:
            for _ in records:
                pass
            return ImportReport()

    def spool() -> None:
        with EventSpool(str(full_tmpdir)) as s:
            for i in range(20_000):
                s.add(AuditEvent("c", {"event_id": f"e{i:08d}", "pad": "x" * 64}))
            s.seal()

    def index() -> None:
        with LeafIndex(full_tmpdir) as ix:
            ix.add_all((f"k{i:09d}", bytes(32)) for i in range(20_000))
            list(ix.sorted_leaves())

    def nonces() -> None:
        limits = NonceLimits(max_in_memory=10, tmp_dir=str(full_tmpdir))
        with NonceLedger(limits) as ledger:
            for i in range(20_000):
                ledger.add("dek#d#1", i.to_bytes(12, "big"), f"dialogue:d/entity:meta{i}")
            list(ledger.findings())

    def staging() -> None:
        import tempfile

        tempfile.tempdir = str(full_tmpdir)
        try:
            import_encrypted_batch(NullSink(), records * 20, stage=True)
        finally:
            tempfile.tempdir = None

    for name, run in [("spool", spool), ("index", index), ("nonces", nonces), ("staging", staging)]:
        with pytest.raises(LocalFaultError) as info:
            run()
        assert info.value.exit_code == EXIT_UNVERIFIED, name
        assert str(info.value).startswith(str(full_tmpdir)), (name, str(info.value))
        assert "TMPDIR" in str(info.value), name
        assert list(full_tmpdir.iterdir()) == [], f"{name} left files behind"
