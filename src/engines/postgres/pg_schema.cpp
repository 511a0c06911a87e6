#include "engines/postgres/pg_schema.h"
#include "engines/postgres/libpq.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace dbinit {

namespace {

// Schemas that belong to the system: catalogs, TOAST and other sessions' temporary schemas.
constexpr std::string_view k_user_namespace =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'";

// dbinit's own tables, wherever search_path put them.
constexpr std::string_view k_not_dbinit = "c.relname NOT IN ('dbinit_migrations', 'dbinit_meta')";

// Objects created by CREATE EXTENSION are the extension's, not the database's own.
std::string not_extension_member(std::string_view catalog, std::string_view oid) {
  return fmt::format(
      "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{}'::regclass "
      "AND e.objid = {} AND e.deptype = 'e')",
      catalog, oid);
}

constexpr std::string_view k_qualified_class =
    "quote_ident(n.nspname) || '.' || quote_ident(c.relname)";

std::vector<std::vector<std::string>> rows(const PgConnection& conn, const std::string& sql,
                                           const std::string& where) {
  PgResult result = conn.exec(sql, "reading the schema from the catalogs failed", where);
  std::vector<std::vector<std::string>> out;
  int count = libpq().PQntuples(result.get());
  int columns = libpq().PQnfields(result.get());
  out.reserve(static_cast<std::size_t>(count));
  for (int row = 0; row < count; ++row) {
    std::vector<std::string> values;
    for (int column = 0; column < columns; ++column) {
      values.push_back(pg_text(result.get(), row, column));
    }
    out.push_back(std::move(values));
  }
  return out;
}

void append_statements(std::string& out, const PgConnection& conn, const std::string& sql,
                       const std::string& where) {
  for (const auto& row : rows(conn, sql, where)) {
    std::string statement = row[0];
    while (!statement.empty() && (statement.back() == '\n' || statement.back() == ' ')) {
      statement.pop_back();
    }
    if (!statement.ends_with(';')) statement += ';';
    out += statement;
    out += "\n\n";
  }
}

// Views and materialized views in an order that creates each after the views it reads from;
// among views that are ready at the same time, by name.
void append_views(std::string& out, const PgConnection& conn, const std::string& where) {
  std::string views_sql = fmt::format(
      "SELECT c.oid::text, {0}, c.relkind::text, pg_get_viewdef(c.oid, true), "
      "coalesce(array_to_string(c.reloptions, ', '), '') "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.relkind IN ('v', 'm') AND {1} AND {2} ORDER BY n.nspname, c.relname",
      k_qualified_class, k_user_namespace, not_extension_member("pg_class", "c.oid"));
  auto views = rows(conn, views_sql, where);
  if (views.empty()) return;
  auto deps = rows(conn,
                   "SELECT DISTINCT r.ev_class::text, d.refobjid::text FROM pg_rewrite r "
                   "JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid "
                   "WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class",
                   where);
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < views.size(); ++i) index[views[i][0]] = i;
  std::vector<std::set<std::size_t>> needs(views.size());
  std::vector<std::vector<std::size_t>> needed_by(views.size());
  for (const auto& dep : deps) {
    auto view = index.find(dep[0]);
    auto used = index.find(dep[1]);
    if (view == index.end() || used == index.end()) continue;
    if (needs[view->second].insert(used->second).second) {
      needed_by[used->second].push_back(view->second);
    }
  }
  // Kahn's algorithm; `views` is sorted by name, so the smallest ready index is the first name.
  std::set<std::size_t> ready;
  for (std::size_t i = 0; i < views.size(); ++i) {
    if (needs[i].empty()) ready.insert(i);
  }
  std::vector<bool> done(views.size(), false);
  std::vector<std::size_t> order;
  while (order.size() < views.size()) {
    if (ready.empty()) {
      // A cycle cannot exist between views; fall back to name order for whatever remains.
      for (std::size_t i = 0; i < views.size(); ++i) {
        if (!done[i]) ready.insert(i);
      }
    }
    std::size_t next = *ready.begin();
    ready.erase(ready.begin());
    if (done[next]) continue;
    done[next] = true;
    order.push_back(next);
    for (std::size_t user : needed_by[next]) {
      needs[user].erase(next);
      if (needs[user].empty() && !done[user]) ready.insert(user);
    }
  }
  for (std::size_t i : order) {
    const auto& view = views[i];
    std::string definition = view[3];
    while (!definition.empty() && (definition.back() == '\n' || definition.back() == ' ')) {
      definition.pop_back();
    }
    if (!definition.ends_with(';')) definition += ';';
    std::string options = view[4].empty() ? "" : fmt::format(" WITH ({})", view[4]);
    out += fmt::format("CREATE {}VIEW {}{} AS\n{}\n\n", view[2] == "m" ? "MATERIALIZED " : "",
                       view[1], options, definition);
  }
}

