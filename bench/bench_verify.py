"""Benchmark ``chainaudit verify`` on a realistic export against a bare parse of it.

    python3 bench/bench_verify.py                    # 200,000 records
    python3 bench/bench_verify.py --records 1000000 --workers 2
    python3 bench/bench_verify.py --repeat 3 --no-cli
    python3 bench/bench_verify.py --records 1000000 --damaged --no-cli
    python3 bench/bench_verify.py --profile keyed    # cProfile of one keyed run

The export is written the way the audited service writes data
(:class:`chainaudit.sample.SampleWriter`): many dialogues, each with every
entity type, its wrapped DEK, its lifecycle chain and the crypto audit log;
every 10th dialogue rotates its key, every 100th is crypto-shredded and
every 50th crosses a signed migration boundary. Everything derives from a
fixed seed, so the same ``--records`` gives the same bytes; the file is
cached under ``--cache-dir`` and reused.

Each measurement runs in its own child process and is collected with
``os.wait4``, so the peak resident set size (``ru_maxrss``) is that run's
alone: a figure that stays flat as ``--records`` grows shows bounded memory.
Measured runs, all on the same file in one invocation:

* the yardsticks: a bare ``json.loads`` loop over the file's lines (and the
  same loop with ``orjson.loads`` when it is installed): what any script
  that reads the export must spend at least;
* keyless and keyed through :func:`chainaudit.audit.audit` (in process),
  with one worker and, with ``--workers N``, with N;
* the same two through the ``chainaudit`` command line (``--no-cli`` skips);
* with ``--damaged``, the command line keyless on a copy of the export in
  which every record is broken (about two findings per record): its peak
  RSS beside the intact run's shows that memory does not grow with the
  number of findings either.

CPU is the steadier figure on a shared machine, so each run's CPU seconds
(user + system, its worker processes included; for in-process runs only the
measured loop, not interpreter start-up and imports) are given as a ratio
to the bare ``json.loads`` pass: ``x parse``. A run with N workers also
shows its wall time as a ratio to the one-worker run (``x w1 wall``).
``--repeat R`` measures every run R times, interleaved, and keeps each
run's least-disturbed (minimum) CPU and wall time; the ratios of every
round are printed too, so their spread is visible.

Every run must check the same number of records and produce the same
findings, which the table's last column shows.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the parent imports nothing heavy: see main()
    from chainaudit.records.model import Record
    from chainaudit.sample import SampleWriter

SEED = "chainaudit-bench-v1"
#: The checkout this script belongs to: children import chainaudit from here
#: (after any PYTHONPATH the caller set), not from wherever it is installed.
ROOT = Path(__file__).resolve().parent.parent


def _child_env() -> dict[str, str]:
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, str(ROOT)])}


CREATED_AT = "2026-03-02T09:00:00Z"


# --- the export ------------------------------------------------------------------


def _records(writer: SampleWriter, n: int) -> Iterator[Record]:
    """About ``n`` records (whole dialogues), streamed: the writer's list is drained."""
    from chainaudit.chain.events import lifecycle_chain_id
    from chainaudit.keys.hierarchy import format_key_id
    from chainaudit.records.address import EntityType
    from chainaudit.sample import _dialogue

    written = 0
    i = 0
    while written + len(writer._deks) < n:
        dialogue = f"bench-{i:07d}"
        key = _dialogue(writer, dialogue, f"user:{i % 997:03d}", f"Dialogue {i}")
        if i % 10 == 9:  # a rotation: later writes use version 2
            key2 = writer.new_key(dialogue, f"user:{i % 997:03d}")
            writer.entity(key2, dialogue, EntityType.VERDICT, ("addendum",), {"verdict": "v2"})
        if i % 100 == 42:  # a crypto-shredded dialogue
            writer.shred(key)
        if i % 50 == 7:  # a dialogue already migrated, its chain bridged
            writer.boundary(dialogue, "dynamodb", "postgresql")
            v1 = format_key_id(dialogue, 1)
            writer.entity(v1, dialogue, EntityType.VERDICT, ("post-migration",), {"v": 1})
        written += len(writer.records)
        yield from writer.records
        writer.records.clear()
        # The dialogue is done: its wrapped DEKs (final state) go out now, and
        # what the writer keeps per dialogue is dropped, so that writing a
        # large export stays linear in time and flat in memory.
        for key_id in [k for k in writer._deks if k.startswith(f"dek#{dialogue}#")]:
            written += 1
            yield writer._deks.pop(key_id)[0]
        writer._chains.pop(lifecycle_chain_id(dialogue), None)
        writer.superseded.clear()
        i += 1
    yield from writer.finish().records


