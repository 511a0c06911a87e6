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

}  // namespace
}  // namespace dbinit::test
