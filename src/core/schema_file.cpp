#include "core/schema_file.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/connect.h"
#include "core/scratch.h"
#include "util/error.h"
#include "util/text.h"

namespace dbinit {

namespace {

constexpr std::string_view k_header =
    "-- The schema that the migrations recorded at the end of this file build, written by\n"
    "-- `dbinit schema`. `dbinit up` loads it into an empty database instead of replaying them,\n"
    "-- then applies newer migrations. Regenerate it rather than editing it.\n";

constexpr std::string_view k_ledger_header =
    "-- The migrations this schema contains (dbinit's ledger).\n";

// The header line naming the engine the file is for.
constexpr std::string_view k_engine_line = "-- engine: ";

// How each recorded row starts; read_schema_file_rows() looks for exactly this.
constexpr std::string_view k_insert =
    "INSERT INTO dbinit_migrations (version, name, checksum, state, applied_at, duration_ms, "
    "applied_by, down_sql, error) VALUES (";

LedgerEntry row_of(std::string version, std::string name, std::string checksum,
                   std::optional<std::string> down_sql) {
  LedgerEntry entry;
  entry.version = std::move(version);
  entry.name = std::move(name);
  entry.checksum = std::move(checksum);
  entry.state = LedgerState::applied;
  entry.applied_by = std::string(k_schema_file_applied_by);
  entry.down_sql = std::move(down_sql);
  return entry;
}

// --- Reading the rows back --------------------------------------------------------------------

// One value of a VALUES list: a string literal, NULL, a number, or an expression (a function
// call, whose text is kept but not interpreted).
struct Value {
  bool null = false;
  std::string text;
};

class TupleReader {
 public:
  TupleReader(std::string_view text, std::size_t at, bool backslash_escapes)
      : m_text(text), m_at(at), m_backslash(backslash_escapes) {}

  /// Where reading stopped: after the closing parenthesis of a list that was read.
  std::size_t position() const { return m_at; }

  // Reads `value, value, ... )`; nullopt when the text is not such a list.
  std::optional<std::vector<Value>> values() {
    std::vector<Value> out;
    while (true) {
      skip_space();
      std::optional<Value> value = next();
      if (!value) return std::nullopt;
      out.push_back(std::move(*value));
      skip_space();
      if (m_at >= m_text.size()) return std::nullopt;
      char c = m_text[m_at++];
      if (c == ')') return out;
      if (c != ',') return std::nullopt;
    }
  }

 private:
  void skip_space() {
    while (m_at < m_text.size() && is_space(m_text[m_at])) ++m_at;
  }

  std::optional<Value> next() {
    if (m_at >= m_text.size()) return std::nullopt;
    char c = m_text[m_at];
    if (c == '\'') return literal();
    std::size_t start = m_at;
    int depth = 0;
    while (m_at < m_text.size()) {
      c = m_text[m_at];
      if (c == '\'') {
        if (!literal()) return std::nullopt;
        continue;
      }
      if (c == '(') ++depth;
      if (c == ')') {
        if (depth == 0) break;
        --depth;
      }
      if (c == ',' && depth == 0) break;
      ++m_at;
    }
    Value value;
    value.text = std::string(trim(m_text.substr(start, m_at - start)));
    value.null = equals_ci(value.text, "NULL");
    if (value.text.empty()) return std::nullopt;
    return value;
  }

  std::optional<Value> literal() {
    Value value;
    ++m_at;  // the opening quote
    while (m_at < m_text.size()) {
      char c = m_text[m_at++];
      if (c == '\'') {
        if (m_at < m_text.size() && m_text[m_at] == '\'') {
          value.text += '\'';
          ++m_at;
          continue;
        }
        return value;
      }
      if (c == '\\' && m_backslash && m_at < m_text.size()) {
        char escaped = m_text[m_at++];
        switch (escaped) {
          case '0':
            value.text += '\0';
            break;
          case 'n':
            value.text += '\n';
            break;
          case 'r':
            value.text += '\r';
            break;
          case 't':
            value.text += '\t';
            break;
          case 'Z':
            value.text += '\x1a';
            break;
          default:
            value.text += escaped;
        }
        continue;
      }
      value.text += c;
    }
    return std::nullopt;
  }

