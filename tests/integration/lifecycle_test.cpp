// `down`, `baseline`, `repair --accept-checksum` in `status -v`, and the guard in front of `reset`,
// `up --clean`, DBINIT_CLEAN and DBINIT_FORCE_RECREATE, end to end on the engine under test.

#include <gmock/gmock.h>

#include <nlohmann/json.hpp>

#include "integration/cli_fixture.h"

namespace dbinit::test {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

class LifecycleTest : public CliTest {
 protected:
  /// A migration creating `table`, with a down section dropping it.
  void table_migration(const std::string& name, const std::string& table) {
    migration(name, "-- dbinit:up\nCREATE TABLE " + table +
                        " (id INTEGER);\n-- dbinit:down\nDROP TABLE " + table + ";\n");
  }

  RunResult up_in(const std::string& environment, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"up"};
    args.insert(args.end(), extra.begin(), extra.end());
    return dbinit(args, {{"DBINIT_ENV", environment}});
  }

  static std::vector<std::string> names(std::initializer_list<const char*> list) {
    return std::vector<std::string>(list.begin(), list.end());
  }
};

// --- down ----------------------------------------------------------------------------------

TEST_F(LifecycleTest, DownRollsBackTheNewestMigrationsInReverseOrder) {
  table_migration("0001-a.sql", "a");
  table_migration("0002-b.sql", "b");
  table_migration("0003-c.sql", "c");
  up_ok();

  RunResult one = dbinit({"down"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_THAT(one.err, HasSubstr("rolled back 0003-c.sql ("));
  EXPECT_THAT(one.err, HasSubstr("database is at version 2: rolled back 1 migration in"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));
  EXPECT_EQ(db().tables(), names({"a", "b"}));

  RunResult two = dbinit({"down", "--steps", "2"});
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_LT(two.err.find("rolled back 0002-b.sql"), two.err.find("rolled back 0001-a.sql"));
  EXPECT_THAT(two.err, HasSubstr("database is at no version: rolled back 2 migrations"));
  EXPECT_EQ(ledger(), Ledger{});
  EXPECT_TRUE(db().tables().empty());

  RunResult none = dbinit({"down"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_THAT(none.err, HasSubstr("nothing to roll back: no migration is applied"));

  // Rolled back means pending again: up applies all three once more.
  up_ok();
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}, {"3", "applied"}}));
}

TEST_F(LifecycleTest, DownToAVersionKeepsThatVersionAndBadArgumentsAreUsageErrors) {
  table_migration("0001-a.sql", "a");
  table_migration("0002-b.sql", "b");
  table_migration("0003-c.sql", "c");
  table_migration("0004-d.sql", "d");
  up_ok();

  RunResult to = dbinit({"down", "--to", "0002"});
  ASSERT_EQ(to.exit_code, 0) << to.err;
  EXPECT_LT(to.err.find("rolled back 0004-d.sql"), to.err.find("rolled back 0003-c.sql"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));
  EXPECT_EQ(db().tables(), names({"a", "b"}));

  const std::string before = db().fingerprint();
  RunResult unknown = dbinit({"down", "--to", "7"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("--to 7: no migration has that version"));
  RunResult zero_steps = dbinit({"down", "--steps", "0"});
  EXPECT_EQ(zero_steps.exit_code, 2) << zero_steps.err;
  EXPECT_THAT(zero_steps.err, HasSubstr("--steps 0: expected a number of 1 or more"));
  RunResult both = dbinit({"down", "--steps", "1", "--to", "1"});
  EXPECT_EQ(both.exit_code, 2) << both.err;
  EXPECT_THAT(both.err, HasSubstr("--steps and --to exclude each other"));
  EXPECT_EQ(db().fingerprint(), before);

  RunResult all = dbinit({"down", "--to", "0"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(ledger(), Ledger{});
  EXPECT_TRUE(db().tables().empty());
}

TEST_F(LifecycleTest, DownWithoutDownSqlRollsBackNothing) {
  table_migration("0001-a.sql", "a");
  migration("0002-b.sql", "CREATE TABLE b (id INTEGER);\n");  // no down section
  table_migration("0003-c.sql", "c");
  up_ok();
  const std::string before = db().fingerprint();

  RunResult result = dbinit({"down", "--steps", "3"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("cannot roll back 0002-b.sql: no down SQL"));
  EXPECT_THAT(result.err, HasSubstr("nothing was changed (no migration was rolled back)"));
  EXPECT_THAT(result.err, HasSubstr("-- dbinit:down"));
  // Not even 0003, whose down exists: the rollback stops before it starts.
  EXPECT_THAT(result.err, Not(HasSubstr("rolled back 0003-c.sql")));
  EXPECT_EQ(db().fingerprint(), before);
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}, {"3", "applied"}}));
  EXPECT_EQ(db().tables(), names({"a", "b", "c"}));

  // One step stops short of 0002 and works.
  RunResult one = dbinit({"down"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));
  EXPECT_EQ(dbinit({"down"}).exit_code, 1);
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));
}

