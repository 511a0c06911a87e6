// A migration history in the style of public MySQL projects (backticks, `#` comments, conditional
// comments, DELIMITER blocks with triggers, procedures and functions, views, tricky strings, online
// ALTER TABLE) must build exactly the schema and data that the mariadb shell builds from the same
// up sections.

#include <gmock/gmock.h>

#include <sstream>

#include "core/migration.h"
#include "engines/url.h"
#include "support/harness.h"

namespace dbinit::test {
namespace {

namespace fs = std::filesystem;

/// mariadb-dump of `db` (schema, data, routines, triggers) without dbinit's tables and without
/// the header and footer comments that name the database or the time.
std::string dump_view(const TestDatabase& db) {
  const std::string name = parse_database_url(db.url()).database;
  std::vector<std::string> argv = mariadb_client("mariadb-dump", db);
  for (const char* option : {"--routines", "--triggers", "--skip-dump-date", "--skip-comments"}) {
    argv.emplace_back(option);
  }
  argv.push_back("--ignore-table=" + name + ".dbinit_migrations");
  argv.push_back("--ignore-table=" + name + ".dbinit_meta");
  argv.push_back(name);
  RunResult dump = run_program(argv);
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  std::istringstream lines(dump.out);
  std::string view;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("-- ")) continue;
    view += line + "\n";
  }
  return view;
}

TEST(MariadbEquivalenceTest, DbinitBuildsWhatTheMariadbShellBuilds) {
  const fs::path fixture = fs::path(DBINIT_SOURCE_DIR) / "tests/fixtures/histories/mysql-app";

  // The mariadb shell, one up section after the other, as a person would run them.
  auto by_shell = make_test_database("mysql");
  by_shell->query("SELECT 1");  // creates it
  const MigrationSet set = load_migrations(fixture, "mysql", fixture.string());
  ASSERT_FALSE(set.migrations.empty());
  for (const Migration& migration : set.migrations) {
    RunOptions options;
    options.stdin_data = migration.up_sql;
    // As people run it: utf8mb4 (dbinit's connection character set, recorded with each routine),
    // and comments kept in routine bodies (the shell strips them by default; dbinit sends the
    // text as written).
    std::vector<std::string> argv = mariadb_client("mariadb", *by_shell);
    argv.push_back("--default-character-set=utf8mb4");
    argv.push_back("--comments");
    argv.push_back(parse_database_url(by_shell->url()).database);
    RunResult result = run_program(argv, options);
    ASSERT_EQ(result.exit_code, 0) << migration.name << ": " << result.err;
  }

  auto by_dbinit = make_test_database("mysql");
  TempDir dir;
  RunOptions options;
  options.cwd = dir.path();
  RunResult result =
      run_dbinit({"up", "--dir", fixture.string(), "--url", by_dbinit->url()}, options);
  ASSERT_EQ(result.exit_code, 0) << result.err;

  const std::string view = dump_view(*by_dbinit);
  EXPECT_THAT(view, ::testing::HasSubstr("CREATE DEFINER"));
  EXPECT_EQ(view, dump_view(*by_shell));
  EXPECT_EQ(by_dbinit->query("SELECT count(*) FROM dbinit_migrations WHERE state = 'applied'"),
            (Rows{{std::to_string(set.migrations.size())}}));
  // The routines work.
  EXPECT_EQ(by_dbinit->query("SELECT cents_to_text(123456)"), (Rows{{"$1,234.56"}}));
  EXPECT_EQ(by_dbinit->query("SELECT order_count FROM users WHERE id = 1"), (Rows{{"2"}}));
  RunResult again =
      run_dbinit({"up", "--dir", fixture.string(), "--url", by_dbinit->url()}, options);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, ::testing::HasSubstr("up to date"));
}

}  // namespace
}  // namespace dbinit::test
