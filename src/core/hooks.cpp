#include "core/hooks.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

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

Error hook_error(const HookRun& run, const HookCommand& hook, std::string what) {
  Error error(ErrorKind::failure,
              fmt::format("{} hook `{}` {}", run.event, describe_command(hook), what));
  error.state = run.state;
  error.hint =
      "fix the hook and run it again by hand, or run `dbinit up` again (it runs the hooks after "
      "every up that succeeds); --skip-hooks or DBINIT_SKIP_HOOKS=1 leaves them out";
  return error;
}

void run_one(const HookCommand& hook, const HookRun& run, char* const* envp) {
  if (hook.empty()) throw hook_error(run, hook, "is empty");
  std::vector<std::string> words = hook;
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw hook_error(run, hook, fmt::format("cannot start: {}", std::strerror(rc)));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      throw hook_error(run, hook, fmt::format("cannot be waited for: {}", std::strerror(errno)));
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  if (WIFEXITED(status)) {
    throw hook_error(run, hook, fmt::format("failed with exit code {}", WEXITSTATUS(status)));
  }
  if (WIFSIGNALED(status)) {
    throw hook_error(run, hook, fmt::format("was killed by {}", signal_name(WTERMSIG(status))));
  }
  throw hook_error(run, hook, "ended abnormally");
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
  for (const HookCommand& hook : hooks) {
    reporter.note(fmt::format("running {} hook `{}`", run.event, describe_command(hook)));
    const Clock::time_point start = Clock::now();
    run_one(hook, run, envp.data());
    reporter.detail(fmt::format(
        "{} hook `{}` finished ({} ms)", run.event, describe_command(hook),
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()));
  }
}

}  // namespace dbinit
