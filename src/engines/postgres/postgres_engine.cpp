#include "engines/postgres/postgres_engine.h"

#include <strings.h>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <span>

#include <fmt/format.h>

#include "engines/postgres/libpq.h"
#include "engines/postgres/pg_connection.h"
#include "engines/postgres/pg_schema.h"
#include "engines/postgres/pg_splitter.h"
#include "util/elapsed.h"
#include "util/error.h"
#include "util/text.h"

namespace dbinit {

namespace {

// The migration lock is an advisory lock whose key is derived on the server from the database's
// own name, so every dbinit that reaches the same database (directly or through PgBouncer, under
// whatever alias) takes the same lock, and databases on one server do not block each other.
// hashtextextended() is stable across server versions (hash partitioning depends on it).
// https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
constexpr std::string_view k_lock_key = "hashtextextended('dbinit:' || current_database(), 0)";

// A restore sends the statements between COPY blocks in batches of about this size: one round
// trip per batch, and a query string of bounded size however large the dump.
constexpr std::size_t k_restore_batch_bytes = 1 << 20;
constexpr std::size_t k_copy_chunk_bytes = 1 << 18;

bool starts_with_word(std::string_view text, std::string_view word) {
  return text.size() >= word.size() && strncasecmp(text.data(), word.data(), word.size()) == 0 &&
         (text.size() == word.size() ||
          !(std::isalnum(static_cast<unsigned char>(text[word.size()])) ||
            text[word.size()] == '_'));
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The statement's words in lower case with runs of blanks collapsed, for recognising a few
// fixed forms (`COPY ... FROM stdin`, `BEGIN`).
std::string normalise_words(std::string_view statement) {
  std::string out;
  bool blank = false;
  for (char c : statement) {
    if (c == ';') break;
    if (std::isspace(static_cast<unsigned char>(c))) {
      blank = !out.empty();
      continue;
    }
    if (blank) out += ' ';
    blank = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool is_copy_from_stdin(std::string_view statement) {
  if (!starts_with_word(statement, "copy")) return false;
  std::string words = normalise_words(statement);
  std::size_t at = words.find(" from stdin");
  return at != std::string::npos &&
         (at + 11 == words.size() || words[at + 11] == ' ' || words[at + 11] == '(');
}

bool is_transaction_control(std::string_view statement) {
  std::string words = normalise_words(statement);
  return words == "begin" || words == "begin transaction" || words == "begin work" ||
         words == "start transaction" || words == "commit" || words == "commit transaction" ||
         words == "commit work" || words == "end" || words == "end transaction";
}

bool is_rollback(std::string_view statement) {
  std::string words = normalise_words(statement);
  return words == "rollback" || words == "rollback transaction" || words == "rollback work" ||
         words == "abort" || words == "abort transaction" || words == "abort work";
}

std::string describe_timeout(std::chrono::milliseconds timeout) {
  return duration_text(timeout);
}

int count_lines(std::string_view text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// The byte offset in `text` of the 1-based character position `position` that the server reports
// (PG_DIAG_STATEMENT_POSITION counts characters of the client encoding).
std::size_t byte_offset(std::string_view text, long position, bool utf8) {
  if (position <= 1) return 0;
  if (!utf8) return std::min(static_cast<std::size_t>(position - 1), text.size());
  long chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (chars == position - 1) return i;
      ++chars;
    }
  }
  return text.size();
}

std::string script_where(const Script& script, int line) {
  if (script.source.empty()) return fmt::format("line {}", line);
  return fmt::format("{} line {}", script.source, line);
}

// A psql argument as psql reads it: 'single' or "double" quoted (doubled quotes inside), or bare.
std::vector<std::string> psql_arguments(std::string_view text) {
  std::vector<std::string> args;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size()) break;
    std::string arg;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) {
      char c = text[i];
      if (c == '\'' || c == '"') {
        ++i;
        while (i < text.size()) {
          if (text[i] == c && i + 1 < text.size() && text[i + 1] == c) {
            arg += c;
            i += 2;
          } else if (text[i] == c) {
            ++i;
            break;
          } else {
            arg += text[i++];
          }
        }
      } else {
        arg += c;
        ++i;
      }
    }
    args.push_back(std::move(arg));
  }
  return args;
}

// The database a `\connect` line names, or empty when it keeps the current one.
std::string connect_target(std::string_view arguments) {
  for (const std::string& arg : psql_arguments(arguments)) {
    if (arg.starts_with("-reuse-previous")) continue;
    if (arg == "-") return {};
    if (arg.find('=') == std::string::npos && !arg.starts_with("postgres")) return arg;
    // A connection string: pg_dump writes `\connect -reuse-previous=on "dbname='name'"` for
    // names that are not plain identifiers.
    char* error = nullptr;
    PQconninfoOption* options = libpq().PQconninfoParse(arg.c_str(), &error);
    libpq().PQfreemem(error);
    std::string dbname;
    if (options != nullptr) {
      for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
        if (std::strcmp(option->keyword, "dbname") == 0 && option->val != nullptr) {
          dbname = option->val;
        }
      }
      libpq().PQconninfoFree(options);
    }
    return dbname;
  }
  return {};
}

class PostgresEngine final : public Engine {
 public:
  explicit PostgresEngine(const DatabaseUrl& url) : m_url(url), m_where(url.redacted()) {}

  std::string_view name() const override { return "postgres"; }
  bool transactional_ddl() const override { return true; }

  OpenResult open(bool create) override;
  std::string server_version() override;
  bool has_user_tables() override { return pg_has_user_objects(conn(), m_where); }
  void drop_database() override;
  void lock_for_reset(std::chrono::milliseconds timeout) override;

  std::optional<std::vector<LedgerEntry>> read_ledger() override;
  void ensure_ledger() override;
  void record(const LedgerEntry& entry) override;
  void record_all(std::span<const LedgerEntry> entries) override;
  void remove(std::string_view version) override;
  std::optional<std::string> meta(std::string_view key) override;
  void set_meta(std::string_view key, std::string_view value) override;

  void begin_locked(std::chrono::milliseconds timeout) override;
  void lock(std::chrono::milliseconds timeout) override;
  void unlock() noexcept override;
  void begin() override { conn().exec("BEGIN", "starting a transaction failed", m_where); }
  void commit() override;
  void rollback() noexcept override;

