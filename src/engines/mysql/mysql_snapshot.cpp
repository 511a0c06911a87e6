// Snapshots on mysql: dump, load and the plain SQL script (engines/snapshot.h).
//
// dump() reads everything inside one `START TRANSACTION WITH CONSISTENT SNAPSHOT` (REPEATABLE
// READ) on the engine's own connection: the ledger, the schema (SHOW CREATE text; tables keep
// their AUTO_INCREMENT counters) and each table's rows, read row by row (mysql_use_result) with
// character_set_results = binary and time_zone = '+00:00', so that every value arrives as the
// bytes stored. The folder holds:
// - `schema.txt`: records of length-prefixed fields (sequences, tables, routines, views in
//   dependency order, triggers in firing order, each with its sql_mode; see schema_text());
// - `table-NNNN.tsv.zst`: one per table, in LOAD DATA's default text format (tab between fields,
//   newline after rows, `\` escaping tab, newline, backslash and NUL, `\N` for NULL), Zstandard
//   level 1. FLOAT columns are read as `col + 0e0` (the double nearest the float, whose shortest
//   text converts back to the same float; plain SELECT prints six digits), BIT columns as numbers.
//
// load() builds the snapshot's tables in a scratch database `<db>_dbinit_load_<hex>` on the same
// server (same character set and collation), on a connection of its own that allows LOAD DATA
// LOCAL and serves only the snapshot's files, through a local infile handler that decompresses
// them as the server asks (no temporary file). Tables with a value over k_large_value go through
// multi-row INSERT statements instead: LOAD DATA grows a field's buffer a few KiB at a time. Row
// counts are checked. Then it swaps:
//   1. DROP the old triggers (they cannot move to another database), and old views whose names
//      the snapshot's tables take;
//   2. one RENAME TABLE moving every old table and sequence to `<db>_dbinit_old_<hex>` and every
//      new one from the scratch database into the database (atomic in MariaDB, crash-safe since
//      10.6: all or none of the list);
//   3. CREATE OR REPLACE the routines and the views, DROP the routines and views the snapshot
//      does not have, CREATE the triggers;
//   4. DROP both helper databases.
// What a failure or a kill -9 leaves: before step 1, the database as it was (a failure drops the
// scratch database, a kill leaves it to the next load, which drops the helper databases of this
// database first); during step 1, the old tables and data without some triggers; after step 2,
// the snapshot's tables and data with old or new routines and views and without some triggers;
// after step 3, exactly the snapshot (helper databases left to the next load). The database
// differs from "as before" and "the snapshot" only within steps 1 and 3, a few short DDL
// statements, and only when there are triggers, views in the way, or routines and views that
// differ.
//
// dump_sql() reads the same way (with utf8mb4 results) and writes what mariadb-dump writes: SET
// NAMES utf8mb4, TIME_ZONE '+00:00', checks off, SQL_MODE 'NO_AUTO_VALUE_ON_ZERO', sequences with
// SETVAL, tables (AUTO_INCREMENT kept) each followed by multi-row INSERTs of about 1 MiB (binary
// values as hex, FLOAT and BIT as numbers), routines and triggers in DELIMITER ;; blocks under
// their own sql_mode, views in dependency order.
//
// Sequences are restored at their next value not cached (next_not_cached_value), as mariadb-dump
// does: values the old server had cached are skipped, as after a restart.

#include "engines/snapshot.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>

#include "engines/mysql/libmariadb.h"
#include "engines/mysql/mysql_engine.h"
#include "util/error.h"
#include "util/sha256.h"

