"""Throughput of ``verify --dask`` against the number of Dask workers, and the
per-record costs that docs/distributed.md scales to 100 workers.

    python3 bench/bench_dask.py                      # 50,000 records, 1 and 2 workers
    python3 bench/bench_dask.py --records 200000 --workers 1 2 4

The export is ``bench/bench_verify.py``'s (same seed, same cache), verified
keyed with every signer pinned, in two forms:

* ``ndjson``: the export itself, one file, cut at partition boundaries into
  2 x workers spans (a grouped run: nothing is shuffled);
* ``ddb``: the same records as a DynamoDB Export to S3 of ``--files`` data
  files on local disk, each holding every ``files``-th item, so every
  dialogue and chain is scattered over the files (a spooled run: chain
  events, commitment rows and dialogue ids are shuffled to the bucket
  tasks, envelopes opened by a second task per file).

For each form the serial :func:`chainaudit.audit.audit` (in this process) is
the reference, then :func:`chainaudit.distributed.audit_dask` on a fresh
``LocalCluster`` of N worker processes (one thread each), after one warm-up
task per worker (imports). Every run must give the serial result (findings
and counters), which is checked.

Then, in this process and without Dask, each stage of a spooled run is
timed and its output measured (pickled, as Dask sends it): per record, the
CPU of the unit, keyed and bucket tasks, and the bytes a unit sends to the
shuffle, to the client and keeps for its keyed task.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _ddb(directory: Path, export: Path, files: int) -> Path:
    from chainaudit.conformance.vectorgen.export_fixtures import write_ddb_export
    from chainaudit.findings import Finding
    from chainaudit.records.item import item_from_record
    from chainaudit.sources.ndjson import NdjsonSource

    if (directory / "manifest-summary.json").exists():
        return directory
    items = [item_from_record(r) for r in NdjsonSource(export).read() if not isinstance(r, Finding)]
    write_ddb_export(directory, [items[i::files] for i in range(files)])
    return directory


def _burn(_: int) -> float:
    start, x = time.perf_counter(), 0
    for i in range(10_000_000):
        x += i
    return time.perf_counter() - start


def _calibrate(n: int) -> float:
    """How many cores N processes get on this machine now: a CPU-bound loop
    in N processes at once against one (a shared machine gives less than N)."""
    import multiprocessing

    one = _burn(0)
    with multiprocessing.get_context("spawn").Pool(n) as pool:
        each = pool.map(_burn, range(n))
    return n * one / max(each)


def _facts(result: Any) -> Any:
    return [f.to_json() for f in result.findings], dict(result.checked)


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--files", type=int, default=16, help="data files of the ddb form")
    parser.add_argument("--forms", nargs="+", default=["ndjson", "ddb"], choices=["ndjson", "ddb"])
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "chainaudit-bench"
    )
    args = parser.parse_args(argv)

    import distributed
    from bench_verify import make_export

    from chainaudit.audit import AuditOptions, audit
    from chainaudit.cli.common import load_trust
    from chainaudit.distributed import UmkFile, audit_dask
    from chainaudit.keys.umk import Umk
    from chainaudit.sources.ddb_export import DynamoDBExportSource
    from chainaudit.sources.ndjson import NdjsonSource

    export, umk_file, trusted = make_export(args.cache_dir, args.records)
    umk = Umk.from_file(umk_file)
    ref = UmkFile(str(umk_file), umk.fingerprint())
    ddb = _ddb(args.cache_dir / f"ddb-{args.records}-{args.files}", export, args.files)

    def options() -> AuditOptions:
        return AuditOptions(umk=umk, trust=load_trust((str(trusted),)))

    sources = {"ndjson": lambda: NdjsonSource(export), "ddb": lambda: DynamoDBExportSource(ddb)}
    print(f"{args.records} records, keyed, {os.cpu_count()} CPUs; ddb form: {args.files} files")
    for n in args.workers:
        if n > 1:
            print(f"cores {n} CPU-bound processes got at once (calibration): {_calibrate(n):.2f}")
    print()
    print(
        "| form | run | wall s | records/s | x serial | CPU s (workers + client) | records / CPU-s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for form in args.forms:
        start, cpu = time.perf_counter(), _cpu()
        serial = audit(sources[form](), options())
        base, cpu = time.perf_counter() - start, _cpu() - cpu
        records = serial.checked["records"]
        print(
            f"| {form} | serial audit() | {base:.1f} | {records / base:,.0f} | 1.00 | "
            f"{cpu:.1f} | {records / cpu:,.0f} |",
            flush=True,
        )
        for n in args.workers:
            cluster = distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=50,
            )
            with cluster, distributed.Client(cluster) as client:
                client.run(lambda: __import__("chainaudit.distributed"))  # imports, once
                before, own = client.run(_cpu), _cpu()
                start = time.perf_counter()
                result = audit_dask(sources[form](), options(), client, umk=ref)
                wall = time.perf_counter() - start
                after, own = client.run(_cpu), _cpu() - own
                workers_cpu = sum(after[w] - before[w] for w in before)
            assert _facts(result) == _facts(serial), "the Dask result differs from the serial one"
            print(
                f"| {form} | --dask local:{n} | {wall:.1f} | {records / wall:,.0f} | "
                f"{base / wall:.2f} | {workers_cpu:.1f} + {own:.1f} | "
                f"{records / (workers_cpu + own):,.0f} |",
                flush=True,
            )
    if "ddb" in args.forms:
        stages(ddb, options(), ref)
    return 0


def stages(ddb: Path, options: Any, ref: Any) -> None:
    """Each stage of a spooled run in this process: CPU and bytes per record."""
    import dataclasses

    from distributed.protocol.pickle import dumps

    from chainaudit import distributed as d
    from chainaudit.audit import _setup
    from chainaudit.report.assurance import Evidence
    from chainaudit.sources.ddb_export import DynamoDBExportSource

    source = DynamoDBExportSource(ddb)
    buckets = 4
    ctx = d._Context(
        "bench",
        dataclasses.replace(options, umk=None),
        _setup(source, options, Evidence()),
        ref,
        True,
        buckets,
    )
    plan = [u for u in d._plan(source) if isinstance(u, d._DdbFile)]
    cpu: dict[str, float] = {"unit": 0.0, "keys": 0.0, "bucket": 0.0}
    size: dict[str, int] = {"shuffle": 0, "summary": 0, "held": 0, "keyed": 0, "bucket": 0}
    records = 0
    outs = []
    for unit in plan:
        t = _cpu()
        out = d._unit_task(ctx, unit)
        cpu["unit"] += _cpu() - t
        records += sum(out.kinds.values())
        size["summary"] += len(dumps(out.summary()))
        size["held"] += len(dumps(out.held))
        size["shuffle"] += sum(len(dumps(b)) for b in out.buckets)
        outs.append(out)
    by_dialogue: dict[str, list[Any]] = {}
    for out in outs:
        for r in out.deks:
            by_dialogue.setdefault(r.dialogue, []).append(r)
    first: set[str] = set()
    for out in outs:
        owned = []
        for r in out.deks:
            loc = f"dek#{r.dialogue}#{r.version}"
            if loc not in first:
                first.add(loc)
                owned.append(loc)
        deks = [
            r
            for dia in sorted(out.needs | {o.split("#")[1] for o in owned})
            for r in by_dialogue.get(dia, [])
        ]
        t = _cpu()
        keyed = d._keyed_task(ctx, out, deks, owned)
        cpu["keys"] += _cpu() - t
        size["keyed"] += len(dumps(keyed))
    for b in range(buckets):
        t = _cpu()
        done = d._bucket_task(ctx, b, [out.buckets[b] for out in outs])
        cpu["bucket"] += _cpu() - t
        size["bucket"] += len(dumps(done))
    print()
    print(f"Per record, spooled (ddb), {records} records, one process, {buckets} buckets:")
    print()
    print("| stage | CPU µs / record | bytes / record out |")
    print("|---|---:|---:|")
    print(f"| unit task (read, check, bucket) | {cpu['unit'] / records * 1e6:,.0f} | "
          f"{size['shuffle'] / records:,.0f} to the shuffle, {size['summary'] / records:,.0f} "
          f"to the client, {size['held'] / records:,.0f} held for the keyed task |")  # fmt: skip
    print(f"| keyed task (unwrap, open envelopes) | {cpu['keys'] / records * 1e6:,.0f} | "
          f"{size['keyed'] / records:,.0f} to the client |")  # fmt: skip
    print(f"| bucket task (chains, commitments) | {cpu['bucket'] / records * 1e6:,.0f} | "
          f"{size['bucket'] / records:,.0f} to the client |")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
