#include "support/harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace dbinit::test {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

/// Variables of the test process a child keeps (SPEC-relevant ones are set per test instead).
/// Sanitizer options and the library path are kept so that instrumented builds behave the same
/// in the child.
constexpr const char* k_kept_variables[] = {
    "PATH",         "HOME",          "TMPDIR",       "LANG",         "LD_LIBRARY_PATH",
    "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS",
};
constexpr const char* k_default_path = "/usr/local/bin:/usr/bin:/bin";

/// After the child has exited, output is read until the pipes close or stay silent this long (a
/// grandchild that outlives the child may hold them open).
constexpr std::chrono::milliseconds k_drain_after_exit{500};

// Child has no room for its deadline (support/harness.h is a fixed interface), so the deadlines
// of running children are kept here, by pid.
std::mutex g_deadlines_mutex;
std::map<int, Clock::time_point>& deadlines() {
  static std::map<int, Clock::time_point> map;
  return map;
}

std::runtime_error system_error(const std::string& what, int error = errno) {
  return std::runtime_error(what + ": " + std::strerror(error));
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::map<std::string, std::string> child_environment(const RunOptions& options) {
  std::map<std::string, std::string> env;
  for (const char* name : k_kept_variables) {
    if (const char* value = std::getenv(name)) env[name] = value;
  }
  if (env.find("PATH") == env.end()) env["PATH"] = k_default_path;
  for (const auto& [name, value] : options.env) env[name] = value;
  return env;
}

bool is_executable(const fs::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

/// `program` itself when it contains a slash, else the first executable of that name in `path`.
std::string find_program(const std::string& program, const std::string& path) {
  if (program.find('/') != std::string::npos) return program;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    if (is_executable(candidate)) return candidate.string();
  }
  throw std::runtime_error("program '" + program + "' not found in PATH (" + path + ")");
}

/// A descriptor for the child's standard input: /dev/null, or an in-memory file holding `data`
/// (a file rather than a pipe, so that any amount can be given without a writer thread).
int stdin_fd(const std::string& data) {
  if (data.empty()) {
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw system_error("cannot open /dev/null");
    return fd;
  }
  int fd = ::memfd_create("dbinit-test-stdin", MFD_CLOEXEC);
  if (fd < 0) throw system_error("cannot create the child's standard input");
  std::size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      throw system_error("cannot write the child's standard input", error);
    }
    written += static_cast<std::size_t>(n);
  }
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

/// What a child that failed before exec() reports to its parent through the status pipe.
struct ExecFailure {
  int stage;  // 0: chdir, 1: execve
  int error;
};

void write_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

}  // namespace

// --- TempDir ----------------------------------------------------------------------------------

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "dbinit_test_XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw system_error("cannot create a temporary folder " + pattern);
  }
  m_path = fs::canonical(pattern);
}

TempDir::~TempDir() {
  if (std::getenv("DBINIT_KEEP_TEST_DIRS") != nullptr) {
    std::fprintf(stderr, "kept test folder %s\n", m_path.c_str());
    return;
  }
  std::error_code ec;
  fs::remove_all(m_path, ec);
}

fs::path TempDir::write(const fs::path& relative, std::string_view content) const {
  fs::path full = m_path / relative;
  fs::create_directories(full.parent_path());
  std::ofstream out(full, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + full.string());
  return full;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// --- Processes --------------------------------------------------------------------------------

RunResult run_dbinit(const std::vector<std::string>& args, const RunOptions& options) {
  std::vector<std::string> argv;
  argv.reserve(args.size() + 1);
  argv.emplace_back(DBINIT_BINARY);
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, options);
}

RunResult run_program(const std::vector<std::string>& argv, const RunOptions& options) {
  Child child(argv, options);
  return child.wait();
}

