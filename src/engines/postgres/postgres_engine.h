#pragma once

#include <memory>

#include "engines/engine.h"

namespace dbinit {

/// Builds the postgres engine for `url` (url.engine == "postgres"). Does not connect: see
/// Engine::open().
std::unique_ptr<Engine> make_postgres_engine(const DatabaseUrl& url);

/// Schema files and diagrams on postgres (postgres_introspect.cpp).
extern const SchemaSupport k_postgres_schema_support;

}  // namespace dbinit
