// Snapshots on postgres: dump, load and the plain SQL script (engines/snapshot.h).
//
// A snapshot folder holds:
//   pre-data.sql.zst   pg_dump --section=pre-data: schemas, extensions, types, functions, tables,
//                      sequences, views, comments, owners, privileges
//   post-data.sql.zst  pg_dump --section=post-data: indexes, constraints, triggers, rules,
//                      policies, materialized view refreshes
//   data-NNNN-CC.copy.zst  one table's rows (CC: a chunk of a large table), COPY binary format
//   sequences.sql      one setval() per sequence
//   tables.tsv         which data file fills which table with which columns, and its row count
// Both pg_dump runs and every data connection share one exported snapshot
// (https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-SNAPSHOT-SYNCHRONIZATION),
// so the files show the database at one moment while other sessions go on writing.

#include "engines/postgres/postgres_snapshot.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <unistd.h>

#include <fmt/format.h>

#include "engines/postgres/libpq.h"
#include "engines/postgres/pg_connection.h"
#include "engines/postgres/pg_process.h"
#include "engines/postgres/postgres_engine.h"
#include "engines/snapshot.h"
#include "util/error.h"

namespace dbinit {

namespace {

constexpr std::string_view k_pre_data_file = "pre-data.sql.zst";
constexpr std::string_view k_post_data_file = "post-data.sql.zst";
constexpr std::string_view k_sequences_file = "sequences.sql";
constexpr std::string_view k_tables_file = "tables.tsv";
/// Connections that copy tables out in parallel (each one a server process, plus a compression
/// thread here).
constexpr int k_dump_connections = 2;
/// Tables larger than twice this many pages (8 KiB each) are copied in block ranges (chunks) by
/// several connections at once; a chunk is at least this large.
constexpr std::int64_t k_chunk_min_pages = 4096;
constexpr std::size_t k_copy_send_bytes = 1 << 18;
constexpr std::size_t k_copy_batch_bytes = 1 << 18;
constexpr std::string_view k_load_state = "nothing was changed (the load was rolled back)";

std::mutex g_client_root_mutex;
std::filesystem::path g_client_root = "/usr/lib/postgresql";

struct ConnDeleter {
  void operator()(PGconn* conn) const { libpq().PQfinish(conn); }
};
using Conn = std::unique_ptr<PGconn, ConnDeleter>;

void ignore_notice(void*, const char*) {}

/// `text` as a string literal (standard_conforming_strings, which pg_dump's output sets too).
std::string quote_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += c;
  }
  return out + "'";
}

/// Runs `sql` on `conn` and returns its result; throws Error{failure} "<what>: <message>".
PgResult run(PGconn* conn, const std::string& sql, std::string_view what, const std::string& where,
             ExecStatusType expected = PGRES_COMMAND_OK) {
  PgResult result(libpq().PQexec(conn, sql.c_str()));
  const ExecStatusType status = result ? libpq().PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == expected || status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    return result;
  }
  std::string message = pg_error_field(result.get(), PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = pg_clean_message(libpq().PQerrorMessage(conn));
  const std::string state = pg_error_field(result.get(), PG_DIAG_SQLSTATE);
  Error error(pg_connection_lost(conn, state) ? ErrorKind::unreachable : ErrorKind::failure,
              fmt::format("{}: {}", what, message));
  error.where = where;
  if (!state.empty()) {
    error.code = "SQLSTATE " + state;
    error.hint = pg_resource_hint(state);
  }
  error.detail = pg_error_detail(result.get());
  error.statement = sql;
  throw error;
}

/// The connection parameters of `conn` as libpq used them, with the host and port it actually
/// reached (of a multi-host list): further connections must reach the same server, whose
/// snapshot they import.
std::vector<std::pair<std::string, std::string>> connection_parameters(PGconn* conn,
                                                                       bool env_names) {
  std::vector<std::pair<std::string, std::string>> out;
  PQconninfoOption* options = libpq().PQconninfo(conn);
  if (options != nullptr) {
    for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
      const std::string_view keyword = option->keyword;
      if (option->val == nullptr || *option->val == '\0') continue;
      if (keyword == "host" || keyword == "hostaddr" || keyword == "port") continue;
      if (env_names) {
        if (option->envvar == nullptr) continue;
        out.emplace_back(option->envvar, option->val);
      } else {
        out.emplace_back(keyword, option->val);
      }
    }
    libpq().PQconninfoFree(options);
  }
  const char* host = libpq().PQhost(conn);
  const char* port = libpq().PQport(conn);
  if (host != nullptr && *host != '\0') out.emplace_back(env_names ? "PGHOST" : "host", host);
  if (port != nullptr && *port != '\0') out.emplace_back(env_names ? "PGPORT" : "port", port);
  return out;
}

/// Another connection to the server and database of `conn`.
Conn connect_like(PGconn* conn, const std::string& where) {
  const auto parameters = connection_parameters(conn, false);
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [key, value] : parameters) {
    keywords.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  Conn other(libpq().PQconnectdbParams(keywords.data(), values.data(), 0));
  if (!other || libpq().PQstatus(other.get()) != CONNECTION_OK) {
    Error error(ErrorKind::unreachable,
                fmt::format("cannot open another connection to PostgreSQL: {}",
                            other ? pg_clean_message(libpq().PQerrorMessage(other.get()))
                                  : std::string("out of memory")));
    error.where = where;
    throw error;
  }
  libpq().PQsetNoticeProcessor(other.get(), ignore_notice, nullptr);
  return other;
}

