// `dbinit down`.

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <iostream>

#include <fmt/format.h>

#include "cli/command.h"
#include "core/down.h"
#include "util/elapsed.h"
#include "util/error.h"

namespace dbinit::cli {

using nlohmann::json;
using std::chrono::milliseconds;

namespace {

struct DownFlags {
  std::optional<std::string> steps;
  std::optional<std::string> to;
};

// Asks at a terminal for the database's name; only called when stdin is a terminal (a script
// gets the refusal and its hint instead).
std::string ask_on_terminal(const std::string& name, const std::string& target) {
  return ask_database_name("rolling back migrations of {} may drop data", name, target);
}

int parse_steps(const std::string& text) {
  int steps = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), steps);
  if (ec != std::errc() || end != text.data() + text.size() || steps < 1) {
    Error error(ErrorKind::usage, fmt::format("--steps {}: expected a number of 1 or more", text));
    error.hint = "--steps 2 rolls back the two newest migrations; --to V rolls back to version V";
    throw error;
  }
  return steps;
}

int command_down(Common& common, const DownFlags& flags) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  require_migrations_dir(settings);
  if (flags.steps && flags.to) {
    throw Error(ErrorKind::usage, "--steps and --to exclude each other");
  }
  DownOptions options;
  options.connect.wait = settings.wait;
  options.lock_timeout = settings.lock_timeout;
  options.transaction = settings.transaction;
  if (flags.steps) options.steps = parse_steps(*flags.steps);
  if (flags.to) options.to = parse_versions({*flags.to}, "--to").front();
  options.confirmed = settings.confirmed;
  if (isatty(STDIN_FILENO)) options.ask = ask_on_terminal;
  HumanReporter reporter(common.verbosity());
  common.result = {{"engine", settings.project.url.engine},
                   {"url", settings.project.url.redacted()}};
  const DownResult result = run_down(settings.project, options, reporter);

  if (common.json) {
    json out = {{"engine", result.engine},
                {"url", result.url},
                {"rolled_back", json::array()},
                {"version", version_json(result.version)},
                {"duration_ms", result.duration_ms}};
    for (const RolledBackMigration& m : result.rolled_back) {
      out["rolled_back"].push_back({{"version", m.version},
                                    {"name", m.name},
                                    {"duration_ms", m.duration_ms},
                                    {"down_sql_from", m.from_ledger ? "ledger" : "file"}});
    }
    print_json(out);
  }
  if (result.rolled_back.empty()) {
    reporter.note(fmt::format("nothing to roll back: {}", result.nothing_reason));
  } else {
    reporter.note(fmt::format("database is at {}: rolled back {} in {}",
                              version_text(result.version),
                              plural(static_cast<long>(result.rolled_back.size()), "migration"),
                              duration_text(milliseconds(result.duration_ms))));
  }
  return 0;
}

}  // namespace

void add_down_command(Commands& commands) {
  if (!commands.wants("down")) return;
  Common& common = commands.common();
  auto flags = std::make_shared<DownFlags>();
  CLI::App* down = commands.add("down", "roll back the newest migrations",
                                [&common, flags] { return command_down(common, *flags); });
  down->add_option("--steps", flags->steps, "roll back this many of the newest migrations (1)");
  down->add_option("--to", flags->to,
                   "roll back every migration newer than this version (0: all of them)");
  down->add_flag("--yes", common.flags.yes,
                 "confirm the rollback of a production database (env DBINIT_YES=1)");
  down->add_option("--wait", common.flags.wait, "wait this long for the server");
  down->add_option("--lock-timeout", common.flags.lock_timeout,
                   "wait this long for another dbinit's lock (default 60s)");
  down->add_option("--transaction", common.flags.transaction,
                   "all: the whole rollback is one transaction (default); each: one per migration");
}

}  // namespace dbinit::cli
