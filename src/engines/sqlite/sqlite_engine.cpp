#include "engines/sqlite/sqlite_engine.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "engines/sqlite/sqlite_codes.h"
#include "engines/sqlite/sqlite_script.h"
#include "util/elapsed.h"
#include "util/error.h"

// The SQLite engine. One connection on the database file, opened in SQLITE_OPEN_NOMUTEX mode
// (dbinit uses a connection from one thread only).
//
// Locking: the migration lock is SQLite's own write lock (BEGIN IMMEDIATE), which every process
// that writes the file respects, including the application and processes in other containers
// that share the volume. Runs that are split into several transactions (`no-transaction`
// migrations, `--transaction each`) also hold a session lock between them: an exclusive flock()
// on the sidecar file `<database>.lock`. The sidecar is only created by such runs; begin_locked()
// honours it when it exists (see begin_locked()). An extra descriptor on the database file itself
// must never be opened and closed: closing any descriptor of a file drops all of the process's
// POSIX locks on it, including SQLite's.

namespace dbinit {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// How long reads and commits wait for another connection's lock (a writer's commit, a reader
/// that blocks our commit) when no lock timeout applies.
constexpr milliseconds k_busy_timeout{10'000};
/// How often a waiting flock() is retried.
constexpr milliseconds k_lock_poll{10};

constexpr std::string_view k_ledger_columns =
    "version, name, checksum, state, applied_at, duration_ms, applied_by, down_sql, error";

struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

/// Resets a cached statement when leaving scope, so that it never keeps a read transaction open
/// and its bindings never point at dead strings.
class ResetOnExit {
 public:
  explicit ResetOnExit(sqlite3_stmt* statement) : m_statement(statement) {}
  ~ResetOnExit() {
    sqlite3_reset(m_statement);
    sqlite3_clear_bindings(m_statement);
  }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  sqlite3_stmt* m_statement;
};

std::string column_text(sqlite3_stmt* statement, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
  if (text == nullptr) return {};
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(statement, column)));
}

std::optional<std::string> column_optional(sqlite3_stmt* statement, int column) {
  if (sqlite3_column_type(statement, column) == SQLITE_NULL) return std::nullopt;
  return column_text(statement, column);
}

void bind_text(sqlite3_stmt* statement, int index, std::string_view text) {
  // SQLITE_STATIC: every caller keeps `text` alive until the statement has been stepped.
  sqlite3_bind_text64(statement, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
}

void bind_optional(sqlite3_stmt* statement, int index, const std::optional<std::string>& text) {
  if (text) {
    bind_text(statement, index, *text);
  } else {
    sqlite3_bind_null(statement, index);
  }
}

std::string format_timeout(milliseconds timeout) {
  return duration_text(timeout);
}

milliseconds remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  return std::max(left, milliseconds{0});
}