/// The path of the pg_dump to use for a server of major version `major`.
std::string find_pg_dump(int major) {
  std::filesystem::path root;
  {
    std::lock_guard lock(g_client_root_mutex);
    root = g_client_root;
  }
  int best = 0;
  int newest_older = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    int version = 0;
    auto [ptr, error] = std::from_chars(name.data(), name.data() + name.size(), version);
    if (error != std::errc() || ptr != name.data() + name.size()) continue;
    if (::access((it->path() / "bin" / "pg_dump").c_str(), X_OK) != 0) continue;
    if (version < major) {
      newest_older = std::max(newest_older, version);
    } else if (best == 0 || version < best) {
      best = version;
    }
  }
  if (best != 0) return (root / std::to_string(best) / "bin" / "pg_dump").string();
  Error error(ErrorKind::config,
              newest_older != 0
                  ? fmt::format("pg_dump {} is older than the PostgreSQL {} server; snapshots "
                                "need pg_dump {} or newer",
                                newest_older, major, major)
                  : fmt::format("pg_dump of PostgreSQL {} or newer is not installed", major));
  error.where = (root / "<version>" / "bin" / "pg_dump").string();
  error.hint = fmt::format(
      "install the Debian package postgresql-client-{} (apt-get install "
      "postgresql-client-{})",
      major, major);
  throw error;
}

/// pg_dump of one section of the database of `conn` in the snapshot `snapshot_id`. The connection
/// goes through the environment (PGHOST, PGPASSWORD, ...), never the command line.
std::unique_ptr<PgProcess> start_pg_dump(const std::string& program, PGconn* conn,
                                         std::string_view section, const std::string& snapshot_id) {
  std::vector<std::string> env;
  for (const auto& [name, value] : connection_parameters(conn, true)) {
    env.push_back(name + "=" + value);
  }
  std::vector<std::string> argv = {program, "--no-password", "--format=plain",
                                   fmt::format("--section={}", section),
                                   "--snapshot=" + snapshot_id};
  return std::make_unique<PgProcess>(argv, env, fmt::format("pg_dump --section={}", section));
}

// --- The list of tables
// ---------------------------------------------------------------------------

/// One table whose rows a snapshot holds.
struct TableInfo {
  std::string schema;
  std::string name;
  /// The quoted column list that COPY names (generated columns left out), `"a", "b"`.
  std::string columns;
  std::int64_t pages = 0;
  std::int64_t estimated_rows = -1;

  std::string qualified() const {
    return pg_quote_identifier(schema) + "." + pg_quote_identifier(name);
  }
  std::string display() const { return schema + "." + name; }
};

/// Every ordinary table (partitions included, partitioned parents and extension members not) in
/// the current transaction's view, largest first.
std::vector<TableInfo> read_tables(PGconn* conn, const std::string& where) {
  PgResult result =
      run(conn,
          "SELECT n.nspname, c.relname, c.relpages, c.reltuples::bigint, "
          "coalesce((SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) "
          "FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 "
          "AND NOT a.attisdropped AND a.attgenerated = ''), '') "
          "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
          "WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' "
          "AND n.nspname !~ '^pg_(catalog$|toast|temp_)' "
          "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = "
          "'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') "
          "ORDER BY n.nspname, c.relname",
          "listing the tables failed", where);
  std::vector<TableInfo> tables;
  for (int row = 0; row < libpq().PQntuples(result.get()); ++row) {
    TableInfo table;
    table.schema = pg_text(result.get(), row, 0);
    table.name = pg_text(result.get(), row, 1);
    table.pages = std::atoll(pg_text(result.get(), row, 2).c_str());
    table.estimated_rows = std::atoll(pg_text(result.get(), row, 3).c_str());
    table.columns = pg_text(result.get(), row, 4);
    tables.push_back(std::move(table));
  }
  return tables;
}

/// `SELECT pg_catalog.setval(...)` for every sequence outside extensions, as pg_dump writes them.
std::string read_sequences(PGconn* conn, const std::string& where) {
  PgResult list =
      run(conn,
          "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) "
          "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
          "WHERE c.relkind = 'S' AND n.nspname <> 'information_schema' "
          "AND n.nspname !~ '^pg_(catalog$|toast|temp_)' "
          "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = "
          "'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') "
          "ORDER BY 1",
          "listing the sequences failed", where);
  std::string out;
  const int count = libpq().PQntuples(list.get());
  constexpr int k_batch = 200;
  for (int first = 0; first < count; first += k_batch) {
    std::string sql;
    for (int row = first; row < std::min(count, first + k_batch); ++row) {
      const std::string name = pg_text(list.get(), row, 0);
      if (!sql.empty()) sql += " UNION ALL ";
      sql +=
          fmt::format("SELECT {}::text, last_value, is_called FROM {}", quote_literal(name), name);
    }
    PgResult values = run(conn, sql, "reading the sequences failed", where);
    for (int row = 0; row < libpq().PQntuples(values.get()); ++row) {
      out += fmt::format(
          "SELECT pg_catalog.setval({}, {}, {});\n", quote_literal(pg_text(values.get(), row, 0)),
          pg_text(values.get(), row, 1), pg_text(values.get(), row, 2) == "t" ? "true" : "false");
    }
  }
  return out;
}

// --- tables.tsv
// -------------------------------------------------------------------------------------

/// One data file of a snapshot: which table it fills and with how many rows.
struct DataFile {
  std::string file;
  std::int64_t rows = 0;
  std::string schema;
  std::string table;
  std::string columns;

  std::string qualified() const {
    return pg_quote_identifier(schema) + "." + pg_quote_identifier(table);
  }
};

std::string escape_field(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string unescape_field(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char c = text[++i];
    out += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
  }
  return out;
}

std::string format_tables(const std::vector<DataFile>& files) {
  std::string out = "# file\trows\tschema\ttable\tcolumns\n";
  for (const DataFile& file : files) {
    out += fmt::format("{}\t{}\t{}\t{}\t{}\n", escape_field(file.file), file.rows,
                       escape_field(file.schema), escape_field(file.table),
                       escape_field(file.columns));
  }
  return out;
}

std::string read_whole(const std::filesystem::path& path, bool zstd) {
  FileSource source(path, zstd);
  std::string out;
  for (std::string_view piece = source.read(); !piece.empty(); piece = source.read()) {
    out.append(piece);
  }
  return out;
}

