#pragma once

#include <memory>

#include "engines/engine.h"

namespace dbinit {

/// Builds the postgres engine for `url` (url.engine == "postgres"). Does not connect: see
/// Engine::open().
std::unique_ptr<Engine> make_postgres_engine(const DatabaseUrl& url);

}  // namespace dbinit
