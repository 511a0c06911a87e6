#include "cli/output.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <fmt/format.h>

#include "core/migration.h"
#include "util/elapsed.h"
#include "util/redactor.h"

namespace dbinit::cli {

using nlohmann::json;

namespace {

void write(std::FILE* stream, std::string_view text) {
  const std::string clean = redact(text);
  std::fwrite(clean.data(), 1, clean.size(), stream);
  std::fflush(stream);
}

void line(std::string_view prefix, std::string_view text) {
  print_err(fmt::format("dbinit: {}{}\n", prefix, text));
}

// A copy of `value` with every string and key redacted.
json redacted(const json& value) {
  if (value.is_string()) return redact(value.get_ref<const std::string&>());
  if (value.is_array()) {
    json out = json::array();
    for (const json& item : value) out.push_back(redacted(item));
    return out;
  }
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [key, item] : value.items()) out[redact(key)] = redacted(item);
    return out;
  }
  return value;
}

json text_or_null(const std::string& text) {
  return text.empty() ? json(nullptr) : json(text);
}

}  // namespace

void print_out(std::string_view text) {
  write(stdout, text);
}

void print_err(std::string_view text) {
  std::fflush(stdout);
  write(stderr, text);
}

void print_json(const json& document) {
  print_out(redacted(document).dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

TerminalProgress::TerminalProgress(Verbosity verbosity, std::string verb)
    : m_enabled(verbosity != Verbosity::quiet && ::isatty(STDERR_FILENO) == 1),
      m_verb(std::move(verb)),
      m_start(std::chrono::steady_clock::now()),
      m_last(m_start) {}

TerminalProgress::~TerminalProgress() {
  finish();
}

void TerminalProgress::table(std::string_view name, std::int64_t expected_rows) {
  m_table = std::string(name);
  m_expected = expected_rows;
  m_rows = 0;
  draw(true);
}

void TerminalProgress::advance(std::int64_t rows, std::int64_t bytes) {
  m_rows += rows;
  m_bytes += bytes;
  m_total_bytes += bytes;
  draw(false);
}

void TerminalProgress::draw(bool force) {
  if (!m_enabled) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - m_last < std::chrono::milliseconds(100)) return;
  m_last = now;
  const double seconds = std::chrono::duration<double>(now - m_start).count();
  const double rate = seconds > 0 ? static_cast<double>(m_total_bytes) / seconds : 0;
  std::string text = fmt::format("dbinit: {} {}: {} rows", m_verb, m_table, m_rows);
  if (m_expected > 0) text += fmt::format(" of {}", m_expected);
  text +=
      fmt::format(", {:.1f} MB, {:.1f} MB/s", static_cast<double>(m_total_bytes) / 1e6, rate / 1e6);
  if (m_expected > 0 && m_rows > 0 && m_rows < m_expected && seconds > 0.5) {
    const double table_rate = static_cast<double>(m_rows) / seconds;
    text +=
        fmt::format(", about {:.0f}s left", static_cast<double>(m_expected - m_rows) / table_rate);
  }
  print_err("\r\033[K" + text);
  m_drawn = true;
}

void TerminalProgress::finish() {
  if (m_drawn) print_err("\r\033[K");
  m_drawn = false;
}

std::string ask_database_name(std::string_view warning, const std::string& name,
                              const std::string& target) {
  print_err(fmt::format("dbinit: {}\ndbinit: type the database's name ({}) to confirm: ",
                        fmt::format(fmt::runtime(warning), target), name));
  std::string line;
  if (!std::getline(std::cin, line)) return {};
  return line;
}

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
    line("", fmt::format("applied {} ({})", migration.name, duration_text(duration)));
  }
}

void HumanReporter::relay(std::string_view text) {
  print_err(fmt::format("{}\n", text));
}

void print_error(const Error& error, Verbosity verbosity) {
  std::string text = fmt::format("dbinit: error: {}\n", error.full_message());
  // One line each for the engine's detail lines (PostgreSQL's DETAIL, HINT and CONTEXT), so that
  // every line of stderr starts with `dbinit: `.
  std::string_view detail = error.detail;
  while (!detail.empty()) {
    const std::size_t end = detail.find('\n');
    const std::string_view line = detail.substr(0, end);
    if (!line.empty()) text += fmt::format("dbinit: detail: {}\n", line);
    detail = end == std::string_view::npos ? std::string_view{} : detail.substr(end + 1);
  }
  if (verbosity == Verbosity::verbose && !error.statement.empty()) {
    text += fmt::format("dbinit: statement: {}\n", error.statement);
  }
  print_err(text);
}

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::failure:
      return "failure";
    case ErrorKind::usage:
      return "usage";
    case ErrorKind::config:
      return "config";
    case ErrorKind::drift:
      return "drift";
    case ErrorKind::needs_repair:
      return "needs_repair";
    case ErrorKind::lock_timeout:
      return "lock_timeout";
    case ErrorKind::unreachable:
      return "unreachable";
    case ErrorKind::auth:
      return "auth";
    case ErrorKind::not_current:
      return "not_current";
    case ErrorKind::refused:
      return "refused";
    case ErrorKind::unmanaged:
      return "unmanaged";
    case ErrorKind::in_doubt:
      return "in_doubt";
  }
  return "failure";
}

json error_json(const Error& error) {
  return {{"category", to_string(error.kind())},  {"message", error.message()},
          {"where", text_or_null(error.where)},   {"code", text_or_null(error.code)},
          {"detail", text_or_null(error.detail)}, {"state", text_or_null(error.state)},
          {"hint", text_or_null(error.hint)},     {"exit_code", exit_code(error.kind())}};
}

}  // namespace dbinit::cli
