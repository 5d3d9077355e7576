"""Exports read straight from S3 (EXP-13), against a real S3-compatible server.

``scripts/services.sh`` starts s3rver (pinned in package-lock.json) on
loopback; the tests upload exports with boto3, as a DynamoDB Export to S3
or a user's copy would put them there, and run the installed ``chainaudit``
command on the ``s3://`` URL and on the local copy of the same files. No
in-process mock: what is proven is what boto3 and a server do on the wire.

* a DynamoDB Export to S3 read from S3 gives the local directory's report,
  finding for finding and counter for counter, intact or with a changed
  byte (EXP-9.4 checksums and counts);
* NDJSON shards under a prefix are one dataset, like ``verify A B C``;
* an object the run needs that cannot be read is exit 3 naming its URL; a
  bucket or prefix without an export is exit 2;
* a stalled server (SIGSTOP) ends the run within the read timeout (STORE-12).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from conftest import S3_CREDENTIALS
from test_timeouts import StallingProxy

from chainaudit.conformance.vectorgen.export_fixtures import (
    EXPORT_ID,
    write_ddb_export,
    write_ddb_manifests,
)
from chainaudit.errors import StoreError
from chainaudit.findings import Finding
from chainaudit.records.item import item_from_record
from chainaudit.records.model import Record
from chainaudit.sources.ddb_export import DynamoDBExportSource
from chainaudit.sources.ndjson import NdjsonSource, write_export
from chainaudit.sources.s3 import S3, S3NdjsonPrefix, S3NdjsonSource, S3Tree, S3Url, open_s3
from chainaudit.sources.timeouts import StoreTimeouts

ROOT = Path(__file__).resolve().parent.parent
S3RVER = ROOT / "node_modules" / "s3rver" / "bin" / "s3rver.js"
REGION = "us-east-1"
ENV = {**S3_CREDENTIALS, "AWS_DEFAULT_REGION": REGION}
#: Where write_ddb_export's manifests say the export lies (their dataFileS3Key).
EXPORT_PREFIX = f"exports/AWSDynamoDB/{EXPORT_ID}/"
#: Starting Python and chainaudit on a busy 2-core machine (as tests/test_timeouts.py).
MARGIN = 8.0
CONNECT = 2.0
READ = 3.0


def _client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=botocore.config.Config(s3={"addressing_style": "path"}),
    )


def _upload(client: Any, bucket: str, directory: Path, prefix: str) -> list[str]:
    """Every file under ``directory`` as ``prefix`` + its relative path; the keys."""
    keys = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        key = prefix + path.relative_to(directory).as_posix()
        client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        keys.append(key)
    return keys


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    wall: float

    def __str__(self) -> str:
        return f"$ chainaudit {' '.join(self.args)}\nexit {self.returncode}\n{self.stderr}"


def _chainaudit(*args: str, env: dict[str, str] | None = None, limit: float = 120) -> Run:
    exe = shutil.which("chainaudit")
    assert exe, "the chainaudit command is not installed (pip install -e .)"
    started = time.monotonic()
    proc = subprocess.run(
        [exe, *args],
        capture_output=True,
        text=True,
        timeout=limit,
        env={**os.environ, **ENV, **(env or {})},
        check=False,
    )
    return Run(args, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


def _one_error_line(run: Run, code: int, *needles: str) -> str:
    assert run.returncode == code, run
    assert "Traceback" not in run.stderr, run
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainaudit: error: "), run
    for needle in needles:
        assert needle in lines[0], run
    return lines[0]


@dataclass(frozen=True)
class Demo:
    directory: Path
    records: list[Record]

    @property
    def export(self) -> Path:
        return self.directory / "export.ndjson"

    def keys(self) -> tuple[str, ...]:
        """Every key and anchor the demo made: a keyed run with every check."""
        d = self.directory
        return ("--umk", str(d / "umk.hex"), "--trusted-keys", str(d / "trusted-keys.json"),
                "--checkpoint", str(d / "checkpoint.json"))  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo dataset (every entity type, both chains, a rotation, a shredded key)."""
    out = tmp_path_factory.mktemp("s3") / "demo"
    run = _chainaudit("demo", str(out))
    assert run.returncode == 0, run
    records = [r for r in NdjsonSource(out / "export.ndjson").read() if not isinstance(r, Finding)]
    return Demo(out, records)


