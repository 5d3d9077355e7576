"""Benchmark every store: load N records, read them back, report rate and peak memory.

Run the live stores under the throwaway servers:

    bash scripts/services.sh python3 bench/bench_stores.py --ndjson 1000000 \
        --postgres 100000 --dynamodb 20000

Each phase (load, read, bare, verify) of each store runs in its own child
process, so the peak resident set size it reports
(``getrusage(RUSAGE_SELF).ru_maxrss``) is that phase's alone: a flat figure
across sizes shows streaming with bounded memory. ``verify/bare`` is the
wall time of ``chainaudit verify``'s audit over the store's yardstick: a
bare parallel Scan through a plain boto3 client (DynamoDB), a ``COPY ...
TO STDOUT`` of the same rows (PostgreSQL), a ``json.loads`` pass (NDJSON).
DynamoDB also has the phase ``wire``: the same Scan through chainaudit's
own client, whose pages are read from the wire
(:mod:`chainaudit.sources.ddb_pages`), items counted. ``BENCH_DYNAMODB_SEED=batch`` seeds DynamoDB with plain
BatchWriteItem instead of the conditional import, for 1M-item read runs.
Records are generated on the fly (deterministic, ~100 entities per
dialogue, 64-byte ciphertexts), never held in a list. A store whose size is
0 is skipped. ``--records-from EXPORT`` loads the live stores with an NDJSON
export's records instead (the sample ``bench_verify.py`` writes has every
record kind and a commitment for every record version). Results go to
stdout as a table and, with ``--json``, as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chainaudit.records.address import Address
from chainaudit.records.model import EntityRecord, Envelope, Record


def generate(n: int) -> Iterator[Record]:
    """``n`` claim entities, 100 per dialogue, with envelope-shaped bytes; or,
    with ``--records-from EXPORT``, that export's records (all of them)."""
    export = os.environ.get("BENCH_RECORDS_FROM")
    if export:
        from chainaudit.findings import Finding
        from chainaudit.sources.ndjson import NdjsonSource

        yield from (r for r in NdjsonSource(export).read() if not isinstance(r, Finding))
        return
    for i in range(n):
        dialogue = f"bench-{i // 100:07d}"
        address = Address(dialogue, "claim", (f"{(i // 10) % 10:02d}", f"{i % 10:02d}"))
        seed = i.to_bytes(8, "big")
        envelope = Envelope(
            ciphertext=hashlib.blake2b(seed, digest_size=64).digest(),
            nonce=seed + b"\x00\x00\x00\x01",
            key_id=f"dek#{dialogue}#1",
            aad_hash=hashlib.sha256(address.to_bytes()).hexdigest(),
        )
        attrs = {
            "status": {"S": "open"},
            "created_at": {"S": "2026-01-01T00:00:00Z"},
            "score": {"N": str(i % 1000)},
        }
        yield EntityRecord(address, attrs, envelope)


def _open_store(kind: str, target: str) -> Any:
    if kind == "postgres":
        from chainaudit.sources.postgres import PostgresStore

        return PostgresStore(target, fetch_size=5000, batch_size=2000)
    if kind == "dynamodb":
        from chainaudit.sources.dynamodb import DynamoDBStore

        endpoint, table = target.rsplit("|", 1)
        return DynamoDBStore(
            table,
            endpoint_url=endpoint,
            region="us-east-1",
            access_key_id="bench",
            secret_access_key="bench",
            segments=4,
            write_workers=8,
        )
    raise ValueError(kind)


