#pragma once

// Catalog queries of the postgres engine: whether a database holds user objects, and its schema
// as DDL text in a stable order.

#include <string>

#include "engines/postgres/pg_connection.h"

namespace dbinit {

/// True when any table, view, materialized view, sequence, foreign table, composite or enum type,
/// domain, function or procedure exists outside the system schemas, besides dbinit's own tables
/// and objects that belong to extensions.
bool pg_has_user_objects(const PgConnection& conn, const std::string& where);

/// The schema of every non-system schema as executable DDL: schemas, extensions, types, sequences,
/// functions, tables (columns, defaults, identity, NOT NULL), views and materialized views in
/// dependency order, constraints, indexes, triggers, sequence ownership and comments. Objects are
/// sorted by schema and name (views by dependency, then name), OIDs never show, and dbinit's
/// ledger tables are left out, so two databases built the same way print the same text.
std::string pg_schema(const PgConnection& conn, const std::string& where);

}  // namespace dbinit
