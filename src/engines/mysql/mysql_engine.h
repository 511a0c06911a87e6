#pragma once

// The MySQL/MariaDB engine, on MariaDB Connector/C (libmariadb).
//
// URL: `mysql://user:pass@host:port/db` (`mariadb://` alias), one host only. Query parameters:
// - `socket=/path`: connect through this unix socket (the host part is then ignored);
// - `ssl-mode` (also `sslmode`, `ssl_mode`): DISABLED, PREFERRED (the default: TLS only when a
//   certificate parameter asks for it), REQUIRED (TLS or no connection), VERIFY_CA and
//   VERIFY_IDENTITY (TLS and a server certificate that verifies against `ssl-ca`; Connector/C
//   checks the host name in both modes);
// - `ssl-ca`, `ssl-capath`, `ssl-cert`, `ssl-key`, `ssl-cipher`, `tls-version`;
// - `connect-timeout` (seconds, default 10).
// Spelling with `-` or `_` is the same parameter; any other parameter is an Error{config}.
//
// Sessions use utf8mb4 and the server's default sql_mode (scripts that depend on a mode set it
// themselves, as mysqldump output does). Statements are split client-side (mysql_splitter.h) and
// sent one at a time; multi-statement mode is off.
//
// MySQL commits DDL implicitly, so transactional_ddl() is false: the runner guards each migration
// with a `failed` ledger row instead, and wraps only pure-DML scripts (rolls_back()) in a
// transaction. The migration lock is the named lock GET_LOCK('dbinit:<database>'), held by the
// session.

#include <memory>

#include "engines/engine.h"

namespace dbinit {

/// Builds the mysql engine for `url` (url.engine == "mysql"). Does not connect: see Engine::open().
/// Throws Error{config} for URL parameters it does not know.
std::unique_ptr<Engine> make_mysql_engine(const DatabaseUrl& url);

}  // namespace dbinit
