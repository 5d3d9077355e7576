"""Verification on a Dask cluster (issue 13, docs/distributed.md): the result
of :func:`chainaudit.distributed.audit_dask` on a ``LocalCluster`` of worker
processes is the serial result, finding for finding (in order, with the
same registered codes), counter for counter, with the same chain lengths,
evidence and assurance statement:

* on every golden export vector (vectors/export/), on the built-in sample as
  one NDJSON export cut into spans, as NDJSON shards and as a DynamoDB
  Export to S3 whose dialogues are scattered over its data files (the
  shuffle), intact and damaged, with keys, without, with the wrong UMK; on
  the benchmark's export (``bench/bench_verify.py --make``);
* with a worker killed in the middle of the run (Dask runs its tasks again;
  nothing is counted twice);
* on an export in S3 (s3rver), and through ``chainaudit verify --dask``.

No key material is in the task graph: neither what the client submits nor
what the scheduler holds contains the UMK or any DEK, in bytes, hex or
base64; nor do the scheduler's and workers' logs. A data file a worker
cannot read is exit 3 naming it. ``distributed`` is imported at the top:
without it these tests fail, they are not skipped.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import distributed
import pytest
from conftest import S3_CREDENTIALS
from distributed.diagnostics.plugin import SchedulerPlugin, WorkerPlugin
from test_one_pass import DAMAGE, T0, _damage, _options

from chainaudit.audit import AuditOptions, audit
from chainaudit.conformance.vectorgen.export_fixtures import EXPORT_ID, write_ddb_export
from chainaudit.distributed import UmkFile, audit_dask
from chainaudit.errors import ChainauditError, InputError, KeySourceError, StoreError
from chainaudit.findings import Finding, lookup
from chainaudit.keys.dekmap import DekMap
from chainaudit.keys.keyring import KeyRing
from chainaudit.keys.resolver import DekStatus
from chainaudit.keys.umk import Umk, write_secret_file
from chainaudit.records.item import item_from_record
from chainaudit.records.model import Record, WrappedDek
from chainaudit.report.assurance import Evidence, assess
from chainaudit.sample import Sample, build_sample, iter_records
from chainaudit.sources import Source, ndjson
from chainaudit.sources.ddb_export import DynamoDBExportSource
from chainaudit.sources.multi import MultiSource
from chainaudit.sources.ndjson import NdjsonSource, write_export
from chainaudit.sources.open import open_source
from chainaudit.sources.s3 import open_s3

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "vectors" / "export"
CASES = sorted(VECTORS.glob("*.json"))
WORKERS = 3
REGION = "us-east-1"
EXPORT_PREFIX = f"exports/AWSDynamoDB/{EXPORT_ID}/"


# --- the cluster and the data ---------------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    """A LocalCluster of worker processes, one thread each. The S3 credentials
    of s3rver are in its environment (a worker opens S3 with its own)."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {**S3_CREDENTIALS, "AWS_DEFAULT_REGION": REGION}.items():
            mp.setenv(name, value)
        cluster = distributed.LocalCluster(
            n_workers=WORKERS,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=50,
        )
        with cluster, distributed.Client(cluster) as c:
            yield c


@pytest.fixture(autouse=True)
def small_exports_are_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spans are cut by the client: small exports are cut too."""
    monkeypatch.setattr(ndjson, "PARALLEL_MIN_BYTES", 0)


@pytest.fixture(scope="module")
def sample() -> Sample:
    return build_sample()


@pytest.fixture(scope="module")
def lines(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    path = tmp_path_factory.mktemp("dask") / "sample.ndjson"
    write_export(path, iter_records(sample), source="test", created_at=T0)
    return path.read_bytes().splitlines(keepends=True)


@pytest.fixture(scope="module")
def keys(sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """UMK files a worker opens: the sample's and a wrong one."""
    d = tmp_path_factory.mktemp("keys")
    assert sample.umk is not None
    write_secret_file(d / "umk.hex", sample.umk.reveal(), "UMK file")
    write_secret_file(d / "wrong.hex", bytes([0x11]) * 32, "UMK file")
    return {"right": d / "umk.hex", "wrong": d / "wrong.hex"}


