// The schema of an SQLite database (engines/schema_model.h), read from sqlite_master and the
// table-valued pragmas, and rendered back as the statements SQLite itself keeps: sqlite_master.sql
// is the text as it was written (with SQLite's own edits after ALTER TABLE), so the schema file
// creates exactly what the migrations created.

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engines/sqlite/sqlite_engine.h"
#include "util/error.h"
#include "util/text.h"

namespace dbinit {

namespace {

// --- Reading ----------------------------------------------------------------------------------

class Reader {
 public:
  explicit Reader(sqlite3* db) : m_db(db) {}
  ~Reader() {
    for (auto& [sql, statement] : m_statements) sqlite3_finalize(statement);
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  using Row = std::vector<std::optional<std::string>>;
  using Rows = std::vector<Row>;

  /// Runs `bulk` once: the rows of `per_object` for every object at once, the object's name in
  /// the first column. table_rows(per_object, name) then answers from these rows. A bulk query that
  /// fails (a view over a dropped table makes the pragmas fail) leaves table_rows() to run
  /// `per_object` for each object instead.
  void prefetch(const std::string& per_object, const std::string& bulk) {
    std::map<std::string, Rows, std::less<>> grouped;
    try {
      for (Row& row : rows(bulk)) {
        std::string name = row.front().value_or("");
        row.erase(row.begin());
        grouped[name].push_back(std::move(row));
      }
    } catch (const Error&) {
      return;
    }
    m_prefetched[per_object] = std::move(grouped);
  }

  /// rows(sql, name) for a table: from what prefetch() read, when it could.
  Rows table_rows(const std::string& sql, std::string_view name) {
    auto bulk = m_prefetched.find(sql);
    if (bulk == m_prefetched.end()) return rows(sql, name);
    auto found = bulk->second.find(name);
    return found == bulk->second.end() ? Rows{} : found->second;
  }

  /// Rows of `sql` with `parameter` bound to ?1 (when given), every column as text; NULL is
  /// nullopt. Each statement is prepared once and kept: the pragmas run once per table.
  Rows rows(const std::string& sql, std::optional<std::string_view> parameter = std::nullopt) {
    sqlite3_stmt*& statement = m_statements[sql];
    if (statement == nullptr && sqlite3_prepare_v2(m_db, sql.c_str(), static_cast<int>(sql.size()),
                                                   &statement, nullptr) != SQLITE_OK) {
      fail();
    }
    Rows out;
    if (parameter) {
      sqlite3_bind_text64(statement, 1, parameter->data(), parameter->size(), SQLITE_TRANSIENT,
                          SQLITE_UTF8);
    }
    int rc;
    const int columns = sqlite3_column_count(statement);
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
      Row row;
      row.reserve(static_cast<std::size_t>(columns));
      for (int column = 0; column < columns; ++column) {
        if (sqlite3_column_type(statement, column) == SQLITE_NULL) {
          row.emplace_back();
        } else {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
          row.emplace_back(
              std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(statement, column))));
        }
      }
      out.push_back(std::move(row));
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    if (rc != SQLITE_DONE) fail();
    return out;
  }

  /// The tables and views that a SELECT from view `name` reads, as SQLite's authorizer reports
  /// them: tables read by `name` itself, and views read through it (named as the source of their
  /// own reads).
  std::set<std::string> view_reads(const std::string& name) {
    struct Collected {
      std::string view;
      std::set<std::string> reads;
    } collected{name, {}};
    auto authorizer = [](void* data, int action, const char* table, const char*, const char*,
                         const char* source) -> int {
      auto* c = static_cast<Collected*>(data);
      if (action == SQLITE_READ && table != nullptr) {
        if (source == nullptr || c->view == source) {
          c->reads.insert(table);
        } else {
          c->reads.insert(source);
        }
      }
      return SQLITE_OK;
    };
    sqlite3_set_authorizer(m_db, authorizer, &collected);
    std::string quoted;
    for (char c : name) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    std::string sql = fmt::format("SELECT * FROM \"{}\"", quoted);
    sqlite3_stmt* statement = nullptr;
    int rc = sqlite3_prepare_v2(m_db, sql.c_str(), -1, &statement, nullptr);
    sqlite3_finalize(statement);
    sqlite3_set_authorizer(m_db, nullptr, nullptr);
    // A view that reads what no longer exists cannot be prepared: it simply has no known reads.
    (void)rc;
    collected.reads.erase(name);
    return collected.reads;
  }

