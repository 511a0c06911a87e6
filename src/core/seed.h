#pragma once

// Seeds: SQL files of development data in the seeds folder (`db/seeds/*.sql`, also `.sql.gz` and
// `.sql.zst`), applied in name order. `up` applies them once, to a database that was empty when
// it started (SPEC.md `up` step 7); `dbinit seed` applies them on demand.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/connect.h"
#include "core/project.h"
#include "core/reporter.h"
#include "engines/engine.h"

namespace dbinit {

/// The seed files of `dir` in name order: `*.sql`, `*.sql.gz`, `*.sql.zst`, hidden files left out.
/// Empty when the folder does not exist.
std::vector<std::filesystem::path> find_seeds(const std::filesystem::path& dir);

/// Applies `files` in order on `engine`, in whatever transaction is open, with the engine's
/// restore() (so data dumps written by sqlite3 `.dump`, pg_dump `--data-only` COPY blocks or
/// mysqldump work as seeds). Appends each file's display path to `applied` when it completed.
/// An error names the file and line and carries a hint; `state` is left to the caller. When
/// `atomic` is given, it is set to false as soon as a file cannot be rolled back completely
/// (MySQL DDL).
void apply_seed_files(Engine& engine, const std::vector<std::filesystem::path>& files,
                      Reporter& reporter, std::vector<std::string>& applied,
                      bool* atomic = nullptr);

struct SeedOptions {
  ConnectOptions connect;
  std::chrono::milliseconds lock_timeout{60'000};
  /// --yes / DBINIT_YES=1: seed even where the guard would refuse (production).
  bool confirmed = false;
};

struct SeedResult {
  std::string url;  // redacted
  /// Display paths of the seed files applied, in order.
  std::vector<std::string> applied;
  std::int64_t duration_ms = 0;
};

/// `dbinit seed`: applies every seed file to the existing database, under the migration lock and,
/// where the engine allows, in one transaction. Refused (exit 8) on a database recorded as
/// production, or when the local environment is production, unless `options.confirmed`. A
/// missing database is an Error{failure} (run `up` first).
SeedResult run_seed(const Project& project, const SeedOptions& options, Reporter& reporter);

}  // namespace dbinit
