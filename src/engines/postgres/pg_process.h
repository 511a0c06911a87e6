#pragma once

// A client program of PostgreSQL (pg_dump) run as a child process: an explicit argv and
// environment (no shell, nothing inherited), its standard output read through a pipe, the end of
// its standard error kept for the error message.

#include <sys/types.h>

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

namespace dbinit {

class PgProcess {
 public:
  /// Starts `argv[0]` (an absolute path) with exactly the environment `env` (`NAME=value`
  /// entries). Throws Error{failure} naming `shown` when it cannot be started.
  PgProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
            std::string shown);
  /// Kills and reaps a child that is still running.
  ~PgProcess();
  PgProcess(const PgProcess&) = delete;
  PgProcess& operator=(const PgProcess&) = delete;

  /// The next piece of the child's standard output; empty at its end. Throws Error{failure} on a
  /// read error.
  std::string_view read();
  /// Waits for the child. Throws Error{failure} naming `shown`, with the end of its standard
  /// error, when it did not exit with status 0.
  void finish();
  /// Sends SIGKILL to a child that is still running (safe while another thread is in read(),
  /// which then sees the end of the output); the destructor reaps it.
  void terminate();

 private:
  void drain_stderr(bool block);

  std::atomic<pid_t> m_pid{-1};
  int m_out = -1;
  int m_err = -1;
  std::string m_shown;
  std::string m_buffer;
  std::string m_stderr;
};

}  // namespace dbinit
