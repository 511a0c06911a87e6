#pragma once

// The engine boundary. The runner (src/core) drives every database through this interface and never
// sees an engine's client library; each engine (src/engines/{sqlite,postgres,mysql}) implements it
// on the engine's own C API. Engines never read environment variables or print anything: the CLI
// resolves configuration once and hands an engine its parsed URL.
//
// Every method throws dbinit::Error on failure, with `code` set to the engine's own error code and,
// for SQL failures, `where` naming the script's source line. "Nothing there" is an empty optional
// or an empty vector, never an error.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engines/schema_model.h"
#include "engines/url.h"

namespace dbinit {

struct SnapshotSupport;  // engines/snapshot.h

/// The table dbinit keeps its state in (SPEC.md "The ledger").
inline constexpr std::string_view k_ledger_table = "dbinit_migrations";
/// The key/value companion table of the ledger (`Engine::meta`).
inline constexpr std::string_view k_meta_table = "dbinit_meta";
/// Meta key: the environment recorded by the last `up` (`production`, `development`).
inline constexpr std::string_view k_meta_environment = "environment";
/// Meta key prefix, followed by a version: how `repair --accept-checksum` replaced that
/// migration's checksum (`<old> -> <new> at <time> by <who>`).
inline constexpr std::string_view k_meta_accepted_checksum = "accepted_checksum:";

enum class LedgerState { applied, baseline, failed };

std::string_view to_string(LedgerState state);
/// Parses `applied`, `baseline` or `failed`; anything else is an Error{failure} (a corrupt ledger).
LedgerState parse_ledger_state(std::string_view text);

/// One row of the ledger.
struct LedgerEntry {
  std::string version;   // digits, leading zeros removed, "0" for all zeros
  std::string name;      // the migration's file name
  std::string checksum;  // "sha256:<hex>"
  LedgerState state = LedgerState::applied;
  std::string applied_at;  // UTC ISO-8601, `2026-11-22T03:16:26Z`
  std::int64_t duration_ms = 0;
  std::string applied_by;               // `user@host dbinit 0.1.0`
  std::optional<std::string> down_sql;  // the down section as applied
  std::optional<std::string> error;     // for `failed` rows
};

/// Puts ledger rows in version order. Versions are digit strings without leading zeros, so
/// (length, text) is numeric order. Engines sort the rows they read here rather than with ORDER BY,
/// which would pass every row, down SQL included, through the server's sorter.
void sort_ledger(std::vector<LedgerEntry>& entries);

/// SQL text to execute, with where it came from so that errors can name the file line.
struct Script {
  std::string_view sql;
  /// Display path of the file the text comes from (`db/migrations/0003-add-email.sql`).
  std::string source;
  /// The line of `source` on which `sql` begins (1-based).
  int first_line = 1;
};

/// Throws Error{failure} when `script` holds a NUL byte, with `where` = `<source> line <N>` of the
/// first one. No engine can run such text as written: SQLite and libpq read SQL as NUL-terminated C
/// strings (the rest would be cut off silently, or parsed without end) and servers refuse it.
/// Every engine calls this first in execute() and restore().
void reject_nul_bytes(const Script& script);

/// What `Engine::open` found.
enum class OpenResult {
  opened,   // the database existed and is open
  created,  // the database did not exist, was created and is open
  missing,  // the database does not exist and `create` was false; the engine is not open
};

class Engine {
 public:
  virtual ~Engine() = default;

  // --- Identity -------------------------------------------------------------------------------

  /// "sqlite", "postgres" or "mysql".
  virtual std::string_view name() const = 0;
  /// True when DDL can be rolled back (SQLite, PostgreSQL): the runner then makes a whole run one
  /// transaction. False for MySQL, where DDL commits implicitly and each migration is guarded by a
  /// `failed` "in progress" ledger row instead.
  virtual bool transactional_ddl() const = 0;

  // --- Connection and database ----------------------------------------------------------------

  /// Connects to the database, creating it first when it does not exist and `create` is true
  /// (SQLite: the file and its parent folders; servers: CREATE DATABASE through the maintenance
  /// database). Called first; after it returned `missing`, it may be called again with `create`
  /// (an engine may then skip looking for the database again). Throws Error{unreachable} when the
  /// server does not accept connections (the runner retries that under --wait) and Error{auth}
  /// when credentials are rejected (never retried).
  virtual OpenResult open(bool create) = 0;
  /// The server's version string (`PostgreSQL 15.18`, `SQLite 3.40.1`, `MariaDB 10.11.19`).
  virtual std::string server_version() = 0;
  /// True when the database holds any table or view besides dbinit's own tables.
  virtual bool has_user_tables() = 0;
  /// Drops the database the engine points to and closes the connection; may be called whether
  /// the engine is open or not, and open() may be called again afterwards. SQLite removes the file
  /// and its `-journal`, `-wal`, `-shm` and `.lock` side files; PostgreSQL connects to the
  /// maintenance database and runs DROP DATABASE ... WITH (FORCE), which ends other sessions on
  /// it; MySQL runs DROP DATABASE. A database that does not exist is not an error. Callers guard
  /// it (core/guard.h): the runner uses it for `reset` / `up --clean`, and for scratch databases.
  virtual void drop_database() = 0;

