#include "core/repair.h"

#include <algorithm>
#include <functional>

#include <fmt/format.h>

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
  const bool transactional = engine->transactional_ddl();
  if (transactional) {
    engine->begin_locked(options.lock_timeout);
  } else {
    engine->lock(options.lock_timeout);
  }
  std::vector<std::string> done;
  try {
    std::optional<std::vector<LedgerEntry>> ledger = engine->read_ledger();
    if (!ledger) {
      throw repair_error(project, "the database has no dbinit ledger",
                         "run `dbinit up`, or `dbinit baseline` for a database built without it");
    }
    const Status status = compute_status(files.migrations, *ledger);
    // Everything is checked before anything is written, so that a bad argument changes nothing
    // even on engines without transactions.
    std::vector<std::function<void()>> writes;

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
      writes.push_back([&engine, entry] { engine->record(entry); });
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
      writes.push_back([&engine, v = row->entry->version] { engine->remove(v); });
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
      writes.push_back(
          [&engine, entry = entry_for(*row->migration, project, LedgerState::applied)] {
            engine->record(entry);
          });
      done.push_back(fmt::format("recorded {} as applied without running it", row->name()));
    }
    for (const auto& write : writes) write();
    if (transactional) {
      engine->commit();
    } else {
      engine->unlock();
    }
  } catch (Error&) {
    if (transactional) {
      engine->rollback();
    } else {
      engine->unlock();
    }
    throw;
  }
  return done;
}

}  // namespace dbinit
