#!/usr/bin/env bash
# THE test command: bash scripts/test.sh [pytest args...]
#
# Works on a fresh clone, as root, with nothing running (that is how CI runs
# it through .ci/run). It installs what the tests need, starts a throwaway
# PostgreSQL 15 and a dynalite (local DynamoDB) on loopback ports, runs ruff,
# mypy and pytest against them, and always stops both servers on exit.
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

log "installing the pinned dynalite (npm ci)"
npm ci --no-audit --no-fund --prefer-offline --loglevel=error

# --- 2. servers -----------------------------------------------------------

WORK="$(mktemp -d /tmp/chainaudit-test.XXXXXX)"
DYNALITE_PID=""
PG_STARTED=0

as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

cleanup() {
    local rc=$?
    set +e
    if [ -n "$DYNALITE_PID" ]; then
        kill "$DYNALITE_PID" 2>/dev/null
        wait "$DYNALITE_PID" 2>/dev/null
    fi
    if [ "$PG_STARTED" = 1 ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pgdata" -m immediate -w stop >/dev/null 2>&1
    fi
    if [ "$rc" != 0 ]; then
        for f in "$WORK/postgres.log" "$WORK/dynalite.log"; do
            [ -s "$f" ] && { log "last lines of $f:"; tail -n 20 "$f" >&2; }
        done
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for_port() {  # name port seconds
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    log "$1 did not answer on 127.0.0.1:$2 within $3 s"
    return 1
}

# PostgreSQL: initdb refuses to run as root, so the cluster belongs to the
# postgres user. fsync off: the data is thrown away, speed matters.
if [ "$(id -u)" = 0 ]; then
    chown postgres: "$WORK"
fi
PG_PORT="$(free_port)"
log "starting PostgreSQL 15 on 127.0.0.1:$PG_PORT"
as_postgres "$PG_BIN/initdb" -D "$WORK/pgdata" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$WORK/initdb.log" 2>&1 ||
    { cat "$WORK/initdb.log" >&2; exit 1; }
as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pgdata" -l "$WORK/postgres.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $WORK -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" >/dev/null
PG_STARTED=1
as_postgres "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 30

DYN_PORT="$(free_port)"
log "starting dynalite on 127.0.0.1:$DYN_PORT"
# --createTableMs 50: tables still pass through CREATING (so the ACTIVE
# waiter is exercised), without costing half a second per test table.
node node_modules/dynalite/cli.js --host 127.0.0.1 --port "$DYN_PORT" \
    --createTableMs 50 --deleteTableMs 50 >"$WORK/dynalite.log" 2>&1 &
DYNALITE_PID=$!
wait_for_port dynalite "$DYN_PORT" 30

export CHAINAUDIT_TEST_PG_DSN="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
export CHAINAUDIT_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$DYN_PORT"

# --- 3. checks ------------------------------------------------------------

log "ruff check chainaudit tests"
ruff check chainaudit tests
log "mypy"
mypy
log "pytest"
# pytest exits 5 when no test ran; with set -e that fails the run, as it must.
python3 -m pytest "$@"
