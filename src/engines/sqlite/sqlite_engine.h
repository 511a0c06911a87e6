#pragma once

#include <memory>

#include "engines/engine.h"

namespace dbinit {

/// Builds the sqlite engine for `url` (url.engine == "sqlite"). Does not connect: see
/// Engine::open().
std::unique_ptr<Engine> make_sqlite_engine(const DatabaseUrl& url);

/// Schema files and diagrams on sqlite (sqlite_introspect.cpp).
extern const SchemaSupport k_sqlite_schema_support;

/// See configure_engine_libraries(); without effect once SQLite is initialised.
void configure_sqlite_library();

}  // namespace dbinit
