#include "engines/mysql/mysql_splitter.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace dbinit {

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char upper(char c) {
  return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
}

// `--` starts a comment only when followed by a space or control character (or the end), as in
// the server: `1--1` is arithmetic.
bool starts_dash_comment(std::string_view sql, std::size_t i) {
  if (i + 1 >= sql.size() || sql[i] != '-' || sql[i + 1] != '-') return false;
  if (i + 2 == sql.size()) return true;
  unsigned char next = static_cast<unsigned char>(sql[i + 2]);
  return next <= ' ';
}

// `/*!` or `/*M!` at `i`.
bool starts_executable_comment(std::string_view sql, std::size_t i) {
  if (sql.substr(i, 3) == "/*!") return true;
  return sql.substr(i, 4) == "/*M!";
}

// Length of the `/*!12345` or `/*M!100100` opener at `i` (marker and version digits).
std::size_t executable_opener_length(std::string_view sql, std::size_t i) {
  std::size_t j = i + (sql[i + 2] == 'M' ? 4 : 3);
  while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
  return j - i;
}

// Parses a `DELIMITER xx` command starting at `i` (the first non-blank of a line). Returns the
// position after the command's line and sets `delimiter`, or returns npos when the line is not a
// DELIMITER command.
std::size_t parse_delimiter_command(std::string_view sql, std::size_t i, int line,
                                    std::string& delimiter) {
  constexpr std::string_view k_word = "DELIMITER";
  if (sql.size() - i < k_word.size()) return std::string_view::npos;
  for (std::size_t k = 0; k < k_word.size(); ++k) {
    if (upper(sql[i + k]) != k_word[k]) return std::string_view::npos;
  }
  std::size_t j = i + k_word.size();
  if (j < sql.size() && !is_blank(sql[j])) return std::string_view::npos;  // `delimiters`
  std::size_t line_end = sql.find('\n', j);
  if (line_end == std::string_view::npos) line_end = sql.size();
  while (j < line_end && is_blank(sql[j])) ++j;
  std::size_t start = j;
  while (j < line_end && !is_blank(sql[j])) ++j;
  std::string_view value = sql.substr(start, j - start);
  // A quoted delimiter (`DELIMITER '$$'`) is written without its quotes, as the client does.
  if (value.size() >= 2 &&
      (value.front() == '\'' || value.front() == '"' || value.front() == '`') &&
      value.back() == value.front()) {
    value = value.substr(1, value.size() - 2);
  }
  if (value.empty()) {
    throw MysqlSplitError(line, "DELIMITER must be followed by a delimiter character or string");
  }
  if (value.find('\\') != std::string_view::npos) {
    throw MysqlSplitError(line, "DELIMITER cannot contain a backslash character");
  }
  delimiter = std::string(value);
  return line_end == sql.size() ? line_end : line_end + 1;
}

// mariadb-dump (10.11.8 and later) starts its output with the client command
// `/*M!999999\- enable the sandbox mode */`, which the `mariadb` client executes (it then refuses
// shell commands) and other clients ignore. It has no delimiter, so it is skipped as a line of its
// own rather than glued to the next statement. Returns the position after the line, or npos.
std::size_t skip_sandbox_command(std::string_view sql, std::size_t i) {
  if (sql.substr(i, 12) != "/*M!999999\\-") return std::string_view::npos;
  std::size_t line_end = sql.find('\n', i);
  return line_end == std::string_view::npos ? sql.size() : line_end + 1;
}

class Splitter {
 public:
  explicit Splitter(std::string_view sql) : m_sql(sql) {}

  std::vector<MysqlStatement> run() {
    std::size_t i = 0;
    if (m_sql.starts_with("\xEF\xBB\xBF")) i = 3;
    bool line_start = true;
    while (i < m_sql.size()) {
      char c = m_sql[i];

      if (line_start && !m_in_executable) {
        // Client commands are recognised at the start of a line (after blanks).
        std::size_t j = i;
        while (j < m_sql.size() && (m_sql[j] == ' ' || m_sql[j] == '\t')) ++j;
        std::size_t after = parse_delimiter_command(m_sql, j, m_line, m_delimiter);
        if (after == std::string_view::npos && m_start == std::string_view::npos) {
          after = skip_sandbox_command(m_sql, j);
        }
        if (after != std::string_view::npos) {
          finish(i);
          m_line += 1;
          i = after;
          line_start = true;
          continue;
        }
      }
      line_start = false;

      if (c == '\n') {
        ++m_line;
        line_start = true;
        ++i;
        continue;
      }
      if (is_blank(c)) {
        ++i;
        continue;
      }
      if (!m_in_executable && m_sql.compare(i, m_delimiter.size(), m_delimiter) == 0) {
        finish(i);
        i += m_delimiter.size();
        continue;
      }
      if (c == '\'' || c == '"' || c == '`') {
        mark_start(i);
        i = skip_quoted(i);
        continue;
      }
      if (c == '#' || starts_dash_comment(m_sql, i)) {
        std::size_t end = m_sql.find('\n', i);
        i = end == std::string_view::npos ? m_sql.size() : end;  // the newline is handled above
        continue;
      }
      if (c == '/' && i + 1 < m_sql.size() && m_sql[i + 1] == '*') {
        if (!m_in_executable && starts_executable_comment(m_sql, i)) {
          mark_start(i);
          m_in_executable = true;
          i += executable_opener_length(m_sql, i);
          continue;
        }
        i = skip_block_comment(i);
        continue;
      }
      if (m_in_executable && c == '*' && i + 1 < m_sql.size() && m_sql[i + 1] == '/') {
        m_in_executable = false;
        i += 2;
        continue;
      }
      mark_start(i);
      ++i;
    }
    finish(m_sql.size());
    return std::move(m_statements);
  }

