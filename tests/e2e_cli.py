"""Run the installed ``chainaudit`` command as a user does, and police its output.

The end-to-end tests (``test_cli.py``, ``test_e2e.py``) never call the
library to check a verdict: they run the console script in a subprocess and
read its exit code, stdout and stderr, because that is the contract scripts
and CI depend on (docs/cli.md, CLI-3 and CLI-4).

Every run goes through :class:`Cli`, which also scans what the command
printed for key material (the UMK, the signer seed, every KEK and DEK the
demo's keys derive, in hex and base64) and for decrypted payload text
(CLI-4: no report, log or error ever contains them). A leak fails the run
that leaked, naming the command and the kind of secret, never the secret.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chainaudit.envelope.seal import open_envelope
from chainaudit.keys.hierarchy import derive_kek
from chainaudit.keys.keyring import KeyRing
from chainaudit.keys.resolver import DekStatus
from chainaudit.keys.umk import Umk
from chainaudit.records.model import EntityRecord, WrappedDek
from chainaudit.sources.ndjson import NdjsonSource

#: Shortest payload string treated as secret text: shorter values ("concede",
#: "round 01") could appear in a report by coincidence (an address, a code).
MIN_PAYLOAD_CHARS = 12


@dataclass(frozen=True)
class Run:
    """One finished command: what a script calling it would see."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def report(self) -> dict[str, Any]:
        """stdout parsed as a REP-3 JSON report (the whole of stdout, nothing else)."""
        doc = json.loads(self.stdout)
        assert isinstance(doc, dict) and doc.get("type") == "chainaudit/report", self.stdout[:300]
        return doc

    def findings(self, code: str) -> list[dict[str, Any]]:
        """The JSON report's findings with ``code``."""
        return [f for f in self.report()["findings"] if f["code"] == code]

    def where(self, code: str) -> list[str]:
        """The ``where`` of every finding with ``code``, in report order."""
        return [f["where"] for f in self.findings(code)]

    def codes(self) -> set[str]:
        return {f["code"] for f in self.report()["findings"]}

    def describe(self) -> str:
        """For assertion messages: the command, its exit code and the ends of its output."""
        return (
            f"$ chainaudit {' '.join(self.args)}\nexit {self.returncode}\n"
            f"--- stdout (first 1500 chars)\n{self.stdout[:1500]}\n"
            f"--- stderr (last 1500 chars)\n{self.stderr[-1500:]}"
        )


@dataclass
class Secrets:
    """Texts that must never appear in any output: named by kind, never printed."""

    texts: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, material: bytes) -> None:
        """Register ``material`` in every spelling a careless print could use."""
        self.texts[f"{kind} (hex)"] = material.hex()
        self.texts[f"{kind} (HEX)"] = material.hex().upper()
        self.texts[f"{kind} (base64)"] = base64.b64encode(material).decode("ascii")
        self.texts[f"{kind} (repr)"] = repr(material)[2:-1]

    def add_text(self, kind: str, text: str) -> None:
        if len(text) >= MIN_PAYLOAD_CHARS:
            self.texts[kind] = text

    def leaks(self, output: str) -> list[str]:
        """The kinds of secret found in ``output`` (empty when clean)."""
        return sorted(kind for kind, text in self.texts.items() if text in output)


