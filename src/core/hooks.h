#pragma once

// Hooks: commands from dbinit.toml (`hooks.after_up = [["./bin/reindex", "--all"]]`) that run after
// a successful `up` (SPEC.md `up` step 8). Each is an argv list started without a shell (so
// arguments are never split or expanded), looked up in PATH when it has no slash, in the current
// directory, with dbinit's environment plus the variables the caller adds. The hook's standard
// output goes to dbinit's standard error, so that stdout keeps carrying only dbinit's results
// (`--json`).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/reporter.h"

namespace dbinit {

using HookCommand = std::vector<std::string>;

struct HookRun {
  /// `after_up`, for messages.
  std::string event;
  /// Variables set for the hooks on top of dbinit's own environment (replacing any of the same
  /// name).
  std::vector<std::pair<std::string, std::string>> environment;
  /// Variables removed from the hooks' environment.
  std::vector<std::string> unset;
  /// The database's state once the hooks run, for the error of a failing hook
  /// (`the database was migrated and committed (version 12)`).
  std::string state;
};

/// Runs `hooks` in order and waits for each. The first hook that cannot start, exits non-zero or
/// is killed stops the rest: Error{failure} naming the hook and its exit code or signal, with
/// `run.state` and a hint.
void run_hooks(const std::vector<HookCommand>& hooks, const HookRun& run, Reporter& reporter);

/// A command for messages: its words separated by spaces, words with blanks or quotes in single
/// quotes (`./bin/reindex --all 'two words'`).
std::string describe_command(const HookCommand& command);

}  // namespace dbinit