 private:
  [[noreturn]] void fail() const {
    Error error(ErrorKind::failure,
                fmt::format("cannot read the schema: {}", sqlite3_errmsg(m_db)));
    error.where = sqlite3_db_filename(m_db, "main") ? sqlite3_db_filename(m_db, "main") : "";
    throw error;
  }

  sqlite3* m_db;
  std::map<std::string, sqlite3_stmt*> m_statements;
  std::map<std::string, std::map<std::string, Rows, std::less<>>> m_prefetched;
};

/// The parts of a parenthesised list at nesting depth one, split at top-level commas, trimmed:
/// `(a INT, CHECK (x > 0))` → `a INT`, `CHECK (x > 0)`. Quotes and comments are respected.
std::vector<std::string> top_level_parts(std::string_view text) {
  std::vector<std::string> parts;
  int depth = 0;
  std::string current;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\'' || c == '"' || c == '`' || c == '[') {
      char close = c == '[' ? ']' : c;
      std::size_t end = text.find(close, i + 1);
      while (end != std::string_view::npos && close != ']' && end + 1 < text.size() &&
             text[end + 1] == close) {
        end = text.find(close, end + 2);
      }
      if (end == std::string_view::npos) end = text.size() - 1;
      if (depth >= 1) current.append(text.substr(i, end - i + 1));
      i = end;
      continue;
    }
    if (c == '-' && i + 1 < text.size() && text[i + 1] == '-') {
      std::size_t end = text.find('\n', i);
      i = end == std::string_view::npos ? text.size() : end;
      continue;
    }
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      std::size_t end = text.find("*/", i + 2);
      i = end == std::string_view::npos ? text.size() : end + 1;
      continue;
    }
    if (c == '(') {
      if (depth++ == 0) continue;
    } else if (c == ')') {
      if (--depth == 0) {
        parts.push_back(std::string(trim(current)));
        break;
      }
    } else if (c == ',' && depth == 1) {
      parts.push_back(std::string(trim(current)));
      current.clear();
      continue;
    }
    if (depth >= 1) current += c;
  }
  return parts;
}

/// The first word of `part`, unquoted (`"order id" INT` → `order id`).
std::string first_identifier(std::string_view part) {
  if (part.empty()) return {};
  char open = part.front();
  if (open == '"' || open == '`' || open == '[') {
    char close = open == '[' ? ']' : open;
    std::string name;
    for (std::size_t i = 1; i < part.size(); ++i) {
      if (part[i] == close) {
        if (close != ']' && i + 1 < part.size() && part[i + 1] == close) {
          name += close;
          ++i;
          continue;
        }
        break;
      }
      name += part[i];
    }
    return name;
  }
  std::size_t end = 0;
  while (end < part.size() && !is_space(part[end]) && part[end] != '(') ++end;
  return std::string(part.substr(0, end));
}

/// The text inside the parentheses that follow the first match of `keyword` (a whole word,
/// compared without case) in `text`: `CHECK (a > 0)` → `a > 0`.
std::optional<std::string> parenthesised_after(std::string_view text, std::string_view keyword) {
  std::string lower = to_lower(text);
  std::size_t at = 0;
  while ((at = lower.find(keyword, at)) != std::string::npos) {
    bool word_start = at == 0 || !(std::isalnum(static_cast<unsigned char>(lower[at - 1])) ||
                                   lower[at - 1] == '_');
    std::size_t after = at + keyword.size();
    bool word_end =
        after >= lower.size() ||
        !(std::isalnum(static_cast<unsigned char>(lower[after])) || lower[after] == '_');
    if (word_start && word_end) {
      std::size_t open = after;
      while (open < text.size() && is_space(text[open])) ++open;
      if (open < text.size() && text[open] == '(') {
        std::vector<std::string> inner = top_level_parts(text.substr(open));
        std::string joined;
        for (std::size_t i = 0; i < inner.size(); ++i) {
          if (i > 0) joined += ", ";
          joined += inner[i];
        }
        return joined;
      }
    }
    at = after;
  }
  return std::nullopt;
}

ForeignKeyAction parse_action(std::string_view text) {
  if (text == "CASCADE") return ForeignKeyAction::cascade;
  if (text == "RESTRICT") return ForeignKeyAction::restrict;
  if (text == "SET NULL") return ForeignKeyAction::set_null;
  if (text == "SET DEFAULT") return ForeignKeyAction::set_default;
  return ForeignKeyAction::no_action;
}

