#pragma once

// Splits PostgreSQL SQL text into statements the way psql does, without parsing SQL: a `;` ends a
// statement unless it is inside a string, a quoted identifier, a dollar quote, a comment,
// parentheses or the BEGIN ... END body of a SQL-standard function (`BEGIN ATOMIC`). Used to run
// no-transaction migrations one statement at a time, to name the statement an error belongs to,
// and to read pg_dump output (which the restore code walks with PgScanner directly).
//
// Lexical rules follow the server's scanner (src/backend/parser/scan.l) and psql's
// (src/fe_utils/psqlscan.l), assuming standard_conforming_strings = on, the default since
// PostgreSQL 9.1: '...' with '' escapes; E'...' with backslash escapes; "..." identifiers with ""
// escapes; $tag$...$tag$ dollar quotes; -- line comments; nested /* */ comments.
// https://www.postgresql.org/docs/current/sql-syntax-lexical.html

#include <cstddef>
#include <string_view>
#include <vector>

namespace dbinit {

/// One statement of a text: bytes [begin, end) of it.
struct PgStatement {
  /// The first byte of the statement's first token (leading blanks and comments excluded).
  std::size_t begin = 0;
  /// One past the terminating `;`, or the end of the text for an unterminated last statement.
  std::size_t end = 0;
  /// The 1-based line of the text on which `begin` lies.
  int line = 1;
};

/// Walks a text statement by statement. The text must outlive the scanner.
class PgScanner {
 public:
  explicit PgScanner(std::string_view text) : m_text(text) {}

  /// Moves past blanks and comments. Returns false when the end of the text is reached.
  bool skip_blanks();
  /// Scans the statement that starts at position() (call skip_blanks() first) up to and including
  /// its `;`, or to the end of the text.
  PgStatement next_statement();
  /// Moves to the start of the next line (or the end of the text).
  void skip_line();
  /// Moves to `pos`, which lies on `line`; for callers that consume text themselves (COPY data).
  void seek(std::size_t pos, int line) {
    m_pos = pos;
    m_line = line;
  }

  std::size_t position() const { return m_pos; }
  int line() const { return m_line; }
  bool at_end() const { return m_pos >= m_text.size(); }
  /// True when position() is the first non-blank character of its line.
  bool at_line_start() const;

 private:
  void skip_line_comment();
  void skip_block_comment();
  void skip_quoted(char quote, bool backslash_escapes);
  void skip_dollar_quote(std::size_t tag_length);
  /// The length of the dollar-quote delimiter (`$tag$`) at m_pos, or 0 when there is none.
  std::size_t dollar_tag_length() const;
  void advance(std::size_t count);

  std::string_view m_text;
  std::size_t m_pos = 0;
  int m_line = 1;
};

/// Every statement of `sql` in order; blank and comment-only stretches yield no statement.
std::vector<PgStatement> split_pg_statements(std::string_view sql);

}  // namespace dbinit
