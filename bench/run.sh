#!/usr/bin/env bash
# Benchmarks dbinit against dbmate and against the engine's own shell (the floor), side by side:
#   bash bench/run.sh [--engine sqlite|postgres|mysql|all] [--dbinit PATH] [--runs N] [--rounds N]
#                     [--count N] [--scenarios LIST]
#     --engine  engine(s) to measure (default sqlite)
#     --dbinit  the binary to measure (default build/dbinit)
#     --runs    timing runs per command and scenario (default: 50 for the no-op; for a fresh
#               apply 15 on SQLite, 10 on PostgreSQL, 5 on MySQL)
#     --rounds  rounds the runs are split into, alternating the commands (default 3; 1 without jq)
#     --count   migrations in the generated history (default 1000)
#     --scenarios  comma-separated: noop, fresh, schema (default: all three)
# For every engine, these scenarios, each one hyperfine comparison:
#   noop   `up` on a database that already holds every migration: dbinit up, dbmate migrate, and a
#          minimal query through the engine's shell (the cost of starting a client and connecting);
#   fresh  the whole history on an empty database (made before each timed run): dbinit up,
#          dbmate up, and the concatenated up sections run by the engine's shell (sqlite3 in one
#          transaction, psql -1, mariadb);
#   schema the schema file (db/schema.sql) of the up-to-date database: `schema-load` builds an
#          empty database from it (dbinit up) against replaying the history (dbinit up
#          --no-schema-file) and the engine's shell loading the same file; `schema-dump` writes it
#          (dbinit schema --output -) against the engine's own schema dump (sqlite3 .schema,
#          pg_dump --schema-only, mariadb-dump --no-data --routines --triggers).
# PostgreSQL and MariaDB run as throw-away servers on loopback TCP with password authentication
# (tests/support/testserver). Results: bench/results/<engine>-<scenario>.{json,csv}, a summary on
# stdout and in bench/results/summary.md. Scratch files live in bench/work/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

usage() {
  sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

engines=sqlite
dbinit=build/dbinit
runs=""
rounds=3
count=1000
scenarios=noop,fresh,schema
while [[ $# -gt 0 ]]; do
  case "$1" in
    --engine) engines=${2:?--engine needs a value}; shift 2 ;;
    --engine=*) engines=${1#*=}; shift ;;
    --dbinit) dbinit=${2:?--dbinit needs a value}; shift 2 ;;
    --dbinit=*) dbinit=${1#*=}; shift ;;
    --runs) runs=${2:?--runs needs a value}; shift 2 ;;
    --runs=*) runs=${1#*=}; shift ;;
    --rounds) rounds=${2:?--rounds needs a value}; shift 2 ;;
    --rounds=*) rounds=${1#*=}; shift ;;
    --count) count=${2:?--count needs a value}; shift 2 ;;
    --count=*) count=${1#*=}; shift ;;
    --scenarios) scenarios=${2:?--scenarios needs a value}; shift 2 ;;
    --scenarios=*) scenarios=${1#*=}; shift ;;
    -h | --help) usage ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
case "$engines" in
  all) engines="sqlite postgres mysql" ;;
  sqlite | postgres | mysql) ;;
  *) echo "run.sh: --engine must be sqlite, postgres, mysql or all, not '$engines'" >&2; exit 2 ;;
esac
for name in ${scenarios//,/ }; do
  case "$name" in
    noop | fresh | schema) ;;
    *) echo "run.sh: --scenarios: unknown scenario '$name' (noop, fresh, schema)" >&2; exit 2 ;;
  esac
done
wants() { [[ ",$scenarios," == *",$1,"* ]]; }
positive() {
  if [[ ! "$2" =~ ^[1-9][0-9]*$ ]]; then
    echo "run.sh: $1 must be a positive number, not '$2'" >&2
    exit 2
  fi
}
[[ -z "$runs" ]] || positive --runs "$runs"
positive --rounds "$rounds"
positive --count "$count"

log() { echo "bench: $*" >&2; }

bash "$root/scripts/install-deps" bench
if [[ $rounds -gt 1 ]] && ! command -v jq >/dev/null; then
  log "jq is missing (Debian: jq): measuring in one round"
  rounds=1
fi

if [[ ! -x "$dbinit" ]]; then
  echo "run.sh: $dbinit is not an executable; build it first (make) or pass --dbinit PATH" >&2
  exit 2
fi
dbinit=$(realpath "$dbinit")