  void execute(const Script& script) override;
  void restore(const Script& script) override;
  bool rolls_back(const Script&) override { return true; }
  void set_foreign_keys(bool) override {}
  void check_foreign_keys() override {}

  const PgConnection& connection() const { return conn(); }
  const std::string& where() const { return m_where; }
  const DatabaseUrl& url() const { return m_url; }
  /// Closes the connection (and with it the session's locks); open() connects again.
  void disconnect() {
    m_conn.close();
    m_database.clear();
  }

 private:
  const PgConnection& conn() const;
  bool in_transaction() const;
  bool client_utf8() const;
  [[noreturn]] void throw_connect_error(const PgConnectError& failure) const;
  /// Creates `database`; false when another process created it first.
  bool create_database(const std::string& database);
  bool table_exists(std::string_view table) const;
  /// Takes the advisory lock: transaction-scoped when `transaction`, else session-scoped.
  void take_lock(bool transaction, std::chrono::milliseconds timeout);
  std::string lock_holder() const;

  /// Sends `script.sql[begin, end)` as one simple-protocol query (one round trip). `statements`
  /// are the statements in that range; `done` counts the ones that complete.
  void run_text(const Script& script, std::size_t begin, std::size_t end,
                std::span<const PgStatement> statements, long& done);
  /// Runs a `COPY ... FROM stdin` statement with the data block `data` (without the `\.` line),
  /// which starts on line `data_line` of the script.
  void run_copy(const Script& script, const PgStatement& statement, std::string_view data,
                int data_line, long& done);
  /// The error for a failed result of text sent from `script.sql[begin, ...)`.
  Error sql_error(const PGresult* result, const Script& script, std::size_t begin,
                  std::span<const PgStatement> statements, long done) const;
  void meta_command(const Script& script, std::string_view line_text, int line, long done);
  /// Undoes what an init dump set for the session (pg_dump empties search_path, for one).
  void reset_session();

  /// Finds the ledger's schema for this connection (see m_schema).
  void resolve_ledger_schema();
  /// Returns the session's settings and role to their connection-time values after `statements`
  /// of `script` ran, when any of them may have changed them (SET, RESET, set_config()).
  void reset_session_after(const Script& script, std::span<const PgStatement> statements);

  DatabaseUrl m_url;
  std::string m_where;
  PgConnection m_conn;
  /// The connection to the maintenance database that holds the reset lock (lock_for_reset).
  PgConnection m_reset_lock;
  /// The schema that holds the ledger: the first schema of the search_path at connect time
  /// (normally `public`), resolved once by open(). Every statement of dbinit's own names its
  /// tables through it, so that a migration's `SET search_path` cannot move the ledger. Empty when
  /// the connection had no current schema: then the names are left unqualified.
  std::string m_schema;
  /// `"<schema>".dbinit_migrations` and `"<schema>".dbinit_meta` (unqualified without m_schema).
  std::string m_ledger{k_ledger_table};
  std::string m_meta{k_meta_table};
  /// What open(false) found when the database did not exist.
  std::optional<PgConnectError> m_missing;
  std::string m_database;
};

const PgConnection& PostgresEngine::conn() const {
  if (!m_conn.is_open()) {
    Error error(ErrorKind::failure, "the PostgreSQL connection is not open");
    error.where = m_where;
    throw error;
  }
  return m_conn;
}

