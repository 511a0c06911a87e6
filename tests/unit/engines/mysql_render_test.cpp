// The MySQL schema support as pure functions (engines/mysql/mysql_introspect.cpp): rendering a
// model built in code, the ledger DDL, and string literals. Reading a model from a server is tested
// in integration/mysql/mysql_introspect_test.cpp.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engines/engine.h"
#include "engines/mysql/mysql_engine.h"
#include "engines/mysql/mysql_splitter.h"

namespace dbinit::test {
namespace {

const SchemaSupport& mysql_support() {
  const EngineInfo* info = find_engine("mysql");
  EXPECT_NE(info, nullptr);
  EXPECT_NE(info->schema, nullptr);
  return *info->schema;
}

Table table(std::string name, std::string definition) {
  Table out;
  out.name = {"", std::move(name)};
  out.definition = std::move(definition);
  return out;
}

View view(std::string name, std::vector<std::string> depends_on) {
  View out;
  out.name = {"", name};
  for (std::string& other : depends_on) out.depends_on.push_back({"", std::move(other)});
  out.definition = "CREATE VIEW `" + name + "` AS select 1 AS `one`";
  return out;
}

Routine routine(std::string name, RoutineKind kind) {
  Routine out;
  out.name = {"", name};
  out.kind = kind;
  out.language = "SQL";
  out.definition = (kind == RoutineKind::function ? "CREATE FUNCTION `" : "CREATE PROCEDURE `") +
                   name + "`() BEGIN\n  SELECT 1;\nEND";
  return out;
}

Trigger trigger(std::string name, std::string on) {
  Trigger out;
  out.name = {"", name};
  out.table = {"", on};
  out.definition = "CREATE TRIGGER " + name + " BEFORE INSERT ON " + on +
                   " FOR EACH ROW BEGIN\n  SET NEW.a = 1;\nEND";
  return out;
}

// Tables, views, routines and triggers given out of order: views whose name order is the reverse
// of their dependency order, and a function and a procedure of the same name.
SchemaModel sample_model() {
  SchemaModel model;
  model.engine = "mysql";
  model.tables.push_back(table("b_child",
                               "CREATE TABLE `b_child` (\n  `parent` int(11) DEFAULT NULL,\n"
                               "  CONSTRAINT `fk` FOREIGN KEY (`parent`) REFERENCES `a_parent` "
                               "(`id`)\n) ENGINE=InnoDB"));
  model.tables.push_back(
      table("a_parent", "CREATE TABLE `a_parent` (\n  `id` int(11) NOT NULL\n) ENGINE=InnoDB"));
  model.views.push_back(view("a_top", {"m_middle"}));
  model.views.push_back(view("m_middle", {"z_base", "a_parent"}));
  model.views.push_back(view("z_base", {"a_parent"}));
  model.views.push_back(view("b_alone", {"b_child"}));
  model.routines.push_back(routine("z_proc", RoutineKind::procedure));
  model.routines.push_back(routine("same", RoutineKind::procedure));
  model.routines.push_back(routine("same", RoutineKind::function));
  model.triggers.push_back(trigger("second", "a_parent"));
  model.triggers.push_back(trigger("first", "b_child"));
  return model;
}

TEST(MysqlRender, RendersEachKindInADependencySafeOrder) {
  const std::string expected =
      "/*!40101 SET NAMES utf8mb4 */;\n"
      "\n"
      "/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n"
      "\n"
      "CREATE TABLE `a_parent` (\n  `id` int(11) NOT NULL\n) ENGINE=InnoDB;\n"
      "\n"
      "CREATE TABLE `b_child` (\n  `parent` int(11) DEFAULT NULL,\n"
      "  CONSTRAINT `fk` FOREIGN KEY (`parent`) REFERENCES `a_parent` (`id`)\n) ENGINE=InnoDB;\n"
      "\n"
      "DELIMITER ;;\n"
      "CREATE FUNCTION `same`() BEGIN\n  SELECT 1;\nEND;;\n"
      "CREATE PROCEDURE `same`() BEGIN\n  SELECT 1;\nEND;;\n"
      "CREATE PROCEDURE `z_proc`() BEGIN\n  SELECT 1;\nEND;;\n"
      "DELIMITER ;\n"
      "\n"
      "CREATE VIEW `b_alone` AS select 1 AS `one`;\n"
      "\n"
      "CREATE VIEW `z_base` AS select 1 AS `one`;\n"
      "\n"
      "CREATE VIEW `m_middle` AS select 1 AS `one`;\n"
      "\n"
      "CREATE VIEW `a_top` AS select 1 AS `one`;\n"
      "\n"
      "DELIMITER ;;\n"
      "CREATE TRIGGER second BEFORE INSERT ON a_parent FOR EACH ROW BEGIN\n"
      "  SET NEW.a = 1;\nEND;;\n"
      "CREATE TRIGGER first BEFORE INSERT ON b_child FOR EACH ROW BEGIN\n"
      "  SET NEW.a = 1;\nEND;;\n"
      "DELIMITER ;\n"
      "\n"
      "/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n";
  EXPECT_EQ(mysql_support().render(sample_model()), expected);
}

TEST(MysqlRender, IsDeterministicWhateverTheModelsListOrder) {
  const SchemaModel model = sample_model();
  const std::string text = mysql_support().render(model);
  EXPECT_EQ(mysql_support().render(model), text);
  SchemaModel shuffled = model;
  std::reverse(shuffled.tables.begin(), shuffled.tables.end());
  std::reverse(shuffled.views.begin(), shuffled.views.end());
  std::rotate(shuffled.routines.begin(), shuffled.routines.begin() + 1, shuffled.routines.end());
  EXPECT_EQ(mysql_support().render(shuffled), text);
}

TEST(MysqlRender, SplitsIntoTheStatementsTheShellWouldSend) {
  const std::string text = mysql_support().render(sample_model());
  std::vector<std::string> statements;
  for (const MysqlStatement& statement : split_mysql_script(text)) {
    statements.emplace_back(statement.text);
  }
  ASSERT_EQ(statements.size(), 14u);
  EXPECT_TRUE(statements[0].starts_with("/*!40101 SET NAMES"));
  EXPECT_TRUE(statements[1].starts_with("/*!40014 SET @OLD_FOREIGN_KEY_CHECKS"));
  EXPECT_TRUE(statements[4].starts_with("CREATE FUNCTION `same`()"));
  EXPECT_TRUE(statements[4].ends_with("END"));
  EXPECT_TRUE(statements[11].starts_with("CREATE TRIGGER second"));
  EXPECT_EQ(statements[13], "/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */");
}

TEST(MysqlRender, EmptyModelRendersNothingAndNoTablesNeedNoGuard) {
  SchemaModel model;
  model.engine = "mysql";
  EXPECT_EQ(mysql_support().render(model), "");
  model.routines.push_back(routine("f", RoutineKind::function));
  EXPECT_EQ(mysql_support().render(model),
            "/*!40101 SET NAMES utf8mb4 */;\n\nDELIMITER ;;\n"
            "CREATE FUNCTION `f`() BEGIN\n  SELECT 1;\nEND;;\nDELIMITER ;\n");
}

TEST(MysqlRender, LedgerDdlIsWhatEnsureLedgerRuns) {
  const std::string ddl = mysql_support().ledger_ddl();
  std::string expected;
  for (std::string_view statement : k_mysql_ledger_statements) {
    expected += std::string(statement) + ";\n";
  }
  EXPECT_EQ(ddl, expected);
  EXPECT_TRUE(ddl.starts_with("CREATE TABLE IF NOT EXISTS dbinit_migrations ("));
  EXPECT_NE(ddl.find("\nCREATE TABLE IF NOT EXISTS dbinit_meta ("), std::string::npos);
  EXPECT_EQ(split_mysql_script(ddl).size(), 2u);
}

// Reads a literal back as the server does under the default sql_mode.
// Reference: https://mariadb.com/kb/en/string-literals/#escape-sequences
std::string unquote(std::string_view literal) {
  EXPECT_TRUE(literal.size() >= 2 && literal.front() == '\'' && literal.back() == '\'');
  std::string out;
  for (std::size_t i = 1; i + 1 < literal.size(); ++i) {
    char c = literal[i];
    if (c == '\'') {
      EXPECT_EQ(literal[i + 1], '\'') << literal;  // a lone quote would end the literal
      out += '\'';
      ++i;
    } else if (c == '\\') {
      char next = literal[++i];
      switch (next) {
        case '0':
          out += '\0';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'b':
          out += '\b';
          break;
        case 'Z':
          out += '\x1a';
          break;
        case '%':
        case '_':
          out += '\\';
          out += next;
          break;
        default:
          out += next;
          break;
      }
    } else {
      out += c;
    }
  }
  return out;
}

TEST(MysqlRender, QuoteLiteralRoundTripsAwkwardStrings) {
  const SchemaSupport& support = mysql_support();
  EXPECT_TRUE(support.backslash_escapes);
  EXPECT_EQ(support.quote_literal("it's"), "'it''s'");
  EXPECT_EQ(support.quote_literal("a\\b"), "'a\\\\b'");
  EXPECT_EQ(support.quote_literal(std::string_view("x\0y", 3)), "'x\\0y'");
  const std::vector<std::string> awkward = {
      "",
      "'",
      "''",
      "\\",
      "ends with \\",
      "\\'",
      "\\0 is not NUL",
      std::string("nul \0 inside", 12),
      "-- not a comment; /* nor */ # nor",
      "DELIMITER ;;\nEND;;",
      "line\nbreak\r\ntab\t",
      "50% of a_b",
      "\\n stays backslash n",
      "\x1a ctrl-z",
      "emoji 😀 ñ 中文",
      "`back` \"double\"",
  };
  for (const std::string& value : awkward) {
    EXPECT_EQ(unquote(support.quote_literal(value)), value) << support.quote_literal(value);
  }
}

TEST(MysqlRender, UtcNowGivesTheLedgersFormat) {
  EXPECT_EQ(mysql_support().utc_now_sql, "DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%dT%H:%i:%sZ')");
}

}  // namespace
}  // namespace dbinit::test
