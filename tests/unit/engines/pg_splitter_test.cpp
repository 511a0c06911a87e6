#include "engines/postgres/pg_splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dbinit::test {
namespace {

std::vector<std::string> texts(std::string_view sql) {
  std::vector<std::string> out;
  for (const PgStatement& statement : split_pg_statements(sql)) {
    out.emplace_back(sql.substr(statement.begin, statement.end - statement.begin));
  }
  return out;
}

std::vector<int> lines(std::string_view sql) {
  std::vector<int> out;
  for (const PgStatement& statement : split_pg_statements(sql)) out.push_back(statement.line);
  return out;
}

using Texts = std::vector<std::string>;

TEST(PgSplitter, SplitsOnSemicolonsAndKeepsThem) {
  EXPECT_EQ(texts("SELECT 1; SELECT 2;\nSELECT 3"), (Texts{"SELECT 1;", "SELECT 2;", "SELECT 3"}));
}

TEST(PgSplitter, BlankCommentOnlyAndEmptyStatementsYieldNothing) {
  EXPECT_EQ(texts(""), Texts{});
  EXPECT_EQ(texts("  \n\t\n"), Texts{});
  EXPECT_EQ(texts("-- only a comment\n/* and another */"), Texts{});
  EXPECT_EQ(texts(";;  ;\nSELECT 1;;"), (Texts{"SELECT 1;"}));
}

TEST(PgSplitter, LeadingCommentsAreNotPartOfTheStatement) {
  std::string sql = "-- dbinit:up\n/* header */\n  CREATE TABLE t (x int); -- trailing\n";
  EXPECT_EQ(texts(sql), (Texts{"CREATE TABLE t (x int);"}));
  EXPECT_EQ(lines(sql), (std::vector<int>{3}));
}

TEST(PgSplitter, CommentsInsideAStatementStayInIt) {
  EXPECT_EQ(texts("SELECT 1 -- one; not the end\n + 2; SELECT /* ; */ 3;"),
            (Texts{"SELECT 1 -- one; not the end\n + 2;", "SELECT /* ; */ 3;"}));
}

TEST(PgSplitter, NestedBlockComments) {
  EXPECT_EQ(texts("/* outer /* inner; */ still comment; */ SELECT 1; SELECT 2;"),
            (Texts{"SELECT 1;", "SELECT 2;"}));
  EXPECT_EQ(texts("SELECT /* a /* b */ ; */ 1; SELECT 2;"),
            (Texts{"SELECT /* a /* b */ ; */ 1;", "SELECT 2;"}));
}

TEST(PgSplitter, StandardStringsWithDoubledQuotes) {
  EXPECT_EQ(texts("SELECT 'it''s; fine'; SELECT 'a\\'; SELECT 2;"),
            (Texts{"SELECT 'it''s; fine';", "SELECT 'a\\';", "SELECT 2;"}));
}

TEST(PgSplitter, EscapeStringsWithBackslashes) {
  EXPECT_EQ(texts("SELECT E'it\\'s; fine'; SELECT e'\\\\'; SELECT 2;"),
            (Texts{"SELECT E'it\\'s; fine';", "SELECT e'\\\\';", "SELECT 2;"}));
  // An identifier ending in e is not an escape-string prefix.
  EXPECT_EQ(texts("SELECT name'x'; SELECT 2;"), (Texts{"SELECT name'x';", "SELECT 2;"}));
}

TEST(PgSplitter, QuotedIdentifiers) {
  EXPECT_EQ(texts("CREATE TABLE \"a;b\"\"c\" (x int); SELECT 1;"),
            (Texts{"CREATE TABLE \"a;b\"\"c\" (x int);", "SELECT 1;"}));
}

TEST(PgSplitter, DollarQuotes) {
  std::string body =
      "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\n"
      "BEGIN\n  RETURN 1; -- ;\nEND;\n$$;";
  EXPECT_EQ(texts(body + "\nSELECT 2;"), (Texts{body, "SELECT 2;"}));

  std::string tagged = "DO $body$ BEGIN PERFORM '$$'; RAISE NOTICE $x$;$x$; END $body$;";
  EXPECT_EQ(texts(tagged + " SELECT 3;"), (Texts{tagged, "SELECT 3;"}));
}

TEST(PgSplitter, DollarSignsThatAreNotQuotes) {
  // Positional parameters and identifiers containing `$`.
  EXPECT_EQ(texts("PREPARE p AS SELECT $1; SELECT a$b$ FROM t; SELECT 2;"),
            (Texts{"PREPARE p AS SELECT $1;", "SELECT a$b$ FROM t;", "SELECT 2;"}));
}

TEST(PgSplitter, SemicolonsInsideParenthesesDoNotSplit) {
  EXPECT_EQ(texts("CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2); SELECT 3;"),
            (Texts{"CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2);", "SELECT 3;"}));
}

TEST(PgSplitter, SqlStandardFunctionBodies) {
  std::string function =
      "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql\n"
      "BEGIN ATOMIC\n"
      "  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n"
      "  SELECT x;\n"
      "END;";
  EXPECT_EQ(texts(function + "\nSELECT 1;"), (Texts{function, "SELECT 1;"}));

  std::string procedure =
      "CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END;";
  EXPECT_EQ(texts(procedure + "BEGIN; SELECT 1; COMMIT;"),
            (Texts{procedure, "BEGIN;", "SELECT 1;", "COMMIT;"}));
}

TEST(PgSplitter, TransactionBlocksOutsideFunctionsSplitNormally) {
  EXPECT_EQ(texts("BEGIN; CREATE TABLE t (x int); END;"),
            (Texts{"BEGIN;", "CREATE TABLE t (x int);", "END;"}));
}

TEST(PgSplitter, LinesAreCountedThroughStringsAndComments) {
  std::string sql =
      "SELECT 'multi\nline';\n"        // 1-2
      "/* comment\n\n */ SELECT 2;\n"  // 3-5
      "SELECT $$\n$$;\n"               // 6-7
      "\n"
      "SELECT E'\\\n';";  // 9
  EXPECT_EQ(lines(sql), (std::vector<int>{1, 5, 6, 9}));
}

TEST(PgSplitter, UnterminatedConstructsEndAtTheEndOfText) {
  EXPECT_EQ(texts("SELECT 'open; SELECT 2;"), (Texts{"SELECT 'open; SELECT 2;"}));
  EXPECT_EQ(texts("SELECT $$ open; SELECT 2;"), (Texts{"SELECT $$ open; SELECT 2;"}));
  EXPECT_EQ(texts("SELECT 1; /* open"), (Texts{"SELECT 1;"}));
}

TEST(PgSplitter, NonAsciiText) {
  EXPECT_EQ(texts("SELECT 'ünï;cödé', \"日本;語\"; SELECT 'ok';"),
            (Texts{"SELECT 'ünï;cödé', \"日本;語\";", "SELECT 'ok';"}));
}

TEST(PgScanner, ReportsLineStartsForMetaCommands) {
  std::string sql = "SELECT 1;\n\\connect db\n  \\restrict x\nSELECT '\\x';";
  PgScanner scanner(sql);
  ASSERT_TRUE(scanner.skip_blanks());
  PgStatement first = scanner.next_statement();
  EXPECT_EQ(first.line, 1);
  ASSERT_TRUE(scanner.skip_blanks());
  EXPECT_EQ(sql[scanner.position()], '\\');
  EXPECT_TRUE(scanner.at_line_start());
  EXPECT_EQ(scanner.line(), 2);
  scanner.skip_line();
  ASSERT_TRUE(scanner.skip_blanks());
  EXPECT_TRUE(scanner.at_line_start());
  EXPECT_EQ(scanner.line(), 3);
  scanner.skip_line();
  ASSERT_TRUE(scanner.skip_blanks());
  PgStatement last = scanner.next_statement();
  EXPECT_EQ(last.line, 4);
  EXPECT_FALSE(scanner.skip_blanks());
}

}  // namespace
}  // namespace dbinit::test
