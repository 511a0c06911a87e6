#!/usr/bin/env bash
# The example backend's container starts, on SQLite, as `make demo` shows them:
#   1. a first start restores the init dump into the empty database and applies the migrations,
#      then starts the server;
#   2. a second start finds nothing to do and starts the server at once;
#   3. an applied migration is edited: the start stops with a clear message, the server is not
#      started and the database is untouched;
#   4. `dbinit status` shows where things stand.
# It works on a copy of examples/backend in a temporary folder, so the repository is not changed.
set -uo pipefail
dbinit=$(realpath "${1:-build/dbinit}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/backend/." "$work/"
cd "$work"

bold=$(tput bold 2>/dev/null || true)
plain=$(tput sgr0 2>/dev/null || true)
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }
server=(sh -c 'echo "server: started as PID $$, database ready"')

step "1. First start: empty volume"
show "$dbinit" run -- "${server[@]}"

step "2. Second start: nothing to do"
show "$dbinit" run -- "${server[@]}"

step "3. Someone edits an applied migration"
show sed -i 's/value TEXT/value TEXT NOT NULL/' db/migrations/0001-create-table-test.sql
show "$dbinit" run -- "${server[@]}"
echo "(exit code $?: the server was not started)"

step "4. Status"
show "$dbinit" status
