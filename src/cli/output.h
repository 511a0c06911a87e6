#pragma once

// Human output: progress and diagnostics on stderr, each line prefixed `dbinit: `; results on
// stdout. `-q` keeps only warnings and errors, `-v` adds detail.

#include <string_view>

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

 private:
  Verbosity m_verbosity;
};

/// Prints `error` to stderr as `dbinit: error: ...` (and, with -v, the failing statement).
void print_error(const Error& error, Verbosity verbosity);

}  // namespace dbinit::cli
