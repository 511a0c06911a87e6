// `dbinit seed`.

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/services.h"
#include "core/seed.h"
#include "util/elapsed.h"

namespace dbinit::cli {

using nlohmann::json;
using std::chrono::milliseconds;

namespace {

int command_seed(Common& common) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  HumanReporter reporter(common.verbosity());
  common.result = {{"engine", settings.project.url.engine},
                   {"url", settings.project.url.redacted()}};
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
  CLI::App* seed = commands.add("seed", "apply the seed files (db/seeds/*.sql) to the database",
                                [&common] { return command_seed(common); });
  seed->add_flag("--yes", common.flags.yes,
                 "seed even a database recorded as production (env DBINIT_YES=1)");
  seed->add_option("--wait", common.flags.wait, "wait this long for the server");
  seed->add_option("--lock-timeout", common.flags.lock_timeout,
                   "wait this long for another dbinit's lock (default 60s)");
}

}  // namespace dbinit::cli