namespace dbinit {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_schema_file = "schema.txt";
constexpr std::string_view k_schema_magic = "dbinit mysql snapshot 1\n";
// Output is handed to the sink in blocks of about this size.
constexpr std::size_t k_block = 1 << 20;
// dump_sql: an INSERT statement ends after this many bytes of values.
constexpr std::size_t k_insert_bytes = 1 << 20;
constexpr std::int64_t k_progress_rows = 8192;
// Tables with a value larger than this are loaded with INSERT statements (see SnapTable).
constexpr std::uint64_t k_large_value = 2 << 20;

std::string backtick(std::string_view name) {
  return mysql_quote_identifier(name);
}

// --- Connections
// ----------------------------------------------------------------------------------

Error connection_error(MYSQL* conn, const std::string& where, std::string_view what) {
  const LibMariadb& api = libmariadb();
  const unsigned code = api.mysql_errno(conn);
  Error error(ErrorKind::failure, fmt::format("{}: {}", what, api.mysql_error(conn)));
  error.where = where;
  const std::string sqlstate = api.mysql_sqlstate(conn);
  error.code = sqlstate.empty() || sqlstate == "00000"
                   ? fmt::format("MySQL {}", code)
                   : fmt::format("MySQL {}, SQLSTATE {}", code, sqlstate);
  return error;
}

// Runs one statement on `conn` and discards its result; throws Error naming `what`.
void run(MYSQL* conn, const std::string& where, std::string_view sql) {
  const LibMariadb& api = libmariadb();
  if (api.mysql_real_query(conn, sql.data(), sql.size()) != 0) {
    throw connection_error(conn, where, fmt::format("{} failed", sql.substr(0, 200)));
  }
  while (true) {
    if (MYSQL_RES* result = api.mysql_use_result(conn)) api.mysql_free_result(result);
    int status = api.mysql_next_result(conn);
    if (status < 0) return;
    if (status > 0) throw connection_error(conn, where, "statement failed");
  }
}

// Runs `sql` and calls `on_row(row, lengths)` for each row as the server sends it.
template <typename OnRow>
void stream_rows(MYSQL* conn, const std::string& where, std::string_view sql, OnRow&& on_row) {
  const LibMariadb& api = libmariadb();
  if (api.mysql_real_query(conn, sql.data(), sql.size()) != 0) {
    throw connection_error(conn, where, "SELECT failed");
  }
  MYSQL_RES* result = api.mysql_use_result(conn);
  if (!result) throw connection_error(conn, where, "reading the rows failed");
  try {
    while (MYSQL_ROW row = api.mysql_fetch_row(result)) {
      on_row(row, api.mysql_fetch_lengths(result));
    }
  } catch (...) {
    api.mysql_free_result(result);  // reads the rest of the result away
    throw;
  }
  const bool failed = api.mysql_errno(conn) != 0;
  api.mysql_free_result(result);
  if (failed) throw connection_error(conn, where, "reading the rows failed");
}

// Rows of a small query on `conn`, NULL as nullopt.
std::vector<MysqlRow> rows_of(MYSQL* conn, const std::string& where, std::string_view sql) {
  const LibMariadb& api = libmariadb();
  if (api.mysql_real_query(conn, sql.data(), sql.size()) != 0) {
    throw connection_error(conn, where, "SELECT failed");
  }
  MYSQL_RES* result = api.mysql_store_result(conn);
  if (!result) throw connection_error(conn, where, "reading the rows failed");
  const unsigned columns = api.mysql_num_fields(result);
  std::vector<MysqlRow> rows;
  while (MYSQL_ROW row = api.mysql_fetch_row(result)) {
    unsigned long* lengths = api.mysql_fetch_lengths(result);
    MysqlRow out(columns);
    for (unsigned c = 0; c < columns; ++c) {
      if (row[c]) out[c] = std::string(row[c], lengths[c]);
    }
    rows.push_back(std::move(out));
  }
  api.mysql_free_result(result);
  return rows;
}

// --- The schema of a snapshot
// ---------------------------------------------------------------------

enum class ValueKind { number, text, binary, floating, bit };

struct SnapColumn {
  std::string name;
  ValueKind kind = ValueKind::text;
};

struct SnapTable {
  std::string name;
  std::string create;               // SHOW CREATE TABLE, AUTO_INCREMENT counter kept
  std::vector<SnapColumn> columns;  // the stored columns (generated ones are computed again)
  std::string file;
  std::int64_t rows = 0;
  // The largest value, in bytes: LOAD DATA grows its field buffer a few KiB at a time, which takes
  // minutes for a value of tens of MB, so tables with values above k_large_value are loaded with
  // INSERT statements instead.
  std::uint64_t largest_value = 0;
};

struct SnapObject {
  std::string kind;  // `sequence`, `routine`, `view`, `trigger`
  std::string name;
  std::string extra;  // routine: FUNCTION/PROCEDURE; trigger: its table; sequence: next value
  std::string sql_mode;
  std::string create;
};

struct SnapSchema {
  std::vector<SnapTable> tables;
  std::vector<SnapObject> objects;  // sequences, routines, views, triggers, in creation order
};

ValueKind value_kind(std::string_view type) {
  static const std::set<std::string_view> numbers = {"tinyint", "smallint", "mediumint", "int",
                                                     "bigint",  "decimal",  "double",    "year"};
  static const std::set<std::string_view> binaries = {
      "binary",       "varbinary",         "tinyblob",   "blob",
      "mediumblob",   "longblob",          "geometry",   "point",
      "linestring",   "polygon",           "multipoint", "multilinestring",
      "multipolygon", "geometrycollection"};
  if (type == "float") return ValueKind::floating;
  if (type == "bit") return ValueKind::bit;
  if (numbers.contains(type)) return ValueKind::number;
  if (binaries.contains(type)) return ValueKind::binary;
  return ValueKind::text;
}

const std::string& field(const MysqlRow& row, std::size_t column) {
  static const std::string empty;
  return column < row.size() && row[column] ? *row[column] : empty;
}

// Reads the schema inside the open transaction of `engine`: tables (dbinit's own included) with
// their stored columns, and the other objects from the schema model (definitions without DEFINER
// clauses, views in dependency order, triggers in firing order).
SnapSchema read_snapshot_schema(Engine& engine) {
  SnapSchema schema;
  auto query = [&](std::string_view sql) { return mysql_query(engine, sql); };
  std::map<std::string, std::size_t> by_name;
  for (const MysqlRow& row :
       query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
             "AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY BINARY TABLE_NAME")) {
    SnapTable table;
    table.name = field(row, 0);
    table.create = field(query("SHOW CREATE TABLE " + backtick(table.name)).at(0), 1);
    table.file = fmt::format("table-{:04}.tsv.zst", schema.tables.size() + 1);
    by_name[table.name] = schema.tables.size();
    schema.tables.push_back(std::move(table));
  }
  for (const MysqlRow& row :
       query("SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, EXTRA FROM information_schema.COLUMNS "
             "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION")) {
    auto table = by_name.find(field(row, 0));
    if (table == by_name.end()) continue;
    if (field(row, 3).find("GENERATED") != std::string::npos) continue;
    schema.tables[table->second].columns.push_back({field(row, 1), value_kind(field(row, 2))});
  }

