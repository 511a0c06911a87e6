// Many starters at once, killed runs and lock timeouts, end to end.

#include <gmock/gmock.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "engines/engine.h"
#include "integration/cli_fixture.h"

namespace dbinit::test {
namespace {

using ::testing::HasSubstr;

// A statement that keeps the engine busy for a few seconds.
std::string slow_statement(const std::string& engine) {
  if (engine == "postgres") return "SELECT pg_sleep(5);";
  if (engine == "mysql") return "SELECT SLEEP(5);";
  return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) "
         "SELECT COUNT(*) FROM c;";
}

TEST_F(CliTest, TwelveConcurrentStartersApplyEachMigrationExactlyOnce) {
  migration("0000-counter.sql", "CREATE TABLE applied (version INTEGER NOT NULL);\n");
  for (int i = 1; i <= 20; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%04d-m.sql", i);
    migration(name, "CREATE TABLE t" + std::to_string(i) +
                        " (id INTEGER);\nINSERT INTO applied (version) VALUES (" +
                        std::to_string(i) + ");\n");
  }
  RunOptions options;
  options.cwd = project().path();
  options.env["DBINIT_URL"] = db().url();
  options.env["DBINIT_LOCK_TIMEOUT"] = "120s";
  std::vector<std::unique_ptr<Child>> children;
  for (int i = 0; i < 12; ++i) {
    children.push_back(
        std::make_unique<Child>(std::vector<std::string>{DBINIT_BINARY, "up"}, options));
  }
  int applying = 0;
  for (auto& child : children) {
    RunResult result = child->wait();
    EXPECT_EQ(result.exit_code, 0) << result.err;
    if (result.err.find("applied 0001-m.sql") != std::string::npos) ++applying;
  }
  EXPECT_EQ(applying, 1);
  EXPECT_EQ(count("applied"), "20");
  EXPECT_EQ(db().query("SELECT COUNT(DISTINCT version) FROM applied").at(0).at(0), "20");
  EXPECT_EQ(db().query("SELECT COUNT(*) FROM dbinit_migrations").at(0).at(0), "21");
}

TEST_F(CliTest, KilledRunLeavesAConsistentDatabase) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  up_ok();
  const std::string before = db().fingerprint();
  migration("0002-b.sql", "CREATE TABLE b (id INTEGER);\n");
  migration("0003-slow.sql", "CREATE TABLE c (id INTEGER);\n" + slow_statement(engine()) + "\n");

  RunOptions options;
  options.cwd = project().path();
  options.env["DBINIT_URL"] = db().url();
  Child child({DBINIT_BINARY, "up"}, options);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  child.kill(SIGKILL);
  RunResult killed = child.wait();
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.err;

  if (transactional()) {
    // Nothing of the killed run is left; the next start applies everything.
    EXPECT_EQ(db().fingerprint(), before);
    migration("0003-slow.sql", "CREATE TABLE c (id INTEGER);\n");
    // The file was edited before it ever applied: that is not drift.
    up_ok();
    EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}, {"3", "applied"}}));
  } else {
    // MySQL: the interrupted migration stays recorded as failed and blocks the next start.
    EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}, {"3", "failed"}}));
    RunResult next = dbinit({"up"});
    EXPECT_EQ(next.exit_code, 4) << next.err;
    EXPECT_THAT(next.err, HasSubstr("0003-slow.sql did not finish"));
  }
}

TEST_F(CliTest, LockHeldByAnotherProcessTimesOutWithExitFive) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  up_ok();
  migration("0002-b.sql", "CREATE TABLE b (id INTEGER);\n");

  // Hold the migration lock with the engine library itself, as another dbinit would.
  std::unique_ptr<Engine> holder = make_engine(parse_database_url(db().url()));
  ASSERT_EQ(holder->open(false), OpenResult::opened);
  holder->begin_locked(std::chrono::milliseconds(5000));

  RunResult result = dbinit({"up", "--lock-timeout", "300ms"});
  EXPECT_EQ(result.exit_code, 5) << result.err;
  EXPECT_THAT(result.err, HasSubstr("--lock-timeout"));
  holder->rollback();
  holder.reset();
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
  up_ok();
}

TEST_F(CliTest, NoOpRunTakesNoLock) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  up_ok();
  std::unique_ptr<Engine> holder = make_engine(parse_database_url(db().url()));
  ASSERT_EQ(holder->open(false), OpenResult::opened);
  holder->begin_locked(std::chrono::milliseconds(5000));
  // Nothing to do: neither waits for the lock nor fails.
  RunResult result = dbinit({"up", "--lock-timeout", "100ms"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  holder->rollback();
}

}  // namespace
}  // namespace dbinit::test
