// Which database, which engine and which folder a command works on, end to end on the engine under
// test: a service's own url against the environment's, verify's scratch engine, a migrations folder
// that does not exist, golang-migrate's empty down files, and the validation of configuration
// values before anything is created.

#include <gmock/gmock.h>

#include <nlohmann/json.hpp>

#include "integration/cli_fixture.h"

namespace dbinit::test {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

class ConfigTest : public CliTest {
 protected:
  /// Runs dbinit in the project with exactly `env` (no DBINIT_URL unless given).
  RunResult run_in_project(const std::vector<std::string>& args,
                           std::map<std::string, std::string> env = {}) {
    RunOptions options;
    options.cwd = project().path();
    options.env = std::move(env);
    if (!options.env.contains("TMPDIR")) {
      fs::create_directories(project().path() / "tmp");
      options.env["TMPDIR"] = (project().path() / "tmp").string();
    }
    return run_dbinit(args, options);
  }

  bool project_has(const std::string& file) const { return fs::exists(project().path() / file); }

  /// Two services, each with its own url and folder: alpha creates a_things, beta b_things.
  void two_services() {
    project().write("dbinit.toml",
                    "[services.alpha]\n"
                    "url = \"${ALPHA_URL}\"\n"
                    "dir = \"alpha\"\n"
                    "\n"
                    "[services.beta]\n"
                    "url = \"${BETA_URL}\"\n"
                    "dir = \"beta\"\n");
    project().write("alpha/1_a.sql", "CREATE TABLE a_things (id INTEGER);\n");
    project().write("beta/1_b.sql", "CREATE TABLE b_things (id INTEGER);\n");
  }
};

// --- which database ----------------------------------------------------------------------------

TEST_F(ConfigTest, AServicesOwnUrlWinsOverTheEnvironmentWithServiceAndWithAll) {
  auto alpha = make_test_database(engine());
  auto beta = make_test_database(engine());
  two_services();
  for (const char* variable : {"DATABASE_URL", "DBINIT_URL"}) {
    SCOPED_TRACE(variable);
    auto alpha_db = make_test_database(engine());
    auto beta_db = make_test_database(engine());
    const std::map<std::string, std::string> env = {
        {variable, db().url()}, {"ALPHA_URL", alpha_db->url()}, {"BETA_URL", beta_db->url()}};

    RunResult one = run_in_project({"up", "--service", "beta"}, env);
    ASSERT_EQ(one.exit_code, 0) << one.err;
    EXPECT_EQ(beta_db->tables(), std::vector<std::string>{"b_things"});
    EXPECT_FALSE(db().exists()) << "the environment's database was used for service beta";
    EXPECT_FALSE(alpha_db->exists());

    RunResult all = run_in_project({"up", "--all", "--jobs", "1"}, env);
    ASSERT_EQ(all.exit_code, 0) << all.err;
    EXPECT_EQ(alpha_db->tables(), std::vector<std::string>{"a_things"});
    EXPECT_EQ(beta_db->tables(), std::vector<std::string>{"b_things"});
    EXPECT_FALSE(db().exists());

    // status agrees with up on both paths.
    RunResult status = run_in_project({"status", "--service", "alpha", "--json"}, env);
    ASSERT_EQ(status.exit_code, 0) << status.err;
    EXPECT_EQ(nlohmann::json::parse(status.out)["version"], "1");
  }

  // --url on the command line is explicit and still wins for the one service it is given to.
  RunResult flag = run_in_project({"up", "--service", "beta", "--url", db().url()},
                                  {{"ALPHA_URL", alpha->url()}, {"BETA_URL", beta->url()}});
  ASSERT_EQ(flag.exit_code, 0) << flag.err;
  EXPECT_EQ(db().query("SELECT name FROM dbinit_migrations"), (Rows{{"1_b.sql"}}));
  EXPECT_FALSE(beta->exists());
  // ...but one --url for every service of --all would put them all in one database.
  RunResult all_url = run_in_project({"up", "--all", "--url", alpha->url()},
                                     {{"ALPHA_URL", alpha->url()}, {"BETA_URL", beta->url()}});
  EXPECT_EQ(all_url.exit_code, 2) << all_url.err;
  EXPECT_THAT(all_url.err, HasSubstr("--all and --url exclude each other"));
  EXPECT_FALSE(alpha->exists());

  // A service without a url of its own takes the environment's.
  project().write("dbinit.toml", "[services.alpha]\ndir = \"alpha\"\n");
  RunResult inherited =
      run_in_project({"up", "--service", "alpha"}, {{"DATABASE_URL", alpha->url()}});
  ASSERT_EQ(inherited.exit_code, 0) << inherited.err;
  EXPECT_EQ(alpha->tables(), std::vector<std::string>{"a_things"});
}

TEST_F(ConfigTest, DriftNamesTheLedgersFileAndTheCurrentFile) {
  two_services();
  auto alpha = make_test_database(engine());
  RunResult first = run_in_project({"up", "--service", "alpha"},
                                   {{"ALPHA_URL", alpha->url()}, {"BETA_URL", "sqlite:x.db"}});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string before = alpha->fingerprint();
  // beta's folder against alpha's database: version 1 is 1_a.sql in the ledger, 1_b.sql on disk.
  RunResult drift = run_in_project({"up", "--dir", "beta", "--url", alpha->url()});
  EXPECT_EQ(drift.exit_code, 3) << drift.err;
  EXPECT_THAT(drift.err, HasSubstr("version 1 was applied as 1_a.sql"));
  EXPECT_THAT(drift.err, HasSubstr("beta/1_b.sql"));
  EXPECT_THAT(drift.err, Not(HasSubstr("migration 1_b.sql was changed")));
  EXPECT_THAT(drift.err, HasSubstr("nothing was changed"));
  EXPECT_EQ(alpha->fingerprint(), before);

  // The same file edited: the one name is given once.
  project().write("alpha/1_a.sql", "CREATE TABLE a_things (id INTEGER, x INTEGER);\n");
  RunResult edited = run_in_project({"up", "--service", "alpha"},
                                    {{"ALPHA_URL", alpha->url()}, {"BETA_URL", "sqlite:x.db"}});
  EXPECT_EQ(edited.exit_code, 3) << edited.err;
  EXPECT_THAT(edited.err, HasSubstr("migration 1_a.sql was changed after it was applied"));
}

TEST_F(ConfigTest, ServicesWithoutATopLevelUrlNeedServiceOrAll) {
  two_services();
  project().write("dbinit.toml", read_file(project().path() / "dbinit.toml") +
                                     "\n[hooks]\nafter_up = [['touch', 'hook-ran']]\n");
  RunResult result = run_in_project({"up"});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_THAT(result.err, HasSubstr("dbinit.toml declares services (alpha, beta)"));
  EXPECT_THAT(result.err, HasSubstr("--service NAME"));
  EXPECT_THAT(result.err, HasSubstr("--all"));
  EXPECT_FALSE(project_has("db/dev.sqlite3"));
  EXPECT_FALSE(project_has("db"));
  EXPECT_FALSE(project_has("hook-ran"));
}

// --- which folder ------------------------------------------------------------------------------

TEST_F(ConfigTest, AMissingMigrationsFolderIsAnErrorAndAnEmptyOneIsFine) {
  RunResult up = dbinit({"up"});
  EXPECT_EQ(up.exit_code, 2) << up.err;
  EXPECT_THAT(up.err, HasSubstr("migrations folder db/migrations does not exist"));
  EXPECT_THAT(up.err, HasSubstr("the default"));
  EXPECT_FALSE(db().exists());

  RunResult check = dbinit({"check"});
  EXPECT_EQ(check.exit_code, 2) << check.err;
  EXPECT_THAT(check.err, HasSubstr("db/migrations does not exist"));

  RunResult flag = dbinit({"up", "--dir", "migrashuns"});
  EXPECT_EQ(flag.exit_code, 2) << flag.err;
  EXPECT_THAT(flag.err, HasSubstr("migrations folder migrashuns does not exist (from --dir)"));
  RunResult env = dbinit({"status"}, {{"DBINIT_DIR", "sql"}});
  EXPECT_EQ(env.exit_code, 2) << env.err;
  EXPECT_THAT(env.err, HasSubstr("migrations folder sql does not exist (from DBINIT_DIR)"));
  project().write("dbinit.toml", "\ndir = \"schema/migrations\"\n");
  RunResult toml = dbinit({"up"});
  EXPECT_EQ(toml.exit_code, 2) << toml.err;
  EXPECT_THAT(toml.err, HasSubstr("schema/migrations does not exist (from dir in dbinit.toml:2)"));
  for (const char* command : {"down", "baseline", "verify"}) {
    RunResult other = dbinit({command});
    EXPECT_EQ(other.exit_code, 2) << command << ": " << other.err;
    EXPECT_THAT(other.err, HasSubstr("schema/migrations does not exist")) << command;
  }
  EXPECT_FALSE(db().exists());

  // An existing, empty folder says "no migrations yet".
  fs::create_directories(project().path() / "schema/migrations");
  RunResult empty = dbinit({"up"});
  EXPECT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_THAT(empty.err, HasSubstr("up to date at no version"));
  RunResult empty_check = dbinit({"check"});
  EXPECT_EQ(empty_check.exit_code, 0) << empty_check.err;
}

// --- which engine verify uses ------------------------------------------------------------------

TEST_F(ConfigTest, VerifyUsesTheEngineOfTheResolvedUrl) {
  // PostgreSQL only: an enum type (neither SQLite nor MariaDB has CREATE TYPE).
  migration("0001-mood.sql",
            "-- dbinit:up\nCREATE TYPE mood AS ENUM ('ok', 'sad');\n"
            "-- dbinit:down\nDROP TYPE mood;\n");
  auto expect_on_engine = [&](const RunResult& result) {
    EXPECT_THAT(result.out, HasSubstr(engine() + " (scratch database "));
    if (engine() == "postgres") {
      EXPECT_EQ(result.exit_code, 0) << result.err;
      EXPECT_THAT(result.out, HasSubstr("1 migration, every down restores the schema"));
      EXPECT_THAT(result.err, HasSubstr("verified on 1 engine"));
    } else {
      EXPECT_EQ(result.exit_code, 1) << result.err;
      EXPECT_THAT(result.out, HasSubstr("0001-mood.sql: up failed"));
      EXPECT_THAT(result.err, HasSubstr("verify found 1 problem (on " + engine() + ")"));
    }
    if (engine() != "sqlite") {
      EXPECT_THAT(result.out, Not(HasSubstr("sqlite")));
    }
  };
  {
    SCOPED_TRACE("DATABASE_URL");
    expect_on_engine(run_in_project({"verify"}, {{"DATABASE_URL", db().url()}}));
  }
  {
    SCOPED_TRACE("DBINIT_URL");
    expect_on_engine(run_in_project({"verify"}, {{"DBINIT_URL", db().url()}}));
  }
  {
    SCOPED_TRACE("dbinit.toml url");
    project().write("dbinit.toml", "url = \"${TEST_URL}\"\n");
    expect_on_engine(run_in_project({"verify"}, {{"TEST_URL", db().url()}}));
    fs::remove(project().path() / "dbinit.toml");
  }
  // The project's database itself is never created or touched.
  EXPECT_FALSE(db().exists());

  // --engines still says otherwise: sqlite is a temporary SQLite file, whatever the URL.
  RunResult sqlite =
      run_in_project({"verify", "--engines", "sqlite"}, {{"DATABASE_URL", db().url()}});
  EXPECT_EQ(sqlite.exit_code, 1) << sqlite.err;
  EXPECT_THAT(sqlite.out, HasSubstr("sqlite (scratch database "));
  EXPECT_THAT(sqlite.err, HasSubstr("verify found 1 problem (on sqlite)"));

  // A server that cannot be reached is an error that says where verify went and what else to do.
  RunResult unreachable =
      run_in_project({"verify"}, {{"DATABASE_URL", "postgres://app:s3cret@127.0.0.1:1/app"}});
  EXPECT_EQ(unreachable.exit_code, 6) << unreachable.err;
  EXPECT_THAT(unreachable.err, HasSubstr("server of the database URL (DATABASE_URL)"));
  EXPECT_THAT(unreachable.err, HasSubstr("--engines sqlite"));
  EXPECT_THAT(unreachable.err, Not(HasSubstr("s3cret")));
}

// --- golang-migrate's empty down files ---------------------------------------------------------

TEST_F(ConfigTest, AnEmptyDownFileIsANoOpRollbackAndAMissingOneIsNoDown) {
  migration("0001_create_a.up.sql", "CREATE TABLE a (id INTEGER);\n");
  migration("0001_create_a.down.sql", "DROP TABLE a;\n");
  migration("0002_fill_a.up.sql", "INSERT INTO a (id) VALUES (1);\n");
  migration("0002_fill_a.down.sql", "");
  migration("0003_more_a.up.sql", "INSERT INTO a (id) VALUES (2);\n");
  migration("0003_more_a.down.sql", "\n  -- nothing to undo\n\n");
  up_ok();
  // '' for the empty files, distinct from NULL (no down SQL at all).
  EXPECT_EQ(db().query("SELECT version, COALESCE(down_sql, '<NULL>') FROM dbinit_migrations "
                       "ORDER BY version"),
            (Rows{{"1", "DROP TABLE a;\n"}, {"2", ""}, {"3", ""}}));

  RunResult down = dbinit({"down", "--steps", "2"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_THAT(down.err, HasSubstr("rolled back 0003_more_a.up.sql"));
  EXPECT_THAT(down.err, HasSubstr("rolled back 0002_fill_a.up.sql"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
  EXPECT_EQ(count("a"), "2");  // the no-op downs left the rows

  // Gone from disk, the ledger's '' still rolls back as a no-op.
  up_ok();
  fs::remove(project().path() / "db/migrations/0003_more_a.up.sql");
  fs::remove(project().path() / "db/migrations/0003_more_a.down.sql");
  RunResult from_ledger = dbinit({"down"});
  ASSERT_EQ(from_ledger.exit_code, 0) << from_ledger.err;
  EXPECT_THAT(from_ledger.err, HasSubstr("rolled back 0003_more_a.up.sql"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));

  // No down file at all is still "no down"; so is dbinit's own empty down section.
  migration("0004_no_down.up.sql", "CREATE TABLE d (id INTEGER);\n");
  migration("0005-marker.sql", "-- dbinit:up\nCREATE TABLE e (id INTEGER);\n-- dbinit:down\n\n");
  up_ok();
  EXPECT_EQ(db().query("SELECT COUNT(*) FROM dbinit_migrations WHERE down_sql IS NULL"),
            (Rows{{"2"}}));
  const std::string before = db().fingerprint();
  RunResult refused = dbinit({"down", "--steps", "2"});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("cannot roll back 0005-marker.sql, 0004_no_down.up.sql: no "
                                     "down SQL"));
  EXPECT_THAT(refused.err, HasSubstr("nothing was changed"));
  EXPECT_EQ(db().fingerprint(), before);
}

TEST_F(ConfigTest, ARefusedRollbackNamesTheFirstFewAndCountsTheRest) {
  for (int i = 1; i <= 40; ++i) {
    const std::string number = std::to_string(i);
    migration(std::string(4 - number.size(), '0') + number + "_t.sql",
              "CREATE TABLE t" + std::to_string(i) + " (id INTEGER);\n");
  }
  up_ok();
  const std::string before = db().fingerprint();
  RunResult refused = dbinit({"down", "--to", "0"});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_THAT(refused.err,
              HasSubstr("cannot roll back 0040_t.sql, 0039_t.sql, 0038_t.sql and 37 more: no "
                        "down SQL"));
  EXPECT_THAT(refused.err, Not(HasSubstr("0037_t.sql")));
  EXPECT_EQ(db().fingerprint(), before);
}

// --- values checked before anything is created ------------------------------------------------

/// The names in the project folder, to show that a refused run created nothing.
std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> out;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(dir)) {
    out.push_back(fs::relative(entry.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(ConfigTest, AUrlFileMustHoldOneUrl) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  project().write("two-lines", "sqlite:a.db\nsqlite:b.db\n");
  project().write("empty", "\n  \n");
  fs::create_directories(project().path() / "folder");
  const std::vector<std::string> before = listing(project().path());
  struct Case {
    std::string file;
    std::string message;
  };
  for (const Case& c : {Case{"two-lines", "DATABASE_URL_FILE names a file with 2 non-empty lines"},
                        Case{"empty", "DATABASE_URL_FILE names an empty file"},
                        Case{"folder", "DATABASE_URL_FILE names a folder, not a file"},
                        Case{"nowhere", "DATABASE_URL_FILE names a file that does not exist"}}) {
    RunResult result = run_in_project(
        {"up"}, {{"DATABASE_URL_FILE", (project().path() / c.file).string()}, {"TMPDIR", "/tmp"}});
    EXPECT_EQ(result.exit_code, 2) << c.file << ": " << result.err;
    EXPECT_THAT(result.err, HasSubstr(c.message)) << c.file;
    EXPECT_THAT(result.err, Not(HasSubstr("sqlite:b.db"))) << c.file;
  }
  EXPECT_EQ(listing(project().path()), before);

  // Surrounding whitespace and a trailing line end are fine.
  project().write("secret", "  " + db().url() + "  \r\n\n");
  RunResult ok =
      run_in_project({"up"}, {{"DATABASE_URL_FILE", (project().path() / "secret").string()}});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
}

TEST_F(ConfigTest, BadSqliteUrlsCreateNothing) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  const std::vector<std::string> before = listing(project().path());
  struct Case {
    std::string url;
    std::string message;
  };
  for (const Case& c :
       {Case{"sqlite:file:x.db?mode=ro",
             "SQLite URI file names (sqlite:file:...) are not supported"},
        Case{"sqlite:x.db?mode=ro", "unknown SQLite URL parameter 'mode'"},
        Case{"sqlite:x.db?journal_mode=fast", "journal_mode must be one of"},
        Case{"sqlite:dir/", "SQLite URL names a folder, not a database file"},
        Case{"sqlite:dir/sub/", "SQLite URL names a folder, not a database file"}}) {
    for (const char* command : {"up", "status"}) {
      RunResult result = run_in_project({command, "--url", c.url}, {{"TMPDIR", "/tmp"}});
      EXPECT_EQ(result.exit_code, 2) << c.url << ": " << result.err;
      EXPECT_THAT(result.err, HasSubstr(c.message)) << c.url;
    }
  }
  // A folder that exists is not opened as a database either.
  fs::create_directories(project().path() / "data");
  RunResult folder = run_in_project({"up", "--url", "sqlite:data"}, {{"TMPDIR", "/tmp"}});
  EXPECT_EQ(folder.exit_code, 2) << folder.err;
  EXPECT_THAT(folder.err, HasSubstr("names a folder"));
  fs::remove(project().path() / "data");
  EXPECT_EQ(listing(project().path()), before);
}

TEST_F(ConfigTest, TomlValuesAreReportedWhereTheyAreWritten) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  project().write("dbinit.toml", "url = 42\n");
  RunResult number = run_in_project({"up"});
  EXPECT_EQ(number.exit_code, 2) << number.err;
  EXPECT_THAT(number.err, HasSubstr("dbinit.toml:1: 'url' must be a string"));
  EXPECT_THAT(number.err, Not(HasSubstr("no scheme")));

  project().write("dbinit.toml", "dir = \"db/migrations\"\ntransaction = \"sometimes\"\n");
  RunResult transaction = dbinit({"up"});
  EXPECT_EQ(transaction.exit_code, 2) << transaction.err;
  EXPECT_THAT(transaction.err,
              HasSubstr("dbinit.toml:2: transaction: 'sometimes' is not all or each"));
  EXPECT_THAT(transaction.err, Not(HasSubstr("--transaction")));
  RunResult from_env = dbinit({"up"}, {{"DBINIT_TRANSACTION", "never"}});
  EXPECT_THAT(from_env.err, HasSubstr("DBINIT_TRANSACTION: 'never' is not all or each"));
  RunResult from_flag = dbinit({"up", "--transaction", "often"});
  EXPECT_THAT(from_flag.err, HasSubstr("--transaction: 'often' is not all or each"));

  project().write("dbinit.toml", "wait = \"soon\"\n");
  RunResult wait = dbinit({"up"});
  EXPECT_EQ(wait.exit_code, 2) << wait.err;
  EXPECT_THAT(wait.err, HasSubstr("dbinit.toml:1: wait: 'soon' is not a duration"));
  project().write("dbinit.toml", "wait = 0\n");
  EXPECT_EQ(dbinit({"up"}).exit_code, 0);

  project().write("dbinit.toml",
                  "dri = \"db/migrations\"\nurll = \"x\"\n[services.api]\nseed = \"s\"\n");
  RunResult unknown = dbinit({"up"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("3 unknown settings: 'dri' (line 1), 'urll' (line 2), "
                                     "'services.api.seed' (line 4)"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
}

// --- new -----------------------------------------------------------------------------------------

TEST_F(ConfigTest, NewFollowsTheProjectsNamingAndFormat) {
  auto new_in = [&](const std::string& dir, const std::string& description) {
    RunResult result = dbinit({"new", "--dir", dir, description});
    EXPECT_EQ(result.exit_code, 0) << dir << ": " << result.err;
    return result.out;
  };
  // golang-migrate, 20 digits: a pair, both empty, with a 20-digit UTC timestamp.
  project().write("gm/20240830120000000000_init.up.sql", "CREATE TABLE a (id INTEGER);\n");
  project().write("gm/20240830120000000000_init.down.sql", "DROP TABLE a;\n");
  const std::string pair = new_in("gm", "add orders");
  const std::string up_file = pair.substr(0, pair.find('\n'));
  EXPECT_THAT(up_file, ::testing::MatchesRegex("gm/20[0-9]{18}_add_orders.up.sql"));
  EXPECT_EQ(pair, up_file + "\n" + up_file.substr(0, up_file.size() - 7) + ".down.sql\n");
  for (const fs::directory_entry& entry : fs::directory_iterator(project().path() / "gm")) {
    if (entry.path().filename().string().find("add_orders") != std::string::npos) {
      EXPECT_EQ(read_file(entry.path()), "") << entry.path();
    }
  }
  // 14 digits and hyphens.
  project().write("ts/20240101000000-create-users.sql", "SELECT 1;\n");
  EXPECT_THAT(new_in("ts", "Add orders"),
              ::testing::MatchesRegex("ts/20[0-9]{12}-add-orders.sql\n"));
  // Sequences: hyphens beside hyphens, underscores beside underscores.
  project().write("hy/0001-create-users.sql", "SELECT 1;\n");
  project().write("hy/0002-add-index.sql", "SELECT 1;\n");
  EXPECT_EQ(new_in("hy", "add orders"), "hy/0003-add-orders.sql\n");
  project().write("us/001_create_users.sql", "SELECT 1;\n");
  EXPECT_EQ(new_in("us", "add orders"), "us/002_add_orders.sql\n");
  // dbmate markers beside dbmate files.
  project().write(
      "dm/20240101000000_init.sql",
      "-- migrate:up\nCREATE TABLE a (id INTEGER);\n\n-- migrate:down\nDROP TABLE a;\n");
  const std::string dbmate = new_in("dm", "more");
  ASSERT_THAT(dbmate, ::testing::MatchesRegex("dm/20[0-9]{12}_more.sql\n"));
  const std::string text = read_file(project().path() / dbmate.substr(0, dbmate.size() - 1));
  EXPECT_THAT(text, HasSubstr("-- migrate:up"));
  EXPECT_THAT(text, HasSubstr("-- migrate:down"));
  EXPECT_THAT(text, Not(HasSubstr("dbinit:")));

  // A long description is cut at a word boundary.
  std::string words;
  while (words.size() < 300) words += "remove the legacy column ";
  const std::string long_name = new_in("hy", words);
  ASSERT_THAT(long_name, ::testing::StartsWith("hy/0004-remove-the-legacy-column-"));
  const std::string slug = long_name.substr(8, long_name.size() - 8 - 5);
  EXPECT_LE(slug.size(), 60u) << long_name;
  EXPECT_THAT(slug,
              ::testing::MatchesRegex("(remove|the|legacy|column)(-(remove|the|legacy|column))*"))
      << long_name;
  EXPECT_TRUE(fs::exists(project().path() / long_name.substr(0, long_name.size() - 1)));
}

}  // namespace
}  // namespace dbinit::test