bool PostgresEngine::in_transaction() const {
  PGTransactionStatusType status = libpq().PQtransactionStatus(conn().get());
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

bool PostgresEngine::client_utf8() const {
  return std::strcmp(libpq().pg_encoding_to_char(libpq().PQclientEncoding(conn().get())), "UTF8") ==
         0;
}

void PostgresEngine::throw_connect_error(const PgConnectError& failure) const {
  switch (failure.failure) {
    case PgConnectFailure::auth: {
      Error error(ErrorKind::auth,
                  fmt::format("PostgreSQL rejected the credentials of role '{}': {}", failure.user,
                              failure.message));
      error.where = m_where;
      error.detail = failure.detail;
      error.hint =
          "check the user name and password in the URL (or DATABASE_URL_FILE) and the "
          "server's pg_hba.conf";
      throw error;
    }
    case PgConnectFailure::invalid_option: {
      Error error(ErrorKind::config,
                  fmt::format("invalid PostgreSQL connection parameter: {}", failure.message));
      error.where = m_where;
      error.detail = failure.detail;
      error.hint =
          "see https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS";
      throw error;
    }
    case PgConnectFailure::tls: {
      Error error(ErrorKind::failure,
                  fmt::format("cannot set up a TLS connection to PostgreSQL: {}", failure.message));
      error.where = m_where;
      error.detail = failure.detail;
      error.hint =
          "check sslmode (disable, prefer, require, verify-ca, verify-full), sslrootcert, sslcert "
          "and sslkey in the URL against the server's ssl settings";
      throw error;
    }
    case PgConnectFailure::missing_database:
    case PgConnectFailure::unreachable: {
      Error error(ErrorKind::unreachable,
                  fmt::format("cannot connect to PostgreSQL: {}", failure.message));
      error.where = m_where;
      error.detail = failure.detail;
      error.hint = "check that the server is running and reachable, or wait for it with --wait";
      throw error;
    }
  }
  throw Error(ErrorKind::failure, failure.message);
}

OpenResult PostgresEngine::open(bool create) {
  // After open(false) found no database, open(true) goes straight to creating it: each attempt
  // costs an authentication handshake.
  std::optional<PgConnectError> failure =
      create && m_missing ? std::move(m_missing) : PgConnection::connect(m_url, nullptr, m_conn);
  m_missing.reset();
  OpenResult result = OpenResult::opened;
  if (failure && failure->failure == PgConnectFailure::missing_database) {
    if (!create) {
      m_missing = failure;
      return OpenResult::missing;
    }
    // A concurrent starter may win the race: then the database is merely opened.
    if (create_database(failure->database)) result = OpenResult::created;
    failure = PgConnection::connect(m_url, nullptr, m_conn);
  }
  if (failure) throw_connect_error(*failure);
  const char* database = libpq().PQdb(m_conn.get());
  m_database = database != nullptr ? database : m_url.database;
  resolve_ledger_schema();
  return result;
}

void PostgresEngine::resolve_ledger_schema() {
  PgResult result =
      conn().exec("SELECT current_schema()", "finding the schema of the ledger failed", m_where);
  const std::optional<std::string> schema = pg_value(result.get(), 0, 0);
  m_schema = schema.value_or("");
  const std::string prefix = m_schema.empty() ? "" : pg_quote_identifier(m_schema) + ".";
  m_ledger = prefix + std::string(k_ledger_table);
  m_meta = prefix + std::string(k_meta_table);
}

bool PostgresEngine::create_database(const std::string& database) {
  // CREATE DATABASE runs from another database: `postgres`, which every cluster has unless
  // someone dropped it, else `template1`.
  PgConnection maintenance;
  std::optional<PgConnectError> failure = PgConnection::connect(m_url, "postgres", maintenance);
  if (failure && failure->failure == PgConnectFailure::missing_database) {
    failure = PgConnection::connect(m_url, "template1", maintenance);
  }
  if (failure) throw_connect_error(*failure);

  std::string sql = "CREATE DATABASE " + pg_quote_identifier(database);
  PgResult result(libpq().PQexec(maintenance.get(), sql.c_str()));
  if (libpq().PQresultStatus(result.get()) == PGRES_COMMAND_OK) return true;
  std::string state = pg_error_field(result.get(), PG_DIAG_SQLSTATE);
  // 42P04: another process created it meanwhile; 23505: the same race, lost inside the catalog.
  if (state == "42P04" || state == "23505") return false;
  std::string message = pg_error_field(result.get(), PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = pg_clean_message(libpq().PQerrorMessage(maintenance.get()));
  const char* user = libpq().PQuser(maintenance.get());
  std::string role = user != nullptr ? user : m_url.user;
  if (state == "42501") {
    Error error(ErrorKind::failure,
                fmt::format("cannot create database \"{}\": role '{}' lacks the CREATEDB "
                            "privilege ({})",
                            database, role, message));
    error.where = m_where;
    error.code = "SQLSTATE 42501";
    error.hint = fmt::format(
        "grant it (ALTER ROLE {} CREATEDB) or create the database by hand "
        "(CREATE DATABASE {} OWNER {})",
        pg_quote_identifier(role), pg_quote_identifier(database), pg_quote_identifier(role));
    throw error;
  }
  Error error(ErrorKind::failure,
              fmt::format("cannot create database \"{}\": {}", database, message));
  error.where = m_where;
  if (!state.empty()) error.code = "SQLSTATE " + state;
  error.detail = pg_error_field(result.get(), PG_DIAG_MESSAGE_DETAIL);
  throw error;
}

void PostgresEngine::lock_for_reset(std::chrono::milliseconds timeout) {
  const std::string database = m_url.database.empty() ? std::string("postgres") : m_url.database;
  std::optional<PgConnectError> failure =
      PgConnection::connect(m_url, database == "postgres" ? "template1" : "postgres", m_reset_lock);
  if (failure && failure->failure == PgConnectFailure::missing_database) {
    failure = PgConnection::connect(m_url, "template1", m_reset_lock);
  }
  if (failure) throw_connect_error(*failure);
  // Advisory locks belong to the database they are taken in: in the maintenance database, keyed
  // by the name of the database to reset, the lock outlives the drop of that database.
  m_reset_lock.exec("SELECT set_config('lock_timeout', $1, false)",
                    {fmt::format("{}ms", std::max<std::int64_t>(timeout.count(), 1))},
                    "setting lock_timeout failed", m_where);
  const char* values[] = {database.c_str()};
  PgResult result(libpq().PQexecParams(
      m_reset_lock.get(), "SELECT pg_advisory_lock(hashtextextended('dbinit-reset:' || $1, 0))", 1,
      nullptr, values, nullptr, nullptr, 0));
  if (libpq().PQresultStatus(result.get()) == PGRES_TUPLES_OK) return;
  const std::string state = pg_error_field(result.get(), PG_DIAG_SQLSTATE);
  if (state == "55P03") {
    Error error(ErrorKind::lock_timeout,
                fmt::format("another reset of database \"{}\" is running; gave up after {}",
                            database, describe_timeout(timeout)));
    error.where = m_where;
    error.code = "SQLSTATE " + state;
    throw error;
  }
  std::string message = pg_error_field(result.get(), PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = pg_clean_message(libpq().PQerrorMessage(m_reset_lock.get()));
  Error error(
      pg_connection_lost(m_reset_lock.get(), state) ? ErrorKind::unreachable : ErrorKind::failure,
      fmt::format("taking the reset lock failed: {}", message));
  error.where = m_where;
  if (!state.empty()) error.code = "SQLSTATE " + state;
  throw error;
}

void PostgresEngine::drop_database() {
  std::string database = m_database;
  m_conn.close();
  m_database.clear();
  if (database.empty()) {
    // Not open: the database libpq would connect to (the URL's, or libpq's default), if it exists.
    PgConnection probe;
    std::optional<PgConnectError> failure = PgConnection::connect(m_url, nullptr, probe);
    if (failure && failure->failure == PgConnectFailure::missing_database) return;
    if (failure) throw_connect_error(*failure);
    const char* name = libpq().PQdb(probe.get());
    database = name != nullptr ? name : m_url.database;
  }
  // A database cannot be dropped from a session on itself: DROP runs from `postgres`, or from
  // `template1` when `postgres` is the one to drop or does not exist.
  PgConnection maintenance;
  std::optional<PgConnectError> failure =
      PgConnection::connect(m_url, database == "postgres" ? "template1" : "postgres", maintenance);
  if (failure && failure->failure == PgConnectFailure::missing_database) {
    failure = PgConnection::connect(m_url, "template1", maintenance);
  }
  if (failure) throw_connect_error(*failure);

  // WITH (FORCE) (PostgreSQL 13+) ends the other sessions on the database first, as a reset of a
  // development database must not wait for the application's idle connections.
  // https://www.postgresql.org/docs/current/sql-dropdatabase.html
  const std::string quoted = pg_quote_identifier(database);
  std::string sql = "DROP DATABASE IF EXISTS " + quoted + " WITH (FORCE)";
  if (libpq().PQserverVersion(maintenance.get()) < 130000) {
    maintenance.exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> "
        "pg_backend_pid()",
        {database}, "ending the sessions on the database failed", m_where);
    sql = "DROP DATABASE IF EXISTS " + quoted;
  }
  PgResult result(libpq().PQexec(maintenance.get(), sql.c_str()));
  if (libpq().PQresultStatus(result.get()) == PGRES_COMMAND_OK) return;
  const std::string state = pg_error_field(result.get(), PG_DIAG_SQLSTATE);
  std::string message = pg_error_field(result.get(), PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = pg_clean_message(libpq().PQerrorMessage(maintenance.get()));
  Error error(ErrorKind::failure,
              fmt::format("cannot drop database \"{}\": {}", database, message));
  error.where = m_where;
  if (!state.empty()) error.code = "SQLSTATE " + state;
  error.detail = pg_error_field(result.get(), PG_DIAG_MESSAGE_DETAIL);
  if (state == "42501") {
    const char* user = libpq().PQuser(maintenance.get());
    error.hint = fmt::format(
        "only the database's owner or a superuser may drop it; connect as "
        "its owner instead of '{}'",
        user != nullptr ? user : m_url.user);
  }
  throw error;
}

std::string PostgresEngine::server_version() {
  const char* version = libpq().PQparameterStatus(conn().get(), "server_version");
  std::string_view text = version != nullptr ? version : "";
  // `15.18 (Debian 15.18-1.pgdg120+1)`: the number alone.
  text = text.substr(0, text.find(' '));
  if (text.empty()) {
    int number = libpq().PQserverVersion(conn().get());
    return fmt::format("PostgreSQL {}.{}", number / 10000, number % 10000);
  }
  return fmt::format("PostgreSQL {}", text);
}

bool PostgresEngine::table_exists(std::string_view table) const {
  // A scan of pg_class rather than to_regclass(): to_regclass() answers from the backend's catalog
  // cache, which may still hold "no such table" from before the lock was taken while another
  // dbinit created the ledger (the cache is refreshed at transaction start and when a relation is
  // locked, and an advisory lock is neither). A scan sees what is committed, and the queries that
  // follow lock the table, which refreshes the cache.
  PgResult result = conn().exec(
      "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
      "ON n.oid = c.relnamespace WHERE c.relname = $1 AND c.relkind IN ('r', 'p') "
      "AND (n.nspname = $2 OR ($2 = '' AND n.nspname = ANY (current_schemas(false)))))",
      {std::string(table), m_schema}, "looking for the ledger failed", m_where);
  return pg_text(result.get(), 0, 0) == "t";
}

std::optional<std::vector<LedgerEntry>> PostgresEngine::read_ledger() {
  const std::string select = fmt::format(
      "SELECT version, name, checksum, state, applied_at, duration_ms, applied_by, down_sql, "
      "error FROM {}",
      m_ledger);
  PgResult result;
  if (in_transaction()) {
    // Under the lock the catalog cache may be stale (see table_exists): look first.
    if (!table_exists(k_ledger_table)) return std::nullopt;
    result = conn().exec(select, "reading the ledger failed", m_where);
  } else {
    // Outside a transaction the statement starts its own, which refreshes the cache: a missing
    // ledger is the query's undefined_table error, and a start costs one round trip.
    try {
      result = conn().exec(select, "reading the ledger failed", m_where);
    } catch (const Error& error) {
      if (error.code == "SQLSTATE 42P01") return std::nullopt;
      throw;
    }
  }
  std::vector<LedgerEntry> entries;
  int rows = libpq().PQntuples(result.get());
  entries.reserve(static_cast<std::size_t>(rows));
  for (int row = 0; row < rows; ++row) {
    LedgerEntry entry;
    entry.version = pg_text(result.get(), row, 0);
    entry.name = pg_text(result.get(), row, 1);
    entry.checksum = pg_text(result.get(), row, 2);
    entry.state = parse_ledger_state(pg_text(result.get(), row, 3));
    entry.applied_at = pg_text(result.get(), row, 4);
    const char* duration = libpq().PQgetvalue(result.get(), row, 5);
    std::from_chars(duration, duration + std::strlen(duration), entry.duration_ms);
    entry.applied_by = pg_text(result.get(), row, 6);
    entry.down_sql = pg_value(result.get(), row, 7);
    entry.error = pg_value(result.get(), row, 8);
    entries.push_back(std::move(entry));
  }
  sort_ledger(entries);
  return entries;
}

void PostgresEngine::ensure_ledger() {
  conn().exec(fmt::format(k_pg_create_ledger, m_ledger),
              fmt::format("creating the ledger table {} failed", m_ledger), m_where);
  conn().exec(fmt::format(k_pg_create_meta, m_meta),
              fmt::format("creating the table {} failed", m_meta), m_where);
}

void PostgresEngine::record(const LedgerEntry& entry) {
  record_all(std::span<const LedgerEntry>(&entry, 1));
}

void PostgresEngine::record_all(std::span<const LedgerEntry> entries) {
  // One statement per chunk of rows: a thousand migrations applied in one transaction cost a
  // couple of round trips for the ledger rather than a thousand.
  constexpr std::size_t k_columns = 9;
  constexpr std::size_t k_rows = 500;  // 4,500 parameters, under the protocol's 65,535
  for (std::size_t first = 0; first < entries.size(); first += k_rows) {
    const std::size_t last = std::min(first + k_rows, entries.size());
    std::string sql = fmt::format(
        "INSERT INTO {} (version, name, checksum, state, applied_at, duration_ms, "
        "applied_by, down_sql, error) VALUES ",
        m_ledger);
    std::vector<std::optional<std::string>> params;
    params.reserve((last - first) * k_columns);
    for (std::size_t i = first; i < last; ++i) {
      const LedgerEntry& entry = entries[i];
      const std::size_t n = params.size();
      fmt::format_to(std::back_inserter(sql), "{}(${},${},${},${},${},${},${},${},${})",
                     i == first ? "" : ", ", n + 1, n + 2, n + 3, n + 4, n + 5, n + 6, n + 7, n + 8,
                     n + 9);
      params.insert(params.end(),
                    {entry.version, entry.name, entry.checksum, std::string(to_string(entry.state)),
                     entry.applied_at, std::to_string(entry.duration_ms), entry.applied_by,
                     entry.down_sql, entry.error});
    }
    sql +=
        " ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, checksum = EXCLUDED.checksum, "
        "state = EXCLUDED.state, applied_at = EXCLUDED.applied_at, "
        "duration_ms = EXCLUDED.duration_ms, applied_by = EXCLUDED.applied_by, "
        "down_sql = EXCLUDED.down_sql, error = EXCLUDED.error";
    conn().exec(
        sql, params,
        last - first == 1
            ? fmt::format("recording migration {} in the ledger failed", entries[first].version)
            : fmt::format("recording migrations {} to {} in the ledger failed",
                          entries[first].version, entries[last - 1].version),
        m_where);
  }
}

void PostgresEngine::remove(std::string_view version) {
  conn().exec(fmt::format("DELETE FROM {} WHERE version = $1", m_ledger), {std::string(version)},
              fmt::format("removing migration {} from the ledger failed", version), m_where);
}

std::optional<std::string> PostgresEngine::meta(std::string_view key) {
  if (!table_exists(k_meta_table)) return std::nullopt;
  PgResult result =
      conn().exec(fmt::format("SELECT value FROM {} WHERE key = $1", m_meta), {std::string(key)},
                  fmt::format("reading '{}' from {} failed", key, m_meta), m_where);
  if (libpq().PQntuples(result.get()) == 0) return std::nullopt;
  return pg_value(result.get(), 0, 0);
}

void PostgresEngine::set_meta(std::string_view key, std::string_view value) {
  conn().exec(fmt::format("INSERT INTO {} (key, value) VALUES ($1, $2) "
                          "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                          m_meta),
              {std::string(key), std::string(value)},
              fmt::format("storing '{}' in {} failed", key, m_meta), m_where);
}

void PostgresEngine::begin_locked(std::chrono::milliseconds timeout) {
  begin();
  try {
    take_lock(true, timeout);
  } catch (...) {
    rollback();
    throw;
  }
}

void PostgresEngine::lock(std::chrono::milliseconds timeout) {
  take_lock(false, timeout);
}

void PostgresEngine::take_lock(bool transaction, std::chrono::milliseconds timeout) {
  std::string_view function = transaction ? "pg_advisory_xact_lock" : "pg_advisory_lock";
  std::string_view try_function =
      transaction ? "pg_try_advisory_xact_lock" : "pg_try_advisory_lock";
  std::string sql;
  PgResult result;
  std::string saved_timeout;
  if (timeout.count() <= 0) {
    // lock_timeout = 0 would mean "wait forever": try once instead.
    sql = fmt::format("SELECT {}({})", try_function, k_lock_key);
    result.reset(libpq().PQexec(conn().get(), sql.c_str()));
  } else {
    // lock_timeout bounds the wait (advisory locks go through the lock manager); the previous
    // value is put back so that it does not apply to the migrations themselves.
    PgResult current = conn().exec("SELECT current_setting('lock_timeout')",
                                   "reading lock_timeout failed", m_where);
    saved_timeout = pg_text(current.get(), 0, 0);
    conn().exec("SELECT set_config('lock_timeout', $1, $2)",
                {fmt::format("{}ms", timeout.count()), transaction ? "true" : "false"},
                "setting lock_timeout failed", m_where);
    sql = fmt::format("SELECT {}({})", function, k_lock_key);
    result.reset(libpq().PQexec(conn().get(), sql.c_str()));
  }
  ExecStatusType status = libpq().PQresultStatus(result.get());
  std::string state = pg_error_field(result.get(), PG_DIAG_SQLSTATE);
  bool acquired =
      status == PGRES_TUPLES_OK && (timeout.count() > 0 || pg_text(result.get(), 0, 0) == "t");
  if (acquired) {
    if (!saved_timeout.empty()) {
      conn().exec("SELECT set_config('lock_timeout', $1, $2)",
                  {saved_timeout, transaction ? "true" : "false"}, "resetting lock_timeout failed",
                  m_where);
    }
    return;
  }
  if (status == PGRES_TUPLES_OK || state == "55P03") {
    if (!transaction && !saved_timeout.empty()) {
      const char* values[] = {saved_timeout.c_str()};
      PgResult reset(libpq().PQexecParams(conn().get(),
                                          "SELECT set_config('lock_timeout', $1, false)", 1,
                                          nullptr, values, nullptr, nullptr, 0));
    }
    if (transaction) rollback();
    Error error(ErrorKind::lock_timeout,
                fmt::format("another process holds the migration lock on database \"{}\"; gave "
                            "up after {}",
                            m_database, describe_timeout(timeout)));
    error.where = m_where;
    if (!state.empty()) error.code = "SQLSTATE " + state;
    error.detail = lock_holder();
    throw error;
  }
  std::string message = pg_error_field(result.get(), PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = pg_clean_message(libpq().PQerrorMessage(conn().get()));
  Error error(pg_connection_lost(conn().get(), state) ? ErrorKind::unreachable : ErrorKind::failure,
              fmt::format("taking the migration lock failed: {}", message));
  error.where = m_where;
  if (!state.empty()) error.code = "SQLSTATE " + state;
  error.statement = sql;
  throw error;
}

std::string PostgresEngine::lock_holder() const {
  // Advisory locks on a bigint key appear in pg_locks with the key's high half in classid and the
  // low half in objid (objsubid 1). Other roles' client details are hidden from non-superusers.
  std::string sql = fmt::format(
      "SELECT l.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local'), "
      "coalesce(a.usename::text, '') FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
      "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
      "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
      "AND ((l.classid::bigint << 32) | l.objid::bigint) = {} ORDER BY l.pid LIMIT 1",
      k_lock_key);
  PgResult result(libpq().PQexec(conn().get(), sql.c_str()));
  if (libpq().PQresultStatus(result.get()) != PGRES_TUPLES_OK ||
      libpq().PQntuples(result.get()) == 0)
    return {};
  return fmt::format(
      "the lock is held by server process {} (application '{}', role '{}', client {})",
      pg_text(result.get(), 0, 0), pg_text(result.get(), 0, 1), pg_text(result.get(), 0, 3),
      pg_text(result.get(), 0, 2));
}

void PostgresEngine::unlock() noexcept {
  if (!m_conn.is_open() || libpq().PQstatus(m_conn.get()) != CONNECTION_OK) return;
  // A failed transaction would refuse the unlock; it can only be rolled back anyway.
  if (libpq().PQtransactionStatus(m_conn.get()) == PQTRANS_INERROR) rollback();
  std::string sql = fmt::format("SELECT pg_advisory_unlock({})", k_lock_key);
  PgResult result(libpq().PQexec(m_conn.get(), sql.c_str()));
}

void PostgresEngine::commit() {
  if (libpq().PQtransactionStatus(conn().get()) == PQTRANS_INERROR) {
    rollback();
    Error error(ErrorKind::failure,
                "cannot commit: an earlier statement failed and the transaction was rolled back");
    error.where = m_where;
    throw error;
  }
  PgResult result = conn().exec("COMMIT", "committing the transaction failed", m_where);
  // COMMIT of a transaction that failed meanwhile answers ROLLBACK rather than an error.
  if (std::strcmp(libpq().PQcmdStatus(result.get()), "ROLLBACK") == 0) {
    Error error(ErrorKind::failure, "the transaction was rolled back instead of committed");
    error.where = m_where;
    throw error;
  }
}

void PostgresEngine::rollback() noexcept {
  if (!m_conn.is_open() || libpq().PQstatus(m_conn.get()) != CONNECTION_OK) return;
  if (libpq().PQtransactionStatus(m_conn.get()) == PQTRANS_IDLE) return;
  PgResult result(libpq().PQexec(m_conn.get(), "ROLLBACK"));
}

void PostgresEngine::execute(const Script& script) {
  reject_nul_bytes(script);
  std::vector<PgStatement> statements = split_pg_statements(script.sql);
  if (statements.empty()) return;
  // psql's backslash commands (\connect, \set, \i, ...) are read by psql itself and are not SQL:
  // the server would answer with a bare syntax error. Refused before anything runs.
  for (const PgStatement& statement : statements) {
    if (script.sql[statement.begin] != '\\') continue;
    std::string_view text = script.sql.substr(statement.begin, statement.end - statement.begin);
    text = text.substr(0, text.find_first_of("\r\n"));
    const std::string_view command = text.substr(0, text.find_first_of(" \t"));
    Error error(ErrorKind::failure,
                fmt::format("{} is a psql meta-command, not SQL: dbinit sends migrations to the "
                            "server, which does not understand psql's backslash commands",
                            command));
    error.where = fmt::format("{} line {}", script.source, script.first_line + statement.line - 1);
    error.statement = std::string(text);
    error.hint = command == "\\connect" || command == "\\c"
                     ? "remove it: dbinit runs a migration in the database of its URL; give each "
                       "database its own URL (or service in dbinit.toml)"
                     : "remove it, or write what it does in SQL";
    throw error;
  }
  long done = 0;
  if (in_transaction()) {
    // Inside a transaction the script goes in one round trip; the server still reports one
    // result per statement, which tells which statement failed. A migration's own BEGIN / COMMIT
    // (files written for golang-migrate, which does not wrap migrations) would end the run's
    // transaction half-way and release its lock: they are skipped, since the run's transaction
    // already makes the script all-or-nothing. A ROLLBACK would undo the run: an error.
    std::size_t first = 0;
    auto flush = [&](std::size_t end) {
      if (end > first) {
        std::span<const PgStatement> batch(statements.data() + first, end - first);
        run_text(script, batch.front().begin, batch.back().end, batch, done);
      }
    };
    for (std::size_t i = 0; i < statements.size(); ++i) {
      const std::string_view text =
          script.sql.substr(statements[i].begin, statements[i].end - statements[i].begin);
      const bool control = is_transaction_control(text);
      if (!control && !is_rollback(text)) continue;
      flush(i);
      first = i + 1;
      if (control) {
        ++done;
        continue;
      }
      Error error(ErrorKind::failure, "the script rolls back dbinit's transaction");
      error.where =
          fmt::format("{} line {}", script.source, script.first_line + statements[i].line - 1);
      error.statement = std::string(text);
      error.statements_done = done;
      error.hint = "remove ROLLBACK from the migration, or mark it `-- dbinit:no-transaction`";
      throw error;
    }
    flush(statements.size());
    reset_session_after(script, statements);
    return;
  }
  // Autocommit (no-transaction migrations): one statement at a time, so that statements that
  // refuse to run in a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, ...) work.
  for (const PgStatement& statement : statements) {
    run_text(script, statement.begin, statement.end, std::span(&statement, 1), done);
  }
  reset_session_after(script, statements);
}

void PostgresEngine::reset_session_after(const Script& script,
                                         std::span<const PgStatement> statements) {
  // A migration's SET search_path (or role, or timeout) would otherwise apply to the migrations
  // after it in the same session, which then behave differently from a run that starts with
  // them. Only scripts that may change a setting pay the round trip: statements that begin with
  // SET or RESET, and any mention of set_config() or search_path (DO blocks, EXECUTE).
  const bool changes =
      std::any_of(statements.begin(), statements.end(), [&](const PgStatement& st) {
        std::string_view text = script.sql.substr(st.begin, st.end - st.begin);
        return starts_with_word(text, "SET") || starts_with_word(text, "RESET");
      });
  if (changes || find_ci(script.sql, "set_config") != std::string_view::npos ||
      find_ci(script.sql, "search_path") != std::string_view::npos) {
    reset_session();
  }
}

void PostgresEngine::run_text(const Script& script, std::size_t begin, std::size_t end,
                              std::span<const PgStatement> statements, long& done) {
  std::string text(script.sql.substr(begin, end - begin));
  if (!libpq().PQsendQuery(conn().get(), text.c_str())) {
    Error error(ErrorKind::failure,
                fmt::format("sending SQL to the server failed: {}",
                            pg_clean_message(libpq().PQerrorMessage(conn().get()))));
    error.where = statements.empty() ? m_where : script_where(script, script.first_line);
    error.statements_done = done;
    throw error;
  }
  PgResult failed;
  bool copy_refused = false;
  long done_before = done;
  while (PGresult* raw = libpq().PQgetResult(conn().get())) {
    PgResult result(raw);
    switch (libpq().PQresultStatus(raw)) {
      case PGRES_COMMAND_OK:
      case PGRES_TUPLES_OK:
        ++done;
        break;
      case PGRES_COPY_IN:
        // The data of a COPY FROM STDIN is not part of a migration's SQL.
        copy_refused = true;
        libpq().PQputCopyEnd(conn().get(), "COPY FROM STDIN is only supported in init dumps");
        break;
      case PGRES_COPY_OUT: {
        char* buffer = nullptr;
        while (libpq().PQgetCopyData(conn().get(), &buffer, 0) > 0) libpq().PQfreemem(buffer);
        break;
      }
      case PGRES_EMPTY_QUERY:
        break;
      default:
        if (!failed) failed = std::move(result);
        break;
    }
  }
  if (!failed && libpq().PQstatus(conn().get()) != CONNECTION_OK) {
    failed.reset(libpq().PQmakeEmptyPGresult(conn().get(), PGRES_FATAL_ERROR));
  }
  if (!failed) return;
  Error error = sql_error(failed.get(), script, begin, statements, done - done_before);
  error.statements_done = done;
  if (copy_refused) {
    error.hint = "COPY ... FROM stdin data is only read from init dumps; use INSERT in migrations";
  }
  throw error;
}

Error PostgresEngine::sql_error(const PGresult* result, const Script& script, std::size_t begin,
                                std::span<const PgStatement> statements, long done) const {
  std::string message = pg_error_field(result, PG_DIAG_MESSAGE_PRIMARY);
  std::string state = pg_error_field(result, PG_DIAG_SQLSTATE);
  if (message.empty()) {
    message = pg_clean_message(libpq().PQerrorMessage(conn().get()));
    if (libpq().PQstatus(conn().get()) != CONNECTION_OK) {
      message = "lost the connection to the server: " + message;
    }
  }
  Error error(pg_connection_lost(conn().get(), state) ? ErrorKind::unreachable : ErrorKind::failure,
              message);
  if (!state.empty()) error.code = "SQLSTATE " + state;
  error.hint = pg_resource_hint(state);

  // The failing statement: the one holding the error position when the server reports one, else
  // the one after those that completed.
  const PgStatement* statement = nullptr;
  std::optional<std::size_t> offset;
  if (std::string position = pg_error_field(result, PG_DIAG_STATEMENT_POSITION);
      !position.empty()) {
    std::string_view sent = script.sql.substr(begin);
    offset = begin + byte_offset(sent, std::stol(position), client_utf8());
    for (const PgStatement& candidate : statements) {
      if (candidate.begin <= *offset) statement = &candidate;
    }
  }
  if (statement == nullptr && !statements.empty()) {
    statement = &statements[std::min(static_cast<std::size_t>(done), statements.size() - 1)];
  }
  std::size_t line_offset = offset ? *offset : statement != nullptr ? statement->begin : begin;
  int line = script.first_line + count_lines(script.sql.substr(0, line_offset));
  error.where = script_where(script, line);
  if (statement != nullptr) {
    error.statement =
        std::string(script.sql.substr(statement->begin, statement->end - statement->begin));
  }

  error.detail = pg_error_detail(result);
  if (state == "25001") {
    // active_sql_transaction: VACUUM, CREATE INDEX CONCURRENTLY, ALTER SYSTEM, CREATE DATABASE...
    error.hint =
        "the statement cannot run inside a transaction: put `-- dbinit:no-transaction` on a "
        "line of its own before the migration's first statement, and keep such statements in a "
        "migration of their own";
  }
  return error;
}

void PostgresEngine::restore(const Script& script) {
  reject_nul_bytes(script);
  PgScanner scanner(script.sql);
  std::vector<PgStatement> batch;
  long done = 0;
  bool transaction = in_transaction();
  auto flush = [&] {
    if (batch.empty()) return;
    run_text(script, batch.front().begin, batch.back().end, batch, done);
    batch.clear();
  };
  while (scanner.skip_blanks()) {
    if (script.sql[scanner.position()] == '\\' && scanner.at_line_start()) {
      flush();
      std::size_t start = scanner.position();
      int line = scanner.line();
      scanner.skip_line();
      std::string_view text = script.sql.substr(start, scanner.position() - start);
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
      meta_command(script, text, script.first_line + line - 1, done);
      continue;
    }
    PgStatement statement = scanner.next_statement();
    std::string_view text = script.sql.substr(statement.begin, statement.end - statement.begin);
    if (text == ";") continue;
    if (transaction && is_transaction_control(text)) {
      // The run's transaction already makes the restore all-or-nothing; a dump's own
      // BEGIN/COMMIT would end it early.
      flush();
      ++done;
      continue;
    }
    if (is_copy_from_stdin(text)) {
      flush();
      // The data starts on the line after the statement and ends at a line holding only `\.`.
      scanner.skip_line();
      std::size_t data_begin = scanner.position();
      int data_line = scanner.line();
      std::size_t pos = data_begin;
      int lines = 0;
      std::optional<std::size_t> data_end;
      while (pos < script.sql.size()) {
        std::size_t eol = script.sql.find('\n', pos);
        std::size_t line_end = eol == std::string_view::npos ? script.sql.size() : eol;
        std::string_view line = script.sql.substr(pos, line_end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line == "\\.") {
          data_end = pos;
          pos = eol == std::string_view::npos ? script.sql.size() : eol + 1;
          ++lines;
          break;
        }
        pos = eol == std::string_view::npos ? script.sql.size() : eol + 1;
        ++lines;
      }
      if (!data_end) {
        Error error(ErrorKind::failure,
                    "the data of COPY ... FROM stdin does not end with a line holding only \\.");
        error.where = script_where(script, script.first_line + statement.line - 1);
        error.statement = std::string(text);
        error.statements_done = done;
        throw error;
      }
      run_copy(script, statement, script.sql.substr(data_begin, *data_end - data_begin),
               script.first_line + data_line - 1, done);
      scanner.seek(pos, data_line + lines);
      continue;
    }
    batch.push_back(statement);
    if (statement.end - batch.front().begin >= k_restore_batch_bytes) flush();
  }
  flush();
  reset_session();
}

void PostgresEngine::run_copy(const Script& script, const PgStatement& statement,
                              std::string_view data, int data_line, long& done) {
  long done_before = done;
  std::string text(script.sql.substr(statement.begin, statement.end - statement.begin));
  PgResult result(libpq().PQexec(conn().get(), text.c_str()));
  if (libpq().PQresultStatus(result.get()) != PGRES_COPY_IN) {
    PGresult* failed = result.get();
    Error error = sql_error(failed, script, statement.begin, std::span(&statement, 1), 0);
    if (libpq().PQresultStatus(failed) == PGRES_COMMAND_OK ||
        libpq().PQresultStatus(failed) == PGRES_TUPLES_OK) {
      error = Error(ErrorKind::failure, "COPY ... FROM stdin did not start a copy");
      error.where = script_where(script, script.first_line + statement.line - 1);
    }
    error.statements_done = done;
    // Drain whatever else the server sent for the statement.
    while (PGresult* rest = libpq().PQgetResult(conn().get())) libpq().PQclear(rest);
    throw error;
  }
  result.reset();
  bool sent = true;
  for (std::size_t pos = 0; pos < data.size() && sent; pos += k_copy_chunk_bytes) {
    std::string_view chunk = data.substr(pos, k_copy_chunk_bytes);
    sent = libpq().PQputCopyData(conn().get(), chunk.data(), static_cast<int>(chunk.size())) == 1;
  }
  libpq().PQputCopyEnd(conn().get(), sent ? nullptr : "sending COPY data failed");
  PgResult failed;
  while (PGresult* raw = libpq().PQgetResult(conn().get())) {
    PgResult copy_result(raw);
    if (libpq().PQresultStatus(raw) == PGRES_COMMAND_OK) {
      ++done;
    } else if (!failed) {
      failed = std::move(copy_result);
    }
  }
  if (!failed && libpq().PQstatus(conn().get()) != CONNECTION_OK) {
    failed.reset(libpq().PQmakeEmptyPGresult(conn().get(), PGRES_FATAL_ERROR));
  }
  if (!failed) return;
  Error error = sql_error(failed.get(), script, statement.begin, std::span(&statement, 1), 0);
  error.statements_done = done_before;
  // `CONTEXT: COPY items, line 3, column price: "x"` names the data line.
  std::string context = pg_error_field(failed.get(), PG_DIAG_CONTEXT);
  if (std::size_t at = context.find(", line ");
      context.starts_with("COPY ") && at != std::string::npos) {
    int copy_line = std::atoi(context.c_str() + at + 7);
    if (copy_line > 0) error.where = script_where(script, data_line + copy_line - 1);
  }
  throw error;
}

void PostgresEngine::meta_command(const Script& script, std::string_view line_text, int line,
                                  long done) {
  std::string_view rest = line_text.substr(1);
  std::size_t word_end = 0;
  while (word_end < rest.size() && std::isalpha(static_cast<unsigned char>(rest[word_end]))) {
    ++word_end;
  }
  std::string command = lower_ascii(rest.substr(0, word_end));
  std::string_view arguments = rest.substr(word_end);
  // pg_dump (since 17.6, 16.10, 15.14, 14.19, 13.22) brackets its output with
  // \restrict/\unrestrict KEY, which only stop psql from running meta-commands from the data.
  if (command == "restrict" || command == "unrestrict") return;
  if (command == "connect" || command == "c") {
    std::string target = connect_target(arguments);
    if (target.empty() || target == m_database) return;
    Error error(ErrorKind::failure,
                fmt::format("the init dump switches to database \"{}\" (\\connect), but dbinit "
                            "restores it into \"{}\"",
                            target, m_database));
    error.where = script_where(script, line);
    error.statement = std::string(line_text);
    error.statements_done = done;
    error.hint =
        "dump a single database (pg_dump without --create) or point dbinit at the "
        "database the dump connects to";
    throw error;
  }
  Error error(ErrorKind::failure,
              fmt::format("psql meta-command \\{} is not supported in an init dump",
                          command.empty() ? std::string(rest.substr(0, 1)) : command));
  error.where = script_where(script, line);
  error.statement = std::string(line_text);
  error.statements_done = done;
  error.hint =
      "dbinit restores plain SQL and the \\connect, \\restrict and \\unrestrict lines "
      "that pg_dump writes; remove the line or replace it with SQL";
  throw error;
}

void PostgresEngine::reset_session() {
  // pg_dump sets search_path to '' (and client_min_messages, check_function_bodies, row_security,
  // statement_timeout, lock_timeout, ...) for the rest of the session; later migrations would then
  // need schema-qualified names. RESET ALL returns every setting to its connection-time value
  // (the URL's `options` included); SET SESSION AUTHORIZATION DEFAULT also resets the role, which
  // RESET ALL leaves alone. Inside the run's transaction both are rolled back with it.
  conn().exec("SET SESSION AUTHORIZATION DEFAULT", "resetting the session's settings failed",
              m_where);
  conn().exec("RESET ALL", "resetting the session's settings failed", m_where);
}

}  // namespace

std::unique_ptr<Engine> make_postgres_engine(const DatabaseUrl& url) {
  return std::make_unique<PostgresEngine>(url);
}

namespace {

PostgresEngine& as_postgres(Engine& engine) {
  auto* postgres = dynamic_cast<PostgresEngine*>(&engine);
  if (postgres == nullptr) {
    throw Error(ErrorKind::failure,
                fmt::format("the {} engine has no PostgreSQL connection", engine.name()));
  }
  return *postgres;
}

}  // namespace

const PgConnection& postgres_connection(Engine& engine) {
  return as_postgres(engine).connection();
}

const std::string& postgres_where(Engine& engine) {
  return as_postgres(engine).where();
}

const DatabaseUrl& postgres_url(Engine& engine) {
  return as_postgres(engine).url();
}

void postgres_disconnect(Engine& engine) {
  as_postgres(engine).disconnect();
}

}  // namespace dbinit