int busy_ms(milliseconds timeout) {
  return static_cast<int>(std::min<std::int64_t>(timeout.count(), INT_MAX));
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// Parses an on/off URL parameter; nullopt when `value` is neither.
std::optional<bool> parse_switch(std::string_view value) {
  std::string text = lower(value);
  if (text == "on" || text == "1" || text == "true" || text == "yes") return true;
  if (text == "off" || text == "0" || text == "false" || text == "no") return false;
  return std::nullopt;
}

/// Foreign key enforcement switched off for the length of a restore, and back on afterwards
/// whatever happens.
class ForeignKeysOff {
 public:
  explicit ForeignKeysOff(sqlite3* db) : m_db(db) {}
  ~ForeignKeysOff() { release(); }
  ForeignKeysOff(const ForeignKeysOff&) = delete;
  ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

  /// Whether enforcement is on now.
  bool enabled() const {
    int on = 0;
    sqlite3_db_config(m_db, SQLITE_DBCONFIG_ENABLE_FKEY, -1, &on);
    return on != 0;
  }
  /// Switches enforcement off; `was_on` is its state before the restore's pragma was prepared
  /// (preparing PRAGMA foreign_keys=OFF outside a transaction already switches it off).
  void engage(bool was_on) {
    sqlite3_db_config(m_db, SQLITE_DBCONFIG_ENABLE_FKEY, 0, nullptr);
    if (m_engaged) return;
    m_engaged = true;
    m_was_on = was_on;
  }
  /// Restores enforcement; true when it was on before, so that the caller checks the keys.
  bool release() noexcept {
    if (!m_engaged) return false;
    m_engaged = false;
    if (m_was_on) sqlite3_db_config(m_db, SQLITE_DBCONFIG_ENABLE_FKEY, 1, nullptr);
    return m_was_on;
  }

 private:
  sqlite3* m_db;
  bool m_engaged = false;
  bool m_was_on = false;
};

class SqliteEngine final : public Engine {
 public:
  explicit SqliteEngine(DatabaseUrl url);
  ~SqliteEngine() override;
  SqliteEngine(const SqliteEngine&) = delete;
  SqliteEngine& operator=(const SqliteEngine&) = delete;

  std::string_view name() const override { return "sqlite"; }
  bool transactional_ddl() const override { return true; }

  OpenResult open(bool create) override;
  std::string server_version() override;
  bool has_user_tables() override;
  void drop_database() override;

  std::optional<std::vector<LedgerEntry>> read_ledger() override;
  void ensure_ledger() override;
  void record(const LedgerEntry& entry) override;
  void remove(std::string_view version) override;
  std::optional<std::string> meta(std::string_view key) override;
  void set_meta(std::string_view key, std::string_view value) override;

  void begin_locked(milliseconds timeout) override;
  void lock(milliseconds timeout) override;
  void unlock() noexcept override;
  void begin() override;
  void commit() override;
  void rollback() noexcept override;

  void execute(const Script& script) override;
  void restore(const Script& script) override;
  bool rolls_back(const Script&) override { return true; }
  void set_foreign_keys(bool on) override;
  void check_foreign_keys() override;

  std::string schema() override;
  sqlite3* handle() {
    require_open();
    return m_db;
  }

 private:
  /// An Error of `kind` for the connection's last failure: "<what>: <sqlite message>", `where`
  /// the database file, `code` the extended result code's name.
  Error connection_error(ErrorKind kind, std::string_view what) const;
  /// What to do about a full, failing or read-only disk under the database, from the last error
  /// code; empty for any other error.
  std::string storage_hint() const;
  Error lock_timeout_error(milliseconds timeout) const;
  void require_open() const;
  bool in_transaction() const { return sqlite3_get_autocommit(m_db) == 0; }
  /// Runs `sql` (statements without parameters) and throws Error{failure} naming `what`.
  void exec(const char* sql, std::string_view what);
  /// Prepares `sql` once into `slot` and returns it, reset and ready to bind.
  sqlite3_stmt* cached(Statement& slot, const char* sql, std::string_view what);
  Statement prepare(const char* sql, std::string_view what);
  bool table_exists(std::string_view table);
  /// Checks the URL's parameters and, with `apply`, sets them on the open connection. open()
  /// checks them first, before anything is created.
  void apply_url_params(bool apply);
  void run_script(const Script& script, bool restoring);

  /// BEGIN IMMEDIATE under a busy timeout of `timeout`; false when the write lock was not free.
  bool try_begin_immediate(milliseconds timeout);
  /// Takes the flock on the sidecar file, waiting until `deadline`; false on timeout.
  bool acquire_file_lock(Clock::time_point deadline);
  /// Takes the flock on the sidecar file only if it exists and is free right now.
  enum class FileLock { absent, taken, busy };
  FileLock try_existing_file_lock();
  void release_file_lock() noexcept;
  /// Releases the flock that begin_locked() took for the duration of one transaction.
  void end_transaction_lock() noexcept;

  DatabaseUrl m_url;
  std::string m_path;
  std::string m_lock_path;
  /// The source of the last script run (execute, restore): check_foreign_keys() names it, since
  /// the violations it finds were written by that script (`-- dbinit:foreign-keys off`).
  std::string m_last_source;
  sqlite3* m_db = nullptr;
  int m_lock_fd = -1;
  bool m_session_lock = false;  // m_lock_fd is held by lock() rather than by begin_locked()

  Statement m_table_exists;
  Statement m_record;
  Statement m_remove;
};

SqliteEngine::SqliteEngine(DatabaseUrl url)
    : m_url(std::move(url)), m_path(m_url.database), m_lock_path(m_path + ".lock") {}

SqliteEngine::~SqliteEngine() {
  m_table_exists.reset();
  m_record.reset();
  m_remove.reset();
  if (m_db != nullptr) {
    if (in_transaction()) sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close_v2(m_db);
  }
  release_file_lock();
}

Error SqliteEngine::connection_error(ErrorKind kind, std::string_view what) const {
  std::string message(what);
  if (m_db != nullptr) {
    message += ": ";
    message += sqlite3_errmsg(m_db);
  }
  Error error(kind, std::move(message));
  error.where = m_path;
  if (m_db != nullptr) {
    error.code = sqlite_code_name(sqlite3_extended_errcode(m_db));
    error.hint = storage_hint();
  }
  return error;
}

std::string SqliteEngine::storage_hint() const {
  switch (sqlite3_extended_errcode(m_db) & 0xff) {
    case SQLITE_FULL:
      return fmt::format(
          "free space on the disk that holds {} (SQLite needs room for the changes and for its "
          "rollback journal beside the file), then start again",
          m_path);
    case SQLITE_IOERR:
      return fmt::format(
          "the disk that holds {} failed a read or a write: check it (the system log says more), "
          "then start again",
          m_path);
    case SQLITE_READONLY:
      return fmt::format(
          "make {} and its folder writable (by this user, on a file system mounted read-write: "
          "SQLite creates its journal beside the file), then start again",
          m_path);
    default:
      return {};
  }
}

Error SqliteEngine::lock_timeout_error(milliseconds timeout) const {
  Error error(ErrorKind::lock_timeout,
              fmt::format("the migration lock was not acquired within {}: another dbinit or "
                          "another writer holds the write lock on the database",
                          format_timeout(timeout)));
  error.where = m_path;
  error.code = "SQLITE_BUSY";
  error.hint = "wait for the other process to finish, or raise --lock-timeout";
  return error;
}

void SqliteEngine::require_open() const {
  if (m_db == nullptr) {
    Error error(ErrorKind::failure, "the database is not open");
    error.where = m_path;
    throw error;
  }
}

void SqliteEngine::exec(const char* sql, std::string_view what) {
  if (sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw connection_error(ErrorKind::failure, what);
  }
}

Statement SqliteEngine::prepare(const char* sql, std::string_view what) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(m_db, sql, -1, &raw, nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    throw connection_error(ErrorKind::failure, what);
  }
  return Statement(raw);
}

