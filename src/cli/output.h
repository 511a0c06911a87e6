#pragma once

// Human output: progress and diagnostics on stderr, each line prefixed `dbinit: `; results on
// stdout. `-q` keeps only warnings and errors, `-v` adds detail.
//
// Everything dbinit prints goes through print_out(), print_err() or print_json(), which pass it
// through redact() (util/redactor.h) last: no other code writes to stdout or stderr.

#include <string_view>

#include <nlohmann/json.hpp>

#include "core/reporter.h"
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
