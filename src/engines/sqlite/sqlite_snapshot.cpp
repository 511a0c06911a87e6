// Snapshots on sqlite: dump, load and the plain SQL script (engines/snapshot.h).

#include "engines/snapshot.h"

#include "engines/sqlite/sqlite_engine.h"

namespace dbinit {

const SnapshotSupport k_sqlite_snapshot_support = {};

}  // namespace dbinit