sqlite3_stmt* SqliteEngine::cached(Statement& slot, const char* sql, std::string_view what) {
  if (!slot) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(m_db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK) {
      sqlite3_finalize(raw);
      throw connection_error(ErrorKind::failure, what);
    }
    slot.reset(raw);
  }
  return slot.get();
}

// --- Connection and database ----------------------------------------------------------------

OpenResult SqliteEngine::open(bool create) {
  const bool memory = m_path == ":memory:";
  std::error_code ec;
  apply_url_params(false);
  if (!memory && fs::is_directory(m_path, ec)) {
    Error error(ErrorKind::config, "the SQLite URL names a folder, not a database file");
    error.where = m_url.redacted();
    error.state = "nothing was changed";
    error.hint = "name a file in it: sqlite:folder/app.db";
    throw error;
  }
  const bool exists = memory || fs::exists(m_path, ec);
  if (!exists && !create) return OpenResult::missing;
  if (!exists) {
    fs::path parent = fs::path(m_path).parent_path();
    if (!parent.empty() && !fs::exists(parent, ec)) {
      fs::create_directories(parent, ec);
      if (ec) {
        Error error(ErrorKind::failure,
                    fmt::format("cannot create the folder {} for the database: {}", parent.string(),
                                ec.message()));
        error.where = m_path;
        throw error;
      }
    }
  }

  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (!exists || memory) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(m_path.c_str(), &m_db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error error = connection_error(ErrorKind::config, "cannot open the SQLite database");
    if (m_db == nullptr) error.code = sqlite_code_name(rc);
    sqlite3_close_v2(m_db);
    m_db = nullptr;
    throw error;
  }
  sqlite3_extended_result_codes(m_db, 1);
  sqlite3_busy_timeout(m_db, busy_ms(k_busy_timeout));

  // Reading the schema is the first access to the file's content: a file that is not a database
  // fails here with SQLITE_NOTADB rather than in the middle of a run.
  if (sqlite3_exec(m_db, "SELECT 1 FROM sqlite_master LIMIT 1", nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    const int code = sqlite3_extended_errcode(m_db) & 0xff;
    Error error =
        connection_error(code == SQLITE_BUSY ? ErrorKind::lock_timeout : ErrorKind::config,
                         "cannot read the SQLite database");
    if (code == SQLITE_NOTADB) {
      error.hint = "the URL must name an SQLite database file (or a file that does not exist yet)";
    }
    sqlite3_close_v2(m_db);
    m_db = nullptr;
    throw error;
  }
  apply_url_params(true);
  return exists && !memory ? OpenResult::opened : OpenResult::created;
}

void SqliteEngine::apply_url_params(bool apply) {
  // Foreign keys are enforced by default. SQLite leaves them off for compatibility, but
  // applications turn them on, and SPEC.md's `-- dbinit:foreign-keys off` directive only makes
  // sense when enforcement is the normal state: migrations must see the constraints the
  // application will see. `?foreign_keys=off` restores SQLite's default.
  bool foreign_keys = true;
  for (const auto& [key, value] : m_url.params) {
    if (key == "foreign_keys") {
      std::optional<bool> on = parse_switch(value);
      if (!on) {
        Error error(
            ErrorKind::config,
            fmt::format("SQLite URL parameter foreign_keys must be on or off, not '{}'", value));
        error.where = m_url.redacted();
        throw error;
      }
      foreign_keys = *on;
    } else if (key == "journal_mode") {
      static constexpr std::string_view k_modes[] = {"delete", "truncate", "persist",
                                                     "memory", "wal",      "off"};
      std::string mode = lower(value);
      if (std::find(std::begin(k_modes), std::end(k_modes), mode) == std::end(k_modes)) {
        Error error(ErrorKind::config,
                    fmt::format("SQLite URL parameter journal_mode must be one of delete, "
                                "truncate, persist, memory, wal, off, not '{}'",
                                value));
        error.where = m_url.redacted();
        throw error;
      }
      if (apply) {
        exec(fmt::format("PRAGMA journal_mode={}", mode).c_str(), "cannot set the journal mode");
      }
    } else {
      Error error(ErrorKind::config, fmt::format("unknown SQLite URL parameter '{}'", key));
      error.where = m_url.redacted();
      error.hint = "SQLite URLs accept foreign_keys=on|off and journal_mode=MODE";
      throw error;
    }
  }
  if (!apply) return;
  exec(foreign_keys ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF",
       "cannot set foreign key enforcement");
}

std::string SqliteEngine::server_version() {
  return fmt::format("SQLite {}", sqlite3_libversion());
}

bool SqliteEngine::has_user_tables() {
  require_open();
  Statement statement = prepare(
      "SELECT 1 FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
      "AND tbl_name NOT IN ('dbinit_migrations', 'dbinit_meta') LIMIT 1",
      "cannot list the database's tables");
  int rc = sqlite3_step(statement.get());
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE)
    throw connection_error(ErrorKind::failure, "cannot list the database's tables");
  return false;
}

