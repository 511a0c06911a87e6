#pragma once

// The runner: what `up`, `status` and `check` do, on any engine. It reads the migration files and
// the ledger, plans (core/plan.h), takes the migration lock only when there is work, re-plans under
// the lock, and applies. On engines with transactional DDL the whole run is one transaction by
// default; elsewhere, and around migrations that cannot run in a transaction, each step is guarded
// by a `failed` "in progress" ledger row so that an interrupted run is never mistaken for a
// finished one.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/connect.h"
#include "core/migration.h"
#include "core/plan.h"
#include "core/project.h"
#include "core/reporter.h"
#include "core/session.h"
#include "engines/engine.h"
#include "engines/snapshot.h"

namespace dbinit {

struct UpOptions {
  ConnectOptions connect;
  std::optional<Version> to;
  bool dry_run = false;
  std::chrono::milliseconds lock_timeout{60'000};
  TransactionMode transaction = TransactionMode::all;
  bool allow_missing = false;
  /// `reset` / `up --clean`: drop the database first, if the guard (core/guard.h) allows it.
  bool clean = false;
  /// How the clean is named in messages (`reset`, `up --clean`).
  std::string clean_operation = "reset";
  /// --yes / DBINIT_YES=1.
  bool confirmed = false;
  /// Asks the user to type the database's name (shown as `target`) and returns what was typed;
  /// empty when nobody can be asked (stdin is not a terminal).
  std::function<std::string(const std::string& name, const std::string& target)> ask;
  /// --skip-seed / DBINIT_SKIP_SEED=1: do not apply the seeds to an empty database.
  bool skip_seed = false;
  /// Build an empty database from the schema file when it is up to date (SPEC step 4); false
  /// with --no-schema-file.
  bool use_schema_file = true;
  /// --load NAME / DBINIT_LOAD: the snapshot to load into an empty database (SPEC step 4); empty:
  /// `_init` when the backups folder has it (unless use_init_snapshot is false).
  std::string load;
  /// Load the `_init` snapshot into an empty database; false for `seed --record`, which rebuilds
  /// it.
  bool use_init_snapshot = true;
  /// --backup-before: take a snapshot `pre-<version>-<time>` before applying pending migrations
  /// (only when there are some); on an engine without transactional DDL, load it back when a
  /// migration fails.
  bool backup_before = false;
  /// Where snapshot loads and dumps report their progress; nullptr: nowhere.
  SnapshotProgress* progress = nullptr;
};

struct AppliedMigration {
  std::string version;
  std::string name;
  std::int64_t duration_ms = 0;
};

struct UpResult {
  std::string engine;
  std::string url;  // redacted
  bool created = false;
  /// The database was dropped first (`reset`, `up --clean`).
  bool dropped = false;
  /// Display paths of the init dump files restored, in order.
  std::vector<std::string> restored;
  /// `restored` is the schema file rather than an init dump.
  bool from_schema_file = false;
  /// Display paths of the seed files applied, in order.
  std::vector<std::string> seeded;
  /// The snapshot loaded into the empty database (`--load NAME`, `_init`); empty when none.
  std::string loaded_snapshot;
  /// The snapshot taken by --backup-before; empty when none was taken.
  std::string backup;
  /// A migration failed and the --backup-before snapshot was loaded back.
  bool backup_restored = false;
  std::vector<AppliedMigration> applied;
  /// With --dry-run: what would be applied.
  std::vector<AppliedMigration> planned;
  /// The version the database is at afterwards (empty: none applied).
  std::optional<Version> version;
  /// Pending migrations left (beyond --to).
  int pending = 0;
  /// Migrations already applied when the run started.
  int skipped = 0;
  std::int64_t duration_ms = 0;
};

/// `dbinit up` (SPEC.md steps 1-7; the hooks of step 8 are the caller's, core/hooks.h), and with
/// `options.clean` `reset` / `up --clean`. Throws Error with `state` and `hint` filled in.
UpResult run_up(const Project& project, const UpOptions& options, Reporter& reporter);

/// What `status` and `check` show. Owns the files and ledger rows that `status` points into.
struct StatusReport {
  std::string engine;
  std::string url;  // redacted
  bool database_exists = false;
  bool has_ledger = false;
  /// Environment recorded in the database by `up`, if any.
  std::optional<std::string> environment;
  MigrationSet files;
  std::vector<LedgerEntry> ledger;
  Status status;

  StatusReport() = default;
  StatusReport(const StatusReport&) = delete;
  StatusReport& operator=(const StatusReport&) = delete;
};

/// Reads files and ledger without changing anything (a missing database is reported, not created).
std::unique_ptr<StatusReport> read_status(const Project& project, const ConnectOptions& options,
                                          Reporter& reporter);

/// `dbinit check`: returns normally when the database is at the latest migration with no drift;
/// otherwise throws Error{not_current} (or the drift / failed error) with the reason.
void check_current(const StatusReport& report);

/// The init dump files for `init_path` in the order they are restored: the file itself when it is
/// a file; else `init.sql`, `init.sql.gz` or `init.sql.zst` in the folder; else every `*.sql`,
/// `*.sql.gz` and `*.sql.zst` in name order. Empty when there is none.
std::vector<std::filesystem::path> find_init_dump(const std::filesystem::path& init_path);

}  // namespace dbinit
