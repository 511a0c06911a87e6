#pragma once

#include <memory>
#include <string>

#include "engines/engine.h"

namespace dbinit {

struct SnapshotSupport;

/// Builds the postgres engine for `url` (url.engine == "postgres"). Does not connect: see
/// Engine::open().
std::unique_ptr<Engine> make_postgres_engine(const DatabaseUrl& url);

/// Schema files and diagrams on postgres (postgres_introspect.cpp).
extern const SchemaSupport k_postgres_schema_support;
/// Snapshots on postgres (postgres_snapshot.cpp).
extern const SnapshotSupport k_postgres_snapshot_support;

class PgConnection;

/// The open connection of `engine`, which make_postgres_engine() built, for the schema support's
/// catalog queries. Throws Error{failure} when `engine` is another engine or is not open.
const PgConnection& postgres_connection(Engine& engine);
/// The redacted URL of `engine` (a postgres engine), for the `where` of errors.
const std::string& postgres_where(Engine& engine);
/// The URL `engine` (a postgres engine) was made for, for the snapshot support's further
/// connections to the same server.
const DatabaseUrl& postgres_url(Engine& engine);
/// Closes the connection of `engine` (a postgres engine), which releases its session locks; its
/// open() connects again. For operations that need no session on the database (CREATE DATABASE
/// ... TEMPLATE, ALTER DATABASE ... RENAME).
void postgres_disconnect(Engine& engine);

}  // namespace dbinit
