// The schema support of the postgres engine: reading a SchemaModel from the system catalogs in a
// handful of queries, and rendering a model as one DDL script in an order that loads into an
// empty database. Both schema_text() (verify, baseline --detect) and `dbinit schema` go through
// here, so there is one text for a schema.
// https://www.postgresql.org/docs/current/catalogs.html

#include "engines/postgres/postgres_engine.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "engines/postgres/libpq.h"
#include "engines/postgres/pg_connection.h"
#include "engines/postgres/pg_schema.h"
#include "util/error.h"
#include "util/text.h"

namespace dbinit {

namespace {

// --- Names ---------------------------------------------------------------------------------------

// The key words that quote_ident() quotes: every category but the unreserved one (PostgreSQL 15's
// `SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'`), in sorted order.
// clang-format off
constexpr std::array<std::string_view, 151> k_quoted_keywords = {
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization",
    "between", "bigint", "binary", "bit", "boolean", "both", "case", "cast", "char", "character",
    "check", "coalesce", "collate", "collation", "column", "concurrently", "constraint", "create",
    "cross", "current_catalog", "current_date", "current_role", "current_schema", "current_time",
    "current_timestamp", "current_user", "dec", "decimal", "default", "deferrable", "desc",
    "distinct", "do", "else", "end", "except", "exists", "extract", "false", "fetch", "float",
    "for", "foreign", "freeze", "from", "full", "grant", "greatest", "group", "grouping", "having",
    "ilike", "in", "initially", "inner", "inout", "int", "integer", "intersect", "interval", "into",
    "is", "isnull", "join", "lateral", "leading", "least", "left", "like", "limit", "localtime",
    "localtimestamp", "national", "natural", "nchar", "none", "normalize", "not", "notnull", "null",
    "nullif", "numeric", "offset", "on", "only", "or", "order", "out", "outer", "overlaps",
    "overlay", "placing", "position", "precision", "primary", "real", "references", "returning",
    "right", "row", "select", "session_user", "setof", "similar", "smallint", "some", "substring",
    "symmetric", "table", "tablesample", "then", "time", "timestamp", "to", "trailing", "treat",
    "trim", "true", "union", "unique", "user", "using", "values", "varchar", "variadic", "verbose",
    "when", "where", "window", "with", "xmlattributes", "xmlconcat", "xmlelement", "xmlexists",
    "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable"};
// clang-format on

/// `name` as quote_ident() prints it: bare when it is a lower-case identifier that is not a
/// quoted key word, else in double quotes with `"` doubled.
std::string quote_ident(std::string_view name) {
  bool bare =
      !name.empty() && (std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '$')) {
      bare = false;
    }
  }
  if (bare && std::binary_search(k_quoted_keywords.begin(), k_quoted_keywords.end(), name)) {
    bare = false;
  }
  if (bare) return std::string(name);
  return pg_quote_identifier(name);
}

/// `schema.name`, each part quoted where needed; `name` alone without a schema.
std::string qualified(const ObjectName& name) {
  return name.schema.empty() ? quote_ident(name.name)
                             : quote_ident(name.schema) + "." + quote_ident(name.name);
}

std::string quote_literal(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    throw Error(ErrorKind::failure,
                "a PostgreSQL string cannot hold a NUL byte (text values end at the first one)");
  }
  return sql_string_literal(text);
}

/// `text` without trailing blanks and semicolons.
std::string trimmed_statement(std::string_view text) {
  while (!text.empty() &&
         (std::isspace(static_cast<unsigned char>(text.back())) || text.back() == ';')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

bool is_identifier_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '"' ||
         static_cast<unsigned char>(c) >= 0x80;
}

/// True when `text` holds one of `names` as a whole name (not as part of a longer one).
bool mentions_any(std::string_view text, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    for (std::size_t at = text.find(name); at != std::string_view::npos;
         at = text.find(name, at + 1)) {
      const std::size_t end = at + name.size();
      const bool starts = at == 0 || (!is_identifier_char(text[at - 1]) && text[at - 1] != '.');
      const bool ends = end == text.size() || (!is_identifier_char(text[end]) && text[end] != '.');
      if (starts && ends) return true;
    }
  }
  return false;
}

// --- Ordering ------------------------------------------------------------------------------------

/// The part of a table's definition that names the tables it is made from: after `PARTITION OF`
/// on its first line, or its last line when that is `INHERITS (...)`; empty for other tables.
std::string_view parents_text(const Table& table) {
  constexpr std::string_view k_partition_of = " PARTITION OF ";
  const std::string_view definition = table.definition;
  const std::string_view first_line = definition.substr(0, definition.find('\n'));
  if (const std::size_t at = first_line.find(k_partition_of); at != std::string_view::npos) {
    return first_line.substr(at + k_partition_of.size());
  }
  const std::size_t last_line = definition.rfind('\n');
  if (last_line != std::string_view::npos &&
      definition.substr(last_line + 1).starts_with("INHERITS (")) {
    return definition.substr(last_line + 1);
  }
  return {};
}

