"""The README's migration walkthrough runs as written, on the real servers."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from e2e_stores import pg_schema

ROOT = Path(__file__).resolve().parent.parent


def test_migration_walkthrough_passes_every_gate(
    pg_server_dsn: str, dynamodb_endpoint: str, tmp_path: Path
) -> None:
    with pg_schema(pg_server_dsn) as url:
        env = {
            **os.environ,
            "CHAINAUDIT_TEST_PG_DSN": url,
            "CHAINAUDIT_TEST_DYNAMODB_ENDPOINT": dynamodb_endpoint,
        }
        run = subprocess.run(
            ["bash", str(ROOT / "scripts" / "migration-walkthrough.sh"), str(tmp_path / "w")],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "All gates passed" in run.stderr
    assert "gate post" in run.stdout and "OK (exit 0)" in run.stdout
    assert (tmp_path / "w" / "manifest.json").exists()