std::vector<DataFile> parse_tables(const std::string& text, const std::string& shown) {
  std::vector<DataFile> files;
  std::size_t pos = 0;
  int line_number = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string> fields;
    std::size_t start = 0;
    while (true) {
      const std::size_t tab = line.find('\t', start);
      fields.push_back(unescape_field(line.substr(start, tab - start)));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    std::int64_t rows = 0;
    if (fields.size() != 5 ||
        std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), rows).ec !=
            std::errc() ||
        fields[0].find('/') != std::string::npos || fields[0].empty()) {
      Error error(ErrorKind::failure, "the snapshot's table list is malformed");
      error.where = fmt::format("{} line {}", shown, line_number);
      error.hint = "the snapshot was not written by this version of dbinit; take a new one";
      throw error;
    }
    files.push_back({fields[0], rows, fields[2], fields[3], fields[4]});
  }
  return files;
}

// --- Dump
// -------------------------------------------------------------------------------------------

/// One COPY of a dump: a table, or a block range of a large one.
struct CopyJob {
  const TableInfo* table = nullptr;
  std::string file;
  /// Block range [first_page, last_page); -1: open.
  std::int64_t first_page = -1;
  std::int64_t last_page = -1;
  std::int64_t pages = 0;
  // Results.
  std::int64_t rows = 0;
  WrittenFile written;
};

std::string copy_out_sql(const CopyJob& job, bool binary) {
  const TableInfo& table = *job.table;
  const std::string format = binary ? " (FORMAT binary)" : "";
  if (job.first_page < 0 && job.last_page < 0) {
    return fmt::format("COPY {}{} TO STDOUT{}", table.qualified(),
                       table.columns.empty() ? "" : " (" + table.columns + ")", format);
  }
  // A TID range scan (PostgreSQL 14+) reads just the chunk's blocks.
  std::string condition;
  if (job.first_page >= 0) condition = fmt::format("ctid >= '({},0)'::tid", job.first_page);
  if (job.last_page >= 0) {
    if (!condition.empty()) condition += " AND ";
    condition += fmt::format("ctid < '({},0)'::tid", job.last_page);
  }
  return fmt::format("COPY (SELECT {} FROM ONLY {} WHERE {}) TO STDOUT{}", table.columns,
                     table.qualified(), condition, format);
}

/// What the copy threads tell the dumping thread, which reports it (SnapshotProgress is called
/// from that thread only).
struct ProgressQueue {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::pair<std::string, std::int64_t>> started;
  std::int64_t rows = 0;
  std::int64_t bytes = 0;
  int running = 0;
  std::exception_ptr failure;
};

/// Copies the rows `sql` selects from `conn` into `sink`; returns the row count. `on_bytes` sees
/// every piece's size.
template <typename OnBytes>
std::int64_t copy_out(PGconn* conn, const std::string& sql, FileSink& sink,
                      const std::string& where, std::string_view shown, OnBytes on_bytes) {
  PgResult start(libpq().PQexec(conn, sql.c_str()));
  if (libpq().PQresultStatus(start.get()) != PGRES_COPY_OUT) {
    run(conn, sql, fmt::format("copying {} failed", shown), where, PGRES_COPY_OUT);
    throw Error(ErrorKind::failure, fmt::format("copying {} did not start a copy", shown));
  }
  start.reset();
  // Rows arrive one per message, often of a hundred bytes: they go to the sink in large blocks,
  // each write() being a call into the compressor.
  std::string batch;
  batch.reserve(k_copy_batch_bytes + (1 << 16));
  while (true) {
    char* buffer = nullptr;
    const int n = libpq().PQgetCopyData(conn, &buffer, 0);
    if (n <= 0) break;
    batch.append(buffer, static_cast<std::size_t>(n));
    libpq().PQfreemem(buffer);
    if (batch.size() >= k_copy_batch_bytes) {
      sink.write(batch);
      on_bytes(static_cast<std::int64_t>(batch.size()));
      batch.clear();
    }
  }
  sink.write(batch);
  on_bytes(static_cast<std::int64_t>(batch.size()));
  PgResult done(libpq().PQgetResult(conn));
  while (PGresult* rest = libpq().PQgetResult(conn)) libpq().PQclear(rest);
  if (libpq().PQresultStatus(done.get()) != PGRES_COMMAND_OK) {
    std::string message = pg_error_field(done.get(), PG_DIAG_MESSAGE_PRIMARY);
    if (message.empty()) message = pg_clean_message(libpq().PQerrorMessage(conn));
    Error error(ErrorKind::failure, fmt::format("copying {} failed: {}", shown, message));
    error.where = where;
    const std::string state = pg_error_field(done.get(), PG_DIAG_SQLSTATE);
    if (!state.empty()) error.code = "SQLSTATE " + state;
    throw error;
  }
  const char* tuples = libpq().PQcmdTuples(done.get());
  return std::atoll(tuples);
}

/// Throws when the database holds large objects (pg_largeobject), which a snapshot does not carry:
/// better no snapshot than one that silently lacks them.
void refuse_large_objects(PGconn* conn, const std::string& where) {
  PgResult result = run(conn, "SELECT count(*) FROM pg_catalog.pg_largeobject_metadata",
                        "looking for large objects failed", where);
  const std::string count = pg_text(result.get(), 0, 0);
  if (count == "0") return;
  Error error(ErrorKind::failure,
              fmt::format("the database holds {} large objects (lo_create, lo_import), which "
                          "dbinit snapshots do not carry",
                          count));
  error.where = where;
  error.state = "nothing was written";
  error.hint = "back it up with pg_dump -Fc instead, or keep the data in bytea columns";
  throw error;
}

/// Begins the dump's transaction on `conn` and returns the id of its exported snapshot.
std::string begin_snapshot(PGconn* conn, const std::string& where) {
  run(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "starting the snapshot failed",
      where);
  try {
    // pg_dump's own settings for reading: no row security filtering (a table that would be
    // filtered is an error rather than a silent partial copy), and text output that any
    // session reads back the same (ISO dates, floats to the last digit).
    run(conn,
        "SET LOCAL row_security = off; SET LOCAL datestyle = ISO; "
        "SET LOCAL intervalstyle = postgres; SET LOCAL extra_float_digits = 3",
        "starting the snapshot failed", where);
    refuse_large_objects(conn, where);
    PgResult id =
        run(conn, "SELECT pg_catalog.pg_export_snapshot()", "exporting the snapshot failed", where);
    return pg_text(id.get(), 0, 0);
  } catch (...) {
    PgResult rollback(libpq().PQexec(conn, "ROLLBACK"));
    throw;
  }
}

