#pragma once

// Snapshot support, beside the Engine contract (engine.h): what each engine offers for `dump`,
// `load` and `dump --format sql`. The core (core/snapshot.h) owns the snapshot's folder, its
// manifest, checksums, names and guards; an engine only writes its data files into a folder it is
// given and reads them back. Each engine registers one SnapshotSupport in its EngineInfo.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engines/engine.h"
#include "util/stream_file.h"

namespace dbinit {

/// Where an engine reports how far a dump or load has come. The CLI draws one progress line from
/// it; every call is cheap (called at most a few times per MiB). Engines call it from the thread
/// that called dump() or load().
class SnapshotProgress {
 public:
  virtual ~SnapshotProgress() = default;
  /// A table starts (`public.orders`, `orders`), with its expected row count when known (-1).
  virtual void table(std::string_view name, std::int64_t expected_rows) = 0;
  /// More rows and bytes of the current table are done (deltas, not totals).
  virtual void advance(std::int64_t rows, std::int64_t bytes) = 0;
};

/// A progress that shows nothing.
class NoProgress final : public SnapshotProgress {
 public:
  void table(std::string_view, std::int64_t) override {}
  void advance(std::int64_t, std::int64_t) override {}
};

/// One table of a snapshot and its row count at the snapshot's moment.
struct SnapshotTable {
  /// As users name it: `orders` (SQLite, MySQL), `public.orders` (PostgreSQL).
  std::string name;
  std::int64_t rows = 0;
};

/// What dump() wrote and saw, all of it at the one moment the snapshot shows.
struct SnapshotDump {
  /// The server's version (`PostgreSQL 15.18`, `SQLite 3.40.1`, `MariaDB 10.11.19`).
  std::string server_version;
  /// The ledger's rows at the snapshot's moment; nullopt when the database had no ledger.
  std::optional<std::vector<LedgerEntry>> ledger;
  /// Every user table with its row count (dbinit's own tables included, as users see them).
  std::vector<SnapshotTable> tables;
  /// Every file written into the folder, in the order written.
  std::vector<WrittenFile> files;
};

struct SnapshotSupport {
  /// Writes a consistent snapshot of the database of `engine` (open, no transaction open) into
  /// `dir`, an existing empty folder (0700): schema and data of everything, dbinit's ledger and
  /// meta tables included, as of one moment while other sessions go on writing. Files through
  /// FileSink (0600, hashed, fsynced). Changes nothing in the database.
  SnapshotDump (*dump)(Engine& engine, const std::filesystem::path& dir,
                       SnapshotProgress& progress) = nullptr;
  /// Replaces everything in the database of `engine` (open; the caller holds the migration lock
  /// for the session, engine.lock(), and no transaction is open) with the snapshot in `dir`,
  /// whose files `files` the caller has checked (size and SHA-256). Atomic: afterwards the
  /// database holds exactly the snapshot (nothing left from before: tables, views, sequences,
  /// functions, triggers, types), and a failure, or the process killed at any moment, leaves it
  /// exactly as it was. Throws Error with `state` saying what the database holds.
  void (*load)(Engine& engine, const std::filesystem::path& dir,
               const std::vector<WrittenFile>& files, SnapshotProgress& progress) = nullptr;
  /// Writes one plain SQL script (schema, data, ledger and meta tables) to `out`, consistent as
  /// dump() is, that the engine's own shell runs on an empty database (`sqlite3 new.db < f`,
  /// `psql -f f`, `mariadb db < f`) and Engine::restore() runs as an init dump.
  void (*dump_sql)(Engine& engine, FileSink& out, SnapshotProgress& progress) = nullptr;
  /// Optional (nullptr where the engine has no such thing): copies the database into a new
  /// database `template_name` on the same server (PostgreSQL: CREATE DATABASE ... TEMPLATE), for
  /// loads that copy files instead of rows. Fills the SnapshotDump as dump() would (files empty).
  SnapshotDump (*dump_template)(Engine& engine, std::string_view template_name) = nullptr;
  /// Optional: replaces the database of `engine` with a copy of the database `template_name`,
  /// atomically as load() does. The caller holds the lock as for load().
  void (*load_template)(Engine& engine, std::string_view template_name) = nullptr;
  /// Optional: drops the template database `template_name` (a snapshot removed by --keep or
  /// replaced by --force).
  void (*drop_template)(Engine& engine, std::string_view template_name) = nullptr;
};

/// The snapshot support of the engine `engine` (`Engine::name()`).
const SnapshotSupport& snapshot_support(const Engine& engine);

}  // namespace dbinit