// Excludes SQLite's own objects and dbinit's tables.
constexpr std::string_view k_user_objects =
    "name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND tbl_name NOT IN ('dbinit_migrations', "
    "'dbinit_meta')";

// The pragmas read per table (or index), and the same for every table at once (the object's name
// first), which costs one statement instead of one per table.
const std::string k_columns =
    "SELECT cid, name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) "
    "ORDER BY cid";
const std::string k_foreign_keys =
    "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete FROM "
    "pragma_foreign_key_list(?1) ORDER BY id, seq";
const std::string k_indexes =
    "SELECT name, \"unique\", origin FROM pragma_index_list(?1) ORDER BY name";
const std::string k_index_keys =
    "SELECT name, cid FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno";

void prefetch_pragmas(Reader& reader) {
  const std::string tables =
      fmt::format("FROM sqlite_master m, {{}} WHERE m.type = 'table' AND m.{}", k_user_objects);
  auto from = [&](std::string_view pragma) { return fmt::format(fmt::runtime(tables), pragma); };
  reader.prefetch(k_columns,
                  "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\", p.dflt_value, "
                  "p.pk, p.hidden " +
                      from("pragma_table_xinfo(m.name) p") + " ORDER BY m.name, p.cid");
  reader.prefetch(k_foreign_keys,
                  "SELECT m.name, f.id, f.seq, f.\"table\", f.\"from\", f.\"to\", f.on_update, "
                  "f.on_delete " +
                      from("pragma_foreign_key_list(m.name) f") + " ORDER BY m.name, f.id, f.seq");
  reader.prefetch(k_indexes, "SELECT m.name, l.name, l.\"unique\", l.origin " +
                                 from("pragma_index_list(m.name) l") + " ORDER BY m.name, l.name");
  reader.prefetch(k_index_keys, "SELECT l.name, x.name, x.cid " +
                                    from("pragma_index_list(m.name) l, "
                                         "pragma_index_xinfo(l.name) x") +
                                    " AND x.key = 1 ORDER BY l.name, x.seqno");
}

void read_columns(Reader& reader, const std::string& name, bool view, std::vector<Column>& columns,
                  std::vector<std::pair<int, std::string>>* primary_key) {
  for (const auto& row :
       (view ? reader.rows(k_columns, name) : reader.table_rows(k_columns, name))) {
    if (row[6].value_or("0") == "1") continue;  // a virtual table's hidden column
    Column column;
    column.name = row[1].value_or("");
    column.type = row[2].value_or("");
    column.nullable = row[3].value_or("0") == "0";
    column.default_value = row[4];
    std::string hidden = row[6].value_or("0");
    if (hidden == "2" || hidden == "3") column.generated = "";
    int pk = std::stoi(row[5].value_or("0"));
    if (pk > 0 && primary_key) primary_key->emplace_back(pk, column.name);
    columns.push_back(std::move(column));
  }
}

// CREATE INDEX statements by index name.
using IndexSql = std::map<std::string, std::string, std::less<>>;