/// Reads a pg_dump's output into `sink` on a thread of its own.
class DumpSection {
 public:
  DumpSection(std::unique_ptr<PgProcess> process, FileSink* sink)
      : m_process(std::move(process)), m_sink(sink) {
    m_thread = std::thread([this] {
      try {
        for (std::string_view piece = m_process->read(); !piece.empty();
             piece = m_process->read()) {
          m_sink->write(piece);
        }
        m_process->finish();
      } catch (...) {
        m_failure = std::current_exception();
      }
    });
  }
  ~DumpSection() {
    if (m_thread.joinable()) {
      m_process->terminate();  // ends the thread's read
      m_thread.join();
    }
  }
  /// Waits for pg_dump; rethrows its failure.
  void finish() {
    m_thread.join();
    if (m_failure) std::rethrow_exception(m_failure);
  }

 private:
  std::unique_ptr<PgProcess> m_process;
  FileSink* m_sink;
  std::thread m_thread;
  std::exception_ptr m_failure;
};

SnapshotDump postgres_dump(Engine& engine, const std::filesystem::path& dir,
                           SnapshotProgress& progress) {
  PGconn* conn = postgres_connection(engine).get();
  const std::string& where = postgres_where(engine);
  SnapshotDump dump;
  dump.server_version = engine.server_version();
  const std::string pg_dump = find_pg_dump(libpq().PQserverVersion(conn) / 10000);

  const std::string snapshot_id = begin_snapshot(conn, where);
  try {
    FileSink::Options compressed{1, 1};
    FileSink pre_sink(dir, std::string(k_pre_data_file), compressed);
    FileSink post_sink(dir, std::string(k_post_data_file), compressed);
    auto pre = std::make_unique<DumpSection>(start_pg_dump(pg_dump, conn, "pre-data", snapshot_id),
                                             &pre_sink);
    auto post = std::make_unique<DumpSection>(
        start_pg_dump(pg_dump, conn, "post-data", snapshot_id), &post_sink);

    dump.ledger = engine.read_ledger();
    std::vector<TableInfo> tables = read_tables(conn, where);

    // The jobs, largest first, so that the last ones to finish are small.
    std::vector<CopyJob> jobs;
    int table_number = 0;
    for (const TableInfo& table : tables) {
      ++table_number;
      const std::int64_t chunk_pages = std::max(
          k_chunk_min_pages, (table.pages + 2 * k_dump_connections - 1) / (2 * k_dump_connections));
      if (table.pages < 2 * k_chunk_min_pages || table.columns.empty()) {
        jobs.push_back(
            {&table, fmt::format("data-{:04}.copy.zst", table_number), -1, -1, table.pages, 0, {}});
        continue;
      }
      int chunk = 0;
      for (std::int64_t first = 0; first < table.pages; first += chunk_pages) {
        ++chunk;
        const bool last = first + chunk_pages >= table.pages;
        jobs.push_back({&table,
                        fmt::format("data-{:04}-{:02}.copy.zst", table_number, chunk),
                        first == 0 ? -1 : first,
                        last ? -1 : first + chunk_pages,
                        chunk_pages,
                        0,
                        {}});
      }
    }
    std::vector<std::size_t> order(jobs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return jobs[a].pages > jobs[b].pages; });

    ProgressQueue queue;
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    const int connections =
        static_cast<int>(std::min<std::size_t>(k_dump_connections, jobs.size()));
    std::vector<Conn> copiers;
    for (int i = 0; i < connections; ++i) {
      Conn copier = connect_like(conn, where);
      run(copier.get(),
          fmt::format("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT "
                      "{}; SET LOCAL row_security = off",
                      quote_literal(snapshot_id)),
          "importing the snapshot failed", where);
      copiers.push_back(std::move(copier));
    }
    std::vector<std::thread> threads;
    for (int i = 0; i < connections; ++i) {
      {
        std::lock_guard lock(queue.mutex);
        ++queue.running;
      }
      threads.emplace_back([&, copier = copiers[static_cast<std::size_t>(i)].get()] {
        try {
          while (!stop) {
            const std::size_t index = next++;
            if (index >= order.size()) break;
            CopyJob& job = jobs[order[index]];
            {
              std::lock_guard lock(queue.mutex);
              if (job.first_page < 0) {
                queue.started.emplace_back(job.table->display(), job.table->estimated_rows);
              }
            }
            FileSink sink(dir, job.file, compressed);
            job.rows = copy_out(copier, copy_out_sql(job, true), sink, where, job.table->display(),
                                [&](std::int64_t bytes) {
                                  std::lock_guard lock(queue.mutex);
                                  queue.bytes += bytes;
                                });
            job.written = sink.finish();
            std::lock_guard lock(queue.mutex);
            queue.rows += job.rows;
          }
        } catch (...) {
          stop = true;
          std::lock_guard lock(queue.mutex);
          if (!queue.failure) queue.failure = std::current_exception();
        }
        std::lock_guard lock(queue.mutex);
        --queue.running;
        queue.changed.notify_all();
      });
    }
    std::string sequences;
    std::exception_ptr failure;
    try {
      sequences = read_sequences(conn, where);
    } catch (...) {
      stop = true;
      failure = std::current_exception();
    }
    {
      std::int64_t reported_rows = 0;
      std::int64_t reported_bytes = 0;
      std::unique_lock lock(queue.mutex);
      while (true) {
        queue.changed.wait_for(lock, std::chrono::milliseconds(100));
        auto started = std::move(queue.started);
        queue.started.clear();
        const std::int64_t rows = queue.rows - reported_rows;
        const std::int64_t bytes = queue.bytes - reported_bytes;
        reported_rows = queue.rows;
        reported_bytes = queue.bytes;
        const bool done = queue.running == 0;
        lock.unlock();
        for (const auto& [name, expected] : started) progress.table(name, expected);
        if (rows != 0 || bytes != 0) progress.advance(rows, bytes);
        lock.lock();
        if (done) break;
      }
      if (!failure) failure = queue.failure;
    }
    for (std::thread& thread : threads) thread.join();
    if (failure) std::rethrow_exception(failure);
    copiers.clear();

    pre->finish();
    post->finish();
    dump.files.push_back(pre_sink.finish());
    dump.files.push_back(post_sink.finish());

    std::vector<DataFile> data_files;
    std::map<const TableInfo*, std::int64_t> rows;
    for (const CopyJob& job : jobs) {
      dump.files.push_back(job.written);
      data_files.push_back(
          {job.file, job.rows, job.table->schema, job.table->name, job.table->columns});
      rows[job.table] += job.rows;
    }
    for (const TableInfo& table : tables) dump.tables.push_back({table.display(), rows[&table]});

    FileSink sequence_sink(dir, std::string(k_sequences_file), {});
    sequence_sink.write(sequences);
    dump.files.push_back(sequence_sink.finish());
    FileSink table_sink(dir, std::string(k_tables_file), {});
    table_sink.write(format_tables(data_files));
    dump.files.push_back(table_sink.finish());

    run(conn, "COMMIT", "ending the snapshot failed", where);
  } catch (...) {
    PgResult rollback(libpq().PQexec(conn, "ROLLBACK"));
    throw;
  }
  return dump;
}