  std::string_view m_text;
  std::size_t m_at;
  bool m_backslash;
};

}  // namespace

std::vector<LedgerEntry> schema_file_rows(std::span<const LedgerEntry> ledger) {
  std::vector<LedgerEntry> rows;
  for (const LedgerEntry& entry : ledger) {
    if (entry.state == LedgerState::failed) {
      Error error(ErrorKind::needs_repair, fmt::format("migration {} ({}) is recorded as failed",
                                                       entry.version, entry.name));
      error.state = "no schema file was written";
      error.hint =
          fmt::format("a schema file describes a finished schema; run `dbinit repair` for {} first",
                      entry.version);
      throw error;
    }
    rows.push_back(row_of(entry.version, entry.name, entry.checksum, entry.down_sql));
  }
  sort_ledger(rows);
  return rows;
}

std::vector<LedgerEntry> schema_file_rows(std::span<const Migration> migrations) {
  std::vector<LedgerEntry> rows;
  for (const Migration& migration : migrations) {
    rows.push_back(
        row_of(migration.version.str(), migration.name, migration.checksum, migration.down_sql));
  }
  sort_ledger(rows);
  return rows;
}

std::string render_schema_file(const SchemaSupport& support, const SchemaModel& model,
                               std::span<const LedgerEntry> rows) {
  std::string out(k_header);
  if (!model.engine.empty()) out += fmt::format("{}{}\n", k_engine_line, model.engine);
  std::string ddl = support.render(model);
  if (!ddl.empty()) {
    out += '\n';
    out += ddl;
  }
  out += '\n';
  out += k_ledger_header;
  out += support.ledger_ddl();
  for (const LedgerEntry& row : rows) {
    auto optional = [&](const std::optional<std::string>& text) {
      return text ? support.quote_literal(*text) : std::string("NULL");
    };
    out += k_insert;
    out += fmt::format("{}, {}, {}, {}, {}, {}, {}, {}, {});\n", support.quote_literal(row.version),
                       support.quote_literal(row.name), support.quote_literal(row.checksum),
                       support.quote_literal(to_string(row.state)), support.utc_now_sql,
                       row.duration_ms, support.quote_literal(row.applied_by),
                       optional(row.down_sql), optional(row.error));
  }
  return out;
}

std::optional<std::string> schema_file_engine(std::string_view text) {
  // Only the comment lines at the top of the file are its header.
  std::size_t at = 0;
  while (at < text.size() && text.substr(at).starts_with("--")) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(at, end - at);
    if (line.starts_with(k_engine_line)) {
      return std::string(trim(line.substr(k_engine_line.size())));
    }
    at = end + 1;
  }
  return std::nullopt;
}

std::vector<LedgerEntry> read_schema_file_rows(std::string_view text, const SchemaSupport& support,
                                               const std::string& display) {
  std::vector<LedgerEntry> rows;
  std::size_t at = 0;
  while ((at = text.find(k_insert, at)) != std::string_view::npos) {
    // Only statements at the start of a line: a down section may quote such a statement.
    if (at > 0 && text[at - 1] != '\n') {
      at += k_insert.size();
      continue;
    }
    TupleReader reader(text, at + k_insert.size(), support.backslash_escapes);
    std::optional<std::vector<Value>> values = reader.values();
    if (!values || values->size() != 9 || (*values)[0].null || (*values)[1].null ||
        (*values)[2].null || (*values)[3].null) {
      Error error(ErrorKind::config, "cannot read a ledger row of the schema file");
      error.where = fmt::format("{} line {}", display, line_of(text, at));
      error.hint = "the file was edited by hand; write it again with `dbinit schema`";
      throw error;
    }
    LedgerEntry entry;
    entry.version = (*values)[0].text;
    entry.name = (*values)[1].text;
    entry.checksum = (*values)[2].text;
    entry.state = parse_ledger_state((*values)[3].text);
    if (!(*values)[7].null) entry.down_sql = (*values)[7].text;
    rows.push_back(std::move(entry));
    // On after the row: its down section may hold such a statement at the start of a line.
    at = reader.position();
  }
  sort_ledger(rows);
  return rows;
}

std::optional<std::string> schema_file_staleness(std::span<const LedgerEntry> rows,
                                                 std::span<const Migration> migrations) {
  if (rows.empty()) return "it records no migrations";
  std::map<std::string, const Migration*, std::less<>> by_version;
  for (const Migration& migration : migrations) by_version[migration.version.str()] = &migration;
  for (const LedgerEntry& row : rows) {
    auto found = by_version.find(row.version);
    if (found == by_version.end()) {
      return fmt::format("it records {} ({}), which is not among the migration files", row.name,
                         row.version);
    }
    if (found->second->checksum != row.checksum) {
      return fmt::format("{} changed since the schema file was written", found->second->name);
    }
  }
  return std::nullopt;
}

