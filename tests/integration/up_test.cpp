// `dbinit up` end to end, on the engine under test.

#include <gmock/gmock.h>

#include "integration/cli_fixture.h"

namespace dbinit::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

TEST_F(CliTest, FirstUpCreatesTheDatabaseAppliesEverythingAndRecordsTheLedger) {
  migration("0001-create-users.sql",
            "-- dbinit:up\nCREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100));\n"
            "-- dbinit:down\nDROP TABLE users;\n");
  migration("0002-add-user.sql", "INSERT INTO users (id, name) VALUES (1, 'ada');\n");
  migration("10-create-notes.sql", "CREATE TABLE notes (id INTEGER PRIMARY KEY);\n");

  RunResult result = up_ok();
  EXPECT_TRUE(db().exists());
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}, {"10", "applied"}}));
  EXPECT_EQ(count("users"), "1");
  EXPECT_EQ(db().tables(), (std::vector<std::string>{"notes", "users"}));
  EXPECT_THAT(result.err, HasSubstr("applied 0001-create-users.sql ("));
  EXPECT_THAT(result.err, HasSubstr("applied 10-create-notes.sql ("));
  EXPECT_THAT(result.err, HasSubstr("version 10"));

  Rows row = db().query(
      "SELECT name, checksum, applied_by, down_sql, duration_ms, applied_at FROM "
      "dbinit_migrations WHERE version = '1'");
  EXPECT_EQ(row.at(0).at(0), "0001-create-users.sql");
  EXPECT_THAT(row.at(0).at(1), ::testing::MatchesRegex("sha256:[0-9a-f]{64}"));
  EXPECT_THAT(row.at(0).at(2), HasSubstr("dbinit "));
  EXPECT_EQ(row.at(0).at(3), "DROP TABLE users;\n");
  EXPECT_THAT(row.at(0).at(5), ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"));
}

TEST_F(CliTest, SecondUpDoesNothingAndWritesNothing) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  up_ok();
  const std::string before = db().fingerprint();
  RunResult result = up_ok();
  EXPECT_THAT(result.err, HasSubstr("up to date at version 1"));
  EXPECT_THAT(result.err, Not(HasSubstr("applied 0001")));
  EXPECT_EQ(db().fingerprint(), before);
}

TEST_F(CliTest, ChecksumMatchesTheNormalisedUpSection) {
  // Same file with CRLF line ends and a BOM: the checksum is the one of the LF text.
  migration("1_a.sql", "\xEF\xBB\xBF-- dbinit:up\r\nCREATE TABLE a (id INTEGER);\r\n");
  up_ok();
  const std::string recorded = db().query("SELECT checksum FROM dbinit_migrations").at(0).at(0);
  // sha256("CREATE TABLE a (id INTEGER);\n")
  RunResult sum = run_program({"sh", "-c", "printf 'CREATE TABLE a (id INTEGER);\\n' | sha256sum"});
  ASSERT_EQ(sum.exit_code, 0);
  EXPECT_EQ(recorded, "sha256:" + sum.out.substr(0, 64));
}

TEST_F(CliTest, PendingMigrationsAreAppliedLaterInVersionOrder) {
  migration("0009-a.sql", "CREATE TABLE a (id INTEGER);\n");
  up_ok();
  migration("0010-b.sql", "CREATE TABLE b (id INTEGER);\n");
  migration("0011-c.sql", "CREATE TABLE c (id INTEGER);\n");
  RunResult result = up_ok();
  EXPECT_LT(result.err.find("0010-b.sql"), result.err.find("0011-c.sql"));
  EXPECT_EQ(ledger(), (Ledger{{"9", "applied"}, {"10", "applied"}, {"11", "applied"}}));
  EXPECT_THAT(result.err, HasSubstr("applied 2 migrations"));
}

