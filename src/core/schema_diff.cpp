#include "core/schema_diff.h"

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

namespace dbinit {

namespace {

std::vector<std::string_view> non_blank_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) lines.push_back(line);
    pos = end + 1;
  }
  return lines;
}

// Above this many cells the LCS table is not built: the differing middle is then listed as all
// removed, then all added, which is still a correct (if not minimal) diff.
constexpr std::size_t k_max_table_cells = std::size_t{1} << 22;

// The full diff, `-` / `+` prefixed.
std::vector<std::string> full_diff(std::string_view before, std::string_view after) {
  const std::vector<std::string_view> a = non_blank_lines(before);
  const std::vector<std::string_view> b = non_blank_lines(after);
  // Common head and tail first: schemas usually differ in a few lines.
  std::size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  std::size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head &&
         a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) {
    ++tail;
  }
  const std::size_t n = a.size() - head - tail;
  const std::size_t m = b.size() - head - tail;
  std::vector<std::string> out;
  auto removed = [&](std::size_t i) { out.push_back(fmt::format("- {}", a[head + i])); };
  auto added = [&](std::size_t j) { out.push_back(fmt::format("+ {}", b[head + j])); };
  if (n == 0 || m == 0 || (n + 1) * (m + 1) > k_max_table_cells) {
    for (std::size_t i = 0; i < n; ++i) removed(i);
    for (std::size_t j = 0; j < m; ++j) added(j);
    return out;
  }
  // lcs[i][j]: length of the longest common subsequence of a[head+i..] and b[head+j..].
  std::vector<std::uint32_t> lcs((n + 1) * (m + 1), 0);
  auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return lcs[i * (m + 1) + j]; };
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      at(i, j) =
          a[head + i] == b[head + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    }
  }
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < n && j < m) {
    if (a[head + i] == b[head + j]) {
      ++i;
      ++j;
    } else if (at(i + 1, j) >= at(i, j + 1)) {
      removed(i++);
    } else {
      added(j++);
    }
  }
  while (i < n) removed(i++);
  while (j < m) added(j++);
  return out;
}

}  // namespace

std::vector<std::string> schema_diff(std::string_view before, std::string_view after,
                                     std::size_t max_lines) {
  std::vector<std::string> out = full_diff(before, after);
  if (out.size() > max_lines) {
    const std::size_t kept = max_lines == 0 ? 0 : max_lines - 1;
    const std::size_t more = out.size() - kept;
    out.resize(kept);
    out.push_back(fmt::format("... {} more {}", more, more == 1 ? "line differs" : "lines differ"));
  }
  return out;
}

std::size_t schema_distance(std::string_view before, std::string_view after) {
  return full_diff(before, after).size();
}

}  // namespace dbinit