  // --- Ledger ---------------------------------------------------------------------------------

  /// The ledger's rows in version order, or nullopt when the ledger table does not exist.
  virtual std::optional<std::vector<LedgerEntry>> read_ledger() = 0;
  /// Creates the ledger and meta tables if missing. Called inside the run's transaction when
  /// there is one, so a failed first run leaves no ledger behind.
  virtual void ensure_ledger() = 0;
  /// Inserts or replaces the row for `entry.version`.
  virtual void record(const LedgerEntry& entry) = 0;
  /// Inserts or replaces the rows of `entries` (distinct versions), as record() one by one would.
  /// Runs inside a transaction: a server engine writes them in few statements, not one round
  /// trip per migration.
  virtual void record_all(std::span<const LedgerEntry> entries) {
    for (const LedgerEntry& entry : entries) record(entry);
  }
  /// Deletes the row for `version`; no row is not an error.
  virtual void remove(std::string_view version) = 0;
  /// The value stored under `key` in the meta table, or nullopt when there is none (or no meta
  /// table). Keys in use: k_meta_environment, and k_meta_accepted_checksum + version.
  virtual std::optional<std::string> meta(std::string_view key) = 0;
  /// Stores `value` under `key` in the meta table, replacing any earlier value. Requires
  /// ensure_ledger().
  virtual void set_meta(std::string_view key, std::string_view value) = 0;

  // --- Lock and transactions --------------------------------------------------------------------

  /// Begins a transaction that holds the migration lock until commit() or rollback(). Waits up to
  /// `timeout` for a concurrent holder, then throws Error{lock_timeout}. SQLite: BEGIN IMMEDIATE
  /// under a busy timeout; PostgreSQL: BEGIN + pg_advisory_xact_lock. Engines without
  /// transactional DDL take their session lock here and release it at commit/rollback.
  virtual void begin_locked(std::chrono::milliseconds timeout) = 0;
  /// Takes the migration lock for the session, for runs that are not one transaction; waits up to
  /// `timeout`, then throws Error{lock_timeout}. Held until unlock() or the connection closes.
  virtual void lock(std::chrono::milliseconds timeout) = 0;
  virtual void unlock() noexcept = 0;
  /// Takes the lock that `reset` holds from before it drops the database until the engine is
  /// destroyed (after the run that follows), so that two resets never drop the database under
  /// each other's run. Waits up to `timeout`, then throws Error{lock_timeout}. Held where dropping
  /// the database does not end it: PostgreSQL, whose DROP DATABASE ... WITH (FORCE) ends every
  /// session on the database, takes an advisory lock on a connection to the maintenance
  /// database. Engines whose drop does not end other sessions' locks do nothing here.
  virtual void lock_for_reset(std::chrono::milliseconds timeout) { (void)timeout; }
  /// Plain transactions, used between lock() and unlock().
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;

  // --- Execution --------------------------------------------------------------------------------

