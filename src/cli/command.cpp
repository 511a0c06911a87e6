#include "cli/command.h"

#include <fmt/format.h>

#include "cli/services.h"
#include "util/error.h"

namespace dbinit::cli {

using nlohmann::json;

CLI::App* Commands::add(const std::string& name, const std::string& description,
                        std::function<int()> run) {
  CLI::App* app = m_root.add_subcommand(name, description);
  add_common(*app, m_common);
  m_entries.push_back({app, std::move(run)});
  return app;
}

void Commands::build_only(std::string name) {
  m_only = std::move(name);
}

bool Commands::wants(std::string_view name) const {
  return !m_only || *m_only == name;
}

int Commands::run_parsed() const {
  take_summary_channel();
  for (const Entry& entry : m_entries) {
    if (!entry.app->parsed()) continue;
    if (m_common.flags.all) return run_all_services(m_common, entry.app->get_name());
    return entry.run();
  }
  return exit_code(ErrorKind::usage);
}

bool Commands::parsed(const std::string& name) const {
  for (const Entry& entry : m_entries) {
    if (entry.app->get_name() == name) return entry.app->parsed();
  }
  return false;
}

void add_common(CLI::App& app, Common& common) {
  Flags& f = common.flags;
  app.add_option("--url", f.url, "database URL (env DBINIT_URL, DATABASE_URL, DATABASE_URL_FILE)");
  app.add_option("--config", f.config, "configuration file (default dbinit.toml)");
  app.add_option("--dir", f.dir, "migrations folder (default db/migrations)");
  app.add_option("--init", f.init, "init dump file or folder (default db/init)");
  app.add_option("--seeds", f.seeds, "seeds folder (default db/seeds)");
  app.add_option("--backups", f.backups, "backups folder (default db/backups)");
  app.add_option("--schema-file", f.schema_file, "schema file (default db/schema.sql)");
  app.add_option("--env", f.env, "environment name recorded in the database (env DBINIT_ENV)");
  app.add_option("--service", f.service, "service of dbinit.toml to work on");
  app.add_flag("--all", f.all, "run the command for every service of dbinit.toml, in parallel");
  app.add_option("--jobs", f.jobs, "with --all: services at a time (default: number of cores)");
  app.add_flag("--json", common.json, "print one JSON document on stdout");
  app.add_flag("-q,--quiet", common.quiet, "print only warnings and errors");
  app.add_flag("-v,--verbose", common.verbose, "print more detail");
}

std::string plural(long n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

std::string version_text(const std::optional<Version>& version) {
  return version ? "version " + version->str() : "no version";
}

json version_json(const std::optional<Version>& version) {
  return version ? json(version->str()) : json(nullptr);
}

std::vector<Version> parse_versions(const std::vector<std::string>& texts, std::string_view flag) {
  std::vector<Version> out;
  for (const std::string& text : texts) {
    if (!Version::is_valid(text)) {
      throw Error(ErrorKind::usage, fmt::format("{} {}: a version is a run of digits", flag, text));
    }
    out.emplace_back(text);
  }
  return out;
}

}  // namespace dbinit::cli
