#include "core/schema_diff.h"

#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace dbinit::test {
namespace {

using Lines = std::vector<std::string>;

TEST(SchemaDiff, SameTextIsNoDiff) {
  const std::string schema = "CREATE TABLE a (x INT);\nCREATE TABLE b (y INT);\n";
  EXPECT_TRUE(schema_diff(schema, schema).empty());
  EXPECT_EQ(schema_distance(schema, schema), 0u);
  EXPECT_TRUE(schema_diff("", "").empty());
}

TEST(SchemaDiff, BlankLinesAndLineEndsAreIgnored) {
  EXPECT_TRUE(schema_diff("A;\nB;\n", "\nA;\n\n  \t\nB;").empty());
  EXPECT_TRUE(schema_diff("A;\r\nB;\r\n", "A;\nB;\n").empty());
  EXPECT_TRUE(schema_diff("", "\n\n   \n").empty());
}

TEST(SchemaDiff, IndentationAndTrailingSpacesAreDifferences) {
  EXPECT_EQ(schema_diff("  x INT,\n", "    x INT,\n"), (Lines{"-   x INT,", "+     x INT,"}));
  EXPECT_EQ(schema_diff("A;\n", "A; \n"), (Lines{"- A;", "+ A; "}));
}

TEST(SchemaDiff, AddedAndRemovedLines) {
  EXPECT_EQ(schema_diff("A;\nC;\n", "A;\nB;\nC;\n"), (Lines{"+ B;"}));
  EXPECT_EQ(schema_diff("A;\nB;\nC;\n", "A;\nC;\n"), (Lines{"- B;"}));
  EXPECT_EQ(schema_diff("", "A;\nB;\n"), (Lines{"+ A;", "+ B;"}));
  EXPECT_EQ(schema_diff("A;\nB;\n", ""), (Lines{"- A;", "- B;"}));
}

TEST(SchemaDiff, AChangedLineIsRemovedThenAdded) {
  EXPECT_EQ(schema_diff("CREATE TABLE t (\n  x INT\n);\n", "CREATE TABLE t (\n  x BIGINT\n);\n"),
            (Lines{"-   x INT", "+   x BIGINT"}));
}

TEST(SchemaDiff, ChangesInTheMiddleKeepTheCommonLinesOut) {
  const std::string before = "h1\nh2\na\nm1\nb\nm2\nc\nt1\nt2\n";
  const std::string after = "h1\nh2\na\nb\nX\nc\nt1\nt2\n";
  EXPECT_EQ(schema_diff(before, after), (Lines{"- m1", "- m2", "+ X"}));
  EXPECT_EQ(schema_distance(before, after), 3u);
}

TEST(SchemaDiff, IsMinimalForAMovedLine) {
  // A line moved from the end to the front: one removal, one addition, not the whole text.
  EXPECT_EQ(schema_diff("a\nb\nc\nd\n", "d\na\nb\nc\n"), (Lines{"+ d", "- d"}));
}

TEST(SchemaDiff, RepeatedLines) {
  EXPECT_EQ(schema_diff(");\n);\n);\n", ");\n);\n"), (Lines{"- );"}));
  EXPECT_EQ(schema_diff("x\n", "x\nx\nx\n"), (Lines{"+ x", "+ x"}));
}

TEST(SchemaDiff, LongDiffsAreCutWithACount) {
  std::string after;
  for (int i = 0; i < 30; ++i) after += fmt::format("CREATE TABLE t{} (x INT);\n", i);
  Lines diff = schema_diff("", after);
  ASSERT_EQ(diff.size(), 20u);
  EXPECT_EQ(diff[0], "+ CREATE TABLE t0 (x INT);");
  EXPECT_EQ(diff[18], "+ CREATE TABLE t18 (x INT);");
  EXPECT_EQ(diff[19], "... 11 more lines differ");
  EXPECT_EQ(schema_distance("", after), 30u);

  diff = schema_diff("", after, 5);
  ASSERT_EQ(diff.size(), 5u);
  EXPECT_EQ(diff[4], "... 26 more lines differ");
  // Exactly max_lines: nothing cut.
  diff = schema_diff("", after, 30);
  ASSERT_EQ(diff.size(), 30u);
  EXPECT_EQ(diff[29], "+ CREATE TABLE t29 (x INT);");
  // One over: the count line replaces two.
  diff = schema_diff("", after, 29);
  ASSERT_EQ(diff.size(), 29u);
  EXPECT_EQ(diff[28], "... 2 more lines differ");
  diff = schema_diff("", after, 1);
  EXPECT_EQ(diff, (Lines{"... 30 more lines differ"}));
}

TEST(SchemaDiff, TheCountLineCountsEveryLineItStandsFor) {
  // Removals and additions both count, and the kept lines are the first of the full diff.
  EXPECT_EQ(schema_diff("a\nb\n", "c\nd\n", 3), (Lines{"- a", "- b", "... 2 more lines differ"}));
  EXPECT_EQ(schema_diff("a\n", "b\nc\n", 2), (Lines{"- a", "... 2 more lines differ"}));
  EXPECT_EQ(schema_diff("x\na\ny\n", "x\nb\nc\nd\ny\n", 2),
            (Lines{"- a", "... 3 more lines differ"}));
  EXPECT_EQ(schema_diff("a\n", "b\n", 2), (Lines{"- a", "+ b"}));
}

TEST(SchemaDiff, AHugeDiffIsStillCorrect) {
  // Beyond the LCS table's limit (2^22 cells) the middle is listed as removed, then added.
  std::string before;
  std::string after;
  for (int i = 0; i < 3000; ++i) {
    before += fmt::format("a{}\n", i);
    after += fmt::format("b{}\n", i);
  }
  Lines diff = schema_diff("keep\n" + before + "end\n", "keep\n" + after + "end\n", 100'000);
  ASSERT_EQ(diff.size(), 6000u);
  EXPECT_EQ(diff.front(), "- a0");
  EXPECT_EQ(diff[2999], "- a2999");
  EXPECT_EQ(diff[3000], "+ b0");
  EXPECT_EQ(diff.back(), "+ b2999");
  EXPECT_EQ(schema_distance(before, after), 6000u);
}

}  // namespace
}  // namespace dbinit::test
