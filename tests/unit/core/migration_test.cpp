#include "core/migration.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/harness.h"
#include "util/error.h"
#include "util/sha256.h"

namespace dbinit::test {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_display_dir = "db/migrations";

// Runs `action`, which must throw an Error{config}, and returns it.
Error config_error(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::config) << error.full_message();
    return error;
  }
  ADD_FAILURE() << "no error";
  return Error(ErrorKind::failure, "no error");
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

class MigrationFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    m_root = m_temp.path();
    m_dir = m_root / "migrations";
    fs::create_directory(m_dir);
  }

  void write(const std::string& name, std::string_view content) {
    m_temp.write(fs::path("migrations") / name, content);
  }

  MigrationSet load(std::string_view engine = "sqlite") {
    return load_migrations(m_dir, engine, k_display_dir);
  }

  Error load_error(std::string_view engine = "sqlite") {
    return config_error([&] { load(engine); });
  }

  // Versions of the loaded set, in order.
  std::vector<std::string> versions(std::string_view engine = "sqlite") {
    std::vector<std::string> out;
    for (const Migration& migration : load(engine).migrations)
      out.push_back(migration.version.str());
    return out;
  }

  TempDir m_temp;
  fs::path m_root;
  fs::path m_dir;
};

Migration parse(std::string_view raw) {
  Migration migration;
  migration.name = "0001-test.sql";
  migration.display = "db/migrations/0001-test.sql";
  parse_migration_text(migration, normalize_sql_text(raw));
  return migration;
}

Error parse_error(std::string_view raw) {
  return config_error([&] { parse(raw); });
}

// ---- Version ----

TEST(Version, DropsLeadingZeros) {
  EXPECT_EQ(Version("0001").str(), "1");
  EXPECT_EQ(Version("20240830120000").str(), "20240830120000");
  EXPECT_EQ(Version("0").str(), "0");
  EXPECT_EQ(Version("0000").str(), "0");
  EXPECT_EQ(Version().str(), "0");
  EXPECT_EQ(Version("0011"), Version("11"));
  EXPECT_EQ(Version("000"), Version());
}

TEST(Version, ComparesAsNumbers) {
  EXPECT_LT(Version("9"), Version("10"));
  EXPECT_LT(Version("10"), Version("0011"));
  EXPECT_LT(Version("9"), Version("0011"));
  EXPECT_GT(Version("0100"), Version("99"));
  EXPECT_LT(Version("0"), Version("1"));
  EXPECT_EQ(Version("0011") <=> Version("11"), std::strong_ordering::equal);
  // Far beyond 64 bits.
  EXPECT_LT(Version("18446744073709551615"), Version("18446744073709551616"));
  EXPECT_LT(Version("99999999999999999999"), Version("100000000000000000000"));
  EXPECT_LT(Version("123456789012345678901234567890"), Version("123456789012345678901234567891"));
  EXPECT_EQ(Version("000000000000000000000000000001"), Version("1"));
}

TEST(Version, IsValid) {
  EXPECT_TRUE(Version::is_valid("0"));
  EXPECT_TRUE(Version::is_valid("0001"));
  EXPECT_TRUE(Version::is_valid("123456789012345678901234567890"));
  EXPECT_FALSE(Version::is_valid(""));
  EXPECT_FALSE(Version::is_valid("1a"));
  EXPECT_FALSE(Version::is_valid("-1"));
  EXPECT_FALSE(Version::is_valid(" 1"));
  EXPECT_FALSE(Version::is_valid("1.1"));
}

// ---- Normalisation and checksum ----

TEST(MigrationText, Normalize) {
  EXPECT_EQ(normalize_sql_text("a\r\nb\rc\n"), "a\nb\nc\n");
  EXPECT_EQ(normalize_sql_text("\xEF\xBB\xBFSELECT 1;\r\n"), "SELECT 1;\n");
  EXPECT_EQ(normalize_sql_text("\r\r\n\n\r"), "\n\n\n\n");
  EXPECT_EQ(normalize_sql_text(""), "");
  EXPECT_EQ(normalize_sql_text("\xEF\xBB\xBF"), "");
  // Only a leading BOM is removed; non-ASCII text is kept.
  EXPECT_EQ(normalize_sql_text("x\xEF\xBB\xBF 'é'"), "x\xEF\xBB\xBF 'é'");
}

