#!/usr/bin/env bash
# Mutation testing of the verification core (issue 15; docs/mutation.md).
#
#   bash scripts/mutation.sh                 # every module of scripts/mutation-scope.txt
#   bash scripts/mutation.sh proof nonces    # some modules (name, stem or path)
#   bash scripts/mutation.sh --report        # the stored figures, nothing run
#   bash scripts/mutation.sh --survivors proof
#   bash scripts/mutation.sh --worktree gate # mutate uncommitted work, not HEAD
#
# Not part of scripts/test.sh: a full run takes hours on two cores. It needs no
# server (only tests outside the postgres/dynamodb/s3 markers run), installs
# mutmut into the current environment when missing, and mutates an exported
# copy of the tree under .mutation/ (git-ignored): the checkout is never
# modified, so no mutant can be left in it or committed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MUTMUT_VERSION="3.8.1"
if ! python3 -c "import mutmut, sys; sys.exit(mutmut.__version__ != '$MUTMUT_VERSION')" 2>/dev/null; then
    printf '[mutation.sh] installing mutmut %s\n' "$MUTMUT_VERSION" >&2
    python3 -m pip install -q --disable-pip-version-check "mutmut==$MUTMUT_VERSION"
fi

exec python3 scripts/mutation.py "$@"