TEST_F(LifecycleTest, DownUsesTheLedgersDownSqlWhenTheFileIsGone) {
  table_migration("0001-a.sql", "a");
  table_migration("0002-b.sql", "b");
  up_ok();
  db().query("INSERT INTO b (id) VALUES (1)");

  // An older release of the service: it has never seen 0002.
  fs::remove(project().path() / "db/migrations/0002-b.sql");
  RunResult result = dbinit({"down", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("rolled back 0002-b.sql ("));
  EXPECT_THAT(result.err, HasSubstr("down SQL from the ledger"));
  const nlohmann::json doc = nlohmann::json::parse(result.out);
  ASSERT_EQ(doc["rolled_back"].size(), 1u);
  EXPECT_EQ(doc["rolled_back"][0]["version"], "2");
  EXPECT_EQ(doc["rolled_back"][0]["down_sql_from"], "ledger");
  EXPECT_EQ(doc["version"], "1");
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
  EXPECT_EQ(db().tables(), names({"a"}));

  // The older release now starts cleanly: nothing missing, nothing pending.
  RunResult up = up_ok();
  EXPECT_THAT(up.err, HasSubstr("up to date at version 1"));
}

TEST_F(LifecycleTest, DownOnADatabaseRecordedAsProductionNeedsConfirmation) {
  table_migration("0001-a.sql", "a");
  RunResult up = up_in("production");
  ASSERT_EQ(up.exit_code, 0) << up.err;
  const std::string before = db().fingerprint();

  RunResult refused = dbinit({"down"});
  EXPECT_EQ(refused.exit_code, 8) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("down refused: the database is recorded as 'production'"));
  EXPECT_THAT(refused.err, HasSubstr("0001-a.sql"));
  EXPECT_EQ(db().fingerprint(), before);

  RunResult confirmed = dbinit({"down", "--yes"});
  ASSERT_EQ(confirmed.exit_code, 0) << confirmed.err;
  EXPECT_EQ(ledger(), Ledger{});
  EXPECT_TRUE(db().tables().empty());
}

// --- baseline ------------------------------------------------------------------------------

