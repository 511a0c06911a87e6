#pragma once

// How the core tells the user what it is doing. The CLI implements it (human lines on stderr,
// quiet, verbose, JSON); a service embedding the library can implement it to feed its own log.

#include <chrono>
#include <cstdio>
#include <string_view>

namespace dbinit {

struct Migration;

class Reporter {
 public:
  virtual ~Reporter() = default;
  /// A step of progress: `created database sqlite:db/dev.sqlite3`, `restored db/init/init.sql`.
  virtual void note(std::string_view line) = 0;
  /// Something the user should look at that does not stop the run.
  virtual void warn(std::string_view line) = 0;
  /// Detail shown with -v only.
  virtual void detail(std::string_view line) = 0;
  /// `migration` was applied in `duration`.
  virtual void applied(const Migration& migration, std::chrono::milliseconds duration) = 0;
  /// A line (without its newline) that a command dbinit started (an after_up hook) wrote on its
  /// standard output or error. The default writes it to stderr as it is.
  virtual void relay(std::string_view line) {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
  }
};

/// A reporter that says nothing.
class SilentReporter final : public Reporter {
 public:
  void note(std::string_view) override {}
  void warn(std::string_view) override {}
  void detail(std::string_view) override {}
  void applied(const Migration&, std::chrono::milliseconds) override {}
  void relay(std::string_view) override {}
};

}  // namespace dbinit
