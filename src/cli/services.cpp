#include "cli/services.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "util/error.h"

extern char** environ;

namespace dbinit::cli {

namespace {

using nlohmann::json;

constexpr const char* k_summary_variable = "DBINIT_SUMMARY_FD";
/// The descriptor on which a child writes its summary line.
constexpr int k_summary_fd = 3;

int g_summary_fd = -1;

// A pipe whose two ends are close-on-exec and numbered above the descriptors a child is given
// (0-3), so that the child's dup2() calls never meet them.
void make_pipe(int fds[2]) {
  int raw[2];
  if (pipe2(raw, O_CLOEXEC) != 0) {
    throw Error(ErrorKind::failure, fmt::format("cannot create a pipe: {}", std::strerror(errno)));
  }
  for (int i = 0; i < 2; ++i) {
    fds[i] = fcntl(raw[i], F_DUPFD_CLOEXEC, 10);
    ::close(raw[i]);
    if (fds[i] < 0) {
      throw Error(ErrorKind::failure,
                  fmt::format("cannot create a pipe: {}", std::strerror(errno)));
    }
  }
}

struct ServiceRun {
  std::string name;
  bool has_url = false;
  pid_t pid = -1;
  // Read ends: the child's stdout, stderr and summary channel; -1 once closed.
  std::array<int, 3> fds = {-1, -1, -1};
  std::array<std::string, 3> partial;
  std::string stdout_text;  // with --json: the child's whole stdout
  std::string summary;
  std::string last_error;
  std::string last_note;
  int exit_code = -1;
  bool running = false;

  bool open() const {
    return std::any_of(fds.begin(), fds.end(), [](int fd) { return fd >= 0; });
  }
};

class AllServices {
 public:
  AllServices(const Common& common, std::vector<ServiceInfo> services) : m_common(common) {
    for (ServiceInfo& service : services) {
      ServiceRun run;
      run.name = std::move(service.name);
      run.has_url = service.has_url;
      m_runs.push_back(std::move(run));
    }
  }

  int run(const std::vector<std::string>& args, std::size_t jobs);

 private:
  void start(ServiceRun& run, const std::vector<std::string>& args);
  void read_ready(const std::vector<pollfd>& polled,
                  const std::vector<std::pair<ServiceRun*, int>>& owners);
  void line(ServiceRun& run, int stream, std::string_view text);
  void finish(ServiceRun& run);
  std::string summary_of(const ServiceRun& run) const;
  int report();

