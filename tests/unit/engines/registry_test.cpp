// The engine registry (engines/engine.cpp): the one table of engine names and aliases that URL
// schemes, migration file-name suffixes, known_engines() and make_engine() all read.

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/migration.h"
#include "engines/engine.h"
#include "engines/url.h"
#include "support/harness.h"
#include "util/error.h"

namespace dbinit::test {
namespace {

/// A URL of engine `info` under `scheme` that parses without a server.
std::string url_for(const EngineInfo& info, std::string_view scheme) {
  if (info.file_databases) return std::string(scheme) + ":db/app.db";
  return std::string(scheme) + "://app:secret@localhost:1234/app";
}

TEST(EngineRegistry, ListsTheThreeEnginesWithTheirAliases) {
  std::vector<std::string> names;
  for (const EngineInfo& info : engine_registry()) names.emplace_back(info.name);
  EXPECT_EQ(names, (std::vector<std::string>{"sqlite", "postgres", "mysql"}));
  EXPECT_EQ(known_engines(), "sqlite, postgres, mysql");

  struct Alias {
    std::string_view alias;
    std::string_view engine;
  };
  for (const Alias& a :
       {Alias{"sqlite", "sqlite"}, Alias{"sqlite3", "sqlite"}, Alias{"SQLite3", "sqlite"},
        Alias{"postgres", "postgres"}, Alias{"postgresql", "postgres"},
        Alias{"PostgreSQL", "postgres"}, Alias{"mysql", "mysql"}, Alias{"mariadb", "mysql"},
        Alias{"MariaDB", "mysql"}}) {
    const EngineInfo* info = find_engine(a.alias);
    ASSERT_NE(info, nullptr) << a.alias;
    EXPECT_EQ(info->name, a.engine) << a.alias;
  }
  for (std::string_view unknown : {"", "sqlite4", "pg", "postgres ", "maria", "oracle"}) {
    EXPECT_EQ(find_engine(unknown), nullptr) << unknown;
  }
  EXPECT_EQ(embedded_engine().name, "sqlite");
  EXPECT_TRUE(find_engine("sqlite")->file_databases);
  EXPECT_FALSE(find_engine("postgres")->file_databases);
  EXPECT_FALSE(find_engine("mysql")->file_databases);
}

TEST(EngineRegistry, NamesAndAliasesAreUniqueAndEveryEntryIsComplete) {
  std::set<std::string> seen;
  for (const EngineInfo& info : engine_registry()) {
    EXPECT_NE(info.make, nullptr) << info.name;
    EXPECT_TRUE(seen.insert(std::string(info.name)).second) << info.name;
    for (std::string_view alias : info.aliases) {
      EXPECT_TRUE(seen.insert(std::string(alias)).second) << alias;
      EXPECT_EQ(find_engine(alias), &info) << alias;
    }
    EXPECT_EQ(find_engine(info.name), &info) << info.name;
  }
}

TEST(EngineRegistry, EverySchemeParsesToItsEngineAndBuildsIt) {
  for (const EngineInfo& info : engine_registry()) {
    std::vector<std::string_view> schemes{info.name};
    schemes.insert(schemes.end(), info.aliases.begin(), info.aliases.end());
    for (std::string_view scheme : schemes) {
      DatabaseUrl url = parse_database_url(url_for(info, scheme));
      EXPECT_EQ(url.engine, info.name) << scheme;
      EXPECT_EQ(url.scheme, scheme) << scheme;
      EXPECT_EQ(url.database, info.file_databases ? "db/app.db" : "app") << scheme;
      // Building does not connect.
      std::unique_ptr<Engine> engine = make_engine(url);
      EXPECT_EQ(engine->name(), info.name) << scheme;
    }
  }
  DatabaseUrl unknown = parse_database_url("sqlite:x.db");
  unknown.engine = "oracle";
  try {
    make_engine(unknown);
    ADD_FAILURE() << "no error for an unknown engine";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::config);
    EXPECT_EQ(error.hint, "known engines: sqlite, postgres, mysql");
  }
}

TEST(EngineRegistry, FileNameSuffixesUseTheSameAliases) {
  TempDir dir;
  dir.write("1-a.sql", "SELECT 1;\n");
  dir.write("1-a.sqlite3.sql", "SELECT 'sqlite';\n");
  dir.write("2-b.postgresql.sql", "SELECT 'postgres';\n");
  dir.write("3-c.mariadb.sql", "SELECT 'mysql';\n");
  dir.write("4-d.MySQL.sql", "SELECT 'mysql again';\n");
  auto names = [&](std::string_view engine) {
    std::vector<std::string> out;
    for (const Migration& m : load_migrations(dir.path(), engine, "").migrations) {
      out.push_back(m.name);
    }
    return out;
  };
  EXPECT_EQ(names("sqlite"), (std::vector<std::string>{"1-a.sqlite3.sql"}));
  EXPECT_EQ(names("sqlite3"), (std::vector<std::string>{"1-a.sqlite3.sql"}));
  EXPECT_EQ(names("postgres"), (std::vector<std::string>{"1-a.sql", "2-b.postgresql.sql"}));
  EXPECT_EQ(names("mysql"),
            (std::vector<std::string>{"1-a.sql", "3-c.mariadb.sql", "4-d.MySQL.sql"}));
  try {
    load_migrations(dir.path(), "oracle", "");
    ADD_FAILURE() << "no error for an unknown engine";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::config);
  }
}

}  // namespace
}  // namespace dbinit::test
