#pragma once

// A throw-away PostgreSQL or MariaDB server of one test's own, for tests that kill the server: the
// shared servers that the ctest fixtures start must stay up for every other test. It is started
// with support/testserver in a folder of its own and stopped (and removed) when the object dies.

#include <filesystem>
#include <string>

#include "support/harness.h"

namespace dbinit::test {

class PrivateServer {
 public:
  /// Starts a server for `engine` ("postgres" or "mysql"); throws std::runtime_error with the
  /// script's output when it cannot be started.
  explicit PrivateServer(const std::string& engine);
  ~PrivateServer();
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;

  /// The URL of database `name` on this server (which need not exist yet).
  std::string database_url(const std::string& name) const;
  /// Ends the server at once, as a crash does: PostgreSQL's postmaster gets SIGQUIT (an immediate
  /// shutdown, which ends every session with SQLSTATE 57P01), mariadbd gets SIGKILL.
  void kill_hard();

 private:
  std::string m_engine;
  TempDir m_dir;
  std::string m_url;
};

}  // namespace dbinit::test
