#pragma once

// Snapshots (SPEC.md `dump`, `load`, `backups`): named, checksummed copies of a database that know
// the ledger they were taken at. A snapshot is a folder `<backups>/<NAME>/` holding the engine's
// data files (engines/snapshot.h) and `manifest.json`, which lists every file with its size and
// SHA-256, the engine, the server's version, the ledger's rows and the tables' row counts. The
// folder is written under a temporary name beside it, flushed, then renamed: a dump that fails or
// is killed leaves no folder under NAME. A load checks everything it can before it touches the
// database (manifest, files, engine, the ledger against the migration files), then lets the engine
// replace the database's contents atomically.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/connect.h"
#include "core/migration.h"
#include "core/project.h"
#include "core/reporter.h"
#include "core/runner.h"
#include "engines/snapshot.h"

namespace dbinit {

/// The snapshot `up` prefers on an empty database, and `seed --record` rebuilds.
inline constexpr std::string_view k_init_snapshot = "_init";
/// The version of the manifest's format this dbinit writes and reads.
inline constexpr int k_snapshot_format = 1;

struct SnapshotManifest {
  int format = k_snapshot_format;
  std::string engine;
  std::string server_version;
  /// The database's name as the URL gives it (the file, for SQLite), without credentials.
  std::string database;
  std::string dbinit_version;
  /// UTC ISO-8601: when the dump started.
  std::string created_at;
  /// The ledger's rows at the snapshot's moment; nullopt when the database had no ledger.
  std::optional<std::vector<LedgerEntry>> ledger;
  std::vector<SnapshotTable> tables;
  std::vector<WrittenFile> files;
  /// A template snapshot: the server-side database that holds the copy (PostgreSQL).
  std::optional<std::string> template_database;

  /// The newest applied or baseline version of `ledger` (empty when none).
  std::string ledger_version() const;
  /// The sum of the files' sizes.
  std::uint64_t size() const;
};

/// The manifest as JSON (stable key order, two-space indent, ends with a newline).
std::string manifest_json(const SnapshotManifest& manifest);
/// Reads a manifest; throws Error{config} naming `shown` and what is wrong.
SnapshotManifest parse_manifest(std::string_view text, std::string_view shown);

/// Throws Error{usage} unless `name` can name a snapshot: 1 to 100 characters of letters, digits,
/// `.`, `_` and `-`, not starting with `.` or `-`.
void check_snapshot_name(std::string_view name);
/// The default name: the UTC time `YYYYMMDDTHHMMSSZ`.
std::string timestamp_snapshot_name(std::chrono::system_clock::time_point when);
/// True for names of that form (the snapshots `--keep` may remove).
bool is_timestamp_snapshot_name(std::string_view name);

struct DumpOptions {
  ConnectOptions connect;
  /// Empty: the UTC time.
  std::string name;
  bool force = false;
  /// Keep at most this many timestamp-named snapshots, the newest ones (after the dump).
  std::optional<int> keep;
  /// A template snapshot (engines that have them: PostgreSQL).
  bool template_copy = false;
};

struct DumpResult {
  std::string name;
  std::filesystem::path folder;
  SnapshotManifest manifest;
  /// Snapshots removed by --keep.
  std::vector<std::string> removed;
  std::int64_t duration_ms = 0;
};

/// `dbinit dump`: writes the snapshot `options.name` of the project's database. A missing
/// database is Error{failure}; an existing name without `force` is Error{usage} (exit 2).
DumpResult run_dump(const Project& project, const DumpOptions& options, Reporter& reporter,
                    SnapshotProgress& progress);

/// Writes a snapshot of the open `engine` (no transaction open) named `name` into `backups`
/// (created when missing), replacing one of that name only when `force`. What run_dump() and
/// `up --backup-before` share.
DumpResult write_snapshot(Engine& engine, const Project& project, const std::string& name,
                          bool force, bool template_copy, SnapshotProgress& progress);

/// `dbinit dump --format sql`: the plain SQL script of the project's database, written to `out`.
void run_dump_sql(const Project& project, const ConnectOptions& connect, FileSink& out,
                  SnapshotProgress& progress, Reporter& reporter);

/// A snapshot read and checked, ready to load.
struct CheckedSnapshot {
  std::string name;
  std::filesystem::path folder;
  SnapshotManifest manifest;
};

/// Reads the snapshot `name` of `project` and checks, without touching any database: the
/// manifest, every file's size and SHA-256 (Error{config}, exit 2, for a missing, corrupt or
/// truncated snapshot), the engine (Error{config} for another engine's snapshot), and that the
/// snapshot's ledger is a prefix of `files` with the same checksums (Error{drift}, exit 3, naming
/// the first difference).
CheckedSnapshot check_snapshot(const Project& project, const std::string& name,
                               const MigrationSet& files);

struct LoadOptions {
  ConnectOptions connect;
  std::chrono::milliseconds lock_timeout{60'000};
  /// --yes / DBINIT_YES=1.
  bool confirmed = false;
  /// Asks the user to type the database's name, as UpOptions::ask.
  std::function<std::string(const std::string& name, const std::string& target)> ask;
};

struct LoadResult {
  std::string name;
  std::string url;  // redacted
  SnapshotManifest manifest;
  /// The database had contents that the snapshot replaced.
  bool replaced = false;
  /// The database did not exist and was created.
  bool created = false;
  std::int64_t duration_ms = 0;
};

/// `dbinit load NAME` without the migrations that follow (the CLI runs `up` afterwards unless
/// --no-migrate): checks the snapshot, then replaces the database's contents with it under the
/// migration lock. Replacing a database that has contents passes the `reset` guard.
LoadResult run_load(const Project& project, const std::string& name, const LoadOptions& options,
                    Reporter& reporter, SnapshotProgress& progress);

/// Loads `snapshot` into the open `engine` under the migration lock: when `only_if_empty`, does
/// nothing (returns false) if the database has tables once the lock is held (another starter
/// loaded it). Records the project's environment afterwards. What `load`, `up --load` and the
/// automatic restore of `up --backup-before` share.
bool load_checked_snapshot(Engine& engine, const Project& project, const CheckedSnapshot& snapshot,
                           std::chrono::milliseconds lock_timeout, bool only_if_empty,
                           SnapshotProgress& progress);

/// `dbinit seed --record`: resets the database (the `reset` guard: development, confirmed),
/// migrates it, applies the seeds, then writes the `_init` snapshot, replacing the old one.
/// `up` carries the connection, lock and confirmation options; its clean, seed and snapshot
/// settings are set here.
DumpResult record_init_snapshot(const Project& project, UpOptions up, Reporter& reporter,
                                SnapshotProgress& progress);

/// One entry of `dbinit backups`.
struct BackupInfo {
  std::string name;
  std::filesystem::path folder;
  /// Read from the manifest; empty when it could not be read.
  std::string created_at;
  std::uint64_t size = 0;
  std::string engine;
  std::string server_version;
  std::string ledger_version;
  bool template_copy = false;
  /// `ok`, `newer than the migrations`, `drift`, `corrupt`, `other engine`.
  std::string status;
  /// Why, when status is not `ok`.
  std::string reason;
};

/// The snapshots in the project's backups folder, oldest first, each checked as a load would
/// check it. Leftovers of killed dumps are not listed.
std::vector<BackupInfo> list_backups(const Project& project, const MigrationSet& files);

/// The snapshot `up` loads into an empty database: `requested` (--load / DBINIT_LOAD) when given,
/// else `_init` when the backups folder has it, else nullopt.
std::optional<std::string> snapshot_for_empty_database(const Project& project,
                                                       const std::string& requested);

}  // namespace dbinit