  const Common& m_common;
  std::vector<ServiceRun> m_runs;
};

std::vector<std::string> child_environment() {
  std::vector<std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    std::string_view name = text.substr(0, text.find('='));
    // The URL variables are passed on: a child picks its URL as `--service NAME` does
    // (resolve_settings()), where a service's own `url` wins over them.
    if (name == k_summary_variable || name == "DBINIT_SERVICE") continue;
    out.emplace_back(text);
  }
  out.push_back(fmt::format("{}={}", k_summary_variable, k_summary_fd));
  return out;
}

void AllServices::start(ServiceRun& run, const std::vector<std::string>& args) {
  std::vector<std::string> words;
  words.push_back("dbinit");
  words.insert(words.end(), args.begin(), args.end());
  words.push_back("--service");
  words.push_back(run.name);
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  std::vector<std::string> environment = child_environment();
  std::vector<char*> envp;
  for (std::string& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);

  int out[2], err[2], summary[2];
  make_pipe(out);
  make_pipe(err);
  make_pipe(summary);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // No prompts in parallel runs: a child reads nothing, so confirmation must come from --yes.
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  posix_spawn_file_actions_adddup2(&actions, summary[1], k_summary_fd);
  const int rc =
      posix_spawn(&run.pid, "/proc/self/exe", &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  ::close(summary[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    ::close(summary[0]);
    run.exit_code = 1;
    run.last_error =
        fmt::format("error: cannot start dbinit for the service: {}", std::strerror(rc));
    return;
  }
  run.fds = {out[0], err[0], summary[0]};
  run.running = true;
}

void AllServices::line(ServiceRun& run, int stream, std::string_view text) {
  if (stream == 2) {
    if (!text.empty()) run.summary = std::string(text);
    return;
  }
  if (stream == 0) {
    if (m_common.json) {
      run.stdout_text.append(text);
      run.stdout_text += '\n';
    } else {
      print_out(fmt::format("[{}] {}\n", run.name, text));
    }
    return;
  }
  print_err(fmt::format("[{}] {}\n", run.name, text));
  constexpr std::string_view k_prefix = "dbinit: ";
  if (text.starts_with("dbinit: error: ")) {
    run.last_error = std::string(text.substr(k_prefix.size()));
  } else if (text.starts_with(k_prefix) && !text.starts_with("dbinit: warning: ") &&
             !text.starts_with("dbinit: detail: ")) {
    run.last_note = std::string(text.substr(k_prefix.size()));
  }
}

void AllServices::read_ready(const std::vector<pollfd>& polled,
                             const std::vector<std::pair<ServiceRun*, int>>& owners) {
  char buffer[65536];
  for (std::size_t i = 0; i < polled.size(); ++i) {
    if (polled[i].revents == 0) continue;
    auto [run, stream] = owners[i];
    int& fd = run->fds[static_cast<std::size_t>(stream)];
    std::string& partial = run->partial[static_cast<std::size_t>(stream)];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (!partial.empty()) line(*run, stream, partial);
      partial.clear();
      ::close(fd);
      fd = -1;
      continue;
    }
    partial.append(buffer, static_cast<std::size_t>(n));
    std::size_t begin = 0;
    for (std::size_t end; (end = partial.find('\n', begin)) != std::string::npos; begin = end + 1) {
      line(*run, stream, std::string_view(partial).substr(begin, end - begin));
    }
    partial.erase(0, begin);
  }
}

void AllServices::finish(ServiceRun& run) {
  int status = 0;
  while (waitpid(run.pid, &status, 0) < 0) {
    if (errno != EINTR) {
      status = 1 << 8;
      break;
    }
  }
  run.running = false;
  if (WIFEXITED(status)) {
    run.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    run.exit_code = 128 + WTERMSIG(status);
    run.last_error = fmt::format("error: killed by signal {}", WTERMSIG(status));
  } else {
    run.exit_code = 1;
  }
}

int AllServices::run(const std::vector<std::string>& args, std::size_t jobs) {
  std::size_t next = 0;
  std::size_t running = 0;
  while (true) {
    while (running < jobs && next < m_runs.size()) {
      start(m_runs[next], args);
      if (m_runs[next].running) ++running;
      ++next;
    }
    std::vector<pollfd> polled;
    std::vector<std::pair<ServiceRun*, int>> owners;
    bool finished = false;
    for (ServiceRun& run : m_runs) {
      if (!run.running) continue;
      if (!run.open()) {
        finish(run);
        --running;
        finished = true;
        continue;
      }
      for (int stream = 0; stream < 3; ++stream) {
        const int fd = run.fds[static_cast<std::size_t>(stream)];
        if (fd >= 0) {
          polled.push_back({fd, POLLIN, 0});
          owners.emplace_back(&run, stream);
        }
      }
    }
    if (polled.empty() && next >= m_runs.size() && running == 0) break;
    if (finished || polled.empty()) continue;  // start the next services first
    if (poll(polled.data(), polled.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorKind::failure, fmt::format("poll failed: {}", std::strerror(errno)));
    }
    read_ready(polled, owners);
  }
  return report();
}

std::string AllServices::summary_of(const ServiceRun& run) const {
  if (run.exit_code == 0) {
    if (!run.summary.empty()) return run.summary;
    if (!run.last_note.empty()) return run.last_note;
    return "done";
  }
  std::string text = !run.last_error.empty() ? run.last_error : std::string("error: failed");
  return fmt::format("{} (exit {})", text, run.exit_code);
}

int AllServices::report() {
  int failed = 0;
  std::optional<int> common_code;
  bool mixed = false;
  for (const ServiceRun& run : m_runs) {
    if (run.exit_code == 0) continue;
    ++failed;
    if (common_code && *common_code != run.exit_code) mixed = true;
    if (!common_code) common_code = run.exit_code;
  }
  const int exit_code = failed == 0 ? 0 : mixed ? 1 : *common_code;

  if (m_common.json) {
    json out = {{"services", json::array()}, {"failed", failed}, {"exit_code", exit_code}};
    for (const ServiceRun& run : m_runs) {
      json item = {{"name", run.name},
                   {"exit_code", run.exit_code},
                   {"summary", summary_of(run)},
                   {"result", nullptr}};
      if (!run.stdout_text.empty()) {
        json parsed = json::parse(run.stdout_text, nullptr, false);
        if (parsed.is_discarded()) {
          item["output"] = run.stdout_text;
        } else {
          item["result"] = std::move(parsed);
        }
      }
      out["services"].push_back(std::move(item));
    }
    print_json(out);
  }
  for (const ServiceRun& run : m_runs) {
    if (run.exit_code == 0 && m_common.quiet) continue;
    print_err(fmt::format("dbinit: {}: {}\n", run.name, summary_of(run)));
  }
  if (failed > 0) {
    print_err(fmt::format("dbinit: {} of {} services failed\n", failed, m_runs.size()));
  }
  return exit_code;
}

// The arguments for a child: the caller's, without --all and --jobs (the child gets --service).
std::vector<std::string> child_arguments(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--all" || arg.starts_with("--jobs=")) continue;
    if (arg == "--jobs") {
      ++i;
      continue;
    }
    out.push_back(arg);
  }
  return out;
}

std::size_t parse_jobs(const std::optional<std::string>& text) {
  if (!text) return std::max(1u, std::thread::hardware_concurrency());
  std::size_t jobs = 0;
  bool ok = !text->empty() && text->size() <= 4;
  for (char c : *text) {
    if (c < '0' || c > '9') ok = false;
    if (ok) jobs = jobs * 10 + static_cast<std::size_t>(c - '0');
  }
  if (!ok || jobs == 0) {
    throw Error(
        ErrorKind::usage,
        fmt::format("--jobs {}: the number of services at a time is a number from 1", *text));
  }
  return jobs;
}

}  // namespace

