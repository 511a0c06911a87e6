#include "core/plan.h"

#include <algorithm>

#include <fmt/format.h>

namespace dbinit {

std::string_view to_string(MigrationState state) {
  switch (state) {
    case MigrationState::applied:
      return "applied";
    case MigrationState::baseline:
      return "baseline";
    case MigrationState::pending:
      return "pending";
    case MigrationState::changed:
      return "changed";
    case MigrationState::missing:
      return "missing";
    case MigrationState::failed:
      return "failed";
  }
  return "pending";
}

namespace {

MigrationState state_of(const Migration* migration, const LedgerEntry& entry) {
  switch (entry.state) {
    case LedgerState::failed:
      return MigrationState::failed;
    case LedgerState::baseline:
      // A baseline row was never run, so its checksum says nothing about drift unless one was
      // recorded: `baseline` records the file's checksum at the time.
      if (migration && !entry.checksum.empty() && entry.checksum != migration->checksum) {
        return MigrationState::changed;
      }
      return migration ? MigrationState::baseline : MigrationState::missing;
    case LedgerState::applied:
      if (!migration) return MigrationState::missing;
      return entry.checksum == migration->checksum ? MigrationState::applied
                                                   : MigrationState::changed;
  }
  return MigrationState::applied;
}

}  // namespace

Status compute_status(const std::vector<Migration>& migrations,
                      const std::vector<LedgerEntry>& ledger) {
  std::vector<std::pair<Version, const LedgerEntry*>> entries;
  entries.reserve(ledger.size());
  for (const LedgerEntry& entry : ledger) entries.emplace_back(Version(entry.version), &entry);
  // Engines return the ledger in version order (sort_ledger): check before sorting, which on a
  // thousand rows costs more than the rest of planning.
  auto by_version = [](const auto& a, const auto& b) { return a.first < b.first; };
  if (!std::is_sorted(entries.begin(), entries.end(), by_version)) {
    std::sort(entries.begin(), entries.end(), by_version);
  }

  Status status;
  status.rows.reserve(std::max(migrations.size(), entries.size()));
  // Both lists are in version order: merge them.
  auto file = migrations.begin();
  auto row = entries.begin();
  while (file != migrations.end() || row != entries.end()) {
    StatusRow out;
    if (row == entries.end() || (file != migrations.end() && file->version < row->first)) {
      out.version = file->version;
      out.migration = &*file++;
      out.state = MigrationState::pending;
    } else if (file == migrations.end() || row->first < file->version) {
      out.version = row->first;
      out.entry = row++->second;
      out.state = state_of(nullptr, *out.entry);
    } else {
      out.version = file->version;
      out.migration = &*file++;
      out.entry = row++->second;
      out.state = state_of(out.migration, *out.entry);
    }
    switch (out.state) {
      case MigrationState::applied:
        ++status.applied;
        break;
      case MigrationState::baseline:
        ++status.baseline;
        break;
      case MigrationState::pending:
        ++status.pending;
        break;
      case MigrationState::changed:
        ++status.changed;
        break;
      case MigrationState::missing:
        ++status.missing;
        break;
      case MigrationState::failed:
        ++status.failed;
        break;
    }
    if (out.entry && out.entry->state != LedgerState::failed) status.current = out.version;
    status.rows.push_back(out);
  }
  return status;
}

UpPlan plan_up(const Status& status, const std::optional<Version>& to) {
  UpPlan plan;
  for (const StatusRow& row : status.rows) {
    if (row.state != MigrationState::pending) continue;
    if (to && *to < row.version) break;
    plan.apply.push_back(row.migration);
    if (status.current && row.version < *status.current) plan.out_of_order.push_back(row.migration);
  }
  return plan;
}

Error changed_migration_error(const StatusRow& row, std::string hint) {
  const std::string& applied_name = row.entry->name;
  const std::string& file_name = row.migration->name;
  // The ledger row names the file that was applied; the folder may now hold another file with
  // that version (a renamed file, or another project's folder): name both then.
  std::string message =
      applied_name == file_name
          ? fmt::format("migration {} was changed after it was applied", file_name)
          : fmt::format(
                "version {} was applied as {}, but the file with that version is now {}, "
                "with other content",
                row.version.str(), applied_name, file_name);
  Error error(ErrorKind::drift, std::move(message));
  error.where = row.migration->display;
  error.detail = fmt::format("applied with checksum {}, the file now has {}", row.entry->checksum,
                             row.migration->checksum);
  error.state = "nothing was changed";
  error.hint = applied_name == file_name
                   ? std::move(hint)
                   : "check that the migrations folder and the database belong to the same "
                     "project (--dir, --service, the URL); if they do, " +
                         hint;
  return error;
}

std::string failed_migration_hint(const Version& version) {
  return fmt::format(
      "inspect the database and undo or complete what the migration did, then run `dbinit repair "
      "--forget-failed {0}` (to run it again) or `dbinit repair --mark-applied {0}`",
      version.str());
}

std::string changed_migration_hint(const Version& version) {
  return fmt::format(
      "restore the file as it was applied and put the change in a new migration (`dbinit new "
      "...`), or, if the edit is harmless, accept it with `dbinit repair --accept-checksum {}`",
      version.str());
}

}  // namespace dbinit
