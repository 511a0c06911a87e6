#!/usr/bin/env bash
# Snapshots against each engine's own dump and restore tools, side by side in one run:
#   bash bench/snapshot.sh [--engine sqlite|postgres|mysql|all] [--dbinit PATH] [--rows N]
#                          [--runs N] [--big-values]
#     --engine  engine(s) to measure (default all)
#     --dbinit  the binary to measure (default build/dbinit)
#     --rows    rows in the table (default 3000000: about 355 MB as CSV)
#     --runs    timed runs per command (default 3)
#     --big-values  also dump and load a table of 50 MB values and report dbinit's peak memory
# The table: `items (id int primary key, b bigint, t text of 60 characters, ts timestamp,
# d double)` with an index on b. For each engine:
#   dump  dbinit dump against the engine's tools (sqlite3 .backup and .dump; pg_dump -Fc and
#         pg_dump -Fd -j2; mariadb-dump), with the size of what each wrote;
#   load  dbinit load into an empty database against the engine's restore (sqlite3 < .dump;
#         pg_restore -j2 and psql < plain dump; mariadb < dump), and on PostgreSQL dbinit's
#         template snapshot (dump --template, load);
# After every load the database is checked against the original (row count and sums over every
# column), so a fast wrong answer fails the run. dbinit's peak resident memory (GNU time) is
# reported for its dump and load. Results: bench/results/snapshot-<engine>-*.json and the summary
# in bench/results/snapshot-summary.md (snapshot-summary-<engine>.md for one engine). Scratch files live in bench/work/snapshot.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

usage() {
  sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

engines=all
dbinit=build/dbinit
rows=3000000
runs=3
big_values=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --engine) engines=${2:?--engine needs a value}; shift 2 ;;
    --dbinit) dbinit=${2:?--dbinit needs a value}; shift 2 ;;
    --rows) rows=${2:?--rows needs a value}; shift 2 ;;
    --runs) runs=${2:?--runs needs a value}; shift 2 ;;
    --big-values) big_values=1; shift ;;
    -h | --help) usage ;;
    *) echo "snapshot.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
case "$engines" in
  all) engines="sqlite postgres mysql" ;;
  sqlite | postgres | mysql) ;;
  *) echo "snapshot.sh: --engine must be sqlite, postgres, mysql or all" >&2; exit 2 ;;
esac
[[ "$rows" =~ ^[1-9][0-9]*$ ]] || { echo "snapshot.sh: --rows must be a positive number" >&2; exit 2; }
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "snapshot.sh: --runs must be a positive number" >&2; exit 2; }

log() { echo "bench: $*" >&2; }

bash "$root/scripts/install-deps" bench
[[ -x "$dbinit" ]] || { echo "snapshot.sh: build $dbinit first (make)" >&2; exit 2; }
dbinit=$(realpath "$dbinit")

work=$here/work/snapshot
results=$here/results
mkdir -p "$work" "$results"
while read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(DBINIT_|DATABASE_URL)' || true)
export DBINIT_ENV=development

q() { printf '%q' "$1"; }
# One summary per engine list: `--engine postgres` does not overwrite the others' results.
summary=$results/snapshot-summary$([[ $engines == *" "* ]] || echo "-$engines").md
{
  echo "# Snapshots: dbinit against the engines' own tools"
  echo
  echo "\`bash bench/snapshot.sh --rows $rows --runs $runs\` on $(nproc) cores, $(date -u +%Y-%m-%d)."
  echo "One table of $rows rows (id int primary key, b bigint, t text(60), ts timestamp, d double;"
  echo "an index on b). Mean of $runs runs; ratio = the tool's time / dbinit's time (above 1: dbinit"
  echo "is faster). Every load is checked against the original (row count and column sums)."
  echo
} >"$summary"

# compare ENGINE NAME -n NAME CMD [--prepare CMD] ...: hyperfine, then one table in the summary
# with each command's mean and its ratio to the first (dbinit's) command.
compare() {
  local engine=$1 name=$2
  shift 2
  local json=$results/snapshot-$engine-$name.json
  log "$engine $name"
  hyperfine -N --style basic --runs "$runs" --export-json "$json" "$@" >&2
  {
    echo "### $engine: $name"
    echo
    echo "| command | mean (s) | ratio to dbinit |"
    echo "|---|---:|---:|"
    jq -r '(.results[0].mean) as $d | .results[] |
      "| \(.command) | \(.mean * 1000 | round / 1000) | \(.mean / $d * 100 | round / 100) |"' "$json"
    echo
  } >>"$summary"
}

