// The SQLite schema model (engines/schema_model.h) and its rendering, on a rich fixture.

#include <gtest/gtest.h>

#include "engines/engine.h"
#include "support/harness.h"

namespace dbinit::test {
namespace {

// Every kind of object SQLite has, created in an order that is not the name order.
constexpr std::string_view k_fixture = R"sql(
CREATE TABLE teams (org INTEGER NOT NULL, code TEXT NOT NULL, label TEXT DEFAULT 'none',
  shout TEXT GENERATED ALWAYS AS (upper(label)) VIRTUAL,
  PRIMARY KEY (org, code));
CREATE TABLE people (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  manager_id INTEGER REFERENCES people (id) ON DELETE SET NULL,
  "display name" TEXT,
  age INTEGER CHECK (age >= 0),
  CONSTRAINT email_has_at CHECK (email LIKE '%@%'));
CREATE TABLE members (
  person_id INTEGER NOT NULL REFERENCES people ON DELETE CASCADE ON UPDATE RESTRICT,
  org INTEGER NOT NULL, code TEXT NOT NULL,
  FOREIGN KEY (org, code) REFERENCES teams (org, code),
  UNIQUE (person_id, org, code));
CREATE INDEX people_lower_email ON people (lower(email));
CREATE UNIQUE INDEX members_active ON members (person_id) WHERE org > 0;
CREATE VIEW z_people AS SELECT id, email FROM people;
CREATE VIEW a_on_z AS SELECT email FROM z_people;
CREATE TRIGGER people_touch AFTER UPDATE ON people BEGIN SELECT 1; END;
)sql";

class SqliteIntrospectTest : public ::testing::Test {
 protected:
  std::unique_ptr<Engine> open(const std::string& file) {
    auto engine = make_engine(parse_database_url("sqlite:" + (m_dir.path() / file).string()));
    engine->open(true);
    return engine;
  }
  const TempDir& dir() const { return m_dir; }

