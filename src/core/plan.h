#pragma once

// Planning is a pure function: the migration files and the ledger rows go in, the state of every
// migration and the list of what `up` should apply come out. Nothing here touches a database, so
// every ordering and drift rule is unit-tested without one.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/migration.h"
#include "engines/engine.h"
#include "util/error.h"

namespace dbinit {

/// The state of one migration as `status` shows it (SPEC.md "dbinit status").
enum class MigrationState {
  applied,   // in the ledger, file unchanged
  baseline,  // recorded by `baseline`, never run
  pending,   // file present, not in the ledger
  changed,   // in the ledger, but the file's up section has another checksum (drift)
  missing,   // in the ledger, file gone (drift unless --allow-missing)
  failed,    // the ledger row says the migration did not finish
};

std::string_view to_string(MigrationState state);

struct StatusRow {
  Version version;
  MigrationState state = MigrationState::pending;
  /// The file, or null for `missing` rows.
  const Migration* migration = nullptr;
  /// The ledger row, or null for `pending` rows.
  const LedgerEntry* entry = nullptr;
  /// The file name (from the file when present, else from the ledger).
  const std::string& name() const { return migration ? migration->name : entry->name; }
};

struct Status {
  /// Every migration known to the files or the ledger, in version order.
  std::vector<StatusRow> rows;
  /// The highest applied or baseline version; empty when nothing is applied.
  std::optional<Version> current;
  int applied = 0;
  int baseline = 0;
  int pending = 0;
  int changed = 0;
  int missing = 0;
  int failed = 0;
};

/// Joins `migrations` (version order) with `ledger` (any order). Pointers in the result point into
/// both arguments, which must outlive it.
Status compute_status(const std::vector<Migration>& migrations,
                      const std::vector<LedgerEntry>& ledger);

/// The migrations `up` applies: every pending one, in version order, up to and including `to`
/// when given. Pending migrations older than the current version (merged from a branch) are
/// included; `out_of_order` lists them so that the caller can say so.
struct UpPlan {
  std::vector<const Migration*> apply;
  std::vector<const Migration*> out_of_order;
};

UpPlan plan_up(const Status& status, const std::optional<Version>& to);

/// The drift error (exit 3) for a `changed` row: the file (and the ledger's file name when it is
/// another), both checksums, "nothing was changed",
/// and `hint` for what to do next.
Error changed_migration_error(const StatusRow& row, std::string hint);

/// What to do about a `failed` row of `version` (`up` refuses with exit 4 until it is resolved):
/// the two repair commands. `up`, `check` and `down` all give this advice.
std::string failed_migration_hint(const Version& version);

/// What to do about a migration of `version` whose file changed after it was applied (exit 3).
std::string changed_migration_hint(const Version& version);

}  // namespace dbinit