TEST_F(CliTest, FailingMigrationNamesFileAndLineAndLeavesTheDatabaseAsItWas) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  up_ok();
  const std::string before = db().fingerprint();

  migration("0002-b.sql", "CREATE TABLE b (id INTEGER);\n");
  migration("0003-bad.sql", "-- dbinit:up\n-- a comment\nCREATE TABLE c (id INTEGER);\n\n" +
                                failing_statement() + "\n-- dbinit:down\n");
  RunResult result = dbinit({"up"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("db/migrations/0003-bad.sql line 5"));
  EXPECT_THAT(result.err, HasSubstr("no_such_table"));
  if (transactional()) {
    EXPECT_THAT(result.err, HasSubstr("nothing was changed (the run was rolled back)"));
    EXPECT_EQ(db().fingerprint(), before);
  } else {
    // MySQL: 0002 is DDL and committed; 0003's DDL committed too, and its row says it failed.
    EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}, {"3", "failed"}}));
    EXPECT_THAT(result.err, HasSubstr("repair"));
  }
}

TEST_F(CliTest, TransactionEachKeepsTheMigrationsBeforeTheFailure) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  migration("0002-b.sql", "CREATE TABLE b (id INTEGER);\n");
  migration("0003-bad.sql", "INSERT INTO b (id) VALUES (1);\n" + failing_statement() + "\n");
  RunResult result = dbinit({"up", "--transaction", "each"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));
  // 0003 is pure DML: rolled back on every engine.
  EXPECT_EQ(count("b"), "0");
  EXPECT_THAT(result.err, HasSubstr("0002-b.sql were applied and committed"));
}

TEST_F(CliTest, ToStopsAtTheGivenVersion) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  migration("0002-b.sql", "CREATE TABLE b (id INTEGER);\n");
  migration("0003-c.sql", "CREATE TABLE c (id INTEGER);\n");
  RunResult result = up_ok({"--to", "0002"});
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));
  EXPECT_THAT(result.err, HasSubstr("1 still pending"));

  RunResult unknown = dbinit({"up", "--to", "7"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("--to 7: no migration has that version"));
}

TEST_F(CliTest, DryRunPrintsThePlanAndChangesNothing) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  up_ok();
  migration("0002-b.sql", "CREATE TABLE b (id INTEGER);\n");
  const std::string before = db().fingerprint();
  RunResult result = up_ok({"--dry-run"});
  EXPECT_THAT(result.err, HasSubstr("would apply 0002-b.sql"));
  EXPECT_THAT(result.err, HasSubstr("nothing was changed"));
  EXPECT_EQ(db().fingerprint(), before);
}

TEST_F(CliTest, DryRunDoesNotCreateTheDatabase) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  RunResult result = up_ok({"--dry-run"});
  EXPECT_THAT(result.err, HasSubstr("would apply 0001-a.sql"));
  EXPECT_FALSE(db().exists());
}

TEST_F(CliTest, EditedMigrationIsDriftAndStopsTheStart) {
  migration("0001-a.sql",
            "-- dbinit:up\nCREATE TABLE a (id INTEGER);\n-- dbinit:down\nDROP TABLE a;\n");
  up_ok();
  migration(
      "0001-a.sql",
      "-- dbinit:up\nCREATE TABLE a (id INTEGER, x INTEGER);\n-- dbinit:down\nDROP TABLE a;\n");
  migration("0002-b.sql", "CREATE TABLE b (id INTEGER);\n");
  RunResult result = dbinit({"up"});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_THAT(result.err, HasSubstr("db/migrations/0001-a.sql"));
  EXPECT_THAT(result.err, HasSubstr("was changed after it was applied"));
  EXPECT_THAT(result.err, HasSubstr("repair --accept-checksum 1"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
}

TEST_F(CliTest, LineEndingAndDownOnlyEditsAreNotDrift) {
  migration("0001-a.sql",
            "-- dbinit:up\nCREATE TABLE a (id INTEGER);\n-- dbinit:down\nDROP TABLE a;\n");
  up_ok();
  migration("0001-a.sql",
            "-- dbinit:up\r\nCREATE TABLE a (id INTEGER);\r\n-- dbinit:down\r\nDROP TABLE a; -- "
            "and more\r\n");
  RunResult result = up_ok();
  EXPECT_THAT(result.err, HasSubstr("up to date"));
}

TEST_F(CliTest, MissingAppliedFileIsDriftUnlessAllowed) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  migration("0002-b.sql", "CREATE TABLE b (id INTEGER);\n");
  up_ok();
  std::filesystem::remove(project().path() / "db/migrations/0002-b.sql");
  RunResult result = dbinit({"up"});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_THAT(result.err, HasSubstr("0002-b.sql is recorded as applied but its file is missing"));
  up_ok({"--allow-missing"});
}

TEST_F(CliTest, DatabaseWithTablesButNoLedgerIsRefused) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  up_ok({"--to", "1"});
  db().query("DROP TABLE dbinit_migrations");
  RunResult result = dbinit({"up"});
  EXPECT_EQ(result.exit_code, 9) << result.err;
  EXPECT_THAT(result.err, HasSubstr("has tables but no dbinit ledger"));
  EXPECT_THAT(result.err, HasSubstr("dbinit baseline"));
}

