#include "engines/sqlite/sqlite_script.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace dbinit {

namespace {

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

bool is_word(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

/// The word at the start of `text` (after skipping space and comments), lowercased; `text` is
/// advanced past it.
std::string next_word(std::string_view& text) {
  std::size_t start = skip_space_and_comments(text, 0);
  std::size_t end = start;
  while (end < text.size() && is_word(text[end])) ++end;
  std::string word(text.substr(start, end - start));
  std::transform(word.begin(), word.end(), word.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  text.remove_prefix(end);
  return word;
}

}  // namespace

std::size_t skip_space_and_comments(std::string_view sql, std::size_t pos) {
  while (pos < sql.size()) {
    if (is_space(sql[pos])) {
      ++pos;
    } else if (sql.compare(pos, 2, "--") == 0) {
      std::size_t end = sql.find('\n', pos);
      pos = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (sql.compare(pos, 2, "/*") == 0) {
      std::size_t end = sql.find("*/", pos + 2);
      pos = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  return std::min(pos, sql.size());
}

TransactionControl transaction_control(std::string_view statement) {
  // Cheap rejection first: this runs for every statement of every script.
  if (statement.empty()) return TransactionControl::none;
  switch (std::tolower(static_cast<unsigned char>(statement[0]))) {
    case 'b':
    case 'c':
    case 'e':
    case 'r':
      break;
    default:
      return TransactionControl::none;
  }
  std::string word = next_word(statement);
  if (word == "begin") return TransactionControl::begin;
  if (word == "commit" || word == "end") return TransactionControl::commit;
  if (word != "rollback") return TransactionControl::none;
  word = next_word(statement);
  if (word == "transaction") word = next_word(statement);
  return word == "to" ? TransactionControl::none : TransactionControl::rollback;
}

bool is_foreign_keys_off(std::string_view statement) {
  if (statement.empty() || std::tolower(static_cast<unsigned char>(statement[0])) != 'p') {
    return false;
  }
  if (next_word(statement) != "pragma") return false;
  std::string rest;
  for (char c : statement) {
    if (is_space(c) || c == '\'' || c == '"' || c == ';') continue;
    rest += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return rest == "foreign_keys=off" || rest == "foreign_keys=0" || rest == "foreign_keys=false" ||
         rest == "foreign_keys=no";
}

std::string_view statement_text(std::string_view sql, std::size_t pos) {
  // Only used to show a statement that failed to prepare; bounded so that an unterminated string
  // early in a large dump does not make this quadratic.
  constexpr std::size_t k_longest = 64 * 1024;
  std::string_view rest = sql.substr(std::min(pos, sql.size()));
  std::size_t first = rest.find(';');
  for (std::size_t semi = first; semi != std::string_view::npos && semi < k_longest;
       semi = rest.find(';', semi + 1)) {
    std::string candidate(rest.substr(0, semi + 1));
    if (sqlite3_complete(candidate.c_str()) != 0) return rest.substr(0, semi + 1);
  }
  if (first != std::string_view::npos) return rest.substr(0, first + 1);
  return rest.substr(0, k_longest);
}

std::string_view trim_statement(std::string_view statement) {
  while (!statement.empty() && is_space(statement.front())) statement.remove_prefix(1);
  while (!statement.empty() && is_space(statement.back())) statement.remove_suffix(1);
  return statement;
}

int LineCounter::line_at(std::size_t pos) {
  pos = std::min(pos, m_text.size());
  if (pos < m_pos) {
    m_line -=
        static_cast<int>(std::count(m_text.begin() + static_cast<std::ptrdiff_t>(pos),
                                    m_text.begin() + static_cast<std::ptrdiff_t>(m_pos), '\n'));
  } else {
    m_line += static_cast<int>(std::count(m_text.begin() + static_cast<std::ptrdiff_t>(m_pos),
                                          m_text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
  }
  m_pos = pos;
  return m_line;
}

}  // namespace dbinit
