#pragma once

// Small lexical helpers for running SQL scripts on SQLite. SQLite's own parser splits statements
// (sqlite3_prepare's tail pointer); these only find where a statement starts, what kind of
// transaction statement it is, and which line of the file a byte offset is on.

#include <cstddef>
#include <string_view>

namespace dbinit {

/// The offset of the first byte at or after `pos` that is neither white space nor inside an SQL
/// comment (`-- ...` to the end of the line, `/* ... */`); `sql.size()` when there is none.
std::size_t skip_space_and_comments(std::string_view sql, std::size_t pos);

enum class TransactionControl {
  none,
  begin,     // BEGIN [DEFERRED|IMMEDIATE|EXCLUSIVE] [TRANSACTION]
  commit,    // COMMIT or END [TRANSACTION]
  rollback,  // ROLLBACK [TRANSACTION], but not ROLLBACK TO a savepoint
};

/// What kind of transaction statement `statement` (starting at its first keyword) is.
TransactionControl transaction_control(std::string_view statement);

/// True for `PRAGMA foreign_keys=OFF;` in any spelling (case, spaces, quotes, 0/false/no).
bool is_foreign_keys_off(std::string_view statement);

/// The text of the statement that starts at `pos`: up to and including the first `;` at which
/// the text is a complete SQL statement (sqlite3_complete), or the rest of `sql`.
std::string_view statement_text(std::string_view sql, std::size_t pos);

/// `statement` without leading and trailing white space.
std::string_view trim_statement(std::string_view statement);

/// Line numbers of byte offsets in a script whose first byte is on line `first_line`.
class LineCounter {
 public:
  LineCounter(std::string_view text, int first_line) : m_text(text), m_line(first_line) {}
  /// The line of the byte at `pos`. Cheapest when called with growing offsets.
  int line_at(std::size_t pos);

 private:
  std::string_view m_text;
  std::size_t m_pos = 0;
  int m_line;
};

}  // namespace dbinit
