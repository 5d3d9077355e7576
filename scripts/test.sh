#!/usr/bin/env bash
# THE test command: bash scripts/test.sh [pytest args...]
#
# Works on a fresh clone, as root, with nothing running (that is how CI runs
# it through .ci/run). It installs what the tests need, starts a throwaway
# PostgreSQL 15, a dynalite (local DynamoDB) and an s3rver (local S3) on
# loopback ports, runs ruff, mypy and pytest against them, and always stops
# the servers on exit.
#
# Why real servers: the store adapters' correctness lives in the servers'
# behaviour (pagination, conditional writes, triggers, cursors); an
# in-process mock would only test our own assumptions (docs/stores.md).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PG_BIN="/usr/lib/postgresql/15/bin"
log() { printf '[test.sh] %s\n' "$*" >&2; }

# --- 1. dependencies ------------------------------------------------------

log "installing chainaudit and its test dependencies"
python3 -m pip install -q --disable-pip-version-check -e '.[test]'

apt_updated=0
apt_install() {
    if [ "$apt_updated" = 0 ]; then
        apt-get update -q
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

if [ ! -x "$PG_BIN/initdb" ]; then
    log "PostgreSQL 15 missing: installing postgresql-15"
    apt_install postgresql-15
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "Node.js missing: installing nodejs and npm"
    apt_install nodejs npm
fi
if [ ! -x /usr/bin/chromium ]; then
    # tests/test_html_report.py opens the HTML report in a real headless browser.
    log "Chromium missing: installing chromium"
    apt_install chromium
fi

log "installing the pinned dynalite and s3rver (npm ci)"
npm ci --no-audit --no-fund --prefer-offline --loglevel=error

# --- 2. servers and checks -------------------------------------------------
# scripts/services.sh starts the servers, runs the checks, and stops the
# servers on exit; its status is the checks' status.

exec bash scripts/services.sh bash -c '
    set -euo pipefail
    log() { printf "[test.sh] %s\n" "$*" >&2; }
    log "ruff check chainaudit tests"
    ruff check chainaudit tests
    log "mypy"
    mypy
    log "pytest"
    # pytest exits 5 when no test ran; that fails the run, as it must.
    python3 -m pytest "$@"
' test.sh "$@"
