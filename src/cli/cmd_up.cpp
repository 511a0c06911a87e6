// `dbinit up`, `dbinit run` and `dbinit reset`.

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/services.h"
#include "core/baseline.h"
#include "core/hooks.h"
#include "core/runner.h"
#include "util/elapsed.h"
#include "util/error.h"

namespace dbinit::cli {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

struct UpFlags {
  std::optional<std::string> to;
  bool dry_run = false;
  bool allow_missing = false;
  bool baseline = false;
  bool no_schema_file = false;
};

UpOptions up_options(const Settings& settings, const UpFlags& flags) {
  UpOptions options;
  options.connect.wait = settings.wait;
  options.lock_timeout = settings.lock_timeout;
  options.transaction = settings.transaction;
  options.dry_run = flags.dry_run;
  options.allow_missing = flags.allow_missing;
  options.use_schema_file = !flags.no_schema_file;
  options.load = settings.load;
  options.backup_before = settings.backup_before;
  if (flags.to) {
    if (!Version::is_valid(*flags.to)) {
      throw Error(ErrorKind::usage,
                  fmt::format("--to {}: a version is a run of digits", *flags.to));
    }
    options.to = Version(*flags.to);
  }
  return options;
}

// Asks on the terminal for the database's name before it is dropped; returns the answer.
std::string ask_on_terminal(const std::string& name, const std::string& target) {
  return ask_database_name(
      "this drops the database {} and everything in it, then migrates and seeds it again", name,
      target);
}

enum class UpMode { up, run, reset };

std::string up_summary(const UpResult& result, const UpFlags& flags);

// run_up(); with --baseline, a database that has tables but no ledger (SPEC.md `up` step 4) is
// first baselined up to the newest migration, as `dbinit baseline` does, and up then goes on.
UpResult up_or_baseline(const Settings& settings, const UpOptions& options, const UpFlags& flags,
                        Reporter& reporter, Common& common) {
  try {
    return run_up(settings.project, options, reporter);
  } catch (Error& error) {
    if (error.kind() != ErrorKind::unmanaged || flags.dry_run) throw;
    if (!flags.baseline) {
      error.hint += "; `dbinit up --baseline` records every migration as baseline, then goes on";
      throw;
    }
  }
  BaselineOptions baseline;
  baseline.connect = options.connect;
  baseline.lock_timeout = options.lock_timeout;
  const BaselineResult recorded = run_baseline(settings.project, baseline, reporter);
  reporter.note(fmt::format("up --baseline: recorded {} as baseline up to {}",
                            plural(static_cast<long>(recorded.recorded.size()), "migration"),
                            version_text(recorded.version)));
  common.result["baseline"] = version_json(recorded.version);
  return run_up(settings.project, options, reporter);
}

int command_up(Common& common, const UpFlags& flags, milliseconds wait_default, UpMode mode) {
  const Settings settings = resolve_settings(common.flags, process_environment(), wait_default);
  require_migrations_dir(settings);
  common.result = {{"engine", settings.project.url.engine},
                   {"url", settings.project.url.redacted()}};
  HumanReporter reporter(common.verbosity());
  UpOptions options = up_options(settings, flags);
  if (mode == UpMode::reset) {
    options.clean = true;
    options.clean_operation = "reset";
  } else if (settings.clean) {
    options.clean = true;
    options.clean_operation = settings.clean_origin;
  }
  options.confirmed = settings.confirmed;
  options.skip_seed = settings.skip_seed;
  if (isatty(STDIN_FILENO)) options.ask = ask_on_terminal;
  // A snapshot loaded into the empty database, or taken by --backup-before.
  TerminalProgress progress(common.verbosity(), "snapshot");
  options.progress = &progress;
  const UpResult result = up_or_baseline(settings, options, flags, reporter, common);
  progress.finish();
  std::string summary = up_summary(result, flags);
  reporter.note(summary);

  json out = {{"engine", result.engine},   {"url", result.url},
              {"created", result.created}, {"restored", result.restored},
              {"applied", json::array()},  {"version", version_json(result.version)},
              {"skipped", result.skipped}, {"pending", result.pending},
              {"dry_run", flags.dry_run},  {"duration_ms", result.duration_ms},
              {"dropped", result.dropped}, {"seeded", result.seeded}};
  out["snapshot"] = result.loaded_snapshot.empty() ? json(nullptr) : json(result.loaded_snapshot);
  out["backup"] = result.backup.empty() ? json(nullptr) : json(result.backup);
  out["schema_file"] = result.from_schema_file && !result.restored.empty()
                           ? json(result.restored.front())
                           : json(nullptr);
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
  out["baseline"] = common.result.contains("baseline") ? common.result["baseline"] : json(nullptr);
  common.result = out;

  if (!flags.dry_run && !settings.skip_hooks) {
    HookRun hooks;
    hooks.event = "after_up";
    // The hooks' own environment: the real URL, password included, is theirs to use (it is
    // never printed).
    hooks.environment = {{"DATABASE_URL", settings.project.url.original},
                         {"DBINIT_URL", settings.project.url.original},
                         {"DBINIT_VERSION", result.version ? result.version->str() : ""},
                         {"DBINIT_APPLIED", std::to_string(result.applied.size())}};
    hooks.unset = {"DATABASE_URL_FILE", "DBINIT_URL_FILE"};
    hooks.state = fmt::format("the database is at {}, committed; only the hook failed",
                              version_text(result.version));
    hooks.as_written = settings.project.after_up_hooks_as_written;
    run_hooks(settings.project.after_up_hooks, hooks, reporter);
  }

  if (common.json) print_json(out);
  report_summary(summary);
  return 0;
}

std::string up_summary(const UpResult& result, const UpFlags& flags) {
  std::string summary;
  if (flags.dry_run) {
    summary = fmt::format("dry run: would apply {}{}; nothing was changed",
                          plural(static_cast<long>(result.planned.size()), "migration"),
                          result.restored.empty()   ? ""
                          : result.from_schema_file ? " after loading the schema file"
                                                    : " after restoring the init dump");
  } else if (result.applied.empty() && result.restored.empty() && result.seeded.empty() &&
             result.loaded_snapshot.empty()) {
    summary =
        fmt::format("database is up to date at {} ({} applied, {})", version_text(result.version),
                    result.skipped, duration_text(milliseconds(result.duration_ms)));
  } else if (!result.loaded_snapshot.empty()) {
    summary = fmt::format("database is at {}: loaded snapshot {} and applied {} in {}",
                          version_text(result.version), result.loaded_snapshot,
                          plural(static_cast<long>(result.applied.size()), "migration"),
                          duration_text(milliseconds(result.duration_ms)));
  } else if (result.from_schema_file) {
    summary = fmt::format("database is at {}: loaded the schema file ({}) and applied {} in {}",
                          version_text(result.version), plural(result.skipped, "migration"),
                          plural(static_cast<long>(result.applied.size()), "migration"),
                          duration_text(milliseconds(result.duration_ms)));
  } else {
    summary = fmt::format("database is at {}: applied {} in {} ({} already applied)",
                          version_text(result.version),
                          plural(static_cast<long>(result.applied.size()), "migration"),
                          duration_text(milliseconds(result.duration_ms)), result.skipped);
  }
  if (!result.seeded.empty()) {
    summary +=
        fmt::format("; applied {}", plural(static_cast<long>(result.seeded.size()), "seed file"));
  }
  if (result.pending > 0 && !flags.dry_run) {
    summary += fmt::format("; {} still pending", result.pending);
  }
  if (result.dropped) summary = "dropped the database and created it again; " + summary;
  return summary;
}

int command_run(Common& common, const UpFlags& flags, std::vector<std::string> command) {
  if (command.empty()) {
    Error error(ErrorKind::usage, "run needs a command to start after `up`");
    error.hint = "write it after --, for example: dbinit run -- ./server --port 8080";
    throw error;
  }
  command_up(common, flags, std::chrono::seconds(30), UpMode::run);
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

void add_up_flags(CLI::App& app, Common& common, UpFlags& flags, UpMode mode) {
  if (mode != UpMode::reset) {
    app.add_flag("--clean", common.flags.clean,
                 "reset first: drop the database, then up (development only, like reset; env "
                 "DBINIT_CLEAN=1 or DBINIT_FORCE_RECREATE=1)");
  }
  app.add_flag("--yes", common.flags.yes,
               "confirm dropping the database for --clean / reset (env DBINIT_YES=1)");
  app.add_flag("--skip-seed", common.flags.skip_seed,
               "do not seed a database that was empty (env DBINIT_SKIP_SEED=1)");
  app.add_flag("--skip-hooks", common.flags.skip_hooks,
               "do not run the after_up hooks (env DBINIT_SKIP_HOOKS=1)");
  app.add_option("--to", flags.to, "apply pending migrations up to this version only");
  app.add_flag("--no-schema-file", flags.no_schema_file,
               "build an empty database by replaying the migrations even when the schema file "
               "(db/schema.sql) is up to date");
  app.add_flag("--dry-run", flags.dry_run, "print what would be done and change nothing");
  app.add_option("--load", common.flags.load,
                 "on an empty database, load this snapshot first (env DBINIT_LOAD; default: "
                 "_init when db/backups has it)");
  app.add_flag("--backup-before", common.flags.backup_before,
               "take a snapshot before applying pending migrations; on MySQL, load it back when "
               "one fails (env DBINIT_BACKUP_BEFORE=1, toml backup_before = true)");
  app.add_option("--wait", common.flags.wait,
                 "wait this long for the server to accept connections (e.g. 30s)");
  app.add_option("--lock-timeout", common.flags.lock_timeout,
                 "wait this long for another dbinit's lock (default 60s)");
  app.add_option("--transaction", common.flags.transaction,
                 "all: the whole run is one transaction (default); each: one per migration");
  app.add_flag("--allow-missing", flags.allow_missing,
               "do not stop when an applied migration's file is missing");
  if (mode != UpMode::reset) {
    app.add_flag("--baseline", flags.baseline,
                 "on a database with tables but no ledger, first record every migration as "
                 "baseline (as `dbinit baseline` does), then go on");
  }
}

}  // namespace

void add_up_commands(Commands& commands) {
  Common& common = commands.common();
  auto flags = std::make_shared<UpFlags>();
  if (commands.wants("up")) {
    CLI::App* up = commands.add(
        "up", "create the database, restore the init dump, migrate, seed, run the hooks",
        [&common, flags] { return command_up(common, *flags, milliseconds(0), UpMode::up); });
    add_up_flags(*up, common, *flags, UpMode::up);
  }
  if (commands.wants("run")) {
    CLI::App* run =
        commands.add("run", "up, then exec COMMAND: dbinit run -- COMMAND [ARGS]",
                     [&common, flags] { return command_run(common, *flags, common.exec); });
    add_up_flags(*run, common, *flags, UpMode::run);
  }
  if (commands.wants("reset")) {
    CLI::App* reset = commands.add(
        "reset", "drop the database, then up (development only; asks, or --yes)",
        [&common, flags] { return command_up(common, *flags, milliseconds(0), UpMode::reset); });
    add_up_flags(*reset, common, *flags, UpMode::reset);
  }
}

}  // namespace dbinit::cli
