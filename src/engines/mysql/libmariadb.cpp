#include "engines/mysql/libmariadb.h"

#include "util/shared_library.h"

namespace dbinit {

const LibMariadb& libmariadb() {
  static const LibMariadb api = [] {
    static const SharedLibrary library({"libmariadb.so.3", "libmariadb.so"}, "the mysql engine",
                                       "libmariadb3");
    LibMariadb loaded;
#define DBINIT_LOAD(name) library.load(loaded.name, #name);
    DBINIT_LIBMARIADB_FUNCTIONS(DBINIT_LOAD)
#undef DBINIT_LOAD
    // Not thread-safe itself: done once, before any connection, under the static's guard.
    loaded.mysql_server_init(0, nullptr, nullptr);
    return loaded;
  }();
  return api;
}

}  // namespace dbinit
