#!/usr/bin/env bash
# Counts the instructions dbinit and the sqlite3 shell execute in the two SQLite scenarios of
# bench/run.sh, with valgrind's callgrind (deterministic, whatever else the machine runs):
#   bash bench/profile.sh [--dbinit PATH] [--count N] [--top N]
#     --dbinit  the binary to profile (default build/dbinit)
#     --count   migrations in the generated history (default 1000)
#     --top     functions listed per profile (default 40)
# Writes bench/results/callgrind/{noop,noop-floor,fresh,fresh-floor}.out and, for each, the
# inclusive costs from `callgrind_annotate --inclusive=yes` in a .txt next to it; prints the totals
# and the top of each list.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

dbinit=build/dbinit
count=1000
top=40
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dbinit) dbinit=${2:?--dbinit needs a value}; shift 2 ;;
    --count) count=${2:?--count needs a value}; shift 2 ;;
    --top) top=${2:?--top needs a value}; shift 2 ;;
    -h | --help) sed -n '2,7s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
    *) echo "profile.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ -x "$dbinit" ]] || { echo "profile.sh: $dbinit is not an executable" >&2; exit 2; }
dbinit=$(realpath "$dbinit")
if ! command -v valgrind >/dev/null; then
  echo "profile.sh: valgrind is missing (Debian: valgrind)" >&2
  exit 2
fi

work=$here/work/profile
out=$here/results/callgrind
rm -rf "$work"
mkdir -p "$work" "$out"
cd "$work"
while read -r name; do
  unset "$name"
done < <(compgen -e | grep -E '^(DBINIT_|DATABASE_URL)' || true)

bash "$here/gen-migrations.sh" "$count" migrations
{
  echo "PRAGMA foreign_keys=ON;"
  echo "BEGIN;"
  awk 'FNR == 1 { up = 0 } /^-- migrate:up/ { up = 1; next } /^-- migrate:down/ { up = 0 } up' \
    migrations/*.sql
  echo "COMMIT;"
} >up-sqlite.sql

# profile NAME COMMAND...: runs COMMAND under callgrind.
profile() {
  local name=$1
  shift
  echo "profile: $name: $*" >&2
  valgrind --tool=callgrind --callgrind-out-file="$out/$name.out" "$@" >/dev/null 2>"$out/$name.log"
  callgrind_annotate --inclusive=yes "$out/$name.out" >"$out/$name.txt" 2>/dev/null
}

profile fresh "$dbinit" up --url sqlite:fresh.db --dir migrations
profile fresh-floor sqlite3 -bail fresh-floor.db '.read up-sqlite.sql'
profile noop "$dbinit" up --url sqlite:fresh.db --dir migrations
profile noop-floor sqlite3 fresh.db 'SELECT count(*) FROM dbinit_migrations'

for name in noop noop-floor fresh fresh-floor; do
  echo
  echo "== $name: $(grep -m1 'PROGRAM TOTALS' "$out/$name.txt" | awk '{print $1}') instructions"
  awk -v top="$top" '/file:function/ { go = 1; getline; next } go && NF && n++ < top' \
    "$out/$name.txt" | cut -c1-160
done
