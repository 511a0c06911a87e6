// MariaDB: a connection lost at the COMMIT (through the fault proxy of support/tcp_forwarder),
// a server killed in the middle of a run (a private server), and the state sentences of
// migrations that stop half-way. Each test asserts what dbinit says, its exit code, and what the
// database really holds afterwards.

#include <gmock/gmock.h>

#include <chrono>
#include <thread>

#include "engines/url.h"
#include "integration/cli_fixture.h"
#include "support/private_server.h"
#include "support/tcp_forwarder.h"

namespace dbinit::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class MysqlFaultTest : public CliTest {
 protected:
  DatabaseUrl url() { return parse_database_url(db().url()); }

  // A database with table `a` and a ledger, and a pending migration of pure DML, which MySQL runs
  // in a transaction of its own: its COMMIT is the first one of the next run.
  void prepare_dml_migration() {
    migration("0001-a.sql", "CREATE TABLE a (id INT);\n");
    up_ok();
    migration("0002-fill.sql", "INSERT INTO a VALUES (1);\nINSERT INTO a VALUES (2);\n");
  }
};

TEST_F(MysqlFaultTest, CommitLostAfterTheServerGotItIsFoundCommitted) {
  prepare_dml_migration();
  std::unique_ptr<TcpForwarder> proxy;
  const std::string proxied = through_proxy(proxy);
  proxy->arm("COMMIT", Fault::drop_after);
  RunResult result = dbinit({"up"}, {{"DBINIT_URL", proxied}});
  EXPECT_EQ(proxy->faults(), 1);
  EXPECT_EQ(result.exit_code, 6) << result.err;
  EXPECT_THAT(result.err, HasSubstr("lost during COMMIT"));
  EXPECT_THAT(result.err, HasSubstr("migrations up to 0002-fill.sql were applied and committed"));
  EXPECT_THAT(result.err, HasSubstr("the ledger shows it"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));
  EXPECT_EQ(count("a"), "2");
  EXPECT_EQ(dbinit({"up"}).exit_code, 0);
}

TEST_F(MysqlFaultTest, CommitLostBeforeTheServerGotItIsFoundRolledBack) {
  prepare_dml_migration();
  std::unique_ptr<TcpForwarder> proxy;
  const std::string proxied = through_proxy(proxy);
  proxy->arm("COMMIT", Fault::drop_before);
  RunResult result = dbinit({"up"}, {{"DBINIT_URL", proxied}});
  EXPECT_EQ(proxy->faults(), 1);
  EXPECT_EQ(result.exit_code, 6) << result.err;
  EXPECT_THAT(result.err, HasSubstr("lost during COMMIT"));
  EXPECT_THAT(result.err, HasSubstr("the transaction of 0002-fill.sql was rolled back"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
  EXPECT_EQ(count("a"), "0");
}

TEST_F(MysqlFaultTest, CommitLostWithoutAWayBackIsOutcomeUnknown) {
  prepare_dml_migration();
  std::unique_ptr<TcpForwarder> proxy;
  const std::string proxied = through_proxy(proxy);
  proxy->arm("COMMIT", Fault::drop_before, /*refuse_after=*/true);
  RunResult result = dbinit({"up"}, {{"DBINIT_URL", proxied}});
  EXPECT_EQ(proxy->faults(), 1);
  EXPECT_EQ(result.exit_code, 10) << result.err;
  EXPECT_THAT(result.err, HasSubstr("outcome unknown"));
  EXPECT_THAT(result.err, HasSubstr("run `dbinit status`"));
  EXPECT_THAT(result.err, Not(HasSubstr("nothing was changed")));
  EXPECT_THAT(result.err, Not(HasSubstr(url().password)));
}

// mariadbd killed in the middle of a DDL migration: exit 6 with the server named as the cause;
// the statement that completed stays and the migration's row says it did not finish.
TEST_F(MysqlFaultTest, ServerKilledMidRunIsNotABadMigration) {
  PrivateServer server("mysql");
  RunOptions options;
  options.cwd = project().path();
  options.env["DBINIT_URL"] = server.database_url("dbinit_test_killed");
  migration("0001-a.sql", "CREATE TABLE a (id INT);\n");
  ASSERT_EQ(run_dbinit({"up"}, options).exit_code, 0);
  migration("0002-slow.sql", "CREATE TABLE b (id INT);\nSELECT SLEEP(30);\n");
  Child child({DBINIT_BINARY, "up"}, options);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  server.kill_hard();
  RunResult result = child.wait();
  EXPECT_EQ(result.exit_code, 6) << result.err;
  EXPECT_THAT(result.err, HasSubstr("db/migrations/0002-slow.sql line 2"));
  EXPECT_THAT(result.err, HasSubstr("0002-slow.sql ran outside a transaction and is recorded as "
                                    "failed after 1 of its statements completed"));
  EXPECT_THAT(result.err, HasSubstr("the server went away; once it is back"));
  EXPECT_THAT(result.err, HasSubstr("repair --forget-failed 2"));
  EXPECT_THAT(result.err, Not(HasSubstr("fix the migration")));
}

// A migration whose first statements committed (MySQL DDL) in a database that this run created:
// the state names what is there, not "nothing was changed" or "still empty".
TEST_F(MysqlFaultTest, HalfAppliedFirstMigrationSaysWhatIsLeft) {
  migration(
      "0001-half.sql",
      "CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);\nALTER TABLE no_such ADD x INT;\n");
  RunResult result = dbinit({"up"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, Not(HasSubstr("nothing was changed")));
  EXPECT_THAT(result.err, Not(HasSubstr("still empty")));
  EXPECT_THAT(result.err, HasSubstr("the database was created, then 0001-half.sql ran outside a "
                                    "transaction and is recorded as failed after 2 of its "
                                    "statements completed"));
  EXPECT_EQ(count("t"), "1");
  EXPECT_EQ(ledger(), (Ledger{{"1", "failed"}}));
}

// A migration that drops the ledger table: its statements committed, so the state must not say
// that anything was rolled back; the next start refuses the database (exit 9).
TEST_F(MysqlFaultTest, MigrationThatDropsTheLedgerSaysSo) {
  migration("0001-a.sql", "CREATE TABLE a (id INT);\n");
  up_ok();
  migration("0002-drop.sql", "DROP TABLE dbinit_migrations;\n");
  RunResult result = dbinit({"up"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, Not(HasSubstr("rolled back")));
  EXPECT_THAT(result.err, HasSubstr("0002-drop.sql ran outside a transaction and all its "
                                    "statements completed, but the ledger could not be updated"));
  EXPECT_EQ(dbinit({"up"}).exit_code, 9);
}

// Two resets at once: the second waits for the first one's whole run (drop, create, migrate)
// instead of dropping the database under it. Both finish, and the migration is applied once.
TEST_F(MysqlFaultTest, TwoResetsAtOnceBothFinish) {
  migration("0001-slow.sql", "CREATE TABLE a (id integer);\nSELECT SLEEP(2);\n");
  up_ok();
  RunOptions options;
  options.cwd = project().path();
  options.env["DBINIT_URL"] = db().url();
  options.env["DBINIT_ENV"] = "development";
  Child first({DBINIT_BINARY, "reset", "--yes"}, options);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  Child second({DBINIT_BINARY, "reset", "--yes"}, options);
  RunResult a = first.wait();
  RunResult b = second.wait();
  EXPECT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(b.exit_code, 0) << b.err;
  EXPECT_THAT(b.err, HasSubstr("dropped database"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
}

}  // namespace
}  // namespace dbinit::test
