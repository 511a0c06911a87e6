// Migration histories in the styles of public projects (golang-migrate pairs with their own
// BEGIN/COMMIT, dbmate timestamps and markers, SQLite's twelve-step table rebuild, CRLF files,
// no-transaction VACUUM) must build exactly the schema and data that the sqlite3 shell builds
// from the same up sections.

#include <gmock/gmock.h>

#include "core/migration.h"
#include "support/harness.h"

namespace dbinit::test {
namespace {

namespace fs = std::filesystem;

// The schema and the user data of `db`, as the sqlite3 shell prints them, without dbinit's tables.
std::string shell_view(const fs::path& db) {
  RunResult schema = run_program(
      {"sqlite3", db.string(),
       "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'dbinit_%' "
       "AND name NOT LIKE 'sqlite_%' ORDER BY type, name;"});
  EXPECT_EQ(schema.exit_code, 0) << schema.err;
  std::string view = schema.out;
  RunResult tables = run_program(
      {"sqlite3", db.string(),
       "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'dbinit_%' AND "
       "name NOT LIKE 'sqlite_%' ORDER BY name;"});
  std::istringstream names(tables.out);
  for (std::string table; std::getline(names, table);) {
    RunResult rows =
        run_program({"sqlite3", db.string(), "SELECT * FROM \"" + table + "\" ORDER BY 1;"});
    view += "-- " + table + "\n" + rows.out;
  }
  return view;
}

class ShellEquivalenceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ShellEquivalenceTest, DbinitBuildsWhatTheShellBuilds) {
  const fs::path fixture = fs::path(DBINIT_SOURCE_DIR) / "tests/fixtures/histories" / GetParam();
  TempDir dir;

  // The shell, one up section after the other, as a person would paste them.
  const fs::path by_shell = dir.path() / "shell.sqlite3";
  const MigrationSet set = load_migrations(fixture, "sqlite", fixture.string());
  ASSERT_FALSE(set.migrations.empty());
  for (const Migration& migration : set.migrations) {
    RunOptions options;
    options.stdin_data = migration.up_sql;
    RunResult result = run_program({"sqlite3", "-bail", by_shell.string()}, options);
    ASSERT_EQ(result.exit_code, 0) << migration.name << ": " << result.err;
  }

  const fs::path by_dbinit = dir.path() / "dbinit.sqlite3";
  RunOptions options;
  options.cwd = dir.path();
  RunResult result = run_dbinit(
      {"up", "--dir", fixture.string(), "--url", "sqlite:" + by_dbinit.string()}, options);
  ASSERT_EQ(result.exit_code, 0) << result.err;

  EXPECT_EQ(shell_view(by_dbinit), shell_view(by_shell));
  // And a second start finds nothing to do.
  RunResult again = run_dbinit(
      {"up", "--dir", fixture.string(), "--url", "sqlite:" + by_dbinit.string()}, options);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, ::testing::HasSubstr("up to date"));
}

INSTANTIATE_TEST_SUITE_P(Histories, ShellEquivalenceTest,
                         ::testing::Values("golang-migrate", "dbmate", "sqlite-rebuild"),
                         [](const auto& test_info) {
                           std::string name = test_info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(SqliteCliTest, FailingRunLeavesTheFileByteForByteAsItWas) {
  TempDir dir;
  dir.write("db/migrations/0001-a.sql",
            "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO a (v) VALUES ('x');\n");
  RunOptions options;
  options.cwd = dir.path();
  ASSERT_EQ(run_dbinit({"up"}, options).exit_code, 0);
  const std::string before = read_file(dir.path() / "db/dev.sqlite3");

  dir.write(
      "db/migrations/0002-b.sql",
      "CREATE TABLE b (id INTEGER);\nINSERT INTO b SELECT id FROM a;\nUPDATE a SET v = 'y';\n");
  dir.write("db/migrations/0003-c.sql",
            "CREATE TABLE c (id INTEGER);\nINSERT INTO nope VALUES (1);\n");
  RunResult result = run_dbinit({"up"}, options);
  ASSERT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(read_file(dir.path() / "db/dev.sqlite3"), before);
  EXPECT_FALSE(fs::exists(dir.path() / "db/dev.sqlite3-journal"));
}

TEST(SqliteCliTest, NoOpRunDoesNotTouchTheFile) {
  TempDir dir;
  dir.write("db/migrations/0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  RunOptions options;
  options.cwd = dir.path();
  ASSERT_EQ(run_dbinit({"up"}, options).exit_code, 0);
  const fs::path db = dir.path() / "db/dev.sqlite3";
  const auto mtime = fs::last_write_time(db);
  const std::string before = read_file(db);
  ASSERT_EQ(run_dbinit({"up"}, options).exit_code, 0);
  EXPECT_EQ(read_file(db), before);
  EXPECT_EQ(fs::last_write_time(db), mtime);
  EXPECT_FALSE(fs::exists(dir.path() / "db/dev.sqlite3.lock"));
}

TEST(SqliteCliTest, ForeignKeysOffMigrationMustLeaveNoViolations) {
  TempDir dir;
  dir.write("db/migrations/0001-a.sql",
            "CREATE TABLE p (id INTEGER PRIMARY KEY);\n"
            "CREATE TABLE c (id INTEGER, p INTEGER REFERENCES p (id));\n");
  dir.write("db/migrations/0002-orphan.sql",
            "-- dbinit:foreign-keys off\nINSERT INTO c VALUES (1, 42);\n");
  RunOptions options;
  options.cwd = dir.path();
  RunResult result = run_dbinit({"up"}, options);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, ::testing::HasSubstr("foreign key"));
  RunResult status = run_dbinit({"status", "--json"}, options);
  EXPECT_THAT(status.out, ::testing::HasSubstr("\"pending\": 1"));
}

}  // namespace
}  // namespace dbinit::test
