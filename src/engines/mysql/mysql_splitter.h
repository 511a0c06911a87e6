#pragma once

// Splits MySQL/MariaDB SQL text into statements the way the `mysql`/`mariadb` command-line client
// does, so that scripts written for the client (migrations, mysqldump/mariadb-dump output) run
// statement by statement through the C API:
//
// - `DELIMITER xx` lines (a client command, case-insensitive, first thing on a line) change the
//   statement delimiter; they are not sent to the server. Stored programs are written in
//   `DELIMITER ;;` or `DELIMITER $$` blocks. Unlike the client, a DELIMITER line also ends a
//   statement that lacks its delimiter instead of becoming part of its text.
// - Delimiters inside '...' and "..." strings (backslash escapes and doubled quotes), `backticked`
//   identifiers, `# ...` and `-- ...` comments (`--` followed by a space or control character) and
//   `/* ... */` comments do not end a statement.
// - Executable comments `/*! ... */`, `/*!50003 ... */` and MariaDB's `/*M!100100 ... */` stay in
//   the statement text, since the server executes them; a delimiter inside one does not end the
//   statement (mysqldump writes `/*!40101 SET ... */;` with the delimiter after the comment; the
//   client would split there and send the server half a comment).
// - mariadb-dump's first line, the client command `/*M!999999\- enable the sandbox mode */`, is
//   skipped like a DELIMITER line.
// - Comments before a statement are not part of it; text that holds only comments and blanks is no
//   statement. The delimiter itself is not part of the statement text.
//
// Reference: https://mariadb.com/kb/en/comment-syntax/ and https://mariadb.com/kb/en/delimiters/

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dbinit {

struct MysqlStatement {
  /// The statement without leading comments, trailing blanks and the delimiter (a view into the
  /// script passed to split_mysql_script()).
  std::string_view text;
  /// Byte offset of `text` in the script.
  std::size_t offset = 0;
  /// 1-based line of the script on which `text` begins.
  int line = 1;
};

/// A client command the splitter cannot make sense of (`DELIMITER` without an argument).
class MysqlSplitError : public std::runtime_error {
 public:
  MysqlSplitError(int line, const std::string& message)
      : std::runtime_error(message), m_line(line) {}
  /// 1-based line of the script.
  int line() const { return m_line; }

 private:
  int m_line;
};

/// The statements of `sql` in order. A UTF-8 byte order mark at the start is skipped. An unfinished
/// string or comment at the end runs to the end of the text (the server then reports the syntax
/// error). Throws MysqlSplitError for a malformed DELIMITER command.
std::vector<MysqlStatement> split_mysql_script(std::string_view sql);

/// The first keyword of `statement` in upper case (`INSERT`, `CREATE`, ...), looking through
/// leading comments and into an executable comment (`/*!40101 SET ...*/` gives `SET`); empty when
/// there is none.
std::string mysql_first_keyword(std::string_view statement);

/// The words of `statement` in upper case, up to `count` of them, read the same way as
/// mysql_first_keyword(): through comments, into executable comments, with `backticked` names
/// unquoted (but not upper-cased) and punctuation skipped.
std::vector<std::string> mysql_leading_words(std::string_view statement, std::size_t count);

}  // namespace dbinit
