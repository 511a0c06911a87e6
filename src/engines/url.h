#pragma once

// Database URLs as SPEC.md describes them. Parsing never fails silently: a URL that cannot be
// understood is an Error{config} naming the redacted URL. Nothing here prints a password:
// `redacted()` is the only form of a URL that may reach a message.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dbinit {

struct DatabaseUrl {
  /// Canonical engine name: "sqlite", "postgres" or "mysql" (aliases resolved).
  std::string engine;
  /// The scheme as written (`postgresql`, `sqlite3`, ...).
  std::string scheme;
  /// Percent-decoded user name and password; empty when absent.
  std::string user;
  std::string password;
  bool has_password = false;
  /// The password as written in the URL (percent-encoded, if it was); never print it.
  std::string password_as_written;
  /// Host part as written, percent-decoded; for multi-host PostgreSQL URLs `h1:5432,h2:5433`.
  std::string hosts;
  /// The database name (server engines) or the file path (SQLite, as written: relative or
  /// absolute).
  std::string database;
  /// Query parameters in order, percent-decoded.
  std::vector<std::pair<std::string, std::string>> params;
  /// The URL exactly as given (never print it: use redacted()).
  std::string original;

  /// The URL with the password replaced by `***` (`postgres://app:***@db:5432/app`).
  std::string redacted() const;
  /// The texts of this URL that must never be printed: the password as decoded and as written,
  /// and the values of the `password` and `sslpassword` query parameters. Empty texts are left
  /// out.
  std::vector<std::string> secrets() const;
  /// The value of query parameter `name`, or empty.
  std::string param(std::string_view name) const;
  bool has_param(std::string_view name) const;
};

/// Parses `url`. Accepted forms:
/// - `sqlite:relative/path.db`, `sqlite:///absolute/path.db`, `sqlite:/absolute/path.db`,
///   `sqlite://relative/path.db` (`sqlite3:` is an alias); query parameters are allowed after `?`.
/// - `postgres://user:pass@host:port/db?param=value` (`postgresql:` alias), multi-host
///   `postgres://u@h1:5432,h2:5432/db`, host omitted (`postgres:///db`: the default unix socket).
/// - `mysql://user:pass@host:port/db?socket=/path` (`mariadb:` alias).
/// In server URLs every `%` must start a `%XX` escape: a malformed one is an Error{config} naming
/// the part (user name, password, host, database name, query) but never its text. SQLite paths
/// keep a malformed escape as written.
/// Throws Error{config} for anything else.
DatabaseUrl parse_database_url(std::string_view url);

/// Replaces the password in any URL-looking text (`scheme://user:pass@`) with `***`. Used on
/// messages that come from engines, which may echo connection strings.
std::string redact_passwords(std::string_view text);

}  // namespace dbinit
