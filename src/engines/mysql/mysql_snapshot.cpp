// Snapshots on mysql: dump, load and the plain SQL script (engines/snapshot.h).

#include "engines/snapshot.h"

#include "engines/mysql/mysql_engine.h"

namespace dbinit {

const SnapshotSupport k_mysql_snapshot_support = {};

}  // namespace dbinit
