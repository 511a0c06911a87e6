#pragma once

// `dbinit down`: rolls back the newest applied migrations, newest first, with the down section of
// each migration's file, or the ledger's `down_sql` when the file is gone (so that an older release
// can roll back what a newer one applied). Every rollback is checked before the first one runs: a
// migration without down SQL stops the command before anything changes.
//
// Transactions follow `up`: on SQLite and PostgreSQL the whole rollback is one transaction by
// default (`--transaction each`: one per migration; `no-transaction` migrations split the run); on
// MySQL, a down section with DDL cannot be rolled back, so its ledger row is marked `failed`
// ("rollback in progress") before it runs and removed only after it has finished.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/migration.h"
#include "core/plan.h"
#include "core/project.h"
#include "core/reporter.h"
#include "core/runner.h"

namespace dbinit {

/// One migration to roll back, with the SQL that does it.
struct DownStep {
  Version version;
  std::string name;
  std::string sql;
  /// Where `sql` comes from, for messages: the file's display path, or
  /// `<name> (down_sql recorded in the ledger)`.
  std::string source;
  int first_line = 1;
  /// True when `sql` comes from the ledger because the file is gone (or has no down section).
  bool from_ledger = false;
  /// The file's directives (no-transaction, foreign-keys off); none when the file is gone.
  Directives directives;
  /// The ledger row; points into the ledger the plan was made from.
  const LedgerEntry* entry = nullptr;
};

struct DownPlan {
  /// Newest first.
  std::vector<DownStep> steps;
  /// The version the database is at after the rollback (empty: nothing left applied).
  std::optional<Version> version_after;
  /// The number of applied (or baseline) migrations the ledger holds.
  int applied = 0;
};

/// Plans a rollback from `status` (pure). With `to`, every applied or baseline migration newer
/// than `to` is rolled back (`to` itself stays; `0` rolls back everything); else the `steps`
/// newest ones. Throws Error{usage} for a `to` that names no migration, Error{needs_repair} when a
/// `failed` row exists, Error{drift} when a migration to roll back was changed, and
/// Error{failure} naming the migrations to roll back that have no down SQL (the first three and a
/// count). An empty down (`down_sql` = "", from a golang-migrate `.down.sql` file without
/// statements) is a rollback that runs nothing, not a missing one.
DownPlan plan_down(const Status& status, int steps, const std::optional<Version>& to);

struct DownOptions {
  ConnectOptions connect;
  std::chrono::milliseconds lock_timeout{60'000};
  TransactionMode transaction = TransactionMode::all;
  /// How many of the newest migrations to roll back (ignored when `to` is set).
  int steps = 1;
  std::optional<Version> to;
  /// --yes or DBINIT_YES=1: the user confirmed beforehand.
  bool confirmed = false;
  /// Asks the user to type `name` (the database's name) to confirm the rollback of `target` (the
  /// redacted URL) and returns what was typed; empty when nobody can be asked (stdin is not a
  /// terminal). Called before the lock is taken.
  std::function<std::string(const std::string& name, const std::string& target)> ask;
};

struct RolledBackMigration {
  std::string version;
  std::string name;
  std::int64_t duration_ms = 0;
  bool from_ledger = false;
};

struct DownResult {
  std::string engine;
  std::string url;  // redacted
  std::vector<RolledBackMigration> rolled_back;
  /// The version the database is at afterwards (empty: none applied).
  std::optional<Version> version;
  /// Why nothing was rolled back, when nothing was (`the database does not exist`, ...).
  std::string nothing_reason;
  std::int64_t duration_ms = 0;
};

/// `dbinit down`. Rolling back can drop data: on a database recorded as production, or with a
/// production local environment, it needs `options.confirmed` or the database's name typed at
/// `options.ask`; otherwise Error{refused} (core/guard.h). Throws Error with `state` and `hint`
/// filled in.
DownResult run_down(const Project& project, const DownOptions& options, Reporter& reporter);

}  // namespace dbinit
