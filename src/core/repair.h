#pragma once

// `dbinit repair`: resolves what `up` refuses to go past, after a human has looked.

#include <optional>
#include <string>
#include <vector>

#include "core/migration.h"
#include "core/project.h"
#include "core/reporter.h"
#include "core/runner.h"

namespace dbinit {

struct RepairOptions {
  ConnectOptions connect;
  std::chrono::milliseconds lock_timeout{60'000};
  /// Record the file's current checksum for these applied migrations (drift accepted).
  std::vector<Version> accept_checksum;
  /// Remove these `failed` rows, so that `up` runs the migrations again.
  std::vector<Version> forget_failed;
  /// Record these `failed` (or pending) migrations as applied without running them.
  std::vector<Version> mark_applied;
};

/// What was changed, one line per row, for the CLI to print.
std::vector<std::string> run_repair(const Project& project, const RepairOptions& options,
                                    Reporter& reporter);

}  // namespace dbinit
