#include "engines/mysql/mysql_engine.h"

#include <errmsg.h>
#include <mysqld_error.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "engines/mysql/libmariadb.h"
#include "engines/mysql/mysql_splitter.h"
#include "util/elapsed.h"
#include "util/error.h"
#include "util/sha256.h"

namespace dbinit {

namespace {

// The client's own packet limit: the largest the protocol allows, so that only the server's
// max_allowed_packet decides how large a statement (an extended INSERT of a dump) may be.
constexpr unsigned long k_client_max_packet = 1024UL * 1024UL * 1024UL;
constexpr unsigned k_default_connect_timeout = 10;
// GET_LOCK names are limited to 64 characters.
constexpr std::size_t k_max_lock_name = 64;
// Failing statements are quoted in errors up to this size (a dump's INSERT can be megabytes).
constexpr std::size_t k_max_quoted_statement = 4096;

enum class SslMode { preferred, disabled, required, verify_ca, verify_identity };

struct ConnectOptions {
  std::string host;  // empty: the default unix socket (localhost)
  unsigned port = 0;
  std::string socket;
  SslMode ssl_mode = SslMode::preferred;
  std::string ssl_ca, ssl_capath, ssl_cert, ssl_key, ssl_cipher, tls_version;
  unsigned connect_timeout = k_default_connect_timeout;
};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// `ssl-mode`, `ssl_mode` and `sslmode` name the same parameter.
std::string normalised_param(std::string_view name) {
  std::string out;
  for (char c : lower(name)) {
    if (c != '-' && c != '_') out += c;
  }
  return out;
}

Error config_error(const DatabaseUrl& url, std::string message, std::string hint = {}) {
  Error error(ErrorKind::config, std::move(message));
  error.where = url.redacted();
  error.hint = std::move(hint);
  return error;
}

ConnectOptions parse_options(const DatabaseUrl& url) {
  ConnectOptions options;
  for (const auto& [key, value] : url.params) {
    std::string name = normalised_param(key);
    if (name == "socket") {
      options.socket = value;
    } else if (name == "sslmode") {
      std::string mode = normalised_param(value);
      if (mode == "disabled" || mode == "disable") {
        options.ssl_mode = SslMode::disabled;
      } else if (mode == "preferred" || mode == "prefer") {
        options.ssl_mode = SslMode::preferred;
      } else if (mode == "required" || mode == "require") {
        options.ssl_mode = SslMode::required;
      } else if (mode == "verifyca") {
        options.ssl_mode = SslMode::verify_ca;
      } else if (mode == "verifyidentity" || mode == "verifyfull") {
        options.ssl_mode = SslMode::verify_identity;
      } else {
        throw config_error(url, fmt::format("unknown {} '{}'", key, value),
                           "use DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY");
      }
    } else if (name == "sslca") {
      options.ssl_ca = value;
    } else if (name == "sslcapath") {
      options.ssl_capath = value;
    } else if (name == "sslcert") {
      options.ssl_cert = value;
    } else if (name == "sslkey") {
      options.ssl_key = value;
    } else if (name == "sslcipher") {
      options.ssl_cipher = value;
    } else if (name == "tlsversion") {
      options.tls_version = value;
    } else if (name == "connecttimeout") {
      unsigned seconds = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      if (ec != std::errc() || end != value.data() + value.size() || seconds == 0) {
        throw config_error(url, fmt::format("{} must be a positive number of seconds", key));
      }
      options.connect_timeout = seconds;
    } else {
      throw config_error(url, fmt::format("unknown mysql URL parameter '{}'", key),
                         "known parameters: socket, ssl-mode, ssl-ca, ssl-capath, ssl-cert, "
                         "ssl-key, ssl-cipher, tls-version, connect-timeout");
    }
  }

  std::string_view hosts = url.hosts;
  if (hosts.find(',') != std::string_view::npos) {
    throw config_error(url, "a mysql URL names one host only");
  }
  std::string_view port_text;
  if (hosts.starts_with('[')) {  // [::1]:3306
    std::size_t close = hosts.find(']');
    if (close == std::string_view::npos) throw config_error(url, "unclosed '[' in the host");
    options.host = std::string(hosts.substr(1, close - 1));
    std::string_view rest = hosts.substr(close + 1);
    if (rest.starts_with(':')) port_text = rest.substr(1);
  } else if (std::size_t colon = hosts.rfind(':'); colon != std::string_view::npos) {
    options.host = std::string(hosts.substr(0, colon));
    port_text = hosts.substr(colon + 1);
  } else {
    options.host = std::string(hosts);
  }
  if (!port_text.empty()) {
    auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), options.port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || options.port == 0 ||
        options.port > 65535) {
      throw config_error(url, fmt::format("invalid port '{}'", port_text));
    }
  }
  if (url.database.empty()) {
    throw config_error(url, "the mysql URL names no database",
                       "write it after the host: mysql://user:pass@host:3306/mydb");
  }
  return options;
}