/// `tables` sorted by name, partitions and inheriting tables after the tables they come from.
std::vector<const Table*> tables_in_creation_order(const std::vector<Table>& tables) {
  std::vector<const Table*> by_name;
  for (const Table& table : tables) by_name.push_back(&table);
  std::stable_sort(by_name.begin(), by_name.end(), [](const Table* a, const Table* b) {
    const bool a_child = !parents_text(*a).empty();
    const bool b_child = !parents_text(*b).empty();
    if (a_child != b_child) return b_child;
    return a->name < b->name;
  });
  std::vector<std::vector<std::string>> names;
  for (const Table* table : by_name) names.push_back({qualified(table->name)});
  std::vector<std::set<std::size_t>> needs(by_name.size());
  for (std::size_t i = 0; i < by_name.size(); ++i) {
    const std::string_view parents = parents_text(*by_name[i]);
    if (parents.empty()) continue;
    for (std::size_t j = 0; j < by_name.size(); ++j) {
      if (j != i && mentions_any(parents, names[j])) needs[i].insert(j);
    }
  }
  std::vector<const Table*> out;
  for (std::size_t i : dependency_order(needs)) out.push_back(by_name[i]);
  return out;
}

// --- Rendering -----------------------------------------------------------------------------------

int type_rank(TypeKind kind) {
  switch (kind) {
    case TypeKind::enumeration:
      return 0;
    case TypeKind::range:
      return 1;
    case TypeKind::domain:
      return 2;
    case TypeKind::composite:
      return 3;
  }
  return 4;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += quote_ident(name);
  }
  return out;
}

/// The CREATE TABLE of a table that carries no definition of its own: its columns as data.
std::string table_from_columns(const Table& table) {
  std::string out = "CREATE TABLE " + qualified(table.name) + " (";
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    const Column& column = table.columns[i];
    out += i == 0 ? "\n    " : ",\n    ";
    out += quote_ident(column.name) + " " + column.type;
    if (column.identity) out += " GENERATED BY DEFAULT AS IDENTITY";
    if (column.generated) {
      out += " GENERATED ALWAYS AS (" + *column.generated + ") STORED";
    } else if (column.default_value) {
      out += " DEFAULT " + *column.default_value;
    }
    if (!column.nullable) out += " NOT NULL";
  }
  out += table.columns.empty() ? ")" : "\n)";
  return out;
}

std::string add_constraint(const Table& table, const std::string& name, std::string_view body) {
  return fmt::format("ALTER TABLE ONLY {} ADD CONSTRAINT {} {}", qualified(table.name),
                     quote_ident(name), body);
}

std::string key_statement(const Table& table, const KeyConstraint& key, std::string_view kind) {
  if (!key.definition.empty()) return key.definition;
  return add_constraint(table, key.name, fmt::format("{} ({})", kind, join_names(key.columns)));
}

std::string foreign_key_statement(const Table& table, const ForeignKey& key) {
  if (!key.definition.empty()) return key.definition;
  std::string body =
      fmt::format("FOREIGN KEY ({}) REFERENCES {}({})", join_names(key.columns),
                  qualified(key.referenced_table), join_names(key.referenced_columns));
  if (key.on_update != ForeignKeyAction::no_action) {
    body += fmt::format(" ON UPDATE {}", to_sql(key.on_update));
  }
  if (key.on_delete != ForeignKeyAction::no_action) {
    body += fmt::format(" ON DELETE {}", to_sql(key.on_delete));
  }
  return add_constraint(table, key.name, body);
}

void append_comments(std::vector<std::string>& out, std::string_view kind, const ObjectName& name,
                     const std::optional<std::string>& comment,
                     const std::vector<Column>& columns) {
  if (comment) {
    out.push_back(
        fmt::format("COMMENT ON {} {} IS {}", kind, qualified(name), quote_literal(*comment)));
  }
  for (const Column& column : columns) {
    if (!column.comment) continue;
    out.push_back(fmt::format("COMMENT ON COLUMN {}.{} IS {}", qualified(name),
                              quote_ident(column.name), quote_literal(*column.comment)));
  }
}

/// The part of a routine's definition before its body: name, arguments, result and options, as
/// pg_get_functiondef() prints them (the body starts on a line of its own: `AS ...`,
/// `BEGIN ATOMIC` or `RETURN ...`).
std::string_view routine_header(std::string_view definition) {
  std::size_t end = definition.size();
  for (std::string_view body : {std::string_view("\nAS "), std::string_view("\nBEGIN ATOMIC"),
                                std::string_view("\nRETURN ")}) {
    end = std::min(end, definition.find(body));
  }
  return definition.substr(0, end);
}