TEST_F(LifecycleTest, BaselineAdoptsTablesWithoutLedgerThenUpAppliesOnlyNewerOnes) {
  db().query("CREATE TABLE a (id INTEGER)");
  db().query("CREATE TABLE b (id INTEGER)");
  db().query("INSERT INTO a (id) VALUES (1)");
  table_migration("0001-a.sql", "a");
  table_migration("0002-b.sql", "b");
  table_migration("0003-c.sql", "c");

  RunResult refused = dbinit({"up"});
  EXPECT_EQ(refused.exit_code, 9) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("has tables but no dbinit ledger"));
  EXPECT_THAT(refused.err, HasSubstr("dbinit baseline"));
  EXPECT_EQ(db().tables(), names({"a", "b"}));

  RunResult baseline = dbinit({"baseline", "--version", "2"});
  ASSERT_EQ(baseline.exit_code, 0) << baseline.err;
  EXPECT_THAT(baseline.err, HasSubstr("recorded 2 migrations as baseline up to version 2"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "baseline"}, {"2", "baseline"}}));
  // The down sections are recorded too, so that a baselined migration can be rolled back.
  EXPECT_EQ(db().query("SELECT down_sql FROM dbinit_migrations WHERE version = '2'").at(0).at(0),
            "DROP TABLE b;\n");

  RunResult up = up_ok();
  EXPECT_THAT(up.err, HasSubstr("applied 0003-c.sql"));
  EXPECT_THAT(up.err, Not(HasSubstr("applied 0001-a.sql")));
  EXPECT_THAT(up.err, Not(HasSubstr("applied 0002-b.sql")));
  EXPECT_EQ(ledger(), (Ledger{{"1", "baseline"}, {"2", "baseline"}, {"3", "applied"}}));
  EXPECT_EQ(count("a"), "1");
  EXPECT_EQ(db().tables(), names({"a", "b", "c"}));

  RunResult status = dbinit({"status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, ContainsRegex("2 +baseline .*0002-b.sql"));
  EXPECT_THAT(status.out,
              HasSubstr("1 applied, 2 baseline, 0 pending, 0 changed, 0 missing, 0 failed"));
  EXPECT_EQ(dbinit({"check"}).exit_code, 0);
}

TEST_F(LifecycleTest, BaselineIsRefusedOnAManagedEmptyOrMissingDatabase) {
  table_migration("0001-a.sql", "a");
  table_migration("0002-b.sql", "b");
  up_ok({"--to", "1"});
  const std::string before = db().fingerprint();

  RunResult managed = dbinit({"baseline"});
  EXPECT_EQ(managed.exit_code, 2) << managed.err;
  EXPECT_THAT(managed.err, HasSubstr("already has a dbinit ledger (1 row)"));
  EXPECT_THAT(managed.err, HasSubstr("nothing was changed"));
  EXPECT_EQ(db().fingerprint(), before);
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));

  auto empty = make_test_database(engine());
  empty->query("SELECT 1");  // exists, no tables
  RunResult no_tables = dbinit({"baseline"}, {{"DBINIT_URL", empty->url()}});
  EXPECT_EQ(no_tables.exit_code, 2) << no_tables.err;
  EXPECT_THAT(no_tables.err, HasSubstr("has no tables, so there is no schema to baseline"));
  EXPECT_TRUE(empty->tables().empty());

  auto missing = make_test_database(engine());
  RunResult no_database = dbinit({"baseline"}, {{"DBINIT_URL", missing->url()}});
  EXPECT_EQ(no_database.exit_code, 2) << no_database.err;
  EXPECT_THAT(no_database.err, HasSubstr("the database does not exist"));
  EXPECT_FALSE(missing->exists());

  auto unmanaged = make_test_database(engine());
  unmanaged->query("CREATE TABLE a (id INTEGER)");
  RunResult bad_version =
      dbinit({"baseline", "--version", "5"}, {{"DBINIT_URL", unmanaged->url()}});
  EXPECT_EQ(bad_version.exit_code, 2) << bad_version.err;
  EXPECT_THAT(bad_version.err, HasSubstr("--version 5: no migration"));
  EXPECT_EQ(unmanaged->tables(), names({"a"}));
}

TEST_F(LifecycleTest, BaselineDetectFindsTheVersionWhoseMigrationsGiveTheSchema) {
  table_migration("0001-a.sql", "a");
  table_migration("0002-b.sql", "b");
  table_migration("0003-c.sql", "c");
  // The same statements the migrations run, so that the schemas are the same on every engine.
  db().query("CREATE TABLE a (id INTEGER)");
  db().query("CREATE TABLE b (id INTEGER)");

  RunResult detect = dbinit({"baseline", "--detect"});
  ASSERT_EQ(detect.exit_code, 0) << detect.err;
  EXPECT_THAT(detect.out, HasSubstr("the database's schema matches version 2"));
  EXPECT_THAT(detect.err, HasSubstr("nothing was recorded; run `dbinit baseline --version 2`"));
  // Nothing recorded: up still refuses.
  EXPECT_EQ(dbinit({"up"}).exit_code, 9);

  RunResult record = dbinit({"baseline", "--detect", "--yes"});
  ASSERT_EQ(record.exit_code, 0) << record.err;
  EXPECT_THAT(record.err, HasSubstr("recorded 2 migrations as baseline up to version 2"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "baseline"}, {"2", "baseline"}}));

  RunResult up = up_ok();
  EXPECT_THAT(up.err, HasSubstr("applied 0003-c.sql"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "baseline"}, {"2", "baseline"}, {"3", "applied"}}));
}