def _records(path: Path) -> list[Record]:
    return [r for r in NdjsonSource(path).read() if not isinstance(r, Finding)]


def _ddb(directory: Path, records: list[Record], files: int = 4) -> Path:
    """The records as a DynamoDB Export to S3 whose files each hold every
    ``files``-th item: every dialogue and chain is scattered over them (plus
    an empty data file, as DynamoDB writes for an empty partition)."""
    items = [item_from_record(r) for r in records]
    parts: list[list[Any]] = [items[i::files] for i in range(files)]
    write_ddb_export(directory, [parts[0], [], *parts[1:]])
    return directory


def _shards(directory: Path, records: list[Record]) -> list[Path]:
    """The records as two NDJSON exports (each sorted; chains cross them)."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(2):
        path = directory / f"shard-{i}.ndjson"
        write_export(path, records[i::2], source="test", created_at=T0)
        out.append(path)
    return out


def _ref(options: AuditOptions, keys: dict[str, Path]) -> UmkFile | None:
    if options.umk is None:
        return None
    right = Umk.from_file(keys["right"])
    name = "right" if options.umk.fingerprint() == right.fingerprint() else "wrong"
    return UmkFile(str(keys[name]), options.umk.fingerprint())


# --- comparing -------------------------------------------------------------------------------


def _outcome(run: Callable[[Evidence], Any]) -> Any:
    ev = Evidence()
    try:
        result = run(ev)
    except ChainauditError as exc:
        return type(exc).__name__, str(exc)
    # The registered codes themselves (the assurance statement counts by identity).
    assert all(f.code is lookup(f.code.name) for f in result.findings)
    statement = {name: (a.level, a.basis) for name, a in assess(result, ev).items()}
    return (
        [f.to_json() for f in result.findings],
        dict(result.checked),
        result.chain_lengths,
        ev,
        statement,
    )


def _same(
    client: Any,
    source: Callable[[], Source],
    options: Callable[[], AuditOptions],
    umk: UmkFile | None = None,
) -> Any:
    """The serial outcome, asserted equal to the Dask one; returned."""
    serial = _outcome(lambda ev: audit(source(), options(), evidence=ev))
    on_dask = _outcome(lambda ev: audit_dask(source(), options(), client, umk=umk, evidence=ev))
    assert on_dask == serial
    return serial


# --- the result is the serial one ------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_every_golden_export_vector(client: Any, case: Path) -> None:
    target = str(VECTORS / json.loads(case.read_text("utf-8"))["input"])
    _same(client, lambda: open_source(target), AuditOptions)


@pytest.mark.parametrize("mode", ["keyless", "keyed", "wrong-umk", "unpinned"])
def test_the_sample_in_every_form(
    client: Any,
    sample: Sample,
    lines: list[bytes],
    keys: dict[str, Path],
    tmp_path: Path,
    mode: str,
) -> None:
    export = tmp_path / "x.ndjson"
    export.write_bytes(b"".join(lines))
    assert len(NdjsonSource(export).spans(2 * WORKERS) or []) >= 3
    records = _records(export)
    ddb = _ddb(tmp_path / "ddb", records)
    shards = _shards(tmp_path / "shards", records)
    ref = _ref(_options(sample, mode), keys)
    for source in (
        lambda: NdjsonSource(export),
        lambda: DynamoDBExportSource(ddb),
        lambda: MultiSource([NdjsonSource(p) for p in shards]),
    ):
        outcome = _same(client, source, lambda: _options(sample, mode), ref)
        assert outcome[1]["records"] == len(records)
        if mode == "keyed":
            assert outcome[1]["decrypted"] > 100


#: The damage of tests/test_one_pass.py that changes what a run must put
#: together: a dialogue that reappears or is split (the grouped read falls
#: back), a gap, conflicting and altered keys, a chain out of order, an
#: altered envelope.
SOME_DAMAGE = [
    "dek-moved-to-the-end",
    "dialogue-split",
    "line-removed",
    "dek-duplicated-differently",
    "every-dek-altered",
    "lifecycle-seq-edited",
    "ciphertext-altered",
]
assert set(SOME_DAMAGE) <= set(DAMAGE)


@pytest.mark.parametrize("how", SOME_DAMAGE)
def test_damaged_exports(
    client: Any,
    sample: Sample,
    lines: list[bytes],
    keys: dict[str, Path],
    tmp_path: Path,
    how: str,
) -> None:
    """Damage that the one-pass read falls back on (a dialogue that reappears)
    included: the Dask run falls back as the serial one does."""
    export = tmp_path / "x.ndjson"
    export.write_bytes(b"".join(_damage(lines, how)))
    ref = _ref(_options(sample, "keyed"), keys)
    outcome = _same(client, lambda: NdjsonSource(export), lambda: _options(sample, "keyed"), ref)
    assert not isinstance(outcome[0], str) and outcome[0], "the damage is found"
    ddb = _ddb(tmp_path / "ddb", _records(export))
    _same(client, lambda: DynamoDBExportSource(ddb), lambda: _options(sample, "keyed"), ref)


def test_the_benchmark_export(client: Any, tmp_path: Path) -> None:
    """``bench/bench_verify.py --make`` (small): keyed, every signer pinned, as
    one export cut into spans and as a DynamoDB export over five files."""
    cache = tmp_path / "bench"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_verify.py"), "--make", "--records", "3000",
         "--cache-dir", str(cache)],
        check=True, capture_output=True,
    )  # fmt: skip
    export, umk_file, trusted = (
        cache / "verify-3000.ndjson",
        cache / "umk.hex",
        cache / "trusted-keys.json",
    )
    from chainaudit.cli.common import load_trust

    umk = Umk.from_file(umk_file)

    def options() -> AuditOptions:
        return AuditOptions(umk=umk, trust=load_trust((str(trusted),)))

    ref = UmkFile(str(umk_file), umk.fingerprint())
    outcome = _same(client, lambda: NdjsonSource(export), options, ref)
    assert outcome[1]["records"] > 3000 and outcome[1]["decrypted"] > 500
    ddb = _ddb(tmp_path / "ddb", _records(export), files=5)
    _same(client, lambda: DynamoDBExportSource(ddb), options, ref)


# --- keys --------------------------------------------------------------------------------------


class _Capture(SchedulerPlugin):
    """Keeps every task's run spec as the scheduler holds it, pickled."""

    name = "chainaudit-capture"

    def __init__(self) -> None:
        self.specs: list[bytes] = []
        self.scheduler: Any = None

    async def start(self, scheduler: Any) -> None:
        self.scheduler = scheduler

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        ts = self.scheduler.tasks.get(key) if self.scheduler is not None else None
        if ts is not None and start == "released" and ts.run_spec is not None:
            self.specs.append(distributed.protocol.pickle.dumps(ts.run_spec))