std::string render_schema(const SchemaModel& model) {
  std::vector<std::string> statements;

  std::vector<std::string> namespaces = model.namespaces;
  std::sort(namespaces.begin(), namespaces.end());
  for (const std::string& name : namespaces)
    statements.push_back("CREATE SCHEMA " + quote_ident(name));
  std::vector<std::string> extensions = model.extensions;
  std::sort(extensions.begin(), extensions.end());
  for (const std::string& extension : extensions) statements.push_back(extension);

  // Types: enums and ranges first, then domains (which may be over either), then composite types
  // (whose attributes may be of any of them).
  std::vector<const UserType*> types;
  for (const UserType& type : model.types) types.push_back(&type);
  std::stable_sort(types.begin(), types.end(), [](const UserType* a, const UserType* b) {
    return std::pair(type_rank(a->kind), a->name) < std::pair(type_rank(b->kind), b->name);
  });
  for (const UserType* type : types) statements.push_back(type->definition);

  std::vector<const Sequence*> sequences;
  for (const Sequence& sequence : model.sequences) sequences.push_back(&sequence);
  std::stable_sort(sequences.begin(), sequences.end(),
                   [](const Sequence* a, const Sequence* b) { return a->name < b->name; });
  for (const Sequence* sequence : sequences) statements.push_back(sequence->definition);

  // Routines: the server checks the bodies of LANGUAGE sql routines when they are created, so
  // those come after the tables; the others before, for the defaults, generated columns and
  // checks that call them. A routine whose arguments or result are the row type of a table or
  // view waits for it.
  std::vector<const Routine*> routines;
  for (const Routine& routine : model.routines) routines.push_back(&routine);
  std::stable_sort(routines.begin(), routines.end(), [](const Routine* a, const Routine* b) {
    return std::tie(a->name, a->arguments) < std::tie(b->name, b->arguments);
  });
  std::vector<std::string> table_names;
  for (const Table& table : model.tables) table_names.push_back(qualified(table.name));
  std::vector<std::string> view_names;
  for (const View& view : model.views) view_names.push_back(qualified(view.name));
  enum class Phase { before_tables, after_tables, after_views };
  // An SQL routine that a table's default or generated column calls comes before the tables
  // all the same (its body can then read no table, which it could not anyway).
  std::string table_definitions;
  for (const Table& table : model.tables) {
    table_definitions += table.definition.empty() ? table_from_columns(table) : table.definition;
    table_definitions += '\n';
  }
  auto called_by_tables = [&](const Routine* routine) {
    return mentions_any(table_definitions, {qualified(routine->name) + "("});
  };
  auto phase = [&](const Routine* routine) {
    const std::string_view header = routine_header(routine->definition);
    if (mentions_any(header, view_names)) return Phase::after_views;
    if (mentions_any(header, table_names)) return Phase::after_tables;
    if (equals_ci(routine->language, "sql") && !called_by_tables(routine)) {
      return Phase::after_tables;
    }
    return Phase::before_tables;
  };
  auto append_routines = [&](Phase wanted) {
    for (const Routine* routine : routines) {
      if (phase(routine) == wanted) statements.push_back(routine->definition);
    }
  };
  append_routines(Phase::before_tables);

  const std::vector<const Table*> tables = tables_in_creation_order(model.tables);
  for (const Table* table : tables) {
    statements.push_back(table->definition.empty() ? table_from_columns(*table)
                                                   : table->definition);
  }
  append_routines(Phase::after_tables);
  const std::vector<const View*> views = views_in_dependency_order(model.views);
  for (const View* view : views) statements.push_back(view->definition);
  append_routines(Phase::after_views);

  std::vector<const Table*> tables_by_name;
  for (const Table& table : model.tables) tables_by_name.push_back(&table);
  std::stable_sort(tables_by_name.begin(), tables_by_name.end(),
                   [](const Table* a, const Table* b) { return a->name < b->name; });
  std::vector<const View*> views_by_name;
  for (const View& view : model.views) views_by_name.push_back(&view);
  std::stable_sort(views_by_name.begin(), views_by_name.end(),
                   [](const View* a, const View* b) { return a->name < b->name; });

  // Constraints that foreign keys may reference, then indexes, triggers and foreign keys.
  for (const Table* table : tables_by_name) {
    if (table->primary_key) {
      statements.push_back(key_statement(*table, *table->primary_key, "PRIMARY KEY"));
    }
    for (const KeyConstraint& key : table->unique_keys) {
      statements.push_back(key_statement(*table, key, "UNIQUE"));
    }
    for (const CheckConstraint& check : table->checks) {
      statements.push_back(
          check.definition.empty()
              ? add_constraint(*table, check.name, fmt::format("CHECK ({})", check.expression))
              : check.definition);
    }
    for (const CheckConstraint& exclusion : table->exclusions) {
      statements.push_back(exclusion.definition.empty()
                               ? add_constraint(*table, exclusion.name, exclusion.expression)
                               : exclusion.definition);
    }
  }
  for (const Table* table : tables_by_name) {
    for (const Index& index : table->indexes) statements.push_back(index.definition);
  }
  for (const View* view : views_by_name) {
    for (const Index& index : view->indexes) statements.push_back(index.definition);
  }
  std::vector<const Trigger*> triggers;
  for (const Trigger& trigger : model.triggers) triggers.push_back(&trigger);
  std::stable_sort(triggers.begin(), triggers.end(), [](const Trigger* a, const Trigger* b) {
    return std::tie(a->table, a->name) < std::tie(b->table, b->name);
  });
  for (const Trigger* trigger : triggers) statements.push_back(trigger->definition);
  for (const Table* table : tables_by_name) {
    for (const ForeignKey& key : table->foreign_keys) {
      statements.push_back(foreign_key_statement(*table, key));
    }
  }
  for (const Sequence* sequence : sequences) {
    if (sequence->owned_by.empty()) continue;
    statements.push_back(fmt::format("ALTER SEQUENCE {} OWNED BY {}", qualified(sequence->name),
                                     sequence->owned_by));
  }
  for (const UserType* type : types) {
    if (!type->comment) continue;
    statements.push_back(fmt::format("COMMENT ON {} {} IS {}",
                                     type->kind == TypeKind::domain ? "DOMAIN" : "TYPE",
                                     qualified(type->name), quote_literal(*type->comment)));
  }
  for (const Sequence* sequence : sequences) {
    if (!sequence->comment) continue;
    statements.push_back(fmt::format("COMMENT ON SEQUENCE {} IS {}", qualified(sequence->name),
                                     quote_literal(*sequence->comment)));
  }
  for (const Routine* routine : routines) {
    if (!routine->comment) continue;
    statements.push_back(fmt::format(
        "COMMENT ON {} {}({}) IS {}",
        routine->kind == RoutineKind::procedure ? "PROCEDURE" : "FUNCTION",
        qualified(routine->name), routine->arguments, quote_literal(*routine->comment)));
  }
  for (const Table* table : tables_by_name) {
    append_comments(statements, "TABLE", table->name, table->comment, table->columns);
  }
  for (const View* view : views_by_name) {
    append_comments(statements, view->materialized ? "MATERIALIZED VIEW" : "VIEW", view->name,
                    view->comment, view->columns);
  }

  std::string out;
  for (const std::string& statement : statements) {
    if (!out.empty()) out += '\n';
    out += trimmed_statement(statement);
    out += ";\n";
  }
  return out;
}

