// `dbinit dump`, `dbinit load`, `dbinit backups`.

#include <unistd.h>

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/services.h"
#include "core/runner.h"
#include "core/snapshot.h"
#include "util/elapsed.h"
#include "util/stream_file.h"

namespace dbinit::cli {

using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

struct DumpFlags {
  std::optional<std::string> name;
  bool force = false;
  std::string format = "snapshot";
  std::optional<std::string> output;
  std::optional<int> keep;
  bool template_copy = false;
};

struct LoadFlags {
  std::string name;
  bool no_migrate = false;
};

std::string size_text(std::uint64_t bytes) {
  if (bytes < 10'000) return fmt::format("{} B", bytes);
  if (bytes < 10'000'000) return fmt::format("{:.1f} kB", static_cast<double>(bytes) / 1e3);
  if (bytes < 10'000'000'000) return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6);
  return fmt::format("{:.1f} GB", static_cast<double>(bytes) / 1e9);
}

std::int64_t total_rows(const SnapshotManifest& manifest) {
  std::int64_t rows = 0;
  for (const SnapshotTable& table : manifest.tables) rows += table.rows;
  return rows;
}

std::string at_version(const SnapshotManifest& manifest) {
  const std::string version = manifest.ledger_version();
  return version.empty() ? "no version" : "version " + version;
}

int command_dump(Common& common, const DumpFlags& flags) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  HumanReporter reporter(common.verbosity());
  common.result = {{"engine", settings.project.url.engine},
                   {"url", settings.project.url.redacted()}};
  if (flags.format != "snapshot" && flags.format != "sql") {
    Error error(ErrorKind::usage,
                fmt::format("--format {}: expected snapshot or sql", flags.format));
    error.hint = "snapshot (the default) writes a folder under db/backups; sql one plain script";
    throw error;
  }
  ConnectOptions connect;
  connect.wait = settings.wait;
  if (flags.format == "sql") {
    if (flags.name || flags.force || flags.keep || flags.template_copy) {
      Error error(ErrorKind::usage,
                  "--format sql writes one script: --name, --force, --keep and "
                  "--template are for snapshots");
      error.hint = "give --output FILE (or nothing, for stdout)";
      throw error;
    }
    const Clock::time_point start = Clock::now();
    TerminalProgress progress(common.verbosity(), "dumping");
    const bool to_stdout = !flags.output || *flags.output == "-";
    if (to_stdout && common.json) {
      Error error(ErrorKind::usage,
                  "--json prints its document on stdout, where the script would go");
      error.hint = "give --output FILE with --format sql --json";
      throw error;
    }
    std::uint64_t bytes = 0;
    if (to_stdout) {
      FileSink sink = FileSink::to_descriptor(STDOUT_FILENO, "standard output", {});
      run_dump_sql(settings.project, connect, sink, progress, reporter);
      bytes = sink.bytes_in();
      sink.finish();
    } else {
      // Written beside the file and renamed over it, so that a failed dump leaves the old one.
      const std::filesystem::path target = *flags.output;
      const std::filesystem::path dir =
          target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
      const std::string temporary =
          fmt::format(".{}.partial-{}", target.filename().string(), ::getpid());
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      std::filesystem::remove(dir / temporary, ec);
      try {
        FileSink sink(dir, temporary, {});
        run_dump_sql(settings.project, connect, sink, progress, reporter);
        bytes = sink.bytes_in();
        sink.finish();
        std::filesystem::rename(dir / temporary, target);
        sync_directory(dir);
      } catch (...) {
        std::filesystem::remove(dir / temporary, ec);
        throw;
      }
    }
    progress.finish();
    const std::string summary =
        fmt::format("wrote {} of SQL to {} in {}", size_text(bytes),
                    to_stdout ? std::string("standard output") : *flags.output,
                    duration_text(milliseconds(elapsed_ms(start))));
    reporter.note(summary);
    common.result["output"] = to_stdout ? json(nullptr) : json(*flags.output);
    common.result["bytes"] = bytes;
    if (common.json) print_json(common.result);
    report_summary(summary);
    return 0;
  }

  DumpOptions options;
  options.connect = connect;
  options.name = flags.name.value_or("");
  options.force = flags.force;
  options.keep = flags.keep;
  options.template_copy = flags.template_copy;
  if (flags.output) {
    Error error(ErrorKind::usage, "--output is for --format sql");
    error.hint = "a snapshot goes to the backups folder (--backups, DBINIT_BACKUPS)";
    throw error;
  }
  if (options.keep && *options.keep < 1) {
    Error error(ErrorKind::usage, "--keep: expected a number of 1 or more");
    error.hint = "--keep 7 keeps the seven newest timestamp-named snapshots";
    throw error;
  }
  TerminalProgress progress(common.verbosity(), "dumping");
  const DumpResult result = run_dump(settings.project, options, reporter, progress);
  progress.finish();
  const SnapshotManifest& manifest = result.manifest;
  const std::string summary =
      fmt::format("wrote snapshot {} ({}, {} in {}, at {}) in {}", result.name,
                  manifest.template_database ? "template database " + *manifest.template_database
                                             : size_text(manifest.size()),
                  plural(total_rows(manifest), "row"),
                  plural(static_cast<long>(manifest.tables.size()), "table"), at_version(manifest),
                  duration_text(milliseconds(result.duration_ms)));
  reporter.note(summary);
  common.result["name"] = result.name;
  common.result["folder"] = result.folder.string();
  common.result["size"] = manifest.size();
  common.result["rows"] = total_rows(manifest);
  common.result["tables"] = manifest.tables.size();
  common.result["version"] =
      manifest.ledger_version().empty() ? json(nullptr) : json(manifest.ledger_version());
  common.result["template_database"] =
      manifest.template_database ? json(*manifest.template_database) : json(nullptr);
  common.result["removed"] = result.removed;
  common.result["duration_ms"] = result.duration_ms;
  if (common.json) print_json(common.result);
  report_summary(summary);
  return 0;
}

std::string ask_on_terminal(const std::string& name, const std::string& target) {
  return ask_database_name("loading a snapshot replaces everything in the database {}", name,
                           target);
}

int command_load(Common& common, const LoadFlags& flags) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  require_migrations_dir(settings);
  HumanReporter reporter(common.verbosity());
  common.result = {{"engine", settings.project.url.engine},
                   {"url", settings.project.url.redacted()},
                   {"name", flags.name}};
  LoadOptions options;
  options.connect.wait = settings.wait;
  options.lock_timeout = settings.lock_timeout;
  options.confirmed = settings.confirmed;
  if (isatty(STDIN_FILENO)) options.ask = ask_on_terminal;
  TerminalProgress progress(common.verbosity(), "loading");
  const LoadResult loaded = run_load(settings.project, flags.name, options, reporter, progress);
  progress.finish();
  common.result["replaced"] = loaded.replaced;
  common.result["created"] = loaded.created;
  common.result["rows"] = total_rows(loaded.manifest);
  common.result["snapshot_version"] = loaded.manifest.ledger_version().empty()
                                          ? json(nullptr)
                                          : json(loaded.manifest.ledger_version());
  common.result["applied"] = json::array();
  std::string summary = fmt::format(
      "loaded snapshot {} ({} in {})", flags.name, plural(total_rows(loaded.manifest), "row"),
      plural(static_cast<long>(loaded.manifest.tables.size()), "table"));
  if (!flags.no_migrate) {
    UpOptions up;
    up.connect.wait = settings.wait;
    up.lock_timeout = settings.lock_timeout;
    up.transaction = settings.transaction;
    up.use_init_snapshot = false;
    up.use_schema_file = false;
    try {
      const UpResult result = run_up(settings.project, up, reporter);
      for (const AppliedMigration& m : result.applied) {
        common.result["applied"].push_back(
            {{"version", m.version}, {"name", m.name}, {"duration_ms", m.duration_ms}});
      }
      common.result["version"] = version_json(result.version);
      summary += fmt::format(
          "; database is at {}{}", version_text(result.version),
          result.applied.empty()
              ? std::string()
              : fmt::format(" (applied {} newer than the snapshot)",
                            plural(static_cast<long>(result.applied.size()), "migration")));
    } catch (Error& error) {
      error.state = fmt::format("the snapshot {} was loaded; then {}", flags.name,
                                error.state.empty() ? "migrating failed" : error.state);
      throw;
    }
  } else {
    common.result["version"] = common.result["snapshot_version"];
    summary += fmt::format(" at {} (--no-migrate)", at_version(loaded.manifest));
  }
  summary += fmt::format(" in {}", duration_text(milliseconds(loaded.duration_ms)));
  reporter.note(summary);
  if (common.json) print_json(common.result);
  report_summary(summary);
  return 0;
}

int command_backups(Common& common) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  common.result = {{"engine", settings.project.url.engine},
                   {"backups", settings.project.backups_dir.string()}};
  const MigrationSet files =
      load_migrations(settings.project.migrations_dir, settings.project.url.engine,
                      settings.project.migrations_dir.string());
  const std::vector<BackupInfo> backups = list_backups(settings.project, files);
  json list = json::array();
  for (const BackupInfo& info : backups) {
    list.push_back(
        {{"name", info.name},
         {"created_at", info.created_at},
         {"size", info.size},
         {"engine", info.engine},
         {"server_version", info.server_version},
         {"version", info.ledger_version.empty() ? json(nullptr) : json(info.ledger_version)},
         {"template", info.template_copy},
         {"status", info.status},
         {"reason", info.reason.empty() ? json(nullptr) : json(info.reason)}});
  }
  common.result["snapshots"] = list;
  if (common.json) {
    print_json(common.result);
  } else if (backups.empty()) {
    print_out(fmt::format("no snapshots in {}\n", settings.project.backups_dir.string()));
  } else {
    std::string text = fmt::format("{:<28} {:<20} {:>9} {:<9} {:<18} {:<9} {}\n", "NAME", "TIME",
                                   "SIZE", "ENGINE", "SERVER", "VERSION", "LOADABLE");
    for (const BackupInfo& info : backups) {
      text +=
          fmt::format("{:<28} {:<20} {:>9} {:<9} {:<18} {:<9} {}\n", info.name, info.created_at,
                      info.template_copy ? "template" : size_text(info.size), info.engine,
                      info.server_version, info.ledger_version.empty() ? "-" : info.ledger_version,
                      info.status == "ok" ? info.status : info.status + ": " + info.reason);
    }
    print_out(text);
  }
  report_summary(fmt::format("{} snapshot{}", backups.size(), backups.size() == 1 ? "" : "s"));
  return 0;
}

}  // namespace

