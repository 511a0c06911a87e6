#pragma once

// Connecting: building the engine for a project's URL and opening it, retrying while the server
// does not accept connections yet (--wait), and loading the migration files on a second thread
// meanwhile. Every command that touches a database starts here.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/migration.h"
#include "core/project.h"
#include "core/reporter.h"
#include "engines/engine.h"

namespace dbinit {

struct ConnectOptions {
  /// How long to wait for a server that does not accept connections yet (0: try once).
  std::chrono::milliseconds wait{0};
  /// Called between two attempts under `wait`; it may throw to end the wait early.
  std::function<void()> between_attempts = {};
};

/// Builds the engine for `project.url` and opens it, retrying under `options.wait` while the
/// server is unreachable (one short line to `reporter` every few seconds). Authentication
/// failures are not retried. Returns the engine and what open() found.
std::pair<std::unique_ptr<Engine>, OpenResult> connect(const Project& project, bool create,
                                                       const ConnectOptions& options,
                                                       Reporter& reporter);

/// The migration files and an open engine, for the commands that need both.
struct Connected {
  MigrationSet files;
  std::unique_ptr<Engine> engine;
  OpenResult opened = OpenResult::missing;
  /// The ledger as read while the files loaded (nullopt: no ledger table, or no database).
  std::optional<std::vector<LedgerEntry>> ledger;
};

/// Loads the migration files of `project` on a second thread while this one connects, so that a
/// start with nothing to do costs the longer of the two rather than their sum (on SQLite the first
/// statement parses the whole schema; a server costs round trips and authentication). The files
/// still come first: a bad file name is reported before any connection error, ends a --wait early,
/// and with `create` the database is created only once the files are known to be good. The ledger
/// is read meanwhile too, outside any transaction.
Connected load_and_connect(const Project& project, bool create, const ConnectOptions& options,
                           Reporter& reporter);

}  // namespace dbinit
