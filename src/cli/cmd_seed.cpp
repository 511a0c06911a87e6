// `dbinit seed`, `dbinit seed --record`.

#include <unistd.h>

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/services.h"
#include "core/seed.h"
#include "core/snapshot.h"
#include "util/elapsed.h"

namespace dbinit::cli {

using nlohmann::json;
using std::chrono::milliseconds;

namespace {

std::string ask_on_terminal(const std::string& name, const std::string& target) {
  return ask_database_name(
      "seed --record drops the database {} and builds it again from the migrations and seeds", name,
      target);
}

int command_record(Common& common, const Settings& settings, HumanReporter& reporter) {
  require_migrations_dir(settings);
  UpOptions up;
  up.connect.wait = settings.wait;
  up.lock_timeout = settings.lock_timeout;
  up.transaction = settings.transaction;
  up.confirmed = settings.confirmed;
  if (isatty(STDIN_FILENO)) up.ask = ask_on_terminal;
  TerminalProgress progress(common.verbosity(), "dumping");
  const DumpResult result = record_init_snapshot(settings.project, up, reporter, progress);
  progress.finish();
  const std::string summary = fmt::format(
      "recorded snapshot {} at {} ({} tables); `up` loads it into an empty database", result.name,
      result.manifest.ledger_version().empty() ? std::string("no version")
                                               : "version " + result.manifest.ledger_version(),
      result.manifest.tables.size());
  reporter.note(summary);
  common.result["snapshot"] = result.name;
  common.result["folder"] = result.folder.string();
  common.result["version"] = result.manifest.ledger_version().empty()
                                 ? json(nullptr)
                                 : json(result.manifest.ledger_version());
  if (common.json) print_json(common.result);
  report_summary(summary);
  return 0;
}

int command_seed(Common& common, bool record) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  HumanReporter reporter(common.verbosity());
  common.result = {{"engine", settings.project.url.engine},
                   {"url", settings.project.url.redacted()}};
  if (record) return command_record(common, settings, reporter);
  SeedOptions options;
  options.connect.wait = settings.wait;
  options.lock_timeout = settings.lock_timeout;
  options.confirmed = settings.confirmed;
  const SeedResult result = run_seed(settings.project, options, reporter);
  if (common.json) {
    print_json({{"engine", settings.project.url.engine},
                {"url", result.url},
                {"applied", result.applied},
                {"duration_ms", result.duration_ms}});
  }
  const std::string summary =
      result.applied.empty()
          ? fmt::format("no seed files in {}", settings.project.seeds_dir.string())
          : fmt::format("applied {} in {}",
                        plural(static_cast<long>(result.applied.size()), "seed file"),
                        duration_text(milliseconds(result.duration_ms)));
  reporter.note(summary);
  report_summary(summary);
  return 0;
}

}  // namespace

void add_seed_command(Commands& commands) {
  if (!commands.wants("seed")) return;
  Common& common = commands.common();
  auto record = std::make_shared<bool>(false);
  CLI::App* seed = commands.add("seed", "apply the seed files (db/seeds/*.sql) to the database",
                                [&common, record] { return command_seed(common, *record); });
  seed->add_flag("--record", *record,
                 "rebuild the _init snapshot: reset the database, migrate, seed, dump "
                 "(development only, like reset)");
  seed->add_flag("--yes", common.flags.yes,
                 "seed even a database recorded as production (env DBINIT_YES=1)");
  seed->add_option("--wait", common.flags.wait, "wait this long for the server");
  seed->add_option("--lock-timeout", common.flags.lock_timeout,
                   "wait this long for another dbinit's lock (default 60s)");
}

}  // namespace dbinit::cli
