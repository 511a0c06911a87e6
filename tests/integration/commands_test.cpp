// `run`, `status`, `check`, `new`, init dumps and configuration, end to end.

#include <gmock/gmock.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "integration/cli_fixture.h"

namespace dbinit::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

// --- the command line -------------------------------------------------------------------------

// Only the subcommand named on the command line is built (a start costs less); help without a
// subcommand still lists them all, options before it still take their values, and the rest is
// refused as before.
TEST_F(CliTest, HelpListsEverySubcommand) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--help"}, {"-h"}, {"--dir", "x", "--help"}}) {
    RunResult help = dbinit(args);
    EXPECT_EQ(help.exit_code, 0) << help.err;
    for (const char* name : {"up", "run", "reset", "status", "check", "new", "repair", "down",
                             "baseline", "verify", "seed"}) {
      EXPECT_THAT(help.out, HasSubstr(fmt::format("\n  {} ", name))) << args.front() << help.out;
    }
  }
}

TEST_F(CliTest, EverySubcommandParsesItsOwnOptions) {
  for (const auto& [name, option] :
       std::vector<std::pair<std::string, std::string>>{{"up", "--dry-run"},
                                                        {"run", "--skip-hooks"},
                                                        {"reset", "--yes"},
                                                        {"status", "--wait"},
                                                        {"check", "--wait"},
                                                        {"new", "--timestamp"},
                                                        {"repair", "--accept-checksum"},
                                                        {"down", "--steps"},
                                                        {"baseline", "--version"},
                                                        {"verify", "--engines"},
                                                        {"seed", "--yes"}}) {
    RunResult help = dbinit({"--url", "sqlite:x.db", "-q", name, "--help"});
    EXPECT_EQ(help.exit_code, 0) << name << help.err;
    EXPECT_THAT(help.out, HasSubstr("Usage: dbinit " + name)) << help.out;
    EXPECT_THAT(help.out, HasSubstr(option)) << help.out;
  }
  // An option of the root takes the next argument as its value, even a subcommand's name.
  project().write("up/0001-from-up.sql", "CREATE TABLE a (id INTEGER);\n");
  RunResult status = dbinit({"--dir", "up", "--json", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("0001-from-up.sql")) << status.out;
}

TEST_F(CliTest, BadCommandLinesAreRefusedAsUsageErrors) {
  RunResult version = dbinit({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, HasSubstr("dbinit "));
  for (const std::vector<std::string>& args : {std::vector<std::string>{},
                                               {"bogus"},
                                               {"up", "status"},
                                               {"up", "--steps", "2"},
                                               {"--url"}}) {
    RunResult result = dbinit(args);
    EXPECT_EQ(result.exit_code, 2) << (args.empty() ? "" : args.front()) << result.err;
    EXPECT_THAT(result.err, HasSubstr("dbinit: error: ")) << result.err;
  }
  EXPECT_THAT(dbinit({"up", "status"}).err, HasSubstr("not expected: status"));
}

// --- run ------------------------------------------------------------------------------------

TEST_F(CliTest, RunMigratesThenExecsTheCommandInPlace) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  RunOptions options;
  options.cwd = project().path();
  options.env["DBINIT_URL"] = db().url();
  // The command prints its own PID: with exec it is the PID of the dbinit process we started.
  Child child({DBINIT_BINARY, "run", "--", "sh", "-c", "echo pid=$$"}, options);
  const int pid = child.pid();
  RunResult result = child.wait();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "pid=" + std::to_string(pid) + "\n");
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
}

TEST_F(CliTest, RunPassesTheCommandsExitCodeAndArguments) {
  fs::create_directories(project().path() / "db/migrations");  // no migrations
  RunResult result = dbinit(
      {"run", "--", "sh", "-c", "printf '%s|' \"$@\"; exit 42", "sh", "--flag", "two words", "--"});
  EXPECT_EQ(result.exit_code, 42) << result.err;
  EXPECT_EQ(result.out, "--flag|two words|--|");
}