// --- Reading -------------------------------------------------------------------------------------

using Row = std::vector<std::optional<std::string>>;

const std::string& at(const Row& row, std::size_t column) {
  static const std::string k_empty;
  return row[column] ? *row[column] : k_empty;
}

/// The elements of a one-dimensional text array as the server prints it (`{a,"b c",NULL}`);
/// NULL elements are left out.
std::vector<std::string> parse_text_array(std::string_view text) {
  std::vector<std::string> out;
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return out;
  text = text.substr(1, text.size() - 2);
  std::size_t i = 0;
  while (i < text.size()) {
    std::string element;
    bool quoted = false;
    if (text[i] == '"') {
      quoted = true;
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        element += text[i];
      }
      ++i;  // the closing quote
    } else {
      for (; i < text.size() && text[i] != ','; ++i) element += text[i];
    }
    if (quoted || element != "NULL") out.push_back(std::move(element));
    ++i;  // the comma
  }
  return out;
}

ForeignKeyAction parse_action(std::string_view code) {
  if (code == "r") return ForeignKeyAction::restrict;
  if (code == "c") return ForeignKeyAction::cascade;
  if (code == "n") return ForeignKeyAction::set_null;
  if (code == "d") return ForeignKeyAction::set_default;
  return ForeignKeyAction::no_action;
}

class CatalogReader {
 public:
  CatalogReader(const PgConnection& conn, const std::string& where)
      : m_conn(conn), m_where(where) {}

  SchemaModel read();

 private:
  std::vector<Row> rows(const std::string& sql) const {
    return pg_rows(m_conn, sql, "reading the schema from the catalogs failed", m_where);
  }
  void read_namespaces_and_extensions(SchemaModel& model) const;
  void read_types(SchemaModel& model) const;
  void read_sequences(SchemaModel& model) const;
  void read_relations(SchemaModel& model) const;
  void read_routines(SchemaModel& model) const;
  void read_triggers(SchemaModel& model) const;

  const PgConnection& m_conn;
  const std::string& m_where;
};

void CatalogReader::read_namespaces_and_extensions(SchemaModel& model) const {
  for (const Row& row :
       rows(fmt::format("SELECT n.nspname FROM pg_namespace n WHERE {} AND n.nspname <> 'public' "
                        "AND {} ORDER BY n.nspname",
                        k_pg_user_namespace, pg_not_extension_member("pg_namespace", "n.oid")))) {
    model.namespaces.push_back(at(row, 0));
  }
  for (const Row& row :
       rows("SELECT 'CREATE EXTENSION IF NOT EXISTS ' || quote_ident(e.extname) || "
            "' WITH SCHEMA ' || quote_ident(n.nspname) FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' "
            "ORDER BY e.extname")) {
    model.extensions.push_back(at(row, 0));
  }
}

void CatalogReader::read_types(SchemaModel& model) const {
  // Enums, domains, ranges and composite types of their own (not the row types of tables).
  const std::string sql = fmt::format(
      "SELECT n.nspname, t.typname, t.typtype::text, "
      "(SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e "
      "WHERE e.enumtypid = t.oid)::text, "
      "CASE t.typtype WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod) "
      "WHEN 'r' THEN (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r "
      "WHERE r.rngtypid = t.oid) END, "
      "CASE t.typtype "
      "WHEN 'e' THEN 'CREATE TYPE ' || {0} || ' AS ENUM (' || coalesce((SELECT "
      "string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e "
      "WHERE e.enumtypid = t.oid), '') || ')' "
      "WHEN 'd' THEN 'CREATE DOMAIN ' || {0} || ' AS ' || "
      "format_type(t.typbasetype, t.typtypmod) || "
      "CASE WHEN t.typcollation <> 0 AND t.typcollation <> (SELECT b.typcollation FROM pg_type b "
      "WHERE b.oid = t.typbasetype) THEN (SELECT ' COLLATE ' || quote_ident(cn.nspname) || '.' || "
      "quote_ident(co.collname) FROM pg_collation co JOIN pg_namespace cn "
      "ON cn.oid = co.collnamespace WHERE co.oid = t.typcollation) ELSE '' END || "
      "CASE WHEN t.typdefault IS NOT NULL THEN ' DEFAULT ' || t.typdefault ELSE '' END || "
      "CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END || "
      "coalesce((SELECT string_agg(' CONSTRAINT ' || quote_ident(k.conname) || ' ' || "
      "pg_get_constraintdef(k.oid), '' ORDER BY k.conname) FROM pg_constraint k "
      "WHERE k.contypid = t.oid AND k.contype = 'c'), '') "
      "WHEN 'r' THEN 'CREATE TYPE ' || {0} || ' AS RANGE (subtype = ' || (SELECT "
      "format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid) || ')' "
      "ELSE 'CREATE TYPE ' || {0} || ' AS (' || coalesce((SELECT string_agg("
      "quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' "
      "ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 "
      "AND NOT a.attisdropped), '') || ')' END, obj_description(t.oid, 'pg_type') "
      "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
      "WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT c.relkind FROM "
      "pg_class c WHERE c.oid = t.typrelid) = 'c')) AND {1} AND {2} "
      "ORDER BY n.nspname, t.typname",
      "quote_ident(n.nspname) || '.' || quote_ident(t.typname)", k_pg_user_namespace,
      pg_not_extension_member("pg_type", "t.oid"));
  for (const Row& row : rows(sql)) {
    UserType type;
    type.name = {at(row, 0), at(row, 1)};
    const std::string& kind = at(row, 2);
    type.kind = kind == "e"   ? TypeKind::enumeration
                : kind == "d" ? TypeKind::domain
                : kind == "r" ? TypeKind::range
                              : TypeKind::composite;
    type.labels = parse_text_array(at(row, 3));
    type.base_type = at(row, 4);
    type.definition = at(row, 5);
    type.comment = row[6];
    model.types.push_back(std::move(type));
  }
}

