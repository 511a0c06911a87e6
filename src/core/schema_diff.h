#pragma once

// A short line diff of two schema texts (schema_text(), engines/engine.h), for messages that must
// say WHAT differs: `verify` (a down that does not restore the schema) and `baseline --detect` (the
// closest version). Pure text, no database.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dbinit {

/// The lines that differ between `before` and `after`, in order: `- line` for a line only in
/// `before`, `+ line` for a line only in `after` (a longest-common-subsequence diff; blank lines
/// are ignored). Empty when the texts have the same non-blank lines. At most `max_lines` entries;
/// when more differ, the last entry is `... N more lines differ`.
std::vector<std::string> schema_diff(std::string_view before, std::string_view after,
                                     std::size_t max_lines = 20);

/// The number of lines that differ between `before` and `after` (the size of the full diff).
std::size_t schema_distance(std::string_view before, std::string_view after);

}  // namespace dbinit