bool is_connection_failure(unsigned code) {
  switch (code) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_UNKNOWN_HOST:  // a container's host name resolves only once it runs
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case ER_CON_COUNT_ERROR:
    case ER_SERVER_SHUTDOWN:
      return true;
    default:
      return false;
  }
}

bool is_auth_failure(unsigned code) {
  switch (code) {
    case ER_ACCESS_DENIED_ERROR:
    case ER_DBACCESS_DENIED_ERROR:
    case ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
    case ER_HOST_NOT_PRIVILEGED:
    case CR_AUTH_PLUGIN_CANNOT_LOAD:
      return true;
    default:
      return false;
  }
}

std::string engine_code(unsigned code, std::string_view sqlstate) {
  if (sqlstate.empty() || sqlstate == "00000") return fmt::format("MySQL {}", code);
  return fmt::format("MySQL {}, SQLSTATE {}", code, sqlstate);
}

std::string quoted_statement(std::string_view text) {
  if (text.size() <= k_max_quoted_statement) return std::string(text);
  return fmt::format("{} ... ({} bytes in all)", text.substr(0, k_max_quoted_statement),
                     text.size());
}

std::string megabytes(std::size_t bytes) {
  return fmt::format("{:.1f} MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

std::string backtick(std::string_view name) {
  return mysql_quote_identifier(name);
}

using Row = MysqlRow;

static_assert(k_mysql_ledger_statements[0].find(k_ledger_table) != std::string_view::npos);
static_assert(k_mysql_ledger_statements[1].find(k_meta_table) != std::string_view::npos);

// Frees a result set on every path.
struct ResultGuard {
  MYSQL_RES* result;
  ~ResultGuard() {
    if (result) libmariadb().mysql_free_result(result);
  }
};

class MysqlEngine final : public Engine {
 public:
  explicit MysqlEngine(const DatabaseUrl& url) : m_url(url), m_options(parse_options(url)) {
    libmariadb();  // loads and initialises Connector/C before the first connection
    m_lock_name = "dbinit:" + m_url.database;
    if (m_lock_name.size() > k_max_lock_name) {
      m_lock_name = "dbinit:" + sha256_hex(m_url.database).substr(0, 40);
    }
  }

  ~MysqlEngine() override {
    if (m_conn) libmariadb().mysql_close(m_conn);
    if (m_reset_conn) libmariadb().mysql_close(m_reset_conn);
  }

  MysqlEngine(const MysqlEngine&) = delete;
  MysqlEngine& operator=(const MysqlEngine&) = delete;

  std::string_view name() const override { return "mysql"; }
  bool transactional_ddl() const override { return false; }

  OpenResult open(bool create) override {
    if (m_conn) {
      libmariadb().mysql_close(m_conn);
      m_conn = nullptr;
    }
    MYSQL* conn = connect(m_url.database.c_str());
    if (conn) {
      m_conn = conn;
      after_connect();
      return OpenResult::opened;
    }
    unsigned code = m_connect_errno;
    // A user without privileges on a database that does not exist is told 1044 (access denied to
    // the database) rather than 1049 (unknown database): both may mean "missing".
    if (code != ER_BAD_DB_ERROR && !(code == ER_DBACCESS_DENIED_ERROR && create)) {
      throw connect_error();
    }
    if (!create) return OpenResult::missing;

    conn = connect(nullptr);
    if (!conn) throw connect_error();
    m_conn = conn;
    std::string sql = fmt::format("CREATE DATABASE IF NOT EXISTS {} CHARACTER SET utf8mb4",
                                  backtick(m_url.database));
    if (libmariadb().mysql_real_query(m_conn, sql.data(), sql.size()) != 0) {
      unsigned create_code = libmariadb().mysql_errno(m_conn);
      Error error(is_auth_failure(create_code) ? ErrorKind::auth : ErrorKind::failure,
                  fmt::format("cannot create database {}: {}", backtick(m_url.database),
                              redact_passwords(libmariadb().mysql_error(m_conn))));
      error.where = m_url.redacted();
      error.code = engine_code(create_code, libmariadb().mysql_sqlstate(m_conn));
      if (is_auth_failure(create_code)) {
        error.hint = fmt::format(
            "create the database first, or let user '{}' create it (GRANT CREATE ON {}.* TO ...)",
            m_url.user, backtick(m_url.database));
      }
      throw error;
    }
    // CREATE DATABASE reports one affected row when it created the database, none when a
    // concurrent starter was first (IF NOT EXISTS).
    bool existed = libmariadb().mysql_affected_rows(m_conn) == 0;
    if (libmariadb().mysql_select_db(m_conn, m_url.database.c_str()) != 0) {
      throw sql_error("cannot use the database it just created");
    }
    after_connect();
    return existed ? OpenResult::opened : OpenResult::created;
  }

  void drop_database() override {
    if (m_conn) {
      libmariadb().mysql_close(m_conn);
      m_conn = nullptr;
    }
    m_lock_held = false;  // a named lock ends with its session
    MYSQL* conn = connect(nullptr);
    if (!conn) throw connect_error();
    m_conn = conn;
    const std::string sql = fmt::format("DROP DATABASE IF EXISTS {}", backtick(m_url.database));
    if (libmariadb().mysql_real_query(m_conn, sql.data(), sql.size()) != 0) {
      Error error = sql_error(fmt::format("cannot drop database {}", backtick(m_url.database)));
      if (is_auth_failure(m_last_errno)) {
        error.hint = fmt::format("user '{}' needs the DROP privilege on {}.*", m_url.user,
                                 backtick(m_url.database));
      }
      libmariadb().mysql_close(m_conn);
      m_conn = nullptr;
      throw error;
    }
    libmariadb().mysql_close(m_conn);
    m_conn = nullptr;
  }

  std::string server_version() override {
    require_open();
    std::string info = libmariadb().mysql_get_server_info(m_conn);
    std::string number = info.substr(0, info.find('-'));
    return fmt::format("{} {}", m_mariadb ? "MariaDB" : "MySQL", number);
  }

  bool has_user_tables() override {
    std::vector<Row> rows = query(fmt::format(
        "SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME NOT IN ('{}', '{}')) + (SELECT COUNT(*) FROM information_schema.ROUTINES "
        "WHERE ROUTINE_SCHEMA = DATABASE())",
        k_ledger_table, k_meta_table));
    return !rows.empty() && rows[0][0].value_or("0") != "0";
  }

  // --- Ledger -----------------------------------------------------------------------------------

  std::optional<std::vector<LedgerEntry>> read_ledger() override {
    std::vector<Row> rows;
    try {
      rows = query(fmt::format(
          "SELECT version, name, checksum, state, applied_at, duration_ms, applied_by, down_sql, "
          "error FROM {}",
          k_ledger_table));
    } catch (const Error&) {
      if (m_last_errno == ER_NO_SUCH_TABLE) return std::nullopt;
      throw;
    }
    std::vector<LedgerEntry> entries;
    entries.reserve(rows.size());
    for (Row& row : rows) {
      LedgerEntry entry;
      entry.version = row[0].value_or("");
      entry.name = row[1].value_or("");
      entry.checksum = row[2].value_or("");
      entry.state = parse_ledger_state(row[3].value_or(""));
      entry.applied_at = row[4].value_or("");
      std::string duration = row[5].value_or("0");
      std::from_chars(duration.data(), duration.data() + duration.size(), entry.duration_ms);
      entry.applied_by = row[6].value_or("");
      entry.down_sql = std::move(row[7]);
      entry.error = std::move(row[8]);
      entries.push_back(std::move(entry));
    }
    sort_ledger(entries);
    return entries;
  }

  void ensure_ledger() override {
    for (std::string_view statement : k_mysql_ledger_statements) exec(statement);
  }

  void record(const LedgerEntry& entry) override {
    exec(fmt::format(
        "INSERT INTO {} (version, name, checksum, state, applied_at, duration_ms, applied_by, "
        "down_sql, error) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) ON DUPLICATE KEY UPDATE "
        "name = VALUES(name), checksum = VALUES(checksum), state = VALUES(state), "
        "applied_at = VALUES(applied_at), duration_ms = VALUES(duration_ms), "
        "applied_by = VALUES(applied_by), down_sql = VALUES(down_sql), error = VALUES(error)",
        k_ledger_table, literal(entry.version), literal(entry.name), literal(entry.checksum),
        literal(to_string(entry.state)), literal(entry.applied_at), entry.duration_ms,
        literal(entry.applied_by), nullable_literal(entry.down_sql),
        nullable_literal(entry.error)));
  }

  void remove(std::string_view version) override {
    exec(fmt::format("DELETE FROM {} WHERE version = {}", k_ledger_table, literal(version)));
  }

  std::optional<std::string> meta(std::string_view key) override {
    std::vector<Row> rows;
    try {
      rows =
          query(fmt::format("SELECT value FROM {} WHERE `key` = {}", k_meta_table, literal(key)));
    } catch (const Error&) {
      if (m_last_errno == ER_NO_SUCH_TABLE) return std::nullopt;
      throw;
    }
    if (rows.empty()) return std::nullopt;
    return rows[0][0];
  }

  void set_meta(std::string_view key, std::string_view value) override {
    exec(
        fmt::format("INSERT INTO {} (`key`, value) VALUES ({}, {}) ON DUPLICATE KEY UPDATE value = "
                    "VALUES(value)",
                    k_meta_table, literal(key), literal(value)));
  }

  // --- Lock and transactions --------------------------------------------------------------------

  void begin_locked(std::chrono::milliseconds timeout) override {
    bool had_lock = m_lock_held;
    lock(timeout);
    try {
      exec("START TRANSACTION");
    } catch (...) {
      if (!had_lock) unlock();
      throw;
    }
    m_release_at_end = !had_lock;
  }

  void lock(std::chrono::milliseconds timeout) override {
    require_open();
    if (m_lock_held) return;
    // MariaDB takes fractional seconds; MySQL whole seconds, so round up there.
    std::int64_t ms = std::max<std::int64_t>(timeout.count(), 0);
    std::string seconds = m_mariadb ? fmt::format("{:.3f}", static_cast<double>(ms) / 1000.0)
                                    : std::to_string((ms + 999) / 1000);
    std::vector<Row> rows =
        query(fmt::format("SELECT GET_LOCK({}, {})", literal(m_lock_name), seconds));
    std::optional<std::string> result = rows.empty() ? std::nullopt : rows[0][0];
    if (result == "1") {
      m_lock_held = true;
      return;
    }
    if (result == "0") {
      Error error(ErrorKind::lock_timeout,
                  fmt::format("the migration lock '{}' is held by another session; gave up "
                              "after {}",
                              m_lock_name, duration_text(timeout)));
      error.where = m_url.redacted();
      error.hint =
          "another dbinit is migrating this database; wait for it, or raise --lock-timeout";
      throw error;
    }
    Error error(ErrorKind::failure,
                fmt::format("GET_LOCK('{}') failed (the session was killed or the server ran out "
                            "of resources)",
                            m_lock_name));
    error.where = m_url.redacted();
    throw error;
  }

  // GET_LOCK names belong to the server, not to a database: a name of its own, held on a
  // connection of its own (no database selected), which the drop and the run that follow leave
  // alone. It is released when the engine is destroyed.
  void lock_for_reset(std::chrono::milliseconds timeout) override {
    if (m_reset_conn) return;
    MYSQL* conn = connect(nullptr);
    if (!conn) throw connect_error();
    std::string name = "dbinit-reset:" + m_url.database;
    if (name.size() > k_max_lock_name) {
      name = "dbinit-reset:" + sha256_hex(m_url.database).substr(0, 40);
    }
    // Whole seconds, rounded up: MySQL takes nothing finer.
    const std::int64_t seconds = (std::max<std::int64_t>(timeout.count(), 0) + 999) / 1000;
    // query() runs on m_conn: lend it the reset connection for this one statement.
    std::swap(m_conn, conn);
    std::vector<Row> rows;
    try {
      rows = query(fmt::format("SELECT GET_LOCK({}, {})", literal(name), seconds));
    } catch (...) {
      std::swap(m_conn, conn);
      libmariadb().mysql_close(conn);
      throw;
    }
    std::swap(m_conn, conn);
    std::optional<std::string> result = rows.empty() ? std::nullopt : rows[0][0];
    if (result == "1") {
      m_reset_conn = conn;
      return;
    }
    libmariadb().mysql_close(conn);
    Error error(result == "0" ? ErrorKind::lock_timeout : ErrorKind::failure,
                result == "0" ? fmt::format("another reset of database `{}` is running; gave up "
                                            "after {}",
                                            m_url.database, duration_text(timeout))
                              : fmt::format("GET_LOCK('{}') failed (the session was killed or the "
                                            "server ran out of resources)",
                                            name));
    error.where = m_url.redacted();
    throw error;
  }

  void unlock() noexcept override {
    if (!m_lock_held || !m_conn) return;
    m_lock_held = false;
    m_release_at_end = false;
    try {
      query(fmt::format("SELECT RELEASE_LOCK({})", literal(m_lock_name)));
    } catch (...) {
      // The lock ends with the session anyway.
    }
  }

  void begin() override { exec("START TRANSACTION"); }

  void commit() override {
    try {
      exec("COMMIT");
    } catch (...) {
      end_locked_transaction();
      throw;
    }
    end_locked_transaction();
  }

  void rollback() noexcept override {
    if (m_conn) libmariadb().mysql_real_query(m_conn, "ROLLBACK", 8);
    end_locked_transaction();
  }

  // --- Execution --------------------------------------------------------------------------------

  void execute(const Script& script) override {
    reject_nul_bytes(script);
    run_script(script, false);
  }

  void restore(const Script& script) override {
    reject_nul_bytes(script);
    run_script(script, true);
    // A dump sets the session's character set and restores it at its end; make sure a dump that
    // did not (a truncated one) leaves the connection as dbinit escapes for.
    libmariadb().mysql_set_character_set(m_conn, "utf8mb4");
  }

  bool rolls_back(const Script& script) override {
    std::vector<MysqlStatement> statements;
    try {
      statements = split_mysql_script(script.sql);
    } catch (const MysqlSplitError&) {
      return false;
    }
    return std::all_of(statements.begin(), statements.end(),
                       [](const MysqlStatement& s) { return is_transactional_dml(s.text); });
  }

  void set_foreign_keys(bool on) override {
    exec(on ? "SET foreign_key_checks = 1" : "SET foreign_key_checks = 0");
  }

  // MySQL does not re-check existing rows when foreign_key_checks is turned back on, and offers
  // no statement that would; InnoDB checks every row written while checks are on.
  void check_foreign_keys() override {}

  // --- For mysql_query() and mysql_where() ------------------------------------------------------

  std::vector<Row> run_query(std::string_view sql) { return query(sql); }
  std::string where() const { return m_url.redacted(); }
  MYSQL* connection() {
    require_open();
    return m_conn;
  }
  MYSQL* connect_for_load() {
    MYSQL* conn = connect(m_url.database.c_str(), true);
    if (!conn) throw connect_error();
    return conn;
  }

 private:
  // --- Connection -------------------------------------------------------------------------------

  // Connects to `database` (nullptr: none). Returns nullptr on failure, leaving the error in
  // m_connect_errno / m_connect_error / m_connect_sqlstate.
  MYSQL* connect(const char* database, bool local_infile = false) {
    MYSQL* conn = libmariadb().mysql_init(nullptr);
    if (!conn) {
      throw Error(ErrorKind::failure, "out of memory creating a MySQL connection handle");
    }
    unsigned timeout = m_options.connect_timeout;
    libmariadb().mysql_optionsv(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    libmariadb().mysql_optionsv(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    unsigned long max_packet = k_client_max_packet;
    libmariadb().mysql_optionsv(conn, MYSQL_OPT_MAX_ALLOWED_PACKET, &max_packet);
    // LOAD DATA LOCAL only on the connections that snapshot loads open for it, which install a
    // handler of their own: a server can ask a client for any file it can read.
    unsigned allow_local_infile = local_infile ? 1 : 0;
    libmariadb().mysql_optionsv(conn, MYSQL_OPT_LOCAL_INFILE, &allow_local_infile);
    libmariadb().mysql_optionsv(conn, MYSQL_OPT_CONNECT_ATTR_ADD, "program_name", "dbinit");
    if (!m_options.socket.empty()) {
      unsigned protocol = MYSQL_PROTOCOL_SOCKET;
      libmariadb().mysql_optionsv(conn, MYSQL_OPT_PROTOCOL, &protocol);
    }
    apply_tls(conn);

    const char* host =
        m_options.socket.empty() && !m_options.host.empty() ? m_options.host.c_str() : nullptr;
    const char* socket = m_options.socket.empty() ? nullptr : m_options.socket.c_str();
    const char* user = m_url.user.empty() ? nullptr : m_url.user.c_str();
    const char* password = m_url.has_password ? m_url.password.c_str() : nullptr;
    if (!libmariadb().mysql_real_connect(conn, host, user, password, database, m_options.port,
                                         socket, CLIENT_MULTI_RESULTS)) {
      m_connect_errno = libmariadb().mysql_errno(conn);
      m_connect_error = redact_passwords(libmariadb().mysql_error(conn));
      m_connect_sqlstate = libmariadb().mysql_sqlstate(conn);
      libmariadb().mysql_close(conn);
      return nullptr;
    }
    // Connector/C 3.3 falls back to plain text when the server has no TLS unless the certificate
    // is verified, so REQUIRED is checked here.
    if (m_options.ssl_mode != SslMode::disabled && m_options.ssl_mode != SslMode::preferred &&
        libmariadb().mysql_get_ssl_cipher(conn) == nullptr) {
      libmariadb().mysql_close(conn);
      Error error(ErrorKind::failure,
                  "ssl-mode requires TLS, but the server does not offer it (have_ssl is not YES)");
      error.where = m_url.redacted();
      error.hint = "enable TLS on the server (ssl_cert, ssl_key) or change ssl-mode";
      throw error;
    }
    return conn;
  }

  void apply_tls(MYSQL* conn) {
    if (m_options.ssl_mode == SslMode::disabled) return;
    auto set = [&](mysql_option option, const std::string& value) {
      if (!value.empty()) libmariadb().mysql_optionsv(conn, option, value.c_str());
    };
    set(MYSQL_OPT_SSL_CA, m_options.ssl_ca);
    set(MYSQL_OPT_SSL_CAPATH, m_options.ssl_capath);
    set(MYSQL_OPT_SSL_CERT, m_options.ssl_cert);
    set(MYSQL_OPT_SSL_KEY, m_options.ssl_key);
    set(MYSQL_OPT_SSL_CIPHER, m_options.ssl_cipher);
    set(MARIADB_OPT_TLS_VERSION, m_options.tls_version);
    if (m_options.ssl_mode != SslMode::preferred) {
      my_bool enforce = 1;
      libmariadb().mysql_optionsv(conn, MYSQL_OPT_SSL_ENFORCE, &enforce);
    }
    if (m_options.ssl_mode == SslMode::verify_ca ||
        m_options.ssl_mode == SslMode::verify_identity) {
      my_bool verify = 1;
      libmariadb().mysql_optionsv(conn, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    }
  }

  Error connect_error() const {
    unsigned code = m_connect_errno;
    std::string where_to =
        m_options.socket.empty()
            ? fmt::format("{}:{}", m_options.host.empty() ? "localhost" : m_options.host,
                          m_options.port ? m_options.port : 3306)
            : m_options.socket;
    if (is_connection_failure(code)) {
      Error error(ErrorKind::unreachable,
                  fmt::format("cannot connect to the MySQL server: {}", m_connect_error));
      error.where = m_url.redacted();
      error.code = engine_code(code, m_connect_sqlstate);
      error.hint = fmt::format(
          "check that the server runs and accepts connections on {}; --wait waits for it",
          where_to);
      return error;
    }
    if (is_auth_failure(code)) {
      Error error(ErrorKind::auth,
                  fmt::format("the server refused the login: {}", m_connect_error));
      error.where = m_url.redacted();
      error.code = engine_code(code, m_connect_sqlstate);
      error.hint = code == ER_DBACCESS_DENIED_ERROR
                       ? fmt::format("grant user '{}' access to database {} (it may not exist)",
                                     m_url.user, backtick(m_url.database))
                       : "check the user name and password in the database URL";
      return error;
    }
    Error error(ErrorKind::failure,
                fmt::format("cannot connect to the MySQL server: {}", m_connect_error));
    error.where = m_url.redacted();
    error.code = engine_code(code, m_connect_sqlstate);
    if (code == CR_SSL_CONNECTION_ERROR) {
      error.hint = "check the ssl-mode, ssl-ca, ssl-cert and ssl-key URL parameters";
    }
    return error;
  }

  void after_connect() {
    m_mariadb =
        lower(libmariadb().mysql_get_server_info(m_conn)).find("mariadb") != std::string::npos;
    std::vector<Row> rows = query("SELECT @@max_allowed_packet");
    if (!rows.empty() && rows[0][0]) {
      const std::string& text = *rows[0][0];
      std::from_chars(text.data(), text.data() + text.size(), m_server_max_packet);
    }
  }

  void require_open() const {
    if (!m_conn) {
      Error error(ErrorKind::failure, "the MySQL connection is not open");
      error.where = m_url.redacted();
      throw error;
    }
  }

  // --- Queries ----------------------------------------------------------------------------------

  Error sql_error(std::string_view what) {
    m_last_errno = libmariadb().mysql_errno(m_conn);
    Error error(is_connection_failure(m_last_errno) ? ErrorKind::unreachable : ErrorKind::failure,
                fmt::format("{}: {}", what, redact_passwords(libmariadb().mysql_error(m_conn))));
    error.where = m_url.redacted();
    error.code = engine_code(m_last_errno, libmariadb().mysql_sqlstate(m_conn));
    return error;
  }

  // Runs one statement of dbinit's own and discards any result.
  void exec(std::string_view sql) {
    require_open();
    m_last_errno = 0;
    if (libmariadb().mysql_real_query(m_conn, sql.data(), sql.size()) != 0) {
      throw sql_error(fmt::format("{} failed", mysql_first_keyword(sql)));
    }
    drain_results();
  }

  // Runs one statement of dbinit's own and returns its rows as text (binary-safe).
  std::vector<Row> query(std::string_view sql) {
    require_open();
    m_last_errno = 0;
    if (libmariadb().mysql_real_query(m_conn, sql.data(), sql.size()) != 0) {
      throw sql_error(fmt::format("{} failed", mysql_first_keyword(sql)));
    }
    std::vector<Row> rows;
    {
      ResultGuard result{libmariadb().mysql_store_result(m_conn)};
      if (!result.result) {
        if (libmariadb().mysql_field_count(m_conn) != 0)
          throw sql_error("reading the result failed");
        return rows;
      }
      unsigned columns = libmariadb().mysql_num_fields(result.result);
      while (MYSQL_ROW row = libmariadb().mysql_fetch_row(result.result)) {
        unsigned long* lengths = libmariadb().mysql_fetch_lengths(result.result);
        Row out(columns);
        for (unsigned c = 0; c < columns; ++c) {
          if (row[c]) out[c] = std::string(row[c], lengths[c]);
        }
        rows.push_back(std::move(out));
      }
    }
    drain_more_results();
    return rows;
  }

  // Reads and discards the results of the statement just sent (a CALL returns several). Throws the
  // error of a later result (a failing statement inside a procedure).
  void drain_results() {
    discard_result();
    drain_more_results();
  }

  // Reads and discards the results after the first one.
  void drain_more_results() {
    while (true) {
      int status = libmariadb().mysql_next_result(m_conn);
      if (status < 0) return;
      if (status > 0) throw sql_error("statement failed");
      discard_result();
    }
  }

  void discard_result() {
    MYSQL_RES* result = libmariadb().mysql_use_result(m_conn);
    if (result) {
      libmariadb().mysql_free_result(result);
    } else if (libmariadb().mysql_field_count(m_conn) != 0) {
      throw sql_error("reading the result failed");
    }
  }

  std::string literal(std::string_view value) {
    require_open();
    std::string out(value.size() * 2 + 3, '\0');
    out[0] = '\'';
    unsigned long length =
        libmariadb().mysql_real_escape_string(m_conn, out.data() + 1, value.data(), value.size());
    out.resize(length + 1);
    out += '\'';
    return out;
  }

  std::string nullable_literal(const std::optional<std::string>& value) {
    return value ? literal(*value) : std::string("NULL");
  }

  void end_locked_transaction() noexcept {
    if (m_release_at_end) unlock();
  }

  // --- Scripts ----------------------------------------------------------------------------------

  std::string where_line(const Script& script, int line) const {
    int file_line = script.first_line + line - 1;
    if (script.source.empty()) return fmt::format("line {}", file_line);
    return fmt::format("{} line {}", script.source, file_line);
  }

  void run_script(const Script& script, bool restoring) {
    require_open();
    std::vector<MysqlStatement> statements;
    try {
      statements = split_mysql_script(script.sql);
    } catch (const MysqlSplitError& split) {
      Error error(ErrorKind::failure, split.what());
      error.where = where_line(script, split.line());
      throw error;
    }
    long done = 0;
    bool switched_database = false;
    std::optional<std::string> dump_database;
    for (const MysqlStatement& statement : statements) {
      std::vector<std::string> words = mysql_leading_words(statement.text, 4);
      if (!words.empty() && words[0] == "USE") switched_database = true;
      if (restoring && skip_in_dump(script, statement, words, dump_database)) {
        ++done;
        continue;
      }
      run_statement(script, statement, done);
      ++done;
    }
    // A script's USE must not move dbinit's own statements (the ledger) to another database.
    if (switched_database && !restoring) {
      if (libmariadb().mysql_select_db(m_conn, m_url.database.c_str()) != 0) {
        throw sql_error("cannot switch back to the database after the script's USE");
      }
    }
  }

  // Statements of a dump that name databases rather than objects in one. dbinit restores a dump
  // into the database of its URL, whatever the dump's database was called:
  // - CREATE DATABASE / CREATE SCHEMA (mysqldump --databases) is skipped: the database exists;
  // - DROP DATABASE (mysqldump --add-drop-database) is skipped: it would drop the target;
  // - the first USE names the dump's database and is skipped; a USE of another database later
  //   (a dump of several databases) is refused, since dbinit restores one database.
  bool skip_in_dump(const Script& script, const MysqlStatement& statement,
                    const std::vector<std::string>& words,
                    std::optional<std::string>& dump_database) {
    if (words.empty()) return false;
    if (words.size() >= 2 && (words[0] == "CREATE" || words[0] == "DROP") &&
        (words[1] == "DATABASE" || words[1] == "SCHEMA")) {
      return true;
    }
    if (words[0] != "USE" || words.size() < 2) return false;
    const std::string& target = words[1];
    if (!dump_database || lower(*dump_database) == lower(target) ||
        lower(target) == lower(m_url.database)) {
      if (!dump_database) dump_database = target;
      return true;
    }
    Error error(ErrorKind::failure,
                fmt::format("the dump switches from database {} to {}; dbinit restores one "
                            "database",
                            backtick(*dump_database), backtick(target)));
    error.where = where_line(script, statement.line);
    error.statement = quoted_statement(statement.text);
    error.hint = "dump a single database (mariadb-dump DBNAME, without --all-databases)";
    throw error;
  }

  void run_statement(const Script& script, const MysqlStatement& statement, long done) {
    std::string_view text = statement.text;
    if (m_server_max_packet != 0 && text.size() + 1 > m_server_max_packet) {
      Error error(ErrorKind::failure,
                  fmt::format("statement of {} ({} bytes) is larger than the server's "
                              "max_allowed_packet of {} ({} bytes)",
                              megabytes(text.size()), text.size(), megabytes(m_server_max_packet),
                              m_server_max_packet));
      error.where = where_line(script, statement.line);
      error.statement = quoted_statement(text);
      error.statements_done = done;
      error.hint = packet_hint();
      throw error;
    }
    m_last_errno = 0;
    if (libmariadb().mysql_real_query(m_conn, text.data(), text.size()) != 0) {
      throw statement_error(script, statement, done);
    }
    try {
      drain_results();
    } catch (const Error&) {
      throw statement_error(script, statement, done);
    }
  }

  Error statement_error(const Script& script, const MysqlStatement& statement, long done) {
    unsigned code = libmariadb().mysql_errno(m_conn);
    m_last_errno = code;
    // A lost connection (the server went away or was killed) is not the statement's fault,
    // unless the statement is larger than the server accepts (it then drops the connection).
    const bool gone = is_connection_failure(code) && statement.text.size() <= k_large_statement;
    Error error(gone ? ErrorKind::unreachable : ErrorKind::failure,
                redact_passwords(libmariadb().mysql_error(m_conn)));
    error.where = where_line(script, statement.line);
    error.code = engine_code(code, libmariadb().mysql_sqlstate(m_conn));
    error.statement = quoted_statement(statement.text);
    error.statements_done = done;
    if (code == ER_NET_PACKET_TOO_LARGE || code == CR_NET_PACKET_TOO_LARGE) {
      error.hint = packet_hint();
    } else if (code == ER_RECORD_FILE_FULL || code == ER_DISK_FULL) {
      error.hint =
          "the server's disk (or the table's size limit) is full: free space on the volume that "
          "holds its data directory, then start again";
    } else if (code == CR_SERVER_LOST || code == CR_SERVER_GONE_ERROR) {
      error.detail = "the connection to the server was lost during the statement";
      if (statement.text.size() > k_large_statement) error.hint = packet_hint();
    }
    return error;
  }

  // A statement this large may have been refused for max_allowed_packet when the connection drops.
  static constexpr std::size_t k_large_statement = 1024 * 1024;

  static std::string packet_hint() {
    return "raise the server's max_allowed_packet (max_allowed_packet=1G in the server "
           "configuration, or SET GLOBAL max_allowed_packet=1073741824) and run again";
  }

  // Statements a rolled-back transaction undoes completely: plain DML. Anything else (DDL, LOCK
  // TABLES, CALL of a procedure that may do DDL, transaction control, global settings) commits
  // implicitly or is not transactional.
  static bool is_transactional_dml(std::string_view text) {
    std::vector<std::string> words = mysql_leading_words(text, 64);
    if (words.empty()) return true;
    static const std::set<std::string, std::less<>> k_dml = {
        "INSERT", "UPDATE", "DELETE", "REPLACE", "SELECT", "WITH", "VALUES", "TABLE", "DO"};
    if (k_dml.contains(words[0])) return true;
    if (words[0] != "SET") return false;
    if (words.size() < 2) return false;
    static const std::set<std::string, std::less<>> k_not_session = {
        "GLOBAL", "PERSIST", "PERSIST_ONLY", "PASSWORD",
        "ROLE",   "DEFAULT", "TRANSACTION",  "STATEMENT"};
    if (k_not_session.contains(words[1])) return false;
    return std::none_of(words.begin(), words.end(), [](const std::string& w) {
      return w == "AUTOCOMMIT" || w == "@@AUTOCOMMIT" || w == "@@SESSION.AUTOCOMMIT" ||
             w.starts_with("@@GLOBAL.") || w == "GLOBAL";
    });
  }

  DatabaseUrl m_url;
  ConnectOptions m_options;
  MYSQL* m_conn = nullptr;
  /// The connection that holds the reset lock (lock_for_reset), or nullptr.
  MYSQL* m_reset_conn = nullptr;
  std::string m_lock_name;
  bool m_lock_held = false;
  bool m_mariadb = true;
  bool m_release_at_end = false;
  unsigned long m_server_max_packet = 0;
  unsigned m_last_errno = 0;
  unsigned m_connect_errno = 0;
  std::string m_connect_error;
  std::string m_connect_sqlstate;
};

}  // namespace

std::string mysql_quote_identifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    out += c;
    if (c == '`') out += '`';
  }
  out += '`';
  return out;
}

std::unique_ptr<Engine> make_mysql_engine(const DatabaseUrl& url) {
  return std::make_unique<MysqlEngine>(url);
}

namespace {

MysqlEngine& mysql_engine(Engine& engine) {
  auto* mysql = dynamic_cast<MysqlEngine*>(&engine);
  if (!mysql) {
    throw Error(ErrorKind::failure,
                fmt::format("the {} engine is not a mysql engine", engine.name()));
  }
  return *mysql;
}

}  // namespace

std::vector<MysqlRow> mysql_query(Engine& engine, std::string_view sql) {
  return mysql_engine(engine).run_query(sql);
}

std::string mysql_where(Engine& engine) {
  return mysql_engine(engine).where();
}

MYSQL* mysql_connection(Engine& engine) {
  return mysql_engine(engine).connection();
}

MYSQL* mysql_connect_for_load(Engine& engine) {
  return mysql_engine(engine).connect_for_load();
}

}  // namespace dbinit