  const SchemaModel model = k_mysql_schema_support.read(engine);
  std::map<std::string, std::string> routine_modes, trigger_modes;
  for (const MysqlRow& row :
       query("SELECT ROUTINE_TYPE, ROUTINE_NAME, SQL_MODE FROM information_schema.ROUTINES "
             "WHERE ROUTINE_SCHEMA = DATABASE()")) {
    routine_modes[field(row, 0) + " " + field(row, 1)] = field(row, 2);
  }
  for (const MysqlRow& row : query("SELECT TRIGGER_NAME, SQL_MODE FROM information_schema.TRIGGERS "
                                   "WHERE TRIGGER_SCHEMA = DATABASE()")) {
    trigger_modes[field(row, 0)] = field(row, 1);
  }
  for (const Sequence& sequence : model.sequences) {
    std::vector<MysqlRow> next =
        query("SELECT next_not_cached_value FROM " + backtick(sequence.name.name));
    schema.objects.push_back(
        {"sequence", sequence.name.name, field(next.at(0), 0), "", sequence.definition});
  }
  for (const Routine& routine : model.routines) {
    const std::string kind = routine.kind == RoutineKind::procedure ? "PROCEDURE" : "FUNCTION";
    schema.objects.push_back({"routine", routine.name.name, kind,
                              routine_modes[kind + " " + routine.name.name], routine.definition});
  }
  for (const View& view : model.views) {
    schema.objects.push_back({"view", view.name.name, "", "", view.definition});
  }
  for (const Trigger& trigger : model.triggers) {
    schema.objects.push_back({"trigger", trigger.name.name, trigger.table.name,
                              trigger_modes[trigger.name.name], trigger.definition});
  }
  return schema;
}

// schema.txt: the magic line, then records. A record is `<kind>\n` followed by its fields, each
// `<length>:<bytes>\n`, and ends with `.\n`.
void write_field(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += '\n';
}

std::string schema_text(const SnapSchema& schema) {
  std::string out(k_schema_magic);
  for (const SnapTable& table : schema.tables) {
    out += "table\n";
    write_field(out, table.name);
    write_field(out, table.create);
    write_field(out, table.file);
    write_field(out, std::to_string(table.rows));
    write_field(out, std::to_string(table.largest_value));
    for (const SnapColumn& column : table.columns) {
      write_field(out, column.name);
      write_field(out, std::to_string(static_cast<int>(column.kind)));
    }
    out += ".\n";
  }
  for (const SnapObject& object : schema.objects) {
    out += object.kind + "\n";
    write_field(out, object.name);
    write_field(out, object.extra);
    write_field(out, object.sql_mode);
    write_field(out, object.create);
    out += ".\n";
  }
  return out;
}

Error corrupt_schema(const fs::path& path, std::string_view what) {
  Error error(ErrorKind::failure,
              fmt::format("{} is not a mysql snapshot schema: {}", path.string(), what));
  error.where = path.string();
  error.state = "the database was not changed";
  error.hint = "take the snapshot again with `dbinit dump`";
  return error;
}

SnapSchema parse_schema(const fs::path& path, std::string_view text) {
  if (!text.starts_with(k_schema_magic)) throw corrupt_schema(path, "unknown first line");
  text.remove_prefix(k_schema_magic.size());
  SnapSchema schema;
  auto line = [&]() {
    std::size_t end = text.find('\n');
    if (end == std::string_view::npos) throw corrupt_schema(path, "truncated");
    std::string_view out = text.substr(0, end);
    text.remove_prefix(end + 1);
    return out;
  };
  auto read_field = [&]() {
    std::size_t colon = text.find(':');
    std::size_t length = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), length);
    if (colon == std::string_view::npos || ec != std::errc() || end != text.data() + colon ||
        text.size() < colon + 2 + length || text[colon + 1 + length] != '\n') {
      throw corrupt_schema(path, "bad field");
    }
    std::string out(text.substr(colon + 1, length));
    text.remove_prefix(colon + 2 + length);
    return out;
  };
  auto number = [&](const std::string& value) {
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end != value.data() + value.size()) {
      throw corrupt_schema(path, "bad number");
    }
    return n;
  };
  while (!text.empty()) {
    const std::string kind(line());
    if (kind == "table") {
      SnapTable table;
      table.name = read_field();
      table.create = read_field();
      table.file = read_field();
      table.rows = number(read_field());
      table.largest_value = static_cast<std::uint64_t>(number(read_field()));
      while (!text.starts_with(".\n")) {
        SnapColumn column;
        column.name = read_field();
        std::int64_t value_kind = number(read_field());
        if (value_kind < 0 || value_kind > static_cast<int>(ValueKind::bit)) {
          throw corrupt_schema(path, "bad column kind");
        }
        column.kind = static_cast<ValueKind>(value_kind);
        table.columns.push_back(std::move(column));
      }
      schema.tables.push_back(std::move(table));
    } else if (kind == "sequence" || kind == "routine" || kind == "view" || kind == "trigger") {
      SnapObject object;
      object.kind = kind;
      object.name = read_field();
      object.extra = read_field();
      object.sql_mode = read_field();
      object.create = read_field();
      schema.objects.push_back(std::move(object));
    } else {
      throw corrupt_schema(path, fmt::format("unknown record '{}'", kind));
    }
    if (line() != ".") throw corrupt_schema(path, "record not ended");
  }
  return schema;
}

