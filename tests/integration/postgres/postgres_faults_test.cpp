// PostgreSQL: a connection lost at the COMMIT (through the fault proxy of support/tcp_forwarder)
// and a server that goes away in the middle of a run (a private server, killed). Each test
// asserts what dbinit says, its exit code, and what the database really holds afterwards.

#include <gmock/gmock.h>

#include <chrono>
#include <thread>

#include <libpq-fe.h>

#include "engines/url.h"
#include "integration/cli_fixture.h"
#include "support/private_server.h"
#include "support/tcp_forwarder.h"

namespace dbinit::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class PostgresFaultTest : public CliTest {
 protected:
  DatabaseUrl url() { return parse_database_url(db().url()); }
};

// The COMMIT reaches the server, the answer never reaches dbinit: it reconnects, waits for the
// lock of the lost session, reads the ledger and says that the run was committed.
TEST_F(PostgresFaultTest, CommitLostAfterTheServerGotItIsFoundCommitted) {
  migration("0001-a.sql", "CREATE TABLE a (id integer);\nINSERT INTO a VALUES (1);\n");
  migration("0002-b.sql", "CREATE TABLE b (id integer);\n");
  std::unique_ptr<TcpForwarder> proxy;
  const std::string through = through_proxy(proxy);
  proxy->arm("COMMIT", Fault::drop_after);
  RunResult result = dbinit({"up"}, {{"DBINIT_URL", through}});
  EXPECT_EQ(proxy->faults(), 1);
  EXPECT_EQ(result.exit_code, 6) << result.err;
  EXPECT_THAT(result.err, HasSubstr("the connection to the server was lost during COMMIT"));
  EXPECT_THAT(result.err, HasSubstr("migrations up to 0002-b.sql were applied and committed"));
  EXPECT_THAT(result.err, HasSubstr("the ledger shows it"));
  EXPECT_THAT(result.err, Not(HasSubstr("nothing was changed")));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));
  EXPECT_EQ(count("a"), "1");
  // The next start finds the work done.
  RunResult again = dbinit({"up"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("up to date"));
}

// The COMMIT never reaches the server: the lost session's transaction is rolled back, and dbinit
// finds that out instead of guessing.
TEST_F(PostgresFaultTest, CommitLostBeforeTheServerGotItIsFoundRolledBack) {
  migration("0001-a.sql", "CREATE TABLE a (id integer);\n");
  std::unique_ptr<TcpForwarder> proxy;
  const std::string through = through_proxy(proxy);
  proxy->arm("COMMIT", Fault::drop_before);
  RunResult result = dbinit({"up"}, {{"DBINIT_URL", through}});
  EXPECT_EQ(proxy->faults(), 1);
  EXPECT_EQ(result.exit_code, 6) << result.err;
  EXPECT_THAT(result.err, HasSubstr("lost during COMMIT"));
  EXPECT_THAT(result.err, HasSubstr("the run was rolled back"));
  EXPECT_THAT(result.err, HasSubstr("start again once it is back"));
  EXPECT_TRUE(db().tables().empty());
  EXPECT_EQ(db().query("SELECT count(*) FROM pg_class WHERE relname = 'dbinit_migrations'"),
            (Rows{{"0"}}));
}

// The COMMIT reached the server but the server cannot be reached again: the outcome is unknown,
// which is exit 10 and a pointer to `dbinit status`, never "nothing was changed".
TEST_F(PostgresFaultTest, CommitLostWithoutAWayBackIsOutcomeUnknown) {
  migration("0001-a.sql", "CREATE TABLE a (id integer);\n");
  std::unique_ptr<TcpForwarder> proxy;
  const std::string through = through_proxy(proxy);
  proxy->arm("COMMIT", Fault::stall_then_drop, /*refuse_after=*/true,
             std::chrono::milliseconds(300));
  RunResult result = dbinit({"up"}, {{"DBINIT_URL", through}});
  EXPECT_EQ(proxy->faults(), 1);
  EXPECT_EQ(result.exit_code, 10) << result.err;
  EXPECT_THAT(result.err, HasSubstr("the database was created; outcome unknown: whether the run "
                                    "was committed could not be found out"));
  EXPECT_THAT(result.err, HasSubstr("run `dbinit status`"));
  EXPECT_THAT(result.err, Not(HasSubstr("nothing was changed")));
  EXPECT_THAT(result.err, Not(HasSubstr(url().password)));
  // It was in fact committed: the server got the COMMIT.
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
}

