#include "engines/postgres/pg_connection.h"

#include <fmt/format.h>

#include "engines/postgres/libpq.h"
#include "util/error.h"
#include "util/text.h"

namespace dbinit {

namespace {

// The host and port lists libpq takes (`host=h1,h2 port=5432,`) from the URL's host part
// (`h1:5432,h2`, `[::1]:5432`, `/run/postgresql`); empty strings when the URL names no host.
std::pair<std::string, std::string> libpq_hosts(std::string_view hosts) {
  std::string host_list;
  std::string port_list;
  bool any_host = false;
  bool any_port = false;
  bool first = true;
  while (true) {
    const std::size_t comma = hosts.find(',');
    std::string_view entry = hosts.substr(0, comma);
    std::string_view host = entry;
    std::string_view port;
    if (entry.starts_with('[')) {
      const std::size_t close = entry.find(']');
      host = entry.substr(1, close == std::string_view::npos ? entry.npos : close - 1);
      if (close != std::string_view::npos && close + 1 < entry.size()) {
        port = entry.substr(close + 2);
      }
    } else if (const std::size_t sep = entry.rfind(':'); sep != std::string_view::npos) {
      host = entry.substr(0, sep);
      port = entry.substr(sep + 1);
    }
    if (!first) {
      host_list += ',';
      port_list += ',';
    }
    first = false;
    host_list += host;
    port_list += port;
    any_host = any_host || !host.empty();
    any_port = any_port || !port.empty();
    if (comma == std::string_view::npos) break;
    hosts.remove_prefix(comma + 1);
  }
  return {any_host ? host_list : std::string(), any_port ? port_list : std::string()};
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

void ignore_notice(void*, const char*) {}

// libpq reports connection failures as text only (there is no SQLSTATE for them in the API), so
// the kind is recognised from the messages of libpq and of the server's authentication code
// (src/backend/libpq/auth.c, postinit.c). The server sends these in its lc_messages language;
// unrecognised failures count as unreachable, which --wait retries.
PgConnectFailure classify(PGconn* conn, std::string_view message) {
  // Option checks fail before any host is tried, with messages such as `invalid sslmode value:`
  // or `invalid port number:`; connection failures name the server first.
  if (message.starts_with("invalid ")) return PgConnectFailure::invalid_option;
  if (contains(message, "does not exist") && contains(message, "database \"")) {
    return PgConnectFailure::missing_database;
  }
  if (libpq().PQconnectionNeedsPassword(conn) ||
      contains(message, "password authentication failed") ||
      contains(message, "authentication failed for user") ||
      contains(message, "no pg_hba.conf entry") || contains(message, "pg_hba.conf rejects") ||
      contains(message, "no password supplied") || contains(message, "role \"") ||
      contains(message, "permission denied for database") ||
      contains(message, "not permitted to log in") || contains(message, "SCRAM") ||
      contains(message, "server requested a cleartext password") ||
      contains(message, "certificate authentication failed")) {
    return PgConnectFailure::auth;
  }
  // TLS set-up failures (fe-secure-openssl.c, fe-connect.c) do not go away by waiting.
  if (contains(message, "SSL was required") || contains(message, "certificate") ||
      contains(message, "private key file") || contains(message, "GSSAPI encryption required")) {
    return PgConnectFailure::tls;
  }
  return PgConnectFailure::unreachable;
}

}  // namespace

PgConnection& PgConnection::operator=(PgConnection&& other) noexcept {
  if (this != &other) {
    close();
    m_conn = other.m_conn;
    other.m_conn = nullptr;
  }
  return *this;
}

void PgConnection::close() {
  if (m_conn != nullptr) {
    libpq().PQfinish(m_conn);
    m_conn = nullptr;
  }
}

std::optional<PgConnectError> PgConnection::connect(const DatabaseUrl& url,
                                                    const char* database_override,
                                                    PgConnection& out) {
  // libpq gets the URL's parts as keywords, never the URL text: what the password is was decided
  // once, by parse_database_url(), and libpq cannot read it differently (or quote it in an error
  // about the URL). Later keywords override earlier ones, so the query parameters (any libpq
  // keyword: sslmode, target_session_attrs, host=/socket/dir, ...) come after the URL's parts, and
  // dbinit's defaults are only added when the URL does not set them.
  std::vector<std::pair<std::string, std::string>> parameters;
  const auto [hosts, ports] = libpq_hosts(url.hosts);
  if (!hosts.empty()) parameters.emplace_back("host", hosts);
  if (!ports.empty()) parameters.emplace_back("port", ports);
  if (!url.user.empty()) parameters.emplace_back("user", url.user);
  if (url.has_password) parameters.emplace_back("password", url.password);
  if (!url.database.empty()) parameters.emplace_back("dbname", url.database);
  for (const auto& [key, value] : url.params) {
    // libpq's URI form accepts `ssl=true` as JDBC's spelling of sslmode=require.
    if (key == "ssl" && value == "true") {
      parameters.emplace_back("sslmode", "require");
    } else {
      parameters.emplace_back(key, value);
    }
  }
  if (database_override != nullptr) parameters.emplace_back("dbname", database_override);
  if (!url.has_param("application_name")) parameters.emplace_back("application_name", "dbinit");
  if (!url.has_param("connect_timeout")) parameters.emplace_back("connect_timeout", "10");
  // Scripts are UTF-8 files; error positions are converted from characters on that basis.
  if (!url.has_param("client_encoding")) parameters.emplace_back("client_encoding", "UTF8");
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [key, value] : parameters) {
    keywords.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);

