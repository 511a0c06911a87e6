// `dbinit schema`, `schema --check`, `up`'s schema-file fast path and `verify`'s schema-file check,
// on every engine.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engines/url.h"
#include "integration/cli_fixture.h"

namespace dbinit::test {
namespace {

class SchemaFileTest : public CliTest {
 protected:
  // Portable SQL: a table with a self-reference, one with a composite key, one referencing both,
  // an index and a view.
  void write_history() {
    migration("0001-people.sql",
              "-- dbinit:up\n"
              "CREATE TABLE people (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL UNIQUE, "
              "manager_id INTEGER REFERENCES people (id));\n"
              "-- dbinit:down\nDROP TABLE people;\n");
    migration("0002-teams.sql",
              "CREATE TABLE teams (org INTEGER NOT NULL, code VARCHAR(20) NOT NULL, "
              "label VARCHAR(100), PRIMARY KEY (org, code));\n"
              "CREATE TABLE members (person_id INTEGER NOT NULL REFERENCES people (id), "
              "org INTEGER NOT NULL, code VARCHAR(20) NOT NULL, "
              "FOREIGN KEY (org, code) REFERENCES teams (org, code));\n"
              "CREATE INDEX members_person ON members (person_id);\n");
    migration("0003-view.sql",
              "ALTER TABLE people ADD COLUMN nickname VARCHAR(50);\n"
              "CREATE VIEW member_emails AS SELECT p.email, m.org FROM people p JOIN members m "
              "ON m.person_id = p.id;\n");
  }

  std::filesystem::path schema_path() const { return project().path() / "db" / "schema.sql"; }