void SqliteEngine::drop_database() {
  m_table_exists.reset();
  m_record.reset();
  m_remove.reset();
  if (m_db != nullptr) {
    if (in_transaction()) sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close_v2(m_db);
    m_db = nullptr;
  }
  release_file_lock();
  if (m_path == ":memory:" || m_path.empty()) return;
  // The database file last: a crash half-way leaves a database that the next reset removes,
  // never a stale journal or WAL that SQLite would replay into the next database at this path.
  for (const char* suffix : {"-journal", "-wal", "-shm", ".lock", ""}) {
    const std::string file = m_path + suffix;
    std::error_code ec;
    fs::remove(file, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) {
      Error error(ErrorKind::failure, fmt::format("cannot remove {}: {}", file, ec.message()));
      error.where = m_path;
      error.hint = "check the permissions of the file and its folder";
      throw error;
    }
  }
}

// --- Ledger ---------------------------------------------------------------------------------

bool SqliteEngine::table_exists(std::string_view table) {
  sqlite3_stmt* statement =
      cached(m_table_exists, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
             "cannot list the database's tables");
  ResetOnExit reset(statement);
  bind_text(statement, 1, table);
  int rc = sqlite3_step(statement);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE)
    throw connection_error(ErrorKind::failure, "cannot list the database's tables");
  return false;
}

std::optional<std::vector<LedgerEntry>> SqliteEngine::read_ledger() {
  require_open();
  static const std::string k_sql =
      fmt::format("SELECT {} FROM {}", k_ledger_columns, k_ledger_table);
  // Prepared without asking first whether the table exists: it does on every start but the first.
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(m_db, k_sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    raw = nullptr;
    if (!table_exists(k_ledger_table)) return std::nullopt;
    // The table is there now: another starter created it between the two looks. Prepare again,
    // so that an error names what failed this time rather than the earlier "no such table".
    if (sqlite3_prepare_v2(m_db, k_sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
      Error error = connection_error(ErrorKind::failure, "cannot read the ledger");
      sqlite3_finalize(raw);
      throw error;
    }
  }
  Statement statement(raw);
  std::vector<LedgerEntry> entries;
  int rc;
  while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
    sqlite3_stmt* row = statement.get();
    LedgerEntry& entry = entries.emplace_back();
    entry.version = column_text(row, 0);
    entry.name = column_text(row, 1);
    entry.checksum = column_text(row, 2);
    entry.state = parse_ledger_state(column_text(row, 3));
    entry.applied_at = column_text(row, 4);
    entry.duration_ms = sqlite3_column_int64(row, 5);
    entry.applied_by = column_text(row, 6);
    entry.down_sql = column_optional(row, 7);
    entry.error = column_optional(row, 8);
  }
  if (rc != SQLITE_DONE) throw connection_error(ErrorKind::failure, "cannot read the ledger");
  sort_ledger(entries);
  return entries;
}

