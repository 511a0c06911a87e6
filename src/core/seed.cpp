#include "core/seed.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/guard.h"
#include "core/session.h"
#include "util/elapsed.h"
#include "util/error.h"
#include "util/files.h"

namespace dbinit {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::vector<fs::path> find_seeds(const fs::path& dir) {
  return list_sql_files(dir);
}

void apply_seed_files(Engine& engine, const std::vector<fs::path>& files, Reporter& reporter,
                      std::vector<std::string>& applied, bool* atomic) {
  for (const fs::path& file : files) {
    const Clock::time_point start = Clock::now();
    const std::string text = read_sql_file(file);
    const Script script{text, file.string(), 1};
    if (atomic != nullptr && !engine.rolls_back(script)) *atomic = false;
    try {
      engine.restore(script);
    } catch (Error& error) {
      if (error.hint.empty()) error.hint = "fix the seed and start again";
      throw;
    }
    applied.push_back(file.string());
    reporter.note(fmt::format("applied seed {} ({} ms)", file.string(), elapsed_ms(start)));
  }
}

SeedResult run_seed(const Project& project, const SeedOptions& options, Reporter& reporter) {
  const Clock::time_point start = Clock::now();
  SeedResult result;
  result.url = project.url.redacted();
  const std::vector<fs::path> files = find_seeds(project.seeds_dir);

  auto [engine, opened] = connect(project, false, options.connect, reporter);
  if (opened == OpenResult::missing) {
    Error error(ErrorKind::failure, "the database does not exist");
    error.where = result.url;
    error.state = "nothing was changed";
    error.hint = "run `dbinit up` first: it creates the database and seeds it while it is empty";
    throw error;
  }
  GuardInput guard;
  guard.operation = "seed";
  guard.target = result.url;
  guard.environment = project.environment;
  guard.recorded = engine->meta(k_meta_environment);
  guard.requires_development = false;
  guard.confirmed = options.confirmed;
  const GuardDecision decision = evaluate_guard(guard);
  if (decision.verdict != GuardVerdict::allowed) throw guard_refusal(guard, decision);
  if (files.empty()) {
    result.duration_ms = elapsed_ms(start);
    return result;
  }

  // One transaction under the migration lock (MySQL: the session lock, held until commit).
  Step step;
  step.kind = StepKind::seeds;
  step.label = "the seeds";
  for (const fs::path& file : files) {
    const std::string text = read_sql_file(file);
    if (!engine->rolls_back(Script{text, file.string(), 1})) step.rolls_back = false;
  }
  step.hint = "fix the seed and start again";
  step.run = [&](Engine& on, Step& self) {
    try {
      apply_seed_files(on, files, reporter, result.applied);
    } catch (const Error&) {
      self.partial_state = fmt::format(
          "the seeds ran outside a transaction (MySQL commits DDL at once): {} completed and the "
          "failing one may be applied in part",
          result.applied.empty() ? std::string("none")
                                 : fmt::format("{}", fmt::join(result.applied, ", ")));
      throw;
    }
  };
  SessionOptions session_options;
  session_options.scope = LockScope::transaction;
  session_options.lock_timeout = options.lock_timeout;
  session_options.undone = "the seeds were rolled back";
  session_options.connect = options.connect;
  try {
    Session session(*engine, project, session_options, reporter);
    session.run(std::span(&step, 1));
    session.finish();
  } catch (Error& error) {
    if (error.kind() == ErrorKind::lock_timeout && error.hint.empty()) {
      error.hint =
          "another dbinit is working on this database; wait for it or raise --lock-timeout";
    }
    throw;
  }
  result.duration_ms = elapsed_ms(start);
  return result;
}

}  // namespace dbinit