def _ddb_export(demo: Demo, directory: Path) -> list[dict[str, Any]]:
    """The demo's records as a DynamoDB Export to S3: three data files, an empty
    one (an empty partition) and an unlisted one (a stray file in data/)."""
    items = [item_from_record(r) for r in demo.records]
    files = [items[0::3], [], items[1::3], items[2::3]]
    return write_ddb_export(directory, files, unlisted=items[:2])


def _comparable(report: str, local: str, remote: str) -> dict[str, Any]:
    """A JSON report with the local location written as the S3 one, less what
    names the input itself (subject, provenance inputs) or the clock."""
    assert report, "no report on stdout"
    doc: dict[str, Any] = json.loads(report.replace(local, remote))
    doc.pop("generated_at")
    doc.pop("subject")
    doc["provenance"].pop("inputs")
    return doc


def _same_report(local_run: Run, s3_run: Run, local: str, remote: str) -> dict[str, Any]:
    assert s3_run.returncode == local_run.returncode, (local_run, s3_run)
    assert "Traceback" not in s3_run.stderr, s3_run
    expected = _comparable(local_run.stdout, local, remote)
    actual = _comparable(s3_run.stdout, remote, remote)
    assert actual == expected
    return actual


# --- DynamoDB Export to S3 -------------------------------------------------------


