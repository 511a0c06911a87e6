#pragma once

// Scratch databases: throw-away databases in which `verify` and `baseline --detect` run migrations,
// so that the project's own database is never touched. A scratch database always has a fresh name
// of its own (`dbinit_scratch_<pid>_<n>`) and is dropped afterwards.

#include <filesystem>
#include <memory>
#include <optional>

#include "core/migration.h"
#include "engines/engine.h"
#include "engines/url.h"

namespace dbinit {

/// `url` pointed at a fresh scratch database on the same server: the database name is replaced by
/// `dbinit_scratch_<pid>_<n>` (`n` counts up within the process); for SQLite, the file is replaced
/// by `dbinit_scratch_<pid>_<n>.sqlite3` in the same folder. Credentials, hosts and query
/// parameters are kept.
DatabaseUrl scratch_url(const DatabaseUrl& url);

/// A scratch database, created and opened by the constructor and dropped by drop() or the
/// destructor.
class ScratchDatabase {
 public:
  /// Creates a scratch database on the server that `server` names (its database name is not
  /// used, see scratch_url()), or a temporary SQLite file in a folder of its own under the system
  /// temp folder when `server` is nullopt. Throws Error{unreachable} / Error{auth} when the server
  /// does not let us in.
  explicit ScratchDatabase(const std::optional<DatabaseUrl>& server);
  /// Drops the database if drop() was not called; errors are ignored here.
  ~ScratchDatabase();
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  Engine& engine() { return *m_engine; }
  const DatabaseUrl& url() const { return m_url; }
  /// Drops the database (and the temporary folder of a default SQLite scratch file). Throws Error
  /// when the server refuses; calling it twice does nothing.
  void drop();

 private:
  DatabaseUrl m_url;
  std::optional<std::filesystem::path> m_temp_dir;
  std::unique_ptr<Engine> m_engine;
  bool m_dropped = false;
};

/// Runs `script` in a scratch database the way `up` would run the migration it comes from: in a
/// transaction of its own where the engine allows and the migration does not say
/// `no-transaction`, with foreign keys off (then checked) for `foreign-keys off`. A failure rolls
/// that transaction back and throws the engine's Error.
void run_on_scratch(Engine& engine, const Script& script, const Directives& directives);

}  // namespace dbinit