dbmate=$here/node_modules/@dbmate/linux-x64/bin/dbmate
if [[ ! -x "$dbmate" ]]; then
  log "installing dbmate into bench/node_modules"
  npm install --no-save --no-audit --no-fund --prefix "$here" dbmate >&2
fi
[[ -x "$dbmate" ]] || { echo "run.sh: dbmate's native binary $dbmate is missing" >&2; exit 1; }

work=$here/work
results=$here/results
mkdir -p "$work" "$results"

# Every DBINIT_*/DATABASE_URL setting of the caller would change what dbinit does.
while read -r name; do
  unset "$name"
done < <(compgen -e | grep -E '^(DBINIT_|DATABASE_URL|DBMATE_)' || true)

migrations=$work/migrations
log "generating $count migrations in $migrations"
bash "$here/gen-migrations.sh" "$count" "$migrations"
# The floor runs exactly the up sections, in version order (file names sort by version).
awk 'FNR == 1 { up = 0 } /^-- migrate:up/ { up = 1; next } /^-- migrate:down/ { up = 0 } up' \
  "$migrations"/*.sql >"$work/up.sql"
{
  # dbinit enforces foreign keys on SQLite; the shell does not unless asked.
  echo "PRAGMA foreign_keys=ON;"
  echo "BEGIN;"
  cat "$work/up.sql"
  echo "COMMIT;"
} >"$work/up-sqlite.sql"

# Quotes one argument for hyperfine, which splits commands like a POSIX shell (-N: no shell).
q() { printf '%q' "$1"; }

# Per engine, the functions used below (NAME is a database: a file on SQLite):
#   <engine>_url NAME [dbmate] the URL dbinit (or dbmate) uses
#   <engine>_query NAME SQL    runs SQL there and prints the result
#   <engine>_drop NAME         a command removing the database (hyperfine --prepare)
#   <engine>_recreate NAME     a command giving an empty database
#   <engine>_noop_floor NAME   the shell's minimal query on the up-to-date database
#   <engine>_fresh_floor NAME  the shell running the concatenated up sections on an empty database
#   <engine>_start / _stop     the server, if any

sqlite_start() { :; }
sqlite_stop() { :; }
sqlite_url() { echo "sqlite:$1.db"; }
sqlite_query() { sqlite3 "$1.db" "$2"; }
sqlite_drop() { echo "rm -f $1.db $1.db-journal $1.db-wal $1.db-shm"; }
sqlite_recreate() { sqlite_drop "$1"; }
# No server to reach: the floor starts the shell, opens the database and reads the ledger once.
sqlite_noop_floor() { echo "sqlite3 $1.db 'SELECT count(*) FROM dbinit_migrations'"; }
sqlite_fresh_floor() { echo "sqlite3 -bail $1.db '.read $(q "$work/up-sqlite.sql")'"; }
# The shell loading a schema file in one transaction, as dbinit does.
sqlite_schema_floor() { echo "sqlite3 -bail $1.db BEGIN '.read $(q "$2")' COMMIT"; }
sqlite_schema_dump() { echo "sqlite3 $1.db .schema"; }

# Starts a throw-away server; its URL is then in $server_dir/url.
start_server() {
  server_dir=$work/$1-server
  log "$1: starting a throw-away server"
  bash "$root/tests/support/testserver" start "$1" "$server_dir"
}

postgres_start() {
  start_server postgres
  local url
  url=$(cat "$server_dir/url")
  pg_base=${url%/*}
  # Debian's /usr/bin/psql is a Perl wrapper that costs more than the connection itself.
  psql=$(cat "$server_dir/bindir")/psql
  [[ -x "$psql" ]] || psql=psql
}
postgres_stop() { bash "$root/tests/support/testserver" stop postgres "$server_dir" || true; }
# The server has no TLS: say so, so that no client spends a round trip asking for it.
postgres_url() { echo "$pg_base/$1?sslmode=disable"; }
postgres_query() { "$psql" "$(postgres_url "$1")" -X -q -A -t -v ON_ERROR_STOP=1 -c "$2"; }
postgres_drop() {
  echo "$(q "$psql") $(q "$(postgres_url postgres)") -X -q" \
    "-c $(q "DROP DATABASE IF EXISTS $1 WITH (FORCE)")"
}
postgres_recreate() { echo "$(postgres_drop "$1") -c $(q "CREATE DATABASE $1")"; }
postgres_noop_floor() { echo "$(q "$psql") $(q "$(postgres_url "$1")") -X -q -c 'SELECT 1'"; }
postgres_fresh_floor() {
  echo "$(q "$psql") $(q "$(postgres_url "$1")") -X -q -1 -v ON_ERROR_STOP=1 -f $(q "$work/up.sql")"
}
postgres_schema_floor() {
  echo "$(q "$psql") $(q "$(postgres_url "$1")") -X -q -1 -v ON_ERROR_STOP=1 -f $(q "$2")"
}
postgres_schema_dump() {
  echo "$(q "$(dirname "$psql")/pg_dump") --schema-only -f /dev/null $(q "$(postgres_url "$1")")"
}

mysql_start() {
  start_server mysql
  local url rest userinfo hostport
  url=$(cat "$server_dir/url")
  rest=${url#*://}
  userinfo=${rest%%@*}
  hostport=${rest#*@}
  hostport=${hostport%%/*}
  my_base=${url%%://*}://$userinfo@$hostport
  # The shell reads the credentials from a file: no password on its command line. -A: no reading of
# every table and column name for completion, which it would otherwise do on connecting.
  my_cnf=$server_dir/client.cnf
  printf '[client]\nuser=%s\npassword=%s\nhost=%s\nport=%s\nprotocol=TCP\nskip-ssl\n' \
    "${userinfo%%:*}" "${userinfo#*:}" "${hostport%%:*}" "${hostport##*:}" >"$my_cnf"
  chmod 600 "$my_cnf"
}
mysql_stop() { bash "$root/tests/support/testserver" stop mysql "$server_dir" || true; }
# No TLS on loopback for any of the three: dbmate and the shell do not ask for it by default.
mysql_url() { [[ ${2:-} == dbmate ]] && echo "$my_base/$1" || echo "$my_base/$1?sslmode=disabled"; }
mysql_query() { mariadb --defaults-extra-file="$my_cnf" -A -N -B "$1" -e "$2"; }
mysql_shell() { echo "mariadb --defaults-extra-file=$(q "$my_cnf") -A"; }
mysql_drop() { echo "$(mysql_shell) -e $(q "DROP DATABASE IF EXISTS $1")"; }
mysql_recreate() {
  echo "$(mysql_shell) -e $(q "DROP DATABASE IF EXISTS $1; CREATE DATABASE $1")"
}
mysql_noop_floor() { echo "$(mysql_shell) $1 -e 'SELECT 1'"; }
mysql_fresh_floor() { echo "$(mysql_shell) $1 -e $(q "source $work/up.sql")"; }
mysql_schema_floor() { echo "$(mysql_shell) $1 -e $(q "source $2")"; }
mysql_schema_dump() {
  echo "mariadb-dump --defaults-extra-file=$(q "$my_cnf") --no-data --routines --triggers" \
    "--skip-dump-date --result-file=/dev/null $1"
}

dbinit_cmd() { echo "$(q "$dbinit") up --url $(q "$1") --dir $(q "$migrations")"; }
dbmate_cmd() {
  echo "$(q "$dbmate") --url $(q "$1") --migrations-dir $(q "$migrations") --no-dump-schema $2"
}

# Runs one scenario: hyperfine over dbinit, dbmate and the floor.
#   scenario ENGINE NAME RUNS WARMUP DBINIT DBMATE FLOOR [PREP_DBINIT PREP_DBMATE PREP_FLOOR]
# The prepare commands run before every run of their command (a new database for a fresh apply).
# hyperfine runs all runs of one command before the next one, so a change in the machine's load
# would favour one command; the runs are therefore split into rounds (--rounds) that alternate the
# three commands, and the rounds' runs are merged into one result per command.
scenario() {
  local engine=$1 name=$2 n=$3 warmup=$4
  local commands=(-n dbinit "$5" -n dbmate "$6" -n floor "$7")
  if [[ $# -gt 7 ]]; then commands+=(--prepare "$8" --prepare "$9" --prepare "${10}"); fi
  compare "$engine" "$name" "$n" "$warmup" "${commands[@]}"
}

# compare ENGINE NAME RUNS WARMUP HYPERFINE_ARGS...: hyperfine over the named commands of
# HYPERFINE_ARGS (-n NAME COMMAND ..., and --prepare COMMAND per command if any), in rounds.
compare() {
  local engine=$1 name=$2 n=$3 warmup=$4
  shift 4
  local json=$results/$engine-$name.json csv=$results/$engine-$name.csv
  local k=$rounds
  ((k > n)) && k=$n
  log "$engine $name: $n runs of each command in $k round(s)"
  if ((k == 1)); then
    hyperfine -N --style basic --warmup "$warmup" --runs "$n" \
      --export-json "$json" --export-csv "$csv" "$@"
    return
  fi
  local r parts=()
  for ((r = 0; r < k; r++)); do
    parts+=("$work/$engine-$name.round$r.json")
    hyperfine -N --style basic --warmup "$warmup" --runs "$((n / k + (r < n % k ? 1 : 0)))" \
      --export-json "${parts[r]}" "$@"
  done
  merge_rounds "${parts[@]}" >"$json"
  jq -r '"command,mean,stddev,median,user,system,min,max",
         (.results[] | [.command, .mean, .stddev, .median, .user, .system, .min, .max]
          | map(tostring) | join(","))' "$json" >"$csv"
  rm -f "${parts[@]}"
}

# Merges hyperfine JSON exports of the same commands: every run's time, and the statistics over
# all of them (user and system are hyperfine's per-run means, weighted by runs).
merge_rounds() {
  jq -s '{results: [range(0; .[0].results | length) as $i
    | [.[] | .results[$i]] as $r
    | ($r | map(.times) | add) as $t
    | ($t | length) as $n
    | ($t | add / $n) as $mean
    | ($t | sort) as $s
    | {command: $r[0].command,
       mean: $mean,
       stddev: (if $n > 1 then ($t | map((. - $mean) * (. - $mean)) | add / ($n - 1) | sqrt)
                else 0 end),
       median: (if $n % 2 == 1 then $s[($n - 1) / 2] else ($s[$n / 2 - 1] + $s[$n / 2]) / 2 end),
       user: ([$r[] | .user * (.times | length)] | add / $n),
       system: ([$r[] | .system * (.times | length)] | add / $n),
       min: $s[0],
       max: $s[-1],
       times: $t,
       exit_codes: ($r | map(.exit_codes) | add)}]}' "$@"
}

# check ENGINE WHAT DATABASE EXPECTED SQL: fails unless SQL prints EXPECTED.
check() {
  local got
  got=$("$1_query" "$3" "$5" | tr -d '[:space:]')
  if [[ "$got" != "$4" ]]; then
    echo "run.sh: $1: $2: expected $4, got '$got'" >&2
    return 1
  fi
}

bench_engine() {
  local engine=$1
  rm -rf "${work:?}/$engine"
  mkdir -p "$work/$engine"
  # No db/ folder, dbinit.toml or .env here: both tools run on their defaults and the flags.
  cd "$work/$engine"
  "${engine}_start"
  trap "${engine}_stop" EXIT

  log "$engine: preparing the up-to-date databases"
  # PostgreSQL's NOTICE about a database that was not there is noise here.
  {
    eval "$("${engine}_drop" noop_dbinit)"
    eval "$("${engine}_drop" noop_dbmate)"
  } 2>&1 | { grep -v '^NOTICE' || true; } >&2
  "$dbinit" -q up --url "$("${engine}_url" noop_dbinit)" --dir "$migrations"
  "$dbmate" --url "$("${engine}_url" noop_dbmate dbmate)" --migrations-dir "$migrations" \
    --no-dump-schema up >/dev/null
  check "$engine" "dbinit ledger" noop_dbinit "$count" 'SELECT count(*) FROM dbinit_migrations'
  check "$engine" "dbmate ledger" noop_dbmate "$count" 'SELECT count(*) FROM schema_migrations'

  local fresh_runs=${runs:-15}
  [[ $engine == postgres ]] && fresh_runs=${runs:-10}
  [[ $engine == mysql ]] && fresh_runs=${runs:-5}

  # What a complete run builds: the history's tables (dbinit keeps its state in dbinit_* tables).
  local tables expected
  case $engine in
    sqlite) tables="SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name" ;;
    postgres | mysql)
      tables="SELECT count(*) FROM information_schema.tables WHERE table_type = 'BASE TABLE'
              AND table_schema = $([[ $engine == mysql ]] && echo "DATABASE()" || echo "'public'")
              AND table_name"
      ;;
  esac
  tables+=" NOT LIKE 'dbinit%'"
  expected=$(grep -c '^CREATE TABLE' "$work/up.sql")

  if wants noop; then
    scenario "$engine" noop "${runs:-50}" 5 \
      "$(dbinit_cmd "$("${engine}_url" noop_dbinit)")" \
      "$(dbmate_cmd "$("${engine}_url" noop_dbmate dbmate)" migrate)" \
      "$("${engine}_noop_floor" noop_dbinit)"
  fi

  # Each gets an empty database made before the timed run (on SQLite: no file at all), so that
  # the three are compared on applying the history; CREATE DATABASE (a copy of template1 on
  # PostgreSQL) is not part of it.
  if wants fresh; then
    scenario "$engine" fresh "$fresh_runs" 1 \
      "$(dbinit_cmd "$("${engine}_url" fresh_dbinit)")" \
      "$(dbmate_cmd "$("${engine}_url" fresh_dbmate dbmate)" up)" \
      "$("${engine}_fresh_floor" fresh_floor)" \
      "$("${engine}_recreate" fresh_dbinit)" \
      "$("${engine}_recreate" fresh_dbmate)" \
      "$("${engine}_recreate" fresh_floor)"
    # The last runs must have built the same tables.
    check "$engine" "dbinit tables" fresh_dbinit "$expected" "$tables"
    check "$engine" "dbmate tables" fresh_dbmate "$((expected + 1))" "$tables"
    check "$engine" "floor tables" fresh_floor "$expected" "$tables"
  fi

  if wants schema; then
    local schema_file=$work/$engine/schema.sql
    "$dbinit" -q schema --url "$("${engine}_url" noop_dbinit)" --dir "$migrations" \
      --schema-file "$schema_file"
    local recorded
    recorded=$(grep -c '^INSERT INTO dbinit_migrations' "$schema_file")
    if [[ $recorded != "$count" ]]; then
      echo "run.sh: $engine: the schema file records $recorded migrations, not $count" >&2
      return 1
    fi
    compare "$engine" schema-load "$fresh_runs" 1 \
      -n "schema file" \
      "$(dbinit_cmd "$("${engine}_url" load_dbinit)") --schema-file $(q "$schema_file")" \
      -n replay "$(dbinit_cmd "$("${engine}_url" replay_dbinit)") --no-schema-file" \
      -n shell "$("${engine}_schema_floor" load_floor "$schema_file")" \
      --prepare "$("${engine}_recreate" load_dbinit)" \
      --prepare "$("${engine}_recreate" replay_dbinit)" \
      --prepare "$("${engine}_recreate" load_floor)"
    check "$engine" "schema file tables" load_dbinit "$expected" "$tables"
    check "$engine" "replayed tables" replay_dbinit "$expected" "$tables"
    check "$engine" "shell tables" load_floor "$expected" "$tables"
    check "$engine" "schema file ledger" load_dbinit "$count" 'SELECT count(*) FROM dbinit_migrations'
    compare "$engine" schema-dump "${runs:-20}" 3 \
      -n "dbinit schema" \
      "$(q "$dbinit") schema --url $(q "$("${engine}_url" noop_dbinit)") --dir $(q "$migrations") --output -" \
      -n "engine dump" "$("${engine}_schema_dump" noop_dbinit)"
  fi
}

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine: $(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME"), $(uname -r)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "dbinit: $("$dbinit" --version) ($dbinit)"
  echo "dbmate: $("$dbmate" --version)"
  echo "hyperfine: $(hyperfine --version)"
  echo "sqlite3: $(sqlite3 --version | cut -d' ' -f1)"
  echo "migrations: $count"
} >"$results/environment.txt"

failed=()
for engine in $engines; do
  for name in ${scenarios//,/ }; do
    [[ $name == schema ]] && name="schema-load schema-dump"
    for part in $name; do rm -f "$results/$engine-$part".{json,csv}; done
  done
  set +e
  (
    set -e
    bench_engine "$engine"
  )
  status=$?
  set -e
  if [[ $status -ne 0 ]]; then
    log "$engine: FAILED (exit $status); its results are incomplete"
    failed+=("$engine")
  fi
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$results/environment.txt"

# The summary, from hyperfine's CSV (seconds): wall-clock mean ± standard deviation per command,
# the ratios and the targets (dbmate/dbinit > 1: dbinit is faster); then the CPU time (user +
# system) of the measured process, which depends less on what else the machine runs (on
# PostgreSQL and MySQL it leaves out the server's work).
summarize() {
  local engine name csv
  if wants noop || wants fresh; then
    echo "| engine | scenario | dbinit | dbmate | floor | dbinit/floor | dbmate/dbinit | target |"
    echo "|---|---|---|---|---|---|---|---|"
    for engine in $engines; do
      for name in noop fresh; do
        wants "$name" || continue
        csv=$results/$engine-$name.csv
        if [[ ! -f "$csv" ]]; then
          echo "| $engine | $name | not measured (the run failed) | | | | | |"
          continue
        fi
        awk -F, -v engine="$engine" -v name="$name" '
          NR > 1 { mean[$1] = $2; sd[$1] = $3 }
          function fmt(c) { return sprintf("%.1f ± %.1f ms", mean[c] * 1000, sd[c] * 1000) }
          END {
            r_floor = mean["dbinit"] / mean["floor"]
            r_dbmate = mean["dbmate"] / mean["dbinit"]
            if (name == "noop") {
              need = engine == "sqlite" ? 3 : engine == "postgres" ? 2 : 1
              ok = engine == "mysql" ? r_dbmate > need : r_dbmate >= need
              target = sprintf("dbmate/dbinit %s %g", engine == "mysql" ? ">" : ">=", need)
            } else {
              need = engine == "sqlite" ? 1.3 : engine == "postgres" ? 1.2 : 1.1
              ok = r_floor <= need
              target = sprintf("dbinit/floor <= %g", need)
            }
            printf "| %s | %s | %s | %s | %s | %.2f | %.2f | %s: %s |\n", engine, name,
                   fmt("dbinit"), fmt("dbmate"), fmt("floor"), r_floor, r_dbmate, target,
                   ok ? "met" : "MISSED"
          }' "$csv"
      done
    done
    echo
    echo "| engine | scenario | CPU dbinit | CPU dbmate | CPU floor | dbinit/floor | dbmate/dbinit |"
    echo "|---|---|---|---|---|---|---|"
    for engine in $engines; do
      for name in noop fresh; do
        csv=$results/$engine-$name.csv
        [[ -f "$csv" ]] || continue
        awk -F, -v engine="$engine" -v name="$name" '
          NR > 1 { cpu[$1] = $5 + $6 }
          END {
            printf "| %s | %s | %.1f ms | %.1f ms | %.1f ms | %.2f | %.2f |\n", engine, name,
                   cpu["dbinit"] * 1000, cpu["dbmate"] * 1000, cpu["floor"] * 1000,
                   cpu["dbinit"] / cpu["floor"], cpu["dbmate"] / cpu["dbinit"]
          }' "$csv"
      done
    done
  fi
  wants schema || return 0
  echo
  echo "| engine | schema file: dbinit up | replay: dbinit up --no-schema-file | shell loading the file | replay/schema file | target |"
  echo "|---|---|---|---|---|---|"
  for engine in $engines; do
    csv=$results/$engine-schema-load.csv
    [[ -f "$csv" ]] || { echo "| $engine | not measured (the run failed) | | | | |"; continue; }
    awk -F, -v engine="$engine" '
      NR > 1 { mean[$1] = $2; sd[$1] = $3 }
      function fmt(c) { return sprintf("%.1f ± %.1f ms", mean[c] * 1000, sd[c] * 1000) }
      END {
        r = mean["replay"] / mean["schema file"]
        printf "| %s | %s | %s | %s | %.2f | replay/schema file >= 3: %s |\n", engine,
               fmt("schema file"), fmt("replay"), fmt("shell"), r, r >= 3 ? "met" : "MISSED"
      }' "$csv"
  done
  echo
  echo "| engine | dbinit schema | engine's schema dump | dbinit/dump | target |"
  echo "|---|---|---|---|---|"
  for engine in $engines; do
    csv=$results/$engine-schema-dump.csv
    [[ -f "$csv" ]] || { echo "| $engine | not measured (the run failed) | | | |"; continue; }
    awk -F, -v engine="$engine" '
      NR > 1 { mean[$1] = $2; sd[$1] = $3 }
      function fmt(c) { return sprintf("%.1f ± %.1f ms", mean[c] * 1000, sd[c] * 1000) }
      END {
        r = mean["dbinit schema"] / mean["engine dump"]
        printf "| %s | %s | %s | %.2f | dbinit/dump <= 1: %s |\n", engine, fmt("dbinit schema"),
               fmt("engine dump"), r, r <= 1 ? "met" : "MISSED"
      }' "$csv"
  done
}
summarize | tee "$results/summary.md"
cat "$results/environment.txt"
if [[ ${#failed[@]} -gt 0 ]]; then
  log "failed: ${failed[*]}"
  exit 1
fi