void SqliteEngine::ensure_ledger() {
  require_open();
  static const std::string k_sql(sqlite_ledger_ddl());
  exec(k_sql.c_str(), "cannot create the ledger");
}

void SqliteEngine::record(const LedgerEntry& entry) {
  require_open();
  static const std::string k_sql =
      fmt::format("INSERT OR REPLACE INTO {} ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                  k_ledger_table, k_ledger_columns);
  sqlite3_stmt* statement = cached(m_record, k_sql.c_str(), "cannot record a migration");
  ResetOnExit reset(statement);
  bind_text(statement, 1, entry.version);
  bind_text(statement, 2, entry.name);
  bind_text(statement, 3, entry.checksum);
  bind_text(statement, 4, to_string(entry.state));
  bind_text(statement, 5, entry.applied_at);
  sqlite3_bind_int64(statement, 6, entry.duration_ms);
  bind_text(statement, 7, entry.applied_by);
  bind_optional(statement, 8, entry.down_sql);
  bind_optional(statement, 9, entry.error);
  if (sqlite3_step(statement) != SQLITE_DONE) {
    throw connection_error(ErrorKind::failure,
                           fmt::format("cannot record migration {} in the ledger", entry.version));
  }
}

void SqliteEngine::remove(std::string_view version) {
  require_open();
  static const std::string k_sql = fmt::format("DELETE FROM {} WHERE version = ?1", k_ledger_table);
  sqlite3_stmt* statement = cached(m_remove, k_sql.c_str(), "cannot update the ledger");
  ResetOnExit reset(statement);
  bind_text(statement, 1, version);
  if (sqlite3_step(statement) != SQLITE_DONE) {
    throw connection_error(ErrorKind::failure,
                           fmt::format("cannot remove migration {} from the ledger", version));
  }
}

std::optional<std::string> SqliteEngine::meta(std::string_view key) {
  require_open();
  if (!table_exists(k_meta_table)) return std::nullopt;
  static const std::string k_sql = fmt::format("SELECT value FROM {} WHERE key = ?1", k_meta_table);
  std::string what = fmt::format("cannot read '{}' from {}", key, k_meta_table);
  Statement statement = prepare(k_sql.c_str(), what);
  bind_text(statement.get(), 1, key);
  int rc = sqlite3_step(statement.get());
  if (rc == SQLITE_ROW) return column_optional(statement.get(), 0);
  if (rc != SQLITE_DONE) throw connection_error(ErrorKind::failure, what);
  return std::nullopt;
}

void SqliteEngine::set_meta(std::string_view key, std::string_view value) {
  require_open();
  static const std::string k_sql =
      fmt::format("INSERT OR REPLACE INTO {} (key, value) VALUES (?1, ?2)", k_meta_table);
  std::string what = fmt::format("cannot store '{}' in {}", key, k_meta_table);
  Statement statement = prepare(k_sql.c_str(), what);
  bind_text(statement.get(), 1, key);
  bind_text(statement.get(), 2, value);
  if (sqlite3_step(statement.get()) != SQLITE_DONE) {
    throw connection_error(ErrorKind::failure, what);
  }
}

// --- Lock and transactions --------------------------------------------------------------------

bool SqliteEngine::try_begin_immediate(milliseconds timeout) {
  sqlite3_busy_timeout(m_db, busy_ms(timeout));
  int rc = sqlite3_exec(m_db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) return true;
  if ((sqlite3_extended_errcode(m_db) & 0xff) == SQLITE_BUSY) return false;
  throw connection_error(ErrorKind::failure, "cannot begin a transaction");
}

bool SqliteEngine::acquire_file_lock(Clock::time_point deadline) {
  if (m_lock_fd < 0) {
    m_lock_fd = ::open(m_lock_path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
    if (m_lock_fd < 0) {
      Error error(ErrorKind::failure, fmt::format("cannot open the lock file {}: {}", m_lock_path,
                                                  std::strerror(errno)));
      error.where = m_path;
      throw error;
    }
  }
  while (true) {
    if (::flock(m_lock_fd, LOCK_EX | LOCK_NB) == 0) return true;
    if (errno != EWOULDBLOCK && errno != EINTR) {
      int saved = errno;
      release_file_lock();
      Error error(ErrorKind::failure,
                  fmt::format("cannot lock {}: {}", m_lock_path, std::strerror(saved)));
      error.where = m_path;
      throw error;
    }
    milliseconds left = remaining(deadline);
    if (left.count() == 0) {
      release_file_lock();
      return false;
    }
    std::this_thread::sleep_for(std::min(left, k_lock_poll));
  }
}

SqliteEngine::FileLock SqliteEngine::try_existing_file_lock() {
  int fd = ::open(m_lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  // Any other failure goes the waiting way, which reports it.
  if (fd < 0) return errno == ENOENT ? FileLock::absent : FileLock::busy;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return FileLock::busy;
  }
  m_lock_fd = fd;
  return FileLock::taken;
}

void SqliteEngine::release_file_lock() noexcept {
  if (m_lock_fd >= 0) {
    ::flock(m_lock_fd, LOCK_UN);
    ::close(m_lock_fd);
  }
  m_lock_fd = -1;
  m_session_lock = false;
}

void SqliteEngine::end_transaction_lock() noexcept {
  if (!m_session_lock) release_file_lock();
}

// The write lock alone excludes every other writer, but not a dbinit run that holds the session
// lock between two of its transactions. So when the sidecar lock file exists, its flock must be
// held too. The sidecar's existence is checked again once the write lock is held: a session that
// creates it afterwards waits for our write lock in lock() before it reads anything.
void SqliteEngine::begin_locked(milliseconds timeout) {
  require_open();
  const auto deadline = Clock::now() + timeout;
  const bool session = m_session_lock;
  bool file_lock_needed = false;
  while (true) {
    if (file_lock_needed && !session && !acquire_file_lock(deadline)) {
      throw lock_timeout_error(timeout);
    }
    if (!try_begin_immediate(remaining(deadline))) {
      end_transaction_lock();
      throw lock_timeout_error(timeout);
    }
    if (session || m_lock_fd >= 0) break;
    FileLock file_lock = m_path == ":memory:" ? FileLock::absent : try_existing_file_lock();
    if (file_lock != FileLock::busy) break;
    sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    file_lock_needed = true;
  }
  sqlite3_busy_timeout(m_db, busy_ms(std::max(timeout, k_busy_timeout)));
}

void SqliteEngine::lock(milliseconds timeout) {
  require_open();
  if (m_session_lock || m_path == ":memory:") return;
  const auto deadline = Clock::now() + timeout;
  if (!acquire_file_lock(deadline)) throw lock_timeout_error(timeout);
  m_session_lock = true;
  // A begin_locked() transaction that started before the sidecar existed does not hold its flock:
  // wait for it to end before the caller reads anything.
  bool got = false;
  try {
    got = try_begin_immediate(remaining(deadline));
  } catch (...) {
    release_file_lock();
    throw;
  }
  if (!got) {
    release_file_lock();
    throw lock_timeout_error(timeout);
  }
  sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_busy_timeout(m_db, busy_ms(std::max(timeout, k_busy_timeout)));
}

void SqliteEngine::unlock() noexcept {
  if (m_session_lock) release_file_lock();
}

void SqliteEngine::begin() {
  require_open();
  int rc = sqlite3_exec(m_db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) return;
  bool busy = (sqlite3_extended_errcode(m_db) & 0xff) == SQLITE_BUSY;
  throw connection_error(busy ? ErrorKind::lock_timeout : ErrorKind::failure,
                         "cannot begin a transaction");
}

void SqliteEngine::commit() {
  require_open();
  if (sqlite3_exec(m_db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    // A failed COMMIT (deferred foreign keys, a reader that did not let go in time) leaves the
    // transaction open; end it so that the database stays as it was.
    Error error = connection_error(ErrorKind::failure, "cannot commit");
    rollback();
    throw error;
  }
  end_transaction_lock();
}

void SqliteEngine::rollback() noexcept {
  if (m_db != nullptr) {
    // After an I/O error (a full disk) SQLite has often rolled back already, but only in memory:
    // the file may still hold the transaction's pages, with the journal that undoes them. The next
    // read plays the journal back, so that the file is as it was and the journal gone before this
    // process ends, rather than whenever some later connection opens the database.
    if (in_transaction()) sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_exec(m_db, "SELECT 1 FROM sqlite_master LIMIT 1", nullptr, nullptr, nullptr);
  }
  end_transaction_lock();
}

// --- Execution --------------------------------------------------------------------------------

void SqliteEngine::execute(const Script& script) {
  run_script(script, false);
}

void SqliteEngine::restore(const Script& script) {
  run_script(script, true);
}

void SqliteEngine::run_script(const Script& script, bool restoring) {
  require_open();
  // sqlite3_prepare stops at a NUL byte and reports an empty statement that ends there: without
  // this check the loop below would never get past it.
  reject_nul_bytes(script);
  m_last_source = script.source;
  // sqlite3_prepare reads a NUL-terminated copy: when given a length without the terminator it
  // copies the whole remaining text for every statement.
  const std::string sql(script.sql);
  const char* const begin = sql.c_str();
  const std::size_t size = sql.size();
  if (size >= static_cast<std::size_t>(INT_MAX)) {
    Error error(ErrorKind::failure, "the script is larger than SQLite accepts (2 GiB)");
    error.where = script.source;
    throw error;
  }
  LineCounter lines(sql, script.first_line);
  long done = 0;
  // Transaction statements of the script itself are only an issue inside the caller's
  // transaction; in autocommit mode they run as written.
  const bool outer_transaction = in_transaction();
  ForeignKeysOff foreign_keys_off(m_db);

  std::size_t pos = 0;
  while (true) {
    pos = skip_space_and_comments(sql, pos);
    if (pos >= size) break;
    const char* start = begin + pos;
    const bool foreign_keys_were_on =
        restoring && (*start == 'p' || *start == 'P') && foreign_keys_off.enabled();
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(m_db, start, static_cast<int>(size - pos) + 1, &raw, &tail);
    Statement statement(raw);

    auto fail = [&](int offset) {
      std::string_view text = statement
                                  ? std::string_view(start, static_cast<std::size_t>(tail - start))
                                  : statement_text(sql, pos);
      Error error(ErrorKind::failure, sqlite3_errmsg(m_db));
      error.code = sqlite_code_name(sqlite3_extended_errcode(m_db));
      std::size_t at = pos;
      if (offset >= 0 && static_cast<std::size_t>(offset) < text.size()) {
        at += static_cast<std::size_t>(offset);
      }
      error.where = fmt::format("{} line {}", script.source, lines.line_at(at));
      error.statement = std::string(trim_statement(text));
      error.statements_done = done;
      error.hint = storage_hint();
      if (error.hint.empty() &&
          (error.message().find("within a transaction") != std::string::npos ||
           error.message().find("inside a transaction") != std::string::npos)) {
        // VACUUM, journal_mode=WAL, PRAGMA synchronous and the like refuse to run in the run's
        // transaction.
        error.hint =
            "the statement cannot run inside a transaction: put `-- dbinit:no-transaction` on a "
            "line of its own before the migration's first statement";
      }
      return error;
    };

    if (rc != SQLITE_OK) throw fail(sqlite3_error_offset(m_db));
    const std::size_t next = static_cast<std::size_t>(tail - begin);
    if (next <= pos) {
      // SQLite made no progress: text it cannot read (reject_nul_bytes() catches the one known
      // case). Failing is better than spinning here forever under the write lock.
      Error error(ErrorKind::failure, "SQLite cannot read the SQL text here");
      error.where = fmt::format("{} line {}", script.source, lines.line_at(pos));
      error.statements_done = done;
      throw error;
    }
    if (!statement) {
      pos = next;
      continue;
    }

    const std::string_view text(start, next - pos);
    const TransactionControl control = transaction_control(text);
    if (control != TransactionControl::none && outer_transaction) {
      if (control != TransactionControl::rollback) {
        // The script brings its own BEGIN / COMMIT: sqlite3 `.dump` output, or a migration written
        // for a tool that does not wrap migrations in a transaction (golang-migrate). The run's
        // transaction already makes the script all-or-nothing, so they are skipped.
        pos = next;
        continue;
      }
      Error error(ErrorKind::failure,
                  restoring ? "the dump ends in ROLLBACK: the tool that wrote it met errors"
                            : "the script rolls back dbinit's transaction");
      error.where = fmt::format("{} line {}", script.source, lines.line_at(pos));
      error.statement = std::string(trim_statement(text));
      error.statements_done = done;
      error.hint = restoring ? "write the dump again"
                             : "remove ROLLBACK from the migration, or mark it "
                               "`-- dbinit:no-transaction`";
      throw error;
    }
    if (restoring && is_foreign_keys_off(text)) {
      // sqlite3 `.dump` starts with PRAGMA foreign_keys=OFF so that tables can be filled in the
      // order they were created, children before parents. The pragma does nothing inside a
      // transaction, so the restore switches enforcement off through sqlite3_db_config, which
      // has no such limit, and checks every foreign key once the dump is in.
      foreign_keys_off.engage(foreign_keys_were_on);
      pos = next;
      continue;
    }

    while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) throw fail(-1);
    ++done;
    pos = next;
  }
  if (foreign_keys_off.release()) {
    try {
      check_foreign_keys();
    } catch (Error& error) {
      error.where = script.source;
      error.statements_done = done;
      throw;
    }
  }
}

void SqliteEngine::set_foreign_keys(bool on) {
  require_open();
  if (in_transaction()) {
    // SQLite silently ignores PRAGMA foreign_keys inside a transaction.
    Error error(ErrorKind::failure,
                "foreign key enforcement cannot be changed inside a transaction on SQLite");
    error.where = m_path;
    throw error;
  }
  exec(on ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF",
       "cannot change foreign key enforcement");
}

void SqliteEngine::check_foreign_keys() {
  require_open();
  constexpr std::size_t k_shown = 5;
  Statement statement = prepare("PRAGMA foreign_key_check", "cannot check foreign keys");
  std::vector<std::string> shown;
  std::size_t count = 0;
  int rc;
  while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
    if (++count > k_shown) continue;
    sqlite3_stmt* row = statement.get();
    std::string table = column_text(row, 0);
    std::string parent = column_text(row, 2);
    if (sqlite3_column_type(row, 1) == SQLITE_NULL) {
      shown.push_back(fmt::format("a row of {} references a missing row of {}", table, parent));
    } else {
      shown.push_back(fmt::format("{} rowid {} references a missing row of {}", table,
                                  sqlite3_column_int64(row, 1), parent));
    }
  }
  if (rc != SQLITE_DONE) throw connection_error(ErrorKind::failure, "cannot check foreign keys");
  if (count == 0) return;
  std::string message = fmt::format("{} foreign key violation{}: {}", count, count == 1 ? "" : "s",
                                    fmt::join(shown, "; "));
  if (count > k_shown) message += fmt::format("; and {} more", count - k_shown);
  Error error(ErrorKind::failure, std::move(message));
  // The violations were written by the script that ran with foreign keys off: name it rather than
  // the database file.
  error.where = m_last_source.empty() ? m_path : m_last_source;
  error.code = "SQLITE_CONSTRAINT_FOREIGNKEY";
  error.hint = "fix the rows or the migration; PRAGMA foreign_key_check lists every violation";
  throw error;
}

// --- Schema -----------------------------------------------------------------------------------

std::string SqliteEngine::schema() {
  require_open();
  return k_sqlite_schema_support.render(read_for_rendering(k_sqlite_schema_support, *this));
}

}  // namespace

