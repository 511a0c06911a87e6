#pragma once

// A PgBouncer in front of the PostgreSQL test server, for as long as the object lives: the
// connection pooler many deployments put between their services and PostgreSQL. Tests run dbinit
// through it to check that the migration lock works in transaction pooling mode.

#include <memory>
#include <string>

#include "support/harness.h"

namespace dbinit::test {

class PgBouncer {
 public:
  /// Starts pgbouncer (DBINIT_PGBOUNCER, else /usr/sbin/pgbouncer, else `pgbouncer` in PATH) on a
  /// free 127.0.0.1 port in `pool_mode` (`transaction`, `session`, `statement`), in front of the
  /// server of `server_url` (a URL of the test server: its host, port, user and password), with
  /// SCRAM authentication from an auth_file holding that user and password. As root it runs as
  /// the `postgres` system user, since pgbouncer refuses to run as root. Throws
  /// std::runtime_error with pgbouncer's log when it does not accept connections within 10 s.
  PgBouncer(const std::string& server_url, const std::string& pool_mode);
  /// Stops pgbouncer (SIGTERM, then SIGKILL) and removes its folder.
  ~PgBouncer();
  PgBouncer(const PgBouncer&) = delete;
  PgBouncer& operator=(const PgBouncer&) = delete;

  int port() const { return m_port; }
  /// `url` (any URL of the test server) with its host and port replaced by PgBouncer's.
  std::string url_for(const std::string& url) const;
  /// What pgbouncer logged so far, for failure messages.
  std::string log() const;

 private:
  TempDir m_dir;
  int m_port = 0;
  std::unique_ptr<Child> m_process;
};

}  // namespace dbinit::test
