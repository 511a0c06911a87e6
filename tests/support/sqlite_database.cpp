#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "support/engines.h"
#include "support/harness.h"

namespace dbinit::test {

namespace {

namespace fs = std::filesystem;

/// One connection of the test process on the database file, closed when it goes out of scope.
class Connection {
 public:
  Connection(const fs::path& path, int flags) {
    if (sqlite3_open_v2(path.c_str(), &m_db, flags, nullptr) != SQLITE_OK) {
      std::string message = m_db ? sqlite3_errmsg(m_db) : "out of memory";
      sqlite3_close_v2(m_db);
      throw std::runtime_error("test database: cannot open " + path.string() + ": " + message);
    }
    // The test may look at the file while a dbinit process writes it.
    sqlite3_busy_timeout(m_db, 10'000);
  }
  ~Connection() { sqlite3_close_v2(m_db); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs every statement of `sql`; returns the rows of the last one.
  Rows run(std::string_view sql) {
    const std::string text(sql);
    const char* cursor = text.c_str();
    Rows rows;
    while (*cursor != '\0') {
      sqlite3_stmt* statement = nullptr;
      const char* tail = nullptr;
      if (sqlite3_prepare_v2(m_db, cursor, -1, &statement, &tail) != SQLITE_OK) {
        throw failure(cursor);
      }
      if (statement == nullptr) {
        cursor = tail;
        continue;
      }
      rows.clear();
      int rc;
      while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
        std::vector<std::string>& row = rows.emplace_back();
        for (int i = 0; i < sqlite3_column_count(statement); ++i) {
          const auto* value = reinterpret_cast<const char*>(sqlite3_column_text(statement, i));
          row.emplace_back(value == nullptr
                               ? "<null>"
                               : std::string(value, static_cast<std::size_t>(
                                                        sqlite3_column_bytes(statement, i))));
        }
      }
      if (rc != SQLITE_DONE) {
        std::runtime_error error = failure(cursor);
        sqlite3_finalize(statement);
        throw error;
      }
      sqlite3_finalize(statement);
      cursor = tail;
    }
    return rows;
  }

  /// The rows of the one statement `sql`, each value in SQL literal form (NULL, 42, 'text',
  /// X'00ff'), so that values of different types never print alike.
  std::vector<std::string> literal_rows(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(m_db, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      throw failure(sql.c_str());
    }
    std::vector<std::string> rows;
    int rc;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(statement); ++i) {
        if (i > 0) row += ", ";
        row += literal(statement, i);
      }
      rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) {
      std::runtime_error error = failure(sql.c_str());
      sqlite3_finalize(statement);
      throw error;
    }
    sqlite3_finalize(statement);
    return rows;
  }

 private:
  static std::string literal(sqlite3_stmt* statement, int column) {
    switch (sqlite3_column_type(statement, column)) {
      case SQLITE_NULL:
        return "NULL";
      case SQLITE_INTEGER:
        return std::to_string(sqlite3_column_int64(statement, column));
      case SQLITE_FLOAT: {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%.17g", sqlite3_column_double(statement, column));
        return buffer;
      }
      case SQLITE_BLOB: {
        const auto* bytes =
            static_cast<const unsigned char*>(sqlite3_column_blob(statement, column));
        int size = sqlite3_column_bytes(statement, column);
        std::string out = "X'";
        static constexpr char k_hex[] = "0123456789abcdef";
        for (int i = 0; i < size; ++i) {
          out += k_hex[bytes[i] >> 4];
          out += k_hex[bytes[i] & 0xf];
        }
        return out + "'";
      }
      default: {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
        std::string out = "'";
        for (int i = 0; i < sqlite3_column_bytes(statement, column); ++i) {
          out += text[i];
          if (text[i] == '\'') out += '\'';
        }
        return out + "'";
      }
    }
  }

  std::runtime_error failure(const char* sql) const {
    return std::runtime_error(std::string("test database: ") + sqlite3_errmsg(m_db) +
                              " in: " + std::string(sql).substr(0, 500));
  }

  sqlite3* m_db = nullptr;
};

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

class SqliteTestDatabase final : public TestDatabase {
 public:
  SqliteTestDatabase() : m_path(m_dir.path() / "test.sqlite3") {}

  std::string engine() const override { return "sqlite"; }
  std::string url() const override { return "sqlite:" + m_path.string(); }

  // Creates the file when it does not exist, so that a test can prepare a database before
  // dbinit first sees it.
  Rows query(std::string_view sql) override {
    Connection connection(m_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    return connection.run(sql);
  }

  bool exists() override { return fs::exists(m_path); }

  std::vector<std::string> tables() override {
    if (!exists()) return {};
    Connection connection(m_path, SQLITE_OPEN_READONLY);
    std::vector<std::string> names;
    for (const auto& row :
         connection.run("SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                        "AND name NOT IN ('dbinit_migrations', 'dbinit_meta') ORDER BY name")) {
      names.push_back(row.at(0));
    }
    return names;
  }

  std::string fingerprint() override {
    if (!exists()) return "<no database>\n";
    // Read-write, as every real client opens it: a hot journal left by a killed writer is rolled
    // back on opening, which a read-only connection cannot do.
    Connection connection(m_path, SQLITE_OPEN_READWRITE);
    std::string out = "user_version " + connection.run("PRAGMA user_version").at(0).at(0) + "\n";
    for (const std::string& row : connection.literal_rows(
             "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")) {
      out += row + "\n";
    }
    for (const auto& table :
         connection.run("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
      out += "table " + table.at(0) + "\n";
      // Sorted here rather than by rowid: the content matters, not where SQLite put it.
      std::vector<std::string> rows =
          connection.literal_rows("SELECT * FROM " + quote_identifier(table.at(0)));
      std::sort(rows.begin(), rows.end());
      for (const std::string& row : rows) out += "  " + row + "\n";
    }
    return out;
  }

 private:
  TempDir m_dir;
  fs::path m_path;
};

}  // namespace

std::unique_ptr<TestDatabase> make_sqlite_test_database() {
  return std::make_unique<SqliteTestDatabase>();
}

}  // namespace dbinit::test