void configure_sqlite_library() {
  // SQLITE_MISUSE once SQLite is initialised: the statistics then stay on, which is only slower.
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

sqlite3* sqlite_handle(Engine& engine) {
  return dynamic_cast<SqliteEngine&>(engine).handle();
}

std::string_view sqlite_ledger_ddl() {
  static const std::string k_sql = fmt::format(
      "CREATE TABLE IF NOT EXISTS {} (\n"
      "  version TEXT PRIMARY KEY,\n"
      "  name TEXT NOT NULL,\n"
      "  checksum TEXT NOT NULL,\n"
      "  state TEXT NOT NULL,\n"
      "  applied_at TEXT NOT NULL,\n"
      "  duration_ms INTEGER NOT NULL,\n"
      "  applied_by TEXT NOT NULL,\n"
      "  down_sql TEXT,\n"
      "  error TEXT\n"
      ");\n"
      "CREATE TABLE IF NOT EXISTS {} (\n"
      "  key TEXT PRIMARY KEY,\n"
      "  value TEXT\n"
      ");",
      k_ledger_table, k_meta_table);
  return k_sql;
}

std::unique_ptr<Engine> make_sqlite_engine(const DatabaseUrl& url) {
  return std::make_unique<SqliteEngine>(url);
}

}  // namespace dbinit