TEST_F(LifecycleTest, BaselineDetectWithoutMatchShowsTheClosestVersionAndRecordsNothing) {
  table_migration("0001-a.sql", "a");
  // Two tables, so that version 2 is further from the database than version 1 on every engine.
  migration("0002-bc.sql",
            "-- dbinit:up\nCREATE TABLE b (id INTEGER);\nCREATE TABLE c (id INTEGER);\n"
            "-- dbinit:down\nDROP TABLE c;\nDROP TABLE b;\n");
  db().query("CREATE TABLE a (id INTEGER)");
  db().query("CREATE TABLE zz (id INTEGER)");
  const std::string before = db().fingerprint();

  RunResult detect = dbinit({"baseline", "--detect", "--yes"});
  EXPECT_EQ(detect.exit_code, 1) << detect.err;
  EXPECT_THAT(detect.err,
              HasSubstr("no version of the migrations gives exactly the database's schema"));
  EXPECT_THAT(detect.err, HasSubstr("nothing was recorded"));
  EXPECT_THAT(detect.out, HasSubstr("closest: version 1"));
  EXPECT_THAT(detect.out, ContainsRegex("\\+ [^\n]*zz"));
  EXPECT_EQ(db().fingerprint(), before);
  EXPECT_EQ(db().tables(), names({"a", "zz"}));
}

// --- repair --accept-checksum in status -v ---------------------------------------------------

