// The schema file's text: rendering, reading its ledger rows back, staleness and differences.

#include "core/schema_file.h"

#include <gtest/gtest.h>

#include "engines/mysql/mysql_engine.h"
#include "engines/postgres/postgres_engine.h"
#include "util/error.h"

namespace dbinit {
namespace {

std::string render_tables(const SchemaModel& model) {
  std::string out;
  for (const Table& table : model.tables) out += table.definition + ";\n";
  return out;
}

std::string ledger_ddl() {
  return "CREATE TABLE IF NOT EXISTS dbinit_migrations (version TEXT);\n";
}

SchemaModel read_nothing(Engine&) {
  return {};
}

const SchemaSupport k_standard{read_nothing, render_tables,
                               ledger_ddl,   k_postgres_schema_support.quote_literal,
                               false,        "now()"};
const SchemaSupport k_backslash{read_nothing, render_tables,
                                ledger_ddl,   k_mysql_schema_support.quote_literal,
                                true,         "UTC_TIMESTAMP()"};

Migration migration(std::string version, std::string name, std::string checksum,
                    std::optional<std::string> down = std::nullopt) {
  Migration m;
  m.version = Version(version);
  m.name = std::move(name);
  m.checksum = std::move(checksum);
  m.down_sql = std::move(down);
  return m;
}

SchemaModel one_table() {
  SchemaModel model;
  model.engine = "sqlite";
  Table table;
  table.name.name = "people";
  table.definition = "CREATE TABLE people (id INTEGER)";
  model.tables.push_back(table);
  return model;
}

TEST(SchemaFile, RowsRoundTripThroughTheTextOnEitherQuoting) {
  const std::string awkward_down =
      "DROP TABLE \"it's\";\n-- a comment with 'quotes' and a \\ backslash, \\n, \\0\n"
      "INSERT INTO dbinit_migrations (version) VALUES ('x');\n"
      "INSERT INTO dbinit_migrations (version, name, checksum, state, applied_at, duration_ms, "
      "applied_by, down_sql, error) VALUES ('7', 'n', 'c', 'applied', 'x', 0, 'y', NULL, NULL);\n";
  std::vector<Migration> migrations = {
      migration("0002", "0002_o'brien.sql", "sha256:bb", awkward_down),
      migration("1", "0001-init.sql", "sha256:aa"),
  };
  for (const SchemaSupport* support : {&k_standard, &k_backslash}) {
    const std::vector<LedgerEntry> rows = schema_file_rows(migrations);
    const std::string text = render_schema_file(*support, one_table(), rows);
    EXPECT_NE(text.find("CREATE TABLE people (id INTEGER);\n"), std::string::npos) << text;
    EXPECT_NE(text.find("CREATE TABLE IF NOT EXISTS dbinit_migrations"), std::string::npos);
    EXPECT_NE(text.find(support->utc_now_sql), std::string::npos);
    const std::vector<LedgerEntry> read = read_schema_file_rows(text, *support, "db/schema.sql");
    ASSERT_EQ(read.size(), 2u) << text;
    EXPECT_EQ(read[0].version, "1");
    EXPECT_EQ(read[0].name, "0001-init.sql");
    EXPECT_EQ(read[0].checksum, "sha256:aa");
    EXPECT_FALSE(read[0].down_sql.has_value());
    EXPECT_EQ(read[1].version, "2");
    EXPECT_EQ(read[1].name, "0002_o'brien.sql");
    EXPECT_EQ(read[1].down_sql, awkward_down);
    EXPECT_EQ(read[1].state, LedgerState::applied);
    // Nothing that changes between two writes of the same schema.
    EXPECT_EQ(text, render_schema_file(*support, one_table(), rows));
    EXPECT_EQ(schema_file_staleness(read, migrations), std::nullopt);
  }
}

TEST(SchemaFile, TheHeaderNamesTheEngine) {
  const std::string text = render_schema_file(k_standard, one_table(), {});
  EXPECT_EQ(schema_file_engine(text), "sqlite");
  EXPECT_EQ(schema_file_engine("-- a comment\nCREATE TABLE t (id INTEGER);\n-- engine: mysql\n"),
            std::nullopt);
  EXPECT_EQ(schema_file_engine(""), std::nullopt);
}

TEST(SchemaFile, LedgerRowsBecomeAppliedRowsWithoutTimesOrHosts) {
  LedgerEntry baseline;
  baseline.version = "3";
  baseline.name = "0003-x.sql";
  baseline.checksum = "sha256:cc";
  baseline.state = LedgerState::baseline;
  baseline.applied_at = "2026-01-02T03:04:05Z";
  baseline.applied_by = "ada@laptop dbinit 0.1.0";
  baseline.duration_ms = 1234;
  const std::vector<LedgerEntry> rows = schema_file_rows(std::vector<LedgerEntry>{baseline});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, LedgerState::applied);
  EXPECT_EQ(rows[0].applied_by, k_schema_file_applied_by);
  EXPECT_EQ(rows[0].applied_at, "");
  EXPECT_EQ(rows[0].duration_ms, 0);
}

TEST(SchemaFile, AFailedRowIsRefused) {
  LedgerEntry failed;
  failed.version = "4";
  failed.name = "0004-x.sql";
  failed.state = LedgerState::failed;
  try {
    schema_file_rows(std::vector<LedgerEntry>{failed});
    FAIL() << "a failed row was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::needs_repair);
    EXPECT_NE(std::string(error.message()).find("0004-x.sql"), std::string::npos);
  }
}

TEST(SchemaFile, StalenessNamesTheFirstMismatchInVersionOrder) {
  std::vector<Migration> files = {migration("1", "0001-a.sql", "sha256:aa"),
                                  migration("2", "0002-b.sql", "sha256:bb")};
  std::vector<LedgerEntry> rows = schema_file_rows(files);
  EXPECT_EQ(schema_file_staleness(rows, files), std::nullopt);
  // Newer migration files than the schema file records: still usable.
  files.push_back(migration("3", "0003-c.sql", "sha256:cc"));
  EXPECT_EQ(schema_file_staleness(rows, files), std::nullopt);

  files[1].checksum = "sha256:changed";
  EXPECT_EQ(schema_file_staleness(rows, files),
            "0002-b.sql changed since the schema file was written");
  files.erase(files.begin());
  EXPECT_EQ(schema_file_staleness(rows, files),
            "it records 0001-a.sql (1), which is not among the migration files");
  EXPECT_EQ(schema_file_staleness({}, files), "it records no migrations");
}

TEST(SchemaFile, AnUnreadableRowNamesItsLine) {
  const std::string text =
      "CREATE TABLE t (id INTEGER);\n\n"
      "INSERT INTO dbinit_migrations (version, name, checksum, state, applied_at, duration_ms, "
      "applied_by, down_sql, error) VALUES ('1', 'a.sql');\n";
  try {
    read_schema_file_rows(text, k_standard, "db/schema.sql");
    FAIL() << "a row of two values was read";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::config);
    EXPECT_EQ(error.where, "db/schema.sql line 3");
  }
  // A statement that is not at the start of a line (quoted in a down section) is not a row.
  EXPECT_TRUE(read_schema_file_rows("-- INSERT INTO dbinit_migrations (version, name, checksum, "
                                    "state, applied_at, duration_ms, applied_by, down_sql, error) "
                                    "VALUES (\n",
                                    k_standard, "f")
                  .empty());
}

TEST(SchemaFile, FirstDifferenceNamesTheLine) {
  EXPECT_EQ(first_difference("a\nb\n", "a\nb\n"), std::nullopt);
  EXPECT_EQ(first_difference("a\nb\n", "a\nc\n"),
            "line 2: the file has \"b\" where the migrations build \"c\"");
  EXPECT_EQ(first_difference("a\n", "a\nc\n"),
            "line 2: the file ends where the migrations build \"c\"");
  EXPECT_EQ(first_difference("a\nz\n", "a\n"),
            "line 2: the file has \"z\" after the end of what the migrations build");
  const std::string long_line(300, 'x');
  std::optional<std::string> shortened = first_difference(long_line, "y");
  ASSERT_TRUE(shortened);
  EXPECT_LT(shortened->size(), 200u);
}

}  // namespace
}  // namespace dbinit