 private:
  TempDir m_dir;
};

TEST_F(SqliteIntrospectTest, ReadsEveryKindOfObject) {
  auto engine = open("rich.db");
  engine->execute(Script{k_fixture, "fixture.sql", 1});
  engine->ensure_ledger();
  const SchemaSupport& support = schema_support(*engine);
  const SchemaModel model = support.read(*engine);

  ASSERT_EQ(model.tables.size(), 3u);  // dbinit's tables are left out
  EXPECT_EQ(model.tables[0].name.name, "members");
  EXPECT_EQ(model.tables[1].name.name, "people");
  EXPECT_EQ(model.tables[2].name.name, "teams");

  const Table& people = model.tables[1];
  ASSERT_EQ(people.columns.size(), 5u);
  EXPECT_EQ(people.columns[0].name, "id");
  EXPECT_TRUE(people.columns[0].identity);
  EXPECT_FALSE(people.columns[1].nullable);
  EXPECT_EQ(people.columns[3].name, "display name");
  ASSERT_TRUE(people.primary_key);
  EXPECT_EQ(people.primary_key->columns, std::vector<std::string>{"id"});
  ASSERT_EQ(people.unique_keys.size(), 1u);
  EXPECT_EQ(people.unique_keys[0].columns, std::vector<std::string>{"email"});
  ASSERT_EQ(people.foreign_keys.size(), 1u);
  EXPECT_EQ(people.foreign_keys[0].referenced_table.name, "people");  // self-reference
  EXPECT_EQ(people.foreign_keys[0].on_delete, ForeignKeyAction::set_null);
  ASSERT_EQ(people.checks.size(), 2u);
  EXPECT_EQ(people.checks[0].name, "email_has_at");
  EXPECT_EQ(people.checks[0].expression, "email LIKE '%@%'");
  EXPECT_EQ(people.checks[1].expression, "age >= 0");
  ASSERT_EQ(people.indexes.size(), 1u);
  EXPECT_EQ(people.indexes[0].keys, std::vector<std::string>{"lower(email)"});

  const Table& members = model.tables[0];
  ASSERT_EQ(members.foreign_keys.size(), 2u);
  // `REFERENCES people` without columns: the parent's primary key.
  const ForeignKey& to_person = members.foreign_keys[1].referenced_table.name == "people"
                                    ? members.foreign_keys[1]
                                    : members.foreign_keys[0];
  const ForeignKey& to_team =
      &to_person == &members.foreign_keys[0] ? members.foreign_keys[1] : members.foreign_keys[0];
  EXPECT_EQ(to_person.referenced_columns, std::vector<std::string>{"id"});
  EXPECT_EQ(to_person.on_delete, ForeignKeyAction::cascade);
  EXPECT_EQ(to_person.on_update, ForeignKeyAction::restrict);
  EXPECT_EQ(to_team.columns, (std::vector<std::string>{"org", "code"}));
  EXPECT_EQ(to_team.referenced_columns, (std::vector<std::string>{"org", "code"}));
  ASSERT_EQ(members.unique_keys.size(), 1u);
  EXPECT_EQ(members.unique_keys[0].columns, (std::vector<std::string>{"person_id", "org", "code"}));
  ASSERT_EQ(members.indexes.size(), 1u);
  EXPECT_TRUE(members.indexes[0].unique);
  EXPECT_EQ(members.indexes[0].predicate, "org > 0");

  const Table& teams = model.tables[2];
  ASSERT_TRUE(teams.primary_key);
  EXPECT_EQ(teams.primary_key->columns, (std::vector<std::string>{"org", "code"}));
  EXPECT_EQ(teams.columns[2].default_value, "'none'");
  EXPECT_EQ(teams.columns[3].generated, "upper(label)");

  // Views: the one read from first, whatever the names say.
  ASSERT_EQ(model.views.size(), 2u);
  EXPECT_EQ(model.views[0].name.name, "z_people");
  EXPECT_EQ(model.views[1].name.name, "a_on_z");
  const std::vector<ObjectName> reads{ObjectName{"", "z_people"}};
  EXPECT_EQ(model.views[1].depends_on, reads);
  ASSERT_EQ(model.views[0].columns.size(), 2u);
  ASSERT_EQ(model.triggers.size(), 1u);
  EXPECT_EQ(model.triggers[0].table.name, "people");
}

TEST_F(SqliteIntrospectTest, RendersTheSameTextWhateverTheCreationOrderAndLoadsWithTheShell) {
  auto first = open("first.db");
  first->execute(Script{k_fixture, "fixture.sql", 1});
  auto second = open("second.db");
  // The same objects, views and indexes first where SQLite allows it.
  second->execute(Script{R"sql(
CREATE TABLE people (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  manager_id INTEGER REFERENCES people (id) ON DELETE SET NULL,
  "display name" TEXT,
  age INTEGER CHECK (age >= 0),
  CONSTRAINT email_has_at CHECK (email LIKE '%@%'));
CREATE VIEW z_people AS SELECT id, email FROM people;
CREATE VIEW a_on_z AS SELECT email FROM z_people;
CREATE INDEX people_lower_email ON people (lower(email));
CREATE TRIGGER people_touch AFTER UPDATE ON people BEGIN SELECT 1; END;
CREATE TABLE members (
  person_id INTEGER NOT NULL REFERENCES people ON DELETE CASCADE ON UPDATE RESTRICT,
  org INTEGER NOT NULL, code TEXT NOT NULL,
  FOREIGN KEY (org, code) REFERENCES teams (org, code),
  UNIQUE (person_id, org, code));
CREATE UNIQUE INDEX members_active ON members (person_id) WHERE org > 0;
CREATE TABLE teams (org INTEGER NOT NULL, code TEXT NOT NULL, label TEXT DEFAULT 'none',
  shout TEXT GENERATED ALWAYS AS (upper(label)) VIRTUAL,
  PRIMARY KEY (org, code));
)sql",
                         "fixture.sql", 1});
  const SchemaSupport& support = schema_support(*first);
  const std::string text = support.render(support.read(*first));
  EXPECT_EQ(text, support.render(support.read(*second)));
  EXPECT_TRUE(text.ends_with(";\n"));
  EXPECT_LT(text.find("CREATE TABLE teams"), text.find("CREATE VIEW z_people"));
  EXPECT_LT(text.find("CREATE VIEW z_people"), text.find("CREATE VIEW a_on_z"));

  // sqlite3's own shell loads it, and the result reads back as the same text.
  const std::filesystem::path file = dir().write("schema.sql", text);
  const std::filesystem::path loaded = dir().path() / "loaded.db";
  RunResult shell = run_program({"sqlite3", "-bail", loaded.string(), ".read " + file.string()});
  ASSERT_EQ(shell.exit_code, 0) << shell.err;
  auto reloaded = open("loaded.db");
  EXPECT_EQ(support.render(support.read(*reloaded)), text);
  // And so does dbinit's own loader.
  auto restored = open("restored.db");
  restored->restore(Script{text, file.string(), 1});
  EXPECT_EQ(support.render(support.read(*restored)), text);
  // `.schema` of the shell agrees on every statement (in its own order).
  RunResult original = run_program({"sqlite3", (dir().path() / "first.db").string(), ".schema"});
  RunResult copy = run_program({"sqlite3", loaded.string(), ".schema"});
  auto sorted_lines = [](const std::string& schema) {
    std::vector<std::string> lines;
    std::size_t at = 0;
    while (at < schema.size()) {
      std::size_t end = schema.find('\n', at);
      if (end == std::string::npos) end = schema.size();
      lines.push_back(schema.substr(at, end - at));
      at = end + 1;
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  };
  EXPECT_EQ(sorted_lines(original.out), sorted_lines(copy.out));
}

TEST_F(SqliteIntrospectTest, AnEmptyDatabaseIsAnEmptyModel) {
  auto engine = open("empty.db");
  engine->ensure_ledger();
  const SchemaSupport& support = schema_support(*engine);
  const SchemaModel model = support.read(*engine);
  EXPECT_TRUE(model.empty());
  EXPECT_EQ(support.render(model), "");
}

}  // namespace
}  // namespace dbinit::test
