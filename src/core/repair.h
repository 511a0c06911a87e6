#pragma once

// `dbinit repair`: resolves what `up` refuses to go past, after a human has looked.

#include <map>
#include <optional>
#include <string>
#include <string_view>
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

/// What was changed, one line per row, for the CLI to print. `--accept-checksum` also stores the
/// replaced checksum in the meta table (k_meta_accepted_checksum + version), so that `status -v`
/// can still show it.
std::vector<std::string> run_repair(const Project& project, const RepairOptions& options,
                                    Reporter& reporter);

/// One accepted checksum change, stored as the line `<from> -> <to> at <at> by <by>`.
struct AcceptedChecksum {
  std::string from;
  std::string to;
  std::string at;
  std::string by;
  /// The stored line as it is (the fields above are empty when it does not parse).
  std::string text;
};

std::string format_accepted_checksum(const AcceptedChecksum& change);
/// The changes of a stored value, one per line, oldest first.
std::vector<AcceptedChecksum> parse_accepted_checksums(std::string_view value);

/// The accepted checksum changes of the rows of `ledger`, by version (rows without any are left
/// out). Opens a connection of its own; a database without a meta table has none.
std::map<std::string, std::vector<AcceptedChecksum>> read_accepted_checksums(
    const Project& project, const ConnectOptions& options, const std::vector<LedgerEntry>& ledger,
    Reporter& reporter);

}  // namespace dbinit