def run_phase(kind: str, phase: str, n: int, target: str) -> dict[str, Any]:
    """One phase in this process; returns records, seconds and peak RSS.

    Phases: ``load``, ``read`` (the store's records), ``verify`` (the audit
    of ``chainaudit verify``, keyless: the records carry no keys; ``verify:N``
    with ``N`` worker processes, each reading its part of the store), and the
    yardstick of each store, ``bare``: a parallel Scan of the same table
    with the same segments through a plain boto3 client, items counted,
    nothing mapped (DynamoDB; ``wire`` the same through the store's client);
    ``COPY (SELECT row_to_json(t) FROM ... ORDER BY key) TO STDOUT`` of the
    three tables (PostgreSQL); a ``json.loads`` pass (NDJSON).
    """
    # Imports first: a phase's time is its work, not the interpreter's loading.
    from chainaudit.audit import AuditOptions, audit
    from chainaudit.sources.ndjson import NdjsonSource

    if kind != "ndjson":
        _open_store(kind, target)
    start = time.perf_counter()
    cpu = time.process_time()
    count = 0
    if phase.startswith("verify"):
        workers = int(phase.partition(":")[2] or 1)
        source = NdjsonSource(target) if kind == "ndjson" else _open_store(kind, target)
        count = audit(source, AuditOptions(workers=workers)).checked["records"]
    elif phase == "bare":
        count = _bare(kind, target)
    elif phase == "wire":
        count = _bare(kind, target, wire=True)
    elif kind == "ndjson":
        from chainaudit.sources.ndjson import NdjsonSource, write_export

        if phase == "load":
            summary = write_export(
                target, generate(n), source="bench", created_at="2026-01-01T00:00:00Z"
            )
            count = summary.counts["entity"]
        else:
            count = sum(1 for _ in NdjsonSource(target).read())
    else:
        store = _open_store(kind, target)
        if phase == "load":
            if kind == "postgres":
                store.create_schema()
                count = store.import_records(generate(n)).written
            else:
                store.create_table()
                if os.environ.get("BENCH_DYNAMODB_SEED") == "batch":
                    count = _seed_dynamodb(store, n)
                else:
                    count = store.import_records(generate(n)).written
        else:
            count = sum(1 for _ in store.read())
    seconds = time.perf_counter() - start
    return {
        "store": kind,
        "phase": phase,
        "records": count,
        "seconds": round(seconds, 2),
        "cpu": round(time.process_time() - cpu, 2),
        "records_per_second": round(count / seconds) if seconds else None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _bare(kind: str, target: str, wire: bool = False) -> int:
    """The least any reader of the store must do: fetch every row (see run_phase)."""
    if kind == "ndjson":
        with open(target, "rb") as f:
            return sum(1 for line in f if json.loads(line) and b'"item"' in line)
    if kind == "postgres":
        import psycopg

        count = 0
        with psycopg.connect(target) as conn:
            for table, key in (
                ("audit_events", "chain_id, event_id"),
                ("entities", "dialogue_id, entity_type, subkey"),
                ("wrapped_deks", "dialogue_id, version"),
            ):
                query = f"COPY (SELECT row_to_json(t) FROM {table} t ORDER BY {key}) TO STDOUT"
                with conn.cursor().copy(query) as copy:
                    for _row in copy.rows():
                        count += 1
        return count
    from concurrent.futures import ThreadPoolExecutor

    import boto3
    import botocore.config

    store = _open_store(kind, target)
    # The yardstick is what any script does: a plain boto3 client, whose
    # parser turns each page into Python (chainaudit's own client reads pages
    # from the wire, chainaudit.sources.ddb_pages; phase "wire" measures that).
    client = (
        store.client
        if wire
        else boto3.client(
            "dynamodb",
            endpoint_url=store.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            config=botocore.config.Config(max_pool_connections=store.segments + 2),
        )
    )

    def segment(i: int) -> int:
        kwargs: dict[str, Any] = {"TableName": store.table, "Segment": i}
        kwargs["TotalSegments"] = store.segments
        items = 0
        while True:
            page = client.scan(**kwargs)
            items += len(page.get("Items", []))
            if not page.get("LastEvaluatedKey"):
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    with ThreadPoolExecutor(store.segments) as pool:
        return sum(pool.map(segment, range(store.segments)))


def _seed_dynamodb(store: Any, n: int) -> int:
    """Seed with plain BatchWriteItem from 8 threads, as the audited service would
    write: the benchmark measures reading, and the import's one conditional
    PutItem per item (STORE-7) makes 1M items take over an hour on dynalite."""
    from concurrent.futures import ThreadPoolExecutor

    from chainaudit.records.item import item_from_record

    def write(batch: list[dict[str, Any]]) -> int:
        requests = [{"PutRequest": {"Item": item}} for item in batch]
        while requests:
            resp = store.client.batch_write_item(RequestItems={store.table: requests})
            requests = resp.get("UnprocessedItems", {}).get(store.table, [])
        return len(batch)

    def batches() -> Iterator[list[dict[str, Any]]]:
        batch: list[dict[str, Any]] = []
        for record in generate(n):
            batch.append(item_from_record(record))
            if len(batch) == 25:
                yield batch
                batch = []
        if batch:
            yield batch

    # Submit in windows of 64 batches: Executor.map would consume the whole
    # generator up front and hold every item in memory.
    total = 0
    window: list[list[dict[str, Any]]] = []
    with ThreadPoolExecutor(8) as pool:
        for batch in batches():
            window.append(batch)
            if len(window) == 64:
                total += sum(pool.map(write, window))
                window = []
        total += sum(pool.map(write, window))
    return total


def _pg_target(server: str) -> str:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    params = conninfo_to_dict(server)
    params["options"] = f"-c search_path={schema}"
    return make_conninfo("", **params)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ndjson", type=int, default=1_000_000, help="records (0 = skip)")
    parser.add_argument("--postgres", type=int, default=100_000, help="records (0 = skip)")
    parser.add_argument("--dynamodb", type=int, default=20_000, help="records (0 = skip)")
    parser.add_argument(
        "--workers", type=int, default=1, help="also verify with this many worker processes"
    )
    parser.add_argument(
        "--records-from",
        metavar="EXPORT",
        help="load the live stores with this NDJSON export's records (e.g. the sample "
        "bench_verify.py writes: every record kind, commitments, keys) instead of "
        "synthetic claims; their sizes are then its record count",
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.phase:  # child process: one phase, JSON on stdout
        print(json.dumps(run_phase(args.store, args.phase, args.n, args.target)))
        return 0

    results: list[dict[str, Any]] = []
    if args.records_from:
        from chainaudit.findings import Finding
        from chainaudit.sources.ndjson import NdjsonSource

        os.environ["BENCH_RECORDS_FROM"] = str(Path(args.records_from).resolve())
        size = sum(
            1 for r in NdjsonSource(args.records_from).read() if not isinstance(r, Finding)
        )
        args.postgres = size if args.postgres else 0
        args.dynamodb = size if args.dynamodb else 0
    with tempfile.TemporaryDirectory(prefix="chainaudit-bench-") as tmp:
        targets: dict[str, tuple[int, str]] = {}
        if args.ndjson:
            targets["ndjson"] = (args.ndjson, str(Path(tmp) / "bench.ndjson"))
        if args.postgres:
            server = os.environ.get("CHAINAUDIT_TEST_PG_DSN")
            if not server:
                parser.error("CHAINAUDIT_TEST_PG_DSN unset: run under scripts/services.sh")
            targets["postgres"] = (args.postgres, _pg_target(server))
        if args.dynamodb:
            endpoint = os.environ.get("CHAINAUDIT_TEST_DYNAMODB_ENDPOINT")
            if not endpoint:
                parser.error("CHAINAUDIT_TEST_DYNAMODB_ENDPOINT unset: run under scripts/services.sh")
            targets["dynamodb"] = (args.dynamodb, f"{endpoint}|bench_{uuid.uuid4().hex[:8]}")
        for kind, (n, target) in targets.items():
            walls: dict[str, float] = {}
            phases = ["load", "read", "bare", "verify"]
            if kind == "dynamodb":
                phases.insert(3, "wire")
            if args.workers > 1:
                phases.append(f"verify:{args.workers}")
            for phase in phases:
                cmd = [sys.executable, __file__, "--phase", phase, "--store", kind]
                cmd += ["--n", str(n), "--target", target]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                result = json.loads(out)
                if result["records"] != n:
                    raise SystemExit(f"{kind} {phase}: {result['records']} records, expected {n}")
                walls[phase] = result["seconds"]
                if phase.startswith("verify") and walls.get("bare"):
                    result["verify_over_bare"] = round(result["seconds"] / walls["bare"], 2)
                results.append(result)
                print(
                    f"{kind:9} {phase:8} {n:>9} records  {result['seconds']:>8.2f} s  "
                    f"{result['records_per_second']:>8} rec/s  CPU {result['cpu']:>7.2f} s  "
                    f"peak RSS {result['peak_rss_mib']:>7.1f} MiB"
                    + (
                        f"  verify/bare {result['verify_over_bare']:.2f}"
                        if "verify_over_bare" in result
                        else ""
                    ),
                    flush=True,
                )
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
