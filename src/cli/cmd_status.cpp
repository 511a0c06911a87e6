// `dbinit status` and `dbinit check`.

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/services.h"
#include "core/repair.h"
#include "core/runner.h"
#include "util/error.h"

namespace dbinit::cli {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

// The one line `status --all` shows per service.
std::string status_summary(const StatusReport& report) {
  const Status& status = report.status;
  if (!report.database_exists) return "the database does not exist";
  return fmt::format(
      "{}: {} applied, {} baseline, {} pending, {} changed, {} missing, {} "
      "failed",
      version_text(status.current), status.applied, status.baseline, status.pending, status.changed,
      status.missing, status.failed);
}

int command_status(const Common& common) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  require_migrations_dir(settings);
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
    print_json(out);
    report_summary(status_summary(*report));
    return 0;
  }

  // -v: the checksums `repair --accept-checksum` replaced, kept in the meta table.
  std::map<std::string, std::vector<AcceptedChecksum>> accepted;
  if (common.verbose && report->has_ledger) {
    accepted = read_accepted_checksums(settings.project, ConnectOptions{settings.wait},
                                       report->ledger, reporter);
  }

  std::string text;
  text += fmt::format("engine:   {}\n", report->engine);
  text += fmt::format("url:      {}\n", report->url);
  if (!report->database_exists) {
    text += "database: does not exist (dbinit up creates it)\n";
  } else if (!report->has_ledger) {
    text += "database: exists, no dbinit ledger yet\n";
  }
  text += fmt::format("version:  {}\n",
                      status.current ? status.current->str() : "none (no migration applied yet)");
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
      if (const auto it = row.entry ? accepted.find(row.entry->version) : accepted.end();
          it != accepted.end()) {
        for (const AcceptedChecksum& change : it->second) {
          text += fmt::format("{:<{}}  accepted checksum change: {}\n", "", width, change.text);
        }
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
  print_out(text);
  report_summary(status_summary(*report));
  return 0;
}

int command_check(Common& common) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  require_migrations_dir(settings);
  HumanReporter reporter(common.verbosity());
  const std::unique_ptr<StatusReport> report =
      read_status(settings.project, ConnectOptions{settings.wait}, reporter);
  common.result = {{"engine", report->engine},
                   {"url", report->url},
                   {"version", version_json(report->status.current)},
                   {"current", false}};
  check_current(*report);
  common.result["current"] = true;
  if (common.json) print_json(common.result);
  const std::string summary =
      fmt::format("database is up to date at {}", version_text(report->status.current));
  reporter.note(summary);
  report_summary(summary);
  return 0;
}

// `dbinit new`: the next file name follows the existing files (UTC timestamps when they use 14
// digits or more, else a zero-padded sequence one above the highest), with both markers.
}  // namespace

void add_status_commands(Commands& commands) {
  Common& common = commands.common();
  if (commands.wants("status")) {
    CLI::App* status = commands.add("status", "show every migration and its state",
                                    [&common] { return command_status(common); });
    status->add_option("--wait", common.flags.wait, "wait this long for the server");
  }
  if (commands.wants("check")) {
    CLI::App* check = commands.add("check", "exit 0 when the database is up to date, else 7",
                                   [&common] { return command_check(common); });
    check->add_option("--wait", common.flags.wait, "wait this long for the server");
  }
}

}  // namespace dbinit::cli
