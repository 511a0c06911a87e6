#include <mysql.h>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include "engines/url.h"
#include "support/engines.h"
#include "support/harness.h"
#include "util/sha256.h"

namespace dbinit::test {

namespace {

// The URL of the server the tests use: DBINIT_TEST_MYSQL_URL, or the one the ctest fixture
// (support/testserver start mysql) wrote.
std::string server_url() {
  if (const char* url = std::getenv("DBINIT_TEST_MYSQL_URL"); url != nullptr && *url) return url;
  const std::string path = std::string(DBINIT_TEST_SERVERS_DIR) + "/mysql/url";
  std::ifstream in(path);
  std::string url;
  if (!in || !std::getline(in, url) || url.empty()) {
    throw std::runtime_error(
        "no MariaDB/MySQL test server: DBINIT_TEST_MYSQL_URL is not set and " + path +
        " does not exist. Run the tests through ctest (the start_mysql fixture starts a server), "
        "or start one with `tests/support/testserver start mysql DIR` and set "
        "DBINIT_TEST_MYSQL_URL to the contents of DIR/url");
  }
  return url;
}

// `url` with its database replaced by `database`.
std::string with_database(const std::string& url, const std::string& database) {
  std::size_t authority = url.find("//");
  std::size_t path = url.find('/', authority == std::string::npos ? 0 : authority + 2);
  std::size_t query = url.find('?', authority == std::string::npos ? 0 : authority + 2);
  std::string out = path == std::string::npos || (query != std::string::npos && query < path)
                        ? url.substr(0, query)
                        : url.substr(0, path);
  out += "/" + database;
  if (query != std::string::npos) out += url.substr(query);
  return out;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    out += c;
    if (c == '`') out += '`';
  }
  return out + "`";
}

constexpr unsigned long k_max_literal = 64 * 1024;

// A value in a form that never prints two different values alike: NULL, or a quoted string with
// quotes, backslashes and control bytes escaped.
std::string literal(const char* value, unsigned long length) {
  if (value == nullptr) return "NULL";
  // Large values (a dump's 17 MB row) are shown by size and digest.
  if (length > k_max_literal) {
    return "<" + std::to_string(length) + " bytes, sha256 " +
           sha256_hex(std::string_view(value, length)) + ">";
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  auto plain = [](unsigned char c) { return c >= 0x20 && c != 0x7f && c != '\'' && c != '\\'; };
  std::string out;
  out.reserve(length + 2);
  out += '\'';
  unsigned long i = 0;
  while (i < length) {
    // Runs of ordinary bytes are copied at once: values can be megabytes long.
    unsigned long run = i;
    while (run < length && plain(static_cast<unsigned char>(value[run]))) ++run;
    out.append(value + i, run - i);
    if (run == length) break;
    auto c = static_cast<unsigned char>(value[run]);
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += k_hex[c >> 4];
      out += k_hex[c & 0xf];
    }
    i = run + 1;
  }
  return out + "'";
}

/// One connection of the test process to the server, without a default database.
class Connection {
 public:
  explicit Connection(const std::string& url_text) {
    DatabaseUrl url = parse_database_url(url_text);
    m_conn = mysql_init(nullptr);
    unsigned timeout = 10;
    mysql_optionsv(m_conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_optionsv(m_conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    unsigned long max_packet = 1024UL * 1024UL * 1024UL;
    mysql_optionsv(m_conn, MYSQL_OPT_MAX_ALLOWED_PACKET, &max_packet);
    std::string host = url.hosts;
    unsigned port = 0;
    if (std::size_t colon = host.rfind(':'); colon != std::string::npos) {
      port = static_cast<unsigned>(std::stoul(host.substr(colon + 1)));
      host.resize(colon);
    }
    std::string socket = url.param("socket");
    if (!socket.empty()) {
      unsigned protocol = MYSQL_PROTOCOL_SOCKET;
      mysql_optionsv(m_conn, MYSQL_OPT_PROTOCOL, &protocol);
    }
    if (!mysql_real_connect(m_conn, socket.empty() && !host.empty() ? host.c_str() : nullptr,
                            url.user.c_str(), url.password.c_str(), nullptr, port,
                            socket.empty() ? nullptr : socket.c_str(),
                            CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS)) {
      std::string message = mysql_error(m_conn);
      mysql_close(m_conn);
      throw std::runtime_error("test database: cannot connect to " + url.redacted() + ": " +
                               message);
    }
  }
  ~Connection() { mysql_close(m_conn); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void use(const std::string& database) {
    if (mysql_select_db(m_conn, database.c_str()) != 0) throw failure("USE " + database);
  }

  /// Runs every statement of `sql`; returns the rows of the last one that returned rows, each
  /// value as text (NULL as "<null>") or, with `literals`, in literal() form.
  Rows run(std::string_view sql, bool literals = false) {
    if (mysql_real_query(m_conn, sql.data(), sql.size()) != 0) throw failure(sql);
    Rows rows;
    while (true) {
      MYSQL_RES* result = mysql_store_result(m_conn);
      if (result != nullptr) {
        rows.clear();
        unsigned columns = mysql_num_fields(result);
        while (MYSQL_ROW row = mysql_fetch_row(result)) {
          unsigned long* lengths = mysql_fetch_lengths(result);
          std::vector<std::string>& out = rows.emplace_back();
          for (unsigned c = 0; c < columns; ++c) {
            if (literals) {
              out.push_back(literal(row[c], lengths[c]));
            } else {
              out.push_back(row[c] == nullptr ? std::string("<null>")
                                              : std::string(row[c], lengths[c]));
            }
          }
        }
        mysql_free_result(result);
      } else if (mysql_field_count(m_conn) != 0) {
        throw failure(sql);
      }
      int status = mysql_next_result(m_conn);
      if (status < 0) break;
      if (status > 0) throw failure(sql);
    }
    return rows;
  }

 private:
  std::runtime_error failure(std::string_view sql) const {
    return std::runtime_error("test database: MySQL " + std::to_string(mysql_errno(m_conn)) + ": " +
                              mysql_error(m_conn) + " in: " + std::string(sql.substr(0, 500)));
  }

  MYSQL* m_conn = nullptr;
};

std::string strip_auto_increment(std::string text) {
  const std::string option = " AUTO_INCREMENT=";
  std::size_t options = text.rfind("\n)");
  std::size_t at = text.find(option, options == std::string::npos ? 0 : options);
  if (at == std::string::npos) return text;
  std::size_t end = at + option.size();
  while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
  text.erase(at, end - at);
  return text;
}

class MysqlTestDatabase final : public TestDatabase {
 public:
  MysqlTestDatabase() : m_server_url(server_url()) {
    static std::atomic<int> counter{0};
    m_name = "dbinit_test_" + std::to_string(++counter) + "_" + std::to_string(getpid());
    m_url = with_database(m_server_url, m_name);
    m_admin = std::make_unique<Connection>(m_server_url);
    // A leftover of an earlier process with the same pid would make the test see old tables.
    m_admin->run("DROP DATABASE IF EXISTS " + quote_identifier(m_name));
  }

  ~MysqlTestDatabase() override {
    if (std::getenv("DBINIT_KEEP_TEST_DIRS") != nullptr) return;
    try {
      Connection connection(m_server_url);
      connection.run("DROP DATABASE IF EXISTS " + quote_identifier(m_name));
    } catch (...) {
      // The server may be gone already; the fixture removes it with everything in it.
    }
  }

  std::string engine() const override { return "mysql"; }
  std::string url() const override { return m_url; }

  /// Creates the database when it does not exist, so that a test can prepare a database before
  /// dbinit first sees it.
  Rows query(std::string_view sql) override {
    Connection connection(m_server_url);
    connection.run("CREATE DATABASE IF NOT EXISTS " + quote_identifier(m_name) +
                   " CHARACTER SET utf8mb4");
    connection.use(m_name);
    return connection.run(sql);
  }

  bool exists() override {
    return !m_admin
                ->run("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '" +
                      m_name + "'")
                .empty();
  }

  std::vector<std::string> tables() override {
    std::vector<std::string> names;
    for (const auto& row : m_admin->run(
             "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + m_name +
             "' AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME NOT IN ('dbinit_migrations', "
             "'dbinit_meta') ORDER BY BINARY TABLE_NAME")) {
      names.push_back(row.at(0));
    }
    return names;
  }

  std::string fingerprint() override {
    if (!exists()) return "<no database>\n";
    Connection connection(m_server_url);
    connection.use(m_name);
    std::string out;
    for (const auto& table : connection.run(
             "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
             "DATABASE() ORDER BY BINARY TABLE_NAME")) {
      const std::string& name = table.at(0);
      bool view = table.at(1) == "VIEW";
      Rows create = connection.run((view ? "SHOW CREATE VIEW " : "SHOW CREATE TABLE ") +
                                   quote_identifier(name));
      out += (view ? "view " : "table ") + name + "\n" + strip_auto_increment(create.at(0).at(1)) +
             "\n";
      if (view) continue;
      // Sorted here rather than by the server: the content matters, not the storage order.
      std::vector<std::string> rows;
      for (const auto& row : connection.run("SELECT * FROM " + quote_identifier(name), true)) {
        std::string line;
        for (const std::string& value : row) {
          if (!line.empty()) line += ", ";
          line += value;
        }
        rows.push_back(std::move(line));
      }
      std::sort(rows.begin(), rows.end());
      for (const std::string& row : rows) out += "  " + row + "\n";
    }
    for (const auto& routine :
         connection.run("SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE "
                        "ROUTINE_SCHEMA = DATABASE() ORDER BY BINARY ROUTINE_NAME, ROUTINE_TYPE")) {
      Rows create =
          connection.run("SHOW CREATE " + routine.at(0) + " " + quote_identifier(routine.at(1)));
      out += routine.at(0) + " " + routine.at(1) + "\n" + create.at(0).at(2) + "\n";
    }
    for (const auto& trigger :
         connection.run("SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE "
                        "TRIGGER_SCHEMA = DATABASE() ORDER BY BINARY TRIGGER_NAME")) {
      Rows create = connection.run("SHOW CREATE TRIGGER " + quote_identifier(trigger.at(0)));
      out += "trigger " + trigger.at(0) + "\n" + create.at(0).at(2) + "\n";
    }
    return out;
  }

 private:
  std::string m_server_url;
  std::string m_name;
  std::string m_url;
  std::unique_ptr<Connection> m_admin;
};

}  // namespace

std::vector<std::string> mariadb_client(const std::string& program, const TestDatabase& db) {
  const DatabaseUrl url = parse_database_url(db.url());
  const std::size_t colon = url.hosts.rfind(':');
  return {program,
          "--no-defaults",
          "--user=" + url.user,
          "--password=" + url.password,
          "--host=" + url.hosts.substr(0, colon),
          "--port=" + url.hosts.substr(colon + 1),
          "--protocol=TCP"};
}

std::unique_ptr<TestDatabase> make_mysql_test_database() {
  return std::make_unique<MysqlTestDatabase>();
}

}  // namespace dbinit::test
