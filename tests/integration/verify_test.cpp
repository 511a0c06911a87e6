// `dbinit verify`: every migration applied, rolled back and applied again in scratch databases,
// end to end on the engine under test.

#include <gmock/gmock.h>

#include <nlohmann/json.hpp>

#include "integration/cli_fixture.h"

namespace dbinit::test {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

class VerifyTest : public CliTest {
 protected:
  void table_migration(const std::string& name, const std::string& table) {
    migration(name, "-- dbinit:up\nCREATE TABLE " + table +
                        " (id INTEGER);\n-- dbinit:down\nDROP TABLE " + table + ";\n");
  }

  /// Three migrations whose downs undo their ups exactly (data included).
  void good_set() {
    table_migration("0001-a.sql", "a");
    migration("0002-b.sql",
              "-- dbinit:up\nCREATE TABLE b (id INTEGER, name VARCHAR(50));\n"
              "INSERT INTO b (id, name) VALUES (1, 'one');\n"
              "-- dbinit:down\nDROP TABLE b;\n");
    migration("0003-data.sql",
              "-- dbinit:up\nINSERT INTO a (id) VALUES (1);\n"
              "-- dbinit:down\nDELETE FROM a WHERE id = 1;\n");
  }

  /// Runs verify with TMPDIR in the project, where the SQLite scratch databases go.
  RunResult verify(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"verify"};
    args.insert(args.end(), extra.begin(), extra.end());
    fs::create_directories(project().path() / "tmp");
    return dbinit(args, {{"TMPDIR", (project().path() / "tmp").string()}});
  }

  /// Files and folders whose name starts with dbinit_scratch in `dir`.
  static std::vector<std::string> scratch_leftovers(const fs::path& dir) {
    std::vector<std::string> out;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (name.starts_with("dbinit_scratch")) out.push_back(name);
    }
    return out;
  }

  /// True when the scratch database named by the (redacted) URL verify reported still exists.
  bool scratch_exists(const std::string& url) {
    if (url.starts_with("sqlite:")) {
      // sqlite:/path/dbinit_scratch_<pid>_<n>.sqlite3 (or a file in a scratch folder)
      return fs::exists(url.substr(url.find(':') + 1));
    }
    std::string name = url.substr(url.rfind('/') + 1);
    name = name.substr(0, name.find('?'));
    EXPECT_TRUE(name.starts_with("dbinit_scratch")) << url;
    const std::string sql =
        engine() == "postgres"
            ? "SELECT COUNT(*) FROM pg_database WHERE datname = '" + name + "'"
            : "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '" + name + "'";
    // Asked through a database of its own, so that the test's database is not created by it.
    if (!m_probe) m_probe = make_test_database(engine());
    return m_probe->query(sql).at(0).at(0) != "0";
  }

 private:
  std::unique_ptr<TestDatabase> m_probe;
};

TEST_F(VerifyTest, GoodSetPassesAndTheLiveDatabaseIsNeitherCreatedNorTouched) {
  good_set();
  // Without --engines: a scratch database on the engine (and server) of the project's URL.
  RunResult fresh = verify();
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_THAT(fresh.out, HasSubstr(engine() + " (scratch database "));
  EXPECT_THAT(fresh.out, HasSubstr("3 migrations, every down restores the schema"));
  EXPECT_THAT(fresh.err, HasSubstr("verified on 1 engine: every migration rolls back cleanly"));
  EXPECT_FALSE(db().exists());
  EXPECT_TRUE(scratch_leftovers(project().path() / "tmp").empty());

  up_ok();
  const std::string before = db().fingerprint();
  RunResult on_engine = verify({"--engines", db().url()});
  ASSERT_EQ(on_engine.exit_code, 0) << on_engine.err;
  EXPECT_THAT(on_engine.out, HasSubstr(engine() + " (scratch database "));
  EXPECT_THAT(on_engine.out, HasSubstr("3 migrations, every down restores the schema"));
  EXPECT_EQ(db().fingerprint(), before);
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}, {"3", "applied"}}));
  EXPECT_EQ(count("a"), "1");
  if (engine() == "sqlite") {
    // The scratch file went next to the database file and was removed.
    const fs::path file = db().url().substr(std::string("sqlite:").size());
    EXPECT_TRUE(scratch_leftovers(file.parent_path()).empty());
  }
}

