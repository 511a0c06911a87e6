#include "cli/app.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/config.h"
#include "cli/output.h"
#include "core/repair.h"
#include "core/runner.h"
#include "dbinit/version.h"
#include "util/error.h"
#include "util/files.h"

namespace dbinit::cli {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

struct Common {
  Flags flags;
  bool json = false;
  bool quiet = false;
  bool verbose = false;
  Verbosity verbosity() const {
    return verbose ? Verbosity::verbose : quiet ? Verbosity::quiet : Verbosity::normal;
  }
};

struct UpFlags {
  std::optional<std::string> to;
  bool dry_run = false;
  bool allow_missing = false;
};

std::string plural(long n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

std::string version_text(const std::optional<Version>& version) {
  return version ? version->str() : "none";
}

json version_json(const std::optional<Version>& version) {
  return version ? json(version->str()) : json(nullptr);
}

UpOptions up_options(const Settings& settings, const UpFlags& flags) {
  UpOptions options;
  options.connect.wait = settings.wait;
  options.lock_timeout = settings.lock_timeout;
  options.transaction = settings.transaction;
  options.dry_run = flags.dry_run;
  options.allow_missing = flags.allow_missing;
  if (flags.to) {
    if (!Version::is_valid(*flags.to)) {
      throw Error(ErrorKind::usage,
                  fmt::format("--to {}: a version is a run of digits", *flags.to));
    }
    options.to = Version(*flags.to);
  }
  return options;
}

int command_up(const Common& common, const UpFlags& flags, milliseconds wait_default) {
  const Settings settings = resolve_settings(common.flags, process_environment(), wait_default);
  HumanReporter reporter(common.verbosity());
  const UpResult result = run_up(settings.project, up_options(settings, flags), reporter);

  if (common.json) {
    json out = {{"engine", result.engine},   {"url", result.url},
                {"created", result.created}, {"restored", result.restored},
                {"applied", json::array()},  {"version", version_json(result.version)},
                {"skipped", result.skipped}, {"pending", result.pending},
                {"dry_run", flags.dry_run},  {"duration_ms", result.duration_ms}};
    for (const AppliedMigration& m : result.applied) {
      out["applied"].push_back(
          {{"version", m.version}, {"name", m.name}, {"duration_ms", m.duration_ms}});
    }
    if (flags.dry_run) {
      out["planned"] = json::array();
      for (const AppliedMigration& m : result.planned) {
        out["planned"].push_back({{"version", m.version}, {"name", m.name}});
      }
    }
    std::cout << out.dump(2) << std::endl;
  }
  std::string summary;
  if (flags.dry_run) {
    summary = fmt::format("dry run: would apply {}{}; nothing was changed",
                          plural(static_cast<long>(result.planned.size()), "migration"),
                          result.restored.empty() ? "" : " after restoring the init dump");
  } else if (result.applied.empty() && result.restored.empty()) {
    summary = fmt::format("database is up to date at version {} ({} applied, {} ms)",
                          version_text(result.version), result.skipped, result.duration_ms);
  } else {
    summary = fmt::format("database is at version {}: applied {} in {} ms ({} already applied)",
                          version_text(result.version),
                          plural(static_cast<long>(result.applied.size()), "migration"),
                          result.duration_ms, result.skipped);
  }
  if (result.pending > 0 && !flags.dry_run) {
    summary += fmt::format("; {} still pending", result.pending);
  }
  reporter.note(summary);
  return 0;
}

int command_run(const Common& common, const UpFlags& flags, std::vector<std::string> command) {
  if (command.empty()) {
    Error error(ErrorKind::usage, "run needs a command to start after `up`");
    error.hint = "write it after --, for example: dbinit run -- ./server --port 8080";
    throw error;
  }
  command_up(common, flags, std::chrono::seconds(30));
  // Replace this process with the command, so that it becomes PID 1 in a container and receives
  // the signals sent to it. Every connection was closed when run_up returned.
  std::fflush(stdout);
  std::fflush(stderr);
  std::vector<char*> argv;
  for (std::string& arg : command) argv.push_back(arg.data());
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  const int err = errno;
  Error error(ErrorKind::failure,
              fmt::format("cannot start '{}': {}", command.front(), std::strerror(err)));
  error.state = "the database was migrated; only starting the command failed";
  error.hint = err == ENOENT ? "check the command's name and PATH" : "check the command";
  throw error;
}

int command_status(const Common& common) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  HumanReporter reporter(common.verbosity());
  const std::unique_ptr<StatusReport> report =
      read_status(settings.project, ConnectOptions{settings.wait}, reporter);
  const Status& status = report->status;

  if (common.json) {
    json out = {{"engine", report->engine},
                {"url", report->url},
                {"database_exists", report->database_exists},
                {"environment", report->environment ? json(*report->environment) : json(nullptr)},
                {"version", version_json(status.current)},
                {"migrations", json::array()},
                {"applied", status.applied},
                {"baseline", status.baseline},
                {"pending", status.pending},
                {"changed", status.changed},
                {"missing", status.missing},
                {"failed", status.failed}};
    for (const StatusRow& row : status.rows) {
      json item = {{"version", row.version.str()},
                   {"name", row.name()},
                   {"state", to_string(row.state)},
                   {"checksum", row.migration ? row.migration->checksum : row.entry->checksum},
                   {"applied_at", row.entry ? json(row.entry->applied_at) : json(nullptr)}};
      if (row.entry && row.entry->error) item["error"] = *row.entry->error;
      if (row.state == MigrationState::changed) item["applied_checksum"] = row.entry->checksum;
      out["migrations"].push_back(std::move(item));
    }
    std::cout << out.dump(2) << std::endl;
    return 0;
  }

  std::string text;
  text += fmt::format("engine:   {}\n", report->engine);
  text += fmt::format("url:      {}\n", report->url);
  if (!report->database_exists) {
    text += "database: does not exist (dbinit up creates it)\n";
  } else if (!report->has_ledger) {
    text += "database: exists, no dbinit ledger yet\n";
  }
  text += fmt::format("version:  {}\n", version_text(status.current));
  if (report->environment) text += fmt::format("env:      {}\n", *report->environment);
  if (!status.rows.empty()) {
    std::size_t width = 7;
    for (const StatusRow& row : status.rows) width = std::max(width, row.version.str().size());
    text += fmt::format("\n{:<{}}  {:<8}  {:<20}  {}\n", "VERSION", width, "STATE", "APPLIED AT",
                        "NAME");
    for (const StatusRow& row : status.rows) {
      text +=
          fmt::format("{:<{}}  {:<8}  {:<20}  {}\n", row.version.str(), width, to_string(row.state),
                      row.entry ? row.entry->applied_at : "-", row.name());
      if (row.entry && row.entry->error && row.state == MigrationState::failed) {
        text += fmt::format("{:<{}}  error: {}\n", "", width, *row.entry->error);
      }
      if (row.state == MigrationState::changed && common.verbose) {
        text += fmt::format("{:<{}}  applied {}\n{:<{}}  file    {}\n", "", width,
                            row.entry->checksum, "", width, row.migration->checksum);
      }
    }
  } else {
    text += fmt::format("\nno migrations in {}\n", report->files.dir.string());
  }
  text += fmt::format("\n{} applied, {} baseline, {} pending, {} changed, {} missing, {} failed\n",
                      status.applied, status.baseline, status.pending, status.changed,
                      status.missing, status.failed);
  std::cout << text << std::flush;
  return 0;
}

int command_check(const Common& common) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  HumanReporter reporter(common.verbosity());
  const std::unique_ptr<StatusReport> report =
      read_status(settings.project, ConnectOptions{settings.wait}, reporter);
  check_current(*report);
  if (common.json) {
    std::cout << json{{"engine", report->engine},
                      {"url", report->url},
                      {"version", version_json(report->status.current)},
                      {"current", true}}
                     .dump(2)
              << std::endl;
  }
  reporter.note(
      fmt::format("database is up to date at version {}", version_text(report->status.current)));
  return 0;
}

