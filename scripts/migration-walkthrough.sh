#!/usr/bin/env bash
# bash scripts/services.sh bash scripts/migration-walkthrough.sh [DIR]
#
# The migration story on two real servers, as the README tells it: seed a
# DynamoDB table with the demo, gate it (verify + signed manifest), export it
# verbatim, import it into PostgreSQL bridging every chain with a signed
# boundary, and gate the target. Needs the servers of scripts/services.sh
# (it exports CHAINAUDIT_TEST_DYNAMODB_ENDPOINT and CHAINAUDIT_TEST_PG_DSN);
# run `bash scripts/test.sh` once first so PostgreSQL and dynalite are installed.
set -euo pipefail

: "${CHAINAUDIT_TEST_DYNAMODB_ENDPOINT:?run me through: bash scripts/services.sh bash $0}"
: "${CHAINAUDIT_TEST_PG_DSN:?run me through: bash scripts/services.sh bash $0}"
D="${1:-$(mktemp -d /tmp/chainaudit-walkthrough.XXXXXX)}"
# dynalite accepts any credentials; real AWS would use your usual ones.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export CHAINAUDIT_DYNAMODB_ENDPOINT="$CHAINAUDIT_TEST_DYNAMODB_ENDPOINT"
PG="$CHAINAUDIT_TEST_PG_DSN"
TABLE="walkthrough_$$"
step() { printf '\n== %s\n' "$*" >&2; }

step "1. the demo: an export, its UMK, a migration signer and its trusted-keys file"
chainaudit demo "$D"

step "2. seed DynamoDB with it (the source store)"
chainaudit import "$D/export.ndjson" "dynamodb://$TABLE" --create

step "3. gate pre: verify the source fully, then sign a manifest of it"
chainaudit gate pre "dynamodb://$TABLE" --umk "$D/umk.hex" --trusted-keys "$D/trusted-keys.json" \
    --signing-key "$D/signer.key" -m "$D/manifest.json" --quiet

step "4. export the encrypted batch verbatim (no key needed)"
chainaudit export "dynamodb://$TABLE" -o "$D/batch.ndjson"

step "5. import it into PostgreSQL; every chain is bridged by a signed boundary event"
chainaudit import "$D/batch.ndjson" "$PG" --create --boundary-key "$D/signer.key" --manifest "$D/manifest.json"

step "6. gate post: the target holds exactly the manifest's records, every chain bridged"
chainaudit gate post "$PG" -m "$D/manifest.json" --trusted-keys "$D/trusted-keys.json" --umk "$D/umk.hex" --quiet

step "7. during dual writes: the stores agree (the boundary events exist in the target only, as notices)"
chainaudit diff "dynamodb://$TABLE" "$PG" --quiet

printf '\nAll gates passed. Files are in %s\n' "$D" >&2
