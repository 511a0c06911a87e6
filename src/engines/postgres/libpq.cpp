#include "engines/postgres/libpq.h"

#include "util/shared_library.h"

namespace dbinit {

const LibPq& libpq() {
  static const LibPq api = [] {
    static const SharedLibrary library({"libpq.so.5", "libpq.so"}, "the postgres engine", "libpq5");
    LibPq loaded;
#define DBINIT_LOAD(name) library.load(loaded.name, #name);
    DBINIT_LIBPQ_FUNCTIONS(DBINIT_LOAD)
#undef DBINIT_LOAD
    return loaded;
  }();
  return api;
}

}  // namespace dbinit