// --- Load
// -------------------------------------------------------------------------------------------

/// Drops every object of the database that is not the system's: extensions (but plpgsql), every
/// schema but public, everything in public, and the objects outside schemas that pg_dump writes
/// (casts, event triggers, publications, foreign-data wrappers, procedural languages). Public is
/// kept (its initial privileges, which pg_dump compares with, belong to it) and returned to what
/// a new database has: pg_dump writes only how public differs from that.
constexpr std::string_view k_clear_database = R"sql(DO $dbinit$
DECLARE
  r record;
  statement text;
  statements text[];
BEGIN
  -- Event triggers first: they would fire on the drops that follow.
  FOR r IN SELECT e.evtname FROM pg_catalog.pg_event_trigger e LOOP
    EXECUTE format('DROP EVENT TRIGGER IF EXISTS %I CASCADE', r.evtname);
  END LOOP;
  FOR r IN SELECT e.extname FROM pg_catalog.pg_extension e WHERE e.extname <> 'plpgsql' LOOP
    EXECUTE format('DROP EXTENSION IF EXISTS %I CASCADE', r.extname);
  END LOOP;
  FOR r IN SELECT n.nspname FROM pg_catalog.pg_namespace n
           WHERE n.nspname NOT IN ('public', 'information_schema') AND n.nspname !~ '^pg_' LOOP
    EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', r.nspname);
  END LOOP;
  FOR r IN SELECT p.pubname FROM pg_catalog.pg_publication p LOOP
    EXECUTE format('DROP PUBLICATION IF EXISTS %I CASCADE', r.pubname);
  END LOOP;
  FOR r IN SELECT c.castsource::regtype AS s, c.casttarget::regtype AS t
           FROM pg_catalog.pg_cast c WHERE c.oid >= 16384 LOOP
    EXECUTE format('DROP CAST IF EXISTS (%s AS %s) CASCADE', r.s, r.t);
  END LOOP;
  FOR r IN SELECT w.fdwname FROM pg_catalog.pg_foreign_data_wrapper w WHERE w.oid >= 16384 LOOP
    EXECUTE format('DROP FOREIGN DATA WRAPPER IF EXISTS %I CASCADE', r.fdwname);
  END LOOP;
  FOR r IN SELECT l.lanname FROM pg_catalog.pg_language l
           WHERE l.oid >= 16384 AND l.lanname <> 'plpgsql' LOOP
    EXECUTE format('DROP LANGUAGE IF EXISTS %I CASCADE', r.lanname);
  END LOOP;
  IF to_regnamespace('public') IS NULL THEN
    CREATE SCHEMA public;
  END IF;
  -- Every statement is made before the first drop, which may take others with it (IF EXISTS).
  -- Objects that belong to another (a column's sequence) go with their owner.
  SELECT array_agg(format('DROP %s IF EXISTS %s CASCADE',
                          CASE i.type WHEN 'statistics object' THEN 'STATISTICS'
                                      WHEN 'composite type' THEN 'TYPE'
                                      ELSE upper(i.type) END,
                          i.identity) ORDER BY d.classid, d.objid DESC)
    INTO statements
    FROM pg_catalog.pg_depend d, pg_catalog.pg_identify_object(d.classid, d.objid, 0) i
    WHERE d.refclassid = 'pg_catalog.pg_namespace'::regclass
      AND d.refobjid = 'public'::regnamespace AND d.deptype = 'n'
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend o
                      WHERE o.classid = d.classid AND o.objid = d.objid AND o.objsubid = 0
                        AND o.deptype IN ('a', 'i', 'e')
                        AND (o.refclassid, o.refobjid) <> (o.classid, o.objid));
  FOREACH statement IN ARRAY coalesce(statements, '{}') LOOP
    EXECUTE statement;
  END LOOP;
  ALTER SCHEMA public OWNER TO pg_database_owner;
  FOR r IN SELECT DISTINCT a.grantee
           FROM pg_catalog.pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = 'public' LOOP
    EXECUTE format('REVOKE ALL ON SCHEMA public FROM %s CASCADE',
                   CASE r.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(r.grantee::regrole::text) END);
  END LOOP;
  FOR r IN SELECT a.grantee, string_agg(a.privilege_type, ', ') AS privileges
           FROM pg_catalog.pg_init_privs p, aclexplode(p.initprivs) a
           WHERE p.objoid = 'public'::regnamespace
             AND p.classoid = 'pg_catalog.pg_namespace'::regclass
           GROUP BY a.grantee ORDER BY min(a.grantee) = 0 LOOP
    EXECUTE format('GRANT %s ON SCHEMA public TO %s', r.privileges,
                   CASE r.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(r.grantee::regrole::text) END);
  END LOOP;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_init_privs p
                 WHERE p.objoid = 'public'::regnamespace
                   AND p.classoid = 'pg_catalog.pg_namespace'::regclass) THEN
    GRANT USAGE ON SCHEMA public TO PUBLIC;
  END IF;
  COMMENT ON SCHEMA public IS 'standard public schema';
