#!/usr/bin/env bash
# Writes a synthetic migration history that reads like a real one:
#   bench/gen-migrations.sh COUNT DIR
# DIR receives COUNT files named `<14-digit UTC timestamp>_<description>.sql` with dbmate's
# `-- migrate:up` / `-- migrate:down` markers, so that dbinit and dbmate run the same files.
# The mix: about 70% CREATE TABLE (a few columns, an index, a third of them with a foreign key to an
# earlier table), 15% ALTER TABLE ... ADD COLUMN, 15% INSERTs of a few rows into an earlier table.
# The SQL is valid on SQLite, PostgreSQL and MySQL/MariaDB alike. The output only depends on COUNT:
# the same COUNT always gives byte-identical files.
set -euo pipefail

count=${1:?usage: gen-migrations.sh COUNT DIR}
dir=${2:?usage: gen-migrations.sh COUNT DIR}
if [[ ! "$count" =~ ^[1-9][0-9]*$ ]]; then
  echo "gen-migrations: COUNT must be a positive number" >&2
  exit 2
fi

mkdir -p "$dir"
rm -f "$dir"/*.sql

nouns=(account customer order invoice product price payment shipment address session audit_log
       tag category review coupon refund warehouse supplier employee team project task comment
       attachment notification subscription plan feature webhook api_key report)
kinds=(VARCHAR INTEGER NUMERIC TIMESTAMP BOOLEAN TEXT)

RANDOM=20240601
export TZ=UTC
base=1609750800 # 2021-01-04 09:00:00 UTC
tables=()       # names of the tables created so far

# Sets `type` to a column definition for kind $1; $2 = alter: a constant default only (SQLite
# refuses ADD COLUMN with CURRENT_TIMESTAMP). Not called in a subshell: subshells reseed RANDOM.
column_type() {
  case $1 in
    VARCHAR) type="VARCHAR($((32 * (1 + RANDOM % 8))))" ;;
    INTEGER) type="INTEGER NOT NULL DEFAULT 0" ;;
    NUMERIC) type="NUMERIC(12,2)" ;;
    TIMESTAMP)
      type="TIMESTAMP DEFAULT CURRENT_TIMESTAMP"
      if [[ ${2:-} == alter ]]; then type="TIMESTAMP NULL"; fi
      ;;
    BOOLEAN) type="BOOLEAN NOT NULL DEFAULT FALSE" ;;
    TEXT) type="TEXT" ;;
  esac
}

for ((i = 1; i <= count; i++)); do
  printf -v version '%(%Y%m%d%H%M%S)T' $((base + i * 7919))
  printf -v seq '%04d' "$i"
  roll=$((RANDOM % 100))
  if ((${#tables[@]} < 3 || roll < 70)); then
    noun=${nouns[RANDOM % ${#nouns[@]}]}
    table="${noun}s_$seq"
    name="create_$table"
    columns=("  id INTEGER PRIMARY KEY" "  name VARCHAR(120) NOT NULL")
    extra=$((2 + RANDOM % 4))
    for ((c = 1; c <= extra; c++)); do
      kind=${kinds[RANDOM % ${#kinds[@]}]}
      column_type "$kind"
      columns+=("  ${kind,,}_$c $type")
    done
    columns+=("  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP")
    if ((${#tables[@]} > 0 && RANDOM % 3 == 0)); then
      parent=${tables[RANDOM % ${#tables[@]}]}
      columns+=("  parent_id INTEGER" "  FOREIGN KEY (parent_id) REFERENCES $parent (id)")
    fi
    body=$(printf '%s,\n' "${columns[@]}")
    up="CREATE TABLE $table (
${body%,}
);
CREATE INDEX ix_${table}_name ON $table (name);"
    down="DROP TABLE $table;"
    tables+=("$table")
  elif ((roll < 85)); then
    table=${tables[RANDOM % ${#tables[@]}]}
    kind=${kinds[RANDOM % ${#kinds[@]}]}
    column="${kind,,}_m$seq"
    name="add_${column}_to_$table"
    column_type "$kind" alter
    up="ALTER TABLE $table ADD COLUMN $column $type;"
    down="ALTER TABLE $table DROP COLUMN $column;"
  else
    table=${tables[RANDOM % ${#tables[@]}]}
    name="seed_$table"
    rows=()
    ids=()
    nrows=$((3 + RANDOM % 5))
    for ((r = 1; r <= nrows; r++)); do
      id=$((i * 100 + r))
      ids+=("$id")
      rows+=("  ($id, 'row $id of $table')")
    done
    values=$(printf '%s,\n' "${rows[@]}")
    id_list=$(
      IFS=,
      echo "${ids[*]}"
    )
    up="INSERT INTO $table (id, name) VALUES
${values%,};"
    down="DELETE FROM $table WHERE id IN ($id_list);"
  fi
  printf -- '-- migrate:up\n%s\n\n-- migrate:down\n%s\n' "$up" "$down" >"$dir/${version}_$name.sql"
done