class _Recording:
    """The client, keeping what is submitted through it, pickled (futures aside)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.sent: list[bytes] = []

    def submit(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        plain = [a for a in args if not _has_future(a)]
        self.sent.append(distributed.protocol.pickle.dumps((fn, plain, kwargs)))
        return self._client.submit(fn, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _has_future(value: Any) -> bool:
    if isinstance(value, distributed.Future):
        return True
    return isinstance(value, list | tuple) and any(_has_future(v) for v in value)


def _secrets(umk: Umk, records: list[Record]) -> dict[str, bytes]:
    wrapped = [r for r in records if isinstance(r, WrappedDek)]
    ring = KeyRing(umk, wrapped)
    out = {"umk": umk.reveal()}
    for r in wrapped:
        found = ring.resolve(f"dek#{r.dialogue}#{r.version}")
        if found.status is DekStatus.FOUND and found.dek is not None:
            out[f"dek#{r.dialogue}#{r.version}"] = found.dek
    assert len(out) > 3
    forms = {}
    for name, key in out.items():
        forms[name] = key
        forms[name + " (hex)"] = key.hex().encode()
        forms[name + " (HEX)"] = key.hex().upper().encode()
        forms[name + " (base64)"] = base64.b64encode(key)
    return forms


def test_the_task_graph_holds_no_key_material(
    client: Any, sample: Sample, lines: list[bytes], keys: dict[str, Path], tmp_path: Path
) -> None:
    export = tmp_path / "x.ndjson"
    export.write_bytes(b"".join(lines))
    records = _records(export)
    ddb = _ddb(tmp_path / "ddb", records)
    assert sample.umk is not None
    secrets = _secrets(sample.umk, records)
    capture = _Capture()
    client.register_plugin(capture)
    recording = _Recording(client)
    ref = _ref(_options(sample, "keyed"), keys)
    for source in (NdjsonSource(export), DynamoDBExportSource(ddb)):
        result = audit_dask(source, _options(sample, "keyed"), recording, umk=ref)
        assert result.checked["decrypted"] > 100  # the workers did open the keys
    specs = client.run_on_scheduler(
        lambda dask_scheduler: dask_scheduler.plugins["chainaudit-capture"].specs
    )
    assert len(specs) > 20 and len(recording.sent) > 20
    logs = [
        json.dumps(client.get_scheduler_logs()).encode(),
        json.dumps(client.get_worker_logs()).encode(),
    ]
    for blob in [*specs, *recording.sent, *logs]:
        for name, form in secrets.items():
            assert form not in blob, f"{name} is in the task graph or a log"
    # The UMK's path travels, and it is the only trace of the key.
    assert any(str(keys["right"]).encode() in blob for blob in recording.sent)


def test_keys_cannot_enter_the_graph(
    client: Any, sample: Sample, lines: list[bytes], tmp_path: Path
) -> None:
    assert sample.umk is not None
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(sample.umk)
    export = tmp_path / "x.ndjson"
    export.write_bytes(b"".join(lines))
    with pytest.raises(KeySourceError, match="DEKs are secrets"):
        audit_dask(NdjsonSource(export), AuditOptions(deks=DekMap()), client)
    with pytest.raises(KeySourceError, match="where each worker opens it"):
        audit_dask(NdjsonSource(export), AuditOptions(umk=sample.umk), client)


def test_a_worker_that_opens_another_umk_refuses_it(
    client: Any, sample: Sample, lines: list[bytes], keys: dict[str, Path], tmp_path: Path
) -> None:
    export = tmp_path / "x.ndjson"
    export.write_bytes(b"".join(lines))
    assert sample.umk is not None
    lying = UmkFile(str(keys["wrong"]), sample.umk.fingerprint())
    with pytest.raises(KeySourceError, match="every worker must open the same UMK"):
        audit_dask(NdjsonSource(export), _options(sample, "keyed"), client, umk=lying)


# --- faults ------------------------------------------------------------------------------------


class _KillOnce(WorkerPlugin):
    """Kills its worker's process the first time a task whose key starts with
    ``prefix`` starts (``marker`` exists until then: one kill in the cluster)."""

    def __init__(self, prefix: str, marker: str) -> None:
        self.prefix, self.marker = prefix, marker

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish == "executing" and str(key).startswith(self.prefix):
            try:
                os.unlink(self.marker)
            except FileNotFoundError:
                return
            os._exit(1)


@pytest.mark.parametrize("phase", ["chainaudit-keys", "chainaudit-bucket"])
def test_a_worker_killed_mid_run_changes_nothing(
    client: Any,
    sample: Sample,
    lines: list[bytes],
    keys: dict[str, Path],
    tmp_path: Path,
    phase: str,
) -> None:
    """The worker dies as the run's second stage starts: the results it held
    (whole units read) are lost, Dask reads them again, and each is merged once."""
    export = tmp_path / "x.ndjson"
    export.write_bytes(b"".join(lines))
    ddb = _ddb(tmp_path / "ddb", _records(export))
    marker = tmp_path / "kill-once"
    ref = _ref(_options(sample, "keyed"), keys)
    serial = _outcome(
        lambda ev: audit(DynamoDBExportSource(ddb), _options(sample, "keyed"), evidence=ev)
    )
    marker.touch()
    name = f"kill-{phase}"
    client.register_plugin(_KillOnce(phase, str(marker)), name=name)
    try:
        on_dask = _outcome(
            lambda ev: audit_dask(
                DynamoDBExportSource(ddb), _options(sample, "keyed"), client, umk=ref, evidence=ev
            )
        )
    finally:
        client.unregister_worker_plugin(name)
    assert not marker.exists(), "a worker was killed"
    assert on_dask == serial
    client.wait_for_workers(WORKERS, timeout=60)


class _Hide(WorkerPlugin):
    """A worker that cannot see one data file: it is moved away as the task
    that reads it starts (the client listed it)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if (
            finish == "executing"
            and str(key).startswith("chainaudit-unit-")
            and os.path.exists(self.path)
        ):
            os.rename(self.path, self.path + ".hidden")


