#pragma once

// One model of a database schema, read from an engine's catalogs (each engine's *_introspect.cpp)
// and shared by everything that looks at a schema: `dbinit schema` (the schema file), `diagram`,
// `verify`'s before/after comparison and snapshots. dbinit's own tables are never in it.
//
// Each object carries what the diagram and the comparisons need as data (columns, keys, foreign
// keys with their actions, ...) and, in `definition`, the statement that creates it as the
// engine itself prints it (pg_get_viewdef, SHOW CREATE TABLE, sqlite_master.sql), so that the
// schema file renders with the engine's own fidelity. Lists are sorted by (schema, name) unless a
// comment says otherwise, so that a model does not depend on the order objects were created in.

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dbinit {

enum class ForeignKeyAction { no_action, restrict, cascade, set_null, set_default };

std::string_view to_sql(ForeignKeyAction action);  // `NO ACTION`, `CASCADE`, ...

/// A qualified object name: PostgreSQL's schema (namespace) and name. `schema` is empty on
/// SQLite and MySQL, where a database is one namespace.
struct ObjectName {
  std::string schema;
  std::string name;
  /// `schema.name`, or `name` when `schema` is empty; not quoted (for messages and diagrams).
  std::string display() const { return schema.empty() ? name : schema + "." + name; }
  auto operator<=>(const ObjectName&) const = default;
};

struct Column {
  std::string name;
  /// The type as the engine prints it (`character varying(120)`, `varchar(120)`, `INTEGER`,
  /// `public.mood` for a PostgreSQL enum). SQLite: the declared type, possibly empty.
  std::string type;
  bool nullable = true;
  std::optional<std::string> default_value;  // the default's expression text
  std::optional<std::string> generated;      // the generation expression of a generated column
  bool identity = false;  // identity / AUTO_INCREMENT / INTEGER PRIMARY KEY rowid
  std::optional<std::string> comment;
};

/// A primary key or unique constraint. SQLite's inline and MySQL's primary keys have no name
/// of their own: `name` is then empty (MySQL: `PRIMARY`).
struct KeyConstraint {
  std::string name;
  std::vector<std::string> columns;  // in key order
  /// PostgreSQL: the statement that adds the constraint (ALTER TABLE ... ADD CONSTRAINT ...), as
  /// the server prints it (INCLUDE, DEFERRABLE, NULLS NOT DISTINCT kept); empty elsewhere.
  std::string definition = {};
};

struct ForeignKey {
  std::string name;                  // empty when the engine gives none (SQLite)
  std::vector<std::string> columns;  // in key order, pairing with referenced_columns
  ObjectName referenced_table;
  std::vector<std::string> referenced_columns;
  ForeignKeyAction on_update = ForeignKeyAction::no_action;
  ForeignKeyAction on_delete = ForeignKeyAction::no_action;
  /// The constraint as the engine prints it (PostgreSQL: ALTER TABLE ... ADD CONSTRAINT ...;
  /// MySQL and SQLite: the clause inside CREATE TABLE, for reference only).
  std::string definition;
};

struct CheckConstraint {
  std::string name;
  std::string expression;
  /// PostgreSQL: the statement that adds the constraint (ALTER TABLE ... ADD CONSTRAINT ...);
  /// empty elsewhere.
  std::string definition = {};
};

/// An index that no constraint owns (primary and unique constraints have their own).
struct Index {
  std::string name;
  bool unique = false;
  std::string method;             // `btree`, `hash`, `gin`, `BTREE`, `FULLTEXT`; SQLite: empty
  std::vector<std::string> keys;  // column names, or expression text for expression keys
  std::optional<std::string> predicate;  // partial index: the WHERE expression
  std::string definition;                // CREATE INDEX ... as the engine prints it
};

struct Table {
  ObjectName name;
  std::vector<Column> columns;  // in column order, not by name
  std::optional<KeyConstraint> primary_key;
  std::vector<KeyConstraint> unique_keys;  // by name, then columns
  std::vector<ForeignKey> foreign_keys;    // by name, then columns
  std::vector<CheckConstraint> checks;
  /// PostgreSQL EXCLUDE constraints: `expression` is the constraint as the server prints it
  /// (`EXCLUDE USING gist (...)`). By name.
  std::vector<CheckConstraint> exclusions;
  std::vector<Index> indexes;  // by name
  std::optional<std::string> comment;
  /// CREATE TABLE ... as the engine prints it. PostgreSQL: columns only (constraints, indexes
  /// and comments come as statements of their own); MySQL: SHOW CREATE TABLE without
  /// AUTO_INCREMENT=N; SQLite: sqlite_master.sql.
  std::string definition;
};

struct View {
  ObjectName name;
  bool materialized = false;
  std::vector<Column> columns;  // in column order; types as far as the engine knows them
  /// Tables and views the view reads from, sorted.
  std::vector<ObjectName> depends_on;
  std::optional<std::string> comment;
  std::string definition;      // CREATE [MATERIALIZED] VIEW ... AS ...
  std::vector<Index> indexes;  // a materialized view's indexes, by name
};

struct Sequence {
  ObjectName name;
  /// `table.column` of a serial column that owns the sequence, else empty (PostgreSQL:
  /// `schema.table.column`, each part quoted where it needs to be).
  std::string owned_by;
  std::string definition;
  std::optional<std::string> comment = {};
};

enum class TypeKind { enumeration, domain, composite, range };

struct UserType {
  ObjectName name;
  TypeKind kind = TypeKind::enumeration;
  std::vector<std::string> labels;  // enum labels in sort order
  std::string base_type;            // domain: the base type; range: the subtype
  std::string definition;
  std::optional<std::string> comment = {};
};

enum class RoutineKind { function, procedure };

struct Routine {
  ObjectName name;
  RoutineKind kind = RoutineKind::function;
  /// The argument types that tell overloads apart (PostgreSQL); empty elsewhere. Sorted by
  /// (schema, name, arguments).
  std::string arguments;
  std::string language;  // `plpgsql`, `sql`, `SQL` (MySQL)
  std::string definition;
  std::optional<std::string> comment = {};
};

struct Trigger {
  ObjectName name;
  /// Sorted by (table, name); where an engine fires several triggers of one event in an order
  /// of its own (MySQL's ACTION_ORDER), by table and that order, which a reload must keep.
  ObjectName table;
  std::string definition;
};

/// A whole schema: what one database holds besides dbinit's own tables.
struct SchemaModel {
  std::string engine;  // the registry's name: `sqlite`, `postgres`, `mysql`
  /// PostgreSQL: the schemas (namespaces) other than `public` that hold user objects, and the
  /// extensions (`CREATE EXTENSION ...` statements); empty elsewhere.
  std::vector<std::string> namespaces;
  std::vector<std::string> extensions;
  std::vector<UserType> types;
  std::vector<Sequence> sequences;
  std::vector<Table> tables;
  /// In an order that creates each view after every view it reads from; among views that are
  /// ready at the same time, by name.
  std::vector<View> views;
  std::vector<Routine> routines;
  std::vector<Trigger> triggers;

  const Table* find_table(const ObjectName& name) const;
  bool empty() const;
};

/// The indexes 0..`needs.size()` in an order that puts each after every index in its `needs`;
/// among indexes that are ready at the same time, the smallest first. Whatever a cycle leaves is
/// taken in index order.
std::vector<std::size_t> dependency_order(const std::vector<std::set<std::size_t>>& needs);

/// `views` sorted by name, then in an order that creates each after the views it reads from
/// (`depends_on`).
std::vector<const View*> views_in_dependency_order(const std::vector<View>& views);

}  // namespace dbinit
