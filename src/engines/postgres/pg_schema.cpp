#include "engines/postgres/pg_schema.h"
#include "engines/postgres/libpq.h"

#include <fmt/format.h>

namespace dbinit {

std::string pg_not_extension_member(std::string_view catalog, std::string_view oid) {
  return fmt::format(
      "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{}'::regclass "
      "AND e.objid = {} AND e.deptype = 'e')",
      catalog, oid);
}

std::vector<std::vector<std::optional<std::string>>> pg_rows(const PgConnection& conn,
                                                             std::string_view sql,
                                                             std::string_view what,
                                                             const std::string& where) {
  PgResult result = conn.exec(sql, what, where);
  std::vector<std::vector<std::optional<std::string>>> out;
  const int count = libpq().PQntuples(result.get());
  const int columns = libpq().PQnfields(result.get());
  out.reserve(static_cast<std::size_t>(count));
  for (int row = 0; row < count; ++row) {
    std::vector<std::optional<std::string>> values;
    values.reserve(static_cast<std::size_t>(columns));
    for (int column = 0; column < columns; ++column) {
      values.push_back(pg_value(result.get(), row, column));
    }
    out.push_back(std::move(values));
  }
  return out;
}

bool pg_has_user_objects(const PgConnection& conn, const std::string& where) {
  std::string sql = fmt::format(
      "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND {0} AND {1} AND {2}) "
      "OR EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
      "WHERE {0} AND {3}) "
      "OR EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
      "WHERE {0} AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'b' AND t.typcategory <> 'A')) "
      "AND {4})",
      k_pg_user_namespace, k_pg_not_dbinit, pg_not_extension_member("pg_class", "c.oid"),
      pg_not_extension_member("pg_proc", "p.oid"), pg_not_extension_member("pg_type", "t.oid"));
  PgResult result = conn.exec(sql, "looking for tables failed", where);
  return pg_text(result.get(), 0, 0) == "t";
}

}  // namespace dbinit
