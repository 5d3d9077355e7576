"""The done-when of issue 11, automated: chainaudit as an installed wheel, no checkout.

Once per session (marker ``wheel``, about half a minute; deselect with
``-m "not wheel"``): the source is copied out of the checkout, built into a
wheel (``pip wheel --no-deps``, offline: ``--no-build-isolation`` with the
setuptools and wheel of ``.[test]``) and installed with ``--no-deps`` into a
fresh virtual environment that borrows this environment's site-packages
for the dependencies (``--system-site-packages``), so no network is needed
and what runs is the wheel's own ``chainaudit`` (checked). Then, in an
empty directory outside the checkout:

* a ten-line pytest file using the plugin property-tests a writer built on
  the public API, and passes;
* the same file with a broken writer (a wrong AAD; a ``json.dumps``
  sealer) fails, and the output names the finding;
* ``chainaudit vectors generate`` writes exactly the committed vectors and
  ``vectors verify`` passes on them, and ``vectors compare`` (regenerating
  the vectors itself) accepts chainaudit's own answers, all without a
  ``vectors/`` directory (docs/conformance.md CONF-4).

The manual equivalent with dependencies from PyPI:
``python3 -m pip wheel . -w /tmp/wheel --no-deps && python3 -m venv /tmp/venv-api &&
/tmp/venv-api/bin/pip install '/tmp/wheel/chainaudit-0.1.0-py3-none-any.whl[testing]'``.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parent.parent

WRITER_TEST = """\
import chainaudit as ca
from hypothesis import given
from chainaudit.testing import assert_verifies_clean, strategies as cst

def write(address, payload, umk):  # the writer under test, built on the public API
    record, dek = ca.new_dek(ca.derive_kek(umk, "u"), "u", address.dialogue, 1, "2026-03-02T09:00:00Z")
    return [record, ca.EntityRecord(address, {}, ca.seal_envelope(address, payload, dek, record.key_id))]

@given(address=cst.addresses(enveloped=True), payload=cst.payloads())
def test_writer(chainaudit_keys, address, payload):
    assert_verifies_clean(write(address, payload, chainaudit_keys.umk), umk=chainaudit_keys.umk)
"""

#: The same writer sealing for another address (a wrong AAD).
WRONG_AAD = WRITER_TEST.replace(
    "ca.seal_envelope(address, payload", 'ca.seal_envelope(ca.Address.of("elsewhere", "meta"), payload'
)

#: The same writer encoding its payload with json.dumps(sort_keys=True), not RFC 8785.
JSON_DUMPS = WRITER_TEST.replace(
    "ca.seal_envelope(address, payload, dek, record.key_id)",
    "sealed(address, payload, dek, record.key_id)",
).replace(
    "def write(",
    "import json, os\nfrom cryptography.hazmat.primitives.ciphers.aead import AESGCM\n\n"
    "def sealed(address, payload, dek, key_id):\n"
    "    nonce, aad = os.urandom(12), bytes.fromhex(ca.aad_hash(address))\n"
    "    ct = AESGCM(dek).encrypt(nonce, json.dumps(payload, sort_keys=True).encode(), aad)\n"
    "    return ca.Envelope(ct, nonce, key_id, aad.hex())\n\n"
    "def write(",
)


@dataclass
class Installed:
    venv: Path
    wheel: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def run(self, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(
            [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
        )


def _offline_build() -> bool:
    """Whether this environment can build without downloading the build backend."""
    try:
        import setuptools
        import wheel  # noqa: F401
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 68


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "chainaudit",
        src / "chainaudit",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    isolation = ["--no-build-isolation"] if _offline_build() else []
    subprocess.run(
        [*pip, "wheel", str(src), "-w", str(work / "dist"), "--no-deps", *isolation],
        check=True,
        timeout=600,
    )
    (wheel,) = (work / "dist").glob("chainaudit-*.whl")
    venv = work / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=600
    )
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q",
         "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=600,
    )  # fmt: skip
    return Installed(venv, wheel)


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    out = tmp_path / "elsewhere"
    out.mkdir()
    assert not (out / "vectors").exists()
    return out


def test_the_wheel_is_what_runs_and_holds_the_kit(installed: Installed, empty: Path) -> None:
    code = (
        "import chainaudit, chainaudit.testing.plugin, importlib.metadata as m; "
        "print(chainaudit.__file__); "
        "print([e.value for e in m.entry_points(group='pytest11') if e.name == 'chainaudit'])"
    )
    run = installed.run(installed.python, "-c", code, cwd=empty)
    assert run.returncode == 0, run.stderr
    where, plugin = run.stdout.splitlines()
    assert where.startswith(str(installed.venv)) and str(ROOT) not in where
    assert plugin == "['chainaudit.testing.plugin']"
    metadata = installed.run(installed.python, "-m", "pip", "show", "chainaudit", cwd=empty)
    assert "Location: " + str(installed.venv) in metadata.stdout


def _pytest(installed: Installed, empty: Path, source: str) -> subprocess.CompletedProcess[str]:
    (empty / "test_writer.py").write_text(source)
    return installed.run(installed.python, "-m", "pytest", "-p", "no:cacheprovider", cwd=empty)


def test_a_ten_line_writer_test_passes(installed: Installed, empty: Path) -> None:
    assert len(WRITER_TEST.splitlines()) <= 11
    run = _pytest(installed, empty, WRITER_TEST)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "chainaudit 0.1.0 (testing plugin" in run.stdout and "1 passed" in run.stdout


def test_a_writer_sealing_for_the_wrong_address_fails_naming_it(
    installed: Installed, empty: Path
) -> None:
    run = _pytest(installed, empty, WRONG_AAD)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "the records do not verify clean" in run.stdout
    assert "AAD_HASH_MISMATCH at dialogue:" in run.stdout
    assert "ADDRESS_MOVED at dialogue:" in run.stdout


def test_a_json_dumps_writer_fails_naming_it(installed: Installed, empty: Path) -> None:
    run = _pytest(installed, empty, JSON_DUMPS)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "PAYLOAD_NOT_CANONICAL at dialogue:" in run.stdout


def test_vectors_without_a_checkout(installed: Installed, empty: Path) -> None:
    chainaudit = installed.venv / "bin" / "chainaudit"
    generated = installed.run(chainaudit, "vectors", "generate", "out", cwd=empty)
    assert generated.returncode == 0, generated.stderr
    assert _same_tree(empty / "out", ROOT / "vectors")
    verified = installed.run(chainaudit, "vectors", "verify", "out", cwd=empty)
    assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr
    assert verified.stdout.splitlines()[-1].endswith(" passed, 0 failed")
    from chainaudit.conformance.compare import write_reference_answers

    write_reference_answers(ROOT / "vectors", empty / "answers")
    compared = installed.run(chainaudit, "vectors", "compare", "answers", cwd=empty)
    assert compared.returncode == 0, compared.stdout[-2000:] + compared.stderr
    assert ", 0 failed, 0 missing" in compared.stdout


def _same_tree(a: Path, b: Path) -> bool:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    if files_a != files_b:
        return False
    return all(filecmp.cmp(a / f, b / f, shallow=False) for f in files_a)
