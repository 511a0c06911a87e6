#pragma once

// Human output: progress and diagnostics on stderr, each line prefixed `dbinit: `; results on
// stdout. `-q` keeps only warnings and errors, `-v` adds detail.
//
// Everything dbinit prints goes through print_out(), print_err() or print_json(), which pass it
// through redact() (util/redactor.h) last: no other code writes to stdout or stderr.

#include <string_view>

#include <nlohmann/json.hpp>

#include "core/reporter.h"
#include "engines/snapshot.h"
#include "util/error.h"

namespace dbinit::cli {

enum class Verbosity { quiet, normal, verbose };

class HumanReporter final : public Reporter {
 public:
  explicit HumanReporter(Verbosity verbosity) : m_verbosity(verbosity) {}
  void note(std::string_view line) override;
  void warn(std::string_view line) override;
  void detail(std::string_view line) override;
  void applied(const Migration& migration, std::chrono::milliseconds duration) override;
  void relay(std::string_view line) override;

 private:
  Verbosity m_verbosity;
};

/// One progress line on stderr for dumps and loads (`dbinit: loading public.orders: 1.2M of 3.0M
/// rows, 140 MB, 95 MB/s, 2s left`), redrawn at most ten times a second, only when stderr is a
/// terminal and not with -q. finish() clears it.
class TerminalProgress final : public SnapshotProgress {
 public:
  TerminalProgress(Verbosity verbosity, std::string verb);
  ~TerminalProgress() override;
  void table(std::string_view name, std::int64_t expected_rows) override;
  void advance(std::int64_t rows, std::int64_t bytes) override;
  /// Clears the line.
  void finish();

 private:
  void draw(bool force);
  bool m_enabled = false;
  bool m_drawn = false;
  std::string m_verb;
  std::string m_table;
  std::int64_t m_expected = -1;
  std::int64_t m_rows = 0;
  std::int64_t m_bytes = 0;
  std::int64_t m_total_bytes = 0;
  std::chrono::steady_clock::time_point m_start;
  std::chrono::steady_clock::time_point m_last;
};

/// Asks at the terminal for the database's name after `warning` (`this drops the database ...`);
/// returns the line typed, empty when there is none. Only for a stdin that is a terminal.
std::string ask_database_name(std::string_view warning, const std::string& name,
                              const std::string& target);

/// Writes `text` to stdout / stderr, known secrets redacted, and flushes.
void print_out(std::string_view text);
void print_err(std::string_view text);

/// Writes `document` to stdout as indented JSON followed by a newline. Every string in it
/// (keys included) is redacted first; bytes that are not valid UTF-8 are written as U+FFFD, so
/// the output is always valid JSON.
void print_json(const nlohmann::json& document);

/// Prints `error` to stderr as `dbinit: error: ...` (and, with -v, the failing statement).
void print_error(const Error& error, Verbosity verbosity);

/// `error` as JSON: `{"category", "message", "where", "code", "detail", "state", "hint",
/// "exit_code"}`, empty parts as null.
nlohmann::json error_json(const Error& error);

/// The name of `kind` in JSON output: `usage`, `config`, `drift`, `not_current`, ...
std::string_view to_string(ErrorKind kind);

}  // namespace dbinit::cli
