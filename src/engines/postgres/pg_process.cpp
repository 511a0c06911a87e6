#include "engines/postgres/pg_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "util/error.h"

namespace dbinit {

namespace {

// The child's standard error is kept up to this size (its end), for the error message.
constexpr std::size_t k_stderr_limit = 16 * 1024;
constexpr std::size_t k_read_size = 256 * 1024;

[[noreturn]] void throw_system(std::string_view what, int error_number) {
  throw Error(ErrorKind::failure, fmt::format("{}: {}", what, std::strerror(error_number)));
}

}  // namespace

PgProcess::PgProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     std::string shown)
    : m_shown(std::move(shown)) {
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw_system("cannot create a pipe for " + m_shown, errno);
  if (::pipe2(err, O_CLOEXEC) != 0) {
    const int saved = errno;
    ::close(out[0]);
    ::close(out[1]);
    throw_system("cannot create a pipe for " + m_shown, saved);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int failed = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  m_pid = pid;
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  m_out = out[0];
  m_err = err[0];
  if (failed != 0) {
    ::close(m_out);
    ::close(m_err);
    m_out = m_err = -1;
    m_pid = -1;
    throw_system(fmt::format("cannot start {}", m_shown), failed);
  }
  ::fcntl(m_err, F_SETFL, ::fcntl(m_err, F_GETFL) | O_NONBLOCK);
  m_buffer.resize(k_read_size);
}

PgProcess::~PgProcess() {
  if (m_out >= 0) ::close(m_out);
  if (m_err >= 0) ::close(m_err);
  if (const pid_t pid = m_pid.exchange(-1); pid > 0) {
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

void PgProcess::terminate() {
  if (const pid_t pid = m_pid; pid > 0) ::kill(pid, SIGKILL);
}

void PgProcess::drain_stderr(bool block) {
  if (m_err < 0) return;
  char chunk[4096];
  while (true) {
    if (block) {
      pollfd fd{m_err, POLLIN, 0};
      ::poll(&fd, 1, -1);
    }
    const ssize_t n = ::read(m_err, chunk, sizeof chunk);
    if (n > 0) {
      m_stderr.append(chunk, static_cast<std::size_t>(n));
      if (m_stderr.size() > 2 * k_stderr_limit) {
        m_stderr.erase(0, m_stderr.size() - k_stderr_limit);
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      ::close(m_err);
      m_err = -1;
    }
    return;
  }
}

std::string_view PgProcess::read() {
  while (m_out >= 0) {
    pollfd fds[2] = {{m_out, POLLIN, 0}, {m_err, POLLIN, 0}};
    const int ready = ::poll(fds, m_err >= 0 ? 2 : 1, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw_system("waiting for " + m_shown, errno);
    }
    if (m_err >= 0 && (fds[1].revents & (POLLIN | POLLHUP)) != 0) drain_stderr(false);
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    const ssize_t n = ::read(m_out, m_buffer.data(), m_buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_system("reading the output of " + m_shown, errno);
    }
    if (n == 0) {
      ::close(m_out);
      m_out = -1;
      break;
    }
    return std::string_view(m_buffer.data(), static_cast<std::size_t>(n));
  }
  return {};
}

void PgProcess::finish() {
  while (!read().empty()) {
  }
  if (m_err >= 0) ::fcntl(m_err, F_SETFL, ::fcntl(m_err, F_GETFL) & ~O_NONBLOCK);
  while (m_err >= 0) drain_stderr(true);
  int status = 0;
  while (::waitpid(m_pid, &status, 0) < 0) {
    if (errno != EINTR) throw_system("waiting for " + m_shown, errno);
  }
  m_pid = -1;  // reaped
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  std::string message = m_stderr;
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  for (char& c : message) {
    if (c == '\n') c = ' ';
  }
  const std::string how = WIFEXITED(status)
                              ? fmt::format("exited with status {}", WEXITSTATUS(status))
                              : fmt::format("was killed by signal {}", WTERMSIG(status));
  Error error(ErrorKind::failure, message.empty()
                                      ? fmt::format("{} {}", m_shown, how)
                                      : fmt::format("{} {}: {}", m_shown, how, message));
  throw error;
}

}  // namespace dbinit