TEST(MigrationText, Checksum) {
  EXPECT_EQ(checksum_of("SELECT 1;\n"), "sha256:" + sha256_hex("SELECT 1;\n"));
  EXPECT_EQ(checksum_of(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// ---- Sections ----

TEST(MigrationText, NoMarkersIsAllUp) {
  Migration m = parse("-- users\nCREATE TABLE users (id INTEGER);\n");
  EXPECT_EQ(m.up_sql, "-- users\nCREATE TABLE users (id INTEGER);\n");
  EXPECT_EQ(m.up_line, 1);
  EXPECT_FALSE(m.down_sql.has_value());
  EXPECT_EQ(m.checksum, checksum_of(m.up_sql));
  EXPECT_FALSE(m.directives.no_transaction);
  EXPECT_FALSE(m.directives.foreign_keys_off);
}

TEST(MigrationText, DbinitMarkers) {
  Migration m = parse(
      "-- Adds the users table.\n"
      "\n"
      "-- dbinit:up\n"
      "CREATE TABLE users (id INTEGER);\n"
      "\n"
      "-- dbinit:down\n"
      "DROP TABLE users;\n");
  EXPECT_EQ(m.up_sql, "CREATE TABLE users (id INTEGER);\n\n");
  EXPECT_EQ(m.up_line, 4);
  ASSERT_TRUE(m.down_sql.has_value());
  EXPECT_EQ(*m.down_sql, "DROP TABLE users;\n");
  EXPECT_EQ(m.down_line, 7);
  EXPECT_EQ(m.checksum, checksum_of("CREATE TABLE users (id INTEGER);\n\n"));
}

TEST(MigrationText, DbmateMarkersWithTrailingWhitespace) {
  Migration m =
      parse("-- migrate:up  \t\ncreate table t (x int);\n--migrate:down\t\ndrop table t;");
  EXPECT_EQ(m.up_sql, "create table t (x int);\n");
  EXPECT_EQ(m.up_line, 2);
  ASSERT_TRUE(m.down_sql.has_value());
  EXPECT_EQ(*m.down_sql, "drop table t;");
  EXPECT_EQ(m.down_line, 4);
}

TEST(MigrationText, OnlyDownMarker) {
  Migration m = parse("CREATE TABLE t (x INT);\n-- dbinit:down\nDROP TABLE t;\n");
  EXPECT_EQ(m.up_sql, "CREATE TABLE t (x INT);\n");
  EXPECT_EQ(m.up_line, 1);
  EXPECT_EQ(m.down_sql, "DROP TABLE t;\n");
  EXPECT_EQ(m.down_line, 3);
}

TEST(MigrationText, UpMarkerOnLastLine) {
  Migration m = parse("-- dbinit:up");
  EXPECT_EQ(m.up_sql, "");
  EXPECT_EQ(m.up_line, 2);
}

TEST(MigrationText, EmptyDownSectionIsNoDownSql) {
  Migration m = parse("-- dbinit:up\nCREATE TABLE t (x INT);\n-- dbinit:down\n\n-- nothing yet\n");
  EXPECT_FALSE(m.down_sql.has_value());
  m = parse("-- dbinit:up\nSELECT 1;\n-- dbinit:down\n/* later */\n");
  EXPECT_FALSE(m.down_sql.has_value());
  m = parse("-- dbinit:up\nSELECT 1;\n-- dbinit:down\n-- undo:\nSELECT 2;\n");
  EXPECT_EQ(m.down_sql, "-- undo:\nSELECT 2;\n");
}

TEST(MigrationText, EditingOnlyTheDownSectionKeepsTheChecksum) {
  Migration a = parse("-- dbinit:up\nCREATE TABLE t (x INT);\n-- dbinit:down\nDROP TABLE t;\n");
  Migration b = parse(
      "-- dbinit:up\nCREATE TABLE t (x INT);\n-- dbinit:down\n-- now safer\nDROP TABLE IF EXISTS "
      "t;\n");
  Migration c = parse("-- dbinit:up\nCREATE TABLE t (x INT);\n");
  EXPECT_EQ(a.checksum, b.checksum);
  EXPECT_EQ(a.checksum, c.checksum);
  Migration d = parse("-- dbinit:up\nCREATE TABLE t (x BIGINT);\n-- dbinit:down\nDROP TABLE t;\n");
  EXPECT_NE(a.checksum, d.checksum);
  // Comments in the header are not part of the up section.
  Migration e = parse(
      "-- header edited\n-- dbinit:up\nCREATE TABLE t (x INT);\n-- dbinit:down\nDROP TABLE t;\n");
  EXPECT_EQ(a.checksum, e.checksum);
}

TEST(MigrationText, LineEndingsAndBomDoNotChangeTheChecksum) {
  std::string lf = "-- dbinit:up\nCREATE TABLE t (\n  x INT\n);\n-- dbinit:down\nDROP TABLE t;\n";
  std::string crlf =
      "\xEF\xBB\xBF-- dbinit:up\r\nCREATE TABLE t (\r\n  x INT\r\n);\r\n-- dbinit:down\r\nDROP "
      "TABLE t;\r\n";
  std::string cr = "-- dbinit:up\rCREATE TABLE t (\r  x INT\r);\r-- dbinit:down\rDROP TABLE t;\r";
  Migration a = parse(lf);
  Migration b = parse(crlf);
  Migration c = parse(cr);
  EXPECT_EQ(a.up_sql, b.up_sql);
  EXPECT_EQ(a.up_sql, c.up_sql);
  EXPECT_EQ(a.checksum, b.checksum);
  EXPECT_EQ(a.checksum, c.checksum);
  EXPECT_EQ(b.down_sql, "DROP TABLE t;\n");
  EXPECT_EQ(b.down_line, 6);
}

TEST(MigrationText, MarkerErrors) {
  Error error = parse_error("-- dbinit:up\nSELECT 1;\n-- dbinit:up\nSELECT 2;\n");
  EXPECT_EQ(error.where, "db/migrations/0001-test.sql line 3");
  EXPECT_TRUE(contains(error.message(), "line 1")) << error.message();

  error = parse_error("-- dbinit:down\nDROP TABLE t;\n-- dbinit:up\nCREATE TABLE t (x INT);\n");
  EXPECT_EQ(error.where, "db/migrations/0001-test.sql line 3");
  EXPECT_TRUE(contains(error.message(), "down marker")) << error.message();

  error = parse_error("-- dbinit:up\nA;\n-- dbinit:down\nB;\n-- migrate:down\nC;\n");
  EXPECT_EQ(error.where, "db/migrations/0001-test.sql line 5");

  error = parse_error("-- setup\nCREATE TABLE a (x INT);\n-- dbinit:up\nSELECT 1;\n");
  EXPECT_EQ(error.where, "db/migrations/0001-test.sql line 2");
  EXPECT_TRUE(contains(error.message(), "before the -- dbinit:up marker on line 3"))
      << error.message();

  error = parse_error("-- migrate:up transaction:maybe\nSELECT 1;\n");
  EXPECT_EQ(error.where, "db/migrations/0001-test.sql line 1");
  EXPECT_TRUE(contains(error.message(), "transaction:maybe")) << error.message();
}

// ---- Directives ----

TEST(MigrationText, Directives) {
  Migration m = parse("-- dbinit:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);\n");
  EXPECT_TRUE(m.directives.no_transaction);
  EXPECT_FALSE(m.directives.foreign_keys_off);

  m = parse("-- Rebuilds t.\n-- dbinit:foreign-keys off\n\n-- dbinit:up\nSELECT 1;\n");
  EXPECT_TRUE(m.directives.foreign_keys_off);
  EXPECT_FALSE(m.directives.no_transaction);

  m = parse("-- dbinit:up\n-- dbinit:no-transaction\n--dbinit:foreign-keys   off  \nSELECT 1;\n");
  EXPECT_TRUE(m.directives.no_transaction);
  EXPECT_TRUE(m.directives.foreign_keys_off);

  m = parse("-- dbinit:foreign-keys on\nSELECT 1;\n");
  EXPECT_FALSE(m.directives.foreign_keys_off);

  // dbmate's marker option.
  m = parse("-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (x);\n");
  EXPECT_TRUE(m.directives.no_transaction);
  EXPECT_EQ(m.up_sql, "CREATE INDEX CONCURRENTLY i ON t (x);\n");
  m = parse("-- migrate:up\nSELECT 1;\n-- migrate:down transaction:false\nSELECT 2;\n");
  EXPECT_TRUE(m.directives.no_transaction);
  m = parse("-- migrate:up transaction:true\nSELECT 1;\n");
  EXPECT_FALSE(m.directives.no_transaction);

  // Directives do not change the checksum of the up section that follows them in the header.
  EXPECT_EQ(parse("-- dbinit:no-transaction\n-- dbinit:up\nSELECT 1;\n").checksum,
            parse("-- dbinit:up\nSELECT 1;\n").checksum);
}

TEST(MigrationText, UnknownDirectiveNamesFileAndLine) {
  Error error = parse_error("-- dbinit:up\n-- dbinit:no-transactoin\nSELECT 1;\n");
  EXPECT_EQ(error.where, "db/migrations/0001-test.sql line 2");
  EXPECT_TRUE(contains(error.message(), "unknown directive '-- dbinit:no-transactoin'"))
      << error.message();
  EXPECT_TRUE(contains(error.hint, "-- dbinit:no-transaction"));
  EXPECT_TRUE(contains(error.full_message(), "db/migrations/0001-test.sql line 2: unknown"));

  // A misspelt marker anywhere in the file is caught rather than left in the up section.
  error = parse_error("-- dbinit:up\nSELECT 1;\n\n-- dbinit:dwon\nSELECT 2;\n");
  EXPECT_EQ(error.where, "db/migrations/0001-test.sql line 4");

  error = parse_error("-- dbinit:foreign-keys of\nSELECT 1;\n");
  EXPECT_EQ(error.where, "db/migrations/0001-test.sql line 1");
}

TEST(MigrationText, DirectiveAfterStatementIsAnError) {
  Error error = parse_error("-- dbinit:up\nSELECT 1;\n-- dbinit:no-transaction\n");
  EXPECT_EQ(error.where, "db/migrations/0001-test.sql line 3");
  EXPECT_TRUE(contains(error.message(), "after a statement")) << error.message();
}

TEST(MigrationText, OtherCommentsMentioningDbinitAreFine) {
  Migration m = parse("-- see the dbinit:up docs\n-- migrate: users table\nSELECT 1;\n");
  EXPECT_EQ(m.up_line, 1);
  EXPECT_FALSE(m.directives.no_transaction);
}

TEST(MigrationText, ForeignKeysPragmaTurnsForeignKeysOff) {
  for (std::string_view sql :
       {"PRAGMA foreign_keys = OFF;\nCREATE TABLE t2 (x INT);\n", "pragma foreign_keys=0;",
        "PRAGMA  Foreign_Keys\n=\tfalse;", "PRAGMA foreign_keys = 'off';",
        "PRAGMA main.foreign_keys=no;", "PRAGMA foreign_keys(OFF);",
        "CREATE TABLE a (x INT);\nPRAGMA foreign_keys=off;\n"}) {
    EXPECT_TRUE(parse(sql).directives.foreign_keys_off) << sql;
  }
  for (std::string_view sql :
       {"PRAGMA foreign_keys = ON;", "PRAGMA foreign_keys;", "-- PRAGMA foreign_keys = OFF;\n",
        "/* PRAGMA foreign_keys = OFF; */", "SELECT 'PRAGMA foreign_keys = OFF';",
        "PRAGMA foreign_keys_list = OFF;", "PRAGMA foreign_keys = offline;"}) {
    EXPECT_FALSE(parse(sql).directives.foreign_keys_off) << sql;
  }
  // Only the up section counts.
  EXPECT_FALSE(parse("-- dbinit:up\nSELECT 1;\n-- dbinit:down\nPRAGMA foreign_keys=OFF;\n")
                   .directives.foreign_keys_off);
}

// ---- File names ----

TEST_F(MigrationFiles, AllNameForms) {
  write("0001-create-users.sql", "CREATE TABLE users (id INT);\n");
  write("20240830120000_add_email.sql", "ALTER TABLE users ADD email TEXT;\n");
  write("V20240830120001__Flyway_style.sql", "SELECT 1;\n");
  write("20240830120002_pair.up.sql", "CREATE TABLE p (x INT);\n");
  write("20240830120002_pair.down.sql", "DROP TABLE p;\n");
  write("20240830120003.sql", "SELECT 3;\n");
  write("20240830120004-dots.in.name.sql", "SELECT 4;\n");
  write("README.md", "# migrations\n");
  write("notes.txt", "x");
  write(".0005-hidden.sql", "garbage");
  write(".#0006-editor-lock.sql", "garbage");
  write("0007-backup.sql~", "garbage");
  write("subfolder/0008-in-subfolder.sql", "garbage");
  write("subfolder/bad name.sql", "garbage");
  fs::create_directory(m_dir / "0009-folder.sql");

  MigrationSet set = load();
  EXPECT_FALSE(set.dir_missing);
  EXPECT_EQ(set.dir, m_dir);
  ASSERT_EQ(set.migrations.size(), 6u);
  const std::vector<Migration>& m = set.migrations;

  EXPECT_EQ(m[0].version.str(), "1");
  EXPECT_EQ(m[0].name, "0001-create-users.sql");
  EXPECT_EQ(m[0].description, "create-users");
  EXPECT_EQ(m[0].display, "db/migrations/0001-create-users.sql");
  EXPECT_EQ(m[0].up_sql, "CREATE TABLE users (id INT);\n");
  EXPECT_EQ(m[0].checksum, checksum_of("CREATE TABLE users (id INT);\n"));
  EXPECT_FALSE(m[0].down_display.has_value());

  EXPECT_EQ(m[1].version.str(), "20240830120000");
  EXPECT_EQ(m[1].description, "add_email");

  EXPECT_EQ(m[2].version.str(), "20240830120001");
  EXPECT_EQ(m[2].name, "V20240830120001__Flyway_style.sql");
  EXPECT_EQ(m[2].description, "Flyway_style");

  EXPECT_EQ(m[3].version.str(), "20240830120002");
  EXPECT_EQ(m[3].name, "20240830120002_pair.up.sql");
  EXPECT_EQ(m[3].description, "pair");
  EXPECT_EQ(m[3].display, "db/migrations/20240830120002_pair.up.sql");
  EXPECT_EQ(m[3].down_display, "db/migrations/20240830120002_pair.down.sql");
  EXPECT_EQ(m[3].up_sql, "CREATE TABLE p (x INT);\n");
  EXPECT_EQ(m[3].down_sql, "DROP TABLE p;\n");
  EXPECT_EQ(m[3].down_line, 1);

  // A bare version is a migration with an empty description.
  EXPECT_EQ(m[4].version.str(), "20240830120003");
  EXPECT_EQ(m[4].description, "");

  EXPECT_EQ(m[5].description, "dots.in.name");
}

TEST_F(MigrationFiles, DisplayDirWithTrailingSlashOrEmpty) {
  write("1-a.sql", "SELECT 1;");
  EXPECT_EQ(load_migrations(m_dir, "sqlite", "db/migrations/").migrations.at(0).display,
            "db/migrations/1-a.sql");
  EXPECT_EQ(load_migrations(m_dir, "sqlite", "").migrations.at(0).display, "1-a.sql");
}

TEST_F(MigrationFiles, VersionOrderIsNumeric) {
  write("0011-e.sql", "");
  write("10-d.sql", "");
  write("9-c.sql", "");
  write("100000000000000000000-g.sql", "");
  write("99999999999999999999-f.sql", "");
  write("0-zero.sql", "");
  write("123456789012345678901234567890_h.sql", "");
  EXPECT_EQ(versions(),
            (std::vector<std::string>{"0", "9", "10", "11", "99999999999999999999",
                                      "100000000000000000000", "123456789012345678901234567890"}));
}

TEST_F(MigrationFiles, BadNamesAreRefused) {
  struct Case {
    std::string file;
    std::string_view message;
    std::string_view hint;
  };
  std::vector<Case> cases = {
      {"create-users.sql", "is not a migration file name", "<digits>-<description>.sql"},
      {"0001init.sql", "must be followed by - or _", "<digits>-<description>.sql"},
      {"0001.init.sql", "must be followed by - or _", "V<digits>__<description>.sql"},
      {"v1__lower.sql", "is not a migration file name", ".up.sql"},
      {"V1_init.sql", "is not a migration file name", ".postgres"},
      {"V1.1__dotted.sql", "dotted Flyway version, which dbinit does not support",
       "whole-number version"},
      {"V1_1__dotted.sql", "dotted Flyway version", "whole-number version"},
      {"V2.0.1__dotted.postgres.sql", "dotted Flyway version", "whole-number version"},
      {"R__views.sql", "Flyway repeatable migration, which dbinit does not support",
       "versioned migration"},
      {"U1__undo.sql", "Flyway undo migration", "-- dbinit:down"},
      {"0001-a.sql.gz", "compressed migration file", "plain .sql"},
      {"-1-negative.sql", "is not a migration file name", "<digits>-<description>.sql"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    fs::remove_all(m_dir);
    fs::create_directory(m_dir);
    write("0001-good.sql", "SELECT 1;");
    write(c.file, "SELECT 1;");
    Error error = load_error();
    EXPECT_EQ(error.where, "db/migrations/" + c.file);
    EXPECT_TRUE(contains(error.message(), c.file)) << error.message();
    EXPECT_TRUE(contains(error.message(), c.message)) << error.message();
    EXPECT_TRUE(contains(error.hint, c.hint)) << error.hint;
  }
}

TEST_F(MigrationFiles, DuplicateVersionNamesBothFiles) {
  write("0001-first.sql", "SELECT 1;");
  write("001-second.sql", "SELECT 2;");
  write("0002-other.sql", "SELECT 3;");
  Error error = load_error();
  EXPECT_TRUE(contains(error.message(), "version 1:")) << error.message();
  EXPECT_TRUE(contains(error.message(), "db/migrations/001-second.sql")) << error.message();
  EXPECT_TRUE(contains(error.message(), "db/migrations/0001-first.sql")) << error.message();
  EXPECT_TRUE(contains(error.hint, "leading zeros")) << error.hint;
}

TEST_F(MigrationFiles, DuplicateAcrossNamingStyles) {
  write("1-plain.sql", "SELECT 1;");
  write("V1__flyway.sql", "SELECT 1;");
  Error error = load_error();
  EXPECT_TRUE(contains(error.message(), "db/migrations/1-plain.sql")) << error.message();
  EXPECT_TRUE(contains(error.message(), "db/migrations/V1__flyway.sql")) << error.message();

  fs::remove(m_dir / "V1__flyway.sql");
  write("01_pair.up.sql", "SELECT 1;");
  error = load_error();
  EXPECT_TRUE(contains(error.message(), "db/migrations/01_pair.up.sql")) << error.message();
  EXPECT_TRUE(contains(error.message(), "db/migrations/1-plain.sql")) << error.message();
}

TEST_F(MigrationFiles, DuplicateEngineVariantIsAnErrorOnEveryEngine) {
  write("0003-a.sql", "SELECT 1;");
  write("0003-a.postgres.sql", "SELECT 1;");
  write("003-b.postgresql.sql", "SELECT 1;");
  for (std::string_view engine : {"sqlite", "postgres", "mysql"}) {
    Error error = load_error(engine);
    EXPECT_TRUE(contains(error.message(), "version 3 for postgres")) << error.message();
    EXPECT_TRUE(contains(error.message(), "db/migrations/0003-a.postgres.sql")) << error.message();
    EXPECT_TRUE(contains(error.message(), "db/migrations/003-b.postgresql.sql")) << error.message();
  }
}

TEST_F(MigrationFiles, MissingFolderIsAnEmptySet) {
  MigrationSet set = load_migrations(m_root / "nope", "postgres", "nope");
  EXPECT_TRUE(set.dir_missing);
  EXPECT_TRUE(set.migrations.empty());

  write("empty-dir-marker.txt", "");
  set = load();
  EXPECT_FALSE(set.dir_missing);
  EXPECT_TRUE(set.migrations.empty());
}

TEST_F(MigrationFiles, FolderThatIsAFileIsAnError) {
  std::ofstream(m_root / "file") << "x";
  Error error = config_error([&] { load_migrations(m_root / "file", "sqlite", "file"); });
  EXPECT_TRUE(contains(error.message(), "migrations folder file")) << error.message();
}

TEST_F(MigrationFiles, UnreadableFileIsAConfigError) {
  fs::create_symlink(m_dir / "nowhere.sql", m_dir / "0001-dangling.sql");
  Error error = load_error();
  EXPECT_TRUE(contains(error.message(), "0001-dangling.sql")) << error.message();
}

// ---- Engine variants ----

TEST_F(MigrationFiles, EngineVariants) {
  write("0001-base.sql", "CREATE TABLE t (x INT);\n");
  write("0002-index.sql", "CREATE INDEX i ON t (x);\n");
  write("0002-index.postgres.sql",
        "-- dbinit:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (x);\n");
  write("0003-only-mysql.mysql.sql", "SET @x = 1;\n");
  write("0004-maria.mariadb.sql", "SELECT 4;\n");
  write("0005-lite.sqlite3.sql", "PRAGMA foreign_keys = OFF;\n");
  write("0006-pg.postgresql.sql", "SELECT 6;\n");
  write("V7__flyway.postgres.sql", "SELECT 7;\n");

  EXPECT_EQ(versions("sqlite"), (std::vector<std::string>{"1", "2", "5"}));
  EXPECT_EQ(versions("postgres"), (std::vector<std::string>{"1", "2", "6", "7"}));
  EXPECT_EQ(versions("mysql"), (std::vector<std::string>{"1", "2", "3", "4"}));

  MigrationSet pg = load("postgres");
  EXPECT_EQ(pg.migrations[1].name, "0002-index.postgres.sql");
  EXPECT_EQ(pg.migrations[1].description, "index");
  EXPECT_TRUE(pg.migrations[1].directives.no_transaction);
  EXPECT_EQ(pg.migrations[1].display, "db/migrations/0002-index.postgres.sql");

  MigrationSet lite = load("sqlite");
  EXPECT_EQ(lite.migrations[1].name, "0002-index.sql");
  EXPECT_FALSE(lite.migrations[1].directives.no_transaction);
  EXPECT_EQ(lite.migrations[2].description, "lite");
  EXPECT_TRUE(lite.migrations[2].directives.foreign_keys_off);

  // Engine aliases are accepted as the engine argument too.
  EXPECT_EQ(versions("postgresql"), versions("postgres"));
  EXPECT_EQ(versions("mariadb"), versions("mysql"));
}

TEST_F(MigrationFiles, GolangMigratePairsWithEngineVariants) {
  write("5_x.up.sql", "CREATE TABLE x (a INT);\n");
  write("5_x.down.sql", "DROP TABLE x;\n");
  write("5_x.sqlite.up.sql", "CREATE TABLE x (a INTEGER);\n");
  write("5_x.sqlite.down.sql", "DROP TABLE x; -- sqlite\n");
  write("6_y.up.postgres.sql", "SELECT 6;\n");  // suffixes in the other order

  MigrationSet lite = load("sqlite");
  ASSERT_EQ(lite.migrations.size(), 1u);
  EXPECT_EQ(lite.migrations[0].name, "5_x.sqlite.up.sql");
  EXPECT_EQ(lite.migrations[0].down_sql, "DROP TABLE x; -- sqlite\n");
  EXPECT_EQ(lite.migrations[0].down_display, "db/migrations/5_x.sqlite.down.sql");

  MigrationSet pg = load("postgres");
  ASSERT_EQ(pg.migrations.size(), 2u);
  EXPECT_EQ(pg.migrations[0].name, "5_x.up.sql");
  EXPECT_EQ(pg.migrations[0].down_sql, "DROP TABLE x;\n");
  EXPECT_EQ(pg.migrations[1].name, "6_y.up.postgres.sql");
  EXPECT_EQ(pg.migrations[1].description, "y");
  EXPECT_FALSE(pg.migrations[1].down_sql.has_value());
}

TEST_F(MigrationFiles, DownFileWithoutUpFileIsAnError) {
  write("0001_a.up.sql", "SELECT 1;");
  write("0001_a.down.sql", "SELECT 1;");
  write("0002_b.down.sql", "SELECT 2;");
  Error error = load_error();
  EXPECT_EQ(error.where, "db/migrations/0002_b.down.sql");
  EXPECT_TRUE(contains(error.message(), "'0002_b.down.sql' has no up migration"))
      << error.message();

  // An engine's down file needs that engine's up file, even on other engines.
  fs::remove(m_dir / "0002_b.down.sql");
  write("0001_a.postgres.down.sql", "SELECT 1;");
  for (std::string_view engine : {"sqlite", "postgres"}) {
    error = load_error(engine);
    EXPECT_EQ(error.where, "db/migrations/0001_a.postgres.down.sql");
  }
}

TEST_F(MigrationFiles, DownFileAndDownMarkerTogetherIsAnError) {
  write("0001_a.up.sql", "SELECT 1;\n-- migrate:down\nSELECT 2;\n");
  write("0001_a.down.sql", "SELECT 3;");
  Error error = load_error();
  EXPECT_EQ(error.where, "db/migrations/0001_a.up.sql");
  EXPECT_TRUE(contains(error.message(), "db/migrations/0001_a.down.sql")) << error.message();
}

TEST_F(MigrationFiles, EmptyDownFileIsAnEmptyDownAndAMissingOneIsNone) {
  // golang-migrate's way of saying "nothing to undo": an existing file without statements.
  write("0001_a.up.sql", "SELECT 1;");
  write("0001_a.down.sql", "\n-- nothing\n");
  write("0002_b.up.sql", "SELECT 2;");
  write("0002_b.down.sql", "");
  write("0003_c.up.sql", "SELECT 3;");
  // dbinit's own markers with an empty down section: no down SQL.
  write("0004_d.sql", "-- dbinit:up\nSELECT 4;\n-- dbinit:down\n-- later\n");
  const MigrationSet set = load();
  ASSERT_EQ(set.migrations.size(), 4u);
  EXPECT_TRUE(set.migrations[0].down_display.has_value());
  EXPECT_EQ(set.migrations[0].down_sql, std::optional<std::string>(""));
  EXPECT_EQ(set.migrations[1].down_sql, std::optional<std::string>(""));
  EXPECT_FALSE(set.migrations[2].down_sql.has_value());
  EXPECT_FALSE(set.migrations[3].down_sql.has_value());
}

// ---- Files on disk ----

TEST_F(MigrationFiles, LoadedTextIsNormalised) {
  write("0001-lf.sql", "-- dbinit:up\nSELECT 'é';\n-- dbinit:down\nSELECT 2;\n");
  write("0002-crlf.sql",
        "\xEF\xBB\xBF-- dbinit:up\r\nSELECT 'é';\r\n-- dbinit:down\r\nSELECT 2; -- edited\r\n");
  MigrationSet set = load();
  ASSERT_EQ(set.migrations.size(), 2u);
  EXPECT_EQ(set.migrations[1].up_sql, "SELECT 'é';\n");
  EXPECT_EQ(set.migrations[0].checksum, set.migrations[1].checksum);
  EXPECT_EQ(set.migrations[1].down_sql, "SELECT 2; -- edited\n");
}

TEST_F(MigrationFiles, ParseErrorsNameTheDisplayPath) {
  write("0001-a.sql", "-- dbinit:up\nSELECT 1;\n-- dbinit:nope\n");
  Error error = load_error();
  EXPECT_EQ(error.where, "db/migrations/0001-a.sql line 3");
}

TEST_F(MigrationFiles, ThousandFiles) {
  std::string body =
      "-- dbinit:up\nCREATE TABLE t_{0} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at "
      "TEXT);\nCREATE INDEX t_{0}_name ON t_{0} (name);\n-- dbinit:down\nDROP TABLE t_{0};\n";
  for (int i = 1; i <= 1000; ++i) {
    write(fmt::format("{:04}-create-table-{}.sql", i, i), fmt::format(fmt::runtime(body), i));
  }
  auto start = std::chrono::steady_clock::now();
  MigrationSet set = load();
  auto elapsed = std::chrono::steady_clock::now() - start;
  std::cout << "loaded 1000 migrations in "
            << std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count() << " us\n";
  ASSERT_EQ(set.migrations.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    const Migration& m = set.migrations[static_cast<std::size_t>(i)];
    ASSERT_EQ(m.version.str(), std::to_string(i + 1));
    ASSERT_EQ(m.up_line, 2);
    ASSERT_TRUE(m.down_sql.has_value());
  }
  EXPECT_EQ(set.migrations[41].checksum,
            checksum_of(fmt::format("CREATE TABLE t_42 (id INTEGER PRIMARY KEY, name TEXT NOT "
                                    "NULL, created_at TEXT);\nCREATE INDEX t_42_name ON t_42 "
                                    "(name);\n")));
}

// Loads the folder with a MigrationLoader shared by `threads` threads besides this one.
MigrationSet load_shared(const fs::path& dir, int threads) {
  MigrationLoader loader(dir, "sqlite", k_display_dir);
  std::vector<std::thread> helpers;
  for (int i = 0; i < threads; ++i) helpers.emplace_back([&loader] { loader.work(); });
  loader.work();
  for (std::thread& helper : helpers) helper.join();
  return loader.take();
}

Error load_shared_error(const fs::path& dir, int threads) {
  try {
    load_shared(dir, threads);
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "no error";
  return Error(ErrorKind::failure, "no error");
}

TEST_F(MigrationFiles, ASharedLoaderReportsTheFirstBadFileInVersionOrder) {
  // The bad files lie in different chunks: the one with the lowest version must be reported
  // whichever thread reads first.
  for (int i = 1; i <= 400; ++i) {
    std::string body = fmt::format("CREATE TABLE t_{} (id INTEGER);\n", i);
    if (i == 333) body = "-- dbinit:typo\n" + body;
    if (i == 150) body = "CREATE TABLE early (id INTEGER);\n-- dbinit:no-transaction\n" + body;
    write(fmt::format("{:04}-t.sql", i), body);
  }
  for (int threads : {0, 1, 3}) {
    Error error = load_shared_error(m_dir, threads);
    EXPECT_EQ(error.where, "db/migrations/0150-t.sql line 2") << error.message();
    EXPECT_NE(error.message().find("comes after a statement"), std::string::npos)
        << error.message();
  }

  write("0150-t.sql", "CREATE TABLE t_150 (id INTEGER);\n");
  EXPECT_EQ(load_shared_error(m_dir, 3).where, "db/migrations/0333-t.sql line 1");

  write("0333-t.sql", "CREATE TABLE t_333 (id INTEGER);\n");
  for (int threads : {0, 1, 3}) {
    MigrationSet set = load_shared(m_dir, threads);
    ASSERT_EQ(set.migrations.size(), 400u);
    for (std::size_t i = 0; i < set.migrations.size(); ++i) {
      ASSERT_EQ(set.migrations[i].version.str(), std::to_string(i + 1));
      ASSERT_EQ(set.migrations[i].checksum,
                checksum_of(fmt::format("CREATE TABLE t_{} (id INTEGER);\n", i + 1)));
    }
  }
}

TEST_F(MigrationFiles, ASharedLoaderReportsAListingErrorToTake) {
  write("0001-a.sql", "SELECT 1;\n");
  write("001-b.sql", "SELECT 2;\n");
  Error error = load_shared_error(m_dir, 2);
  EXPECT_EQ(error.kind(), ErrorKind::config);
  EXPECT_NE(error.message().find("two migrations have version 1"), std::string::npos)
      << error.message();
}

TEST_F(MigrationFiles, OnlyRegularFilesAreMigrations) {
  write("0001-a.sql", "SELECT 1;\n");
  fs::create_directory(m_dir / "0002-folder.sql");
  ASSERT_EQ(::mkfifo((m_dir / "0003-fifo.sql").c_str(), 0600), 0);
  fs::create_symlink(m_dir / "0001-a.sql", m_dir / "0004-link.sql");
  MigrationSet set = load();
  ASSERT_EQ(set.migrations.size(), 2u);
  EXPECT_EQ(set.migrations[0].name, "0001-a.sql");
  EXPECT_EQ(set.migrations[1].name, "0004-link.sql");
  EXPECT_EQ(set.migrations[1].up_sql, "SELECT 1;\n");

  // A link that leads nowhere is an error that names it, not a file quietly left out.
  fs::create_symlink(m_dir / "gone.sql", m_dir / "0005-dangling.sql");
  Error error = load_error();
  EXPECT_EQ(error.message(),
            "cannot read db/migrations/0005-dangling.sql: No such file or directory");
}

}  // namespace
}  // namespace dbinit::test
