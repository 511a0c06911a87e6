// `dbinit verify`.

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/secrets.h"
#include "core/verify.h"
#include "engines/engine.h"
#include "util/error.h"

namespace dbinit::cli {

using nlohmann::json;
using std::chrono::milliseconds;

namespace {

struct VerifyFlags {
  std::vector<std::string> engines;
};

// The embedded engine's name alone (`sqlite`, or an alias) is a file in a temporary folder;
// anything else is a URL naming a server (or, for SQLite, a folder through its file) on which the
// scratch database is created.
std::optional<DatabaseUrl> parse_target(const std::string& text) {
  if (find_engine(text) == &embedded_engine()) return std::nullopt;
  return parse_database_url(text);
}

json target_json(const VerifyTarget& target) {
  json out = {{"engine", target.engine},
              {"url", target.url},
              {"ok", target.ok()},
              {"migrations", target.migrations},
              {"checked", target.checked},
              {"stopped", target.stopped.empty() ? json() : json(target.stopped)},
              {"duration_ms", target.duration_ms},
              {"problems", json::array()}};
  if (!target.schema_file.empty()) {
    out["schema_file"] = {
        {"file", target.schema_file},
        {"ok", !target.schema_file_difference},
        {"difference",
         target.schema_file_difference ? json(*target.schema_file_difference) : json(nullptr)}};
  }
  for (const VerifyProblem& problem : target.problems) {
    out["problems"].push_back({{"version", problem.version.str()},
                               {"name", problem.name},
                               {"kind", to_string(problem.kind)},
                               {"message", problem.message},
                               {"diff", problem.diff}});
  }
  return out;
}

std::string schema_file_text(const VerifyTarget& target) {
  if (target.schema_file.empty()) return "";
  if (!target.schema_file_difference) {
    return fmt::format("  {} matches what the migrations build\n", target.schema_file);
  }
  return fmt::format(
      "  {} differs from what the migrations build: {}; write it again with "
      "`dbinit schema --from-migrations`\n",
      target.schema_file, *target.schema_file_difference);
}

std::string target_text(const VerifyTarget& target) {
  std::string text = fmt::format("{} (scratch database {}): ", target.engine, target.url);
  if (target.problems.empty() && target.stopped.empty()) {
    return text +
           fmt::format("{} migration{}, every down restores the schema\n", target.migrations,
                       target.migrations == 1 ? "" : "s") +
           schema_file_text(target);
  }
  text += fmt::format("{} migration{}, {} problem{}\n", target.migrations,
                      target.migrations == 1 ? "" : "s", target.problems.size(),
                      target.problems.size() == 1 ? "" : "s");
  for (const VerifyProblem& problem : target.problems) {
    text += fmt::format("  {}: {}\n", problem.name, problem.message);
    for (const std::string& line : problem.diff) text += fmt::format("      {}\n", line);
  }
  if (!target.stopped.empty()) text += fmt::format("  {}\n", target.stopped);
  return text + schema_file_text(target);
}

int command_verify(Common& common, const VerifyFlags& flags) {
  // --url names the server for the scratch database, never the project's database. Without --url
  // and --engines, the scratch database is on the server (and engine) of the resolved URL.
  Flags project_flags = common.flags;
  project_flags.url.reset();
  const Settings settings = resolve_settings(project_flags, process_environment(), milliseconds(0));
  require_migrations_dir(settings);
  VerifyOptions options;
  if (common.flags.url) options.targets.push_back(parse_target(*common.flags.url));
  for (const std::string& text : flags.engines) {
    register_url_secrets(text);
    if (!text.empty()) options.targets.push_back(parse_target(text));
  }
  HumanReporter reporter(common.verbosity());
  const bool default_target = options.targets.empty();
  if (default_target) {
    // Neither --url nor --engines: the engine of the project's own URL, in a scratch database on
    // its server (a file engine's: a temporary file), so that a PostgreSQL project is checked on
    // PostgreSQL.
    const DatabaseUrl& url = settings.project.url;
    const EngineInfo* info = find_engine(url.engine);
    if (info != nullptr && info->file_databases) {
      options.targets.emplace_back(std::nullopt);
    } else {
      options.targets.emplace_back(url);
    }
    reporter.detail(fmt::format("verifying on {}, the engine of the database URL ({})", url.engine,
                                settings.url_origin));
  }
  std::vector<VerifyTarget> targets;
  try {
    targets = run_verify(settings.project, options, reporter);
  } catch (Error& error) {
    if (default_target && (error.kind() == ErrorKind::unreachable ||
                           error.kind() == ErrorKind::auth || error.kind() == ErrorKind::failure)) {
      error.hint += fmt::format(
          "{}verify creates its scratch database on the server of the database URL ({}); name "
          "another server with --url, or verify on a temporary SQLite file with --engines sqlite",
          error.hint.empty() ? "" : "; ", settings.url_origin);
    }
    if (error.state.empty())
      error.state = "nothing was changed (verify uses scratch databases only)";
    throw;
  }

  std::size_t problems = 0;
  std::string failing;
  for (const VerifyTarget& target : targets) {
    problems += target.problems.size() + (target.schema_file_difference ? 1 : 0);
    if (!target.ok()) failing += (failing.empty() ? "" : ", ") + target.engine;
  }
  if (common.json) {
    json out = {{"ok", failing.empty()}, {"engines", json::array()}};
    for (const VerifyTarget& target : targets) out["engines"].push_back(target_json(target));
    common.result = out;
  } else {
    std::string text;
    for (const VerifyTarget& target : targets) text += target_text(target);
    print_out(text);
  }
  if (!failing.empty()) {
    Error error(ErrorKind::failure, fmt::format("verify found {} problem{} (on {})", problems,
                                                problems == 1 ? "" : "s", failing));
    error.state = "only scratch databases were used, and they were dropped";
    error.hint =
        "fix what is listed above (editing a down section is not drift) and run `dbinit verify` "
        "again";
    throw error;
  }
  reporter.note(fmt::format("verified on {}: every migration rolls back cleanly",
                            plural(static_cast<long>(targets.size()), "engine")));
  if (common.json) print_json(common.result);
  return 0;
}

}  // namespace

void add_verify_command(Commands& commands) {
  if (!commands.wants("verify")) return;
  Common& common = commands.common();
  auto flags = std::make_shared<VerifyFlags>();
  CLI::App* verify =
      commands.add("verify", "check in scratch databases that every down undoes its up",
                   [&common, flags] { return command_verify(common, *flags); });
  verify
      ->add_option("--engines", flags->engines,
                   "verify on each of these servers (URLs, comma-separated; `sqlite`: a "
                   "temporary file); default: the server of the database URL")
      ->delimiter(',');
}

}  // namespace dbinit::cli