TEST_F(CliTest, FailedNonTransactionalMigrationIsRecordedAndBlocksLaterRuns) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  migration("0002-half.sql", "-- dbinit:no-transaction\nCREATE TABLE b (id INTEGER);\n" +
                                 failing_statement() + "\n");
  RunResult result = dbinit({"up"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("recorded as failed after 1 of its statements"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "failed"}}));
  const std::string error =
      db().query("SELECT error FROM dbinit_migrations WHERE version = '2'").at(0).at(0);
  EXPECT_THAT(error, HasSubstr("after 1 completed statement"));

  RunResult again = dbinit({"up"});
  EXPECT_EQ(again.exit_code, 4) << again.err;
  EXPECT_THAT(again.err, HasSubstr("0002-half.sql did not finish"));
  EXPECT_THAT(again.err, HasSubstr("repair --forget-failed 2"));
}

TEST_F(CliTest, BadFileNameAndDuplicateVersionsAreConfigurationErrors) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  migration("notes.sql", "SELECT 1;\n");
  RunResult bad = dbinit({"up"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("notes.sql"));
  std::filesystem::remove(project().path() / "db/migrations/notes.sql");

  migration("001_again.sql", "SELECT 1;\n");
  RunResult duplicate = dbinit({"up"});
  EXPECT_EQ(duplicate.exit_code, 2) << duplicate.err;
  EXPECT_THAT(duplicate.err, HasSubstr("0001-a.sql"));
  EXPECT_THAT(duplicate.err, HasSubstr("001_again.sql"));
  EXPECT_FALSE(db().exists() && !db().tables().empty());
}

TEST_F(CliTest, VeryLongVersionsCompareAsNumbers) {
  migration("99999999999999999999_b.sql", "CREATE TABLE b (id INTEGER);\n");
  migration("100000000000000000000_c.sql", "CREATE TABLE c (id INTEGER);\n");
  migration("20240830120000_a.sql", "CREATE TABLE a (id INTEGER);\n");
  up_ok();
  EXPECT_EQ(ledger(), (Ledger{{"20240830120000", "applied"},
                              {"99999999999999999999", "applied"},
                              {"100000000000000000000", "applied"}}));
}

TEST_F(CliTest, OverAThousandMigrationsApplyInOneRunWithEveryLedgerRow) {
  // More rows than one ledger statement carries on a server: every one must be recorded.
  migration("0000-t.sql", "CREATE TABLE t (n INTEGER);\n");
  for (int i = 1; i <= 1100; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%04d-m.sql", i);
    migration(name, "INSERT INTO t (n) VALUES (" + std::to_string(i) + ");\n");
  }
  RunResult result = up_ok({"-q"});
  EXPECT_EQ(count("t"), "1100");
  EXPECT_EQ(result.err, "");  // -q: nothing but warnings and errors
  EXPECT_EQ(db().query("SELECT COUNT(*), COUNT(DISTINCT checksum), MIN(state), MAX(state), "
                       "CASE WHEN MIN(duration_ms) >= 0 THEN 1 ELSE 0 END FROM dbinit_migrations"),
            (Rows{{"1101", "1101", "applied", "applied", "1"}}));
  EXPECT_EQ(db().query("SELECT name FROM dbinit_migrations WHERE version = '1100'"),
            (Rows{{"1100-m.sql"}}));
  // And the next start reads them all back and has nothing to do.
  RunResult again = up_ok();
  EXPECT_THAT(again.err, HasSubstr("up to date"));
}

