// `dbinit repair`.

#include "cli/command.h"
#include "core/repair.h"

namespace dbinit::cli {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

struct RepairFlags {
  std::vector<std::string> accept_checksum;
  std::vector<std::string> forget_failed;
  std::vector<std::string> mark_applied;
};

int command_repair(Common& common, const RepairFlags& flags) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  HumanReporter reporter(common.verbosity());
  common.result = {{"engine", settings.project.url.engine},
                   {"url", settings.project.url.redacted()}};
  RepairOptions options;
  options.connect.wait = settings.wait;
  options.lock_timeout = settings.lock_timeout;
  options.accept_checksum = parse_versions(flags.accept_checksum, "--accept-checksum");
  options.forget_failed = parse_versions(flags.forget_failed, "--forget-failed");
  options.mark_applied = parse_versions(flags.mark_applied, "--mark-applied");
  const std::vector<std::string> done = run_repair(settings.project, options, reporter);
  if (common.json) {
    print_json({{"engine", settings.project.url.engine},
                {"url", settings.project.url.redacted()},
                {"changes", done}});
  }
  for (const std::string& line : done) reporter.note(line);
  return 0;
}

}  // namespace

void add_repair_command(Commands& commands) {
  if (!commands.wants("repair")) return;
  Common& common = commands.common();
  auto flags = std::make_shared<RepairFlags>();
  CLI::App* repair = commands.add("repair", "resolve drift or a failed migration",
                                  [&common, flags] { return command_repair(common, *flags); });
  repair->add_option("--accept-checksum", flags->accept_checksum,
                     "record the file's new checksum for this applied migration");
  repair->add_option("--forget-failed", flags->forget_failed,
                     "remove this failed row so that `up` runs the migration again");
  repair->add_option("--mark-applied", flags->mark_applied,
                     "record this failed or pending migration as applied without running it");
  repair->add_option("--wait", common.flags.wait, "wait this long for the server");
  repair->add_option("--lock-timeout", common.flags.lock_timeout,
                     "wait this long for another dbinit's lock (default 60s)");
}

}  // namespace dbinit::cli