void add_snapshot_commands(Commands& commands) {
  Common& common = commands.common();
  if (commands.wants("dump")) {
    auto flags = std::make_shared<DumpFlags>();
    CLI::App* dump = commands.add(
        "dump", "write a snapshot of the database to db/backups/NAME (or one SQL script)",
        [&common, flags] { return command_dump(common, *flags); });
    dump->add_option("--name", flags->name, "the snapshot's name (default: the UTC time)");
    dump->add_flag("--force", flags->force,
                   "replace a snapshot of that name once the new one is "
                   "complete");
    dump->add_option("--format", flags->format,
                     "snapshot (default): a folder with a manifest; sql: one plain SQL script");
    dump->add_option("--output", flags->output, "with --format sql: the file (default: stdout)");
    dump->add_option("--keep", flags->keep,
                     "then keep only the newest N timestamp-named snapshots");
    dump->add_flag("--template", flags->template_copy,
                   "PostgreSQL: a copy as a template database on the server, for instant loads");
    dump->add_option("--wait", common.flags.wait, "wait this long for the server");
  }
  if (commands.wants("load")) {
    auto flags = std::make_shared<LoadFlags>();
    CLI::App* load =
        commands.add("load", "replace the database's contents with a snapshot, then migrate",
                     [&common, flags] { return command_load(common, *flags); });
    load->add_option("NAME", flags->name, "the snapshot (`dbinit backups` lists them)")->required();
    load->add_flag("--yes", common.flags.yes,
                   "confirm replacing a database that has contents (env DBINIT_YES=1)");
    load->add_flag("--no-migrate", flags->no_migrate,
                   "leave the database at the snapshot's version");
    load->add_option("--wait", common.flags.wait, "wait this long for the server");
    load->add_option("--lock-timeout", common.flags.lock_timeout,
                     "wait this long for another dbinit's lock (default 60s)");
  }
  if (commands.wants("backups")) {
    commands.add("backups", "list the snapshots and whether each can be loaded here",
                 [&common] { return command_backups(common); });
  }
}

}  // namespace dbinit::cli
