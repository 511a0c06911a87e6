// Seeds, after_up hooks and the services of dbinit.toml (--service, --all), end to end on the
// engine under test.

#include <gmock/gmock.h>
#include <nlohmann/json.hpp>

#include "integration/cli_fixture.h"

namespace dbinit::test {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

class SeedsHooksServicesTest : public CliTest {
 protected:
  void users_migration() {
    migration("0001-users.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));\n");
  }

  void users_seeds() {
    project().write("db/seeds/01-people.sql",
                    "INSERT INTO users (id, name) VALUES (1, 'ada');\n"
                    "INSERT INTO users (id, name) VALUES (2, 'grace');\n");
    project().write("db/seeds/02-more.sql", "INSERT INTO users (id, name) VALUES (3, 'edsger');\n");
    project().write("db/seeds/README.md", "not a seed\n");
  }

  /// Runs dbinit in the project with exactly `env` (no DBINIT_URL unless given).
  RunResult run_in_project(const std::vector<std::string>& args,
                           std::map<std::string, std::string> env) {
    RunOptions options;
    options.cwd = project().path();
    options.env = std::move(env);
    return run_dbinit(args, options);
  }

  bool project_has(const std::string& file) const { return fs::exists(project().path() / file); }
  std::string project_file(const std::string& file) const {
    return read_file(project().path() / file);
  }

  /// The password of a `scheme://user:password@host` URL, or "" when it has none.
  static std::string password_of(const std::string& url) {
    const std::size_t scheme = url.find("://");
    if (scheme == std::string::npos) return "";
    const std::size_t at = url.find('@', scheme);
    const std::size_t colon = url.find(':', scheme + 3);
    if (at == std::string::npos || colon == std::string::npos || colon > at) return "";
    return url.substr(colon + 1, at - colon - 1);
  }

  static int occurrences(const std::string& text, const std::string& needle) {
    int n = 0;
    for (std::size_t pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos + 1)) {
      ++n;
    }
    return n;
  }
};

// --- seeds ---------------------------------------------------------------------------------

TEST_F(SeedsHooksServicesTest, SeedsAreAppliedOnceWhenUpFindsTheDatabaseEmpty) {
  users_migration();
  users_seeds();
  RunResult first = up_ok();
  EXPECT_EQ(count("users"), "3");
  EXPECT_THAT(first.err, HasSubstr("applied seed db/seeds/01-people.sql ("));
  EXPECT_LT(first.err.find("applied seed db/seeds/01-people.sql"),
            first.err.find("applied seed db/seeds/02-more.sql"));
  // Seeds run after the migrations that create their tables.
  EXPECT_LT(first.err.find("applied 0001-users.sql"), first.err.find("applied seed"));
  EXPECT_THAT(first.err, HasSubstr("applied 2 seed files"));
  EXPECT_THAT(first.err, Not(HasSubstr("README")));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));

  // The database was not empty at the second start: no seeds, even with a new migration to apply.
  migration("0002-notes.sql", "CREATE TABLE notes (id INTEGER);\n");
  RunResult second = up_ok();
  EXPECT_THAT(second.err, Not(HasSubstr("applied seed")));
  EXPECT_EQ(count("users"), "3");
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));
  RunResult third = up_ok();
  EXPECT_THAT(third.err, HasSubstr("up to date at version 2"));
  EXPECT_EQ(count("users"), "3");
}