// The SELECT list that reads the stored columns of `table` as a snapshot keeps them.
std::string select_list(const SnapTable& table) {
  std::string out;
  for (const SnapColumn& column : table.columns) {
    if (!out.empty()) out += ", ";
    const std::string name = backtick(column.name);
    if (column.kind == ValueKind::floating) {
      out += name + " + 0e0";
    } else if (column.kind == ValueKind::bit) {
      out += name + " + 0";
    } else {
      out += name;
    }
  }
  return out;
}

// --- dump
// ------------------------------------------------------------------------------------------

// Escapes one value for LOAD DATA's default format.
void append_escaped(std::string& out, const char* data, unsigned long length) {
  const char* end = data + length;
  const char* run_start = data;
  for (const char* p = data; p != end; ++p) {
    char replacement;
    switch (*p) {
      case '\\':
        replacement = '\\';
        break;
      case '\t':
        replacement = 't';
        break;
      case '\n':
        replacement = 'n';
        break;
      case '\0':
        replacement = '0';
        break;
      default:
        continue;
    }
    out.append(run_start, p);
    out += '\\';
    out += replacement;
    run_start = p + 1;
  }
  out.append(run_start, end);
}

// Runs `body` inside one consistent snapshot on the engine's connection, with the session read
// as snapshots need it; restores the session afterwards.
template <typename Body>
void in_snapshot(Engine& engine, Body&& body) {
  MYSQL* conn = mysql_connection(engine);
  const std::string where = mysql_where(engine);
  run(conn, where, "SET @dbinit_time_zone = @@session.time_zone");
  run(conn, where, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
  run(conn, where, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
  try {
    body(conn, where);
  } catch (...) {
    // Best effort: the error that ended the dump is the one to report.
    libmariadb().mysql_real_query(conn, "ROLLBACK", 8);
    constexpr std::string_view k_reset =
        "SET character_set_results = utf8mb4, time_zone = @dbinit_time_zone";
    libmariadb().mysql_real_query(conn, k_reset.data(), k_reset.size());
    throw;
  }
  run(conn, where, "COMMIT");
  run(conn, where, "SET character_set_results = utf8mb4, time_zone = @dbinit_time_zone");
}

SnapshotDump dump(Engine& engine, const fs::path& dir, SnapshotProgress& progress) {
  SnapshotDump result;
  result.server_version = engine.server_version();
  in_snapshot(engine, [&](MYSQL* conn, const std::string& where) {
    result.ledger = engine.read_ledger();
    SnapSchema schema = read_snapshot_schema(engine);
    run(conn, where, "SET character_set_results = binary, time_zone = '+00:00'");
    std::string block;
    block.reserve(k_block + (1 << 16));
    for (SnapTable& table : schema.tables) {
      progress.table(table.name, -1);
      FileSink sink(dir, table.file, {.zstd_level = 1, .zstd_workers = 1});
      std::int64_t rows = 0, pending_rows = 0;
      std::uint64_t largest = 0;
      std::uint64_t reported = 0;
      const std::size_t columns = table.columns.size();
      stream_rows(
          conn, where, fmt::format("SELECT {} FROM {}", select_list(table), backtick(table.name)),
          [&](MYSQL_ROW row, unsigned long* lengths) {
            for (std::size_t c = 0; c < columns; ++c) {
              if (c) block += '\t';
              if (row[c]) {
                append_escaped(block, row[c], lengths[c]);
                largest = std::max<std::uint64_t>(largest, lengths[c]);
              } else {
                block += "\\N";
              }
            }
            block += '\n';
            ++rows;
            if (++pending_rows == k_progress_rows || block.size() >= k_block) {
              sink.write(block);
              block.clear();
              progress.advance(pending_rows, static_cast<std::int64_t>(sink.bytes_in() - reported));
              reported = sink.bytes_in();
              pending_rows = 0;
            }
          });
      sink.write(block);
      block.clear();
      progress.advance(pending_rows, static_cast<std::int64_t>(sink.bytes_in() - reported));
      table.rows = rows;
      table.largest_value = largest;
      result.files.push_back(sink.finish());
      result.tables.push_back({table.name, rows});
    }
    FileSink sink(dir, std::string(k_schema_file), {});
    sink.write(schema_text(schema));
    result.files.push_back(sink.finish());
  });
  return result;
}

// --- load

void append_quoted(std::string& out, const char* data, unsigned long length);
// ------------------------------------------------------------------------------------------

// The local infile handler: LOAD DATA LOCAL INFILE '<file>' reads the snapshot's file `<file>`
// from the folder, decompressed as the server asks for it. Only files the load names are served.
struct InfileState {
  fs::path dir;
  std::set<std::string> allowed;
  // Per request:
  std::optional<FileSource> source;
  std::string_view pending;
  std::string error;
  SnapshotProgress* progress = nullptr;
  std::uint64_t reported = 0;
};

int infile_init(void** ptr, const char* filename, void* userdata) {
  auto* state = static_cast<InfileState*>(userdata);
  *ptr = state;
  state->error.clear();
  state->pending = {};
  state->reported = 0;
  if (!state->allowed.contains(filename)) {
    state->error =
        fmt::format("the server asked for the file '{}', which the load did not name", filename);
    return 1;
  }
  try {
    state->source.emplace(state->dir / filename, true);
  } catch (const std::exception& e) {
    state->error = e.what();
    return 1;
  }
  return 0;
}

int infile_read(void* ptr, char* buffer, unsigned int length) {
  auto* state = static_cast<InfileState*>(ptr);
  try {
    if (state->pending.empty()) state->pending = state->source->read();
    if (state->progress) {
      const std::uint64_t read = state->source->bytes_read();
      state->progress->advance(0, static_cast<std::int64_t>(read - state->reported));
      state->reported = read;
    }
    const std::size_t n = std::min<std::size_t>(length, state->pending.size());
    std::memcpy(buffer, state->pending.data(), n);
    state->pending.remove_prefix(n);
    return static_cast<int>(n);
  } catch (const std::exception& e) {
    state->error = e.what();
    return -1;
  }
}

void infile_end(void* ptr) {
  auto* state = static_cast<InfileState*>(ptr);
  if (state) state->source.reset();
}

int infile_error(void* ptr, char* buffer, unsigned int length) {
  auto* state = static_cast<InfileState*>(ptr);
  if (length > 0) {
    std::string message = state && !state->error.empty() ? state->error : "reading failed";
    std::size_t n = std::min<std::size_t>(message.size(), length - 1);
    std::memcpy(buffer, message.data(), n);
    buffer[n] = '\0';
  }
  return CR_UNKNOWN_ERROR;
}

// Closes a connection on every path.
struct Connection {
  MYSQL* conn = nullptr;
  ~Connection() {
    if (conn) libmariadb().mysql_close(conn);
  }
};

std::string literal(std::string_view value) {
  return k_mysql_schema_support.quote_literal(value);
}

// Names of the helper databases of loads into `database`: `<db>_dbinit_load_<hex>` and
// `<db>_dbinit_old_<hex>`, or with a hash of the name when that would pass 64 characters.
std::string helper_prefix(const std::string& database) {
  if (database.size() + 25 <= 64) return database + "_dbinit_";
  return "dbinit_" + sha256_hex(database).substr(0, 24) + "_";
}

std::string like_escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '_' || c == '%' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// Drops the helper databases a killed load left behind.
void drop_leftovers(MYSQL* conn, const std::string& where, const std::string& database) {
  const std::string prefix = like_escaped(helper_prefix(database));
  std::vector<std::string> names;
  stream_rows(
      conn, where,
      fmt::format("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME "
                  "LIKE {} OR SCHEMA_NAME LIKE {}",
                  literal(prefix + "load\\_________________"),
                  literal(prefix + "old\\_________________")),
      [&](MYSQL_ROW row, unsigned long* lengths) { names.emplace_back(row[0], lengths[0]); });
  for (const std::string& name : names)
    run(conn, where, "DROP DATABASE IF EXISTS " + backtick(name));
}

std::string random_hex() {
  std::random_device device;
  std::uniform_int_distribution<std::uint64_t> distribution;
  return fmt::format("{:016x}", distribution(device));
}

std::string read_whole(const fs::path& path) {
  FileSource source(path, false);
  std::string text;
  for (std::string_view piece = source.read(); !piece.empty(); piece = source.read()) {
    text += piece;
  }
  return text;
}

struct Existing {
  std::vector<std::string> tables;  // base tables and sequences
  std::vector<std::string> views;
  std::vector<std::pair<std::string, std::string>> routines;  // kind, name
  std::vector<std::string> triggers;
};

Existing existing_objects(MYSQL* conn, const std::string& where, const std::string& database) {
  Existing out;
  const std::string db = literal(database);
  auto each = [&](const std::string& sql, auto&& on_row) {
    stream_rows(conn, where, sql, [&](MYSQL_ROW row, unsigned long* lengths) {
      on_row(std::string(row[0], lengths[0]),
             row[1] ? std::string(row[1], lengths[1]) : std::string());
    });
  };
  each(fmt::format("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE "
                   "TABLE_SCHEMA = {}",
                   db),
       [&](std::string name, std::string type) {
         (type == "VIEW" ? out.views : out.tables).push_back(std::move(name));
       });
  each(fmt::format("SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE "
                   "ROUTINE_SCHEMA = {}",
                   db),
       [&](std::string name, std::string type) { out.routines.emplace_back(type, name); });
  each(fmt::format("SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS "
                   "WHERE TRIGGER_SCHEMA = {}",
                   db),
       [&](std::string name, std::string) { out.triggers.push_back(std::move(name)); });
  return out;
}

// Loads the rows of `table` from its file with multi-row INSERT statements of about k_block bytes
// (a row larger than that is one statement): each value as a `_binary` string, stored as the
// bytes it was read as, BIT columns as their numbers.
void insert_rows(MYSQL* conn, const std::string& where, const fs::path& dir, const SnapTable& table,
                 SnapshotProgress& progress) {
  FileSource source(dir / table.file, true);
  std::string head = "INSERT INTO " + backtick(table.name) + " (";
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    head += (c ? ", " : "") + backtick(table.columns[c].name);
  }
  head += ") VALUES ";
  std::string statement = head;
  std::string value;
  std::vector<std::optional<std::string>> row;
  bool escaped = false, null = false;
  std::int64_t rows = 0, pending = 0, loaded = 0;
  auto flush = [&] {
    if (pending == 0) return;
    if (libmariadb().mysql_real_query(conn, statement.data(), statement.size()) != 0) {
      throw connection_error(conn, where,
                             fmt::format("loading table {} failed", backtick(table.name)));
    }
    loaded += static_cast<std::int64_t>(libmariadb().mysql_affected_rows(conn));
    progress.advance(pending, 0);
    statement = head;
    pending = 0;
  };
  auto end_field = [&] {
    if (null) {
      row.emplace_back();
    } else {
      row.emplace_back(std::move(value));
    }
    value.clear();
    null = false;
  };
  auto end_row = [&] {
    if (row.size() != table.columns.size()) {
      Error error(ErrorKind::failure,
                  fmt::format("row {} of table {} has {} values, the table {} columns", rows + 1,
                              backtick(table.name), row.size(), table.columns.size()));
      error.where = (dir / table.file).string();
      throw error;
    }
    statement += pending ? ",(" : "(";
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (c) statement += ',';
      if (!row[c]) {
        statement += "NULL";
      } else if (table.columns[c].kind == ValueKind::bit) {
        statement += "CAST(" + literal(*row[c]) + " AS UNSIGNED)";
      } else {
        statement += "_binary";
        append_quoted(statement, row[c]->data(), row[c]->size());
      }
    }
    statement += ')';
    row.clear();
    ++rows;
    ++pending;
    if (statement.size() >= k_block) flush();
  };
  for (std::string_view piece = source.read(); !piece.empty(); piece = source.read()) {
    for (char c : piece) {
      if (escaped) {
        escaped = false;
        switch (c) {
          case '0':
            value += '\0';
            break;
          case 't':
            value += '\t';
            break;
          case 'n':
            value += '\n';
            break;
          case 'N':
            null = value.empty();
            if (!null) value += c;
            break;
          default:
            value += c;
        }
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '\t') {
        end_field();
      } else if (c == '\n') {
        end_field();
        end_row();
      } else {
        value += c;
      }
    }
  }
  flush();
  if (rows != table.rows || loaded != table.rows || !value.empty() || !row.empty()) {
    Error error(ErrorKind::failure,
                fmt::format("table {}: the snapshot has {} rows, {} were loaded",
                            backtick(table.name), table.rows, loaded));
    error.where = (dir / table.file).string();
    throw error;
  }
}

