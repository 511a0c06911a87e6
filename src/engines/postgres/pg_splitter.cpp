#include "engines/postgres/pg_splitter.h"

#include <strings.h>
#include <cstring>

namespace dbinit {

namespace {

bool is_ident_start(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u >= 0x80;
}

bool is_ident_cont(char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool word_is(std::string_view word, const char* keyword) {
  return word.size() == std::strlen(keyword) && strncasecmp(word.data(), keyword, word.size()) == 0;
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

void PgScanner::advance(std::size_t count) {
  std::size_t end = std::min(m_pos + count, m_text.size());
  for (; m_pos < end; ++m_pos) {
    if (m_text[m_pos] == '\n') ++m_line;
  }
}

bool PgScanner::at_line_start() const {
  std::size_t i = m_pos;
  while (i > 0 && (m_text[i - 1] == ' ' || m_text[i - 1] == '\t')) --i;
  return i == 0 || m_text[i - 1] == '\n' || m_text[i - 1] == '\r';
}

void PgScanner::skip_line() {
  const void* nl = std::memchr(m_text.data() + m_pos, '\n', m_text.size() - m_pos);
  if (nl == nullptr) {
    m_pos = m_text.size();
    return;
  }
  m_pos = static_cast<std::size_t>(static_cast<const char*>(nl) - m_text.data()) + 1;
  ++m_line;
}

void PgScanner::skip_line_comment() {
  while (m_pos < m_text.size() && m_text[m_pos] != '\n') ++m_pos;
}

void PgScanner::skip_block_comment() {
  // Block comments nest in PostgreSQL, unlike in the SQL standard's C-style reading.
  int depth = 0;
  while (m_pos < m_text.size()) {
    char c = m_text[m_pos];
    char next = m_pos + 1 < m_text.size() ? m_text[m_pos + 1] : '\0';
    if (c == '/' && next == '*') {
      ++depth;
      m_pos += 2;
    } else if (c == '*' && next == '/') {
      m_pos += 2;
      if (--depth == 0) return;
    } else {
      advance(1);
    }
  }
}

void PgScanner::skip_quoted(char quote, bool backslash_escapes) {
  ++m_pos;  // the opening quote
  while (m_pos < m_text.size()) {
    char c = m_text[m_pos];
    if (backslash_escapes && c == '\\') {
      advance(2);
    } else if (c == quote) {
      if (m_pos + 1 < m_text.size() && m_text[m_pos + 1] == quote) {
        m_pos += 2;
      } else {
        ++m_pos;
        return;
      }
    } else {
      advance(1);
    }
  }
}

std::size_t PgScanner::dollar_tag_length() const {
  // $$ or $tag$ where tag is an identifier without `$`; `$1` is a parameter, not a quote.
  std::size_t i = m_pos + 1;
  if (i < m_text.size() && m_text[i] == '$') return 2;
  if (i >= m_text.size() || !is_ident_start(m_text[i])) return 0;
  while (i < m_text.size() && is_ident_cont(m_text[i]) && m_text[i] != '$') ++i;
  if (i < m_text.size() && m_text[i] == '$') return i - m_pos + 1;
  return 0;
}

void PgScanner::skip_dollar_quote(std::size_t tag_length) {
  std::string_view tag = m_text.substr(m_pos, tag_length);
  m_pos += tag_length;
  std::size_t close = m_text.find(tag, m_pos);
  advance(close == std::string_view::npos ? m_text.size() - m_pos : close - m_pos + tag_length);
}

bool PgScanner::skip_blanks() {
  while (m_pos < m_text.size()) {
    char c = m_text[m_pos];
    char next = m_pos + 1 < m_text.size() ? m_text[m_pos + 1] : '\0';
    if (is_blank(c)) {
      advance(1);
    } else if (c == '-' && next == '-') {
      skip_line_comment();
    } else if (c == '/' && next == '*') {
      skip_block_comment();
    } else {
      return true;
    }
  }
  return false;
}

PgStatement PgScanner::next_statement() {
  PgStatement statement{m_pos, m_text.size(), m_line};
  int paren_depth = 0;
  // psql's heuristic for SQL-standard function bodies (psqlscan.l): in a statement that starts
  // with CREATE [OR REPLACE] FUNCTION|PROCEDURE, BEGIN ... END (with CASE ... END nested inside)
  // is one block whose semicolons do not end the statement.
  int begin_depth = 0;
  int identifier_count = 0;
  char identifiers[4] = {};
  while (m_pos < m_text.size()) {
    char c = m_text[m_pos];
    char next = m_pos + 1 < m_text.size() ? m_text[m_pos + 1] : '\0';
    if (c == '-' && next == '-') {
      skip_line_comment();
    } else if (c == '/' && next == '*') {
      skip_block_comment();
    } else if (c == '\'' || c == '"') {
      skip_quoted(c, false);
    } else if (c == '$') {
      if (std::size_t tag = dollar_tag_length(); tag > 0) {
        skip_dollar_quote(tag);
      } else {
        ++m_pos;
      }
    } else if (c == '(') {
      ++paren_depth;
      ++m_pos;
    } else if (c == ')') {
      if (paren_depth > 0) --paren_depth;
      ++m_pos;
    } else if (c == ';') {
      ++m_pos;
      if (paren_depth == 0 && begin_depth == 0) {
        statement.end = m_pos;
        return statement;
      }
    } else if (c >= '0' && c <= '9') {
      // A number, with whatever identifier characters follow it (`1e5`), so that a trailing `e`
      // is never taken for an E'' prefix.
      while (m_pos < m_text.size() && (is_ident_cont(m_text[m_pos]) || m_text[m_pos] == '.')) {
        ++m_pos;
      }
    } else if (is_ident_start(c)) {
      std::size_t start = m_pos;
      while (m_pos < m_text.size() && is_ident_cont(m_text[m_pos])) ++m_pos;
      std::string_view word = m_text.substr(start, m_pos - start);
      if (m_pos < m_text.size() && m_text[m_pos] == '\'' && (word == "E" || word == "e")) {
        skip_quoted('\'', true);
        continue;
      }
      if (identifier_count == 0) std::memset(identifiers, 0, sizeof identifiers);
      if (word_is(word, "create") || word_is(word, "function") || word_is(word, "procedure") ||
          word_is(word, "or") || word_is(word, "replace")) {
        if (identifier_count < static_cast<int>(sizeof identifiers)) {
          identifiers[identifier_count] = lower(word[0]);
        }
      }
      ++identifier_count;
      bool function_body =
          identifiers[0] == 'c' && (identifiers[1] == 'f' || identifiers[1] == 'p' ||
                                    (identifiers[1] == 'o' && identifiers[2] == 'r' &&
                                     (identifiers[3] == 'f' || identifiers[3] == 'p')));
      if (function_body && paren_depth == 0) {
        if (word_is(word, "begin")) {
          ++begin_depth;
        } else if (word_is(word, "case")) {
          if (begin_depth >= 1) ++begin_depth;
        } else if (word_is(word, "end")) {
          if (begin_depth > 0) --begin_depth;
        }
      }
    } else {
      advance(1);
    }
  }
  statement.end = m_text.size();
  return statement;
}

std::vector<PgStatement> split_pg_statements(std::string_view sql) {
  std::vector<PgStatement> statements;
  PgScanner scanner(sql);
  while (scanner.skip_blanks()) {
    PgStatement statement = scanner.next_statement();
    // A lone `;` is an empty statement, which the server ignores too.
    if (!(statement.end == statement.begin + 1 && sql[statement.begin] == ';')) {
      statements.push_back(statement);
    }
  }
  return statements;
}

}  // namespace dbinit