# rss LABEL COMMAND...: runs COMMAND once under GNU time and adds its peak memory to the summary.
rss() {
  local label=$1
  shift
  local out=$work/time.txt
  /usr/bin/time -f '%M %e' -o "$out" "$@" >/dev/null
  read -r kb seconds <"$out"
  echo "- $label: peak RSS $((kb / 1024)) MB, $seconds s" >>"$summary"
}

sizes() {
  echo "Sizes: $*" >>"$summary"
  echo >>"$summary"
}

# The check: count and sums over every column, the same text on every engine.
check_sql="SELECT count(*), sum(id), sum(b), round(sum(d)), sum(length(t)), count(ts) FROM items"

verify() {
  local engine=$1 db=$2 expected=$3 got
  got=$("${engine}_query" "$db" "$check_sql" | tr -s '[:space:]|' ' ' | sed 's/ *$//')
  if [[ "$got" != "$expected" ]]; then
    echo "snapshot.sh: $engine: $db differs from the original: '$got', expected '$expected'" >&2
    exit 1
  fi
}

# --- SQLite ------------------------------------------------------------------------------------
sqlite_query() { sqlite3 -separator ' ' "$work/sqlite/$1.db" "$2"; }

bench_sqlite() {
  local w=$work/sqlite
  rm -rf "$w"
  mkdir -p "$w"
  cd "$w"
  log "sqlite: building $rows rows"
  sqlite3 src.db "CREATE TABLE items (id INTEGER PRIMARY KEY, b BIGINT, t TEXT, ts TIMESTAMP, d DOUBLE);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
    INSERT INTO items SELECT i, i * 7919 % 1000003, printf('%060d', i * 31),
      datetime(1700000000 + i, 'unixepoch'), i / 7.0 FROM n;
    CREATE INDEX items_b ON items (b);"
  local expected
  expected=$(sqlite_query src "$check_sql" | tr -s '[:space:]|' ' ' | sed 's/ *$//')
  local url=sqlite:$w/src.db d="$(q "$dbinit") -q --backups $(q "$w/backups") --dir $(q "$w/migrations")"
  mkdir -p migrations
  sqlite3 src.db .dump >dump.sql
  compare sqlite dump \
    -n "dbinit dump" "$d --url $url dump --name b --force" \
    -n "sqlite3 .backup" "sqlite3 src.db '.backup backup.db'" \
    -n "sqlite3 .dump" "sqlite3 src.db '.output dump2.sql' .dump" \
    -n "dbinit dump --format sql" "$d --url $url dump --format sql --output $w/dbinit.sql"
  sizes "dbinit $(du -sb backups/b | cut -f1) B, .backup $(stat -c %s backup.db) B, .dump $(stat -c %s dump.sql) B"
  compare sqlite load \
    --prepare "rm -f $w/new.db $w/new.db-journal" -n "dbinit load" "$d --url sqlite:$w/new.db load b --no-migrate" \
    --prepare "rm -f $w/new.db $w/new.db-journal" -n "sqlite3 < .dump" "sqlite3 new.db '.read dump.sql'"
  rm -f new.db && $d --url "sqlite:$w/new.db" load b --no-migrate && verify sqlite new "$expected"
  rm -f new.db && sqlite3 new.db '.read dump.sql' && verify sqlite new "$expected"
  rss "dbinit dump" $d --url "$url" dump --name b --force
  rm -f new.db && rss "dbinit load" $d --url "sqlite:$w/new.db" load b --no-migrate
  verify sqlite new "$expected"
  if ((big_values)); then
    sqlite3 big.db "CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT);
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6)
      INSERT INTO big SELECT i, hex(randomblob(25000000)) FROM n;"
    rss "dbinit dump, 6 values of 50 MB" $d --url "sqlite:$w/big.db" dump --name big --force
    rm -f big2.db && rss "dbinit load, 6 values of 50 MB" $d --url "sqlite:$w/big2.db" load big --no-migrate
    rss "dbinit dump --format sql, 6 values of 50 MB" $d --url "sqlite:$w/big.db" dump --format sql --output "$w/big.sql"
  fi
}

# --- PostgreSQL --------------------------------------------------------------------------------
start_server() {
  server_dir=$work/$1-server
  bash "$root/tests/support/testserver" start "$1" "$server_dir" >&2
}

postgres_query() { "$pgbin/psql" "$pg_base/$1?sslmode=disable" -X -q -A -t -F ' ' -c "$2"; }

