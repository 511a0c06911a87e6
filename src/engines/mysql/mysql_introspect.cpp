// The schema model of a MySQL/MariaDB database (engines/schema_model.h) and its rendering as one
// script.
//
// read_schema() asks information_schema once per kind of object (tables, columns, index columns,
// foreign key columns, checks, views, routines, triggers) and the server's SHOW CREATE once per
// object for the definitions, which is the text the server itself prints. render_schema() is a pure
// function of the model: SET NAMES, the tables inside mysqldump's FOREIGN_KEY_CHECKS=0 guard (so
// that foreign keys can stay inline whatever the order), stored routines in a `DELIMITER ;;` block
// (before the views, which may call functions), the views in dependency order, and the triggers in
// a `DELIMITER ;;` block. Both the `mariadb` shell and Engine::restore() (mysql_splitter.h) read
// it.
//
// References: https://mariadb.com/kb/en/information-schema-tables/,
// https://mariadb.com/kb/en/show-create-table/, https://mariadb.com/kb/en/show-create-view/.

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "engines/mysql/mysql_engine.h"
#include "util/error.h"

namespace dbinit {

namespace {

constexpr std::string_view k_foreign_key_checks_off =
    "/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n\n";
constexpr std::string_view k_foreign_key_checks_back =
    "/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n";
// The text is UTF-8: routines and views record the client character set they were created with.
constexpr std::string_view k_set_names = "/*!40101 SET NAMES utf8mb4 */;\n\n";

std::string backtick(std::string_view name) {
  return mysql_quote_identifier(name);
}

// Removes the first `DEFINER=user@host ` clause: definers name accounts of the server the object
// was created on, which makes schema text differ between machines.
std::string strip_definer(std::string text) {
  std::size_t at = text.find("DEFINER=");
  if (at == std::string::npos) return text;
  std::size_t i = at + 8;
  auto skip_part = [&] {
    if (i < text.size() && (text[i] == '`' || text[i] == '\'' || text[i] == '"')) {
      char quote = text[i++];
      while (i < text.size()) {
        if (text[i] == quote) {
          if (i + 1 < text.size() && text[i + 1] == quote) {
            i += 2;
            continue;
          }
          ++i;
          return;
        }
        ++i;
      }
    } else {
      while (i < text.size() && text[i] != '@' && text[i] != ' ') ++i;
    }
  };
  skip_part();
  if (i < text.size() && text[i] == '@') {
    ++i;
    skip_part();
  }
  while (i < text.size() && text[i] == ' ') ++i;
  text.erase(at, i - at);
  return text;
}

// Removes the ` AUTO_INCREMENT=<n>` table option, which changes with every insert. Table options
// follow the last `)` line of SHOW CREATE TABLE, before any COMMENT that could contain the text.
std::string strip_auto_increment(std::string text) {
  constexpr std::string_view k_option = " AUTO_INCREMENT=";
  std::size_t options = text.rfind("\n)");
  std::size_t at = text.find(k_option, options == std::string::npos ? 0 : options);
  if (at == std::string::npos) return text;
  std::size_t end = at + k_option.size();
  while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
  text.erase(at, end - at);
  return text;
}

// SHOW CREATE VIEW without the definer and the clauses that only repeat defaults
// (`ALGORITHM=UNDEFINED`, `SQL SECURITY DEFINER`), looked for in the head before `VIEW`.
std::string clean_view_definition(std::string text) {
  std::size_t head = text.find(" VIEW `");
  if (head == std::string::npos) return text;
  std::string rest = text.substr(head);
  std::string start = strip_definer(text.substr(0, head + 1));
  for (std::string_view noise : {"ALGORITHM=UNDEFINED ", "SQL SECURITY DEFINER "}) {
    if (std::size_t at = start.find(noise); at != std::string::npos) start.erase(at, noise.size());
  }
  start.pop_back();  // the blank before VIEW, which `rest` starts with
  return start + rest;
}

// The line of SHOW CREATE TABLE text that begins, after its indentation, with `prefix`: without
// the indentation and the comma before the next line. Empty when there is none.
std::string definition_line(std::string_view definition, std::string_view prefix) {
  std::size_t start = 0;
  while (start < definition.size()) {
    std::size_t end = definition.find('\n', start);
    if (end == std::string_view::npos) end = definition.size();
    std::string_view line = definition.substr(start, end - start);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (line.starts_with(prefix)) {
      if (line.ends_with(',')) line.remove_suffix(1);
      return std::string(line);
    }
    start = end + 1;
  }
  return {};
}

ForeignKeyAction parse_action(std::string_view rule) {
  if (rule == "CASCADE") return ForeignKeyAction::cascade;
  if (rule == "SET NULL") return ForeignKeyAction::set_null;
  if (rule == "SET DEFAULT") return ForeignKeyAction::set_default;
  if (rule == "RESTRICT") return ForeignKeyAction::restrict;
  return ForeignKeyAction::no_action;
}

// The names `db`.`name` that `definition` (information_schema.VIEWS.VIEW_DEFINITION, which
// qualifies every table with its database) mentions, for the names in `known`.
std::vector<ObjectName> referenced_names(std::string_view definition, std::string_view database,
                                         const std::set<std::string>& known) {
  const std::string prefix = backtick(database) + ".`";
  std::set<std::string> found;
  for (std::size_t at = definition.find(prefix); at != std::string_view::npos;
       at = definition.find(prefix, at + 1)) {
    std::string name;
    std::size_t i = at + prefix.size();
    while (i < definition.size()) {
      if (definition[i] == '`') {
        if (i + 1 < definition.size() && definition[i + 1] == '`') {
          name += '`';
          i += 2;
          continue;
        }
        break;
      }
      name += definition[i++];
    }
    if (known.contains(name)) found.insert(name);
  }
  std::vector<ObjectName> names;
  for (const std::string& name : found) names.push_back({"", name});
  return names;
}

std::string ledger_in(std::string_view column) {
  return fmt::format("{} NOT IN ('{}', '{}')", column, k_ledger_table, k_meta_table);
}

const std::string& text(const MysqlRow& row, std::size_t column) {
  static const std::string empty;
  return row.at(column) ? *row[column] : empty;
}

Column read_column(const MysqlRow& row) {
  // TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, GENERATION_EXPRESSION,
  // EXTRA, COLUMN_COMMENT
  Column column;
  column.name = text(row, 1);
  column.type = text(row, 2);
  column.nullable = text(row, 3) == "YES";
  if (!text(row, 5).empty()) {
    column.generated = text(row, 5);
  } else {
    column.default_value = row.at(4);
  }
  std::string extra = text(row, 6);
  std::transform(extra.begin(), extra.end(), extra.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  column.identity = extra.find("auto_increment") != std::string::npos;
  if (!text(row, 7).empty()) column.comment = text(row, 7);
  return column;
}

SchemaModel read_schema(Engine& engine) {
  SchemaModel model;
  model.engine = "mysql";
  auto query = [&](std::string_view sql) { return mysql_query(engine, sql); };
  const bool mariadb = engine.server_version().starts_with("MariaDB");
  const std::string database = text(query("SELECT DATABASE()").at(0), 0);

  // Tables, views and (MariaDB) sequences, by name: std::map orders bytes as BINARY does.
  std::map<std::string, Table> tables;
  std::map<std::string, View> views;
  std::set<std::string> relations;
  for (const MysqlRow& row : query(fmt::format(
           "SELECT TABLE_NAME, TABLE_TYPE, TABLE_COMMENT FROM information_schema.TABLES "
           "WHERE TABLE_SCHEMA = DATABASE() AND {}",
           ledger_in("TABLE_NAME")))) {
    const std::string& name = text(row, 0);
    const std::string& type = text(row, 1);
    if (type == "VIEW") {
      views[name].name = {"", name};
      relations.insert(name);
    } else if (type == "SEQUENCE") {
      Sequence sequence;
      sequence.name = {"", name};
      sequence.definition = text(query("SHOW CREATE SEQUENCE " + backtick(name)).at(0), 1);
      model.sequences.push_back(std::move(sequence));
    } else {
      Table& table = tables[name];
      table.name = {"", name};
      if (!text(row, 2).empty()) table.comment = text(row, 2);
      relations.insert(name);
    }
  }
  std::sort(model.sequences.begin(), model.sequences.end(),
            [](const Sequence& a, const Sequence& b) { return a.name < b.name; });
  for (auto& [name, table] : tables) {
    table.definition =
        strip_auto_increment(text(query("SHOW CREATE TABLE " + backtick(name)).at(0), 1));
  }

  for (const MysqlRow& row :
       query("SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, "
             "GENERATION_EXPRESSION, EXTRA, COLUMN_COMMENT FROM information_schema.COLUMNS "
             "WHERE TABLE_SCHEMA = DATABASE() ORDER BY ORDINAL_POSITION")) {
    const std::string& owner = text(row, 0);
    if (auto table = tables.find(owner); table != tables.end()) {
      table->second.columns.push_back(read_column(row));
    } else if (auto view = views.find(owner); view != views.end()) {
      view->second.columns.push_back(read_column(row));
    }
  }

  // Index columns: the primary key, unique keys and the other indexes. MySQL 8 has functional
  // key parts (EXPRESSION); MariaDB has none.
  struct IndexParts {
    bool unique = false;
    std::string method;
    std::vector<std::string> columns;  // plain column names, for keys
    std::vector<std::string> keys;     // with prefix lengths or expressions, for indexes
  };
  std::map<std::pair<std::string, std::string>, IndexParts> indexes;
  for (const MysqlRow& row : query(fmt::format(
           "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE{} FROM "
           "information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND {} ORDER BY "
           "SEQ_IN_INDEX",
           mariadb ? "" : ", EXPRESSION", ledger_in("TABLE_NAME")))) {
    IndexParts& parts = indexes[{text(row, 0), text(row, 1)}];
    parts.unique = text(row, 2) == "0";
    parts.method = text(row, 5);
    std::string key;
    if (row.at(3)) {
      key = *row[3];
      parts.columns.push_back(key);
      if (row.at(4)) key += "(" + *row[4] + ")";
    } else if (row.size() > 6 && row[6]) {
      key = "(" + *row[6] + ")";
      parts.columns.push_back(key);
    }
    parts.keys.push_back(std::move(key));
  }
  for (auto& [names, parts] : indexes) {
    auto table = tables.find(names.first);
    if (table == tables.end()) continue;
    const std::string& name = names.second;
    if (name == "PRIMARY") {
      table->second.primary_key = KeyConstraint{name, std::move(parts.columns)};
    } else if (parts.unique) {
      table->second.unique_keys.push_back({name, std::move(parts.columns)});
    } else {
      Index index;
      index.name = name;
      index.method = parts.method;
      index.keys = std::move(parts.keys);
      const std::string quoted = backtick(name) + " (";
      for (std::string_view kind : {"KEY ", "FULLTEXT KEY ", "SPATIAL KEY "}) {
        index.definition = definition_line(table->second.definition, std::string(kind) + quoted);
        if (!index.definition.empty()) break;
      }
      table->second.indexes.push_back(std::move(index));
    }
  }

  // Foreign keys with their columns in key order.
  std::map<std::pair<std::string, std::string>, ForeignKey> foreign_keys;
  for (const MysqlRow& row : query(fmt::format(
           "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, "
           "k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE "
           "FROM information_schema.KEY_COLUMN_USAGE k JOIN "
           "information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = "
           "k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME AND r.CONSTRAINT_NAME = "
           "k.CONSTRAINT_NAME WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS "
           "NOT NULL AND {} ORDER BY k.ORDINAL_POSITION",
           ledger_in("k.TABLE_NAME")))) {
    ForeignKey& key = foreign_keys[{text(row, 0), text(row, 1)}];
    key.name = text(row, 1);
    key.columns.push_back(text(row, 2));
    key.referenced_table = {text(row, 3) == database ? std::string() : text(row, 3), text(row, 4)};
    key.referenced_columns.push_back(text(row, 5));
    key.on_update = parse_action(text(row, 6));
    key.on_delete = parse_action(text(row, 7));
  }
  for (auto& [names, key] : foreign_keys) {
    auto table = tables.find(names.first);
    if (table == tables.end()) continue;
    key.definition = definition_line(table->second.definition,
                                     "CONSTRAINT " + backtick(key.name) + " FOREIGN KEY ");
    table->second.foreign_keys.push_back(std::move(key));
  }

  // CHECK constraints. MariaDB names the table of each; MySQL only through TABLE_CONSTRAINTS.
  const std::string checks_sql =
      mariadb ? "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM "
                "information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()"
              : "SELECT t.TABLE_NAME, c.CONSTRAINT_NAME, c.CHECK_CLAUSE FROM "
                "information_schema.TABLE_CONSTRAINTS t JOIN information_schema.CHECK_CONSTRAINTS "
                "c ON c.CONSTRAINT_SCHEMA = t.CONSTRAINT_SCHEMA AND c.CONSTRAINT_NAME = "
                "t.CONSTRAINT_NAME WHERE t.CONSTRAINT_SCHEMA = DATABASE() AND t.CONSTRAINT_TYPE "
                "= 'CHECK'";
  for (const MysqlRow& row : query(checks_sql)) {
    if (auto table = tables.find(text(row, 0)); table != tables.end()) {
      table->second.checks.push_back({text(row, 1), text(row, 2)});
    }
  }

  for (auto& [name, table] : tables) {
    auto by_name = [](const auto& a, const auto& b) {
      return std::tie(a.name, a.columns) < std::tie(b.name, b.columns);
    };
    std::sort(table.unique_keys.begin(), table.unique_keys.end(), by_name);
    std::sort(table.foreign_keys.begin(), table.foreign_keys.end(), by_name);
    std::sort(table.checks.begin(), table.checks.end(),
              [](const CheckConstraint& a, const CheckConstraint& b) { return a.name < b.name; });
    std::sort(table.indexes.begin(), table.indexes.end(),
              [](const Index& a, const Index& b) { return a.name < b.name; });
    model.tables.push_back(std::move(table));
  }

  // Views: what they read, from information_schema's fully qualified text; the definition from
  // SHOW CREATE VIEW, which leaves out the current database.
  for (const MysqlRow& row :
       query("SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE "
             "TABLE_SCHEMA = DATABASE()")) {
    auto view = views.find(text(row, 0));
    if (view == views.end()) continue;
    std::set<std::string> others = relations;
    others.erase(view->first);
    view->second.depends_on = referenced_names(text(row, 1), database, others);
  }
  std::vector<View> unordered;
  for (auto& [name, view] : views) {
    view.definition =
        clean_view_definition(text(query("SHOW CREATE VIEW " + backtick(name)).at(0), 1));
    unordered.push_back(std::move(view));
  }
  for (const View* view : views_in_dependency_order(unordered)) model.views.push_back(*view);

  for (const MysqlRow& row :
       query("SELECT ROUTINE_TYPE, ROUTINE_NAME, ROUTINE_BODY FROM information_schema.ROUTINES "
             "WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE IN ('FUNCTION', 'PROCEDURE') "
             "ORDER BY BINARY ROUTINE_NAME, ROUTINE_TYPE")) {
    const std::string& kind = text(row, 0);
    const std::string& name = text(row, 1);
    std::vector<MysqlRow> create = query(fmt::format("SHOW CREATE {} {}", kind, backtick(name)));
    if (create.empty() || create[0].size() < 3 || !create[0][2]) {
      Error error(ErrorKind::failure,
                  fmt::format("cannot read the definition of {} {}", kind, backtick(name)));
      error.where = mysql_where(engine);
      error.hint = "the user needs SELECT on mysql.proc or to be the routine's definer";
      throw error;
    }
    Routine routine;
    routine.name = {"", name};
    routine.kind = kind == "PROCEDURE" ? RoutineKind::procedure : RoutineKind::function;
    routine.language = text(row, 2);
    routine.definition = strip_definer(*create[0][2]);
    model.routines.push_back(std::move(routine));
  }

  // Triggers by table, then in the order they fire (timing, event, ACTION_ORDER): rendering them
  // in this order creates them again with the same action order.
  for (const MysqlRow& row : query(fmt::format(
           "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE "
           "TRIGGER_SCHEMA = DATABASE() AND {} ORDER BY BINARY EVENT_OBJECT_TABLE, ACTION_TIMING, "
           "EVENT_MANIPULATION, ACTION_ORDER, BINARY TRIGGER_NAME",
           ledger_in("EVENT_OBJECT_TABLE")))) {
    Trigger trigger;
    trigger.name = {"", text(row, 0)};
    trigger.table = {"", text(row, 1)};
    trigger.definition =
        strip_definer(text(query("SHOW CREATE TRIGGER " + backtick(text(row, 0))).at(0), 2));
    model.triggers.push_back(std::move(trigger));
  }
  return model;
}

std::string render_schema(const SchemaModel& model) {
  if (model.empty()) return {};
  std::string out(k_set_names);

  std::vector<const Table*> tables;
  for (const Table& table : model.tables) tables.push_back(&table);
  std::sort(tables.begin(), tables.end(),
            [](const Table* a, const Table* b) { return a->name < b->name; });
  std::vector<const Sequence*> sequences;
  for (const Sequence& sequence : model.sequences) sequences.push_back(&sequence);
  std::sort(sequences.begin(), sequences.end(),
            [](const Sequence* a, const Sequence* b) { return a->name < b->name; });
  const bool guard = !tables.empty();
  if (guard) out += k_foreign_key_checks_off;
  // Sequences first: a column's default may take NEXT VALUE FOR one.
  for (const Sequence* sequence : sequences) out += sequence->definition + ";\n\n";
  for (const Table* table : tables) out += table->definition + ";\n\n";

  // Routines before the views, which may call functions; a routine's body is not checked when
  // it is created.
  std::vector<const Routine*> routines;
  for (const Routine& routine : model.routines) routines.push_back(&routine);
  std::sort(routines.begin(), routines.end(), [](const Routine* a, const Routine* b) {
    return std::tie(a->name, a->kind) < std::tie(b->name, b->kind);
  });
  if (!routines.empty()) {
    out += "DELIMITER ;;\n";
    for (const Routine* routine : routines) out += routine->definition + ";;\n";
    out += "DELIMITER ;\n\n";
  }

  for (const View* view : views_in_dependency_order(model.views)) out += view->definition + ";\n\n";

  // Triggers in the model's order, which is the order they fire in.
  if (!model.triggers.empty()) {
    out += "DELIMITER ;;\n";
    for (const Trigger& trigger : model.triggers) out += trigger.definition + ";;\n";
    out += "DELIMITER ;\n\n";
  }

  if (guard) out += k_foreign_key_checks_back;
  while (out.ends_with("\n\n")) out.pop_back();
  return out;
}

std::string ledger_ddl() {
  std::string out;
  for (std::string_view statement : k_mysql_ledger_statements) {
    out += statement;
    out += ";\n";
  }
  return out;
}

// A string literal under the default sql_mode (no NO_BACKSLASH_ESCAPES): `\` and NUL are escaped
// with a backslash, `'` is doubled. Reference: https://mariadb.com/kb/en/string-literals/
std::string quote_literal(std::string_view value) {
  std::string out = "'";
  out.reserve(value.size() + 2);
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\'') {
      out += "''";
    } else if (c == '\0') {
      out += "\\0";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

}  // namespace

const SchemaSupport k_mysql_schema_support = {
    read_schema,   render_schema, ledger_ddl,
    quote_literal, true,          "DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%dT%H:%i:%sZ')",
    nullptr};

}  // namespace dbinit