TEST_F(VerifyTest, BrokenDownsAreEachReportedAndTheExitIsNonZero) {
  table_migration("0001-a.sql", "a");
  migration("0002-b.sql", "CREATE TABLE b (id INTEGER);\n");  // no down
  migration("0003-c.sql",
            "-- dbinit:up\nCREATE TABLE c (id INTEGER);\n"
            "-- dbinit:down\nDROP TABLE c;\nCREATE TABLE c_leftover (id INTEGER);\n");
  table_migration("0004-d.sql", "d");
  up_ok();
  db().query("INSERT INTO a (id) VALUES (5)");
  const std::string before = db().fingerprint();

  RunResult result = verify({"--engines", db().url()});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.out, HasSubstr(engine() + " (scratch database "));
  EXPECT_THAT(result.out, HasSubstr("4 migrations, 3 problems"));
  EXPECT_THAT(result.out, HasSubstr("0002-b.sql: no down section"));
  EXPECT_THAT(result.out,
              HasSubstr("0003-c.sql: after up and down the schema differs from the one before up"));
  EXPECT_THAT(result.out, ContainsRegex("\\+ [^\n]*c_leftover"));
  EXPECT_THAT(result.out,
              HasSubstr("0003-c.sql: up applied again after down gives another schema"));
  EXPECT_THAT(result.out, Not(HasSubstr("0001-a.sql:")));
  EXPECT_THAT(result.out, Not(HasSubstr("0004-d.sql:")));
  EXPECT_THAT(result.err, HasSubstr("verify found 3 problems (on " + engine() + ")"));
  EXPECT_THAT(result.err, HasSubstr("only scratch databases were used, and they were dropped"));
  // The live database is untouched.
  EXPECT_EQ(db().fingerprint(), before);
  EXPECT_EQ(ledger(),
            (Ledger{{"1", "applied"}, {"2", "applied"}, {"3", "applied"}, {"4", "applied"}}));

  // The same as JSON, with the scratch database gone afterwards.
  RunResult json_run = verify({"--engines", db().url(), "--json"});
  EXPECT_EQ(json_run.exit_code, 1) << json_run.err;
  const nlohmann::json doc = nlohmann::json::parse(json_run.out);
  EXPECT_EQ(doc["ok"], false);
  ASSERT_EQ(doc["engines"].size(), 1u);
  const nlohmann::json& target = doc["engines"][0];
  EXPECT_EQ(target["engine"], engine());
  EXPECT_EQ(target["migrations"], 4);
  EXPECT_EQ(target["checked"], 4);
  ASSERT_EQ(target["problems"].size(), 3u);
  EXPECT_EQ(target["problems"][0]["version"], "2");
  EXPECT_EQ(target["problems"][0]["kind"], "missing_down");
  EXPECT_EQ(target["problems"][1]["version"], "3");
  EXPECT_EQ(target["problems"][1]["kind"], "schema_differs");
  EXPECT_EQ(target["problems"][2]["version"], "3");
  EXPECT_EQ(target["problems"][2]["kind"], "reapply_differs");
  EXPECT_FALSE(scratch_exists(target["url"].get<std::string>())) << target["url"];
  EXPECT_EQ(db().fingerprint(), before);
}

TEST_F(VerifyTest, ADownThatFailsOrAnUpThatFailsIsReported) {
  table_migration("0001-a.sql", "a");
  migration("0002-b.sql",
            "-- dbinit:up\nCREATE TABLE b (id INTEGER);\n-- dbinit:down\nDROP TABLE b_typo;\n");
  RunResult result = verify({"--engines", db().url()});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.out, HasSubstr("0002-b.sql: down failed"));
  EXPECT_THAT(result.out, HasSubstr("b_typo"));
  EXPECT_THAT(result.out, Not(HasSubstr("0001-a.sql:")));

  migration("0002-b.sql", failing_statement() + "\n");
  RunResult up_fails = verify({"--engines", db().url()});
  EXPECT_EQ(up_fails.exit_code, 1) << up_fails.err;
  EXPECT_THAT(up_fails.out, HasSubstr("0002-b.sql: up failed"));
  EXPECT_THAT(up_fails.out, HasSubstr("no_such_table"));
  EXPECT_FALSE(db().exists());
}

TEST_F(VerifyTest, EnginesListVerifiesOnEachOfThem) {
  good_set();
  RunResult result = verify({"--engines", "sqlite," + db().url(), "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json doc = nlohmann::json::parse(result.out);
  EXPECT_EQ(doc["ok"], true);
  ASSERT_EQ(doc["engines"].size(), 2u);
  EXPECT_EQ(doc["engines"][0]["engine"], "sqlite");
  EXPECT_EQ(doc["engines"][1]["engine"], engine());
  for (const nlohmann::json& target : doc["engines"]) {
    EXPECT_EQ(target["ok"], true) << target.dump(2);
    EXPECT_EQ(target["checked"], 3) << target.dump(2);
    EXPECT_TRUE(target["problems"].empty()) << target.dump(2);
    EXPECT_FALSE(scratch_exists(target["url"].get<std::string>())) << target["url"];
  }
  EXPECT_FALSE(db().exists());

  RunResult text = verify({"--engines", "sqlite," + db().url()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("sqlite (scratch database "));
  EXPECT_THAT(text.out, HasSubstr(engine() + " (scratch database "));
  EXPECT_THAT(text.err, HasSubstr("verified on 2 engines"));

  // A migration broken on one engine only (through an engine variant) fails the whole, naming it.
  migration("0004-x.sqlite.sql", "-- dbinit:up\nCREATE TABLE x (id INTEGER);\n");
  migration("0004-x.sql",
            "-- dbinit:up\nCREATE TABLE x (id INTEGER);\n-- dbinit:down\nDROP TABLE x;\n");
  if (engine() != "sqlite") {
    RunResult one_broken = verify({"--engines", "sqlite," + db().url()});
    EXPECT_EQ(one_broken.exit_code, 1) << one_broken.err;
    EXPECT_THAT(one_broken.out, HasSubstr("0004-x.sqlite.sql: no down section"));
    EXPECT_THAT(one_broken.err, HasSubstr("verify found 1 problem (on sqlite)"));
  } else {
    RunResult both_broken = verify({"--engines", "sqlite," + db().url()});
    EXPECT_EQ(both_broken.exit_code, 1) << both_broken.err;
    EXPECT_THAT(both_broken.out, HasSubstr("0004-x.sqlite.sql: no down section"));
    EXPECT_THAT(both_broken.err, HasSubstr("verify found 2 problems (on sqlite, sqlite)"));
  }
}

}  // namespace
}  // namespace dbinit::test