TEST_F(SeedsHooksServicesTest, SeedCommandAppliesTheSeedsOnDemand) {
  users_migration();
  up_ok();
  users_seeds();
  up_ok();
  EXPECT_EQ(count("users"), "0");

  RunResult seed = dbinit({"seed"});
  ASSERT_EQ(seed.exit_code, 0) << seed.err;
  EXPECT_THAT(seed.err, HasSubstr("applied seed db/seeds/01-people.sql"));
  EXPECT_THAT(seed.err, HasSubstr("applied 2 seed files in"));
  EXPECT_EQ(db().query("SELECT id, name FROM users ORDER BY id"),
            (Rows{{"1", "ada"}, {"2", "grace"}, {"3", "edsger"}}));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));

  // A seed that fails leaves the data as it was (seeds are DML: rolled back on every engine).
  project().write("db/seeds/03-bad.sql", "INSERT INTO users (id, name) VALUES (4, 'barbara');\n" +
                                             failing_statement() + "\n");
  db().query("DELETE FROM users");
  RunResult bad = dbinit({"seed"});
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("db/seeds/03-bad.sql line 2"));
  EXPECT_THAT(bad.err, HasSubstr("nothing was changed (the seeds were rolled back)"));
  EXPECT_EQ(count("users"), "0");

  // A database that does not exist is not created by `seed`.
  auto missing = make_test_database(engine());
  RunResult none = dbinit({"seed"}, {{"DBINIT_URL", missing->url()}});
  EXPECT_EQ(none.exit_code, 1) << none.err;
  EXPECT_THAT(none.err, HasSubstr("the database does not exist"));
  EXPECT_FALSE(missing->exists());
}

TEST_F(SeedsHooksServicesTest, SkipSeedFlagAndVariableLeaveAnEmptyDatabaseUnseeded) {
  users_migration();
  users_seeds();
  RunResult flag = up_ok({"--skip-seed"});
  EXPECT_THAT(flag.err, Not(HasSubstr("applied seed")));
  EXPECT_EQ(count("users"), "0");
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));

  auto by_variable = make_test_database(engine());
  RunResult variable =
      dbinit({"up"}, {{"DBINIT_URL", by_variable->url()}, {"DBINIT_SKIP_SEED", "1"}});
  ASSERT_EQ(variable.exit_code, 0) << variable.err;
  EXPECT_EQ(by_variable->query("SELECT COUNT(*) FROM users").at(0).at(0), "0");

  auto switched_off = make_test_database(engine());
  RunResult off = dbinit({"up"}, {{"DBINIT_URL", switched_off->url()}, {"DBINIT_SKIP_SEED", "0"}});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(switched_off->query("SELECT COUNT(*) FROM users").at(0).at(0), "3");
}

TEST_F(SeedsHooksServicesTest, SeedsAreWithheldFromProduction) {
  users_migration();
  users_seeds();
  RunResult up = dbinit({"up"}, {{"DBINIT_ENV", "production"}});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_THAT(up.err, HasSubstr("warning: the seeds in db/seeds were not applied"));
  EXPECT_EQ(count("users"), "0");
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));

  // The database remembers it is production, even when the local environment is not set.
  RunResult refused = dbinit({"seed"});
  EXPECT_EQ(refused.exit_code, 8) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("seed refused: the database is recorded as 'production'"));
  EXPECT_EQ(count("users"), "0");

  RunResult confirmed = dbinit({"seed", "--yes"});
  ASSERT_EQ(confirmed.exit_code, 0) << confirmed.err;
  EXPECT_EQ(count("users"), "3");
}

TEST_F(SeedsHooksServicesTest, AFailingSeedFailsTheFirstUp) {
  users_migration();
  project().write("db/seeds/01-bad.sql",
                  "INSERT INTO users (id, name) VALUES (1, 'ada');\n" + failing_statement() + "\n");
  RunResult result = dbinit({"up"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("db/seeds/01-bad.sql line 2"));
  EXPECT_THAT(result.err, HasSubstr("no_such_table"));
  if (transactional()) {
    // Migrations and seeds are one transaction.
    EXPECT_THAT(result.err,
                HasSubstr("the database was created and is still empty (the run was rolled back)"));
    EXPECT_TRUE(db().tables().empty());
  } else {
    // MySQL: the migration's DDL committed; the seeds (DML) were rolled back.
    EXPECT_THAT(result.err, HasSubstr("the seeds were rolled back"));
    EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
    EXPECT_EQ(count("users"), "0");
  }
}

// --- hooks ---------------------------------------------------------------------------------

TEST_F(SeedsHooksServicesTest, AfterUpHooksRunAsArgvListsWithTheDatabaseUrl) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  project().write("dbinit.toml",
                  "[hooks]\n"
                  "after_up = [\n"
                  "  ['sh', '-c', 'printf %s \"$DATABASE_URL\" > hook-url.txt; "
                  "printf %s \"$DBINIT_VERSION\" > hook-version.txt'],\n"
                  "  ['sh', '-c', 'printf \"%s|\" \"$@\" > hook-args.txt', 'sh', 'two words', "
                  "'$HOME', '*', ';'],\n"
                  "]\n");
  RunResult first = up_ok();
  EXPECT_EQ(project_file("hook-url.txt"), db().url());
  EXPECT_EQ(project_file("hook-version.txt"), "1");
  // No shell between dbinit and the hook: every word arrives as it was written.
  EXPECT_EQ(project_file("hook-args.txt"), "two words|$HOME|*|;|");
  EXPECT_THAT(first.err, HasSubstr("running after_up hook `sh -c"));
  // The hooks run after the migrations.
  EXPECT_LT(first.err.find("applied 0001-a.sql"), first.err.find("running after_up hook"));
  const std::string password = password_of(db().url());
  if (!password.empty()) {
    EXPECT_THAT(first.err, Not(HasSubstr(password)));
  }

  // After every up that succeeds, also when there was nothing to apply.
  fs::remove(project().path() / "hook-url.txt");
  up_ok();
  EXPECT_TRUE(project_has("hook-url.txt"));

  // Not after a dry run.
  fs::remove(project().path() / "hook-url.txt");
  up_ok({"--dry-run"});
  EXPECT_FALSE(project_has("hook-url.txt"));
}