TEST_F(LifecycleTest, AcceptedChecksumStaysVisibleInVerboseStatus) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  up_ok();
  const std::string old_checksum =
      db().query("SELECT checksum FROM dbinit_migrations WHERE version = '1'").at(0).at(0);
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER); -- reviewed, harmless\n");
  ASSERT_EQ(dbinit({"up"}).exit_code, 3);

  RunResult repair = dbinit({"repair", "--accept-checksum", "1"});
  ASSERT_EQ(repair.exit_code, 0) << repair.err;
  const std::string new_checksum =
      db().query("SELECT checksum FROM dbinit_migrations WHERE version = '1'").at(0).at(0);
  EXPECT_NE(new_checksum, old_checksum);
  EXPECT_THAT(new_checksum, ::testing::MatchesRegex("sha256:[0-9a-f]{64}"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));

  RunResult verbose = dbinit({"status", "-v"});
  ASSERT_EQ(verbose.exit_code, 0) << verbose.err;
  EXPECT_THAT(verbose.out, ContainsRegex("1 +applied .*0001-a.sql"));
  EXPECT_THAT(verbose.out, HasSubstr(old_checksum + " -> " + new_checksum));
  EXPECT_THAT(verbose.out, HasSubstr("accepted"));

  RunResult plain = dbinit({"status"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_THAT(plain.out, Not(HasSubstr(old_checksum)));

  RunResult up = up_ok();
  EXPECT_THAT(up.err, HasSubstr("up to date at version 1"));
}

// --- reset, up --clean, DBINIT_CLEAN, DBINIT_FORCE_RECREATE -------------------------------------

TEST_F(LifecycleTest, ResetIsRefusedOutsideDevelopment) {
  table_migration("0001-a.sql", "a");
  up_ok();
  db().query("INSERT INTO a (id) VALUES (1)");
  const std::string before = db().fingerprint();

  RunResult unset = dbinit({"reset", "--yes"});
  EXPECT_EQ(unset.exit_code, 8) << unset.err;
  EXPECT_THAT(unset.err, HasSubstr("reset refused: the environment is not set, not development"));
  EXPECT_THAT(unset.err, Not(HasSubstr("not confirmed")));
  EXPECT_THAT(unset.err, HasSubstr("DBINIT_ENV=development"));

  RunResult staging = dbinit({"reset", "--yes"}, {{"DBINIT_ENV", "staging"}});
  EXPECT_EQ(staging.exit_code, 8) << staging.err;
  EXPECT_THAT(staging.err, HasSubstr("the environment is 'staging', not development"));

  // Both conditions missing: both are named.
  RunResult neither = dbinit({"reset"});
  EXPECT_EQ(neither.exit_code, 8) << neither.err;
  EXPECT_THAT(neither.err, HasSubstr("not development"));
  EXPECT_THAT(neither.err, HasSubstr("it was not confirmed"));

  EXPECT_EQ(db().fingerprint(), before);
  EXPECT_EQ(count("a"), "1");
}

TEST_F(LifecycleTest, ResetWithoutYesAndWithoutTerminalIsRefused) {
  table_migration("0001-a.sql", "a");
  up_ok();
  db().query("INSERT INTO a (id) VALUES (1)");
  const std::string before = db().fingerprint();

  RunResult result = dbinit({"reset"}, {{"DBINIT_ENV", "development"}});
  EXPECT_EQ(result.exit_code, 8) << result.err;
  EXPECT_THAT(result.err,
              HasSubstr("reset refused: it was not confirmed (no --yes, and stdin is not a "
                        "terminal to ask on)"));
  EXPECT_THAT(result.err, Not(HasSubstr("not development")));
  EXPECT_THAT(result.err, HasSubstr("--yes"));

  // Text on stdin that is not a terminal is no confirmation either.
  RunOptions options;
  options.cwd = project().path();
  options.env = {{"DBINIT_URL", db().url()}, {"DBINIT_ENV", "development"}};
  options.stdin_data = "yes\n";
  RunResult piped = run_dbinit({"reset"}, options);
  EXPECT_EQ(piped.exit_code, 8) << piped.err;

  EXPECT_EQ(db().fingerprint(), before);
}

TEST_F(LifecycleTest, ResetInDevelopmentWithYesDropsMigratesAndSeedsAgain) {
  table_migration("0001-a.sql", "a");
  project().write("db/seeds/01-a.sql", "INSERT INTO a (id) VALUES (42);\n");
  up_ok();
  EXPECT_EQ(count("a"), "1");
  db().query("INSERT INTO a (id) VALUES (7)");
  db().query("CREATE TABLE made_by_hand (id INTEGER)");

  RunResult reset = dbinit({"reset", "--yes"}, {{"DBINIT_ENV", "development"}});
  ASSERT_EQ(reset.exit_code, 0) << reset.err;
  EXPECT_THAT(reset.err, HasSubstr("dropped database"));
  EXPECT_THAT(reset.err, HasSubstr("applied 0001-a.sql"));
  EXPECT_THAT(reset.err, HasSubstr("applied seed db/seeds/01-a.sql"));
  EXPECT_EQ(db().tables(), names({"a"}));
  EXPECT_EQ(db().query("SELECT id FROM a"), (Rows{{"42"}}));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));

  // The environment and the confirmation may come from the toml and DBINIT_YES.
  db().query("INSERT INTO a (id) VALUES (8)");
  project().write("dbinit.toml", "env = \"development\"\n");
  RunResult from_toml = dbinit({"reset"}, {{"DBINIT_YES", "1"}});
  ASSERT_EQ(from_toml.exit_code, 0) << from_toml.err;
  EXPECT_EQ(db().query("SELECT id FROM a"), (Rows{{"42"}}));
}

