// Migration histories in the styles of public PostgreSQL projects (golang-migrate pairs wrapped in
// their own BEGIN/COMMIT, dbmate timestamps with transaction:false for ALTER TYPE ... ADD VALUE,
// CREATE INDEX CONCURRENTLY and VACUUM, dollar-quoted bodies, nested comments, quoted identifiers
// with semicolons) must build exactly the schema and data that psql builds from the same up
// sections.

#include <gmock/gmock.h>

#include <sstream>

#include "core/migration.h"
#include "support/harness.h"

namespace dbinit::test {
namespace {

namespace fs = std::filesystem;

/// pg_dump of `db` (schema and data) without dbinit's tables and without the lines that differ
/// between two dumps of equal databases (`\restrict` keys).
std::string dump_view(const TestDatabase& db) {
  RunResult dump =
      run_program({postgres_client("pg_dump"), "--no-owner", "--exclude-table=dbinit_migrations",
                   "--exclude-table=dbinit_meta", "--dbname=" + db.url()});
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  std::istringstream lines(dump.out);
  std::string view;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("\\restrict") || line.starts_with("\\unrestrict")) continue;
    view += line + "\n";
  }
  return view;
}

class PsqlEquivalenceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PsqlEquivalenceTest, DbinitBuildsWhatPsqlBuilds) {
  const fs::path fixture = fs::path(DBINIT_SOURCE_DIR) / "tests/fixtures/histories" / GetParam();

  // psql, one up section after the other, as a person would run them.
  auto by_psql = make_test_database("postgres");
  by_psql->query("SELECT 1");  // creates it
  const MigrationSet set = load_migrations(fixture, "postgres", fixture.string());
  ASSERT_FALSE(set.migrations.empty());
  for (const Migration& migration : set.migrations) {
    RunOptions options;
    options.stdin_data = migration.up_sql;
    RunResult result = run_program(
        {postgres_client("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", by_psql->url()}, options);
    ASSERT_EQ(result.exit_code, 0) << migration.name << ": " << result.err;
  }

  auto by_dbinit = make_test_database("postgres");
  TempDir dir;
  RunOptions options;
  options.cwd = dir.path();
  RunResult result =
      run_dbinit({"up", "--dir", fixture.string(), "--url", by_dbinit->url()}, options);
  ASSERT_EQ(result.exit_code, 0) << result.err;

  EXPECT_EQ(dump_view(*by_dbinit), dump_view(*by_psql));
  // Every migration is recorded, and a second start finds nothing to do.
  EXPECT_EQ(by_dbinit->query("SELECT count(*) FROM dbinit_migrations WHERE state = 'applied'"),
            (Rows{{std::to_string(set.migrations.size())}}));
  RunResult again =
      run_dbinit({"up", "--dir", fixture.string(), "--url", by_dbinit->url()}, options);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, ::testing::HasSubstr("up to date"));
}

INSTANTIATE_TEST_SUITE_P(Histories, PsqlEquivalenceTest,
                         ::testing::Values("postgres-golang-migrate", "postgres-dbmate"),
                         [](const auto& test_info) {
                           std::string name = test_info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// A migration written for golang-migrate brings its own BEGIN / COMMIT. Inside dbinit's run they
// are skipped, so a later failure still rolls back everything, and the lock is held to the end.
TEST(PostgresTransactionControl, OwnBeginCommitDoNotEndTheRunsTransaction) {
  auto db = make_test_database("postgres");
  TempDir dir;
  dir.write("db/migrations/1_a.up.sql", "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n");
  dir.write("db/migrations/2_b.up.sql",
            "START TRANSACTION;\nINSERT INTO a VALUES (1);\nCOMMIT;\n"
            "INSERT INTO no_such_table VALUES (1);\n");
  RunOptions options;
  options.cwd = dir.path();
  options.env["DBINIT_URL"] = db->url();
  RunResult result = run_dbinit({"up"}, options);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, ::testing::HasSubstr("2_b.up.sql line 4"));
  EXPECT_THAT(result.err, ::testing::HasSubstr("rolled back"));
  EXPECT_EQ(db->tables(), std::vector<std::string>{});
}

TEST(PostgresTransactionControl, OwnRollbackIsAnErrorNamingItsLine) {
  auto db = make_test_database("postgres");
  TempDir dir;
  dir.write("db/migrations/1_a.up.sql", "CREATE TABLE a (id int);\nROLLBACK;\n");
  RunOptions options;
  options.cwd = dir.path();
  options.env["DBINIT_URL"] = db->url();
  RunResult result = run_dbinit({"up"}, options);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, ::testing::HasSubstr("1_a.up.sql line 2"));
  EXPECT_THAT(result.err, ::testing::HasSubstr("rolls back dbinit's transaction"));
  EXPECT_EQ(db->tables(), std::vector<std::string>{});
}

}  // namespace
}  // namespace dbinit::test