Table read_table(Reader& reader, const std::string& name, const std::string& sql,
                 const IndexSql& index_sql) {
  Table table;
  table.name.name = name;
  table.definition = sql;
  std::vector<std::pair<int, std::string>> primary_key;
  read_columns(reader, name, false, table.columns, &primary_key);
  std::vector<std::string> parts = top_level_parts(sql);

  // What only the CREATE TABLE text says: generation expressions, CHECK constraints and the
  // names of constraints.
  std::map<std::string, std::string, std::less<>> column_parts;
  for (const std::string& part : parts) {
    std::string first = to_lower(first_identifier(part));
    if (first == "constraint" || first == "primary" || first == "unique" || first == "check" ||
        first == "foreign") {
      std::string_view rest = part;
      std::string constraint_name;
      if (first == "constraint") {
        rest = trim(rest.substr(std::string_view("constraint").size()));
        constraint_name = first_identifier(rest);
        std::size_t skip = rest.find_first_of(" \t\r\n(", rest.front() == '"' ? 1 : 0);
        if (rest.front() == '"' || rest.front() == '`' || rest.front() == '[') {
          skip = constraint_name.size() + 2;
        }
        rest = trim(rest.substr(std::min(skip, rest.size())));
      }
      if (starts_with_ci(rest, "check")) {
        if (auto expression = parenthesised_after(rest, "check")) {
          table.checks.push_back({constraint_name, *expression});
        }
      }
      continue;
    }
    column_parts.emplace(to_lower(first_identifier(part)), part);
  }
  for (Column& column : table.columns) {
    auto part = column_parts.find(to_lower(column.name));
    if (part == column_parts.end()) continue;
    if (column.generated) {
      column.generated = parenthesised_after(part->second, "as").value_or("");
    }
    if (auto check = parenthesised_after(part->second, "check")) {
      table.checks.push_back({"", *check});
    }
  }

  if (!primary_key.empty()) {
    std::sort(primary_key.begin(), primary_key.end());
    KeyConstraint key;
    for (auto& [position, column] : primary_key) key.columns.push_back(column);
    table.primary_key = std::move(key);
    if (primary_key.size() == 1) {
      // An INTEGER PRIMARY KEY is the rowid: SQLite numbers new rows itself.
      for (Column& column : table.columns) {
        if (column.name == primary_key.front().second && equals_ci(column.type, "INTEGER")) {
          column.identity = true;
        }
      }
    }
  }

  // Foreign keys: pragma_foreign_key_list gives one row per column pair, grouped by id.
  std::map<int, ForeignKey> foreign_keys;
  for (const auto& row : reader.table_rows(k_foreign_keys, name)) {
    ForeignKey& key = foreign_keys[std::stoi(row[0].value_or("0"))];
    key.referenced_table.name = row[2].value_or("");
    key.columns.push_back(row[3].value_or(""));
    key.referenced_columns.push_back(row[4].value_or(""));
    key.on_update = parse_action(row[5].value_or(""));
    key.on_delete = parse_action(row[6].value_or(""));
  }
  for (auto& [id, key] : foreign_keys) {
    // `REFERENCES parent` without columns means the parent's primary key.
    bool unnamed = std::all_of(key.referenced_columns.begin(), key.referenced_columns.end(),
                               [](const std::string& c) { return c.empty(); });
    if (unnamed) {
      std::vector<std::pair<int, std::string>> parent_key;
      std::vector<Column> parent_columns;
      read_columns(reader, key.referenced_table.name, false, parent_columns, &parent_key);
      std::sort(parent_key.begin(), parent_key.end());
      for (std::size_t i = 0; i < key.referenced_columns.size() && i < parent_key.size(); ++i) {
        key.referenced_columns[i] = parent_key[i].second;
      }
    }
    key.definition =
        fmt::format("FOREIGN KEY ({}) REFERENCES {} ({})", fmt::join(key.columns, ", "),
                    key.referenced_table.name, fmt::join(key.referenced_columns, ", "));
    table.foreign_keys.push_back(std::move(key));
  }

  // Unique constraints are the indexes SQLite made for them (origin `u`); indexes of our own
  // (origin `c`) come with their CREATE INDEX text.
  for (const auto& row : reader.table_rows(k_indexes, name)) {
    const std::string index_name = row[0].value_or("");
    const std::string origin = row[2].value_or("");
    std::vector<std::string> keys;
    for (const auto& key : reader.table_rows(k_index_keys, index_name)) {
      keys.push_back(key[0].value_or(""));
    }
    if (origin == "u") {
      table.unique_keys.push_back({"", std::move(keys)});
    } else if (origin == "c") {
      Index index;
      index.name = index_name;
      index.unique = row[1].value_or("0") == "1";
      auto found = index_sql.find(index_name);
      if (found != index_sql.end()) index.definition = found->second;
      // Expression keys have no name: take the key list from the statement itself.
      std::vector<std::string> written = top_level_parts(
          std::string_view(index.definition)
              .substr(std::min(index.definition.find('('), index.definition.size())));
      for (std::size_t i = 0; i < keys.size(); ++i) {
        if (keys[i].empty() && i < written.size()) keys[i] = written[i];
      }
      index.keys = std::move(keys);
      std::string lower = to_lower(index.definition);
      std::size_t where = lower.rfind(" where ");
      std::size_t close = index.definition.rfind(')');
      if (where != std::string::npos && (close == std::string::npos || where > close)) {
        index.predicate = std::string(trim(std::string_view(index.definition).substr(where + 7)));
      }
      table.indexes.push_back(std::move(index));
    }
  }
  std::sort(table.unique_keys.begin(), table.unique_keys.end(),
            [](const KeyConstraint& a, const KeyConstraint& b) { return a.columns < b.columns; });
  return table;
}

SchemaModel read_model(Reader& reader, bool full);