// `dbinit new`: the next file name follows the existing files (UTC timestamps when they use 14
// digits or more, else a zero-padded sequence one above the highest), with both markers.
int command_new(const Common& common, const std::string& description, bool timestamp,
                bool sequence) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  const fs::path& dir = settings.project.migrations_dir;
  const MigrationSet set = load_migrations(dir, settings.project.url.engine, dir.string());

  std::string slug;
  for (unsigned char c : description) {
    if (std::isalnum(c)) {
      slug += static_cast<char>(std::tolower(c));
    } else if (!slug.empty() && slug.back() != '_') {
      slug += '_';
    }
  }
  while (!slug.empty() && slug.back() == '_') slug.pop_back();
  if (slug.empty()) {
    throw Error(ErrorKind::usage,
                fmt::format("'{}' has no letters or digits to name a migration", description));
  }

  std::size_t widest = 0;
  char separator = '_';
  for (const Migration& m : set.migrations) {
    const std::string digits = m.name.substr(0, m.name.find_first_not_of("0123456789"));
    widest = std::max(widest, digits.size());
    if (digits.size() < m.name.size() && (m.name[digits.size()] == '-')) separator = '-';
  }
  const bool use_timestamp = timestamp || (!sequence && (set.migrations.empty() || widest >= 14));
  std::string version;
  if (use_timestamp) {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y%m%d%H%M%S", &tm);
    version = buffer;
    if (!set.migrations.empty() && !(set.migrations.back().version < Version(version))) {
      Error error(ErrorKind::usage, fmt::format("the newest migration {} is not older than now",
                                                set.migrations.back().name));
      error.hint = "use --sequence, or check the versions in " + dir.string();
      throw error;
    }
  } else {
    // Next number above the highest, as a decimal string of any length.
    std::string next = set.migrations.empty() ? "0" : set.migrations.back().version.str();
    int i = static_cast<int>(next.size()) - 1;
    while (i >= 0 && next[i] == '9') next[i--] = '0';
    if (i < 0) {
      next.insert(next.begin(), '1');
    } else {
      ++next[i];
    }
    if (set.migrations.empty()) next = "1";
    const std::size_t width = std::max<std::size_t>(widest ? widest : 4, next.size());
    version = std::string(width - next.size(), '0') + next;
  }
  const fs::path file = dir / fmt::format("{}{}{}.sql", version, separator, slug);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (fs::exists(file, ec)) {
    throw Error(ErrorKind::usage, fmt::format("{} exists already", file.string()));
  }
  write_file_atomic(file, "-- dbinit:up\n\n\n-- dbinit:down\n\n");
  if (common.json) {
    std::cout << json{{"path", file.string()}, {"version", Version(version).str()}}.dump(2)
              << std::endl;
  } else {
    std::cout << file.string() << std::endl;
  }
  return 0;
}