std::string schema_text(const PgConnection& conn, const std::string& where);

void append_tables(std::string& out, const PgConnection& conn, const std::string& where) {
  std::string sql = fmt::format(
      "SELECT {0}, c.relkind::text, c.relispartition, "
      "coalesce((SELECT quote_ident(pn.nspname) || '.' || quote_ident(p.relname) "
      "FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent "
      "JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE i.inhrelid = c.oid LIMIT 1), ''), "
      "coalesce(pg_get_expr(c.relpartbound, c.oid), ''), "
      "CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) ELSE '' END, "
      "c.relpersistence::text, coalesce(array_to_string(c.reloptions, ', '), ''), "
      "coalesce((SELECT string_agg(quote_ident(a.attname) || ' ' || "
      "format_type(a.atttypid, a.atttypmod) || "
      "CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN ' COLLATE ' || "
      "quote_ident(cn.nspname) || '.' || quote_ident(co.collname) ELSE '' END || "
      "CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY' "
      "WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END || "
      "CASE WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS (' || "
      "pg_get_expr(d.adbin, d.adrelid) || ') STORED' "
      "WHEN d.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END || "
      "CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END, "
      "E',\\n    ' ORDER BY a.attnum) "
      "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
      "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
      "LEFT JOIN pg_collation co ON co.oid = a.attcollation "
      "LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace "
      "WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.relkind IN ('r', 'p') AND {1} AND {2} AND {3} "
      "ORDER BY c.relispartition, n.nspname, c.relname",
      k_qualified_class, k_user_namespace, k_not_dbinit, not_extension_member("pg_class", "c.oid"));
  for (const auto& table : rows(conn, sql, where)) {
    const std::string& name = table[0];
    bool partition = table[2] == "t";
    std::string unlogged = table[6] == "u" ? "UNLOGGED " : "";
    std::string options = table[7].empty() ? "" : fmt::format(" WITH ({})", table[7]);
    if (partition) {
      out += fmt::format("CREATE {}TABLE {} PARTITION OF {}\n    {}{};\n\n", unlogged, name,
                         table[3], table[4], options);
      continue;
    }
    std::string columns = table[8].empty() ? "" : fmt::format("\n    {}\n", table[8]);
    std::string partition_by = table[1] == "p" ? fmt::format(" PARTITION BY {}", table[5]) : "";
    out += fmt::format("CREATE {}TABLE {} ({}){}{};\n\n", unlogged, name, columns, partition_by,
                       options);
  }
}

}  // namespace

bool pg_has_user_objects(const PgConnection& conn, const std::string& where) {
  std::string sql = fmt::format(
      "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND {0} AND {1} AND {2}) "
      "OR EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
      "WHERE {0} AND {3}) "
      "OR EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
      "WHERE {0} AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'b' AND t.typcategory <> 'A')) "
      "AND {4})",
      k_user_namespace, k_not_dbinit, not_extension_member("pg_class", "c.oid"),
      not_extension_member("pg_proc", "p.oid"), not_extension_member("pg_type", "t.oid"));
  PgResult result = conn.exec(sql, "looking for tables failed", where);
  return pg_text(result.get(), 0, 0) == "t";
}

std::string pg_schema(const PgConnection& conn, const std::string& where) {
  // With an empty search_path the server qualifies every name it prints (types in defaults,
  // tables in views and foreign keys), as pg_dump does: the text means the same whatever the
  // session that runs it, and does not depend on this session's search_path. SET LOCAL needs a
  // transaction; inside the caller's, the old value is put back afterwards.
  bool own_transaction = libpq().PQtransactionStatus(conn.get()) == PQTRANS_IDLE;
  if (own_transaction) conn.exec("BEGIN", "reading the schema failed", where);
  PgResult saved =
      conn.exec("SELECT current_setting('search_path')", "reading the schema failed", where);
  std::string search_path = pg_text(saved.get(), 0, 0);
  std::string out;
  try {
    conn.exec("SELECT set_config('search_path', '', true)", "reading the schema failed", where);
    out = schema_text(conn, where);
  } catch (...) {
    if (own_transaction) libpq().PQclear(libpq().PQexec(conn.get(), "ROLLBACK"));
    throw;
  }
  if (own_transaction) {
    conn.exec("ROLLBACK", "reading the schema failed", where);
  } else {
    conn.exec("SELECT set_config('search_path', $1, true)", {search_path},
              "reading the schema failed", where);
  }
  return out;
}