END
$dbinit$)sql";

/// Session settings for the load's bulk work, inside its transaction.
constexpr std::string_view k_load_settings =
    "SET LOCAL maintenance_work_mem = '512MB'; SET LOCAL max_parallel_maintenance_workers = 4";

const WrittenFile* find_file(const std::vector<WrittenFile>& files, std::string_view name) {
  for (const WrittenFile& file : files) {
    if (file.name == name) return &file;
  }
  return nullptr;
}

void require_file(const std::vector<WrittenFile>& files, std::string_view name,
                  const std::filesystem::path& dir) {
  if (find_file(files, name) != nullptr) return;
  Error error(ErrorKind::failure,
              fmt::format("the snapshot has no file {}, which a PostgreSQL snapshot needs", name));
  error.where = dir.string();
  error.hint = "the snapshot is incomplete or of another engine; take a new one with dbinit dump";
  throw error;
}

/// Streams the data file `file` into its table through COPY FROM STDIN on `conn`.
void copy_in(PGconn* conn, const std::filesystem::path& dir, const DataFile& file,
             const std::string& where, SnapshotProgress& progress) {
  const std::string sql =
      fmt::format("COPY {}{} FROM STDIN (FORMAT binary, FREEZE)", file.qualified(),
                  file.columns.empty() ? std::string() : " (" + file.columns + ")");
  const std::string shown = fmt::format("{}.{}", file.schema, file.table);
  PgResult start(libpq().PQexec(conn, sql.c_str()));
  if (libpq().PQresultStatus(start.get()) != PGRES_COPY_IN) {
    run(conn, sql, fmt::format("loading {} failed", shown), where, PGRES_COPY_IN);
    throw Error(ErrorKind::failure, fmt::format("loading {} did not start a copy", shown));
  }
  start.reset();
  std::string local_failure;
  std::exception_ptr read_failure;
  try {
    FileSource source(dir / file.file, true);
    std::uint64_t reported = 0;
    for (std::string_view piece = source.read(); !piece.empty(); piece = source.read()) {
      while (!piece.empty()) {
        const std::string_view part = piece.substr(0, k_copy_send_bytes);
        if (libpq().PQputCopyData(conn, part.data(), static_cast<int>(part.size())) != 1) {
          local_failure = pg_clean_message(libpq().PQerrorMessage(conn));
          break;
        }
        piece.remove_prefix(part.size());
      }
      if (!local_failure.empty()) break;
      progress.advance(0, static_cast<std::int64_t>(source.bytes_read() - reported));
      reported = source.bytes_read();
    }
  } catch (...) {
    read_failure = std::current_exception();
    local_failure = "reading the snapshot file failed";
  }
  libpq().PQputCopyEnd(conn, local_failure.empty() ? nullptr : local_failure.c_str());
  PgResult done(libpq().PQgetResult(conn));
  while (PGresult* rest = libpq().PQgetResult(conn)) libpq().PQclear(rest);
  if (read_failure) std::rethrow_exception(read_failure);
  if (libpq().PQresultStatus(done.get()) != PGRES_COMMAND_OK) {
    std::string message = pg_error_field(done.get(), PG_DIAG_MESSAGE_PRIMARY);
    if (message.empty()) message = pg_clean_message(libpq().PQerrorMessage(conn));
    const std::string state = pg_error_field(done.get(), PG_DIAG_SQLSTATE);
    Error error(pg_connection_lost(conn, state) ? ErrorKind::unreachable : ErrorKind::failure,
                fmt::format("loading {} from {} failed: {}", shown, file.file, message));
    error.where = where;
    if (!state.empty()) error.code = "SQLSTATE " + state;
    error.detail = pg_error_detail(done.get());
    throw error;
  }
  progress.advance(std::atoll(libpq().PQcmdTuples(done.get())), 0);
}

void postgres_load(Engine& engine, const std::filesystem::path& dir,
                   const std::vector<WrittenFile>& files, SnapshotProgress& progress) {
  for (std::string_view name :
       {k_pre_data_file, k_post_data_file, k_sequences_file, k_tables_file}) {
    require_file(files, name, dir);
  }
  const std::string tables_text = read_whole(dir / k_tables_file, false);
  const std::vector<DataFile> data_files =
      parse_tables(tables_text, (dir / k_tables_file).string());
  for (const DataFile& file : data_files) require_file(files, file.file, dir);
  const std::string pre_data = read_whole(dir / k_pre_data_file, true);
  const std::string post_data = read_whole(dir / k_post_data_file, true);
  const std::string sequences = read_whole(dir / k_sequences_file, false);

  PGconn* conn = postgres_connection(engine).get();
  const std::string& where = postgres_where(engine);
  engine.begin();
  try {
    run(conn, std::string(k_clear_database), "emptying the database failed", where);
    engine.restore({pre_data, (dir / k_pre_data_file).string(), 1});
    run(conn, std::string(k_load_settings), "setting up the load failed", where);
    std::string previous;
    for (const DataFile& file : data_files) {
      const std::string name = file.schema + "." + file.table;
      if (name != previous) progress.table(name, file.rows);
      previous = name;
      copy_in(conn, dir, file, where, progress);
    }
    if (!sequences.empty()) {
      engine.restore({sequences, (dir / k_sequences_file).string(), 1});
    }
    run(conn, std::string(k_load_settings), "setting up the load failed", where);
    engine.restore({post_data, (dir / k_post_data_file).string(), 1});
    engine.commit();
  } catch (Error& error) {
    engine.rollback();
    if (error.kind() != ErrorKind::in_doubt && error.state.empty()) {
      error.state = std::string(k_load_state);
    }
    throw;
  } catch (...) {
    engine.rollback();
    throw;
  }
}

// --- The plain SQL script ------------------------------------------------------------------------