  /// Runs every statement of `script` in order, in whatever transaction is open (or in autocommit
  /// when none is). On failure throws Error{failure} with `where` = `<source> line <N>` of the
  /// failing statement, `code` the engine's code, `statement` its text and `statements_done` the
  /// number of statements that completed.
  virtual void execute(const Script& script) = 0;
  /// Like execute(), for an init dump: also understands what the engine's own dump tool writes
  /// (sqlite3 `.dump` BEGIN/COMMIT lines, pg_dump COPY blocks and psql meta-commands, mysqldump
  /// DELIMITER blocks).
  virtual void restore(const Script& script) = 0;
  /// True when `script` can run inside a transaction that a failure rolls back completely. Always
  /// true on SQLite and PostgreSQL; on MySQL only when every statement is DML (INSERT, UPDATE,
  /// DELETE, ...), since DDL commits implicitly there.
  virtual bool rolls_back(const Script& script) = 0;
  /// Turns foreign key enforcement on or off for the connection. SQLite only allows this outside a
  /// transaction, so the runner calls it between transactions (`-- dbinit:foreign-keys off`).
  /// Engines without the notion do nothing.
  virtual void set_foreign_keys(bool on) = 0;
  /// Throws Error{failure} naming the first violations when any foreign key is violated (SQLite:
  /// PRAGMA foreign_key_check), with `where` = the source of the script executed last (the
  /// migration that ran with foreign keys off). Engines that always enforce foreign keys do
  /// nothing.
  virtual void check_foreign_keys() = 0;
};

// --- Schema support, beside the contract
// ----------------------------------------------------------

/// What an engine offers for schema files, diagrams and comparisons (engines/schema_model.h). Not
/// part of Engine: the functions work on an open engine of their own kind, and a renderer is a pure
/// function of the model.
struct SchemaSupport {
  /// Reads the schema of `engine` (open, of this kind) from the catalogs; leaves out dbinit's own
  /// tables. Runs inside whatever transaction is open and changes nothing.
  SchemaModel (*read)(Engine& engine) = nullptr;
  /// `model` as one script of engine-native DDL in a deterministic, dependency-safe order, that
  /// the engine's own shell and Engine::restore() both run on an empty database. Without server
  /// version, date or owner. Ends with one newline; empty for an empty model.
  std::string (*render)(const SchemaModel& model) = nullptr;
  /// The statements that create the ledger and meta tables when missing, as ensure_ledger()
  /// runs them, each ending in `;\n`.
  std::string (*ledger_ddl)() = nullptr;
  /// `text` as a string literal of the engine's SQL (`'it''s'`; MySQL also escapes `\`).
  std::string (*quote_literal)(std::string_view text) = nullptr;
  /// True when a backslash escapes the next character inside a string literal (MySQL's default
  /// sql_mode), so that a reader of quote_literal()'s output knows how to read it back.
  bool backslash_escapes = false;
  /// An SQL expression for the current UTC time as `2026-11-22T03:16:26Z` (the ledger's
  /// applied_at format).
  std::string_view utc_now_sql;
  /// Optional: reads only what render() uses (each object's name, definition and order), for an
  /// engine where that is much cheaper than read(); nullptr where read() is the way.
  SchemaModel (*read_definitions)(Engine& engine) = nullptr;
};

/// The model render() needs of `engine`: read_definitions() where the engine has it, else read().
SchemaModel read_for_rendering(const SchemaSupport& support, Engine& engine);

/// The current schema of an open engine as its SchemaSupport renders it: engine-native DDL in a
/// stable order, without dbinit's own tables. What verify and baseline --detect compare.
std::string schema_text(Engine& engine);

// --- The registry -------------------------------------------------------------------------------

/// One engine as the registry (engine.cpp) lists it: what the URL parser, the migration loader and
/// the core may know about an engine without opening a database. Adding an engine is a folder under
/// src/engines/ and one entry here.
struct EngineInfo {
  /// The canonical name: `DatabaseUrl::engine`, `Engine::name()`, the migration file suffix
  /// (`0003-add-index.sqlite.sql`).
  std::string_view name;
  /// Other names accepted for the engine, as URL schemes and as file-name suffixes (`sqlite3`).
  std::span<const std::string_view> aliases;
  /// True when a database is a file that the URL names by its path (`sqlite:path/to/file.db`,
  /// no `//user:password@host`), so that scratch databases (verify, baseline --detect) are files
  /// in a temporary folder. False for server engines, whose scratch databases are created on the
  /// server of the URL.
  bool file_databases = false;
  /// Builds the engine for `url` (url.engine == name). Does not connect: see Engine::open().
  std::unique_ptr<Engine> (*make)(const DatabaseUrl& url) = nullptr;
  /// Schema files, diagrams and schema comparisons on this engine.
  const SchemaSupport* schema = nullptr;
  /// Snapshots (`dump`, `load`) on this engine (engines/snapshot.h).
  const SnapshotSupport* snapshot = nullptr;
};

/// Every engine dbinit is built with, the embedded default (SQLite) first.
std::span<const EngineInfo> engine_registry();

/// The engine whose name or alias is `name` (compared without regard to case), or nullptr.
const EngineInfo* find_engine(std::string_view name);

/// The engine used when no server is named: the first file engine of the registry (SQLite). The
/// scratch databases of `verify` without --url are of this engine.
const EngineInfo& embedded_engine();

/// The schema support of the engine `engine` (`Engine::name()`).
const SchemaSupport& schema_support(const Engine& engine);

/// Builds the engine registered for `url.engine`. Throws Error{config} for an unknown engine.
std::unique_ptr<Engine> make_engine(const DatabaseUrl& url);

/// Process-wide settings of the engines' client libraries, for a program that is dbinit rather than
/// a service embedding the core: SQLite without its memory statistics, which cost a global mutex
/// per allocation (about a sixth of reading a large schema). Call once, before any engine is made.
void configure_engine_libraries();

/// The canonical names of the registry's engines, for messages: "sqlite, postgres, mysql".
std::string_view known_engines();

}  // namespace dbinit
