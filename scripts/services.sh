#!/usr/bin/env bash
# bash scripts/services.sh COMMAND [ARGS...]
#
# Starts a throwaway PostgreSQL 15, a dynalite (local DynamoDB) and an
# s3rver (local S3) on free loopback ports, exports CHAINAUDIT_TEST_PG_DSN,
# CHAINAUDIT_TEST_DYNAMODB_ENDPOINT and CHAINAUDIT_TEST_S3_ENDPOINT, runs
# COMMAND, and stops the servers on exit whatever happened; exits with
# COMMAND's status. Used by scripts/test.sh and by the benchmark
# (bench/bench_stores.py).
# Needs postgresql-15 and `npm ci` done (scripts/test.sh installs them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PG_BIN="/usr/lib/postgresql/15/bin"
log() { printf '[services.sh] %s\n' "$*" >&2; }

if [ "$#" = 0 ]; then
    echo "usage: bash scripts/services.sh COMMAND [ARGS...]" >&2
    exit 2
fi

WORK="$(mktemp -d /tmp/chainaudit-test.XXXXXX)"
DYNALITE_PID=""
S3RVER_PID=""
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
    if [ -n "$S3RVER_PID" ]; then
        kill -CONT "$S3RVER_PID" 2>/dev/null  # a test may have stopped it
        kill "$S3RVER_PID" 2>/dev/null
        wait "$S3RVER_PID" 2>/dev/null
    fi
    if [ "$PG_STARTED" = 1 ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$WORK/pgdata" -m immediate -w stop >/dev/null 2>&1
    fi
    if [ "$rc" != 0 ]; then
        for f in "$WORK/postgres.log" "$WORK/dynalite.log" "$WORK/s3rver.log"; do
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
# scripts/dynalite.js is dynalite's own cli.js, except that a client closing
# its connection with a request in flight drops that request rather than
# ending the server (as DynamoDB does).
node scripts/dynalite.js --host 127.0.0.1 --port "$DYN_PORT" \
    --createTableMs 50 --deleteTableMs 50 >"$WORK/dynalite.log" 2>&1 &
DYNALITE_PID=$!
wait_for_port dynalite "$DYN_PORT" 30

# s3rver keeps buckets and objects as files under its --directory; it checks
# signatures against its built-in credentials S3RVER / S3RVER (the tests'
# AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
S3_PORT="$(free_port)"
log "starting s3rver on 127.0.0.1:$S3_PORT"
mkdir -p "$WORK/s3rver"
node node_modules/s3rver/bin/s3rver.js --directory "$WORK/s3rver" --address 127.0.0.1 \
    --port "$S3_PORT" --silent --no-vhost-buckets >"$WORK/s3rver.log" 2>&1 &
S3RVER_PID=$!
wait_for_port s3rver "$S3_PORT" 30

export CHAINAUDIT_TEST_PG_DSN="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
export CHAINAUDIT_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$DYN_PORT"
export CHAINAUDIT_TEST_S3_ENDPOINT="http://127.0.0.1:$S3_PORT"


"$@"
