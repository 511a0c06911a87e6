#pragma once

// The one error type of the dbinit library. Every failure that reaches a user is an `Error`: it
// carries a category (which decides the process exit code, see SPEC.md "Exit codes"), the engine's
// own code, where it happened, what state the database was left in and what to do next. Lower
// layers fill in what they know (an engine knows the SQLSTATE and the file line); the runner adds
// the state of the database and the next step before the error reaches the CLI, which prints it
// once.

#include <stdexcept>
#include <string>

namespace dbinit {

enum class ErrorKind {
  failure,       // a migration, hook or I/O failed (exit 1)
  usage,         // bad flag or argument (exit 2)
  config,        // unreadable file, bad migration file name, duplicate version (exit 2)
  drift,         // an applied migration was changed or is missing (exit 3)
  needs_repair,  // a `failed` ledger row blocks the run (exit 4)
  lock_timeout,  // the migration lock was not acquired in time (exit 5)
  unreachable,   // the server did not accept connections; retryable under --wait (exit 6)
  auth,          // authentication failed; never retried (exit 6)
  not_current,   // `check`: the database is not at the latest migration (exit 7)
  refused,       // destructive operation without permission (exit 8)
  unmanaged,     // the database has tables but no ledger (exit 9)
  in_doubt,      // the connection was lost while a COMMIT was in flight and whether it took
                 // effect could not be found out (exit 10)
};

/// The process exit code SPEC.md assigns to `kind`.
int exit_code(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message);

  ErrorKind kind() const { return m_kind; }

  /// The message alone, without location, code, state or hint.
  const std::string& message() const { return m_message; }

  /// Where it happened: `db/migrations/0003-add-email.sql line 4`, `dbinit.toml:7`, a redacted URL.
  std::string where;
  /// The engine's own code: `SQLSTATE 42703`, `SQLITE_CONSTRAINT`, `MySQL 1146, SQLSTATE 42S02`.
  std::string code;
  /// The engine's extra detail lines (PostgreSQL DETAIL, for example); may be empty.
  std::string detail;
  /// What state the database was left in: `nothing was changed (the run was rolled back)`.
  std::string state;
  /// What to do next: `fix the migration and start again`.
  std::string hint;
  /// The failing statement, shown with -v; may be empty.
  std::string statement;
  /// For script execution: how many statements of the script completed before the failure.
  long statements_done = 0;

  /// The one-line form the CLI prints after `dbinit: error: `:
  /// `<where>: <message> (<code>); <state>; <hint>`, leaving out the parts that are empty.
  std::string full_message() const;

 private:
  ErrorKind m_kind;
  std::string m_message;
};

}  // namespace dbinit