struct RepairFlags {
  std::vector<std::string> accept_checksum;
  std::vector<std::string> forget_failed;
  std::vector<std::string> mark_applied;
};

std::vector<Version> versions(const std::vector<std::string>& texts, std::string_view flag) {
  std::vector<Version> out;
  for (const std::string& text : texts) {
    if (!Version::is_valid(text)) {
      throw Error(ErrorKind::usage, fmt::format("{} {}: a version is a run of digits", flag, text));
    }
    out.emplace_back(text);
  }
  return out;
}

int command_repair(const Common& common, const RepairFlags& flags) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  HumanReporter reporter(common.verbosity());
  RepairOptions options;
  options.connect.wait = settings.wait;
  options.lock_timeout = settings.lock_timeout;
  options.accept_checksum = versions(flags.accept_checksum, "--accept-checksum");
  options.forget_failed = versions(flags.forget_failed, "--forget-failed");
  options.mark_applied = versions(flags.mark_applied, "--mark-applied");
  const std::vector<std::string> done = run_repair(settings.project, options, reporter);
  if (common.json) {
    std::cout << json{{"changes", done}}.dump(2) << std::endl;
  }
  for (const std::string& line : done) reporter.note(line);
  return 0;
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
  app.add_flag("--json", common.json, "print one JSON document on stdout");
  app.add_flag("-q,--quiet", common.quiet, "print only warnings and errors");
  app.add_flag("-v,--verbose", common.verbose, "print more detail");
}

