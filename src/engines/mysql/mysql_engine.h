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
// transaction. rolls_back() reads statement text only: DML on a non-transactional table (MyISAM)
// is not undone by a rollback, and it cannot tell. The migration lock is the named lock
// GET_LOCK('dbinit:<database>') (hashed when longer than 64 characters), held by the session and
// so released by the server when a killed process's connection closes.
//
// restore() runs mysqldump / mariadb-dump output into the URL's database whatever the dump's
// database was called: CREATE DATABASE and DROP DATABASE statements are skipped, the first USE is
// skipped and a USE of a second database is refused (dbinit restores one database). A statement
// larger than the server's max_allowed_packet is refused with advice to raise it; the client side
// accepts up to 1 GB. The schema (schema_text(), `dbinit schema`) is
// k_mysql_schema_support's render of its read (mysql_introspect.cpp): SHOW CREATE output for
// sequences, tables, routines, views (after the views they read) and triggers (by table, in the
// order they fire), without DEFINER clauses, default view clauses and AUTO_INCREMENT counters;
// events are not included. check_foreign_keys() does nothing: MySQL does not re-check existing rows
// when foreign_key_checks is turned back on, and has no statement that would.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engines/engine.h"

struct st_mysql;  // MYSQL of Connector/C (mysql.h)

namespace dbinit {

struct SnapshotSupport;

/// Builds the mysql engine for `url` (url.engine == "mysql"). Does not connect: see Engine::open().
/// Throws Error{config} for URL parameters it does not know.
std::unique_ptr<Engine> make_mysql_engine(const DatabaseUrl& url);

/// `name` in backticks, a backtick in it doubled: a MySQL identifier whatever it holds.
std::string mysql_quote_identifier(std::string_view name);

/// Schema files and diagrams on mysql (mysql_introspect.cpp).
extern const SchemaSupport k_mysql_schema_support;
/// Snapshots on mysql (mysql_snapshot.cpp).
extern const SnapshotSupport k_mysql_snapshot_support;

/// The statements that create the ledger and meta tables when missing: ensure_ledger() runs them
/// and k_mysql_schema_support.ledger_ddl() prints them. Versions and keys are ASCII; a binary
/// collation keeps their comparisons exact.
inline constexpr std::string_view k_mysql_ledger_statements[] = {
    "CREATE TABLE IF NOT EXISTS dbinit_migrations ("
    "version VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, "
    "name VARCHAR(1024) NOT NULL, "
    "checksum VARCHAR(255) NOT NULL, "
    "state VARCHAR(16) NOT NULL, "
    "applied_at VARCHAR(32) NOT NULL, "
    "duration_ms BIGINT NOT NULL, "
    "applied_by VARCHAR(1024) NOT NULL, "
    "down_sql LONGTEXT NULL, "
    "error MEDIUMTEXT NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
    "CREATE TABLE IF NOT EXISTS dbinit_meta ("
    "`key` VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, "
    "value MEDIUMTEXT NOT NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
};

// --- For mysql_introspect.cpp: the connection of an open mysql engine ---------------------------

/// One row of a result, each value as text (binary-safe); NULL is nullopt.
using MysqlRow = std::vector<std::optional<std::string>>;

/// Runs one statement on the connection of `engine` (a mysql engine, open) and returns its rows.
/// Throws Error as the engine's own statements do (`where` the redacted URL, `code` the server's
/// error), and Error{failure} when `engine` is not a mysql engine.
std::vector<MysqlRow> mysql_query(Engine& engine, std::string_view sql);

/// The redacted URL of `engine` (a mysql engine), for the `where` of errors.
std::string mysql_where(Engine& engine);

// --- For mysql_snapshot.cpp: Connector/C connections --------------------------------------------

/// The Connector/C connection of `engine` (a mysql engine, open), for results read row by row
/// (mysql_use_result). Statements run on it are the engine's session's statements.
st_mysql* mysql_connection(Engine& engine);

/// A new connection to the database of `engine` (a mysql engine) with LOAD DATA LOCAL allowed,
/// as the engine's own connections are made otherwise (character set, TLS, timeouts). The caller
/// installs its own local infile handler and closes it (mysql_close). Throws as Engine::open().
st_mysql* mysql_connect_for_load(Engine& engine);

}  // namespace dbinit