void CatalogReader::read_sequences(SchemaModel& model) const {
  // Sequences behind identity columns are the column's (its definition creates them).
  const std::string sql = fmt::format(
      "SELECT n.nspname, c.relname, 'CREATE SEQUENCE ' || {0} || ' AS ' || "
      "format_type(s.seqtypid, NULL) || ' START WITH ' || s.seqstart || ' INCREMENT BY ' || "
      "s.seqincrement || ' MINVALUE ' || s.seqmin || ' MAXVALUE ' || s.seqmax || ' CACHE ' || "
      "s.seqcache || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END, "
      "(SELECT quote_ident(tn.nspname) || '.' || quote_ident(t.relname) || '.' || "
      "quote_ident(a.attname) FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid "
      "JOIN pg_namespace tn ON tn.oid = t.relnamespace "
      "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
      "WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid "
      "AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a' LIMIT 1), "
      "obj_description(c.oid, 'pg_class') "
      "FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {1} AND {2} "
      "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
      "AND d.objid = c.oid AND d.deptype = 'i') ORDER BY n.nspname, c.relname",
      "quote_ident(n.nspname) || '.' || quote_ident(c.relname)", k_pg_user_namespace,
      pg_not_extension_member("pg_class", "c.oid"));
  for (const Row& row : rows(sql)) {
    model.sequences.push_back(Sequence{{at(row, 0), at(row, 1)}, at(row, 3), at(row, 2), row[4]});
  }
}

