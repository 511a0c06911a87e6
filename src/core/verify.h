#pragma once

// `dbinit verify`: checks that every migration's down section really undoes its up section, in
// scratch databases only (core/scratch.h), never in the project's database. For each migration in
// version order: read the schema, apply up, apply down, compare the schema with the one before,
// apply up again and compare with the schema after the first up. Run on several engines, the same
// migration set shows where a down works on one engine and not on another.
//
// Where the engine has transactional DDL, the down and the second up run in a transaction that is
// rolled back afterwards, so the next migration always starts from the schema the first up left,
// whatever the down did.
//
// On the engine of the project's URL, once every migration was checked, the scratch database holds
// what the migrations build: the schema file (core/schema_file.h), when there is one, must equal
// the file written from it. Elsewhere (MySQL, `no-transaction` migrations) they run for real, and a
// failure that leaves the scratch database in an unknown state stops the check on that engine.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/migration.h"
#include "core/project.h"
#include "core/reporter.h"
#include "engines/url.h"

namespace dbinit {

enum class VerifyProblemKind {
  missing_down,     // the migration has no down SQL
  schema_differs,   // after up and down, the schema is not what it was before up
  down_failed,      // the down SQL failed
  up_failed,        // the up SQL failed (the migrations after it are not checked)
  reapply_failed,   // up failed when applied again after down (the down left something behind)
  reapply_differs,  // up applied again gives another schema than the first time
};

std::string_view to_string(VerifyProblemKind kind);

struct VerifyProblem {
  Version version;
  std::string name;
  VerifyProblemKind kind = VerifyProblemKind::missing_down;
  /// One line: what went wrong (the engine's error for failures).
  std::string message;
  /// For schema differences: `- line` (only in the expected schema), `+ line` (only in the one
  /// found).
  std::vector<std::string> diff;
};

/// The outcome on one engine.
struct VerifyTarget {
  std::string engine;
  /// The scratch database (redacted).
  std::string url;
  int migrations = 0;
  /// Migrations checked (with or without problems); fewer than `migrations` after a stop.
  int checked = 0;
  std::vector<VerifyProblem> problems;
  /// Set when the check stopped before the last migration (the scratch database was in a state
  /// the following migrations cannot start from).
  std::string stopped;
  std::int64_t duration_ms = 0;
  /// The schema file compared with what the migrations built (on the project's own engine, when
  /// the file exists and every migration was checked); empty when it was not compared.
  std::string schema_file;
  /// How the schema file differs (core/schema_file.h first_difference()); nullopt: it matches.
  std::optional<std::string> schema_file_difference;
  bool ok() const { return problems.empty() && stopped.empty() && !schema_file_difference; }
};

struct VerifyOptions {
  /// Where to verify: each entry names a server (a scratch database is created there and dropped
  /// afterwards); nullopt is a temporary SQLite file. Empty: one temporary SQLite file.
  std::vector<std::optional<DatabaseUrl>> targets;
};

/// `dbinit verify`: one result per target, in order. Problems are results, not errors; errors are
/// thrown only when a scratch database cannot be created (unreachable server, bad credentials) or
/// the migration files cannot be read.
std::vector<VerifyTarget> run_verify(const Project& project, const VerifyOptions& options,
                                     Reporter& reporter);

}  // namespace dbinit
