#pragma once

// Postgres snapshot support: what the rest of the engine folder and its tests may set beside the
// SnapshotSupport table (engines/snapshot.h).

#include <filesystem>

namespace dbinit {

/// Where the snapshot support looks for pg_dump: `<root>/<major>/bin/pg_dump`, Debian's layout
/// (`/usr/lib/postgresql`, the default). It takes the one of the server's major version, else the
/// oldest newer one. Process-wide; for tests, which point it at a folder without pg_dump.
void set_postgres_client_root(std::filesystem::path root);

}  // namespace dbinit
