#pragma once

// Catalog queries of the postgres engine: whether a database holds user objects, and the
// statements that create dbinit's own tables. The schema itself is read and rendered by the
// schema support (postgres_introspect.cpp).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engines/postgres/pg_connection.h"

namespace dbinit {

/// A condition on `n` (pg_namespace): a schema of the database's own, not one of the system's
/// (catalogs, TOAST, other sessions' temporary schemas).
inline constexpr std::string_view k_pg_user_namespace =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'";

/// A condition on `c` (pg_class): not one of dbinit's own tables, wherever search_path put them.
inline constexpr std::string_view k_pg_not_dbinit =
    "c.relname NOT IN ('dbinit_migrations', 'dbinit_meta')";

/// A condition that the object `oid` of catalog `catalog` (`pg_class`, `pg_proc`, ...) does not
/// belong to an extension: what CREATE EXTENSION created is the extension's, not the database's.
std::string pg_not_extension_member(std::string_view catalog, std::string_view oid);

/// The rows of `sql` as text, NULL as nullopt; throws Error{failure} "<what>: ..." on failure.
std::vector<std::vector<std::optional<std::string>>> pg_rows(const PgConnection& conn,
                                                             std::string_view sql,
                                                             std::string_view what,
                                                             const std::string& where);

/// True when any table, view, materialized view, sequence, foreign table, composite or enum type,
/// domain, function or procedure exists outside the system schemas, besides dbinit's own tables
/// and objects that belong to extensions.
bool pg_has_user_objects(const PgConnection& conn, const std::string& where);

/// The statement that creates the ledger table when missing; `{}` is its (qualified) name. Used by
/// ensure_ledger() and, unqualified, by the schema support's ledger_ddl().
inline constexpr std::string_view k_pg_create_ledger = R"(CREATE TABLE IF NOT EXISTS {} (
  version text PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  state text NOT NULL,
  applied_at text NOT NULL,
  duration_ms bigint NOT NULL DEFAULT 0,
  applied_by text NOT NULL DEFAULT '',
  down_sql text,
  error text
))";

/// The statement that creates the meta table (Engine::meta) when missing; `{}` is its name.
inline constexpr std::string_view k_pg_create_meta = R"(CREATE TABLE IF NOT EXISTS {} (
  key text PRIMARY KEY,
  value text NOT NULL
))";

}  // namespace dbinit
