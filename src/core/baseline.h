#pragma once

// `dbinit baseline`: adopts a database whose schema was built without dbinit. It creates the
// ledger and records every migration up to a version as `baseline` (with the file's checksum and
// down section) without running it, so that `up` applies only the newer ones.
//
// `--detect` finds that version itself: the migrations are applied one by one to a scratch
// database (core/scratch.h) and the schema after each is compared with the live one; the newest
// version that gives exactly the live schema is proposed (and recorded with --yes).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/migration.h"
#include "core/project.h"
#include "core/reporter.h"
#include "core/runner.h"
#include "engines/engine.h"

namespace dbinit {

/// The ledger rows that baseline up to `version` writes: one `baseline` row for every migration of
/// `migrations` (version order) whose version is `version` or older, with the file's name,
/// checksum and down section, `applied_at` and `applied_by` as given and a duration of 0. Pure:
/// `up --baseline` calls it too, under its lock and after Engine::ensure_ledger(), and records
/// each row with Engine::record().
std::vector<LedgerEntry> baseline_entries(const std::vector<Migration>& migrations,
                                          const Version& version, std::string_view applied_at,
                                          std::string_view applied_by);

/// The version `baseline` records up to when `requested` is empty: the newest migration. Throws
/// Error{usage} when there are no migrations, or when `requested` names none of them.
Version baseline_version(const MigrationSet& files, const std::optional<Version>& requested);

struct BaselineOptions {
  ConnectOptions connect;
  std::chrono::milliseconds lock_timeout{60'000};
  /// Record up to this version (default: the newest migration).
  std::optional<Version> version;
  /// Find the version by comparing schemas in a scratch database.
  bool detect = false;
  /// With `detect`: record the version found (without it, only propose it).
  bool yes = false;
};

/// What `--detect` found.
struct BaselineDetection {
  /// The newest version whose migrations give exactly the live schema.
  std::optional<Version> match;
  /// Every version that does (migrations that change only data give the same schema as the one
  /// before them).
  std::vector<Version> matches;
  /// Without a match: the version whose schema differs from the live one in the fewest lines, and
  /// how (`- line`: only after the migrations, `+ line`: only in the live database).
  std::optional<Version> closest;
  std::vector<std::string> diff;
  /// The scratch database used (redacted).
  std::string scratch_url;
};

struct BaselineResult {
  std::string engine;
  std::string url;  // redacted
  /// The version recorded (or proposed, with --detect and no --yes).
  std::optional<Version> version;
  /// The rows written; empty when only proposing.
  std::vector<LedgerEntry> recorded;
  std::optional<BaselineDetection> detection;
};

/// `dbinit baseline`. Refuses (Error{usage}) a database that already has ledger rows, a missing
/// database and one without tables. With `detect`, a result without `detection->match` records
/// nothing (the caller reports the closest version and what differs, and fails).
BaselineResult run_baseline(const Project& project, const BaselineOptions& options,
                            Reporter& reporter);

}  // namespace dbinit