void load(Engine& engine, const fs::path& dir, const std::vector<WrittenFile>& files,
          SnapshotProgress& progress) {
  const std::string where = mysql_where(engine);
  // Only files the caller checked are read.
  std::set<std::string> checked;
  for (const WrittenFile& file : files) checked.insert(file.name);
  auto require = [&](const std::string& file) {
    if (checked.contains(file)) return;
    Error error(ErrorKind::failure, fmt::format("the snapshot's file list has no {}", file));
    error.where = dir.string();
    error.state = "the database was not changed";
    error.hint = "take the snapshot again with `dbinit dump`";
    throw error;
  };
  require(std::string(k_schema_file));
  const SnapSchema schema = parse_schema(dir / k_schema_file, read_whole(dir / k_schema_file));
  for (const SnapTable& table : schema.tables) require(table.file);
  const std::string database = field(mysql_query(engine, "SELECT DATABASE()").at(0), 0);
  const std::string quoted_db = backtick(database);

  Connection connection{mysql_connect_for_load(engine)};
  MYSQL* conn = connection.conn;
  InfileState infile;
  infile.dir = dir;
  infile.progress = &progress;
  for (const SnapTable& table : schema.tables) infile.allowed.insert(table.file);
  libmariadb().mysql_set_local_infile_handler(conn, infile_init, infile_read, infile_end,
                                              infile_error, &infile);

  drop_leftovers(conn, where, database);
  const std::string suffix = random_hex();
  const std::string scratch = helper_prefix(database) + "load_" + suffix;
  const std::string trash = helper_prefix(database) + "old_" + suffix;
  const std::string quoted_scratch = backtick(scratch);
  const std::string quoted_trash = backtick(trash);

  std::vector<MysqlRow> charset =
      rows_of(conn, where,
              fmt::format("SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
                          "information_schema.SCHEMATA WHERE SCHEMA_NAME = {}",
                          literal(database)));
  run(conn, where,
      "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO', time_zone = '+00:00', "
      "foreign_key_checks = 0, unique_checks = 0");
  // Not written to the binary log when the user may say so; replicas then get no copy of it.
  if (libmariadb().mysql_real_query(conn, "SET SESSION sql_log_bin = 0", 27) != 0) {
    // Without the privilege the load is logged as any other statements are.
  }

  auto fail_before_swap = [&](Error error) {
    error.state = "the database was not changed";
    libmariadb().mysql_real_query(conn, "ROLLBACK", 8);
    std::string drop = "DROP DATABASE IF EXISTS " + quoted_scratch;
    libmariadb().mysql_real_query(conn, drop.data(), drop.size());
    return error;
  };

  try {
    try {
      run(conn, where,
          fmt::format("CREATE DATABASE {} CHARACTER SET {} COLLATE {}", quoted_scratch,
                      field(charset.at(0), 0), field(charset.at(0), 1)));
    } catch (Error& error) {
      const unsigned code = libmariadb().mysql_errno(conn);
      if (code == ER_DBACCESS_DENIED_ERROR || code == ER_ACCESS_DENIED_ERROR) {
        error.hint = fmt::format(
            "a load builds the snapshot in a scratch database on the same server: grant the "
            "user all privileges on `{}%`.* as well as on the database",
            like_escaped(helper_prefix(database)));
      }
      throw;
    }
    if (libmariadb().mysql_select_db(conn, scratch.c_str()) != 0) {
      throw connection_error(conn, where, "cannot use the scratch database");
    }
    for (const SnapTable& table : schema.tables) run(conn, where, table.create);
    for (const SnapObject& object : schema.objects) {
      if (object.kind != "sequence") continue;
      run(conn, where, object.create);
      run(conn, where,
          fmt::format("SELECT SETVAL({}, {}, 0)", backtick(object.name), object.extra));
    }
    for (const SnapTable& table : schema.tables) {
      progress.table(table.name, table.rows);
      std::string columns, sets;
      int variable = 0;
      for (const SnapColumn& column : table.columns) {
        if (!columns.empty()) columns += ", ";
        if (column.kind == ValueKind::bit) {
          const std::string name = fmt::format("@dbinit_{}", ++variable);
          columns += name;
          sets += fmt::format("{}{} = CAST({} AS UNSIGNED)", sets.empty() ? " SET " : ", ",
                              backtick(column.name), name);
        } else {
          columns += backtick(column.name);
        }
      }
      if (table.largest_value > k_large_value) {
        insert_rows(conn, where, dir, table, progress);
        continue;
      }
      const std::string sql = fmt::format(
          "LOAD DATA LOCAL INFILE {} INTO TABLE {} CHARACTER SET binary FIELDS TERMINATED BY "
          "'\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({}){}",
          literal(table.file), backtick(table.name), columns, sets);
      if (libmariadb().mysql_real_query(conn, sql.data(), sql.size()) != 0) {
        Error error = connection_error(
            conn, where, fmt::format("loading table {} failed", backtick(table.name)));
        if (!infile.error.empty()) error.detail = infile.error;
        throw error;
      }
      const auto loaded = static_cast<std::int64_t>(libmariadb().mysql_affected_rows(conn));
      if (loaded != table.rows) {
        Error error(ErrorKind::failure,
                    fmt::format("table {}: the snapshot has {} rows, {} were loaded",
                                backtick(table.name), table.rows, loaded));
        error.where = (dir / table.file).string();
        throw error;
      }
      progress.advance(loaded, 0);
    }
  } catch (Error& error) {
    throw fail_before_swap(std::move(error));
  }

  // The swap. Old triggers cannot move to another database, and a view in the way of a new table
  // would stop the RENAME: they go first.
  const Existing old = existing_objects(conn, where, database);
  std::set<std::string> new_tables;
  for (const SnapTable& table : schema.tables) new_tables.insert(table.name);
  for (const SnapObject& object : schema.objects) {
    if (object.kind == "sequence") new_tables.insert(object.name);
  }
  std::string state = "the database was not changed";
  try {
    run(conn, where, "CREATE DATABASE " + quoted_trash);
    if (libmariadb().mysql_select_db(conn, database.c_str()) != 0) {
      throw connection_error(conn, where, "cannot use the database");
    }
    for (const std::string& trigger : old.triggers) {
      state = "the database holds its old tables and views, some of its triggers were dropped";
      run(conn, where, "DROP TRIGGER IF EXISTS " + quoted_db + "." + backtick(trigger));
    }
    for (const std::string& view : old.views) {
      if (!new_tables.contains(view)) continue;
      state = "the database holds its old tables; some triggers and views were dropped";
      run(conn, where, "DROP VIEW IF EXISTS " + quoted_db + "." + backtick(view));
    }
    std::string rename;
    for (const std::string& table : old.tables) {
      rename += fmt::format("{}{}.{} TO {}.{}", rename.empty() ? "" : ", ", quoted_db,
                            backtick(table), quoted_trash, backtick(table));
    }
    for (const std::string& table : new_tables) {
      rename += fmt::format("{}{}.{} TO {}.{}", rename.empty() ? "" : ", ", quoted_scratch,
                            backtick(table), quoted_db, backtick(table));
    }
    if (!rename.empty()) run(conn, where, "RENAME TABLE " + rename);
    state =
        "the database holds the snapshot's tables and data; its routines, views and triggers may "
        "be incomplete";
    run(conn, where, "SET SESSION sql_mode = ''");
    std::set<std::pair<std::string, std::string>> new_routines;
    std::set<std::string> new_views;
    for (const SnapObject& object : schema.objects) {
      if (object.kind == "routine") {
        new_routines.emplace(object.extra, object.name);
        run(conn, where, "SET SESSION sql_mode = " + literal(object.sql_mode));
        std::string create = object.create;
        if (create.starts_with("CREATE ")) create.insert(7, "OR REPLACE ");
        run(conn, where, create);
      } else if (object.kind == "view") {
        new_views.insert(object.name);
        std::string create = object.create;
        if (create.starts_with("CREATE ")) create.insert(7, "OR REPLACE ");
        run(conn, where, create);
      }
    }
    for (const auto& routine : old.routines) {
      if (new_routines.contains(routine)) continue;
      run(conn, where,
          fmt::format("DROP {} IF EXISTS {}.{}", routine.first, quoted_db,
                      backtick(routine.second)));
    }
    for (const std::string& view : old.views) {
      if (new_views.contains(view) || new_tables.contains(view)) continue;
      run(conn, where, "DROP VIEW IF EXISTS " + quoted_db + "." + backtick(view));
    }
    for (const SnapObject& object : schema.objects) {
      if (object.kind != "trigger") continue;
      run(conn, where, "SET SESSION sql_mode = " + literal(object.sql_mode));
      run(conn, where, object.create);
    }
    state = "the database holds the snapshot";
    run(conn, where, "DROP DATABASE " + quoted_trash);
    run(conn, where, "DROP DATABASE " + quoted_scratch);
  } catch (Error& error) {
    error.state = state;
    if (state == "the database was not changed") {
      throw fail_before_swap(std::move(error));
    }
    error.hint = "run the load again: it replaces everything, and drops the helper databases " +
                 scratch + " and " + trash;
    throw;
  }
}