def demo_secrets(demo_dir: Path) -> Secrets:
    """Every secret of a ``chainaudit demo`` directory.

    The UMK and signer seed from their files; each owner's KEK and every
    DEK the demo's wrapped-DEK records unwrap to (through the library's own
    :class:`KeyRing`); and the string values of every payload those DEKs
    decrypt.
    """
    secrets = Secrets()
    umk_hex = (demo_dir / "umk.hex").read_text().strip()
    signer_hex = (demo_dir / "signer.key").read_text().strip()
    secrets.add("UMK", bytes.fromhex(umk_hex))
    secrets.add("signer seed", bytes.fromhex(signer_hex))
    umk = Umk.from_hex(umk_hex)
    ring = KeyRing(umk)
    entities: list[EntityRecord] = []
    for item in NdjsonSource(demo_dir / "export.ndjson").read():
        if isinstance(item, WrappedDek):
            ring.add(item)
            secrets.add(f"KEK of {item.owner}", derive_kek(umk, item.owner).reveal())
        elif isinstance(item, EntityRecord) and item.envelope is not None:
            entities.append(item)
    deks = 0
    for record in ring.records():
        lookup = ring.resolve(record.key_id)
        if lookup.status is DekStatus.FOUND and lookup.dek is not None:
            secrets.add(f"DEK {record.key_id}", lookup.dek)
            deks += 1
    payloads = 0
    for entity in entities:
        assert entity.envelope is not None
        lookup = ring.resolve(entity.envelope.key_id)
        if lookup.dek is None:
            continue
        payload = open_envelope(entity.address, entity.envelope, lookup.dek)
        for i, value in enumerate(_strings(payload)):
            secrets.add_text(f"payload text {i} of {entity.address}", value)
            payloads += 1
    # The demo has five live DEKs (one shredded) and many payloads: a scanner
    # that found none would pass vacuously.
    assert deks >= 5 and payloads >= 50, (deks, payloads)
    return secrets


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


class Cli:
    """Runs ``chainaudit ARGS...`` in a subprocess; every run is scanned for secrets."""

    def __init__(self, secrets: Secrets, env: dict[str, str] | None = None) -> None:
        self.secrets = secrets
        self.env = {**os.environ, **(env or {})}
        # Not a terminal anyway; COLUMNS pins click's help wrapping.
        self.env.setdefault("COLUMNS", "100")
        self.runs: list[Run] = []

    def __call__(self, *args: str | Path, cwd: Path | None = None, timeout: float = 120) -> Run:
        argv = tuple(str(a) for a in args)
        proc = subprocess.run(
            ["chainaudit", *argv],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
        run = Run(argv, proc.returncode, proc.stdout, proc.stderr)
        self.check_clean(run)
        self.runs.append(run)
        return run

    def many(self, *argvs: Sequence[str | Path], timeout: float = 120) -> list[Run]:
        """Run independent commands concurrently (they wait on servers, not on the CPU)."""
        procs = [
            (
                tuple(str(a) for a in argv),
                subprocess.Popen(
                    ["chainaudit", *(str(a) for a in argv)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=self.env,
                ),
            )
            for argv in argvs
        ]
        runs = []
        for argv, proc in procs:
            out, err = proc.communicate(timeout=timeout)
            run = Run(argv, proc.returncode, out, err)
            self.check_clean(run)
            self.runs.append(run)
            runs.append(run)
        return runs

    def check_clean(self, run: Run) -> None:
        """CLI-4: no key material or payload text in stdout or stderr of ``run``."""
        leaked = self.secrets.leaks(run.stdout + "\n" + run.stderr)
        assert not leaked, f"chainaudit {' '.join(run.args[:3])} ... printed: {leaked}"


def expect(run: Run, code: int) -> Run:
    """Assert the exit code, showing the run when it differs."""
    assert run.returncode == code, run.describe()
    return run


def one_error_line(run: Run) -> str:
    """CLI-4: a deliberate error is exactly one stderr line, no traceback, nothing on stdout."""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.describe()
    assert "Traceback" not in run.stderr, run.describe()
    assert run.stdout == "", run.describe()
    assert lines[0].startswith("chainaudit: error: "), run.describe()
    return lines[0]


def without(path: Path, out: Path, drop: Sequence[str]) -> Path:
    """Copy the NDJSON export ``path`` to ``out`` leaving out the records whose key is in ``drop``.

    Keys are record keys as the rest of the suite spells them
    (:func:`chainaudit.records.digest.record_key`).
    """
    from chainaudit.findings import Finding
    from chainaudit.records.digest import record_key
    from chainaudit.sources.ndjson import write_export

    kept = [
        item
        for item in NdjsonSource(path).read()
        if not isinstance(item, Finding) and record_key(item) not in drop
    ]
    write_export(out, kept, source="e2e test", created_at="2026-03-02T12:00:00.000Z")
    return out


def key_args(demo_dir: Path) -> tuple[str, ...]:
    """``--umk`` and ``--trusted-keys`` of a ``chainaudit demo`` directory."""
    return (
        "--umk",
        str(demo_dir / "umk.hex"),
        "--trusted-keys",
        str(demo_dir / "trusted-keys.json"),
    )
