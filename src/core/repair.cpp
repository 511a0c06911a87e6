#include "core/repair.h"

#include <algorithm>
#include <functional>

#include <fmt/format.h>

#include "core/session.h"
#include "util/error.h"

namespace dbinit {

namespace {

Error repair_error(const Project& project, std::string message, std::string hint) {
  Error error(ErrorKind::usage, std::move(message));
  error.where = project.url.redacted();
  error.state = "nothing was changed";
  error.hint = std::move(hint);
  return error;
}

const StatusRow* find_row(const Status& status, const Version& version) {
  auto it = std::find_if(status.rows.begin(), status.rows.end(),
                         [&](const StatusRow& row) { return row.version == version; });
  return it == status.rows.end() ? nullptr : &*it;
}

LedgerEntry entry_for(const Migration& migration, const Project& project, LedgerState state) {
  LedgerEntry entry;
  entry.version = migration.version.str();
  entry.name = migration.name;
  entry.checksum = migration.checksum;
  entry.state = state;
  entry.applied_at = utc_now_iso8601();
  entry.applied_by = project.applied_by;
  entry.down_sql = migration.down_sql;
  return entry;
}

}  // namespace

std::string format_accepted_checksum(const AcceptedChecksum& change) {
  return fmt::format("{} -> {} at {} by {}", change.from, change.to, change.at, change.by);
}

std::vector<AcceptedChecksum> parse_accepted_checksums(std::string_view value) {
  std::vector<AcceptedChecksum> out;
  std::size_t pos = 0;
  while (pos < value.size()) {
    std::size_t end = value.find('\n', pos);
    if (end == std::string_view::npos) end = value.size();
    const std::string_view line = value.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    AcceptedChecksum change;
    change.text = std::string(line);
    // Checksums and times hold no spaces; `by` (user@host dbinit 0.1.0) may.
    const std::size_t arrow = line.find(" -> ");
    const std::size_t at = line.find(" at ", arrow == std::string_view::npos ? 0 : arrow + 4);
    const std::size_t by = line.find(" by ", at == std::string_view::npos ? 0 : at + 4);
    if (arrow != std::string_view::npos && at != std::string_view::npos &&
        by != std::string_view::npos) {
      change.from = std::string(line.substr(0, arrow));
      change.to = std::string(line.substr(arrow + 4, at - arrow - 4));
      change.at = std::string(line.substr(at + 4, by - at - 4));
      change.by = std::string(line.substr(by + 4));
    }
    out.push_back(std::move(change));
  }
  return out;
}

std::map<std::string, std::vector<AcceptedChecksum>> read_accepted_checksums(
    const Project& project, const ConnectOptions& options, const std::vector<LedgerEntry>& ledger,
    Reporter& reporter) {
  std::map<std::string, std::vector<AcceptedChecksum>> out;
  if (ledger.empty()) return out;
  auto [engine, opened] = connect(project, false, options, reporter);
  if (opened == OpenResult::missing) return out;
  for (const LedgerEntry& entry : ledger) {
    std::optional<std::string> value =
        engine->meta(std::string(k_meta_accepted_checksum) + entry.version);
    if (!value) continue;
    std::vector<AcceptedChecksum> changes = parse_accepted_checksums(*value);
    if (!changes.empty()) out.emplace(entry.version, std::move(changes));
  }
  return out;
}

std::vector<std::string> run_repair(const Project& project, const RepairOptions& options,
                                    Reporter& reporter) {
  if (options.accept_checksum.empty() && options.forget_failed.empty() &&
      options.mark_applied.empty()) {
    throw repair_error(project, "repair needs something to do",
                       "use --accept-checksum V, --forget-failed V or --mark-applied V");
  }
  const MigrationSet files =
      load_migrations(project.migrations_dir, project.url.engine, project.migrations_dir.string());
  auto [engine, opened] = connect(project, false, options.connect, reporter);
  if (opened == OpenResult::missing) {
    throw repair_error(project, "the database does not exist", "run `dbinit up` first");
  }

  // Every change happens under the migration lock, in one transaction where the engine allows.
  SessionOptions session_options;
  session_options.scope = engine->transactional_ddl() ? LockScope::transaction : LockScope::session;
  session_options.lock_timeout = options.lock_timeout;
  session_options.connect = options.connect;
  std::vector<std::string> done;
  {
    Session session(*engine, project, session_options, reporter);
    std::optional<std::vector<LedgerEntry>> ledger = engine->read_ledger();
    if (!ledger) {
      throw repair_error(project, "the database has no dbinit ledger",
                         "run `dbinit up`, or `dbinit baseline` for a database built without it");
    }
    const Status status = compute_status(files.migrations, *ledger);
    // Everything is checked before anything is written, so that a bad argument changes nothing
    // even on engines without transactions.
    Step step;
    step.kind = StepKind::other;
    step.label = "the repair";
    std::vector<std::function<void(Engine&)>> writes;

    for (const Version& version : options.accept_checksum) {
      const StatusRow* row = find_row(status, version);
      if (!row || !row->entry || !row->migration) {
        throw repair_error(project,
                           fmt::format("--accept-checksum {}: no applied migration with a file "
                                       "has that version",
                                       version.str()),
                           "run `dbinit status` to see the versions");
      }
      if (row->state != MigrationState::changed) {
        throw repair_error(project,
                           fmt::format("--accept-checksum {}: {} is {}, not changed", version.str(),
                                       row->name(), to_string(row->state)),
                           "only a changed migration has a checksum to accept");
      }
      LedgerEntry entry = *row->entry;
      entry.checksum = row->migration->checksum;
      entry.down_sql = row->migration->down_sql;
      // The replaced checksum stays visible (`status -v`): one line per acceptance, oldest first.
      const std::string key = std::string(k_meta_accepted_checksum) + version.str();
      AcceptedChecksum change;
      change.from = row->entry->checksum;
      change.to = entry.checksum;
      change.at = utc_now_iso8601();
      change.by = project.applied_by;
      std::string history = format_accepted_checksum(change);
      if (std::optional<std::string> earlier = engine->meta(key); earlier && !earlier->empty()) {
        history = *earlier + "\n" + history;
      }
      writes.push_back([key, history](Engine& on) {
        on.ensure_ledger();
        on.set_meta(key, history);
      });
      step.rows.push_back(entry);
      done.push_back(fmt::format("accepted the new checksum of {} ({} was {})", row->name(),
                                 entry.checksum, row->entry->checksum));
    }
    for (const Version& version : options.forget_failed) {
      const StatusRow* row = find_row(status, version);
      if (!row || row->state != MigrationState::failed) {
        throw repair_error(
            project,
            fmt::format("--forget-failed {}: no failed migration has that version", version.str()),
            "run `dbinit status` to see which migration failed");
      }
      step.removes.push_back(row->entry->version);
      done.push_back(
          fmt::format("forgot the failed run of {}; `dbinit up` runs it again", row->name()));
    }
    for (const Version& version : options.mark_applied) {
      const StatusRow* row = find_row(status, version);
      if (!row || !row->migration ||
          (row->state != MigrationState::failed && row->state != MigrationState::pending)) {
        throw repair_error(project,
                           fmt::format("--mark-applied {}: no failed or pending migration file "
                                       "has that version",
                                       version.str()),
                           "run `dbinit status` to see the versions and their states");
      }
      step.rows.push_back(entry_for(*row->migration, project, LedgerState::applied));
      done.push_back(fmt::format("recorded {} as applied without running it", row->name()));
    }
    step.run = [&writes](Engine& on, Step&) {
      for (const auto& write : writes) write(on);
    };
    session.run(std::span(&step, 1));
    session.finish();
  }
  return done;
}

}  // namespace dbinit
