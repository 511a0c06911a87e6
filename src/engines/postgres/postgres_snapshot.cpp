// Snapshots on postgres: dump, load and the plain SQL script (engines/snapshot.h).

#include "engines/snapshot.h"

#include "engines/postgres/postgres_engine.h"

namespace dbinit {

const SnapshotSupport k_postgres_snapshot_support = {};

}  // namespace dbinit
