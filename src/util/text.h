#pragma once

// Small ASCII string helpers. Nothing here knows about locales: SQL keywords and file names are
// compared in ASCII only.

#include <cstddef>
#include <string>
#include <string_view>

namespace dbinit {

/// The 1-based line of byte `offset` in `text` (lines end with '\n'); an offset past the end
/// counts as the end of the text.
int line_of(std::string_view text, std::size_t offset);
/// The 1-based byte column of `offset` within its line.
int column_of(std::string_view text, std::size_t offset);

/// `text` without leading / trailing ASCII whitespace (space, tab, CR, LF, FF, VT).
std::string_view trim(std::string_view text);
std::string_view trim_left(std::string_view text);
std::string_view trim_right(std::string_view text);

/// `text` as a standard SQL string literal: in single quotes, each quote doubled (`'it''s'`).
std::string sql_string_literal(std::string_view text);
/// `name` as a standard SQL quoted identifier: in double quotes, each double quote doubled
/// (`"my ""odd"" table"`), as PostgreSQL and SQLite read it.
std::string sql_quoted_identifier(std::string_view name);

bool is_space(char c);
bool is_digit(char c);
char to_lower(char c);
std::string to_lower(std::string_view text);

/// ASCII case-insensitive comparisons.
bool equals_ci(std::string_view a, std::string_view b);
bool starts_with_ci(std::string_view text, std::string_view prefix);
bool ends_with_ci(std::string_view text, std::string_view suffix);
/// The offset of the first ASCII case-insensitive occurrence of `needle` at or after `from`, or
/// npos.
std::size_t find_ci(std::string_view text, std::string_view needle, std::size_t from = 0);

// ---- inline bodies ----

inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

inline char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

}  // namespace dbinit
