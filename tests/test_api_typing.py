"""A user's code calling the public API passes ``mypy --strict`` (issue 11, docs/api.md API-12).

``tests/typing/user_module.py`` is written against ``chainaudit``'s public
names only. mypy checks it in strict mode from outside the checkout (the
package found the way an installed one is), next to a module with
deliberate misuses, which must be errors: the names are typed, not ``Any``.
The user module also runs.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
USER_MODULE = ROOT / "tests" / "typing" / "user_module.py"

MISUSE = '''\
import chainaudit

result = chainaudit.verify([], umk="00" * 32)
n: str = chainaudit.exit_code_for(result)
chainaudit.Address.of("d-1", "claim", 1, 2)
w = chainaudit.ChainWriter("crypto-audit")
w.commit(w, timestamp="t", principal="p")
'''


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str]:
    if importlib.util.find_spec("mypy") is None:
        pytest.fail("mypy is a test dependency: pip install -e '.[test]'")
    work = tmp_path_factory.mktemp("typing")
    shutil.copy(USER_MODULE, work / "user_module.py")
    (work / "misuse.py").write_text(MISUSE)
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--config-file",
            os.devnull,
            "--cache-dir",
            str(work / ".mypy_cache"),
            "user_module.py",
            "misuse.py",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return run.returncode, run.stdout + run.stderr


def test_user_module_passes_mypy_strict(mypy_output: tuple[int, str]) -> None:
    _, out = mypy_output
    assert "user_module.py" not in out, out


def test_misuse_is_a_type_error(mypy_output: tuple[int, str]) -> None:
    code, out = mypy_output
    assert code == 1, out
    errors = [line for line in out.splitlines() if line.startswith("misuse.py:")]
    lines = sorted({int(line.split(":")[1]) for line in errors})
    assert lines == [3, 4, 5, 7], out  # every misuse, and nothing else


def test_user_module_runs() -> None:
    spec = importlib.util.spec_from_file_location("user_module", USER_MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main() == 0
