// `dbinit baseline`.

#include <fmt/format.h>

#include "cli/command.h"
#include "core/baseline.h"
#include "util/error.h"

namespace dbinit::cli {

using nlohmann::json;
using std::chrono::milliseconds;

namespace {

struct BaselineFlags {
  std::optional<std::string> version;
  bool detect = false;
};

std::string versions_text(const std::vector<Version>& versions) {
  std::string out;
  for (const Version& v : versions) out += (out.empty() ? "" : ", ") + v.str();
  return out;
}

json detection_json(const BaselineDetection& detection) {
  json out = {{"match", version_json(detection.match)},
              {"matches", json::array()},
              {"closest", version_json(detection.closest)},
              {"diff", detection.diff},
              {"scratch_url", detection.scratch_url}};
  for (const Version& v : detection.matches) out["matches"].push_back(v.str());
  return out;
}

int command_baseline(Common& common, const BaselineFlags& flags) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  require_migrations_dir(settings);
  BaselineOptions options;
  options.connect.wait = settings.wait;
  options.lock_timeout = settings.lock_timeout;
  if (flags.version) options.version = parse_versions({*flags.version}, "--version").front();
  options.detect = flags.detect;
  options.yes = settings.confirmed;
  HumanReporter reporter(common.verbosity());
  common.result = {{"engine", settings.project.url.engine},
                   {"url", settings.project.url.redacted()}};
  const BaselineResult result = run_baseline(settings.project, options, reporter);

  if (common.json) {
    json out = {{"engine", result.engine},
                {"url", result.url},
                {"version", version_json(result.version)},
                {"recorded", json::array()},
                {"detection", result.detection ? detection_json(*result.detection) : json()}};
    for (const LedgerEntry& entry : result.recorded) {
      out["recorded"].push_back({{"version", entry.version}, {"name", entry.name}});
    }
    common.result = out;
  }

  if (result.detection) {
    const BaselineDetection& detection = *result.detection;
    if (!detection.match) {
      if (!common.json && detection.closest) {
        std::string text = fmt::format(
            "closest: version {} (- only after the migrations up to it, + only in the "
            "database):\n",
            detection.closest->str());
        for (const std::string& line : detection.diff) text += "  " + line + "\n";
        print_out(text);
      }
      Error error(ErrorKind::failure,
                  "no version of the migrations gives exactly the database's schema");
      error.where = result.url;
      error.state = "nothing was recorded";
      if (detection.closest) {
        error.detail =
            fmt::format("the closest is version {} ({} differing line{})", detection.closest->str(),
                        detection.diff.size(), detection.diff.size() == 1 ? "" : "s");
      }
      error.hint =
          "if the database was changed by hand, bring it in line with a version (or add a "
          "migration that matches it), or record a version yourself with `dbinit baseline "
          "--version V`";
      throw error;
    }
    if (!common.json) {
      std::string text =
          fmt::format("the database's schema matches version {}\n", detection.match->str());
      if (detection.matches.size() > 1) {
        text += fmt::format(
            "versions {} all give that schema (migrations that change only data cannot be told "
            "apart); the newest is proposed\n",
            versions_text(detection.matches));
      }
      print_out(text);
    }
    if (!options.yes) {
      reporter.note(fmt::format(
          "nothing was recorded; run `dbinit baseline --version {}` (or `--detect --yes`) to "
          "record it",
          detection.match->str()));
      if (common.json) print_json(common.result);
      return 0;
    }
  }
  reporter.note(fmt::format("recorded {} as baseline up to {}; `dbinit up` applies only newer ones",
                            plural(static_cast<long>(result.recorded.size()), "migration"),
                            version_text(result.version)));
  if (common.json) print_json(common.result);
  return 0;
}

}  // namespace

void add_baseline_command(Commands& commands) {
  if (!commands.wants("baseline")) return;
  Common& common = commands.common();
  auto flags = std::make_shared<BaselineFlags>();
  CLI::App* baseline =
      commands.add("baseline", "record the migrations of an existing schema without running them",
                   [&common, flags] { return command_baseline(common, *flags); });
  baseline->add_option("--version", flags->version,
                       "record every migration up to this version (default: the newest)");
  baseline->add_flag("--detect", flags->detect,
                     "find the version whose migrations give the database's schema");
  baseline->add_flag("--yes", common.flags.yes,
                     "with --detect: record the version found (env DBINIT_YES=1)");
  baseline->add_option("--wait", common.flags.wait, "wait this long for the server");
  baseline->add_option("--lock-timeout", common.flags.lock_timeout,
                       "wait this long for another dbinit's lock (default 60s)");
}

}  // namespace dbinit::cli