def test_ddb_export_in_s3_gives_the_local_directory_report(
    demo: Demo, s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    local = tmp_path / "export"
    _ddb_export(demo, local)
    _upload(_client(s3_endpoint), s3_bucket, local, EXPORT_PREFIX)
    url = f"s3://{s3_bucket}/{EXPORT_PREFIX}"

    local_run = _chainaudit("verify", str(local), *demo.keys(), "--format", "json")
    s3_run = _chainaudit("verify", url, *demo.keys(), "--format", "json",
                         "--s3-endpoint-url", s3_endpoint)  # fmt: skip
    assert local_run.returncode == 0, local_run
    report = _same_report(local_run, s3_run, str(local), url.rstrip("/"))
    assert report["checked"]["records"] == len(demo.records)
    assert json.loads(s3_run.stdout)["subject"] == f"ddb-export:{url.rstrip('/')}"


def test_changed_byte_in_s3_is_the_local_checksum_finding(
    demo: Demo, s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    local = tmp_path / "export"
    entries = _ddb_export(demo, local)
    data = local / entries[2]["dataFileS3Key"].removeprefix(EXPORT_PREFIX)
    blob = bytearray(data.read_bytes())
    blob[4] ^= 0x01  # the gzip header's MTIME: the same records, other bytes
    data.write_bytes(bytes(blob))
    _upload(_client(s3_endpoint), s3_bucket, local, EXPORT_PREFIX)
    url = f"s3://{s3_bucket}/{EXPORT_PREFIX}"

    local_run = _chainaudit("verify", str(local), *demo.keys(), "--format", "json")
    s3_run = _chainaudit("verify", url, *demo.keys(), "--format", "json",
                         env={"CHAINAUDIT_S3_ENDPOINT": s3_endpoint})  # fmt: skip
    assert local_run.returncode == 1, local_run
    report = _same_report(local_run, s3_run, str(local), url.rstrip("/"))
    assert report["by_code"]["DDB_EXPORT_CHECKSUM_MISMATCH"] == 1
    (finding,) = [f for f in report["findings"] if f["code"] == "DDB_EXPORT_CHECKSUM_MISMATCH"]
    assert finding["where"] == f"{url}{data.relative_to(local).as_posix()}"


def test_the_s3_reader_yields_what_the_directory_reader_yields(
    demo: Demo, s3_endpoint: str, s3_bucket: str, tmp_path: Path, aws_env: None
) -> None:
    """Record for record and finding for finding, origins aside, with every
    manifest check firing: a wrong per-file count and a wrong summary count."""
    local = tmp_path / "export"
    entries = _ddb_export(demo, local)
    entries[0]["itemCount"] += 1
    write_ddb_manifests(local, entries, item_count=7)
    _upload(_client(s3_endpoint), s3_bucket, local, EXPORT_PREFIX)
    url = f"s3://{s3_bucket}/{EXPORT_PREFIX}"
    remote = open_s3(url, endpoint_url=s3_endpoint)
    assert isinstance(remote, DynamoDBExportSource)
    from_s3 = list(remote.read())
    from_dir = list(DynamoDBExportSource(local).read())
    assert len(from_s3) == len(demo.records) + 2
    assert [_moved(x, str(local), url.rstrip("/")) for x in from_dir] == from_s3


def test_a_missing_data_object_is_exit_3_naming_it(
    demo: Demo, s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    local = tmp_path / "export"
    entries = _ddb_export(demo, local)
    client = _client(s3_endpoint)
    _upload(client, s3_bucket, local, EXPORT_PREFIX)
    missing = entries[2]["dataFileS3Key"]
    client.delete_object(Bucket=s3_bucket, Key=missing)
    run = _chainaudit("verify", f"s3://{s3_bucket}/{EXPORT_PREFIX}", "--s3-endpoint-url",
                      s3_endpoint)  # fmt: skip
    _one_error_line(run, 3, f"s3://{s3_bucket}/{missing}:", "does not exist")


def test_refused_credentials_are_exit_3_naming_the_object(
    demo: Demo, s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    write_export(
        tmp_path / "x.ndjson", demo.records[:3], source="t", created_at="2026-01-01T00:00:00Z"
    )
    _upload(_client(s3_endpoint), s3_bucket, tmp_path, "")
    run = _chainaudit("verify", f"s3://{s3_bucket}/x.ndjson", "--s3-endpoint-url", s3_endpoint,
                      env={"AWS_ACCESS_KEY_ID": "nobody"})  # fmt: skip
    _one_error_line(run, 3, f"s3://{s3_bucket}/x.ndjson", "access denied", "403")


# --- NDJSON exports in S3 --------------------------------------------------------


def test_ndjson_shards_under_a_prefix_are_one_dataset(
    demo: Demo, s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    shards = tmp_path / "shards"
    (shards / "later").mkdir(parents=True)
    names = ["a.ndjson", "later/b.ndjson.gz", "c.ndjson"]
    for i, name in enumerate(names):
        write_export(shards / name, demo.records[i::3], source=f"shard {i}",
                     created_at="2026-01-01T00:00:00Z")  # fmt: skip
    (shards / "README.txt").write_text("not an export\n")
    _upload(_client(s3_endpoint), s3_bucket, shards, "shards/")
    url = f"s3://{s3_bucket}/shards/"

    local_run = _chainaudit("verify", *(str(shards / n) for n in names), *demo.keys(),
                            "--format", "json")  # fmt: skip
    s3_run = _chainaudit("verify", url, *demo.keys(), "--format", "json",
                         "--s3-endpoint-url", s3_endpoint)  # fmt: skip
    assert local_run.returncode == 0, local_run
    report = _same_report(local_run, s3_run, f"{shards}/", url)
    assert report["checked"]["records"] == len(demo.records)
    assert json.loads(s3_run.stdout)["subject"] == f"ndjson:{url} (3 objects)"


def test_one_ndjson_object_is_one_export(
    demo: Demo, s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    local = tmp_path / "whole"
    local.mkdir()
    shutil.copy(demo.export, local / "export.ndjson")
    (local / "export.ndjson.gz").write_bytes(gzip.compress(demo.export.read_bytes()))
    _upload(_client(s3_endpoint), s3_bucket, local, "whole/")
    for name in ("export.ndjson", "export.ndjson.gz"):
        url = f"s3://{s3_bucket}/whole/{name}"
        local_run = _chainaudit("verify", str(local / name), *demo.keys(), "--format", "json")
        s3_run = _chainaudit("verify", url, *demo.keys(), "--format", "json",
                             "--s3-endpoint-url", s3_endpoint)  # fmt: skip
        assert local_run.returncode == 0, local_run
        _same_report(local_run, s3_run, str(local / name), url)


def test_library_sources_for_each_url_form(
    demo: Demo, s3_endpoint: str, s3_bucket: str, tmp_path: Path, aws_env: None
) -> None:
    write_export(tmp_path / "one.ndjson", demo.records[:5], source="t",
                 created_at="2026-01-01T00:00:00Z")  # fmt: skip
    _upload(_client(s3_endpoint), s3_bucket, tmp_path, "p/")
    single = open_s3(f"s3://{s3_bucket}/p/one.ndjson", endpoint_url=s3_endpoint)
    prefix = open_s3(f"s3://{s3_bucket}/p", endpoint_url=s3_endpoint)  # no final /
    assert isinstance(single, S3NdjsonSource) and isinstance(prefix, S3NdjsonPrefix)
    records = [r for r in single.read() if not isinstance(r, Finding)]
    assert [r.origin for r in records][:1] == [f"s3://{s3_bucket}/p/one.ndjson:2"]
    assert len(list(prefix.read())) == 5


def test_an_object_replaced_between_two_reads_stops_the_run(
    s3_endpoint: str, s3_bucket: str, aws_env: None
) -> None:
    """Both passes over a data file (MD5, parse), and a keyed run's second
    reading, must see the same bytes: a later read is pinned to the first ETag."""
    client = _client(s3_endpoint)
    client.put_object(Bucket=s3_bucket, Key="p/data/x.json.gz", Body=b"first")
    tree = S3Tree(S3(endpoint_url=s3_endpoint), S3Url(s3_bucket, "p"))
    with tree.open("data/x.json.gz") as f:
        assert f.read() == b"first"
    with tree.open("data/x.json.gz") as f:
        assert f.read() == b"first"
    client.put_object(Bucket=s3_bucket, Key="p/data/x.json.gz", Body=b"second")
    with pytest.raises(StoreError, match="changed while chainaudit read it") as exc:
        tree.open("data/x.json.gz")
    assert str(exc.value).startswith(f"s3://{s3_bucket}/p/data/x.json.gz: ")


# --- errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("nothing-here/", "holds no export"),
        ("only-text/", "holds no export"),
        ("nothing-here/export.ndjson", "no such object"),
    ],
)
def test_a_prefix_or_object_without_an_export_is_exit_2(
    s3_endpoint: str, s3_bucket: str, path: str, reason: str
) -> None:
    _client(s3_endpoint).put_object(Bucket=s3_bucket, Key="only-text/a.txt", Body=b"x")
    run = _chainaudit("verify", f"s3://{s3_bucket}/{path}", "--s3-endpoint-url", s3_endpoint)
    _one_error_line(run, 2, f"s3://{s3_bucket}/{path}", reason)


@pytest.mark.parametrize("path", ["prefix/", "key.ndjson"])
def test_a_bucket_that_does_not_exist_is_exit_2(s3_endpoint: str, path: str) -> None:
    run = _chainaudit(
        "verify", f"s3://no-such-bucket-here/{path}", "--s3-endpoint-url", s3_endpoint
    )
    _one_error_line(run, 2, "s3://no-such-bucket-here/", "'no-such-bucket-here' does not exist")


def test_an_s3_url_without_a_bucket_is_exit_2() -> None:
    run = _chainaudit("verify", "s3://", "--s3-endpoint-url", "http://127.0.0.1:9")
    _one_error_line(run, 2, "name the bucket")


@pytest.mark.parametrize(
    ("env", "args", "reason"),
    [
        (
            {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_CONFIG_FILE": "/nonexistent",
             "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"},
            (),
            "no usable AWS credentials",
        ),
        ({}, ("--profile", "no-such-profile"), "'no-such-profile' is not in the AWS config files"),
        ({}, ("--s3-endpoint-url", "not a url"), "Invalid endpoint"),
    ],
)  # fmt: skip
def test_a_local_aws_configuration_problem_is_exit_2(
    env: dict[str, str], args: tuple[str, ...], reason: str
) -> None:
    """CLI-3: found before any request leaves (the endpoint is never reached)."""
    endpoint = ("--s3-endpoint-url", "http://127.0.0.1:9")
    run = _chainaudit("verify", "s3://bucket/prefix/", *(args or endpoint), env=env)
    _one_error_line(run, 2, "s3://bucket/prefix/", reason)


def test_an_unreachable_endpoint_is_exit_3() -> None:
    with _free_port_closed() as port:
        run = _chainaudit("verify", "s3://bucket/prefix/", "--s3-endpoint-url",
                          f"http://127.0.0.1:{port}", "--connect-timeout", "2")  # fmt: skip
    _one_error_line(run, 3, "s3://bucket/prefix/")


def test_the_s3_options_are_in_every_store_command_help() -> None:
    for command in (("verify",), ("export",), ("gate", "pre"), ("gate", "post"), ("diff",)):
        run = _chainaudit(*command, "--help")
        assert run.returncode == 0, run
        assert "--s3-endpoint-url" in run.stdout and "CHAINAUDIT_S3_ENDPOINT" in run.stdout


# --- a stalled server (STORE-12) ------------------------------------------------------


class ObjectStallingProxy(StallingProxy):
    """tests/test_timeouts.py's relay, stopping s3rver once its answer to a GET
    of ``key`` starts to arrive: the rest of the object never comes."""

    def __init__(self, target_port: int, server_pid: int, bucket: str, key: str) -> None:
        super().__init__(target_port, server_pid, "unused")
        self.marker = f"GET /{bucket}/{key}".encode()


@contextlib.contextmanager
def private_s3rver() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """An s3rver of this test only (stopping the shared one would stall every
    other test); SIGCONT, killed and its directory removed afterwards."""
    assert S3RVER.exists(), f"{S3RVER} is missing: run `npm ci`"
    node = shutil.which("node")
    assert node, "node is not installed"
    with _free_port_closed() as port, tempfile.TemporaryDirectory() as directory:
        proc = subprocess.Popen(
            [node, str(S3RVER), "--directory", directory, "--address", "127.0.0.1",
             "--port", str(port), "--silent", "--no-vhost-buckets"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait_for_port(port, 30)
            yield f"http://127.0.0.1:{port}", proc
        finally:
            with contextlib.suppress(OSError):
                os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
            proc.wait()


@pytest.mark.s3
def test_stopped_s3rver_mid_object_ends_within_the_read_timeout(demo: Demo, tmp_path: Path) -> None:
    local = tmp_path / "export"
    entries = _ddb_export(demo, local)
    # One data object far larger than the socket buffers between s3rver and
    # chainaudit, so the server is stopped with most of it unsent.
    big = entries[2]["dataFileS3Key"]
    (local / big.removeprefix(EXPORT_PREFIX)).write_bytes(os.urandom(48 << 20))
    with private_s3rver() as (endpoint, server):
        client = _client(endpoint)
        client.create_bucket(Bucket="stall")
        _upload(client, "stall", local, EXPORT_PREFIX)
        port = int(endpoint.rsplit(":", 1)[1])
        proxy = ObjectStallingProxy(port, server.pid, "stall", big)
        try:
            run = _chainaudit("verify", f"s3://stall/{EXPORT_PREFIX}", "--s3-endpoint-url",
                              f"http://127.0.0.1:{proxy.port}", "--connect-timeout", str(CONNECT),
                              "--read-timeout", str(READ))  # fmt: skip
        finally:
            proxy.close()
        assert proxy.stopped.is_set(), "s3rver was never stopped: no answer to the GET arrived"
    line = _one_error_line(run, 3, f"s3://stall/{big}", "read timeout", "--read-timeout",
                           "reading the object after")  # fmt: skip
    received = int(line.split("reading the object after ", 1)[1].split(" ", 1)[0])
    assert 0 < received < 48 << 20, line  # mid-object: some of it came, not all
    assert run.wall < CONNECT + READ + MARGIN, run
    print(f"\n{line}\nexit 3 after {run.wall:.2f} s (bound {CONNECT + READ} s)")


def test_timeouts_reach_the_s3_client(aws_env: None) -> None:
    s3 = S3(endpoint_url="http://127.0.0.1:9", timeouts=StoreTimeouts(connect=1.5, read=2.5))
    config = s3.client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (1.5, 2.5)
    assert config.retries["mode"] == "standard"
    assert config.s3 == {"addressing_style": "path"}  # S3-compatible servers


# --- helpers -----------------------------------------------------------------------


@pytest.fixture()
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """s3rver's credentials and a region for boto3 in this process."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def _moved(item: Any, local: str, remote: str) -> Any:
    """A record or finding read from the local copy, as named in S3."""
    import dataclasses

    changes = {
        f.name: getattr(item, f.name).replace(local, remote)
        for f in dataclasses.fields(item)
        if f.name in ("origin", "where", "source") and isinstance(getattr(item, f.name), str)
    }
    return dataclasses.replace(item, **changes)


@contextlib.contextmanager
def _free_port_closed() -> Iterator[int]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    yield port


def _wait_for_port(port: int, seconds: float) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")