// A server killed in the middle of a migration (an immediate shutdown, as a crash or a failover
// does) is the server going away, not a bad migration: exit 6, and the run was rolled back.
TEST_F(PostgresFaultTest, ServerKilledMidRunIsNotABadMigration) {
  PrivateServer server("postgres");
  RunOptions options;
  options.cwd = project().path();
  options.env["DBINIT_URL"] = server.database_url("dbinit_test_killed");
  migration("0001-a.sql", "CREATE TABLE a (id integer);\n");
  ASSERT_EQ(run_dbinit({"up"}, options).exit_code, 0);
  migration("0002-slow.sql", "CREATE TABLE b (id integer);\nSELECT pg_sleep(30);\n");
  Child child({DBINIT_BINARY, "up"}, options);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  server.kill_hard();
  RunResult result = child.wait();
  EXPECT_EQ(result.exit_code, 6) << result.err;
  EXPECT_THAT(result.err, HasSubstr("db/migrations/0002-slow.sql line 2"));
  EXPECT_THAT(result.err, HasSubstr("nothing was changed (the run was rolled back)"));
  EXPECT_THAT(result.err, HasSubstr("the server went away; start again once it is back"));
  EXPECT_THAT(result.err, Not(HasSubstr("fix the migration")));
}

// A no-transaction migration that completed a statement, then failed, in a database this run
// created: the state names what is left, not "still empty".
TEST_F(PostgresFaultTest, HalfAppliedNoTransactionMigrationSaysWhatIsLeft) {
  migration("0001-half.sql", "-- dbinit:no-transaction\nCREATE TABLE t (id integer);\n" +
                                 failing_statement() + "\n");
  RunResult result = dbinit({"up"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, Not(HasSubstr("still empty")));
  EXPECT_THAT(result.err, Not(HasSubstr("nothing was changed")));
  EXPECT_THAT(result.err, HasSubstr("the database was created, then 0001-half.sql ran outside a "
                                    "transaction and is recorded as failed after 1 of its "
                                    "statements completed"));
  EXPECT_EQ(db().tables(), (std::vector<std::string>{"t"}));
  EXPECT_EQ(ledger(), (Ledger{{"1", "failed"}}));
}

// Two resets at once: the second waits for the first one's whole run (drop, create, migrate)
// instead of dropping the database under it (DROP DATABASE ... WITH (FORCE) ended the first
// run's session, which then blamed its migration). Both finish.
TEST_F(PostgresFaultTest, TwoResetsAtOnceBothFinish) {
  migration("0001-slow.sql", "CREATE TABLE a (id integer);\nSELECT pg_sleep(2);\n");
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
  EXPECT_THAT(a.err + b.err, Not(HasSubstr("57P01")));
  EXPECT_THAT(b.err, HasSubstr("dropped database"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
}

// A reset that found no database (another reset had just dropped it) and then waited for the
// reset lock must look again once it holds the lock: the other reset has created the database
// again meanwhile, and this reset was asked to drop it.
TEST_F(PostgresFaultTest, AResetThatWaitedDropsTheDatabaseAnotherResetCreatedMeanwhile) {
  migration("0001-a.sql", "CREATE TABLE a (id integer);\n");
  up_ok();
  const DatabaseUrl url = parse_database_url(db().url());
  // The test holds the reset lock on the maintenance database, as a reset in progress does.
  std::string conninfo = db().url();
  const std::size_t path = conninfo.find("/" + url.database);
  ASSERT_NE(path, std::string::npos) << conninfo;
  conninfo.replace(path + 1, url.database.size(), "postgres");
  PGconn* holder = PQconnectdb(conninfo.c_str());
  ASSERT_EQ(PQstatus(holder), CONNECTION_OK) << PQerrorMessage(holder);
  auto exec = [&](const std::string& sql) {
    PGresult* result = PQexec(holder, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    EXPECT_TRUE(status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
        << sql << ": " << PQerrorMessage(holder);
    PQclear(result);
  };
  exec("SELECT pg_advisory_lock(hashtextextended('dbinit-reset:" + url.database + "', 0))");
  exec("DROP DATABASE \"" + url.database + "\" WITH (FORCE)");

  RunOptions options;
  options.cwd = project().path();
  options.env["DBINIT_URL"] = db().url();
  options.env["DBINIT_ENV"] = "development";
  Child reset({DBINIT_BINARY, "reset", "--yes"}, options);
  // Wait until it waits for the lock (it found no database before that).
  const auto start = std::chrono::steady_clock::now();
  while (seconds_since(start) < 30) {
    PGresult* waiting = PQexec(holder,
                               "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                               "AND NOT granted");
    const std::string count = PQgetvalue(waiting, 0, 0);
    PQclear(waiting);
    if (count != "0") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // The other reset creates the database again, with a row the reset must drop.
  up_ok();
  db().query("INSERT INTO a VALUES (42)");
  exec("SELECT pg_advisory_unlock_all()");
  RunResult result = reset.wait();
  PQfinish(holder);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("dropped database"));
  EXPECT_EQ(count("a"), "0");
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
}

}  // namespace
}  // namespace dbinit::test
