"""Mutation testing of the verification core with mutmut 3 (issue 15; docs/mutation.md).

Run it through ``bash scripts/mutation.sh`` (which installs mutmut when
missing). For each module of ``scripts/mutation-scope.txt`` (or the modules
named on the command line) it:

1. exports the committed tree (``git archive HEAD``; ``--worktree`` copies the
   working tree instead) into ``.mutation/<commit>/<module>/``: the checkout
   you work in is never touched, so no mutant can be left in it;
2. runs ``mutmut run`` there, mutating that one module, with the module's
   test files and ``-m "not postgres and not dynamodb and not s3"`` (no server);
3. classifies every mutant (killed, survived, no tests, timeout, ...), and
   every *surviving* one as
   - ``equivalent``: listed in docs/mutation.md with the reason;
   - ``diagnostic``: it changes only what a finding or an error *says*
     (``where``, message, ``expected``/``actual``/``extra``, an exception's
     text), never which finding is raised, so never a verdict or exit code;
   - ``verdict``: anything else: a test is missing.
4. stores the figures in ``.mutation/results.json`` and prints the table.

Scores: ``all`` = killed / (mutants - equivalent); ``verdict`` = the same
without the diagnostic-only mutants (killed or not). Run the work dirs again
to resume: mutmut keeps every result it already has.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCOPE = ROOT / "scripts" / "mutation-scope.txt"
DOC = ROOT / "docs" / "mutation.md"
WORK = ROOT / ".mutation"
RESULTS = WORK / "results.json"
SERVERLESS = "not postgres and not dynamodb and not s3"
ALSO_COPY = ["vectors", "docs", "README.md", "scripts", "bench"]

KILLED = {1, 3, 37, 36, 24, -24, 152, 255}  # killed, type check, timeout
SURVIVED, NO_TESTS = 0, {5, 33}

#: Calls whose arguments (from this index on) only describe a finding. Apart
#: from those of :data:`ALWAYS_DESCRIBING`, a call counts only when one of the
#: arguments before that index names a finding code (``codes.X``, an UPPER_CASE name, ``code``):
#: ``ledger.add(key_id, nonce, where, ciphertext)`` is not a finding, and its
#: ciphertext decides a verdict.
DESCRIBING_CALLS = {
    "Finding": 1,
    "add": 1,
    "_add": 2,
    "add_finding": 2,
    "need": 1,
    "local_faults": 0,  # the directory and the task named by a LocalFaultError
}
#: Calls that describe whatever their arguments: proof.py's ``need(cond, what)``
#: raises one error whose text is ``what``; ``local_faults`` names a directory.
ALWAYS_DESCRIBING = {"need", "local_faults"}
#: Variables that only hold what a finding says.
DESCRIBING_NAMES = {
    "where", "message", "msg", "extra", "detail", "expected", "actual", "claimed", "src", "origin"
}  # fmt: skip


# --- scope and equivalents --------------------------------------------------


def read_scope() -> dict[str, list[str]]:
    """Module -> its test files (empty: the whole no-server suite)."""
    scope: dict[str, list[str]] = {}
    for line in SCOPE.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("deselect "):
            module, *tests = line.split()
            scope[module] = [] if tests == ["-"] else tests
    return scope


def read_deselected() -> list[str]:
    """The ``deselect TEST_ID`` lines of the scope file."""
    out = []
    for line in SCOPE.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("deselect "):
            out.append(line.split(None, 1)[1])
    return out


def read_equivalents() -> dict[str, tuple[str, str]]:
    """``| `mutant` | `changed line` | reason |`` rows of docs/mutation.md."""
    out: dict[str, tuple[str, str]] = {}
    if not DOC.exists():
        return out
    row = re.compile(r"^\|\s*`(chainaudit\.[^`]+)`\s*\|\s*`(.*)`\s*\|\s*(.+?)\s*\|\s*$")
    for line in DOC.read_text().splitlines():
        m = row.match(line)
        if m:
            out[m.group(1)] = (m.group(2).replace("\\|", "|"), m.group(3))
    return out


def short_name(module: str) -> str:
    """``chainaudit/chain/verify.py`` -> ``chain.verify``: unique, unlike the stem."""
    return module.removeprefix("chainaudit/").removesuffix(".py").replace("/", ".")


def resolve_module(name: str, scope: dict[str, list[str]]) -> str:
    for module in scope:
        if name in (module, short_name(module), module.removesuffix(".py")):
            return module
    by_stem = [m for m in scope if Path(m).stem == name]
    if len(by_stem) == 1:
        return by_stem[0]
    if by_stem:
        names = ", ".join(short_name(m) for m in by_stem)
        sys.exit(f"mutation: {name!r} is ambiguous: say one of {names}")
    if Path(name).suffix == ".py" and (ROOT / name).exists():
        return name  # not in the scope file: the whole no-server suite
    sys.exit(f"mutation: {name!r} is not in {SCOPE.relative_to(ROOT)}")


# --- the tree to mutate -------------------------------------------------------


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


def tree_id(worktree: bool) -> str:
    head = git("rev-parse", "--short=12", "HEAD")
    return f"{head}-worktree" if worktree else head


def export_tree(dest: Path, worktree: bool) -> None:
    dest.mkdir(parents=True)
    if not worktree:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, check=True, capture_output=True
        ).stdout
        with tempfile.TemporaryFile() as fp:
            fp.write(archive)
            fp.seek(0)
            with tarfile.open(fileobj=fp) as tar:
                tar.extractall(dest, filter="data")
        return
    files = git("ls-files", "-co", "--exclude-standard", "-z").split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def configure(work: Path, module: str, tests: list[str]) -> None:
    """Append mutmut's settings to the exported copy's pyproject.toml only."""
    selection = tests or ["tests"]
    settings = {
        "source_paths": ["chainaudit"],
        "only_mutate": [module],
        "also_copy": ALSO_COPY,
        "pytest_add_cli_args": [
            "-m",
            SERVERLESS,
            "-p",
            "no:cacheprovider",
            *(arg for test in read_deselected() for arg in ("--deselect", test)),
        ],
        "pytest_add_cli_args_test_selection": selection,
        "use_git_change_detection": False,
    }
    text = "\n[tool.mutmut]\n" + "".join(
        f"{k} = {json.dumps(v)}\n" if not isinstance(v, bool) else f"{k} = {str(v).lower()}\n"
        for k, v in settings.items()
    )
    with open(work / "pyproject.toml", "a", encoding="utf-8") as fp:
        fp.write(text)


def run_mutmut(work: Path, jobs: int, log: Path) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINAUDIT_TEST_")}
    # Subprocesses a test starts import the mutated copy too, never the checkout.
    # The directory must exist before Python starts, or the import system
    # caches it as absent and the editable install's checkout wins.
    (work / "mutants").mkdir(exist_ok=True)
    env["PYTHONPATH"] = str(work / "mutants")
    with open(log, "w") as out:
        return subprocess.run(
            [
                "nice",
                "-n",
                "10",
                sys.executable,
                "-m",
                "mutmut",
                "run",
                "--max-children",
                str(jobs),
            ],
            cwd=work,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        ).returncode


# --- classifying mutants ------------------------------------------------------


def _functions(path: Path) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    }


Step = tuple[ast.AST, str, int | None]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, ast.AST) and isinstance(b, ast.AST):
        return ast.dump(a) == ast.dump(b)
    return bool(a == b)


def _diff_path(a: Any, b: Any, path: list[Step]) -> list[Step]:
    """The path from the function down to the smallest node that differs."""
    if type(a) is not type(b) or not isinstance(a, ast.AST):
        return path
    for name in a._fields:
        va, vb = getattr(a, name, None), getattr(b, name, None)
        if isinstance(va, list) and isinstance(vb, list):
            if len(va) != len(vb):
                return [*path, (a, name, None)]
            for i, (x, y) in enumerate(zip(va, vb, strict=True)):
                if not _same(x, y):
                    return _diff_path(x, y, [*path, (a, name, i)])
        elif not _same(va, vb):
            if isinstance(va, ast.AST) and isinstance(vb, ast.AST):
                return _diff_path(va, vb, [*path, (a, name, None)])
            return [*path, (a, name, None)]
    return path


def _call_name(node: ast.Call) -> str:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _names_a_code(args: list[ast.expr]) -> bool:
    """Whether one of ``args`` is a finding code: ``codes.X``, ``X_Y``, ``code``, ``Finding(...)``."""
    for a in args:
        if isinstance(a, ast.Attribute) and isinstance(a.value, ast.Name) and a.value.id == "codes":
            return True
        if isinstance(a, ast.Name) and (a.id == "code" or (a.id.isupper() and len(a.id) > 1)):
            return True
        if isinstance(a, ast.Call) and _call_name(a) == "Finding":
            return True
    return False


def describing_only(orig: ast.AST, mutant: ast.AST) -> bool:
    """Whether ``mutant`` differs from ``orig`` only in what a finding or error says."""
    path = _diff_path(orig, mutant, [])
    for node, name, index in path:
        if isinstance(node, ast.Call):
            callee = _call_name(node)
            if callee.endswith(("Error", "Exception")) and name in ("args", "keywords"):
                return True  # an exception's text or file: the exception is the same
            first = DESCRIBING_CALLS.get(callee)
            if callee not in ALWAYS_DESCRIBING and not _names_a_code(node.args[:first or 0]):
                first = None  # not a finding: every argument may decide a verdict
            if first is not None and name == "keywords":
                return True
            if first is not None and name == "args":
                if index is None:  # an argument removed: the describing ones come last
                    m = mutant_node_at(mutant, path, node)
                    return m is not None and _same_prefix(node.args, m.args, first)
                if index >= first:
                    return True
                # e.g. result.add(Finding(...)): look further down
        if isinstance(node, ast.Assign) and name == "value":
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if targets and all(t in DESCRIBING_NAMES for t in targets):
                return True
    last = path[-1][0] if path else None
    return (
        isinstance(last, ast.Constant)
        and isinstance(last.value, str)
        and " " in last.value  # prose, not an identifier, algorithm or code name
    )


def mutant_node_at(mutant: ast.AST, path: list[Step], target: ast.AST) -> ast.Call | None:
    node: Any = mutant
    for orig, name, index in path:
        if orig is target:
            return node if isinstance(node, ast.Call) else None
        node = getattr(node, name)
        if index is not None:
            node = node[index]
    return None


def _same_prefix(a: list[ast.expr], b: list[ast.expr], n: int) -> bool:
    return (
        len(a) >= n and len(b) >= n and all(_same(x, y) for x, y in zip(a[:n], b[:n], strict=True))
    )


def _body(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.Module:
    return ast.Module(body=[*fn.body], type_ignores=[])


def mutant_diff(work: Path, name: str, module: str) -> str:
    code = (
        "import sys; from pathlib import Path; "
        "from mutmut.mutation.diff_apply import get_diff_for_mutant; "
        "print(get_diff_for_mutant(sys.argv[1], path=Path(sys.argv[2])))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, name, module], cwd=work, capture_output=True, text=True
    )
    lines = [
        ln for ln in run.stdout.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))
    ]
    return "\n".join(lines) or run.stderr.strip()[-300:]


@dataclass
class Figures:
    module: str
    tree: str
    date: str
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    no_tests: int = 0
    other: int = 0
    equivalent: int = 0
    diagnostic: int = 0  # all diagnostic-only mutants, killed or not
    diagnostic_killed: int = 0
    survivors: list[dict[str, str]] = field(default_factory=list)

    @property
    def score_all(self) -> float:
        return self.killed / max(1, self.mutants - self.equivalent)

    @property
    def score_verdict(self) -> float:
        killed = self.killed - self.diagnostic_killed
        return killed / max(1, self.mutants - self.equivalent - self.diagnostic)


def classify(work: Path, module: str, tree: str) -> Figures:
    meta = json.loads((work / "mutants" / (module + ".meta")).read_text())
    functions = _functions(work / "mutants" / module)
    equivalents = read_equivalents()
    fig = Figures(module, tree, dt.date.today().isoformat())
    for key, code in sorted(meta["exit_code_by_key"].items()):
        fig.mutants += 1
        fn_name = key.rsplit(".", 1)[1]
        base = fn_name.rsplit("__mutmut_", 1)[0]
        orig, mut = functions.get(base + "__mutmut_orig"), functions.get(fn_name)
        diagnostic = (
            orig is not None and mut is not None and describing_only(_body(orig), _body(mut))
        )
        fig.diagnostic += diagnostic
        if code in KILLED:
            fig.killed += 1
            fig.diagnostic_killed += diagnostic
            continue
        if code == SURVIVED:
            fig.survived += 1
        elif code in NO_TESTS:
            fig.no_tests += 1
        else:
            fig.other += 1
        diff = mutant_diff(work, key, module)
        kind = "diagnostic" if diagnostic else "verdict"
        listed = equivalents.get(key)
        if listed is not None:
            if listed[0] and listed[0] in diff:
                kind = "equivalent"
                fig.equivalent += 1
                fig.diagnostic -= diagnostic  # counted once, as equivalent
            else:
                kind += " (stale equivalence entry: the mutant changed)"
        status = "survived" if code == SURVIVED else "no tests" if code in NO_TESTS else str(code)
        fig.survivors.append({"mutant": key, "status": status, "class": kind, "diff": diff})
    return fig


# --- reporting ------------------------------------------------------------------


def load_results() -> dict[str, Any]:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def save(fig: Figures) -> None:
    results = load_results()
    results[fig.module] = {
        **{k: v for k, v in fig.__dict__.items()},
        "score_all": round(fig.score_all, 4),
        "score_verdict": round(fig.score_verdict, 4),
    }
    WORK.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


def table(results: dict[str, Any], modules: list[str]) -> str:
    head = (
        "| module | tree | date | mutants | killed | survived | no tests | equivalent "
        "| diagnostic-only | score (all) | score (verdict) |\n" + "|---" * 11 + "|\n"
    )
    rows = []
    tot = dict.fromkeys(
        ("mutants", "killed", "survived", "no_tests", "other", "equivalent", "diagnostic",
         "diagnostic_killed"),
        0,
    )  # fmt: skip
    for m in modules:
        r = results.get(m)
        if r is None:
            rows.append(f"| {m} | not run yet | | | | | | | | | |")
            continue
        for k in tot:
            tot[k] += r[k]
        rows.append(
            f"| {m} | {r['tree']} | {r['date']} | {r['mutants']} | {r['killed']} | "
            f"{r['survived']} | {r['no_tests'] + r['other']} | {r['equivalent']} | "
            f"{r['diagnostic']} | {r['score_all']:.1%} | {r['score_verdict']:.1%} |"
        )
    s_all = tot["killed"] / max(1, tot["mutants"] - tot["equivalent"])
    s_ver = (tot["killed"] - tot["diagnostic_killed"]) / max(
        1, tot["mutants"] - tot["equivalent"] - tot["diagnostic"]
    )
    rows.append(
        f"| **total (run modules)** | | | {tot['mutants']} | {tot['killed']} | {tot['survived']} | "
        f"{tot['no_tests'] + tot['other']} | {tot['equivalent']} | {tot['diagnostic']} | "
        f"{s_all:.1%} | {s_ver:.1%} |"
    )
    return head + "\n".join(rows)


def survivors_text(results: dict[str, Any], modules: list[str], kinds: set[str]) -> str:
    out = []
    for m in modules:
        for s in results.get(m, {}).get("survivors", []):
            if s["class"].split(" ")[0] in kinds:
                out.append(f"{s['mutant']}  [{s['status']}, {s['class']}]\n{s['diff']}\n")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("modules", nargs="*", help="modules to run (default: the whole scope)")
    ap.add_argument("--jobs", type=int, default=2, help="mutmut workers (default 2)")
    ap.add_argument("--worktree", action="store_true", help="mutate the working tree, not HEAD")
    ap.add_argument("--report", action="store_true", help="print the stored figures, run nothing")
    ap.add_argument(
        "--survivors",
        action="store_true",
        help="print the stored figures and each surviving mutant, run nothing",
    )
    ap.add_argument("--list", action="store_true", help="print the scope and exit")
    ap.add_argument("--fresh", action="store_true", help="discard an earlier run of this tree")
    ap.add_argument(
        "--reclassify",
        action="store_true",
        help="classify the stored runs again (after editing docs/mutation.md), run nothing",
    )
    args = ap.parse_args()

    scope = read_scope()
    if args.list:
        for module, tests in scope.items():
            print(module, " ".join(tests) or "(whole no-server suite)")
        return 0
    modules = [resolve_module(m, scope) for m in args.modules] or list(scope)
    failed: list[str] = []
    if args.reclassify:
        for module, stored in load_results().items():
            work = WORK / stored["tree"] / short_name(module)
            if module in modules and (work / "mutants" / (module + ".meta")).exists():
                save(classify(work, module, stored["tree"]))
    elif not (args.report or args.survivors):
        tree = tree_id(args.worktree)
        for module in modules:
            work = WORK / tree / short_name(module)
            if args.fresh and work.exists():
                shutil.rmtree(work)
            if not work.exists():
                export_tree(work, args.worktree)
                configure(work, module, scope.get(module, []))
            log = work / "mutmut.log"
            print(f"mutation: {module} at {tree} (log: {log.relative_to(ROOT)})", flush=True)
            started = dt.datetime.now()
            code = run_mutmut(work, args.jobs, log)
            meta = work / "mutants" / (module + ".meta")
            if code != 0 and meta.exists() and not json.loads(meta.read_text())["exit_code_by_key"]:
                print(f"mutation: {module}: mutmut made no mutant (no function body to mutate)")
                continue
            if code != 0 or not meta.exists():
                tail = log.read_text(errors="replace").replace("\r", "\n").splitlines()[-15:]
                print("\n".join(tail))
                print(f"mutation: mutmut failed on {module} (exit {code}); going on")
                failed.append(module)
                continue
            fig = classify(work, module, tree)
            save(fig)
            took = (dt.datetime.now() - started).total_seconds()
            print(
                f"mutation: {module}: {fig.killed}/{fig.mutants} killed, {fig.survived} survived, "
                f"{fig.no_tests} without tests; score {fig.score_all:.1%} "
                f"(verdict {fig.score_verdict:.1%}) in {took:.0f} s",
                flush=True,
            )
    results = load_results()
    shown = modules if args.modules else list(scope)
    print(table(results, shown))
    if args.survivors:
        print(survivors_text(results, shown, {"verdict", "diagnostic"}))
    if failed:
        print(f"mutation: mutmut failed on {', '.join(failed)}")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