// One read transaction around the whole reading, when the caller has none: without it, every
// pragma would take and release the file's shared lock (two fcntl calls) on its own.
SchemaModel read_schema_in_transaction(Engine& engine, bool full) {
  sqlite3* db = sqlite_handle(engine);
  const bool own_transaction = sqlite3_get_autocommit(db) != 0;
  if (own_transaction) sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  try {
    SchemaModel model;
    {
      Reader reader(db);
      model = read_model(reader, full);
    }
    if (own_transaction) sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    return model;
  } catch (...) {
    if (own_transaction) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

SchemaModel read_schema(Engine& engine) {
  return read_schema_in_transaction(engine, true);
}

// What render() uses: sqlite_master's statements, tables and triggers by name, views in the
// order their reads need. The pragmas, which cost one internal statement per table each, are
// left out.
SchemaModel read_definitions(Engine& engine) {
  return read_schema_in_transaction(engine, false);
}

SchemaModel read_model(Reader& reader, bool full) {
  SchemaModel model;
  model.engine = "sqlite";
  const auto objects = reader.rows(
      fmt::format("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL AND "
                  "{} ORDER BY name",
                  k_user_objects));
  if (full) prefetch_pragmas(reader);
  IndexSql index_sql;
  std::multimap<std::string, Index, std::less<>> indexes_by_table;  // in name order per table
  for (const auto& row : objects) {
    if (row[0] != "index") continue;
    index_sql.emplace(row[1].value_or(""), row[3].value_or(""));
    if (!full) {
      Index index;
      index.name = row[1].value_or("");
      index.definition = row[3].value_or("");
      indexes_by_table.emplace(row[2].value_or(""), std::move(index));
    }
  }
  for (const auto& row : objects) {
    const std::string type = row[0].value_or("");
    const std::string name = row[1].value_or("");
    const std::string sql = row[3].value_or("");
    if (type == "index") continue;
    if (type == "table" && !full) {
      Table table;
      table.name.name = name;
      table.definition = sql;
      auto [first, last] = indexes_by_table.equal_range(name);
      for (auto index = first; index != last; ++index) table.indexes.push_back(index->second);
      model.tables.push_back(std::move(table));
    } else if (type == "table") {
      model.tables.push_back(read_table(reader, name, sql, index_sql));
    } else if (type == "view") {
      View view;
      view.name.name = name;
      view.definition = sql;
      try {
        if (full) read_columns(reader, name, true, view.columns, nullptr);
      } catch (const Error&) {
        // A view over a table that was dropped (SQLite allows it) has no columns to show; it is
        // still part of the schema.
        view.columns.clear();
      }
      for (const std::string& read : reader.view_reads(name)) view.depends_on.push_back({"", read});
      model.views.push_back(std::move(view));
    } else {
      Trigger trigger;
      trigger.name.name = name;
      trigger.table.name = row[2].value_or("");
      trigger.definition = sql;
      model.triggers.push_back(std::move(trigger));
    }
  }
  std::vector<View> ordered;
  for (const View* view : views_in_dependency_order(model.views)) ordered.push_back(*view);
  model.views = std::move(ordered);
  std::sort(model.triggers.begin(), model.triggers.end(), [](const Trigger& a, const Trigger& b) {
    return std::tie(a.table, a.name) < std::tie(b.table, b.name);
  });
  return model;
}

// --- Rendering --------------------------------------------------------------------------------

void append_statement(std::string& out, std::string_view sql) {
  if (sql.empty()) return;
  if (!out.empty()) out += '\n';
  out += sql;
  out += ";\n";
}

// Tables, views, triggers, then indexes: SQLite resolves the tables a foreign key names when rows
// are written, so tables in name order are safe whatever they reference.
std::string render_schema(const SchemaModel& model) {
  std::string out;
  for (const Table& table : model.tables) append_statement(out, table.definition);
  for (const View& view : model.views) append_statement(out, view.definition);
  for (const Trigger& trigger : model.triggers) append_statement(out, trigger.definition);
  for (const Table& table : model.tables) {
    for (const Index& index : table.indexes) append_statement(out, index.definition);
  }
  return out;
}

std::string ledger_ddl() {
  return std::string(sqlite_ledger_ddl()) + "\n";
}

std::string quote_literal(std::string_view text) {
  return sql_string_literal(text);
}

}  // namespace

const SchemaSupport k_sqlite_schema_support = {
    read_schema,     render_schema, ledger_ddl,
    quote_literal,   false,         "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
    read_definitions};

}  // namespace dbinit
