#include "core/hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "engines/url.h"
#include "util/elapsed.h"
#include "util/error.h"

extern char** environ;

namespace dbinit {

namespace {

using Clock = std::chrono::steady_clock;

// dbinit's environment with `run.unset` and the names of `run.environment` removed, then
// `run.environment` added.
std::vector<std::string> hook_environment(const HookRun& run) {
  std::vector<std::string> out;
  auto dropped = [&](std::string_view name) {
    if (std::find(run.unset.begin(), run.unset.end(), name) != run.unset.end()) return true;
    return std::any_of(run.environment.begin(), run.environment.end(),
                       [&](const auto& pair) { return pair.first == name; });
  };
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    if (!dropped(text.substr(0, text.find('=')))) out.emplace_back(text);
  }
  for (const auto& [name, value] : run.environment) out.push_back(name + "=" + value);
  return out;
}

std::string signal_name(int signal) {
  const char* text = strsignal(signal);
  return text != nullptr ? fmt::format("signal {} ({})", signal, text)
                         : fmt::format("signal {}", signal);
}

// How messages show hook number `index`.
std::string shown(const HookRun& run, const std::vector<HookCommand>& hooks, std::size_t index) {
  if (index < run.as_written.size()) return describe_command(run.as_written[index]);
  return redact_passwords(describe_command(hooks[index]));
}

Error hook_error(const HookRun& run, const std::string& hook, std::string what) {
  Error error(ErrorKind::failure, fmt::format("{} hook `{}` {}", run.event, hook, what));
  error.state = run.state;
  error.hint =
      "fix the hook and run it again by hand, or run `dbinit up` again (it runs the hooks after "
      "every up that succeeds); --skip-hooks or DBINIT_SKIP_HOOKS=1 leaves them out";
  return error;
}

// Passes on the complete lines of `pending` (and, with `all`, the rest too), keeping the rest.
void relay_lines(std::string& pending, bool all, Reporter& reporter) {
  std::size_t begin = 0;
  for (std::size_t end; (end = pending.find('\n', begin)) != std::string::npos; begin = end + 1) {
    reporter.relay(std::string_view(pending).substr(begin, end - begin));
  }
  pending.erase(0, begin);
  if (all && !pending.empty()) {
    reporter.relay(pending);
    pending.clear();
  }
}

// Reads what is available on `fd` into `pending`: the number of bytes read, 0 at the end of the
// output (or on an error), -1 when nothing is there yet.
long read_some(int fd, std::string& pending) {
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      pending.append(buffer, static_cast<std::size_t>(n));
      return static_cast<long>(n);
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? -1 : 0;
  }
}

// Runs one hook (`name` is how messages show it) with its output on a pipe that is passed on
// line by line; throws hook_error() when it does not start or does not succeed.
void run_one(const HookCommand& hook, const std::string& name, const HookRun& run,
             char* const* envp, Reporter& reporter) {
  if (hook.empty()) throw hook_error(run, name, "is empty");
  std::vector<std::string> words = hook;
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);

  int output[2];
  if (pipe2(output, O_CLOEXEC) != 0) {
    throw hook_error(run, name, fmt::format("cannot start: {}", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, output[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, output[1], STDERR_FILENO);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  ::close(output[1]);
  if (rc != 0) {
    ::close(output[0]);
    throw hook_error(run, name, fmt::format("cannot start: {}", std::strerror(rc)));
  }
  fcntl(output[0], F_SETFL, fcntl(output[0], F_GETFL) | O_NONBLOCK);

  std::string pending;
  bool open = true;
  bool exited = false;
  int status = 0;
  int wait_error = 0;
  while (!exited) {
    if (open) {
      pollfd polled{output[0], POLLIN, 0};
      if (poll(&polled, 1, 100) > 0) {
        open = read_some(output[0], pending) != 0;
        relay_lines(pending, false, reporter);
      }
    }
    const pid_t done = waitpid(pid, &status, open ? WNOHANG : 0);
    if (done == pid) {
      exited = true;
    } else if (done < 0 && errno != EINTR) {
      wait_error = errno;
      exited = true;
    }
  }
  // What the hook wrote before it exited; a process it left running may keep the pipe open, so
  // only what is there now is read.
  while (open && read_some(output[0], pending) > 0) relay_lines(pending, false, reporter);
  relay_lines(pending, true, reporter);
  ::close(output[0]);

  if (wait_error != 0) {
    throw hook_error(run, name, fmt::format("cannot be waited for: {}", std::strerror(wait_error)));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  if (WIFEXITED(status)) {
    throw hook_error(run, name, fmt::format("failed with exit code {}", WEXITSTATUS(status)));
  }
  if (WIFSIGNALED(status)) {
    throw hook_error(run, name, fmt::format("was killed by {}", signal_name(WTERMSIG(status))));
  }
  throw hook_error(run, name, "ended abnormally");
}

}  // namespace

std::string describe_command(const HookCommand& command) {
  std::string out;
  for (const std::string& word : command) {
    if (!out.empty()) out += ' ';
    const bool plain = !word.empty() && word.find_first_of(" \t\n'\"\\$`") == std::string::npos;
    if (plain) {
      out += word;
      continue;
    }
    out += '\'';
    for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

void run_hooks(const std::vector<HookCommand>& hooks, const HookRun& run, Reporter& reporter) {
  if (hooks.empty()) return;
  std::vector<std::string> environment = hook_environment(run);
  std::vector<char*> envp;
  for (std::string& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  for (std::size_t i = 0; i < hooks.size(); ++i) {
    const std::string name = shown(run, hooks, i);
    reporter.note(fmt::format("running {} hook `{}`", run.event, name));
    const Clock::time_point start = Clock::now();
    run_one(hooks[i], name, run, envp.data(), reporter);
    reporter.detail(fmt::format("{} hook `{}` finished ({})", run.event, name,
                                duration_text(std::chrono::milliseconds(elapsed_ms(start)))));
  }
}

}  // namespace dbinit