TEST_F(LifecycleTest, ResetIsRefusedOnADatabaseRecordedAsProductionWhateverTheLocalSetting) {
  table_migration("0001-a.sql", "a");
  RunResult up = up_in("production");
  ASSERT_EQ(up.exit_code, 0) << up.err;
  RunResult status = dbinit({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(nlohmann::json::parse(status.out)["environment"], "production");
  db().query("INSERT INTO a (id) VALUES (1)");
  const std::string before = db().fingerprint();

  const std::map<std::string, std::string> development = {{"DBINIT_ENV", "development"}};
  RunResult reset = dbinit({"reset", "--yes"}, development);
  EXPECT_EQ(reset.exit_code, 8) << reset.err;
  EXPECT_THAT(reset.err, HasSubstr("reset refused: the database is recorded as 'production'"));
  EXPECT_THAT(reset.err, Not(HasSubstr("not development")));
  EXPECT_THAT(reset.err, Not(HasSubstr("not confirmed")));

  RunResult clean = dbinit({"up", "--clean", "--yes"}, development);
  EXPECT_EQ(clean.exit_code, 8) << clean.err;
  EXPECT_THAT(clean.err, HasSubstr("up --clean refused: the database is recorded as 'production'"));

  std::map<std::string, std::string> recreate = development;
  recreate["DBINIT_FORCE_RECREATE"] = "1";
  recreate["DBINIT_YES"] = "1";
  RunResult force = dbinit({"up"}, recreate);
  EXPECT_EQ(force.exit_code, 8) << force.err;
  EXPECT_THAT(force.err, HasSubstr("recorded as 'production'"));

  // And in production itself: refused because the environment is not development.
  RunResult local = dbinit({"reset", "--yes"}, {{"DBINIT_ENV", "production"}});
  EXPECT_EQ(local.exit_code, 8) << local.err;
  EXPECT_THAT(local.err, HasSubstr("the environment is 'production', not development"));

  EXPECT_EQ(db().fingerprint(), before);
}

TEST_F(LifecycleTest, UpCleanAndTheCleanVariablesResetFirstBehindTheSameGuard) {
  table_migration("0001-a.sql", "a");
  up_ok();
  auto dirty = [&] {
    db().query("INSERT INTO a (id) VALUES (1)");
    ASSERT_EQ(count("a"), "1");
  };
  const std::map<std::string, std::string> development = {{"DBINIT_ENV", "development"}};

  dirty();
  RunResult clean = dbinit({"up", "--clean", "--yes"}, development);
  ASSERT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_THAT(clean.err, HasSubstr("dropped the database and created it again"));
  EXPECT_EQ(count("a"), "0");
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));

  dirty();
  RunResult variable =
      dbinit({"up"}, {{"DBINIT_ENV", "development"}, {"DBINIT_CLEAN", "1"}, {"DBINIT_YES", "1"}});
  ASSERT_EQ(variable.exit_code, 0) << variable.err;
  EXPECT_EQ(count("a"), "0");

  dirty();
  RunResult recreate =
      dbinit({"up", "--yes"}, {{"DBINIT_ENV", "development"}, {"DBINIT_FORCE_RECREATE", "1"}});
  ASSERT_EQ(recreate.exit_code, 0) << recreate.err;
  EXPECT_EQ(count("a"), "0");
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));

  // The same refusals as reset, each naming the condition that failed and how it was asked for.
  dirty();
  const std::string before = db().fingerprint();
  RunResult unconfirmed = dbinit({"up", "--clean"}, development);
  EXPECT_EQ(unconfirmed.exit_code, 8) << unconfirmed.err;
  EXPECT_THAT(unconfirmed.err, HasSubstr("up --clean refused: it was not confirmed"));

  RunResult not_development = dbinit({"up", "--yes"}, {{"DBINIT_CLEAN", "1"}});
  EXPECT_EQ(not_development.exit_code, 8) << not_development.err;
  EXPECT_THAT(not_development.err,
              HasSubstr("up with DBINIT_CLEAN=1 refused: the environment is not set, not "
                        "development"));

  RunResult production =
      dbinit({"up", "--yes"}, {{"DBINIT_ENV", "production"}, {"DBINIT_FORCE_RECREATE", "1"}});
  EXPECT_EQ(production.exit_code, 8) << production.err;
  EXPECT_THAT(production.err,
              HasSubstr("up with DBINIT_FORCE_RECREATE=1 refused: the environment is "
                        "'production', not development"));
  EXPECT_EQ(db().fingerprint(), before);
}

}  // namespace
}  // namespace dbinit::test
