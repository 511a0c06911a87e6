#include "util/text.h"

#include <gtest/gtest.h>

namespace dbinit::test {
namespace {

TEST(Text, LineOf) {
  EXPECT_EQ(line_of("", 0), 1);
  EXPECT_EQ(line_of("abc", 2), 1);
  std::string_view text = "one\ntwo\n\nfour";
  EXPECT_EQ(line_of(text, 0), 1);
  EXPECT_EQ(line_of(text, 3), 1);  // the '\n' ending line 1 is on line 1
  EXPECT_EQ(line_of(text, 4), 2);
  EXPECT_EQ(line_of(text, 8), 3);
  EXPECT_EQ(line_of(text, 9), 4);
  EXPECT_EQ(line_of(text, 1000), 4);  // past the end: the last line
}

TEST(Text, ColumnOf) {
  std::string_view text = "one\ntwo\n\nfour";
  EXPECT_EQ(column_of(text, 0), 1);
  EXPECT_EQ(column_of(text, 2), 3);
  EXPECT_EQ(column_of(text, 4), 1);
  EXPECT_EQ(column_of(text, 6), 3);
  EXPECT_EQ(column_of(text, 8), 1);
  EXPECT_EQ(column_of(text, 11), 3);
  EXPECT_EQ(column_of(text, 1000), 5);
}

TEST(Text, Trim) {
  EXPECT_EQ(trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(trim_left("  a "), "a ");
  EXPECT_EQ(trim_right("  a "), "  a");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim(" \n\t"), "");
}

TEST(Text, CaseInsensitive) {
  EXPECT_TRUE(equals_ci("PRAGMA", "pragma"));
  EXPECT_FALSE(equals_ci("pragma", "pragmas"));
  EXPECT_TRUE(starts_with_ci("-- DBinit:up", "-- dbinit:"));
  EXPECT_FALSE(starts_with_ci("--", "-- dbinit:"));
  EXPECT_TRUE(ends_with_ci("0001-A.SQL", ".sql"));
  EXPECT_FALSE(ends_with_ci("sql", ".sql"));
  EXPECT_EQ(to_lower("MiXeD 123 ÄÖ"), "mixed 123 ÄÖ");  // ASCII only: UTF-8 bytes untouched
}

TEST(Text, FindCi) {
  EXPECT_EQ(find_ci("PRAGMA Foreign_Keys = off", "foreign_keys"), 7u);
  EXPECT_EQ(find_ci("abcABC", "abc", 1), 3u);
  EXPECT_EQ(find_ci("abc", "abcd"), std::string_view::npos);
  EXPECT_EQ(find_ci("abc", "x"), std::string_view::npos);
  EXPECT_EQ(find_ci("abc", ""), 0u);
  EXPECT_EQ(find_ci("", "a"), std::string_view::npos);
  EXPECT_EQ(find_ci("aab", "ab"), 1u);
}

TEST(Text, SqlQuoting) {
  EXPECT_EQ(sql_string_literal("it's"), "'it''s'");
  EXPECT_EQ(sql_string_literal(""), "''");
  EXPECT_EQ(sql_quoted_identifier("my \"odd\" table"), "\"my \"\"odd\"\" table\"");
  EXPECT_EQ(sql_quoted_identifier("it's"), "\"it's\"");
  EXPECT_EQ(sql_quoted_identifier(""), "\"\"");
}

}  // namespace
}  // namespace dbinit::test