void add_up_flags(CLI::App& app, Common& common, UpFlags& flags) {
  app.add_option("--to", flags.to, "apply pending migrations up to this version only");
  app.add_flag("--dry-run", flags.dry_run, "print what would be done and change nothing");
  app.add_option("--wait", common.flags.wait,
                 "wait this long for the server to accept connections (e.g. 30s)");
  app.add_option("--lock-timeout", common.flags.lock_timeout,
                 "wait this long for another dbinit's lock (default 60s)");
  app.add_option("--transaction", common.flags.transaction,
                 "all: the whole run is one transaction (default); each: one per migration");
  app.add_flag("--allow-missing", flags.allow_missing,
               "do not stop when an applied migration's file is missing");
}

}  // namespace

int main(int argc, char** argv) {
  // Everything after the first `--` is the command `run` starts; CLI11 never sees it.
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> command;
  bool has_separator = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      args.resize(i);
      has_separator = true;
      break;
    }
  }

  Common common;
  UpFlags up_flags;
  std::string description;
  bool new_timestamp = false;
  bool new_sequence = false;

  CLI::App app{"dbinit brings a service's database to the state its code expects.", "dbinit"};
  app.set_version_flag("--version", std::string("dbinit ") + k_version);
  app.require_subcommand(1);
  add_common(app, common);

  CLI::App* up = app.add_subcommand("up", "create the database, restore the init dump, migrate");
  add_common(*up, common);
  add_up_flags(*up, common, up_flags);
  CLI::App* run = app.add_subcommand("run", "up, then exec COMMAND: dbinit run -- COMMAND [ARGS]");
  add_common(*run, common);
  add_up_flags(*run, common, up_flags);
  CLI::App* status = app.add_subcommand("status", "show every migration and its state");
  add_common(*status, common);
  status->add_option("--wait", common.flags.wait, "wait this long for the server");
  CLI::App* check = app.add_subcommand("check", "exit 0 when the database is up to date, else 7");
  add_common(*check, common);
  check->add_option("--wait", common.flags.wait, "wait this long for the server");
  CLI::App* create = app.add_subcommand("new", "create the next migration file");
  add_common(*create, common);
  create->add_option("description", description, "what the migration does")->required();
  auto* ts = create->add_flag("--timestamp", new_timestamp, "name it with the UTC time");
  create->add_flag("--sequence", new_sequence, "name it with the next number")->excludes(ts);

  RepairFlags repair_flags;
  CLI::App* repair = app.add_subcommand("repair", "resolve drift or a failed migration");
  add_common(*repair, common);
  repair->add_option("--accept-checksum", repair_flags.accept_checksum,
                     "record the file's new checksum for this applied migration");
  repair->add_option("--forget-failed", repair_flags.forget_failed,
                     "remove this failed row so that `up` runs the migration again");
  repair->add_option("--mark-applied", repair_flags.mark_applied,
                     "record this failed or pending migration as applied without running it");
  repair->add_option("--wait", common.flags.wait, "wait this long for the server");
  repair->add_option("--lock-timeout", common.flags.lock_timeout,
                     "wait this long for another dbinit's lock (default 60s)");

  Verbosity verbosity = Verbosity::normal;
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
    verbosity = common.verbosity();
    if (has_separator && !run->parsed()) {
      throw Error(ErrorKind::usage, "`--` and a command are only accepted by `dbinit run`");
    }
    if (up->parsed()) return command_up(common, up_flags, milliseconds(0));
    if (run->parsed()) return command_run(common, up_flags, std::move(command));
    if (status->parsed()) return command_status(common);
    if (check->parsed()) return command_check(common);
    if (create->parsed()) return command_new(common, description, new_timestamp, new_sequence);
    if (repair->parsed()) return command_repair(common, repair_flags);
    return 2;
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "dbinit: error: {}\n", e.what());
    fmt::print(stderr, "dbinit: run `dbinit --help` for the commands and options\n");
    return exit_code(ErrorKind::usage);
  } catch (const Error& e) {
    print_error(e, verbosity);
    return exit_code(e.kind());
  } catch (const std::exception& e) {
    fmt::print(stderr, "dbinit: error: {}\n", e.what());
    return 1;
  }
}

}  // namespace dbinit::cli