int run_all_services(const Common& common, const std::string& command) {
  if (command == "run" || command == "new") {
    Error error(ErrorKind::usage, fmt::format("--all is not accepted by `dbinit {}`", command));
    error.hint = command == "run"
                     ? "run one service per container: dbinit run --service NAME -- COMMAND"
                     : "pick the service's folder with --service NAME";
    throw error;
  }
  if (common.flags.service) {
    throw Error(ErrorKind::usage, "--all and --service NAME exclude each other");
  }
  if (common.flags.url) {
    // One URL for every service would run every service's migrations on one database.
    Error error(ErrorKind::usage, "--all and --url exclude each other");
    error.state = "nothing was changed";
    error.hint =
        "give each service its url in dbinit.toml, or run one service with --service NAME --url "
        "URL";
    throw error;
  }
  const std::size_t jobs = parse_jobs(common.flags.jobs);
  std::vector<ServiceInfo> services = list_services(common.flags, process_environment());
  AllServices all(common, std::move(services));
  return all.run(child_arguments(common.args), jobs);
}

void take_summary_channel() {
  const char* value = std::getenv(k_summary_variable);
  if (value == nullptr) return;
  const int fd = std::atoi(value);
  unsetenv(k_summary_variable);
  if (fd < 3 || fcntl(fd, F_GETFD) < 0) return;
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  g_summary_fd = fd;
}

void report_summary(std::string_view line) {
  if (g_summary_fd < 0) return;
  std::string text(line);
  text += '\n';
  const char* data = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(g_summary_fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace dbinit::cli