  // expand_dbname = 0: a database name holding '=' or starting with postgres:// is a name.
  PGconn* conn = libpq().PQconnectdbParams(keywords.data(), values.data(), 0);
  if (conn == nullptr) {
    return PgConnectError{PgConnectFailure::unreachable, "libpq could not allocate a connection",
                          url.user, url.database};
  }
  if (libpq().PQstatus(conn) != CONNECTION_OK) {
    PgConnectError error;
    std::string raw = libpq().PQerrorMessage(conn);
    error.failure = classify(conn, raw);
    error.message = pg_clean_message(raw, &error.detail);
    error.user = libpq().PQuser(conn) != nullptr ? libpq().PQuser(conn) : url.user;
    error.database = libpq().PQdb(conn) != nullptr ? libpq().PQdb(conn) : url.database;
    libpq().PQfinish(conn);
    return error;
  }
  // libpq prints NOTICE messages on stderr by default; engines print nothing.
  libpq().PQsetNoticeProcessor(conn, ignore_notice, nullptr);
  out = PgConnection();
  out.m_conn = conn;
  return std::nullopt;
}

PgResult PgConnection::exec(std::string_view sql,
                            const std::vector<std::optional<std::string>>& params,
                            std::string_view what, const std::string& where) const {
  if (m_conn == nullptr) {
    Error error(ErrorKind::failure, fmt::format("{}: not connected to the database", what));
    error.where = where;
    throw error;
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  std::string text(sql);
  PgResult result(libpq().PQexecParams(m_conn, text.c_str(), static_cast<int>(values.size()),
                                       nullptr, values.data(), nullptr, nullptr, 0));
  ExecStatusType status = result ? libpq().PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;

  std::string message = pg_error_field(result.get(), PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = pg_clean_message(libpq().PQerrorMessage(m_conn));
  const std::string sqlstate = pg_error_field(result.get(), PG_DIAG_SQLSTATE);
  Error error(pg_connection_lost(m_conn, sqlstate) ? ErrorKind::unreachable : ErrorKind::failure,
              fmt::format("{}: {}", what, message));
  error.where = where;
  if (const std::string& state = sqlstate; !state.empty()) {
    error.code = "SQLSTATE " + state;
    error.hint = pg_resource_hint(state);
  }
  error.detail = pg_error_detail(result.get());
  error.statement = text;
  throw error;
}

bool pg_connection_lost(const PGconn* conn, std::string_view sqlstate) {
  if (conn != nullptr && libpq().PQstatus(conn) != CONNECTION_OK) return true;
  return sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03" ||
         sqlstate.starts_with("08");
}

std::string pg_resource_hint(std::string_view sqlstate) {
  if (sqlstate == "53100") {
    return "the server's disk is full: free space on the volume that holds its data directory "
           "(or the tablespace being written), then start again";
  }
  if (sqlstate == "53200") {
    return "the server ran out of memory: give it more, or lower work_mem and "
           "maintenance_work_mem for the migration (SET in the file), then start again";
  }
  if (sqlstate == "53300") {
    return "the server has no free connection slots: close idle sessions or raise "
           "max_connections, then start again";
  }
  return {};
}

std::string pg_clean_message(std::string_view message, std::string* detail) {
  std::string out;
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t end = message.find('\n', pos);
    if (end == std::string_view::npos) end = message.size();
    std::string_view line = message.substr(pos, end - pos);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    if (detail != nullptr && (line.starts_with("DETAIL:") || line.starts_with("HINT:") ||
                              line.starts_with("CONTEXT:"))) {
      if (!detail->empty()) *detail += '\n';
      *detail += redact_passwords(line);
    } else if (!line.empty()) {
      if (!out.empty()) out += "; ";
      // The server pads its severity (`FATAL:  password authentication failed`).
      for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == ' ' && i > 0 && line[i - 1] == ' ' && i >= 2 && line[i - 2] == ':') continue;
        out += line[i];
      }
    }
    pos = end + 1;
  }
  return redact_passwords(out);
}

std::string pg_error_detail(const PGresult* result) {
  std::string detail;
  auto add = [&](std::string_view label, int field) {
    const std::string value = pg_error_field(result, field);
    if (value.empty()) return;
    if (!detail.empty()) detail += '\n';
    detail += label;
    detail += ": ";
    for (char c : value) {
      detail += c;
      if (c == '\n') detail += "  ";
    }
  };
  add("DETAIL", PG_DIAG_MESSAGE_DETAIL);
  add("HINT", PG_DIAG_MESSAGE_HINT);
  add("CONTEXT", PG_DIAG_CONTEXT);
  return detail;
}

std::string pg_error_field(const PGresult* result, int field) {
  if (result == nullptr) return {};
  const char* value = libpq().PQresultErrorField(result, field);
  return value != nullptr ? std::string(value) : std::string();
}

std::optional<std::string> pg_value(const PGresult* result, int row, int column) {
  if (libpq().PQgetisnull(result, row, column)) return std::nullopt;
  return std::string(libpq().PQgetvalue(result, row, column),
                     static_cast<std::size_t>(libpq().PQgetlength(result, row, column)));
}

std::string pg_text(const PGresult* result, int row, int column) {
  return pg_value(result, row, column).value_or(std::string());
}

std::string pg_quote_identifier(std::string_view name) {
  return sql_quoted_identifier(name);
}

}  // namespace dbinit
