#include <stdexcept>
#include <string>

#include "support/engines.h"
#include "support/harness.h"

namespace dbinit::test {

std::unique_ptr<TestDatabase> make_test_database(std::string_view engine) {
  if (engine == "sqlite") return make_sqlite_test_database();
  if (engine == "postgres") return make_postgres_test_database();
  if (engine == "mysql") return make_mysql_test_database();
  throw std::runtime_error("no test database for engine '" + std::string(engine) + "'");
}

}  // namespace dbinit::test
