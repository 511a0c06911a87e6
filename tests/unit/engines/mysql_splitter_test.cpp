#include "engines/mysql/mysql_splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dbinit::test {
namespace {

std::vector<std::string> texts(std::string_view sql) {
  std::vector<std::string> out;
  for (const MysqlStatement& statement : split_mysql_script(sql)) {
    out.emplace_back(statement.text);
  }
  return out;
}

using Texts = std::vector<std::string>;

TEST(MysqlSplitter, SplitsOnSemicolons) {
  EXPECT_EQ(texts("SELECT 1; SELECT 2;\nSELECT 3"), (Texts{"SELECT 1", "SELECT 2", "SELECT 3"}));
  EXPECT_EQ(texts(""), Texts{});
  EXPECT_EQ(texts(" \n\t;;\n ; "), Texts{});
}

TEST(MysqlSplitter, OffsetsAndLines) {
  std::string_view sql = "-- header\n\nCREATE TABLE t (a INT);\n  INSERT INTO t\nVALUES (1);";
  std::vector<MysqlStatement> statements = split_mysql_script(sql);
  ASSERT_EQ(statements.size(), 2u);
  EXPECT_EQ(statements[0].text, "CREATE TABLE t (a INT)");
  EXPECT_EQ(statements[0].line, 3);
  EXPECT_EQ(statements[0].offset, sql.find("CREATE"));
  EXPECT_EQ(statements[1].text, "INSERT INTO t\nVALUES (1)");
  EXPECT_EQ(statements[1].line, 4);
  EXPECT_EQ(statements[1].offset, sql.find("INSERT"));
}

TEST(MysqlSplitter, QuotesHideDelimiters) {
  EXPECT_EQ(texts("SELECT 'a;b', \"c;d\", `e;f`; SELECT 2"),
            (Texts{"SELECT 'a;b', \"c;d\", `e;f`", "SELECT 2"}));
  // Backslash escapes and doubled quotes.
  EXPECT_EQ(texts(R"(SELECT 'it\'s;', 'it''s;', "say \";\""; SELECT 2)"),
            (Texts{R"(SELECT 'it\'s;', 'it''s;', "say \";\"")", "SELECT 2"}));
  // A backslash at the end of a string escapes nothing after the quote.
  EXPECT_EQ(texts(R"(SELECT 'a\\'; SELECT 2)"), (Texts{R"(SELECT 'a\\')", "SELECT 2"}));
  // Backslashes do not escape in backticked names; doubled backticks do.
  EXPECT_EQ(texts("SELECT 1 AS `a\\`; SELECT 1 AS `b``;`; SELECT 3"),
            (Texts{"SELECT 1 AS `a\\`", "SELECT 1 AS `b``;`", "SELECT 3"}));
}

TEST(MysqlSplitter, CommentsHideDelimiters) {
  EXPECT_EQ(texts("SELECT 1 # no; split\n; SELECT 2 -- nor; here\n;"),
            (Texts{"SELECT 1 # no; split", "SELECT 2 -- nor; here"}));
  EXPECT_EQ(texts("SELECT /* a; b */ 1; /* lead; */ SELECT 2"),
            (Texts{"SELECT /* a; b */ 1", "SELECT 2"}));
  // `--` without a following blank is not a comment.
  EXPECT_EQ(texts("SELECT 1--1; SELECT 2"), (Texts{"SELECT 1--1", "SELECT 2"}));
  EXPECT_EQ(texts("SELECT 1 --\n; SELECT 2"), (Texts{"SELECT 1 --", "SELECT 2"}));
  // Comment-only text is no statement.
  EXPECT_EQ(texts("-- just a comment\n# another\n/* and; another */"), Texts{});
}

TEST(MysqlSplitter, ExecutableCommentsStayInTheStatement) {
  EXPECT_EQ(texts("/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n"
                  "/*!40103 SET TIME_ZONE='+00:00' */;"),
            (Texts{"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */",
                   "/*!40103 SET TIME_ZONE='+00:00' */"}));
  // A delimiter inside an executable comment does not end the statement.
  EXPECT_EQ(texts("/*!50003 SET a=1; SET b=2 */; SELECT 2"),
            (Texts{"/*!50003 SET a=1; SET b=2 */", "SELECT 2"}));
  EXPECT_EQ(texts("/*M!100100 SET x=';' */; SELECT 2"),
            (Texts{"/*M!100100 SET x=';' */", "SELECT 2"}));
  EXPECT_EQ(texts("/*! SELECT 1 */;"), (Texts{"/*! SELECT 1 */"}));
}

TEST(MysqlSplitter, DelimiterCommand) {
  std::string_view sql =
      "CREATE TABLE t (a INT);\n"
      "DELIMITER $$\n"
      "CREATE PROCEDURE p()\n"
      "BEGIN\n"
      "  INSERT INTO t VALUES (1);\n"
      "  INSERT INTO t VALUES (2);\n"
      "END$$\n"
      "delimiter ;\n"
      "CALL p();\n";
  std::vector<MysqlStatement> statements = split_mysql_script(sql);
  ASSERT_EQ(statements.size(), 3u);
  EXPECT_EQ(statements[0].text, "CREATE TABLE t (a INT)");
  EXPECT_EQ(statements[1].text,
            "CREATE PROCEDURE p()\nBEGIN\n  INSERT INTO t VALUES (1);\n  INSERT INTO t VALUES "
            "(2);\nEND");
  EXPECT_EQ(statements[1].line, 3);
  EXPECT_EQ(statements[2].text, "CALL p()");
  EXPECT_EQ(statements[2].line, 9);
}

TEST(MysqlSplitter, MysqldumpTriggerBlock) {
  std::string_view sql =
      "/*!50003 SET @saved_cs_client      = @@character_set_client */ ;\n"
      "DELIMITER ;;\n"
      "/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER t_bi BEFORE "
      "INSERT ON t FOR EACH ROW BEGIN\n"
      "  SET NEW.a = NEW.a + 1;\n"
      "END */;;\n"
      "DELIMITER ;\n"
      "/*!50003 SET character_set_client  = @saved_cs_client */ ;\n";
  std::vector<MysqlStatement> statements = split_mysql_script(sql);
  ASSERT_EQ(statements.size(), 3u);
  EXPECT_EQ(statements[0].text, "/*!50003 SET @saved_cs_client      = @@character_set_client */");
  EXPECT_TRUE(statements[1].text.starts_with("/*!50003 CREATE*/"));
  EXPECT_TRUE(statements[1].text.ends_with("END */"));
  EXPECT_EQ(statements[1].line, 3);
  EXPECT_EQ(statements[2].text, "/*!50003 SET character_set_client  = @saved_cs_client */");
  EXPECT_EQ(statements[2].line, 7);
}

TEST(MysqlSplitter, MariadbDumpSandboxLineIsAClientCommand) {
  std::string_view sql =
      "/*M!999999\\- enable the sandbox mode */ \n"
      "-- MariaDB dump 10.19\n"
      "\n"
      "/*!40101 SET NAMES utf8mb4 */;\n";
  std::vector<MysqlStatement> statements = split_mysql_script(sql);
  ASSERT_EQ(statements.size(), 1u);
  EXPECT_EQ(statements[0].text, "/*!40101 SET NAMES utf8mb4 */");
  EXPECT_EQ(statements[0].line, 4);
}

TEST(MysqlSplitter, LongStrings) {
  std::string big = "INSERT INTO t VALUES ('" + std::string(1 << 20, 'x') + "\\'\n;" +
                    std::string(1 << 20, 'y') + "'),(`a`);\nSELECT 2";
  std::vector<MysqlStatement> statements = split_mysql_script(big);
  ASSERT_EQ(statements.size(), 2u);
  EXPECT_EQ(statements[0].text.size(), big.find(";\nSELECT"));
  EXPECT_EQ(statements[1].line, 3);
}

TEST(MysqlSplitter, DelimiterVariants) {
  // Multi-character delimiters, leading blanks, a quoted delimiter, CRLF line ends.
  EXPECT_EQ(texts("  DELIMITER //\r\nSELECT 1; SELECT 2//\r\nDELIMITER '$$'\r\nSELECT 3$$"),
            (Texts{"SELECT 1; SELECT 2", "SELECT 3"}));
  // DELIMITER inside a string or in the middle of a line is text.
  EXPECT_EQ(texts("SELECT 'x\nDELIMITER $$\n'; SELECT 2"),
            (Texts{"SELECT 'x\nDELIMITER $$\n'", "SELECT 2"}));
  EXPECT_EQ(texts("SELECT 1 AS delimiter; SELECT 2"), (Texts{"SELECT 1 AS delimiter", "SELECT 2"}));
  // A DELIMITER line ends a statement that lacks its delimiter.
  EXPECT_EQ(texts("SELECT 1\nDELIMITER ;;\nSELECT 2;;"), (Texts{"SELECT 1", "SELECT 2"}));
}

TEST(MysqlSplitter, DelimiterWithoutArgumentIsAnError) {
  try {
    split_mysql_script("SELECT 1;\n\nDELIMITER\nSELECT 2;");
    FAIL() << "expected MysqlSplitError";
  } catch (const MysqlSplitError& error) {
    EXPECT_EQ(error.line(), 3);
    EXPECT_NE(std::string(error.what()).find("DELIMITER"), std::string::npos);
  }
}

TEST(MysqlSplitter, LinesCountNewlinesInsideStringsAndComments) {
  std::string_view sql =
      "INSERT INTO t VALUES ('line\nbreak');\n"
      "/* a\nlong\ncomment */\n"
      "SELECT 'x'\n"
      "; SELECT \"é ü 😀\";\nSELECT 3";
  std::vector<MysqlStatement> statements = split_mysql_script(sql);
  ASSERT_EQ(statements.size(), 4u);
  EXPECT_EQ(statements[0].line, 1);
  EXPECT_EQ(statements[1].line, 6);
  EXPECT_EQ(statements[2].line, 7);
  EXPECT_EQ(statements[2].text, "SELECT \"é ü 😀\"");
  EXPECT_EQ(statements[3].line, 8);
}

TEST(MysqlSplitter, ByteOrderMarkAndUnterminatedText) {
  EXPECT_EQ(texts("\xEF\xBB\xBFSELECT 1;"), (Texts{"SELECT 1"}));
  // An unterminated string runs to the end; the server reports the error.
  EXPECT_EQ(texts("SELECT 1; SELECT 'open; SELECT 3"),
            (Texts{"SELECT 1", "SELECT 'open; SELECT 3"}));
}

TEST(MysqlSplitter, BinaryBytesAndNul) {
  std::string sql("INSERT INTO t VALUES ('a\\0b');", 30);
  sql += std::string("SELECT '\0;'", 11);
  std::vector<MysqlStatement> statements = split_mysql_script(sql);
  ASSERT_EQ(statements.size(), 2u);
  EXPECT_EQ(statements[1].text, std::string_view("SELECT '\0;'", 11));
}

TEST(MysqlSplitter, LeadingWords) {
  EXPECT_EQ(mysql_first_keyword("  -- c\n/* x */ insert into t values (1)"), "INSERT");
  EXPECT_EQ(mysql_first_keyword("/*!40101 SET NAMES utf8mb4 */"), "SET");
  EXPECT_EQ(mysql_first_keyword("/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/"),
            "CREATE");
  EXPECT_EQ(mysql_first_keyword("(SELECT 1) UNION (SELECT 2)"), "SELECT");
  EXPECT_EQ(mysql_first_keyword("# only a comment"), "");
  EXPECT_EQ(mysql_leading_words("USE `my``db`", 2), (Texts{"USE", "my`db"}));
  EXPECT_EQ(mysql_leading_words("/*!40000 DROP DATABASE IF EXISTS `x`*/", 5),
            (Texts{"DROP", "DATABASE", "IF", "EXISTS", "x"}));
  EXPECT_EQ(mysql_leading_words("SET @@global.max_connections = 5", 3),
            (Texts{"SET", "@@GLOBAL.MAX_CONNECTIONS", "5"}));
}

}  // namespace
}  // namespace dbinit::test