TEST_F(CliTest, RunDoesNotStartTheCommandWhenUpFails) {
  migration("0001-bad.sql", failing_statement() + "\n");
  RunResult result = dbinit({"run", "--", "touch", (project().path() / "started").string()});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_FALSE(fs::exists(project().path() / "started"));
}

TEST_F(CliTest, RunWithoutCommandIsAUsageError) {
  RunResult result = dbinit({"run"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("dbinit run -- "));
}

TEST_F(CliTest, RunReportsACommandThatCannotStart) {
  fs::create_directories(project().path() / "db/migrations");  // no migrations
  RunResult result = dbinit({"run", "--", "/nonexistent/server"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("cannot start '/nonexistent/server'"));
}

// --- status and check -------------------------------------------------------------------------

TEST_F(CliTest, StatusShowsEveryStateAndTheCounts) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  migration("0002-b.sql", "CREATE TABLE b (id INTEGER);\n");
  migration("0003-c.sql", "CREATE TABLE c (id INTEGER);\n");
  up_ok();
  migration("0002-b.sql", "CREATE TABLE b (id INTEGER, changed INTEGER);\n");
  fs::remove(project().path() / "db/migrations/0003-c.sql");
  migration("0004-d.sql", "CREATE TABLE d (id INTEGER);\n");

  RunResult text = dbinit({"status"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("version:  3"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("1 +applied .*0001-a.sql"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("2 +changed .*0002-b.sql"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("3 +missing .*0003-c.sql"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("4 +pending +- +0004-d.sql"));
  EXPECT_THAT(text.out,
              HasSubstr("1 applied, 0 baseline, 1 pending, 1 changed, 1 missing, 0 failed"));

  RunResult json_run = dbinit({"status", "--json"});
  ASSERT_EQ(json_run.exit_code, 0) << json_run.err;
  const nlohmann::json doc = nlohmann::json::parse(json_run.out);
  EXPECT_EQ(doc["engine"], engine());
  EXPECT_EQ(doc["version"], "3");
  EXPECT_EQ(doc["applied"], 1);
  EXPECT_EQ(doc["pending"], 1);
  EXPECT_EQ(doc["changed"], 1);
  EXPECT_EQ(doc["missing"], 1);
  EXPECT_EQ(doc["failed"], 0);
  ASSERT_EQ(doc["migrations"].size(), 4u);
  EXPECT_EQ(doc["migrations"][1]["state"], "changed");
  EXPECT_EQ(doc["migrations"][3]["state"], "pending");
  EXPECT_TRUE(doc["migrations"][3]["applied_at"].is_null());
  EXPECT_THAT(doc["migrations"][0]["checksum"].get<std::string>(), HasSubstr("sha256:"));
}

TEST_F(CliTest, StatusOfAMissingDatabaseCreatesNothing) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  RunResult result = dbinit({"status"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("does not exist"));
  EXPECT_THAT(result.out, HasSubstr("1 pending"));
  EXPECT_FALSE(db().exists());
}

TEST_F(CliTest, CheckExitsSevenUntilTheDatabaseIsCurrent) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  RunResult missing = dbinit({"check"});
  EXPECT_EQ(missing.exit_code, 7) << missing.err;
  EXPECT_THAT(missing.err, HasSubstr("does not exist"));

  up_ok();
  RunResult current = dbinit({"check"});
  EXPECT_EQ(current.exit_code, 0) << current.err;

  migration("0002-b.sql", "CREATE TABLE b (id INTEGER);\n");
  RunResult pending = dbinit({"check"});
  EXPECT_EQ(pending.exit_code, 7);
  EXPECT_THAT(pending.err, HasSubstr("1 pending migration (0002-b.sql)"));

  up_ok();
  migration("0002-b.sql", "CREATE TABLE b (id INTEGER, x INTEGER);\n");
  RunResult drift = dbinit({"check"});
  EXPECT_EQ(drift.exit_code, 7);
  EXPECT_THAT(drift.err, HasSubstr("changed"));
  // The next step is the one `up` would give (it refuses drift), not `dbinit up`.
  EXPECT_THAT(drift.err, HasSubstr("repair --accept-checksum 2"));
  EXPECT_THAT(drift.err, Not(HasSubstr("run `dbinit up`")));
  EXPECT_EQ(dbinit({"up"}).exit_code, 3);
}

TEST_F(CliTest, CheckOnAFailedRowGivesTheRepairCommands) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  migration("0002-half.sql", "-- dbinit:no-transaction\nCREATE TABLE b (id INTEGER);\n" +
                                 failing_statement() + "\n");
  EXPECT_EQ(dbinit({"up"}).exit_code, 1);
  RunResult check = dbinit({"check"});
  EXPECT_EQ(check.exit_code, 7) << check.err;
  EXPECT_THAT(check.err, HasSubstr("1 failed migration need repair"));
  EXPECT_THAT(check.err, HasSubstr("repair --forget-failed 2"));
  EXPECT_THAT(check.err, Not(HasSubstr("run `dbinit up`")));
  EXPECT_EQ(dbinit({"up"}).exit_code, 4);
}

// --- new ------------------------------------------------------------------------------------

TEST_F(CliTest, NewFollowsTheExistingSequence) {
  migration("0001-a.sql", "SELECT 1;\n");
  migration("0009-b.sql", "SELECT 1;\n");
  RunResult result = dbinit({"new", "Add email to users"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "db/migrations/0010-add_email_to_users.sql\n");
  const std::string text =
      read_file(project().path() / "db/migrations/0010-add_email_to_users.sql");
  EXPECT_THAT(text, HasSubstr("-- dbinit:up"));
  EXPECT_THAT(text, HasSubstr("-- dbinit:down"));
  // The new file is a valid, empty migration.
  up_ok();
}

TEST_F(CliTest, NewUsesTimestampsWhenTheProjectDoes) {
  migration("20240101000000_init.sql", "SELECT 1;\n");
  RunResult result = dbinit({"new", "second"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, ::testing::MatchesRegex("db/migrations/20[0-9]{12}_second.sql\n"));
}

// --- init dumps -------------------------------------------------------------------------------

TEST_F(CliTest, InitDumpIsRestoredIntoAnEmptyDatabaseOnly) {
  project().write("db/init/init.sql",
                  "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));\n"
                  "INSERT INTO users VALUES (1, 'ada'), (2, 'grace');\n");
  migration("0001-add-user.sql", "INSERT INTO users VALUES (3, 'edsger');\n");
  RunResult first = up_ok();
  EXPECT_THAT(first.err, HasSubstr("restored init dump db/init/init.sql"));
  EXPECT_EQ(count("users"), "3");

  RunResult second = up_ok();
  EXPECT_THAT(second.err, Not(HasSubstr("restored")));
  EXPECT_EQ(count("users"), "3");
}

TEST_F(CliTest, InitDumpFolderIsRestoredInNameOrderAndCompressedFilesWork) {
  fs::create_directories(project().path() / "db/migrations");  // no migrations
  project().write("db/init/01-schema.sql", "CREATE TABLE t (n INTEGER);\n");
  project().write("db/init/02-data.sql", "INSERT INTO t VALUES (1);\n");
  project().write("db/init/03-more.sql", "INSERT INTO t VALUES (2);\n");
  project().write("db/init/04-zst.sql", "INSERT INTO t VALUES (3);\n");
  project().write("db/init/README.md", "not SQL\n");
  RunResult gz = run_program({"gzip", (project().path() / "db/init/03-more.sql").string()});
  ASSERT_EQ(gz.exit_code, 0) << gz.err;
  RunResult zst =
      run_program({"zstd", "-q", "--rm", (project().path() / "db/init/04-zst.sql").string()});
  ASSERT_EQ(zst.exit_code, 0) << zst.err;
  up_ok();
  EXPECT_EQ(db().query("SELECT SUM(n) FROM t").at(0).at(0), "6");
}

TEST_F(CliTest, BrokenInitDumpChangesNothingWhereTheEngineAllows) {
  fs::create_directories(project().path() / "db/migrations");  // no migrations
  project().write("db/init/init.sql", "CREATE TABLE t (n INTEGER);\nINSERT INTO t VALUES (1);\n" +
                                          failing_statement() + "\n");
  RunResult result = dbinit({"up"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("db/init/init.sql line 3"));
  if (transactional()) {
    // `up` created the database; the restore was rolled back.
    EXPECT_THAT(result.err, HasSubstr("the database was created and is still empty"));
    EXPECT_TRUE(db().tables().empty());
  } else {
    EXPECT_THAT(result.err, HasSubstr("restored only in part"));
  }
}

TEST_F(CliTest, DumpOfAManagedDatabaseBringsItsLedgerAlong) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  up_ok();
  // An init dump made from a database at version 1 (its ledger included): only 0002 runs.
  const Rows row = db().query(
      "SELECT version, name, checksum, state, applied_at, duration_ms, applied_by FROM "
      "dbinit_migrations");
  auto fresh = make_test_database(engine());
  std::string dump = "CREATE TABLE a (id INTEGER);\n";
  dump +=
      "CREATE TABLE dbinit_migrations (version VARCHAR(255) PRIMARY KEY, name TEXT NOT NULL, "
      "checksum TEXT NOT NULL, state TEXT NOT NULL, applied_at TEXT NOT NULL, duration_ms "
      "BIGINT NOT NULL, applied_by TEXT NOT NULL, down_sql TEXT, error TEXT);\n";
  dump += "INSERT INTO dbinit_migrations VALUES ('1', '0001-a.sql', '" + row[0][2] +
          "', 'applied', '" + row[0][4] + "', 0, 'someone', NULL, NULL);\n";
  project().write("db/init/init.sql", dump);
  migration("0002-b.sql", "CREATE TABLE b (id INTEGER);\n");

  RunOptions options;
  options.cwd = project().path();
  options.env["DBINIT_URL"] = fresh->url();
  RunResult result = run_dbinit({"up"}, options);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, Not(HasSubstr("applied 0001-a.sql")));
  EXPECT_THAT(result.err, HasSubstr("applied 0002-b.sql"));
  EXPECT_EQ(fresh->tables(), (std::vector<std::string>{"a", "b"}));
}

// --- configuration ----------------------------------------------------------------------------

TEST_F(CliTest, FlagBeatsEnvironmentBeatsTomlBeatsDefault) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  project().write("other/0001-x.sql", "CREATE TABLE from_flag (id INTEGER);\n");
  project().write("fromenv/0001-x.sql", "CREATE TABLE from_env (id INTEGER);\n");
  project().write("fromtoml/0001-x.sql", "CREATE TABLE from_toml (id INTEGER);\n");
  project().write("dbinit.toml", "dir = \"fromtoml\"\n");

  auto fresh_run = [&](std::vector<std::string> args, std::map<std::string, std::string> env) {
    auto fresh = make_test_database(engine());
    env["DBINIT_URL"] = fresh->url();
    RunResult result = dbinit(std::move(args), env);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return fresh->tables();
  };
  EXPECT_EQ(fresh_run({"up", "--dir", "other"}, {{"DBINIT_DIR", "fromenv"}}),
            std::vector<std::string>{"from_flag"});
  EXPECT_EQ(fresh_run({"up"}, {{"DBINIT_DIR", "fromenv"}}), std::vector<std::string>{"from_env"});
  EXPECT_EQ(fresh_run({"up"}, {}), std::vector<std::string>{"from_toml"});
  fs::remove(project().path() / "dbinit.toml");
  EXPECT_EQ(fresh_run({"up"}, {}), std::vector<std::string>{"a"});
}

TEST_F(CliTest, UrlComesFromTheTomlOrASecretFile) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  project().write("secret", db().url() + "\n");
  RunResult from_file = dbinit({"up"}, {{"DBINIT_URL", ""}});
  // An empty DBINIT_URL is not a URL: it must be reported, not ignored silently.
  EXPECT_NE(from_file.exit_code, 0);

  RunOptions options;
  options.cwd = project().path();
  options.env["DATABASE_URL_FILE"] = (project().path() / "secret").string();
  RunResult result = run_dbinit({"up"}, options);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));

  auto fresh = make_test_database(engine());
  project().write("dbinit.toml", "url = \"${TEST_DB_URL}\"\n");
  options.env.clear();
  options.env["TEST_DB_URL"] = fresh->url();
  RunResult toml = run_dbinit({"up"}, options);
  ASSERT_EQ(toml.exit_code, 0) << toml.err;
  EXPECT_EQ(fresh->tables(), std::vector<std::string>{"a"});
}

TEST_F(CliTest, BadTomlIsReportedWithFileAndLine) {
  project().write("dbinit.toml", "dir = \"db/migrations\"\nurll = \"x\"\n");
  RunResult unknown = dbinit({"status"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("dbinit.toml:2: unknown setting 'urll'"));

  project().write("dbinit.toml", "dir = \n");
  RunResult syntax = dbinit({"status"});
  EXPECT_EQ(syntax.exit_code, 2);
  EXPECT_THAT(syntax.err, HasSubstr("dbinit.toml:1:"));
}

TEST_F(CliTest, BadFlagsAreUsageErrors) {
  EXPECT_EQ(dbinit({"up", "--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(dbinit({"frobnicate"}).exit_code, 2);
  RunResult wait = dbinit({"up", "--wait", "soon"});
  EXPECT_EQ(wait.exit_code, 2);
  EXPECT_THAT(wait.err, HasSubstr("--wait: 'soon' is not a duration"));
  RunResult unknown_scheme = dbinit({"up", "--url", "oracle://scott:tiger@db/x"});
  EXPECT_EQ(unknown_scheme.exit_code, 2);
  EXPECT_THAT(unknown_scheme.err, Not(HasSubstr("tiger")));
}

}  // namespace
}  // namespace dbinit::test

namespace dbinit::test {
namespace {

using ::testing::HasSubstr;

// --- repair ----------------------------------------------------------------------------------

TEST_F(CliTest, RepairAcceptsAChangedChecksum) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  up_ok();
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER); -- reviewed, harmless\n");
  ASSERT_EQ(dbinit({"up"}).exit_code, 3);
  RunResult repair = dbinit({"repair", "--accept-checksum", "0001"});
  ASSERT_EQ(repair.exit_code, 0) << repair.err;
  EXPECT_THAT(repair.err, HasSubstr("accepted the new checksum of 0001-a.sql"));
  RunResult result = up_ok();
  EXPECT_THAT(result.err, HasSubstr("up to date"));
}

TEST_F(CliTest, RepairForgetsOrMarksAFailedMigration) {
  migration("0001-half.sql", "-- dbinit:no-transaction\nCREATE TABLE b (id INTEGER);\n" +
                                 failing_statement() + "\n");
  ASSERT_EQ(dbinit({"up"}).exit_code, 1);
  ASSERT_EQ(dbinit({"up"}).exit_code, 4);

  // Wrong version, wrong state: refused, nothing changed.
  RunResult wrong = dbinit({"repair", "--forget-failed", "2"});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_THAT(wrong.err, HasSubstr("no failed migration has that version"));

  // The human cleans up and fixes the file, then lets `up` run it again.
  db().query("DROP TABLE b");
  migration("0001-half.sql", "-- dbinit:no-transaction\nCREATE TABLE b (id INTEGER);\n");
  RunResult forget = dbinit({"repair", "--forget-failed", "1"});
  ASSERT_EQ(forget.exit_code, 0) << forget.err;
  EXPECT_EQ(ledger(), Ledger{});
  up_ok();
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));

  // Or records it as applied after completing it by hand.
  migration("0002-half.sql", "-- dbinit:no-transaction\nCREATE TABLE c (id INTEGER);\n" +
                                 failing_statement() + "\n");
  ASSERT_EQ(dbinit({"up"}).exit_code, 1);
  RunResult mark = dbinit({"repair", "--mark-applied", "2"});
  ASSERT_EQ(mark.exit_code, 0) << mark.err;
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));
  EXPECT_EQ(dbinit({"check"}).exit_code, 0);
}

TEST_F(CliTest, RepairWithoutAnythingToDoIsAUsageError) {
  RunResult result = dbinit({"repair"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--forget-failed"));
}

}  // namespace
}  // namespace dbinit::test