  // `dbinit schema --output -` of the database at `url`.
  std::string schema_of(const std::string& url) {
    RunResult result = dbinit({"schema", "--output", "-"}, {{"DBINIT_URL", url}});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.out;
  }
};

TEST_F(SchemaFileTest, WritesTheSameBytesTwice) {
  write_history();
  up_ok();
  RunResult first = dbinit({"schema"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("wrote db/schema.sql: 3 tables, 1 view, 3 migrations"),
            std::string::npos)
      << first.err;
  const std::string text = read_file(schema_path());
  EXPECT_NE(text.find("members_person"), std::string::npos);
  EXPECT_NE(text.find("0003-view.sql"), std::string::npos);
  EXPECT_EQ(text.find("dbinit_scratch"), std::string::npos);

  RunResult second = dbinit({"schema"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("unchanged db/schema.sql"), std::string::npos) << second.err;
  EXPECT_EQ(read_file(schema_path()), text);
  // The file the migrations build in a scratch database is the same file.
  RunResult check = dbinit({"schema", "--check"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
}

TEST_F(SchemaFileTest, DoesNotDependOnTheOrderObjectsWereCreatedIn) {
  migration("0001-all.sql",
            "CREATE TABLE b (id INTEGER PRIMARY KEY, label VARCHAR(10));\n"
            "CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b (id));\n"
            "CREATE INDEX a_b ON a (b_id);\n"
            "CREATE VIEW va AS SELECT id FROM a;\n");
  up_ok();
  const std::string first = schema_of(db().url());

  auto other = make_test_database(engine());
  TempDir second_project;
  second_project.write("db/migrations/0001-all.sql",
                       "CREATE TABLE b (id INTEGER PRIMARY KEY, label VARCHAR(10));\n"
                       "CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b (id));\n"
                       "CREATE VIEW va AS SELECT id FROM a;\n"
                       "CREATE INDEX a_b ON a (b_id);\n");
  RunOptions options;
  options.cwd = second_project.path();
  options.env["DBINIT_URL"] = other->url();
  RunResult up = run_dbinit({"up"}, options);
  ASSERT_EQ(up.exit_code, 0) << up.err;
  RunResult second = run_dbinit({"schema", "--output", "-"}, options);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  // The migration files differ (so do their checksums): compare the schemas, not the ledgers.
  auto ddl = [](const std::string& text) { return text.substr(0, text.find("-- The migrations")); };
  EXPECT_EQ(ddl(first), ddl(second.out));
}

TEST_F(SchemaFileTest, UpBuildsAnEmptyDatabaseFromAFreshSchemaFileThenAppliesNewerMigrations) {
  write_history();
  migration("0004-later.sql", "CREATE TABLE later (id INTEGER PRIMARY KEY);\n");
  // Write the schema file from a database at version 3, built elsewhere.
  auto built = make_test_database(engine());
  RunResult to3 = dbinit({"up", "--to", "3"}, {{"DBINIT_URL", built->url()}});
  ASSERT_EQ(to3.exit_code, 0) << to3.err;
  RunResult written = dbinit({"schema"}, {{"DBINIT_URL", built->url()}});
  ASSERT_EQ(written.exit_code, 0) << written.err;
  project().write("db/seeds/0001-people.sql",
                  "INSERT INTO people (id, email) VALUES (1, 'ada@example.com');\n");

  RunResult up = dbinit({"up", "--json"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_NE(up.err.find("loaded schema file db/schema.sql"), std::string::npos) << up.err;
  EXPECT_NE(up.err.find("applied 0004-later.sql"), std::string::npos) << up.err;
  EXPECT_EQ(up.err.find("applied 0001-people.sql"), std::string::npos) << up.err;
  EXPECT_EQ(nlohmann::json::parse(up.out).at("schema_file"), "db/schema.sql") << up.out;
  EXPECT_EQ(ledger(),
            (Ledger{{"1", "applied"}, {"2", "applied"}, {"3", "applied"}, {"4", "applied"}}));
  EXPECT_EQ(db().query("SELECT applied_by FROM dbinit_migrations WHERE version = '2'").at(0).at(0),
            "dbinit schema file");
  // The seeds ran: the database was empty.
  EXPECT_EQ(count("people"), "1");

  // The same schema as replaying every migration.
  auto replayed = make_test_database(engine());
  RunResult replay = dbinit({"up", "--no-schema-file"}, {{"DBINIT_URL", replayed->url()}});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_EQ(replay.err.find("loaded schema file"), std::string::npos) << replay.err;
  EXPECT_EQ(schema_of(db().url()), schema_of(replayed->url()));
}

TEST_F(SchemaFileTest, AStaleSchemaFileIsIgnoredWithOneWarning) {
  write_history();
  up_ok();
  ASSERT_EQ(dbinit({"schema"}).exit_code, 0);
  migration("0002-teams.sql",
            "CREATE TABLE teams (org INTEGER NOT NULL, code VARCHAR(20) NOT NULL, "
            "label VARCHAR(120), PRIMARY KEY (org, code));\n"
            "CREATE TABLE members (person_id INTEGER NOT NULL REFERENCES people (id), "
            "org INTEGER NOT NULL, code VARCHAR(20) NOT NULL, "
            "FOREIGN KEY (org, code) REFERENCES teams (org, code));\n"
            "CREATE INDEX members_person ON members (person_id);\n");
  auto fresh = make_test_database(engine());
  RunResult up = dbinit({"up"}, {{"DBINIT_URL", fresh->url()}});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_NE(up.err.find("warning: db/schema.sql is stale and was not used (0002-teams.sql "
                        "changed since the schema file was written)"),
            std::string::npos)
      << up.err;
  EXPECT_EQ(up.err.find("warning", up.err.find("warning") + 1), std::string::npos) << up.err;
  EXPECT_NE(up.err.find("applied 0001-people.sql"), std::string::npos) << up.err;

  // A recorded migration whose file is gone.
  ASSERT_EQ(dbinit({"schema", "--from-migrations"}).exit_code, 0);
  project().write("db/schema.sql",
                  read_file(schema_path()) +
                      "INSERT INTO dbinit_migrations (version, name, checksum, state, "
                      "applied_at, duration_ms, applied_by, down_sql, error) VALUES ('9', "
                      "'0009-gone.sql', 'sha256:00', 'applied', 'x', 0, 'y', NULL, NULL);\n");
  auto again = make_test_database(engine());
  RunResult gone = dbinit({"up"}, {{"DBINIT_URL", again->url()}});
  ASSERT_EQ(gone.exit_code, 0) << gone.err;
  EXPECT_NE(gone.err.find("it records 0009-gone.sql (9), which is not among the migration files"),
            std::string::npos)
      << gone.err;
}

TEST_F(SchemaFileTest, ASchemaFileOfAnotherEngineIsNotLoaded) {
  write_history();
  const std::string other = engine() == "sqlite" ? "postgres" : "sqlite";
  project().write("db/schema.sql", "-- written elsewhere\n-- engine: " + other +
                                       "\nCREATE TABLE nothing (id INTEGER);\n");
  RunResult up = dbinit({"up"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_NE(up.err.find("db/schema.sql is stale and was not used (it was written for " + other +
                        ", and the database is " + engine() + ")"),
            std::string::npos)
      << up.err;
  EXPECT_EQ(db().tables(), (std::vector<std::string>{"members", "people", "teams"}));
}

TEST_F(SchemaFileTest, AnUnreadableLedgerRowIsAWarningNotAFailure) {
  write_history();
  project().write("db/schema.sql",
                  "CREATE TABLE nothing (id INTEGER);\n"
                  "INSERT INTO dbinit_migrations (version, name, checksum, state, applied_at, "
                  "duration_ms, applied_by, down_sql, error) VALUES ('1', 'unterminated\n");
  RunResult up = dbinit({"up"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_NE(up.err.find("db/schema.sql is stale and was not used (cannot read a ledger row"),
            std::string::npos)
      << up.err;
  EXPECT_EQ(db().tables(), (std::vector<std::string>{"members", "people", "teams"}));
}

TEST_F(SchemaFileTest, CheckExitsSevenNamingTheFirstDifference) {
  write_history();
  RunResult missing = dbinit({"schema", "--check"});
  EXPECT_EQ(missing.exit_code, 7) << missing.err;
  EXPECT_NE(missing.err.find("there is no schema file to check"), std::string::npos);

  RunResult written = dbinit({"schema", "--from-migrations"});
  ASSERT_EQ(written.exit_code, 0) << written.err;
  EXPECT_FALSE(db().exists() && !db().tables().empty());  // the project's database was not used
  EXPECT_EQ(dbinit({"schema", "--check"}).exit_code, 0);

  migration("0004-more.sql", "CREATE TABLE more_things (id INTEGER PRIMARY KEY);\n");
  RunResult stale = dbinit({"schema", "--check", "--json"});
  EXPECT_EQ(stale.exit_code, 7) << stale.err;
  EXPECT_NE(stale.err.find("the schema file differs from what the migrations build"),
            std::string::npos)
      << stale.err;
  EXPECT_NE(stale.err.find("db/schema.sql line "), std::string::npos) << stale.err;
  EXPECT_EQ(nlohmann::json::parse(stale.out).at("up_to_date"), false) << stale.out;
}

TEST_F(SchemaFileTest, VerifyReportsASchemaFileThatDiffers) {
  write_history();
  ASSERT_EQ(dbinit({"schema", "--from-migrations"}).exit_code, 0);
  RunResult good = dbinit({"verify"});
  EXPECT_NE(good.out.find("db/schema.sql matches what the migrations build"), std::string::npos)
      << good.out << good.err;
  migration("0004-more.sql",
            "-- dbinit:up\nCREATE TABLE more_things (id INTEGER PRIMARY KEY);\n"
            "-- dbinit:down\nDROP TABLE more_things;\n");
  RunResult bad = dbinit({"verify"});
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_NE(bad.out.find("db/schema.sql differs from what the migrations build: line "),
            std::string::npos)
      << bad.out;
}

TEST_F(SchemaFileTest, AFailedMigrationIsNotWrittenToASchemaFile) {
  migration("0001-ok.sql", "CREATE TABLE ok_table (id INTEGER PRIMARY KEY);\n");
  up_ok();
  db().query(
      "INSERT INTO dbinit_migrations (version, name, checksum, state, applied_at, duration_ms, "
      "applied_by, down_sql, error) VALUES ('2', '0002-bad.sql', 'sha256:00', 'failed', "
      "'2026-01-01T00:00:00Z', 0, 'x', NULL, 'boom')");
  RunResult result = dbinit({"schema"});
  EXPECT_EQ(result.exit_code, 4) << result.err;
  EXPECT_NE(result.err.find("migration 2 (0002-bad.sql) is recorded as failed"), std::string::npos)
      << result.err;
  EXPECT_FALSE(std::filesystem::exists(schema_path()));
}

TEST_F(SchemaFileTest, TheEnginesOwnShellLoadsTheSchemaFileLedgerIncluded) {
  write_history();
  up_ok();
  ASSERT_EQ(dbinit({"schema"}).exit_code, 0);
  const std::string text = read_file(schema_path());
  auto loaded = make_test_database(engine());
  loaded->query("SELECT 1");  // creates the empty database
  RunOptions stdin_file;
  stdin_file.stdin_data = text;
  RunResult shell;
  if (engine() == "sqlite") {
    shell = run_program({"sqlite3", "-bail", loaded->url().substr(std::string("sqlite:").size())},
                        stdin_file);
  } else if (engine() == "postgres") {
    shell = run_program({postgres_client("psql"), loaded->url(), "-X", "-q", "-1", "-v",
                         "ON_ERROR_STOP=1", "-f", schema_path().string()});
  } else {
    std::vector<std::string> argv = mariadb_client("mariadb", *loaded);
    argv.push_back(parse_database_url(loaded->url()).database);
    shell = run_program(argv, stdin_file);
  }
  ASSERT_EQ(shell.exit_code, 0) << shell.err;
  // The same schema and ledger, byte for byte, and nothing left to apply.
  EXPECT_EQ(schema_of(loaded->url()), text);
  RunResult check = dbinit({"check"}, {{"DBINIT_URL", loaded->url()}});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_EQ(
      loaded->query("SELECT applied_by FROM dbinit_migrations WHERE version = '3'").at(0).at(0),
      "dbinit schema file");
}

TEST_F(SchemaFileTest, AFreshSchemaFileThatFailsToLoadSaysHowToReplay) {
  write_history();
  ASSERT_EQ(dbinit({"schema", "--from-migrations"}).exit_code, 0);
  // The recorded checksums still match, but a statement of the file fails.
  const std::string text = read_file(schema_path());
  const std::size_t ddl = text.find("\n\n") + 2;
  project().write("db/schema.sql",
                  text.substr(0, ddl) + failing_statement() + "\n" + text.substr(ddl));
  RunResult up = dbinit({"up"});
  EXPECT_EQ(up.exit_code, 1) << up.err;
  EXPECT_NE(up.err.find("db/schema.sql line "), std::string::npos) << up.err;
  EXPECT_NE(up.err.find("`dbinit up --no-schema-file`"), std::string::npos) << up.err;
  if (transactional()) {
    EXPECT_NE(up.err.find("still empty"), std::string::npos) << up.err;
    EXPECT_TRUE(db().tables().empty());
  } else {
    EXPECT_NE(up.err.find("the schema file was loaded only in part"), std::string::npos) << up.err;
  }
  // What the hint says works.
  auto fresh = make_test_database(engine());
  RunResult replay = dbinit({"up", "--no-schema-file"}, {{"DBINIT_URL", fresh->url()}});
  EXPECT_EQ(replay.exit_code, 0) << replay.err;
}

TEST_F(SchemaFileTest, SchemaOfAMissingDatabaseIsAUsageError) {
  write_history();
  RunResult result = dbinit({"schema"});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("the database does not exist"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("--from-migrations"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(schema_path()));
  EXPECT_FALSE(db().exists());

  RunResult check = dbinit({"schema", "--check", "--output", "-"});
  EXPECT_EQ(check.exit_code, 2) << check.err;
  EXPECT_NE(check.err.find("--check compares a file"), std::string::npos) << check.err;
}

}  // namespace
}  // namespace dbinit::test