def make_export(directory: Path, n: int) -> tuple[Path, Path, Path]:
    """``(export, umk file, trusted keys)`` for ``n`` records, cached in ``directory``."""
    from chainaudit.keys.signer import trusted_keys_document
    from chainaudit.keys.signing import public_bytes
    from chainaudit.keys.umk import write_secret_file
    from chainaudit.sample import SampleWriter
    from chainaudit.sources.ndjson import write_export

    directory.mkdir(parents=True, exist_ok=True)
    export = directory / f"verify-{n}.ndjson"
    umk = directory / "umk.hex"
    trusted = directory / "trusted-keys.json"
    if not export.exists():
        writer = SampleWriter(SEED)
        assert writer.umk is not None
        start = time.perf_counter()
        summary = write_export(export, _records(writer, n), source="bench", created_at=CREATED_AT)
        print(
            f"wrote {summary.counts['lines'] - 1} records to {export} "
            f"in {time.perf_counter() - start:.1f} s",
            file=sys.stderr,
        )
        umk.unlink(missing_ok=True)
        write_secret_file(umk, writer.umk.reveal(), "UMK file")
        # The migration signer and the erasure authority that signs the receipts (COMMIT-7).
        pinned = [public_bytes(writer.signer), public_bytes(writer.erasure_signer)]
        trusted.write_text(trusted_keys_document(pinned), encoding="utf-8")
    return export, umk, trusted


def make_damaged(export: Path) -> Path:
    """A copy of ``export`` in which every record is broken, cached beside it:
    every envelope's ``aad_hash`` and every event's ``event_hash`` has its
    first hex digit changed, so there are about two findings per record
    (the trailer's digest no longer matches either). Peak RSS on it shows
    that memory does not grow with the number of findings."""
    import re

    damaged = export.with_name(export.stem + "-damaged.ndjson")
    if damaged.exists() and damaged.stat().st_mtime >= export.stat().st_mtime:
        return damaged
    edit = re.compile(rb'("(?:aad_hash|event_hash)":\{"S":")([0-9a-f])')

    def flip(m: re.Match[bytes]) -> bytes:
        return m.group(1) + (b"1" if m.group(2) == b"0" else b"0")

    part = damaged.with_name(damaged.name + ".part")
    with open(export, "rb") as src, open(part, "wb") as out:
        for line in src:
            out.write(edit.sub(flip, line))
    part.replace(damaged)
    return damaged


# --- one measured run (child process) ------------------------------------------------


def run_in_process(export: str, umk: str | None, trusted: str, workers: int) -> dict[str, Any]:
    """Verify in this process; returns records, seconds and findings by code."""
    from chainaudit.audit import AuditOptions, audit
    from chainaudit.keys.signing import TrustStore
    from chainaudit.keys.umk import Umk
    from chainaudit.sources.ndjson import NdjsonSource

    options = AuditOptions(
        umk=Umk.from_file(umk) if umk else None,
        trust=TrustStore.load(Path(trusted)),
        workers=workers,
    )
    start, cpu = time.perf_counter(), _cpu()
    result = audit(NdjsonSource(export), options)
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    by_code: dict[str, int] = {}
    for finding in result.findings:
        by_code[finding.code.name] = by_code.get(finding.code.name, 0) + 1
    return {
        "records": result.checked["records"],
        "seconds": seconds,
        "cpu": cpu,
        "findings": by_code,
    }


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def parse_only(export: str, parser: str) -> dict[str, Any]:
    """The yardstick: parse every line of ``export`` and nothing else."""
    if parser == "orjson":
        import orjson

        loads: Any = orjson.loads
    else:
        loads = json.loads
    start, cpu = time.perf_counter(), _cpu()
    n = 0
    with open(export, "rb") as f:
        for line in f:
            loads(line)
            n += 1
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    return {"records": n - 2, "seconds": seconds, "cpu": cpu, "findings": {}}


def has_orjson() -> bool:
    import importlib.util

    return importlib.util.find_spec("orjson") is not None


