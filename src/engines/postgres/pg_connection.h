#pragma once

// A thin owner of a libpq connection: connecting from a DatabaseUrl with the parameters dbinit
// adds, classifying connection failures into dbinit's error kinds, and running internal queries
// with parameters. Only the postgres engine includes this header.

#include "engines/postgres/libpq.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engines/url.h"

namespace dbinit {

struct PgResultDeleter {
  void operator()(PGresult* result) const { libpq().PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

/// Why a connection attempt failed.
enum class PgConnectFailure {
  missing_database,  // the server runs but the database does not exist (SQLSTATE 3D000)
  auth,              // credentials rejected, no pg_hba.conf entry, no CONNECT privilege
  unreachable,       // refused, timed out, unknown host, starting up, too many clients, ...
  invalid_option,    // libpq refused a parameter's value before connecting (sslmode=sometimes)
  tls,               // sslmode / certificates do not match what the server offers; not transient
};

/// A failed connection attempt: what kind, libpq's message (passwords redacted) and the user
/// name libpq tried.
struct PgConnectError {
  PgConnectFailure failure = PgConnectFailure::unreachable;
  std::string message;
  std::string user;
  std::string database;
  /// The server's DETAIL and HINT lines, for Error::detail (see pg_clean_message).
  std::string detail = {};
};

class PgConnection {
 public:
  PgConnection() = default;
  ~PgConnection() { close(); }
  PgConnection(PgConnection&& other) noexcept : m_conn(other.m_conn) { other.m_conn = nullptr; }
  PgConnection& operator=(PgConnection&& other) noexcept;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  /// Connects to `url`, or to database `database_override` on the same server when given. libpq
  /// gets the parts parse_database_url() found (host and port lists, user, password, database)
  /// as keyword/value parameters, followed by every query parameter (sslmode,
  /// target_session_attrs, ...), so that both agree on what the password is; dbinit adds
  /// application_name=dbinit, connect_timeout=10 and client_encoding=UTF8 unless the URL sets
  /// them. Returns the error instead of throwing so that callers can decide what a missing
  /// database means.
  static std::optional<PgConnectError> connect(const DatabaseUrl& url,
                                               const char* database_override, PgConnection& out);

  PGconn* get() const { return m_conn; }
  bool is_open() const { return m_conn != nullptr; }
  void close();

  /// Runs one statement with text parameters (nullopt = NULL) and returns its result; throws
  /// Error{failure} "<what>: <server message>" with the SQLSTATE, and `where` set to `where`.
  PgResult exec(std::string_view sql, const std::vector<std::optional<std::string>>& params,
                std::string_view what, const std::string& where) const;
  PgResult exec(std::string_view sql, std::string_view what, const std::string& where) const {
    return exec(sql, {}, what, where);
  }

 private:
  PGconn* m_conn = nullptr;
};

/// The connection-level part of a failed result's message when there is no SQLSTATE (the server
/// went away): libpq's text, passwords redacted, lines joined with `; `. When `detail` is given,
/// the server's `DETAIL:`, `HINT:` and `CONTEXT:` lines go there instead, one per line, in the
/// form of Error::detail (see pg_error_detail).
std::string pg_clean_message(std::string_view message, std::string* detail = nullptr);

/// The DETAIL, HINT and CONTEXT fields of an error result as Error::detail holds them: one
/// `DETAIL: ...` / `HINT: ...` / `CONTEXT: ...` line each, in that order, the continuation lines
/// of a multi-line field indented by two spaces; empty when the server sent none.
std::string pg_error_detail(const PGresult* result);

/// True when an error means that the server went away rather than that the statement was wrong:
/// the connection is no longer usable (`conn` is CONNECTION_BAD), or `sqlstate` is an
/// administrator or crash shutdown (57P01, 57P02), a server that cannot accept connections now
/// (57P03) or a connection exception (class 08). See
/// https://www.postgresql.org/docs/current/errcodes-appendix.html
bool pg_connection_lost(const PGconn* conn, std::string_view sqlstate);

/// What to do about an error of SQLSTATE class 53 (insufficient resources: a full disk, memory,
/// connection slots); empty for any other state.
std::string pg_resource_hint(std::string_view sqlstate);

/// A field of an error result, or empty.
std::string pg_error_field(const PGresult* result, int field);

/// The text of cell (`row`, `column`), or nullopt for NULL.
std::optional<std::string> pg_value(const PGresult* result, int row, int column);
/// The text of cell (`row`, `column`), NULL as empty.
std::string pg_text(const PGresult* result, int row, int column);

/// `"name"` quoted as a PostgreSQL identifier.
std::string pg_quote_identifier(std::string_view name);

}  // namespace dbinit
