#pragma once

// `--all`: one command for every service of dbinit.toml. Each service runs in its own dbinit
// process (this binary started again with `--service NAME`), at most `--jobs` at a time, so that
// services share nothing: each has its own connection, lock, environment and hooks, and one that
// crashes or hangs cannot take the others down. The children's output lines are passed on as they
// come, prefixed `[NAME] `; at the end one summary line per service follows. The exit code is 0
// when every service succeeded, the common exit code when all failures share one, else 1.

#include <string>
#include <string_view>

#include "cli/command.h"

namespace dbinit::cli {

/// Runs `command` (the parsed subcommand's name; `common.args` are the arguments as given) for
/// every service and returns the combined exit code. With --json, prints one document on stdout:
/// `{"services": [{"name", "exit_code", "summary", "result"}], "failed"}` where `result` is the
/// service's own JSON document.
int run_all_services(const Common& common, const std::string& command);

/// In a process started by run_all_services(): takes over the channel on which the parent expects
/// the summary line (DBINIT_SUMMARY_FD), so that hooks and other children do not inherit it. Does
/// nothing in a process started otherwise.
void take_summary_channel();

/// Sends the one-line result of the command (`database is up to date at version 12`) to the
/// parent of an `--all` run; does nothing otherwise.
void report_summary(std::string_view line);

}  // namespace dbinit::cli