def _measure(cmd: list[str]) -> tuple[float, float, float, str]:
    """Run ``cmd``; ``(wall s, CPU s, peak RSS MiB, stdout)`` of that child alone.

    CPU seconds (user + system) are the steadier figure on a loaded machine.
    """
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=_child_env())
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:4]}... exited {proc.returncode}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text


def measure(
    mode: str, keyed: bool, export: Path, umk: Path, trusted: Path, workers: int
) -> dict[str, Any]:
    """One row of the table: ``mode`` is ``audit`` (in process), ``cli``, or a
    yardstick, ``json``/``orjson`` (``keyed`` and ``workers`` then unused)."""
    name = f"{mode} {'keyed' if keyed else 'keyless'}"
    if mode in ("json", "orjson"):
        cmd = [sys.executable, __file__, "--child", str(export), "--parse-only", mode]
        wall, cpu, rss, text = _measure(cmd)
        got = json.loads(text)
        wall, cpu, name = got["seconds"], got["cpu"], f"{mode}.loads"
    elif mode == "audit":
        cmd = [sys.executable, __file__, "--child", str(export), "--trusted", str(trusted)]
        cmd += ["--workers", str(workers)] + (["--umk", str(umk)] if keyed else [])
        wall, cpu, rss, text = _measure(cmd)
        got = json.loads(text)
        wall, cpu = got["seconds"], got["cpu"]  # the verification alone, workers included
    else:
        exe = shutil.which("chainaudit") or "chainaudit"
        target = make_damaged(export) if mode == "damaged" else export
        cmd = [exe, "verify", str(target), "--format", "json"]
        cmd += ["--quiet", "--trusted-keys", str(trusted), "--workers", str(workers)]
        cmd += ["--umk", str(umk)] if keyed else []
        wall, cpu, rss, text = _measure(cmd)
        report = json.loads(text)
        got = {"records": report["checked"]["records"], "seconds": wall, "findings": _codes(report)}
    if workers > 1 and mode not in ("json", "orjson"):
        name += f" w{workers}"
    return {
        "run": name,
        "mode": mode,
        "keyed": keyed,
        "workers": workers,
        "records": got["records"],
        "seconds": round(got["seconds"], 3),
        "wall": round(wall, 3),
        "cpu": round(cpu, 3),
        "records_per_second": round(got["records"] / got["seconds"]),
        "peak_rss_mib": round(rss, 1),
        "findings": got["findings"],
    }


