#pragma once

#include <memory>

#include "engines/engine.h"

struct sqlite3;

namespace dbinit {

struct SnapshotSupport;

/// Builds the sqlite engine for `url` (url.engine == "sqlite"). Does not connect: see
/// Engine::open().
std::unique_ptr<Engine> make_sqlite_engine(const DatabaseUrl& url);

/// Schema files and diagrams on sqlite (sqlite_introspect.cpp).
extern const SchemaSupport k_sqlite_schema_support;
/// Snapshots on sqlite (sqlite_snapshot.cpp).
extern const SnapshotSupport k_sqlite_snapshot_support;

/// See configure_engine_libraries(); without effect once SQLite is initialised.
void configure_sqlite_library();

/// The connection of an open SQLite engine (`engine.name() == "sqlite"`), for the schema reader.
sqlite3* sqlite_handle(Engine& engine);

/// The statements that create the ledger and meta tables when missing (ensure_ledger()).
std::string_view sqlite_ledger_ddl();

}  // namespace dbinit