// --- dump_sql
// ---------------------------------------------------------------------------------------

void append_quoted(std::string& out, const char* data, unsigned long length) {
  out += '\'';
  const char* end = data + length;
  const char* run_start = data;
  for (const char* p = data; p != end; ++p) {
    char replacement;
    switch (*p) {
      case '\\':
        replacement = '\\';
        break;
      case '\'':
        replacement = '\'';
        break;
      case '\n':
        replacement = 'n';
        break;
      case '\r':
        replacement = 'r';
        break;
      case '\0':
        replacement = '0';
        break;
      case '\x1a':
        replacement = 'Z';
        break;
      default:
        continue;
    }
    out.append(run_start, p);
    out += '\\';
    out += replacement;
    run_start = p + 1;
  }
  out.append(run_start, end);
  out += '\'';
}

void append_hex(std::string& out, const char* data, unsigned long length) {
  if (length == 0) {
    out += "''";
    return;
  }
  static constexpr char digits[] = "0123456789ABCDEF";
  out += "0x";
  for (unsigned long i = 0; i < length; ++i) {
    const auto byte = static_cast<unsigned char>(data[i]);
    out += digits[byte >> 4];
    out += digits[byte & 15];
  }
}

void dump_sql(Engine& engine, FileSink& out, SnapshotProgress& progress) {
  in_snapshot(engine, [&](MYSQL* conn, const std::string& where) {
    SnapSchema schema = read_snapshot_schema(engine);
    run(conn, where, "SET time_zone = '+00:00'");
    std::string block =
        "/*!40101 SET NAMES utf8mb4 */;\n"
        "/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE, TIME_ZONE='+00:00' */;\n"
        "/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;\n"
        "/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n"
        "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n\n";
    for (const SnapObject& object : schema.objects) {
      if (object.kind != "sequence") continue;
      block += object.create + ";\n";
      block += fmt::format("SELECT SETVAL({}, {}, 0);\n\n", backtick(object.name), object.extra);
    }
    for (SnapTable& table : schema.tables) {
      progress.table(table.name, -1);
      block += table.create + ";\n\n";
      std::string head = "INSERT INTO " + backtick(table.name) + " (";
      for (std::size_t c = 0; c < table.columns.size(); ++c) {
        head += (c ? ", " : "") + backtick(table.columns[c].name);
      }
      head += ") VALUES\n";
      std::size_t statement_start = std::string::npos;
      std::int64_t pending_rows = 0;
      std::uint64_t reported = out.bytes_in();
      const std::size_t columns = table.columns.size();
      stream_rows(
          conn, where, fmt::format("SELECT {} FROM {}", select_list(table), backtick(table.name)),
          [&](MYSQL_ROW row, unsigned long* lengths) {
            if (statement_start == std::string::npos) {
              statement_start = block.size();
              block += head;
            } else {
              block += ",\n";
            }
            block += '(';
            for (std::size_t c = 0; c < columns; ++c) {
              if (c) block += ',';
              if (!row[c]) {
                block += "NULL";
                continue;
              }
              switch (table.columns[c].kind) {
                case ValueKind::number:
                case ValueKind::floating:
                case ValueKind::bit:
                  block.append(row[c], lengths[c]);
                  break;
                case ValueKind::binary:
                  append_hex(block, row[c], lengths[c]);
                  break;
                case ValueKind::text:
                  append_quoted(block, row[c], lengths[c]);
                  break;
              }
            }
            block += ')';
            ++pending_rows;
            if (block.size() - statement_start >= k_insert_bytes) {
              block += ";\n";
              statement_start = std::string::npos;
            }
            if (statement_start == std::string::npos && block.size() >= k_block) {
              out.write(block);
              block.clear();
              progress.advance(pending_rows, static_cast<std::int64_t>(out.bytes_in() - reported));
              reported = out.bytes_in();
              pending_rows = 0;
            }
          });
      if (statement_start != std::string::npos) block += ";\n";
      block += '\n';
      out.write(block);
      block.clear();
      progress.advance(pending_rows, static_cast<std::int64_t>(out.bytes_in() - reported));
    }
    auto with_mode = [&](const SnapObject& object) {
      block += fmt::format("/*!50003 SET sql_mode = {} */;\nDELIMITER ;;\n{};;\nDELIMITER ;\n\n",
                           literal(object.sql_mode), object.create);
    };
    for (const SnapObject& object : schema.objects) {
      if (object.kind == "routine") with_mode(object);
    }
    block += "/*!40101 SET SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n";
    for (const SnapObject& object : schema.objects) {
      if (object.kind == "view") block += object.create + ";\n\n";
    }
    for (const SnapObject& object : schema.objects) {
      if (object.kind == "trigger") with_mode(object);
    }
    block +=
        "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n"
        "/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n"
        "/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;\n"
        "/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n";
    out.write(block);
  });
}

}  // namespace

const SnapshotSupport k_mysql_snapshot_support = {dump, load, dump_sql, nullptr, nullptr, nullptr};

}  // namespace dbinit