Child::Child(const std::vector<std::string>& argv, const RunOptions& options) {
  if (argv.empty()) throw std::runtime_error("Child: empty argv");
  const std::map<std::string, std::string> env = child_environment(options);
  const std::string program = find_program(argv[0], env.at("PATH"));

  // Everything the child needs is built before fork(): after it, only async-signal-safe calls.
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<char*> child_argv;
  for (const std::string& arg : argv) child_argv.push_back(const_cast<char*>(arg.c_str()));
  child_argv.push_back(nullptr);
  std::vector<char*> child_env;
  for (std::string& entry : env_strings) child_env.push_back(entry.data());
  child_env.push_back(nullptr);
  const std::string cwd = options.cwd.string();

  int in_fd = stdin_fd(options.stdin_data);
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  int status_pipe[2] = {-1, -1};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(status_pipe, O_CLOEXEC) != 0) {
    int error = errno;
    for (int fd : {in_fd, out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], status_pipe[0],
                   status_pipe[1]}) {
      if (fd >= 0) ::close(fd);
    }
    throw system_error("cannot create pipes", error);
  }

  pid_t pid = ::fork();
  if (pid < 0) {
    int error = errno;
    for (int fd : {in_fd, out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], status_pipe[0],
                   status_pipe[1]}) {
      ::close(fd);
    }
    throw system_error("fork failed", error);
  }
  if (pid == 0) {
    // The child gets its own process group, so that a timeout also ends its descendants.
    ::setpgid(0, 0);
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD}) {
      ::sigaction(sig, &default_action, nullptr);
    }
    ::dup2(in_fd, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
      ExecFailure failure{0, errno};
      write_all(status_pipe[1], &failure, sizeof failure);
      ::_exit(127);
    }
    ::execve(program.c_str(), child_argv.data(), child_env.data());
    ExecFailure failure{1, errno};
    write_all(status_pipe[1], &failure, sizeof failure);
    ::_exit(127);
  }

  ::setpgid(pid, pid);  // also here: whichever of parent and child runs first
  ::close(in_fd);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(status_pipe[1]);
  m_pid = pid;
  m_out_fd = out_pipe[0];
  m_err_fd = err_pipe[0];

  // The status pipe closes on a successful exec (O_CLOEXEC) and carries the error otherwise.
  ExecFailure failure{};
  ssize_t n;
  do {
    n = ::read(status_pipe[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  ::close(status_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    close_fd(m_out_fd);
    close_fd(m_err_fd);
    m_pid = -1;
    throw system_error(
        failure.stage == 0 ? "cannot change to folder " + cwd : "cannot run " + program,
        failure.error);
  }

  std::lock_guard guard(g_deadlines_mutex);
  deadlines()[m_pid] = Clock::now() + options.timeout;
}

Child::~Child() {
  if (m_pid > 0) {
    if (!m_result) {
      ::kill(-m_pid, SIGKILL);
      ::kill(m_pid, SIGKILL);
      int status = 0;
      while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    // Descendants that outlived the child (its process group id stays reserved while any
    // member lives, so this cannot hit an unrelated process).
    ::kill(-m_pid, SIGKILL);
    std::lock_guard guard(g_deadlines_mutex);
    deadlines().erase(m_pid);
  }
  close_fd(m_out_fd);
  close_fd(m_err_fd);
}

void Child::kill(int signal) {
  if (m_pid > 0 && !m_result) ::kill(m_pid, signal);
}

RunResult Child::wait() {
  if (m_result) return *m_result;
  Clock::time_point deadline;
  {
    std::lock_guard guard(g_deadlines_mutex);
    auto it = deadlines().find(m_pid);
    deadline = it == deadlines().end() ? Clock::now() + std::chrono::seconds(120) : it->second;
  }

  RunResult result;
  int status = 0;
  bool exited = false;
  bool timed_out = false;
  Clock::time_point last_activity = Clock::now();
  char buffer[65536];

  while (m_out_fd >= 0 || m_err_fd >= 0) {
    const auto now = Clock::now();
    if (!exited) {
      pid_t r = ::waitpid(m_pid, &status, WNOHANG);
      if (r == m_pid) {
        exited = true;
        last_activity = now;
      } else if (now >= deadline) {
        ::kill(-m_pid, SIGKILL);
        ::kill(m_pid, SIGKILL);
        while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
        }
        exited = true;
        timed_out = true;
        last_activity = now;
      }
    }
    if (exited && now - last_activity > k_drain_after_exit) break;

    pollfd fds[2];
    nfds_t count = 0;
    for (int fd : {m_out_fd, m_err_fd}) {
      if (fd >= 0) fds[count++] = pollfd{fd, POLLIN, 0};
    }
    int ready = ::poll(fds, count, 50);
    if (ready < 0 && errno != EINTR) throw system_error("poll failed");
    if (ready <= 0) continue;
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      int& fd = fds[i].fd == m_out_fd ? m_out_fd : m_err_fd;
      std::string& sink = fds[i].fd == m_out_fd ? result.out : result.err;
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        close_fd(fd);
      } else {
        sink.append(buffer, static_cast<std::size_t>(n));
        last_activity = Clock::now();
      }
    }
  }
  close_fd(m_out_fd);
  close_fd(m_err_fd);
  if (!exited) {
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
  }

  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  if (timed_out) result.err += "\n[test harness: killed with SIGKILL when the timeout passed]\n";
  m_result = result;
  return result;
}

// --- Engine under test ------------------------------------------------------------------------

// The integration binaries are compiled with DBINIT_TEST_ENGINE, but this library is not (it is
// shared by all of them), so the engine is taken from the binary's name, `integration_<engine>`,
// which tests/CMakeLists.txt gives it together with the definition. Other binaries (unit_tests)
// may name one in the environment variable DBINIT_TEST_ENGINE; the default is sqlite, which needs
// no server.
std::string test_engine() {
  std::error_code ec;
  std::string exe = fs::read_symlink("/proc/self/exe", ec).filename().string();
  constexpr std::string_view k_prefix = "integration_";
  if (!ec && exe.starts_with(k_prefix)) return exe.substr(k_prefix.size());
  if (const char* engine = std::getenv("DBINIT_TEST_ENGINE"); engine != nullptr && *engine) {
    return engine;
  }
  return "sqlite";
}

std::string test_server_file(std::string_view engine, const std::string& name) {
  const std::string path =
      std::string(DBINIT_TEST_SERVERS_DIR) + "/" + std::string(engine) + "/" + name;
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    throw std::runtime_error(path + " does not exist: run the tests through ctest");
  }
  return line;
}

std::string with_authority(const std::string& url, const std::string& authority) {
  const std::size_t start = url.find("//") + 2;
  const std::size_t end = url.find_first_of("/?", start);
  return url.substr(0, start) + authority + url.substr(end);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace dbinit::test