def test_a_data_file_a_worker_cannot_read_is_exit_3_naming_it(
    client: Any, lines: list[bytes], tmp_path: Path
) -> None:
    export = tmp_path / "x.ndjson"
    export.write_bytes(b"".join(lines))
    ddb = _ddb(tmp_path / "ddb", _records(export))
    victim = sorted((ddb / "data").glob("*.json.gz"))[0]
    client.register_plugin(_Hide(str(victim)), name="hide")
    try:
        with pytest.raises(StoreError) as exc:
            audit_dask(DynamoDBExportSource(ddb), AuditOptions(), client)
    finally:
        client.unregister_worker_plugin("hide")
    assert exc.value.exit_code == 3
    message = exc.value.diagnostics()
    assert str(victim) in message and "not verified" in message and "\n" not in message


# --- S3 and the command line ---------------------------------------------------------------------


def _s3(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=botocore.config.Config(s3={"addressing_style": "path"}),
    )


def _upload(s3: Any, bucket: str, directory: Path, prefix: str) -> None:
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        s3.put_object(
            Bucket=bucket,
            Key=prefix + path.relative_to(directory).as_posix(),
            Body=path.read_bytes(),
        )


def test_an_export_in_s3(
    client: Any,
    sample: Sample,
    lines: list[bytes],
    keys: dict[str, Path],
    tmp_path: Path,
    s3_endpoint: str,
    s3_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A DynamoDB Export to S3 and NDJSON shards, read by the workers from
    S3 themselves; a data object gone since the listing is the serial run's
    exit 3, naming its URL."""
    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    export = tmp_path / "x.ndjson"
    export.write_bytes(b"".join(lines))
    records = _records(export)
    s3 = _s3(s3_endpoint)
    _upload(s3, s3_bucket, _ddb(tmp_path / "ddb", records), EXPORT_PREFIX)
    _shards(tmp_path / "shards", records)
    _upload(s3, s3_bucket, tmp_path / "shards", "shards/")
    ref = _ref(_options(sample, "keyed"), keys)
    for url in (
        f"s3://{s3_bucket}/{EXPORT_PREFIX}",
        f"s3://{s3_bucket}/shards/",
        f"s3://{s3_bucket}/shards/shard-0.ndjson",
    ):
        outcome = _same(
            client,
            lambda url=url: open_s3(url, endpoint_url=s3_endpoint),
            lambda: _options(sample, "keyed"),
            ref,
        )
        assert outcome[1]["records"] > 100
    key = s3.list_objects_v2(Bucket=s3_bucket, Prefix=EXPORT_PREFIX + "data/")["Contents"][1]["Key"]
    s3.delete_object(Bucket=s3_bucket, Key=key)
    url = f"s3://{s3_bucket}/{EXPORT_PREFIX}"
    outcome = _same(client, lambda: open_s3(url, endpoint_url=s3_endpoint), AuditOptions)
    assert outcome[0] == "StoreError" and f"s3://{s3_bucket}/{key}" in outcome[1]


def _chainaudit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("chainaudit")
    assert exe, "the chainaudit command is not installed (pip install -e .)"
    return subprocess.run(
        [exe, *args], capture_output=True, text=True, timeout=240, check=False,
        env={**os.environ, **S3_CREDENTIALS, "AWS_DEFAULT_REGION": REGION, **(env or {})},
    )  # fmt: skip


def _same_report(
    serial: subprocess.CompletedProcess[str], other: subprocess.CompletedProcess[str]
) -> dict[str, Any]:
    """The JSON report of ``serial``, after checking ``other``'s is the same
    (the clock aside)."""
    one, two = json.loads(serial.stdout), json.loads(other.stdout)
    for doc in (one, two):
        doc.pop("generated_at")
    assert two == one
    return one  # type: ignore[no-any-return]


def test_the_readme_command_on_s3rver(
    client: Any,
    sample: Sample,
    lines: list[bytes],
    keys: dict[str, Path],
    tmp_path: Path,
    s3_endpoint: str,
    s3_bucket: str,
) -> None:
    """``chainaudit verify s3://.../AWSDynamoDB/ID/ --dask tcp://HOST:PORT`` (the
    module's cluster, as a running scheduler) gives the report of the serial
    run on the same URL (its JSON, the clock aside)."""
    export = tmp_path / "x.ndjson"
    export.write_bytes(b"".join(lines))
    _upload(_s3(s3_endpoint), s3_bucket, _ddb(tmp_path / "ddb", _records(export)), EXPORT_PREFIX)
    url = f"s3://{s3_bucket}/{EXPORT_PREFIX}"
    args = (
        "verify",
        url,
        "--umk",
        str(keys["right"]),
        "--s3-endpoint-url",
        s3_endpoint,
        "--format",
        "json",
    )
    address = client.scheduler.address
    assert address.startswith("tcp://")
    serial, on_dask = _chainaudit(*args), _chainaudit(*args, "--dask", address)
    assert on_dask.returncode == serial.returncode == 3, on_dask.stderr  # keyed, nothing pinned
    assert on_dask.stderr == serial.stderr == ""
    one = _same_report(serial, on_dask)
    assert one["checked"]["decrypted"] > 100


def test_without_distributed_the_option_is_one_line_exit_2(
    tmp_path: Path, lines: list[bytes]
) -> None:
    fake = tmp_path / "site" / "distributed"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('not installed')\n")
    export = tmp_path / "x.ndjson"
    export.write_bytes(b"".join(lines))
    started = time.monotonic()
    run = _chainaudit(
        "verify", str(export), "--dask", "local:2", env={"PYTHONPATH": str(fake.parent)}
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines() == [
        "chainaudit: error: --dask: needs the optional dependency dask[distributed]: "
        "pip install 'chainaudit[dask]'"
    ]
    assert time.monotonic() - started < 60


def test_sources_dask_cannot_read_are_refused(
    client: Any, lines: list[bytes], tmp_path: Path
) -> None:
    from chainaudit.sources.multi import spool_stdin

    export = tmp_path / "x.ndjson"
    export.write_bytes(b"".join(lines))
    with export.open("rb") as f:
        stdin = spool_stdin(f)
    with pytest.raises(InputError, match="standard input"):
        audit_dask(stdin, AuditOptions(), client)


def test_a_local_cluster_from_the_command_line(lines: list[bytes], tmp_path: Path) -> None:
    """``--dask local:N`` starts its own LocalCluster: the serial report, a
    clean stderr."""
    export = tmp_path / "x.ndjson"
    export.write_bytes(b"".join(lines))
    args = ("verify", str(export), "--format", "json")
    serial, on_dask = _chainaudit(*args), _chainaudit(*args, "--dask", "local:1")
    assert on_dask.returncode == serial.returncode, on_dask.stderr
    assert on_dask.stderr == serial.stderr == ""
    _same_report(serial, on_dask)


def test_workers_open_a_kms_umk_themselves(
    sample: Sample, lines: list[bytes], tmp_path: Path
) -> None:
    """``--kms-umk-blob``: the task carries the ciphertext blob and the key
    id; each worker decrypts it through KMS itself (moto's server on
    loopback, reached through AWS_ENDPOINT_URL_KMS in the workers'
    environment). The blob is all of the key the graph holds."""
    from moto.server import ThreadedMotoServer

    from chainaudit.distributed import UmkKms

    assert sample.umk is not None
    export = tmp_path / "x.ndjson"
    export.write_bytes(b"".join(lines))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        creds = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
        kms = boto3.client("kms", region_name="eu-west-1", endpoint_url=endpoint, **{
            k.lower(): v for k, v in creds.items()
        })  # fmt: skip
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key_id, Plaintext=sample.umk.reveal())["CiphertextBlob"]
        ref = UmkKms(blob, key_id, "eu-west-1", None, sample.umk.fingerprint())
        assert sample.umk.reveal() not in pickle.dumps(ref)
        with pytest.MonkeyPatch.context() as mp:
            for name, value in {**creds, "AWS_ENDPOINT_URL_KMS": endpoint}.items():
                mp.setenv(name, value)
            cluster = distributed.LocalCluster(
                n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                silence_logs=50,
            )  # fmt: skip
        with cluster, distributed.Client(cluster) as kms_client:
            outcome = _same(
                kms_client, lambda: NdjsonSource(export), lambda: _options(sample, "keyed"), ref
            )
        assert outcome[1]["decrypted"] > 100
    finally:
        server.stop()


def test_workers_read_a_dynamodb_exports_data_files_in_parallel(
    lines: list[bytes], keys: dict[str, Path], tmp_path: Path
) -> None:
    """``verify EXPORT_DIR --workers 2`` (CLI-5): the data files are read by a
    local cluster of two worker processes, each opening the UMK file itself;
    the report is the one-process report, keyed, with a clean stderr."""
    from chainaudit.cli.verify import _data_file_runner

    export = tmp_path / "x.ndjson"
    export.write_bytes(b"".join(lines))
    ddb = _ddb(tmp_path / "ddb", _records(export), files=3)
    # With the extra installed, the run is the local cluster's, not audit()'s.
    src = DynamoDBExportSource(ddb)
    assert _data_file_runner(src, 2, AuditOptions(), None, None, None, None, True) is not None
    args = ("verify", str(ddb), "--umk", str(keys["right"]), "--format", "json")
    serial, parallel = _chainaudit(*args), _chainaudit(*args, "--workers", "2")
    assert parallel.returncode == serial.returncode == 3, parallel.stderr  # nothing pinned
    assert parallel.stderr == serial.stderr == ""
    one = _same_report(serial, parallel)
    assert one["checked"]["decrypted"] > 100


def test_workers_on_a_dynamodb_export_without_dask_read_in_one_process(
    lines: list[bytes], tmp_path: Path
) -> None:
    """Without the dask extra, ``--workers`` on a DynamoDB export says in one
    line that one process reads the data files, and reports as that does."""
    fake = tmp_path / "site" / "distributed"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('not installed')\n")
    export = tmp_path / "x.ndjson"
    export.write_bytes(b"".join(lines))
    ddb = _ddb(tmp_path / "ddb", _records(export), files=3)
    args = ("verify", str(ddb), "--format", "json")
    env = {"PYTHONPATH": str(fake.parent)}
    serial, parallel = _chainaudit(*args), _chainaudit(*args, "--workers", "2", env=env)
    assert parallel.returncode == serial.returncode, parallel.stderr
    assert parallel.stderr.splitlines() == [
        "chainaudit: --workers reads a DynamoDB export's data files in parallel only "
        "with chainaudit[dask] installed; reading them in one process"
    ]
    _same_report(serial, parallel)


def test_workers_on_a_dynamodb_export_beside_standard_input_read_in_one_process(
    lines: list[bytes], tmp_path: Path
) -> None:
    """Beside a source Dask workers do not read (here standard input),
    ``--workers`` reads the export's data files in one process, says so in
    one line, and reports exactly as one process does."""
    export = tmp_path / "x.ndjson"
    export.write_bytes(b"".join(lines))
    ddb = _ddb(tmp_path / "ddb", _records(export), files=3)
    exe = shutil.which("chainaudit")
    assert exe

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        with export.open("rb") as stdin:
            return subprocess.run(
                [exe, "verify", "-", str(ddb), "--format", "json", *extra],
                stdin=stdin, capture_output=True, text=True, timeout=240, check=False,
            )  # fmt: skip

    serial, parallel = run(), run("--workers", "2")
    assert parallel.returncode == serial.returncode == 1, parallel.stderr  # a duplicated dataset
    assert serial.stderr == ""
    assert parallel.stderr.splitlines() == [
        "chainaudit: --workers reads a DynamoDB export's data files in parallel only beside "
        "other exports (not a live store or standard input); reading them in one process"
    ]
    _same_report(serial, parallel)


def test_a_local_clusters_dashboard_listens_on_loopback_only() -> None:
    from chainaudit.distributed import connect

    client, close = connect("local:1")
    try:
        assert client.dashboard_link.startswith("http://127.0.0.1:")
    finally:
        close()
