#include <libpq-fe.h>

#include <unistd.h>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "engines/url.h"
#include "support/engines.h"
#include "support/harness.h"

namespace dbinit::test {

namespace {

// The URL of the server the tests use: DBINIT_TEST_POSTGRES_URL, or the one the ctest fixture
// (support/testserver start postgres) wrote.
std::string server_url() {
  if (const char* url = std::getenv("DBINIT_TEST_POSTGRES_URL"); url != nullptr && *url) {
    return url;
  }
  const std::string path = std::string(DBINIT_TEST_SERVERS_DIR) + "/postgres/url";
  std::ifstream in(path);
  std::string url;
  if (!in || !std::getline(in, url) || url.empty()) {
    throw std::runtime_error(
        "no PostgreSQL test server: DBINIT_TEST_POSTGRES_URL is not set and " + path +
        " does not exist. Run the tests through ctest (the start_postgres fixture starts a "
        "server), or start one with `tests/support/testserver start postgres DIR` and set "
        "DBINIT_TEST_POSTGRES_URL to the contents of DIR/url");
  }
  return url;
}

// `url` with its database replaced by `database`.
std::string with_database(const std::string& url, const std::string& database) {
  std::size_t authority = url.find("//");
  std::size_t start = authority == std::string::npos ? 0 : authority + 2;
  std::size_t path = url.find('/', start);
  std::size_t query = url.find('?', start);
  std::string out = path == std::string::npos || (query != std::string::npos && query < path)
                        ? url.substr(0, query)
                        : url.substr(0, path);
  out += "/" + database;
  if (query != std::string::npos) out += url.substr(query);
  return out;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

std::string quote_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

/// One connection of the test process to a database of the server.
class Connection {
 public:
  explicit Connection(const std::string& url_text) {
    // libpq takes postgres:// and postgresql:// URIs as they are.
    const char* keywords[] = {"dbname", "connect_timeout", "application_name", nullptr};
    const char* values[] = {url_text.c_str(), "10", "dbinit-tests", nullptr};
    m_conn = PQconnectdbParams(keywords, values, 1);
    if (PQstatus(m_conn) != CONNECTION_OK) {
      std::string message = PQerrorMessage(m_conn);
      PQfinish(m_conn);
      throw std::runtime_error("test database: cannot connect to " + redact_passwords(url_text) +
                               ": " + message);
    }
    PQsetNoticeProcessor(
        m_conn, [](void*, const char*) {}, nullptr);
  }
  ~Connection() { PQfinish(m_conn); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs every statement of `sql` and returns the rows of the last one, NULL as "<null>".
  Rows run(std::string_view sql) {
    std::string text(sql);
    if (!PQsendQuery(m_conn, text.c_str())) throw failure(sql);
    Rows rows;
    std::string error;
    while (PGresult* result = PQgetResult(m_conn)) {
      ExecStatusType status = PQresultStatus(result);
      if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        rows.clear();
        for (int row = 0; row < PQntuples(result); ++row) {
          std::vector<std::string>& out = rows.emplace_back();
          for (int column = 0; column < PQnfields(result); ++column) {
            out.push_back(PQgetisnull(result, row, column) ? std::string("<null>")
                                                           : PQgetvalue(result, row, column));
          }
        }
      } else if (error.empty() && status != PGRES_EMPTY_QUERY) {
        error = PQresultErrorMessage(result);
        if (error.empty()) error = PQerrorMessage(m_conn);
      }
      PQclear(result);
    }
    if (!error.empty())
      throw std::runtime_error("test database: " + error +
                               " in: " + std::string(sql.substr(0, 500)));
    return rows;
  }

 private:
  std::runtime_error failure(std::string_view sql) const {
    return std::runtime_error("test database: " + std::string(PQerrorMessage(m_conn)) +
                              " in: " + std::string(sql.substr(0, 500)));
  }

  PGconn* m_conn = nullptr;
};

constexpr std::string_view k_user_namespaces =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'";

class PostgresTestDatabase final : public TestDatabase {
 public:
  PostgresTestDatabase() : m_server_url(server_url()) {
    static std::atomic<int> counter{0};
    m_name = "dbinit_test_" + std::to_string(++counter) + "_" + std::to_string(getpid());
    m_url = with_database(m_server_url, m_name);
    // A leftover of an earlier process with the same pid would make the test see old tables.
    Connection admin(m_server_url);
    admin.run("DROP DATABASE IF EXISTS " + quote_identifier(m_name) + " WITH (FORCE)");
  }

  ~PostgresTestDatabase() override {
    if (std::getenv("DBINIT_KEEP_TEST_DIRS") != nullptr) return;
    try {
      Connection admin(m_server_url);
      admin.run("DROP DATABASE IF EXISTS " + quote_identifier(m_name) + " WITH (FORCE)");
    } catch (...) {
      // The server may be gone already; the fixture removes it with everything in it.
    }
  }

  std::string engine() const override { return "postgres"; }
  std::string url() const override { return m_url; }

  /// Creates the database when it does not exist, so that a test can prepare a database before
  /// dbinit first sees it.
  Rows query(std::string_view sql) override {
    if (!exists()) {
      Connection admin(m_server_url);
      try {
        admin.run("CREATE DATABASE " + quote_identifier(m_name));
      } catch (const std::exception&) {
        if (!exists()) throw;
      }
    }
    Connection connection(m_url);
    return connection.run(sql);
  }

  bool exists() override {
    Connection admin(m_server_url);
    return !admin.run("SELECT 1 FROM pg_database WHERE datname = " + quote_literal(m_name)).empty();
  }

  std::vector<std::string> tables() override {
    Connection connection(m_url);
    std::vector<std::string> names;
    for (const auto& row : connection.run(
             "SELECT name FROM (SELECT CASE WHEN n.nspname = 'public' THEN c.relname::text "
             "ELSE n.nspname || '.' || c.relname END AS name FROM pg_class c "
             "JOIN pg_namespace n ON n.oid = c.relnamespace "
             "WHERE c.relkind IN ('r', 'p') AND " +
             std::string(k_user_namespaces) +
             " AND c.relname NOT IN ('dbinit_migrations', 'dbinit_meta')) s "
             "ORDER BY name COLLATE \"C\"")) {
      names.push_back(row.at(0));
    }
    return names;
  }

  std::string fingerprint() override {
    if (!exists()) return "<no database>\n";
    Connection connection(m_url);
    std::string out;
    std::string ns(k_user_namespaces);
    for (const auto& rel : connection.run(
             "SELECT c.oid, c.relkind, quote_ident(n.nspname) || '.' || quote_ident(c.relname) "
             "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
             "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND " +
             ns + " ORDER BY n.nspname COLLATE \"C\", c.relname COLLATE \"C\"")) {
      const std::string& oid = rel.at(0);
      const std::string& kind = rel.at(1);
      const std::string& name = rel.at(2);
      out += "relation " + kind + " " + name + "\n";
      for (const auto& column :
           connection.run("SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
                          "a.attidentity, a.attgenerated, "
                          "coalesce(pg_get_expr(d.adbin, d.adrelid), '<none>') FROM pg_attribute a "
                          "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                          "WHERE a.attrelid = " +
                          oid +
                          " AND a.attnum > 0 AND NOT a.attisdropped "
                          "ORDER BY a.attnum")) {
        out += "  column";
        for (const std::string& value : column) out += " " + value;
        out += "\n";
      }
      for (const auto& constraint : connection.run(
               "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = " +
               oid + " ORDER BY conname COLLATE \"C\"")) {
        out += "  constraint " + constraint.at(0) + " " + constraint.at(1) + "\n";
      }
      for (const auto& index : connection.run(
               "SELECT pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = "
               "i.indexrelid WHERE i.indrelid = " +
               oid + " ORDER BY c.relname COLLATE \"C\"")) {
        out += "  index " + index.at(0) + "\n";
      }
      for (const auto& trigger : connection.run(
               "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal AND "
               "tgrelid = " +
               oid + " ORDER BY tgname COLLATE \"C\"")) {
        out += "  trigger " + trigger.at(0) + "\n";
      }
      if (kind == "v" || kind == "m") {
        out += "  definition " + connection.run("SELECT pg_get_viewdef(" + oid + ")").at(0).at(0) +
               "\n";
      }
      if (kind == "S") {
        const std::vector<std::string> state =
            connection.run("SELECT last_value, is_called FROM " + name).at(0);
        out += "  sequence " + state.at(0) + " " + state.at(1) + "\n";
      }
      if (kind == "r" || kind == "p" || kind == "m") {
        for (const auto& row :
             connection.run("SELECT t::text FROM " + name + " t ORDER BY t::text COLLATE \"C\"")) {
          out += "  row " + row.at(0) + "\n";
        }
      }
    }
    for (const auto& function :
         connection.run("SELECT p.oid::regprocedure::text, CASE WHEN p.prokind IN ('f', 'p') THEN "
                        "pg_get_functiondef(p.oid) ELSE p.prokind::text END FROM pg_proc p "
                        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE " +
                        ns + " ORDER BY p.oid::regprocedure::text COLLATE \"C\"")) {
      out += "function " + function.at(0) + "\n" + function.at(1) + "\n";
    }
    for (const auto& type : connection.run(
             "SELECT t.oid::regtype::text, t.typtype, coalesce((SELECT string_agg(e.enumlabel, "
             "',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '') "
             "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE " +
             ns +
             " AND t.typtype IN ('e', 'd', 'r') ORDER BY t.oid::regtype::text COLLATE \"C\"")) {
      out += "type " + type.at(0) + " " + type.at(1) + " " + type.at(2) + "\n";
    }
    return out;
  }

 private:
  std::string m_server_url;
  std::string m_name;
  std::string m_url;
};

}  // namespace

std::string postgres_client(const std::string& program) {
  std::ifstream bindir(std::string(DBINIT_TEST_SERVERS_DIR) + "/postgres/bindir");
  std::string dir;
  if (bindir && std::getline(bindir, dir) && std::filesystem::exists(dir + "/" + program)) {
    return dir + "/" + program;
  }
  const std::string debian = "/usr/lib/postgresql/15/bin/" + program;
  return std::filesystem::exists(debian) ? debian : program;
}

std::unique_ptr<TestDatabase> make_postgres_test_database() {
  return std::make_unique<PostgresTestDatabase>();
}

}  // namespace dbinit::test
