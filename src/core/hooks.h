#pragma once

// Hooks: commands from dbinit.toml (`hooks.after_up = [["./bin/reindex", "--all"]]`) that run after
// a successful `up` (SPEC.md `up` step 8). Each is an argv list started without a shell (so
// arguments are never split or expanded), looked up in PATH when it has no slash, in the current
// directory, with dbinit's environment plus the variables the caller adds. The hook's standard
// output and error are read by dbinit and passed on line by line through Reporter::relay() (the
// CLI writes them to its standard error, redacted), so that stdout keeps carrying only dbinit's
// results (`--json`).

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
  /// The commands as written in the configuration (`${VAR}` not replaced), in the order of the
  /// hooks: messages show these, since a replaced variable may hold a URL or a password. When it
  /// is empty, messages show the commands with the passwords of URLs in them redacted.
  std::vector<HookCommand> as_written;
};

/// Runs `hooks` in order and waits for each, passing on each line of its output through
/// `reporter.relay()` as it comes. A hook's output ends when the hook exits (a background process
/// it left behind is not waited for). The first hook that cannot start, exits non-zero or
/// is killed stops the rest: Error{failure} naming the hook and its exit code or signal, with
/// `run.state` and a hint.
void run_hooks(const std::vector<HookCommand>& hooks, const HookRun& run, Reporter& reporter);

/// A command for messages: its words separated by spaces, words with blanks or quotes in single
/// quotes (`./bin/reindex --all 'two words'`).
std::string describe_command(const HookCommand& command);

}  // namespace dbinit
