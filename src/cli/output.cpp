#include "cli/output.h"

#include <cstdio>

#include <fmt/format.h>

#include "core/migration.h"

namespace dbinit::cli {

namespace {

void line(std::string_view prefix, std::string_view text) {
  fmt::print(stderr, "dbinit: {}{}\n", prefix, text);
}

}  // namespace

void HumanReporter::note(std::string_view text) {
  if (m_verbosity != Verbosity::quiet) line("", text);
}

void HumanReporter::warn(std::string_view text) {
  line("warning: ", text);
}

void HumanReporter::detail(std::string_view text) {
  if (m_verbosity == Verbosity::verbose) line("", text);
}

void HumanReporter::applied(const Migration& migration, std::chrono::milliseconds duration) {
  if (m_verbosity != Verbosity::quiet) {
    fmt::print(stderr, "dbinit: applied {} ({} ms)\n", migration.name, duration.count());
  }
}

void print_error(const Error& error, Verbosity verbosity) {
  std::fflush(stdout);
  fmt::print(stderr, "dbinit: error: {}\n", error.full_message());
  // One line each for the engine's detail lines (PostgreSQL's DETAIL, HINT and CONTEXT), so that
  // every line of stderr starts with `dbinit: `.
  std::string_view detail = error.detail;
  while (!detail.empty()) {
    const std::size_t end = detail.find('\n');
    const std::string_view line = detail.substr(0, end);
    if (!line.empty()) fmt::print(stderr, "dbinit: detail: {}\n", line);
    detail = end == std::string_view::npos ? std::string_view{} : detail.substr(end + 1);
  }
  if (verbosity == Verbosity::verbose && !error.statement.empty()) {
    fmt::print(stderr, "dbinit: statement: {}\n", error.statement);
  }
}

}  // namespace dbinit::cli