void postgres_dump_sql(Engine& engine, FileSink& out, SnapshotProgress& progress) {
  PGconn* conn = postgres_connection(engine).get();
  const std::string& where = postgres_where(engine);
  const std::string pg_dump = find_pg_dump(libpq().PQserverVersion(conn) / 10000);
  const std::string snapshot_id = begin_snapshot(conn, where);
  try {
    auto pre = start_pg_dump(pg_dump, conn, "pre-data", snapshot_id);
    // The post-data section waits in its pipe until the data is written.
    auto post = start_pg_dump(pg_dump, conn, "post-data", snapshot_id);
    for (std::string_view piece = pre->read(); !piece.empty(); piece = pre->read()) {
      out.write(piece);
    }
    pre->finish();
    // pg_dump's header sets the database's encoding; the rows come in this connection's.
    const char* encoding = libpq().PQparameterStatus(conn, "client_encoding");
    out.write(fmt::format("\nSET client_encoding = {};\n",
                          quote_literal(encoding != nullptr ? encoding : "UTF8")));
    for (const TableInfo& table : read_tables(conn, where)) {
      progress.table(table.display(), table.estimated_rows);
      const std::string columns = table.columns.empty() ? "" : " (" + table.columns + ")";
      out.write(fmt::format("\n--\n-- Data for {}\n--\n\nCOPY {}{} FROM stdin;\n", table.display(),
                            table.qualified(), columns));
      CopyJob job{&table, {}, -1, -1, 0, 0, {}};
      const std::int64_t rows =
          copy_out(conn, copy_out_sql(job, false), out, where, table.display(),
                   [&](std::int64_t bytes) { progress.advance(0, bytes); });
      out.write("\\.\n");
      progress.advance(rows, 0);
    }
    const std::string sequences = read_sequences(conn, where);
    if (!sequences.empty()) out.write("\n--\n-- Sequence values\n--\n\n" + sequences);
    for (std::string_view piece = post->read(); !piece.empty(); piece = post->read()) {
      out.write(piece);
    }
    post->finish();
    run(conn, "COMMIT", "ending the snapshot failed", where);
  } catch (...) {
    PgResult rollback(libpq().PQexec(conn, "ROLLBACK"));
    throw;
  }
}

// --- Template databases --------------------------------------------------------------------------

/// A connection to the maintenance database of the server of `engine` (`postgres`, else
/// `template1`).
PgConnection maintenance_connection(Engine& engine) {
  const DatabaseUrl& url = postgres_url(engine);
  PgConnection out;
  std::optional<PgConnectError> failure = PgConnection::connect(url, "postgres", out);
  if (failure && failure->failure == PgConnectFailure::missing_database) {
    failure = PgConnection::connect(url, "template1", out);
  }
  if (failure) {
    Error error(ErrorKind::unreachable,
                fmt::format("cannot connect to the maintenance database: {}", failure->message));
    error.where = postgres_where(engine);
    throw error;
  }
  return out;
}

/// The other sessions on `database`, for the error that says why it cannot be copied or renamed.
/// `also_excluded`: a session of ours on it that leaves before the operation (0: none).
std::string other_sessions(const PgConnection& maintenance, const std::string& database,
                           const std::string& where, int also_excluded = 0) {
  PgResult result = maintenance.exec(
      "SELECT pid, coalesce(usename, ''), coalesce(application_name, ''), "
      "coalesce(client_addr::text, 'local'), coalesce(state, '') FROM pg_catalog.pg_stat_activity "
      "WHERE datname = $1 AND pid <> pg_backend_pid() AND pid <> $2::int ORDER BY pid",
      {database, std::to_string(also_excluded)}, "listing the sessions on the database failed",
      where);
  std::string out;
  for (int row = 0; row < libpq().PQntuples(result.get()); ++row) {
    if (!out.empty()) out += "; ";
    out += fmt::format("pid {} ({}, application '{}', from {}, {})", pg_text(result.get(), row, 0),
                       pg_text(result.get(), row, 1), pg_text(result.get(), row, 2),
                       pg_text(result.get(), row, 3), pg_text(result.get(), row, 4));
  }
  return out;
}

