#pragma once

// The per-engine halves of make_test_database() (support/harness.h). Each engine's file
// (support/<engine>_database.cpp) implements one of them.

#include <memory>

#include "support/harness.h"

namespace dbinit::test {

/// A database file in a fresh TempDir.
std::unique_ptr<TestDatabase> make_sqlite_test_database();
/// A new `dbinit_test_<n>_<pid>` database on the PostgreSQL test server.
std::unique_ptr<TestDatabase> make_postgres_test_database();
/// A new `dbinit_test_<n>_<pid>` database on the MariaDB/MySQL test server.
std::unique_ptr<TestDatabase> make_mysql_test_database();

}  // namespace dbinit::test