 private:
  void mark_start(std::size_t i) {
    if (m_start != std::string_view::npos) return;
    m_start = i;
    m_start_line = m_line;
  }

  // Ends the current statement at `end` (exclusive), if it has any content.
  void finish(std::size_t end) {
    m_in_executable = false;
    if (m_start == std::string_view::npos) return;
    std::size_t stop = end;
    while (stop > m_start && is_blank(m_sql[stop - 1])) --stop;
    m_statements.push_back({m_sql.substr(m_start, stop - m_start), m_start, m_start_line});
    m_start = std::string_view::npos;
  }

  // Skips a quoted string or identifier starting at `i`; returns the position after it. Strings
  // take backslash escapes and doubled quotes; backticked names only doubled backticks.
  std::size_t skip_quoted(std::size_t i) {
    // memchr jumps from one quote or backslash to the next, which keeps the megabyte-long strings
    // of a dump's extended INSERT cheap. Both positions are remembered until passed, so that a
    // string full of escapes is still read once.
    constexpr std::size_t k_none = std::string_view::npos;
    const char quote = m_sql[i];
    const std::size_t begin = i;
    std::size_t end = m_sql.size();
    std::size_t next_quote = 0;
    std::size_t next_backslash = quote == '`' ? k_none : 0;
    ++i;
    while (true) {
      if (next_quote != k_none && next_quote < i) next_quote = find_byte(quote, i);
      if (next_backslash != k_none && next_backslash < i) next_backslash = find_byte('\\', i);
      if (next_quote == k_none) break;
      if (next_backslash < next_quote) {
        i = next_backslash + 2;
        continue;
      }
      if (next_quote + 1 < m_sql.size() && m_sql[next_quote + 1] == quote) {
        i = next_quote + 2;
        continue;
      }
      end = next_quote + 1;
      break;
    }
    m_line += count_newlines(begin, std::min(end, m_sql.size()));
    return end;
  }

  std::size_t find_byte(char c, std::size_t from) const {
    if (from >= m_sql.size()) return std::string_view::npos;
    const void* found = std::memchr(m_sql.data() + from, c, m_sql.size() - from);
    return found ? static_cast<std::size_t>(static_cast<const char*>(found) - m_sql.data())
                 : std::string_view::npos;
  }

  int count_newlines(std::size_t from, std::size_t to) const {
    int lines = 0;
    while (from < to) {
      const void* found = std::memchr(m_sql.data() + from, '\n', to - from);
      if (!found) break;
      ++lines;
      from = static_cast<std::size_t>(static_cast<const char*>(found) - m_sql.data()) + 1;
    }
    return lines;
  }

  std::size_t skip_block_comment(std::size_t i) {
    std::size_t end = m_sql.find("*/", i + 2);
    std::size_t stop = end == std::string_view::npos ? m_sql.size() : end + 2;
    for (std::size_t k = i; k < stop; ++k) {
      if (m_sql[k] == '\n') ++m_line;
    }
    return stop;
  }

  std::string_view m_sql;
  std::string m_delimiter = ";";
  std::vector<MysqlStatement> m_statements;
  std::size_t m_start = std::string_view::npos;
  int m_start_line = 1;
  int m_line = 1;
  bool m_in_executable = false;
};

}  // namespace

std::vector<MysqlStatement> split_mysql_script(std::string_view sql) {
  return Splitter(sql).run();
}

std::vector<std::string> mysql_leading_words(std::string_view sql, std::size_t count) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < sql.size() && words.size() < count) {
    char c = sql[i];
    if (is_blank(c)) {
      ++i;
    } else if (c == '#' || starts_dash_comment(sql, i)) {
      std::size_t end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      if (starts_executable_comment(sql, i)) {
        i += executable_opener_length(sql, i);
      } else {
        std::size_t end = sql.find("*/", i + 2);
        i = end == std::string_view::npos ? sql.size() : end + 2;
      }
    } else if (c == '`') {
      std::string word;
      ++i;
      while (i < sql.size()) {
        if (sql[i] == '`') {
          if (i + 1 < sql.size() && sql[i + 1] == '`') {
            word += '`';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        word += sql[i++];
      }
      words.push_back(std::move(word));
    } else if (c == '\'' || c == '"') {
      // A string is a word too (`USE 'db'` is not valid, but SET x = 'a' shifts the count).
      char quote = c;
      ++i;
      std::string word;
      while (i < sql.size() && sql[i] != quote) {
        if (sql[i] == '\\' && i + 1 < sql.size()) ++i;
        word += sql[i++];
      }
      ++i;
      words.push_back(std::move(word));
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '@' ||
               static_cast<unsigned char>(c) >= 0x80) {
      std::string word;
      while (i < sql.size()) {
        char w = sql[i];
        if (!(std::isalnum(static_cast<unsigned char>(w)) || w == '_' || w == '$' || w == '@' ||
              w == '.' || static_cast<unsigned char>(w) >= 0x80)) {
          break;
        }
        word += upper(w);
        ++i;
      }
      words.push_back(std::move(word));
    } else {
      ++i;  // punctuation: `(`, `=`, `*/`, ...
    }
  }
  return words;
}

std::string mysql_first_keyword(std::string_view statement) {
  std::vector<std::string> words = mysql_leading_words(statement, 1);
  return words.empty() ? std::string() : words.front();
}

}  // namespace dbinit