TEST_F(SeedsHooksServicesTest, SkipHooksFlagAndVariableLeaveTheHooksOut) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  project().write("dbinit.toml", "hooks.after_up = [['touch', 'hook-ran']]\n");

  RunResult flag = up_ok({"--skip-hooks"});
  EXPECT_FALSE(project_has("hook-ran"));
  EXPECT_THAT(flag.err, Not(HasSubstr("after_up hook")));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));

  RunResult variable = dbinit({"up"}, {{"DBINIT_SKIP_HOOKS", "1"}});
  ASSERT_EQ(variable.exit_code, 0) << variable.err;
  EXPECT_FALSE(project_has("hook-ran"));

  up_ok();
  EXPECT_TRUE(project_has("hook-ran"));
}

TEST_F(SeedsHooksServicesTest, AFailingHookFailsTheUpButKeepsTheMigrations) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  project().write("dbinit.toml",
                  "[hooks]\nafter_up = [['sh', '-c', 'exit 3'], ['touch', 'second-hook-ran']]\n");
  RunResult result = dbinit({"up"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("after_up hook `sh -c 'exit 3'` failed with exit code 3"));
  EXPECT_THAT(result.err,
              HasSubstr("the database is at version 1, committed; only the hook failed"));
  EXPECT_FALSE(project_has("second-hook-ran"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
  EXPECT_EQ(db().tables(), std::vector<std::string>{"a"});

  // `run` does not start its command when a hook failed.
  RunResult run = dbinit({"run", "--", "touch", (project().path() / "started").string()});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_FALSE(project_has("started"));

  project().write("dbinit.toml", "[hooks]\nafter_up = [['/nonexistent/hook']]\n");
  RunResult missing = dbinit({"up"});
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
  EXPECT_THAT(missing.err, HasSubstr("after_up hook `/nonexistent/hook` cannot start"));

  project().write("dbinit.toml", "[hooks]\nafter_up = ['not a list']\n");
  RunResult bad = dbinit({"up"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("dbinit.toml:2"));
  EXPECT_THAT(bad.err, HasSubstr("a command must be a non-empty list of strings"));
}

// --- services --------------------------------------------------------------------------------

TEST_F(SeedsHooksServicesTest, EveryServiceDumpsAndLoadsItsOwnSnapshots) {
  auto api = make_test_database(engine());
  auto billing = make_test_database(engine());
  project().write("dbinit.toml",
                  "[services.api]\nurl = \"${API_URL}\"\ndir = \"api\"\n\n"
                  "[services.billing]\nurl = \"${BILLING_URL}\"\ndir = \"billing\"\n");
  project().write("api/0001-things.sql", "CREATE TABLE things (id INTEGER);\n");
  project().write("billing/0001-invoices.sql", "CREATE TABLE invoices (id INTEGER);\n");
  const std::map<std::string, std::string> env = {
      {"API_URL", api->url()}, {"BILLING_URL", billing->url()}, {"DBINIT_ENV", "development"}};
  ASSERT_EQ(run_in_project({"up", "--all"}, env).exit_code, 0);
  billing->query("INSERT INTO invoices (id) VALUES (7)");

  RunResult dumped = run_in_project({"dump", "--all", "--name", "s"}, env);
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  // Each service in a folder of its own under the backups folder.
  EXPECT_TRUE(std::filesystem::exists(project().path() / "db/backups/api/s/manifest.json"));
  EXPECT_TRUE(std::filesystem::exists(project().path() / "db/backups/billing/s/manifest.json"));
  RunResult listed = run_in_project({"backups", "--service", "billing", "--json"}, env);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const nlohmann::json document = nlohmann::json::parse(listed.out);
  ASSERT_EQ(document.at("snapshots").size(), 1u);
  EXPECT_EQ(document.at("snapshots")[0].at("status"), "ok");

  billing->query("DELETE FROM invoices");
  RunResult loaded = run_in_project({"load", "s", "--all", "--yes"}, env);
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  EXPECT_EQ(billing->query("SELECT COUNT(*) FROM invoices").at(0).at(0), "1");
  EXPECT_EQ(api->tables(), std::vector<std::string>{"things"});
}

TEST_F(SeedsHooksServicesTest, ServicePicksItsOwnUrlFoldersAndSubstitutesVariables) {
  auto api = make_test_database(engine());
  auto billing = make_test_database(engine());
  project().write("dbinit.toml",
                  "[services.api]\n"
                  "url = \"${API_URL}\"\n"
                  "dir = \"${API_DIR}/migrations\"\n"
                  "\n"
                  "[services.billing]\n"
                  "url = \"${BILLING_URL}\"\n"
                  "dir = \"billing/migrations\"\n"
                  "seeds = \"billing/seeds\"\n");
  project().write("api/migrations/0001-things.sql", "CREATE TABLE things (id INTEGER);\n");
  project().write("billing/migrations/0001-invoices.sql", "CREATE TABLE invoices (id INTEGER);\n");
  project().write("billing/seeds/01-invoices.sql", "INSERT INTO invoices (id) VALUES (1);\n");
  const std::map<std::string, std::string> env = {
      {"API_URL", api->url()}, {"API_DIR", "api"}, {"BILLING_URL", billing->url()}};

  RunResult up_api = run_in_project({"up", "--service", "api"}, env);
  ASSERT_EQ(up_api.exit_code, 0) << up_api.err;
  EXPECT_EQ(api->tables(), std::vector<std::string>{"things"});
  EXPECT_FALSE(billing->exists());

  RunResult up_billing = run_in_project({"up", "--service", "billing"}, env);
  ASSERT_EQ(up_billing.exit_code, 0) << up_billing.err;
  EXPECT_EQ(billing->tables(), std::vector<std::string>{"invoices"});
  EXPECT_EQ(billing->query("SELECT COUNT(*) FROM invoices").at(0).at(0), "1");
  EXPECT_EQ(api->tables(), std::vector<std::string>{"things"});

  RunResult unknown = run_in_project({"up", "--service", "nope"}, env);
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("no service 'nope'"));
  EXPECT_THAT(unknown.err, HasSubstr("known services: api, billing"));

  // An unset variable is an error that names it and where it is used.
  RunResult unset = run_in_project({"status", "--service", "billing"}, {{"API_URL", api->url()}});
  EXPECT_EQ(unset.exit_code, 2) << unset.err;
  EXPECT_THAT(unset.err, HasSubstr("${BILLING_URL} is not set in the environment"));
  EXPECT_THAT(unset.err, HasSubstr("dbinit.toml:6"));
}

TEST_F(SeedsHooksServicesTest, AllRunsEveryServiceInParallelWithOneSummaryLineEach) {
  auto a = make_test_database(engine());
  auto b = make_test_database(engine());
  auto c = make_test_database(engine());
  // a's and b's hooks each wait for the other's: they pass only when both run at the same time.
  auto rendezvous = [](const std::string& mine, const std::string& theirs) {
    return "hooks.after_up = [['sh', '-c', 'touch " + mine + ".ready; n=0; while [ ! -e " + theirs +
           ".ready ]; do n=$((n+1)); if [ $n -gt 400 ]; then exit 1; fi; sleep 0.05; done']]\n";
  };
  project().write("dbinit.toml",
                  "[services.a]\nurl = \"${A_URL}\"\ndir = \"a\"\n" + rendezvous("a", "b") +
                      "\n[services.b]\nurl = \"${B_URL}\"\ndir = \"b\"\n" + rendezvous("b", "a") +
                      "\n[services.c]\nurl = \"${C_URL}\"\ndir = \"c\"\n");
  project().write("a/0001-a.sql", "CREATE TABLE a_things (id INTEGER);\n");
  project().write("b/0001-b.sql", "CREATE TABLE b_things (id INTEGER);\n");
  project().write("c/0001-bad.sql", failing_statement() + "\n");
  // DBINIT_URL (the fixture's database) is set too: a service with its own url does not take it.
  const std::map<std::string, std::string> env = {
      {"A_URL", a->url()}, {"B_URL", b->url()}, {"C_URL", c->url()}};

  RunResult all = dbinit({"up", "--all", "--jobs", "2"}, env);
  EXPECT_EQ(all.exit_code, 1) << all.err;
  EXPECT_THAT(all.err, ContainsRegex("(^|\n)dbinit: a: database is at version 1: applied 1 "
                                     "migration"));
  EXPECT_THAT(all.err, ContainsRegex("(^|\n)dbinit: b: database is at version 1: applied 1 "
                                     "migration"));
  EXPECT_THAT(all.err, ContainsRegex("(^|\n)dbinit: c: error: [^\n]*0001-bad.sql line 1[^\n]*"
                                     "\\(exit 1\\)"));
  EXPECT_THAT(all.err, HasSubstr("dbinit: 1 of 3 services failed"));
  for (const char* name : {"a", "b", "c"}) {
    EXPECT_EQ(occurrences(all.err, std::string("\ndbinit: ") + name + ": ") +
                  (all.err.starts_with(std::string("dbinit: ") + name + ": ") ? 1 : 0),
              1)
        << name << "\n"
        << all.err;
  }
  // Each service's own lines are there too, prefixed with its name.
  EXPECT_THAT(all.err, HasSubstr("[a] dbinit: applied 0001-a.sql"));
  EXPECT_TRUE(project_has("a.ready"));
  EXPECT_TRUE(project_has("b.ready"));
  EXPECT_EQ(a->tables(), std::vector<std::string>{"a_things"});
  EXPECT_EQ(b->tables(), std::vector<std::string>{"b_things"});
  EXPECT_TRUE(c->tables().empty());
  EXPECT_FALSE(db().exists());

  // Fixed: every service succeeds, and so does the whole.
  project().write("c/0001-bad.sql", "CREATE TABLE c_things (id INTEGER);\n");
  RunResult fixed = dbinit({"up", "--all"}, env);
  EXPECT_EQ(fixed.exit_code, 0) << fixed.err;
  EXPECT_THAT(fixed.err, HasSubstr("dbinit: a: database is up to date at version 1"));
  EXPECT_THAT(fixed.err, HasSubstr("dbinit: c: database is at version 1: applied 1 migration"));
  EXPECT_THAT(fixed.err, Not(HasSubstr("failed")));
  EXPECT_EQ(c->tables(), std::vector<std::string>{"c_things"});

  RunResult status = dbinit({"status", "--all"}, env);
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.err, HasSubstr("dbinit: b: version 1: 1 applied, 0 baseline, 0 pending"));

  RunResult with_service = dbinit({"up", "--all", "--service", "a"}, env);
  EXPECT_EQ(with_service.exit_code, 2) << with_service.err;
  EXPECT_THAT(with_service.err, HasSubstr("--all and --service NAME exclude each other"));
}

TEST_F(SeedsHooksServicesTest, AllWithoutServicesIsAConfigurationError) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  project().write("dbinit.toml", "dir = \"db/migrations\"\n");
  RunResult result = dbinit({"up", "--all"});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_THAT(result.err, HasSubstr("--all: the file declares no services"));
  EXPECT_FALSE(db().exists());
}

}  // namespace
}  // namespace dbinit::test