namespace {

std::string schema_text(const PgConnection& conn, const std::string& where) {
  std::string out;
  std::string user_types =
      fmt::format("{} AND {}", k_user_namespace, not_extension_member("pg_type", "t.oid"));
  std::string type_name = "quote_ident(n.nspname) || '.' || quote_ident(t.typname)";

  append_statements(
      out, conn,
      fmt::format("SELECT 'CREATE SCHEMA ' || quote_ident(n.nspname) FROM pg_namespace n "
                  "WHERE {} AND n.nspname <> 'public' AND {} ORDER BY n.nspname",
                  k_user_namespace, not_extension_member("pg_namespace", "n.oid")),
      where);
  append_statements(
      out, conn,
      "SELECT 'CREATE EXTENSION IF NOT EXISTS ' || quote_ident(e.extname) || ' WITH SCHEMA ' || "
      "quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
      "WHERE e.extname <> 'plpgsql' ORDER BY e.extname",
      where);

  // Types: enums, then domains (which may use enums), composite types and ranges.
  append_statements(out, conn,
                    fmt::format("SELECT 'CREATE TYPE ' || {0} || ' AS ENUM (' || "
                                "coalesce(string_agg(quote_literal(e.enumlabel), ', ' "
                                "ORDER BY e.enumsortorder), '') || ')' "
                                "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                                "LEFT JOIN pg_enum e ON e.enumtypid = t.oid "
                                "WHERE t.typtype = 'e' AND {1} GROUP BY n.nspname, t.typname "
                                "ORDER BY n.nspname, t.typname",
                                type_name, user_types),
                    where);
  append_statements(
      out, conn,
      fmt::format("SELECT 'CREATE DOMAIN ' || {0} || ' AS ' || "
                  "format_type(t.typbasetype, t.typtypmod) || "
                  "CASE WHEN t.typdefault IS NOT NULL THEN ' DEFAULT ' || t.typdefault ELSE '' "
                  "END || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END || "
                  "coalesce((SELECT string_agg(' CONSTRAINT ' || quote_ident(k.conname) || ' ' || "
                  "pg_get_constraintdef(k.oid), '' ORDER BY k.conname) FROM pg_constraint k "
                  "WHERE k.contypid = t.oid), '') "
                  "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                  "WHERE t.typtype = 'd' AND {1} ORDER BY n.nspname, t.typname",
                  type_name, user_types),
      where);
  append_statements(
      out, conn,
      fmt::format("SELECT 'CREATE TYPE ' || {0} || ' AS (' || "
                  "coalesce((SELECT string_agg(quote_ident(a.attname) || ' ' || "
                  "format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) "
                  "FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 "
                  "AND NOT a.attisdropped), '') || ')' "
                  "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                  "WHERE c.relkind = 'c' AND {1} AND {2} ORDER BY n.nspname, c.relname",
                  k_qualified_class, k_user_namespace, not_extension_member("pg_class", "c.oid")),
      where);
  append_statements(out, conn,
                    fmt::format("SELECT 'CREATE TYPE ' || {0} || ' AS RANGE (subtype = ' || "
                                "format_type(r.rngsubtype, NULL) || ')' "
                                "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                                "JOIN pg_range r ON r.rngtypid = t.oid "
                                "WHERE t.typtype = 'r' AND {1} ORDER BY n.nspname, t.typname",
                                type_name, user_types),
                    where);

  // Sequences, except those behind identity columns (the column definition creates them).
  append_statements(
      out, conn,
      fmt::format("SELECT 'CREATE SEQUENCE ' || {0} || ' AS ' || format_type(s.seqtypid, NULL) "
                  "|| ' START WITH ' || s.seqstart || ' INCREMENT BY ' || s.seqincrement || "
                  "' MINVALUE ' || s.seqmin || ' MAXVALUE ' || s.seqmax || ' CACHE ' || "
                  "s.seqcache || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END "
                  "FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid "
                  "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {1} AND {2} "
                  "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = "
                  "'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i') "
                  "ORDER BY n.nspname, c.relname",
                  k_qualified_class, k_user_namespace, not_extension_member("pg_class", "c.oid")),
      where);

  // Functions and procedures (aggregates and window functions have no pg_get_functiondef).
  // Those in LANGUAGE sql come after the tables, since their bodies are checked on creation.
  std::string functions = fmt::format(
      "SELECT pg_get_functiondef(p.oid) FROM pg_proc p "
      "JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang "
      "WHERE p.prokind IN ('f', 'p') AND {} AND {} AND l.lanname {{}} 'sql' "
      "ORDER BY n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)",
      k_user_namespace, not_extension_member("pg_proc", "p.oid"));
  append_statements(out, conn, fmt::format(fmt::runtime(functions), "<>"), where);
  append_tables(out, conn, where);
  append_statements(out, conn, fmt::format(fmt::runtime(functions), "="), where);
  append_views(out, conn, where);

  // Constraints: primary keys, unique, check and exclusion constraints before foreign keys, which
  // need the keys they reference. Constraints a partition inherits come with its parent's.
  append_statements(
      out, conn,
      fmt::format("SELECT 'ALTER TABLE ' || CASE WHEN c.relkind = 'p' THEN '' ELSE 'ONLY ' END "
                  "|| {0} || ' ADD CONSTRAINT ' || quote_ident(k.conname) || ' ' || "
                  "pg_get_constraintdef(k.oid) "
                  "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
                  "JOIN pg_namespace n ON n.oid = c.relnamespace "
                  "WHERE k.contype IN ('p', 'u', 'c', 'x', 'f') AND k.conislocal "
                  "AND {1} AND {2} AND {3} "
                  "ORDER BY k.contype = 'f', n.nspname, c.relname, k.conname",
                  k_qualified_class, k_user_namespace, k_not_dbinit,
                  not_extension_member("pg_class", "c.oid")),
      where);
  // Indexes that no constraint owns; partitions' copies of their parent's indexes are left out.
  append_statements(
      out, conn,
      fmt::format("SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
                  "JOIN pg_class ic ON ic.oid = i.indexrelid "
                  "JOIN pg_class c ON c.oid = i.indrelid "
                  "JOIN pg_namespace n ON n.oid = c.relnamespace "
                  "WHERE {0} AND {1} AND {2} AND NOT ic.relispartition "
                  "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid "
                  "AND k.contype IN ('p', 'u', 'x')) "
                  "ORDER BY n.nspname, c.relname, ic.relname",
                  k_user_namespace, k_not_dbinit, not_extension_member("pg_class", "c.oid")),
      where);
  bool has_trigger_parent = libpq().PQserverVersion(conn.get()) >= 130000;
  append_statements(out, conn,
                    fmt::format("SELECT pg_get_triggerdef(g.oid) FROM pg_trigger g "
                                "JOIN pg_class c ON c.oid = g.tgrelid "
                                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                "WHERE NOT g.tgisinternal {0} AND {1} AND {2} "
                                "ORDER BY n.nspname, c.relname, g.tgname",
                                has_trigger_parent ? "AND g.tgparentid = 0" : "", k_user_namespace,
                                not_extension_member("pg_class", "c.oid")),
                    where);
  // serial columns: the sequence belongs to its column.
  append_statements(
      out, conn,
      fmt::format("SELECT 'ALTER SEQUENCE ' || {0} || ' OWNED BY ' || "
                  "quote_ident(tn.nspname) || '.' || quote_ident(t.relname) || '.' || "
                  "quote_ident(a.attname) "
                  "FROM pg_depend d JOIN pg_class c ON c.oid = d.objid AND c.relkind = 'S' "
                  "JOIN pg_namespace n ON n.oid = c.relnamespace "
                  "JOIN pg_class t ON t.oid = d.refobjid "
                  "JOIN pg_namespace tn ON tn.oid = t.relnamespace "
                  "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
                  "WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass "
                  "AND d.deptype = 'a' AND {1} ORDER BY 1",
                  k_qualified_class, k_user_namespace),
      where);
  append_statements(
      out, conn,
      fmt::format("SELECT 'COMMENT ON ' || CASE WHEN d.objsubid > 0 THEN 'COLUMN ' || {0} || '.' "
                  "|| quote_ident(a.attname) ELSE CASE c.relkind WHEN 'v' THEN 'VIEW ' "
                  "WHEN 'm' THEN 'MATERIALIZED VIEW ' WHEN 'S' THEN 'SEQUENCE ' "
                  "ELSE 'TABLE ' END || {0} END || ' IS ' || quote_literal(d.description) "
                  "FROM pg_description d JOIN pg_class c ON c.oid = d.objoid "
                  "JOIN pg_namespace n ON n.oid = c.relnamespace "
                  "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid "
                  "WHERE d.classoid = 'pg_class'::regclass AND c.relkind IN ('r', 'p', 'v', 'm', "
                  "'S', 'f') AND {1} AND {2} AND {3} ORDER BY n.nspname, c.relname, d.objsubid",
                  k_qualified_class, k_user_namespace, k_not_dbinit,
                  not_extension_member("pg_class", "c.oid")),
      where);
  return out;
}

}  // namespace

}  // namespace dbinit