TEST_F(CliTest, GolangMigratePairsAndDbmateMarkersAreUnderstood) {
  migration("1_create.up.sql", "CREATE TABLE a (id INTEGER);\n");
  migration("1_create.down.sql", "DROP TABLE a;\n");
  migration("2_more.sql",
            "-- migrate:up\nCREATE TABLE b (id INTEGER);\n\n-- migrate:down\nDROP TABLE b;\n");
  up_ok();
  EXPECT_EQ(db().query("SELECT down_sql FROM dbinit_migrations WHERE version = '1'").at(0).at(0),
            "DROP TABLE a;\n");
  EXPECT_THAT(db().query("SELECT down_sql FROM dbinit_migrations WHERE version = '2'").at(0).at(0),
              HasSubstr("DROP TABLE b;"));
}

TEST_F(CliTest, EngineVariantReplacesThePlainFile) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  migration("0001-a." + engine() + ".sql", "CREATE TABLE a_variant (id INTEGER);\n");
  const std::string other = engine() == "sqlite" ? "postgres" : "sqlite";
  migration("0002-only-elsewhere." + other + ".sql", "CREATE TABLE elsewhere (id INTEGER);\n");
  up_ok();
  EXPECT_EQ(db().tables(), (std::vector<std::string>{"a_variant"}));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
}

TEST_F(CliTest, AnEmptyMigrationsFolderIsNotAnErrorButAMissingOneIs) {
  RunResult missing = dbinit({"up"});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_THAT(missing.err, HasSubstr("migrations folder db/migrations does not exist"));
  EXPECT_FALSE(db().exists());
  fs::create_directories(project().path() / "db/migrations");
  RunResult result = up_ok();
  EXPECT_THAT(result.err, HasSubstr("up to date"));
}

TEST_F(CliTest, NulByteInAMigrationIsAnErrorNamingFileAndLineNotAHang) {
  using namespace std::string_literals;
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  migration("0002-x.sql", "-- dbinit:up\nSELECT 1;\0\n"s);
  RunOptions options;
  options.cwd = project().path();
  options.env["DBINIT_URL"] = db().url();
  options.timeout = std::chrono::seconds(30);
  RunResult result = run_dbinit({"up", "--lock-timeout", "2s"}, options);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("0002-x.sql line 2"));
  EXPECT_THAT(result.err, HasSubstr("NUL byte"));

  if (transactional()) {
    EXPECT_TRUE(db().tables().empty());  // the whole run was rolled back
  } else {
    // MySQL committed the first migration; the failing one may be recorded as failed.
    const Ledger after = ledger();
    ASSERT_FALSE(after.empty());
    EXPECT_EQ(after.front(), (std::pair<std::string, std::string>{"1", "applied"}));
    if (after.size() > 1) {
      EXPECT_EQ(after.back(), (std::pair<std::string, std::string>{"2", "failed"}));
      ASSERT_EQ(dbinit({"repair", "--forget-failed", "2"}).exit_code, 0);
    }
  }

  // A file holding only a NUL byte: the same, and the first run let go of the lock (this one
  // waits at most 2s for it).
  migration("0002-x.sql", "\0"s);
  result = run_dbinit({"up", "--lock-timeout", "2s"}, options);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("0002-x.sql line 1"));
  EXPECT_THAT(result.err, HasSubstr("NUL byte"));
}

}  // namespace
}  // namespace dbinit::test
