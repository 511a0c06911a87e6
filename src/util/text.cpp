#include "util/text.h"

#include <algorithm>

namespace dbinit {

int line_of(std::string_view text, std::size_t offset) {
  std::string_view before = text.substr(0, std::min(offset, text.size()));
  return 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
}

int column_of(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line_start = offset == 0 ? std::string_view::npos : text.rfind('\n', offset - 1);
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  return 1 + static_cast<int>(offset - line_start);
}

std::string_view trim_left(std::string_view text) {
  std::size_t start = 0;
  while (start < text.size() && is_space(text[start])) ++start;
  return text.substr(start);
}

std::string_view trim_right(std::string_view text) {
  std::size_t end = text.size();
  while (end > 0 && is_space(text[end - 1])) --end;
  return text.substr(0, end);
}

std::string_view trim(std::string_view text) {
  return trim_right(trim_left(text));
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = to_lower(c);
  return out;
}

bool equals_ci(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return to_lower(x) == to_lower(y);
         });
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && equals_ci(text.substr(0, prefix.size()), prefix);
}

bool ends_with_ci(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         equals_ci(text.substr(text.size() - suffix.size()), suffix);
}

std::size_t find_ci(std::string_view text, std::string_view needle, std::size_t from) {
  if (needle.empty()) return from <= text.size() ? from : std::string_view::npos;
  if (needle.size() > text.size()) return std::string_view::npos;
  char first = to_lower(needle[0]);
  std::string_view rest = needle.substr(1);
  for (std::size_t i = from; i + needle.size() <= text.size(); ++i) {
    if (to_lower(text[i]) == first && equals_ci(text.substr(i + 1, rest.size()), rest)) return i;
  }
  return std::string_view::npos;
}

namespace {

std::string quoted(std::string_view text, char quote) {
  std::string out;
  out.reserve(text.size() + 2);
  out += quote;
  for (char c : text) {
    if (c == quote) out += quote;
    out += c;
  }
  out += quote;
  return out;
}

}  // namespace

std::string sql_string_literal(std::string_view text) {
  return quoted(text, '\'');
}

std::string sql_quoted_identifier(std::string_view name) {
  return quoted(name, '"');
}

}  // namespace dbinit