void CatalogReader::read_relations(SchemaModel& model) const {
  const std::string relations =
      fmt::format("c.relkind IN ('r', 'p', 'v', 'm') AND {} AND {} AND {}", k_pg_user_namespace,
                  k_pg_not_dbinit, pg_not_extension_member("pg_class", "c.oid"));

  // Tables, views and materialized views.
  const auto relation_rows = rows(fmt::format(
      "SELECT c.oid::text, n.nspname, c.relname, c.relkind::text, "
      "quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relispartition, "
      "(SELECT quote_ident(pn.nspname) || '.' || quote_ident(p.relname) FROM pg_inherits i "
      "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace "
      "WHERE i.inhrelid = c.oid AND c.relispartition LIMIT 1), "
      "pg_get_expr(c.relpartbound, c.oid), "
      "CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, "
      "c.relpersistence::text, array_to_string(c.reloptions, ', '), "
      "CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END, "
      "obj_description(c.oid, 'pg_class'), "
      "(SELECT string_agg(quote_ident(pn.nspname) || '.' || quote_ident(p.relname), ', ' "
      "ORDER BY i.inhseqno) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent "
      "JOIN pg_namespace pn ON pn.oid = p.relnamespace "
      "WHERE i.inhrelid = c.oid AND NOT c.relispartition) "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {} "
      "ORDER BY n.nspname, c.relname",
      relations));

  // Every column of those, in column order.
  const auto column_rows = rows(fmt::format(
      "SELECT a.attrelid::text, a.attname, quote_ident(a.attname), "
      "format_type(a.atttypid, a.atttypmod), a.attnotnull, "
      "CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN "
      "' COLLATE ' || quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END, "
      "a.attidentity::text, a.attgenerated::text, pg_get_expr(d.adbin, d.adrelid), "
      "col_description(a.attrelid, a.attnum), "
      // An identity column's sequence options where they differ from what a plain GENERATED
      // ... AS IDENTITY creates (ascending from 1 by 1 over the whole type, named after the
      // table and column, in its schema).
      "CASE WHEN a.attidentity <> '' THEN (SELECT concat_ws(' ', "
      "CASE WHEN sc.relname <> c.relname || '_' || a.attname || '_seq' "
      "OR sc.relnamespace <> c.relnamespace THEN 'SEQUENCE NAME ' || quote_ident(sn.nspname) "
      "|| '.' || quote_ident(sc.relname) END, "
      "CASE WHEN s.seqstart <> 1 THEN 'START WITH ' || s.seqstart END, "
      "CASE WHEN s.seqincrement <> 1 THEN 'INCREMENT BY ' || s.seqincrement END, "
      "CASE WHEN s.seqmin <> 1 THEN 'MINVALUE ' || s.seqmin END, "
      "CASE WHEN s.seqmax <> CASE s.seqtypid WHEN 'int2'::regtype THEN 32767 "
      "WHEN 'int4'::regtype THEN 2147483647 ELSE 9223372036854775807 END "
      "THEN 'MAXVALUE ' || s.seqmax END, "
      "CASE WHEN s.seqcache <> 1 THEN 'CACHE ' || s.seqcache END, "
      "CASE WHEN s.seqcycle THEN 'CYCLE' END) "
      "FROM pg_depend dep JOIN pg_class sc ON sc.oid = dep.objid AND sc.relkind = 'S' "
      "JOIN pg_namespace sn ON sn.oid = sc.relnamespace JOIN pg_sequence s ON s.seqrelid = sc.oid "
      "WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass "
      "AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype = 'i' "
      "LIMIT 1) END, a.attislocal "
      "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid "
      "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
      "LEFT JOIN pg_collation co ON co.oid = a.attcollation "
      "LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace "
      "WHERE a.attnum > 0 AND NOT a.attisdropped AND {} ORDER BY a.attrelid, a.attnum",
      relations));

  // Constraints defined on the tables themselves: a partition's or child table's copies of its
  // parent's come with the parent's. A check constraint that children inherit is added without
  // ONLY, which the server refuses for it.
  const auto constraint_rows = rows(fmt::format(
      "SELECT k.conrelid::text, k.contype::text, k.conname, "
      "(SELECT array_agg(a.attname ORDER BY u.ord) FROM unnest(k.conkey) WITH ORDINALITY "
      "u(num, ord) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num)::text, "
      "fn.nspname, fc.relname, "
      "(SELECT array_agg(a.attname ORDER BY u.ord) FROM unnest(k.confkey) WITH ORDINALITY "
      "u(num, ord) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num)::text, "
      "k.confupdtype::text, k.confdeltype::text, "
      "'ALTER TABLE ' || CASE WHEN c.relkind = 'p' OR (k.contype = 'c' AND NOT k.connoinherit "
      "AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid)) THEN '' "
      "ELSE 'ONLY ' END || "
      "quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' ADD CONSTRAINT ' || "
      "quote_ident(k.conname) || ' ' || pg_get_constraintdef(k.oid), "
      "CASE k.contype WHEN 'c' THEN pg_get_expr(k.conbin, k.conrelid) "
      "WHEN 'x' THEN pg_get_constraintdef(k.oid) END "
      "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace "
      "LEFT JOIN pg_class fc ON fc.oid = k.confrelid "
      "LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace "
      "WHERE k.contype IN ('p', 'u', 'c', 'x', 'f') AND k.conislocal AND k.conparentid = 0 "
      "AND {} ORDER BY n.nspname, c.relname, k.conname",
      relations));

  // Indexes that no constraint owns; partitions' copies of their parent's indexes are left out.
  const auto index_rows = rows(fmt::format(
      "SELECT i.indrelid::text, ic.relname, i.indisunique, am.amname, "
      // The key columns through a join on pg_attribute's (attrelid, attnum) index: a subquery
      // per key looked pg_attribute up ten times slower on a 700-table database.
      "(SELECT array_agg(CASE WHEN u.attnum <> 0 THEN a.attname::text "
      "ELSE pg_get_indexdef(i.indexrelid, u.k::int, true) END ORDER BY u.k) "
      "FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(attnum, k) "
      "LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.attnum "
      "WHERE u.k <= i.indnkeyatts)::text, "
      "pg_get_expr(i.indpred, i.indrelid), pg_get_indexdef(i.indexrelid), c.relkind::text "
      "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
      "JOIN pg_am am ON am.oid = ic.relam JOIN pg_class c ON c.oid = i.indrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE NOT ic.relispartition AND NOT EXISTS (SELECT 1 FROM pg_constraint k "
      "WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x')) AND {} "
      "ORDER BY n.nspname, c.relname, ic.relname",
      relations));

  // The tables and views each view reads, from the dependencies of its rewrite rule.
  const auto dependency_rows = rows(
      "SELECT DISTINCT r.ev_class::text, rn.nspname, rc.relname FROM pg_rewrite r "
      "JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid "
      "JOIN pg_class rc ON rc.oid = d.refobjid "
      "JOIN pg_namespace rn ON rn.oid = rc.relnamespace "
      "WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class "
      "AND rc.relkind IN ('r', 'p', 'v', 'm', 'f')");

  std::map<std::string, std::vector<Column>> columns;
  std::map<std::string, std::vector<std::string>> column_texts;
  for (const Row& row : column_rows) {
    Column column;
    column.name = at(row, 1);
    column.type = at(row, 3);
    column.nullable = at(row, 4) != "t";
    const std::string& identity = at(row, 6);
    const bool generated = at(row, 7) == "s";
    column.identity = !identity.empty();
    if (generated) {
      column.generated = row[8];
    } else {
      column.default_value = row[8];
    }
    column.comment = row[9];
    std::string text = at(row, 2) + " " + column.type + at(row, 5);
    if (!identity.empty()) {
      text +=
          identity == "a" ? " GENERATED ALWAYS AS IDENTITY" : " GENERATED BY DEFAULT AS IDENTITY";
      if (!at(row, 10).empty()) text += " (" + at(row, 10) + ")";
    }
    if (generated && column.generated) {
      text += " GENERATED ALWAYS AS (" + *column.generated + ") STORED";
    } else if (column.default_value) {
      text += " DEFAULT " + *column.default_value;
    }
    if (!column.nullable) text += " NOT NULL";
    columns[at(row, 0)].push_back(std::move(column));
    // An inherited column comes with INHERITS, unless the table declares it as well.
    if (at(row, 11) == "t") column_texts[at(row, 0)].push_back(std::move(text));
  }

  std::map<std::string, Table*> tables;
  std::map<std::string, View*> views;
  model.tables.reserve(relation_rows.size());
  model.views.reserve(relation_rows.size());
  for (const Row& row : relation_rows) {
    const std::string& oid = at(row, 0);
    const std::string& kind = at(row, 3);
    const std::string& name = at(row, 4);
    const std::string options = row[10] ? fmt::format(" WITH ({})", *row[10]) : "";
    if (kind == "v" || kind == "m") {
      View view;
      view.name = {at(row, 1), at(row, 2)};
      view.materialized = kind == "m";
      view.columns = std::move(columns[oid]);
      view.comment = row[12];
      view.definition =
          fmt::format("CREATE {}VIEW {}{} AS\n{}", view.materialized ? "MATERIALIZED " : "", name,
                      options, trimmed_statement(at(row, 11)));
      model.views.push_back(std::move(view));
      views[oid] = &model.views.back();
      continue;
    }
    Table table;
    table.name = {at(row, 1), at(row, 2)};
    table.columns = std::move(columns[oid]);
    table.comment = row[12];
    const std::string unlogged = at(row, 9) == "u" ? "UNLOGGED " : "";
    const std::string partition_by = row[8] ? " PARTITION BY " + *row[8] : "";
    if (at(row, 5) == "t" && row[6]) {
      table.definition = fmt::format("CREATE {}TABLE {} PARTITION OF {}\n    {}{}{}", unlogged,
                                     name, *row[6], at(row, 7), partition_by, options);
    } else {
      std::string body;
      for (const std::string& text : column_texts[oid]) {
        body += body.empty() ? "\n    " : ",\n    ";
        body += text;
      }
      if (!body.empty()) body += "\n";
      const std::string inherits = row[13] ? "\nINHERITS (" + *row[13] + ")" : "";
      table.definition = fmt::format("CREATE {}TABLE {} ({}){}{}{}", unlogged, name, body, inherits,
                                     partition_by, options);
    }
    model.tables.push_back(std::move(table));
    tables[oid] = &model.tables.back();
  }

  for (const Row& row : constraint_rows) {
    auto found = tables.find(at(row, 0));
    if (found == tables.end()) continue;
    Table& table = *found->second;
    const std::string& kind = at(row, 1);
    if (kind == "p" || kind == "u") {
      KeyConstraint key{at(row, 2), parse_text_array(at(row, 3)), at(row, 9)};
      if (kind == "p") {
        table.primary_key = std::move(key);
      } else {
        table.unique_keys.push_back(std::move(key));
      }
    } else if (kind == "c") {
      table.checks.push_back(CheckConstraint{at(row, 2), at(row, 10), at(row, 9)});
    } else if (kind == "x") {
      table.exclusions.push_back(CheckConstraint{at(row, 2), at(row, 10), at(row, 9)});
    } else {
      ForeignKey key;
      key.name = at(row, 2);
      key.columns = parse_text_array(at(row, 3));
      key.referenced_table = {at(row, 4), at(row, 5)};
      key.referenced_columns = parse_text_array(at(row, 6));
      key.on_update = parse_action(at(row, 7));
      key.on_delete = parse_action(at(row, 8));
      key.definition = at(row, 9);
      table.foreign_keys.push_back(std::move(key));
    }
  }

  for (const Row& row : index_rows) {
    Index index;
    index.name = at(row, 1);
    index.unique = at(row, 2) == "t";
    index.method = at(row, 3);
    index.keys = parse_text_array(at(row, 4));
    index.predicate = row[5];
    index.definition = at(row, 6);
    // The server prints a partitioned table's index as `ON ONLY`, which leaves out the
    // partitions: created as printed it would stay invalid, without the partitions' copies.
    if (at(row, 7) == "p") {
      if (const std::size_t only = index.definition.find(" ON ONLY "); only != std::string::npos) {
        index.definition.erase(only + 3, 5);
      }
    }
    if (auto table = tables.find(at(row, 0)); table != tables.end()) {
      table->second->indexes.push_back(std::move(index));
    } else if (auto view = views.find(at(row, 0)); view != views.end()) {
      view->second->indexes.push_back(std::move(index));
    }
  }

  for (const Row& row : dependency_rows) {
    auto view = views.find(at(row, 0));
    if (view != views.end()) view->second->depends_on.push_back({at(row, 1), at(row, 2)});
  }
  for (View& view : model.views) {
    std::sort(view.depends_on.begin(), view.depends_on.end());
    view.depends_on.erase(std::unique(view.depends_on.begin(), view.depends_on.end()),
                          view.depends_on.end());
  }

  // The catalogs sort names by their bytes, as std::string does; sorted again so that the model's
  // order does not rest on that.
  auto by_name = [](const auto& a, const auto& b) { return a.name < b.name; };
  std::stable_sort(model.tables.begin(), model.tables.end(), by_name);
  for (Table& table : model.tables) {
    std::stable_sort(table.unique_keys.begin(), table.unique_keys.end(), by_name);
    std::stable_sort(table.foreign_keys.begin(), table.foreign_keys.end(), by_name);
    std::stable_sort(table.checks.begin(), table.checks.end(), by_name);
    std::stable_sort(table.exclusions.begin(), table.exclusions.end(), by_name);
    std::stable_sort(table.indexes.begin(), table.indexes.end(), by_name);
  }
  std::vector<View> ordered;
  ordered.reserve(model.views.size());
  for (const View* view : views_in_dependency_order(model.views)) ordered.push_back(*view);
  for (View& view : ordered) std::stable_sort(view.indexes.begin(), view.indexes.end(), by_name);
  model.views = std::move(ordered);
}