std::optional<std::string> first_difference(std::string_view file, std::string_view expected) {
  if (file == expected) return std::nullopt;
  std::size_t line = 1;
  std::size_t a = 0;
  std::size_t b = 0;
  auto shorten = [](std::string_view text) {
    text = trim_right(text);
    if (text.size() <= 100) return std::string(text);
    return std::string(text.substr(0, 97)) + "...";
  };
  while (true) {
    std::size_t a_end = file.find('\n', a);
    std::size_t b_end = expected.find('\n', b);
    std::string_view a_line =
        a < file.size() ? file.substr(a, a_end == std::string_view::npos ? a_end : a_end - a) : "";
    std::string_view b_line =
        b < expected.size()
            ? expected.substr(b, b_end == std::string_view::npos ? b_end : b_end - b)
            : "";
    bool a_done = a >= file.size();
    bool b_done = b >= expected.size();
    if (a_done && b_done) {
      return fmt::format("line {}: the files differ only in their line endings", line);
    }
    if (a_done) {
      return fmt::format("line {}: the file ends where the migrations build \"{}\"", line,
                         shorten(b_line));
    }
    if (b_done) {
      return fmt::format("line {}: the file has \"{}\" after the end of what the migrations build",
                         line, shorten(a_line));
    }
    if (a_line != b_line) {
      return fmt::format("line {}: the file has \"{}\" where the migrations build \"{}\"", line,
                         shorten(a_line), shorten(b_line));
    }
    a = a_end == std::string_view::npos ? file.size() : a_end + 1;
    b = b_end == std::string_view::npos ? expected.size() : b_end + 1;
    ++line;
  }
}

namespace {

SchemaResult result_of(Engine& engine, const SchemaModel& model, std::span<const LedgerEntry> rows,
                       std::string url) {
  SchemaResult result;
  result.engine = std::string(engine.name());
  result.url = std::move(url);
  result.text = render_schema_file(schema_support(engine), model, rows);
  result.migrations = static_cast<int>(rows.size());
  result.tables = static_cast<int>(model.tables.size());
  result.views = static_cast<int>(model.views.size());
  return result;
}

}  // namespace

SchemaResult read_schema_file_of_database(const Project& project, std::chrono::milliseconds wait,
                                          Reporter& reporter) {
  ConnectOptions options;
  options.wait = wait;
  auto [engine, opened] = connect(project, false, options, reporter);
  if (opened == OpenResult::missing) {
    Error error(ErrorKind::usage, "the database does not exist");
    error.where = project.url.redacted();
    error.state = "nothing was written";
    error.hint =
        "run `dbinit up` to create it, or write the file from the migrations alone with "
        "`dbinit schema --from-migrations`";
    throw error;
  }
  const std::vector<LedgerEntry> ledger =
      engine->read_ledger().value_or(std::vector<LedgerEntry>{});
  const std::vector<LedgerEntry> rows = schema_file_rows(ledger);
  const SchemaModel model = read_for_rendering(schema_support(*engine), *engine);
  return result_of(*engine, model, rows, project.url.redacted());
}

SchemaResult build_schema_file_from_migrations(const Project& project, Reporter& reporter) {
  const MigrationSet files =
      load_migrations(project.migrations_dir, project.url.engine, project.migrations_dir.string());
  const EngineInfo* engine = find_engine(project.url.engine);
  ScratchDatabase scratch(engine != nullptr && engine->file_databases
                              ? std::nullopt
                              : std::optional<DatabaseUrl>(project.url));
  const std::string scratch_url = scratch.url().redacted();
  reporter.detail(fmt::format("applying {} migration{} to scratch database {}",
                              files.migrations.size(), files.migrations.size() == 1 ? "" : "s",
                              scratch_url));
  for (const Migration& migration : files.migrations) {
    try {
      run_on_scratch(scratch.engine(),
                     Script{migration.up_sql, migration.display, migration.up_line},
                     migration.directives);
    } catch (Error& error) {
      error.state = fmt::format("nothing was written; {} failed in scratch database {}",
                                migration.name, scratch_url);
      error.hint = "fix the migration and start again";
      throw;
    }
  }
  const SchemaModel model = read_for_rendering(schema_support(scratch.engine()), scratch.engine());
  SchemaResult result =
      result_of(scratch.engine(), model, schema_file_rows(files.migrations), scratch_url);
  try {
    scratch.drop();
  } catch (const Error& error) {
    reporter.warn(
        fmt::format("could not drop scratch database {}: {}", scratch_url, error.message()));
  }
  return result;
}

}  // namespace dbinit