def _codes(report: dict[str, Any]) -> dict[str, int]:
    return {str(k): int(v) for k, v in report["by_code"].items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000, help="records in the export")
    parser.add_argument(
        "--workers", type=int, default=1, help="also measure with this many workers (vs 1)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="measure every run this often")
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "chainaudit-bench"
    )
    parser.add_argument("--no-cli", action="store_true", help="skip the command-line runs")
    parser.add_argument(
        "--damaged",
        action="store_true",
        help="also run the command line keyless on a copy with every record broken",
    )
    parser.add_argument("--only", choices=["keyless", "keyed"], help="measure one kind only")
    parser.add_argument("--profile", choices=["keyless", "keyed"], help="cProfile one run")
    parser.add_argument("--json", action="store_true", help="print results as JSON too")
    parser.add_argument("--make", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--parse-only", choices=["json", "orjson"], help=argparse.SUPPRESS)
    parser.add_argument("--umk", help=argparse.SUPPRESS)
    parser.add_argument("--trusted", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:  # one in-process run; JSON on stdout
        if args.parse_only:
            print(json.dumps(parse_only(args.child, args.parse_only)))
            return 0
        print(json.dumps(run_in_process(args.child, args.umk, args.trusted, args.workers)))
        return 0

    if args.make:
        make_export(args.cache_dir, args.records)
        return 0
    # Written by a child: Linux keeps ru_maxrss across fork and exec, so a
    # parent grown by writing the export would raise every child's figure.
    make = [sys.executable, __file__, "--make", "--records", str(args.records)]
    subprocess.run([*make, "--cache-dir", str(args.cache_dir)], check=True, env=_child_env())
    export = args.cache_dir / f"verify-{args.records}.ndjson"
    umk, trusted = args.cache_dir / "umk.hex", args.cache_dir / "trusted-keys.json"
    if args.profile:
        import cProfile

        if str(ROOT) not in sys.path:  # as _child_env(): after PYTHONPATH
            extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
            sys.path.insert(1 + len(extra), str(ROOT))
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        run_in_process(str(export), str(umk) if args.profile == "keyed" else None, str(trusted), 1)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(40)
        stats.sort_stats("cumulative").print_stats(50)
        return 0

    kinds = [args.only == "keyed"] if args.only else [False, True]
    plan: list[tuple[str, bool, int]] = [("json", False, 1)]
    if has_orjson():
        plan.append(("orjson", False, 1))
    plan += [("audit", keyed, 1) for keyed in kinds]
    if args.workers > 1:
        plan += [("audit", keyed, args.workers) for keyed in kinds]
    if not args.no_cli:
        plan += [("cli", keyed, 1) for keyed in kinds]
    if args.damaged:
        plan.append(("damaged", False, 1))
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = export.stat().st_size / (1 << 20)
    print(f"{args.records} records ({size:.1f} MiB), {os.cpu_count()} CPUs, {args.repeat} round(s)")
    print(f"(this parent's peak RSS, a floor for every figure: {own:.1f} MiB)")
    best: dict[tuple[str, bool, int], dict[str, Any]] = {}
    rounds: list[dict[str, float]] = []
    for r in range(args.repeat):
        this: dict[tuple[str, bool, int], dict[str, Any]] = {}
        for key in plan:
            row = measure(key[0], key[1], export, umk, trusted, key[2])
            this[key] = row
            kept = best.get(key)
            if kept is None:
                best[key] = dict(row)
            else:  # the least-disturbed measurement of each run
                for k in ("wall", "cpu", "seconds"):
                    kept[k] = min(kept[k], row[k])
                kept["peak_rss_mib"] = max(kept["peak_rss_mib"], row["peak_rss_mib"])
        ratios = _ratios(this)
        rounds.append(ratios)
        if args.repeat > 1:
            print(f"round {r + 1}: " + "  ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    results = [best[key] for key in plan]
    _print_table(results, best)
    summary = _ratios(best)
    print("ratios (best of each run): " + "  ".join(f"{k} {v:.2f}" for k, v in summary.items()))
    if args.json:
        print(
            json.dumps(
                {"cpus": os.cpu_count(), "results": results, "ratios": summary, "rounds": rounds},
                indent=2,
            )
        )
    return 0


def _ratios(rows: dict[tuple[str, bool, int], dict[str, Any]]) -> dict[str, float]:
    """The issue's figures: CPU of each verification over the bare json.loads
    pass, and the wall time of N workers over one."""
    parse = rows[("json", False, 1)]["cpu"]
    out: dict[str, float] = {}
    if ("orjson", False, 1) in rows:
        out["orjson/json"] = rows[("orjson", False, 1)]["cpu"] / parse
    for (mode, keyed, workers), row in rows.items():
        if mode not in ("audit", "cli", "damaged"):
            continue
        label = f"{mode} {'keyed' if keyed else 'keyless'}" + (
            f" w{workers}" if workers > 1 else ""
        )
        out[f"{label} cpu/parse"] = row["cpu"] / parse
        one = rows.get((mode, keyed, 1))
        if workers > 1 and one is not None:
            out[f"{label} wall/w1"] = row["wall"] / one["wall"]
    return out


def _print_table(
    results: list[dict[str, Any]], rows: dict[tuple[str, bool, int], dict[str, Any]]
) -> None:
    parse = rows[("json", False, 1)]["cpu"]
    print(
        f"{'run':20} {'records':>9} {'wall s':>8} {'rec/s':>8} {'CPU s':>7} {'x parse':>8} "
        f"{'x w1 wall':>9} {'peak RSS':>10}  findings"
    )
    for row in results:
        one = rows.get((row["mode"], row["keyed"], 1))
        vs_one = f"{row['wall'] / one['wall']:.2f}" if row["workers"] > 1 and one else ""
        print(
            f"{row['run']:20} {row['records']:>9} {row['wall']:>8.2f} "
            f"{row['records_per_second']:>8} {row['cpu']:>7.2f} {row['cpu'] / parse:>8.2f} "
            f"{vs_one:>9} {row['peak_rss_mib']:>6.1f} MiB  "
            + ",".join(f"{k}={v}" for k, v in sorted(row["findings"].items())),
            flush=True,
        )


if __name__ == "__main__":
    raise SystemExit(main())