/// Runs `sql` on the maintenance connection; a failure because of other sessions names them.
void run_alone(const PgConnection& maintenance, const std::string& sql, std::string_view what,
               const std::string& database, const std::string& where) {
  PgResult result(libpq().PQexec(maintenance.get(), sql.c_str()));
  if (libpq().PQresultStatus(result.get()) == PGRES_COMMAND_OK) return;
  const std::string state = pg_error_field(result.get(), PG_DIAG_SQLSTATE);
  std::string message = pg_error_field(result.get(), PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = pg_clean_message(libpq().PQerrorMessage(maintenance.get()));
  Error error(ErrorKind::failure, fmt::format("{}: {}", what, message));
  error.where = where;
  if (!state.empty()) error.code = "SQLSTATE " + state;
  error.detail = pg_error_detail(result.get());
  error.statement = sql;
  if (state == "55006") {
    // object_in_use: "source database ... is being accessed by other users".
    if (libpq().PQtransactionStatus(maintenance.get()) == PQTRANS_INERROR) {
      PgResult rollback(libpq().PQexec(maintenance.get(), "ROLLBACK"));
    }
    const std::string sessions = other_sessions(maintenance, database, where);
    error = Error(ErrorKind::failure,
                  fmt::format("{}: other sessions are connected to database \"{}\": {}", what,
                              database, sessions.empty() ? message : sessions));
    error.where = where;
    error.code = "SQLSTATE " + state;
    error.statement = sql;
    error.hint =
        "a template copy needs the database to itself: stop those sessions (the application, "
        "psql, pgAdmin) and run it again, or use a snapshot without --template";
  }
  throw error;
}

std::string database_of(PGconn* conn) {
  const char* name = libpq().PQdb(conn);
  return name != nullptr ? name : "";
}

/// The tables and row counts and the ledger of the database `url` names (a template).
SnapshotDump describe_database(const DatabaseUrl& url, const std::string& database) {
  DatabaseUrl target = url;
  target.database = database;
  auto engine = make_postgres_engine(target);
  engine->open(false);
  SnapshotDump dump;
  dump.server_version = engine->server_version();
  PGconn* conn = postgres_connection(*engine).get();
  const std::string& where = postgres_where(*engine);
  run(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "reading the copy failed", where);
  dump.ledger = engine->read_ledger();
  for (const TableInfo& table : read_tables(conn, where)) {
    PgResult count =
        run(conn, "SELECT count(*) FROM ONLY " + table.qualified(), "counting rows failed", where);
    dump.tables.push_back({table.display(), std::atoll(pg_text(count.get(), 0, 0).c_str())});
  }
  run(conn, "COMMIT", "reading the copy failed", where);
  return dump;
}

SnapshotDump postgres_dump_template(Engine& engine, std::string_view template_name) {
  const std::string where = postgres_where(engine);
  const std::string database = database_of(postgres_connection(engine).get());
  const std::string name(template_name);
  PgConnection maintenance = maintenance_connection(engine);
  // The copy needs the database to itself: this session leaves it meanwhile.
  postgres_disconnect(engine);
  try {
    run_alone(maintenance,
              fmt::format("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY",
                          pg_quote_identifier(name), pg_quote_identifier(database)),
              fmt::format("copying database \"{}\" to \"{}\" failed", database, name), database,
              where);
    maintenance.exec(
        fmt::format("COMMENT ON DATABASE {} IS {}", pg_quote_identifier(name),
                    quote_literal(fmt::format("dbinit snapshot of database \"{}\"", database))),
        "marking the snapshot database failed", where);
  } catch (...) {
    engine.open(false);
    throw;
  }
  engine.open(false);
  try {
    return describe_database(postgres_url(engine), name);
  } catch (...) {
    PgResult drop(libpq().PQexec(maintenance.get(),
                                 ("DROP DATABASE IF EXISTS " + pg_quote_identifier(name)).c_str()));
    throw;
  }
}

void postgres_load_template(Engine& engine, std::string_view template_name) {
  const std::string where = postgres_where(engine);
  const std::string database = database_of(postgres_connection(engine).get());
  const std::string name(template_name);
  PgConnection maintenance = maintenance_connection(engine);
  PgResult owner = maintenance.exec(
      "SELECT pg_catalog.pg_get_userbyid(datdba), "
      "(SELECT count(*) FROM pg_catalog.pg_database WHERE datname = $2) "
      "FROM pg_catalog.pg_database WHERE datname = $1",
      {database, name}, "reading the database's owner failed", where);
  if (libpq().PQntuples(owner.get()) != 1 || pg_text(owner.get(), 0, 1) != "1") {
    Error error(ErrorKind::failure,
                fmt::format("the snapshot database \"{}\" does not exist", name));
    error.where = where;
    error.state = "nothing was changed";
    error.hint = "list the snapshots with `dbinit backups`; take a new one with dump --template";
    throw error;
  }
  const std::string owner_name = pg_text(owner.get(), 0, 0);
  // The swap needs the database to itself: other sessions are found before the copy, which is
  // the slow part (and again by the rename, should one connect meanwhile).
  if (const std::string sessions = other_sessions(
          maintenance, database, where, libpq().PQbackendPID(postgres_connection(engine).get()));
      !sessions.empty()) {
    Error error(ErrorKind::failure,
                fmt::format("replacing database \"{}\" failed: other sessions are connected to "
                            "database \"{}\": {}",
                            database, database, sessions));
    error.where = where;
    error.state = "nothing was changed";
    error.hint =
        "a template copy needs the database to itself: stop those sessions (the application, "
        "psql, pgAdmin) and run it again, or use a snapshot without --template";
    throw error;
  }
  // The new copy gets a name of its own until it takes the database's place; names are at most
  // 63 bytes.
  const std::string suffix = fmt::format("_dbinit_{}", ::getpid());
  const std::string fresh = database.substr(0, 63 - suffix.size() - 4) + "_new" + suffix;
  const std::string old = database.substr(0, 63 - suffix.size() - 4) + "_old" + suffix;
  run_alone(maintenance,
            fmt::format("CREATE DATABASE {} TEMPLATE {} OWNER {} STRATEGY FILE_COPY",
                        pg_quote_identifier(fresh), pg_quote_identifier(name),
                        pg_quote_identifier(owner_name)),
            fmt::format("copying the snapshot database \"{}\" failed", name), name, where);
  // The swap renames the database, which no session may be connected to: this one leaves it and
  // comes back afterwards.
  postgres_disconnect(engine);
  try {
    maintenance.exec("BEGIN", "swapping the databases failed", where);
    run_alone(maintenance,
              fmt::format("ALTER DATABASE {} RENAME TO {}", pg_quote_identifier(database),
                          pg_quote_identifier(old)),
              fmt::format("replacing database \"{}\" failed", database), database, where);
    maintenance.exec(fmt::format("ALTER DATABASE {} RENAME TO {}", pg_quote_identifier(fresh),
                                 pg_quote_identifier(database)),
                     "swapping the databases failed", where);
    maintenance.exec("COMMIT", "swapping the databases failed", where);
  } catch (Error& error) {
    PgResult rollback(libpq().PQexec(maintenance.get(), "ROLLBACK"));
    PgResult drop(libpq().PQexec(
        maintenance.get(), ("DROP DATABASE IF EXISTS " + pg_quote_identifier(fresh)).c_str()));
    engine.open(false);
    engine.lock(std::chrono::seconds(60));
    if (error.state.empty()) error.state = "nothing was changed";
    throw;
  }
  engine.open(false);
  // The caller's session lock went with the connection: it is taken again.
  engine.lock(std::chrono::seconds(60));
  run(maintenance.get(), "DROP DATABASE IF EXISTS " + pg_quote_identifier(old) + " WITH (FORCE)",
      "dropping the replaced database failed", where);
}

void postgres_drop_template(Engine& engine, std::string_view template_name) {
  PgConnection maintenance = maintenance_connection(engine);
  maintenance.exec("DROP DATABASE IF EXISTS " + pg_quote_identifier(template_name),
                   fmt::format("dropping the snapshot database \"{}\" failed", template_name),
                   postgres_where(engine));
}

}  // namespace

void set_postgres_client_root(std::filesystem::path root) {
  std::lock_guard lock(g_client_root_mutex);
  g_client_root = std::move(root);
}

const SnapshotSupport k_postgres_snapshot_support = {
    postgres_dump,          postgres_load,          postgres_dump_sql,
    postgres_dump_template, postgres_load_template, postgres_drop_template,
};

}  // namespace dbinit
