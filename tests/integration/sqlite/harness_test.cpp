// The test harness itself: processes, folders and the SQLite test database. Run once (in the
// SQLite binary), since none of it depends on the engine.

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "support/harness.h"

namespace dbinit::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

TEST(Harness, RunProgramSeparatesOutputAndExitCode) {
  RunResult result = run_program({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.out, "out\n");
  EXPECT_EQ(result.err, "err\n");
}

TEST(Harness, LargeOutputOnBothStreamsDoesNotDeadlock) {
  RunResult result = run_program(
      {"sh", "-c",
       "head -c 3000000 /dev/zero | tr '\\0' a; head -c 3000000 /dev/zero | tr '\\0' b >&2; "
       "head -c 3000000 /dev/zero | tr '\\0' c"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, std::string(3000000, 'a') + std::string(3000000, 'c'));
  EXPECT_EQ(result.err, std::string(3000000, 'b'));
}

TEST(Harness, StdinDataReachesTheChild) {
  RunOptions options;
  options.stdin_data = std::string(2000000, 'z') + "\nend\n";
  RunResult result = run_program({"cat"}, options);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, options.stdin_data);

  // Without data the child reads an empty input rather than the test's terminal.
  EXPECT_EQ(run_program({"cat"}).out, "");
}

TEST(Harness, ChildEnvironmentIsCleanPlusTheGivenVariables) {
  ::setenv("DBINIT_URL", "postgres://leak:secret@nowhere/db", 1);
  ::setenv("DATABASE_URL", "sqlite:leak.db", 1);
  ::setenv("DBINIT_HARNESS_SOMETHING_ELSE", "1", 1);
  RunOptions options;
  options.env["DBINIT_ENV"] = "development";
  RunResult result = run_program({"env"}, options);
  ::unsetenv("DBINIT_URL");
  ::unsetenv("DATABASE_URL");
  ::unsetenv("DBINIT_HARNESS_SOMETHING_ELSE");
  EXPECT_EQ(result.exit_code, 0);
  // Not just "leak": the sanitizer builds pass ASAN_OPTIONS=detect_leaks=1 through.
  EXPECT_EQ(result.out.find("leak:secret"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("leak.db"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("DBINIT_HARNESS_SOMETHING_ELSE"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("DBINIT_ENV=development\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("PATH="), std::string::npos) << result.out;
}

TEST(Harness, RunsInTheGivenFolder) {
  TempDir dir;
  RunOptions options;
  options.cwd = dir.path();
  RunResult result = run_program({"pwd", "-P"}, options);
  EXPECT_EQ(result.out, dir.path().string() + "\n");

  options.cwd = dir.path() / "missing";
  EXPECT_THROW(run_program({"pwd"}, options), std::runtime_error);
  EXPECT_THROW(run_program({"no-such-program-dbinit-test"}), std::runtime_error);
}

TEST(Harness, TimeoutKillsTheChild) {
  RunOptions options;
  options.timeout = std::chrono::seconds(1);
  auto started = Clock::now();
  RunResult result = run_program({"sh", "-c", "echo begun; sleep 30"}, options);
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(result.exit_code, 128 + SIGKILL);
  EXPECT_EQ(result.out, "begun\n");
  EXPECT_NE(result.err.find("timeout"), std::string::npos);
}

TEST(Harness, GrandchildHoldingThePipesDoesNotBlockWait) {
  auto started = Clock::now();
  RunResult result = run_program({"sh", "-c", "sleep 30 & echo started"});
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "started\n");
}

TEST(Harness, ChildCanBeSignalled) {
  Child child({"sleep", "30"}, RunOptions{});
  EXPECT_GT(child.pid(), 0);
  child.kill(SIGTERM);
  RunResult result = child.wait();
  EXPECT_EQ(result.exit_code, 128 + SIGTERM);
  EXPECT_EQ(child.wait().exit_code, 128 + SIGTERM);  // the result is kept
}

TEST(Harness, ChildThatIsNotWaitedForIsKilled) {
  int pid;
  {
    Child child({"sleep", "30"}, RunOptions{});
    pid = child.pid();
    EXPECT_EQ(::kill(pid, 0), 0);
  }
  EXPECT_NE(::kill(pid, 0), 0);
}

TEST(Harness, TempDirWritesFilesAndIsRemoved) {
  fs::path path;
  {
    TempDir dir;
    path = dir.path();
    EXPECT_TRUE(fs::is_directory(path));
    fs::path file = dir.write("db/migrations/0001-init.sql", "CREATE TABLE t (x);\n");
    EXPECT_EQ(file, path / "db/migrations/0001-init.sql");
    EXPECT_EQ(read_file(file), "CREATE TABLE t (x);\n");
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_THROW(read_file(path / "gone"), std::runtime_error);
}

TEST(Harness, TestEngineIsTheBinarysEngine) {
  EXPECT_EQ(test_engine(), "sqlite");
}

TEST(Harness, SqliteTestDatabase) {
  auto db = make_test_database("sqlite");
  EXPECT_EQ(db->engine(), "sqlite");
  EXPECT_TRUE(db->url().starts_with("sqlite:/")) << db->url();
  EXPECT_FALSE(db->exists());
  EXPECT_EQ(db->tables(), std::vector<std::string>{});
  const std::string empty = db->fingerprint();

  EXPECT_EQ(db->query("CREATE TABLE b (x); CREATE TABLE a (y); "
                      "CREATE TABLE dbinit_migrations (version TEXT);"
                      "INSERT INTO a VALUES (1), (NULL), ('1'), (x'01');"
                      "SELECT y FROM a ORDER BY rowid"),
            (Rows{{"1"}, {"<null>"}, {"1"}, {"\x01"}}));
  EXPECT_TRUE(db->exists());
  EXPECT_EQ(db->tables(), (std::vector<std::string>{"a", "b"}));
  const std::string filled = db->fingerprint();
  EXPECT_NE(filled, empty);
  EXPECT_EQ(db->fingerprint(), filled);

  // Types count: the integer 1 and the text '1' differ.
  db->query("UPDATE a SET y = 1 WHERE y = '1'");
  EXPECT_NE(db->fingerprint(), filled);
  db->query("UPDATE a SET y = '1' WHERE rowid = 3");
  EXPECT_EQ(db->fingerprint(), filled);
  // The ledger counts too.
  db->query("INSERT INTO dbinit_migrations VALUES ('1')");
  EXPECT_NE(db->fingerprint(), filled);

  EXPECT_THROW(db->query("SELECT * FROM no_such_table"), std::runtime_error);
  EXPECT_THROW(make_test_database("oracle"), std::runtime_error);
}

}  // namespace
}  // namespace dbinit::test