void CatalogReader::read_routines(SchemaModel& model) const {
  // Functions and procedures (aggregates and window functions have no pg_get_functiondef), but
  // not those a type made for itself (a range type's constructors).
  const std::string sql = fmt::format(
      "SELECT n.nspname, p.proname, p.prokind::text, pg_get_function_identity_arguments(p.oid), "
      "l.lanname, pg_get_functiondef(p.oid), obj_description(p.oid, 'pg_proc') FROM pg_proc p "
      "JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang "
      "WHERE p.prokind IN ('f', 'p') AND {} AND {} AND NOT EXISTS (SELECT 1 FROM pg_depend d "
      "WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'i') "
      "ORDER BY n.nspname, p.proname",
      k_pg_user_namespace, pg_not_extension_member("pg_proc", "p.oid"));
  for (const Row& row : rows(sql)) {
    Routine routine;
    routine.name = {at(row, 0), at(row, 1)};
    routine.kind = at(row, 2) == "p" ? RoutineKind::procedure : RoutineKind::function;
    routine.arguments = at(row, 3);
    routine.language = at(row, 4);
    routine.definition = trimmed_statement(at(row, 5));
    routine.comment = row[6];
    model.routines.push_back(std::move(routine));
  }
  std::stable_sort(model.routines.begin(), model.routines.end(),
                   [](const Routine& a, const Routine& b) {
                     return std::tie(a.name, a.arguments) < std::tie(b.name, b.arguments);
                   });
}