bench_postgres() {
  start_server postgres
  trap 'bash "$root/tests/support/testserver" stop postgres "$server_dir" || true' RETURN
  pgbin=$(cat "$server_dir/bindir")
  local url
  url=$(cat "$server_dir/url")
  pg_base=${url%/*}
  local w=$work/postgres
  rm -rf "$w"
  mkdir -p "$w/migrations"
  cd "$w"
  export PGPASSWORD
  PGPASSWORD=$(python3 -c 'import sys, urllib.parse as u; print(u.unquote(u.urlsplit(sys.argv[1]).password or ""))' "$url")
  local admin="$pgbin/psql $pg_base/postgres?sslmode=disable -X -q"
  $admin -c "DROP DATABASE IF EXISTS src WITH (FORCE)" -c "CREATE DATABASE src"
  log "postgres: building $rows rows"
  postgres_query src "CREATE TABLE items (id int PRIMARY KEY, b bigint, t text, ts timestamp, d double precision);
    INSERT INTO items SELECT i, i::bigint * 7919 % 1000003, lpad((i * 31)::text, 60, '0'),
      timestamp '2023-11-14 22:13:20' + i * interval '1 second', i / 7.0 FROM generate_series(1, $rows) i;
    CREATE INDEX items_b ON items (b);"
  postgres_query src "VACUUM ANALYZE items"
  local expected
  expected=$(postgres_query src "$check_sql" | tr -s '[:space:]|' ' ' | sed 's/ *$//')
  local src="$pg_base/src?sslmode=disable"
  local d="$(q "$dbinit") -q --backups $(q "$w/backups") --dir $(q "$w/migrations")"
  local recreate="$admin -c 'DROP DATABASE IF EXISTS new WITH (FORCE)' -c 'CREATE DATABASE new'"
  # hyperfine takes one --prepare for every command or one for each.
  compare postgres dump \
    --prepare true -n "dbinit dump" "$d --url $src dump --name b --force" \
    --prepare true -n "pg_dump -Fc" "$pgbin/pg_dump -Fc -f $w/dump.fc $src" \
    --prepare "rm -rf $w/dump.dir" -n "pg_dump -Fd -j2" "$pgbin/pg_dump -Fd -j2 -f $w/dump.dir $src" \
    --prepare true -n "pg_dump plain" "$pgbin/pg_dump -f $w/dump.sql $src" \
    --prepare true -n "dbinit dump --format sql" "$d --url $src dump --format sql --output $w/dbinit.sql"
  sizes "dbinit $(du -sb backups/b | cut -f1) B, pg_dump -Fc $(stat -c %s dump.fc) B, -Fd $(du -sb dump.dir | cut -f1) B, plain $(stat -c %s dump.sql) B"
  local new="$pg_base/new?sslmode=disable"
  compare postgres load \
    --prepare "bash -c $(q "$recreate")" -n "dbinit load" "$d --url $new load b --no-migrate" \
    --prepare "bash -c $(q "$recreate")" -n "pg_restore -j2" "$pgbin/pg_restore -j2 -d $new $w/dump.dir" \
    --prepare "bash -c $(q "$recreate")" -n "psql < plain dump" "$pgbin/psql $new -X -q -f $w/dump.sql"
  eval "$recreate" && $d --url "$new" load b --no-migrate && verify postgres new "$expected"
  eval "$recreate" && "$pgbin/pg_restore" -j2 -d "$new" dump.dir && verify postgres new "$expected"
  eval "$recreate" && rss "dbinit load" $d --url "$new" load b --no-migrate
  rss "dbinit dump" $d --url "$src" dump --name b --force
  # Template snapshots: a copy on the server, loaded by CREATE DATABASE ... TEMPLATE.
  $d --url "$src" dump --name tpl --force --template
  compare postgres template-load \
    --prepare "bash -c $(q "$recreate")" -n "dbinit load (template)" "$d --url $new load tpl --no-migrate" \
    --prepare "bash -c $(q "$recreate")" -n "pg_restore -j2" "$pgbin/pg_restore -j2 -d $new $w/dump.dir"
  eval "$recreate" && $d --url "$new" load tpl --no-migrate && verify postgres new "$expected"
  if ((big_values)); then
    $admin -c "DROP DATABASE IF EXISTS big WITH (FORCE)" -c "CREATE DATABASE big"
    postgres_query big "CREATE TABLE big (id int PRIMARY KEY, v text);
      ALTER TABLE big ALTER COLUMN v SET STORAGE EXTERNAL;
      INSERT INTO big SELECT i, repeat(md5(i::text), 1562500) FROM generate_series(1, 6) i;"
    rss "dbinit dump, 6 values of 50 MB" $d --url "$pg_base/big?sslmode=disable" dump --name big --force
    eval "$recreate" && rss "dbinit load, 6 values of 50 MB" $d --url "$new" load big --no-migrate
  fi
}

# --- MariaDB -----------------------------------------------------------------------------------
mysql_query() { mariadb --defaults-extra-file="$my_cnf" -A -N -B "$1" -e "$2"; }

bench_mysql() {
  start_server mysql
  trap 'bash "$root/tests/support/testserver" stop mysql "$server_dir" || true' RETURN
  local url rest userinfo hostport
  url=$(cat "$server_dir/url")
  rest=${url#*://}
  userinfo=${rest%%@*}
  hostport=${rest#*@}
  hostport=${hostport%%/*}
  local base=${url%%://*}://$userinfo@$hostport
  my_cnf=$work/mysql-client.cnf
  printf '[client]\nuser=%s\npassword=%s\nhost=%s\nport=%s\nprotocol=TCP\nskip-ssl\n' \
    "${userinfo%%:*}" "${userinfo#*:}" "${hostport%%:*}" "${hostport##*:}" >"$my_cnf"
  chmod 600 "$my_cnf"
  local w=$work/mysql
  rm -rf "$w"
  mkdir -p "$w/migrations"
  cd "$w"
  local shell="mariadb --defaults-extra-file=$my_cnf -A"
  $shell -e "DROP DATABASE IF EXISTS src; CREATE DATABASE src"
  log "mysql: building $rows rows"
  mysql_query src "CREATE TABLE items (id int PRIMARY KEY, b bigint, t text, ts timestamp NULL, d double);
    INSERT INTO items SELECT seq, seq * 7919 % 1000003, LPAD(seq * 31, 60, '0'),
      FROM_UNIXTIME(1700000000 + seq), seq / 7.0 FROM seq_1_to_$rows;
    CREATE INDEX items_b ON items (b);"
  local expected
  expected=$(mysql_query src "$check_sql" | tr -s '[:space:]|' ' ' | sed 's/ *$//')
  local d="$(q "$dbinit") -q --backups $(q "$w/backups") --dir $(q "$w/migrations")"
  local dump="mariadb-dump --defaults-extra-file=$my_cnf --single-transaction --routines --triggers"
  compare mysql dump \
    -n "dbinit dump" "$d --url $base/src dump --name b --force" \
    -n "mariadb-dump" "$dump --result-file=$w/dump.sql src" \
    -n "dbinit dump --format sql" "$d --url $base/src dump --format sql --output $w/dbinit.sql"
  sizes "dbinit $(du -sb backups/b | cut -f1) B, mariadb-dump $(stat -c %s dump.sql) B"
  local recreate="$shell -e 'DROP DATABASE IF EXISTS new; CREATE DATABASE new'"
  compare mysql load \
    --prepare "bash -c $(q "$recreate")" -n "dbinit load" "$d --url $base/new load b --no-migrate" \
    --prepare "bash -c $(q "$recreate")" -n "mariadb < dump" "$shell new -e $(q "source $w/dump.sql")"
  eval "$recreate" && $d --url "$base/new" load b --no-migrate && verify mysql new "$expected"
  eval "$recreate" && $shell new -e "source $w/dump.sql" && verify mysql new "$expected"
  eval "$recreate" && rss "dbinit load" $d --url "$base/new" load b --no-migrate
  rss "dbinit dump" $d --url "$base/src" dump --name b --force
  if ((big_values)); then
    $shell -e "SET GLOBAL max_allowed_packet = 1073741824"
    $shell -e "DROP DATABASE IF EXISTS big; CREATE DATABASE big"
    mysql_query big "CREATE TABLE big (id int PRIMARY KEY, v longtext);
      INSERT INTO big SELECT seq, REPEAT(MD5(seq), 1562500) FROM seq_1_to_6;"
    rss "dbinit dump, 6 values of 50 MB" $d --url "$base/big" dump --name big --force
    eval "$recreate" && rss "dbinit load, 6 values of 50 MB" $d --url "$base/new" load big --no-migrate
  fi
}

for engine in $engines; do
  echo "## $engine" >>"$summary"
  echo >>"$summary"
  "bench_$engine"
  cd "$root"
done
cat "$summary"