void CatalogReader::read_triggers(SchemaModel& model) const {
  // A partition's clones of its parent's triggers come with the parent's.
  const bool has_trigger_parent = libpq().PQserverVersion(m_conn.get()) >= 130000;
  const std::string sql = fmt::format(
      "SELECT n.nspname, c.relname, g.tgname, pg_get_triggerdef(g.oid) FROM pg_trigger g "
      "JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE NOT g.tgisinternal {} AND {} AND {} ORDER BY n.nspname, c.relname, g.tgname",
      has_trigger_parent ? "AND g.tgparentid = 0" : "", k_pg_user_namespace,
      pg_not_extension_member("pg_class", "c.oid"));
  for (const Row& row : rows(sql)) {
    model.triggers.push_back(
        Trigger{{at(row, 0), at(row, 2)}, {at(row, 0), at(row, 1)}, at(row, 3)});
  }
  std::stable_sort(model.triggers.begin(), model.triggers.end(),
                   [](const Trigger& a, const Trigger& b) {
                     return std::tie(a.table, a.name) < std::tie(b.table, b.name);
                   });
}

SchemaModel CatalogReader::read() {
  SchemaModel model;
  model.engine = "postgres";
  read_namespaces_and_extensions(model);
  read_types(model);
  read_sequences(model);
  read_relations(model);
  read_routines(model);
  read_triggers(model);
  return model;
}

SchemaModel read_schema(Engine& engine) {
  const PgConnection& conn = postgres_connection(engine);
  const std::string& where = postgres_where(engine);
  // With an empty search_path the server qualifies every name it prints (types in defaults,
  // tables in views and foreign keys), as pg_dump does: the text means the same whatever the
  // session that runs it, and does not depend on this session's search_path. set_config(...,
  // true) lasts until the end of the transaction; inside the caller's, the old value is put back
  // afterwards.
  const bool own_transaction = libpq().PQtransactionStatus(conn.get()) == PQTRANS_IDLE;
  if (own_transaction) conn.exec("BEGIN", "reading the schema failed", where);
  SchemaModel model;
  try {
    PgResult saved =
        conn.exec("SELECT current_setting('search_path')", "reading the schema failed", where);
    const std::string search_path = pg_text(saved.get(), 0, 0);
    conn.exec("SELECT set_config('search_path', '', true)", "reading the schema failed", where);
    model = CatalogReader(conn, where).read();
    if (!own_transaction) {
      conn.exec("SELECT set_config('search_path', $1, true)", {search_path},
                "reading the schema failed", where);
    }
  } catch (...) {
    if (own_transaction) libpq().PQclear(libpq().PQexec(conn.get(), "ROLLBACK"));
    throw;
  }
  if (own_transaction) conn.exec("ROLLBACK", "reading the schema failed", where);
  return model;
}

std::string ledger_ddl() {
  return fmt::format(k_pg_create_ledger, k_ledger_table) + ";\n" +
         fmt::format(k_pg_create_meta, k_meta_table) + ";\n";
}

}  // namespace

// applied_at is the statement's own time, not the transaction's start: a script that records
// several migrations in one transaction gives each the time it was applied.
const SchemaSupport k_postgres_schema_support = {
    read_schema, render_schema,
    ledger_ddl,  quote_literal,
    false,       "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
    nullptr};

}  // namespace dbinit
