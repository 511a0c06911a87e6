#include "core/down.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/guard.h"
#include "util/elapsed.h"
#include "util/error.h"
#include "util/text.h"

namespace dbinit {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

bool rolled_back_state(MigrationState state) {
  return state == MigrationState::applied || state == MigrationState::baseline ||
         state == MigrationState::changed || state == MigrationState::missing;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// The first three of `names`, then how many more: `a.sql, b.sql, c.sql and 197 more`.
std::string first_names(const std::vector<std::string>& names) {
  constexpr std::size_t k_shown = 3;
  if (names.size() <= k_shown + 1) return join_names(names);
  return fmt::format("{} and {} more",
                     join_names(std::vector<std::string>(names.begin(), names.begin() + k_shown)),
                     names.size() - k_shown);
}

bool needs_own_step(const DownStep& step) {
  return step.directives.no_transaction || step.directives.foreign_keys_off;
}

// Fills the SQL of `step` from the file's down section, else from the ledger's down_sql. An empty
// down (a golang-migrate `.down.sql` file without statements, or '' recorded in the ledger) is a
// rollback that runs nothing; only a missing one (nullopt, NULL) returns false.
bool resolve_down_sql(const StatusRow& row, DownStep& step) {
  if (row.migration && row.migration->down_sql) {
    const Migration& migration = *row.migration;
    step.sql = *migration.down_sql;
    step.first_line = migration.down_line;
    step.source = migration.down_display.value_or(migration.display);
    step.directives = migration.directives;
    return true;
  }
  if (row.entry->down_sql) {
    step.sql = *row.entry->down_sql;
    step.first_line = 1;
    step.source = fmt::format("{} (down_sql recorded in the ledger)", row.entry->name);
    step.from_ledger = true;
    if (row.migration) step.directives = row.migration->directives;
    return true;
  }
  return false;
}

}  // namespace

DownPlan plan_down(const Status& status, int steps, const std::optional<Version>& to) {
  for (const StatusRow& row : status.rows) {
    if (row.state != MigrationState::failed) continue;
    Error error(ErrorKind::needs_repair,
                fmt::format("migration {} did not finish: {}", row.name(),
                            row.entry->error.value_or("no error was recorded")));
    error.state = "nothing was changed";
    error.hint = failed_migration_hint(row.version) + ", before rolling back";
    throw error;
  }
  if (to && *to != Version("0") &&
      std::none_of(status.rows.begin(), status.rows.end(),
                   [&](const StatusRow& row) { return row.version == *to; })) {
    Error error(ErrorKind::usage, fmt::format("--to {}: no migration has that version", to->str()));
    error.hint = "run `dbinit status` to list the versions; --to 0 rolls back every migration";
    throw error;
  }

  // Applied rows, newest first.
  std::vector<const StatusRow*> applied;
  for (auto it = status.rows.rbegin(); it != status.rows.rend(); ++it) {
    if (it->entry && rolled_back_state(it->state)) applied.push_back(&*it);
  }
  DownPlan plan;
  plan.applied = static_cast<int>(applied.size());
  std::size_t count = 0;
  if (to) {
    while (count < applied.size() && applied[count]->version > *to) ++count;
  } else {
    count = std::min(applied.size(), static_cast<std::size_t>(std::max(steps, 0)));
  }
  if (count < applied.size()) plan.version_after = applied[count]->version;

  std::vector<std::string> without_down;
  for (std::size_t i = 0; i < count; ++i) {
    const StatusRow& row = *applied[i];
    if (row.state == MigrationState::changed) {
      throw changed_migration_error(
          row, fmt::format("restore the file as it was applied, or accept the edit with `dbinit "
                           "repair --accept-checksum {}`, before rolling it back",
                           row.version.str()));
    }
    DownStep step;
    step.version = row.version;
    step.name = row.name();
    step.entry = row.entry;
    if (!resolve_down_sql(row, step)) {
      without_down.push_back(row.name());
      continue;
    }
    plan.steps.push_back(std::move(step));
  }
  if (!without_down.empty()) {
    Error error(ErrorKind::failure,
                fmt::format("cannot roll back {}: no down SQL (no down section in the file and "
                            "none recorded in the ledger)",
                            first_names(without_down)));
    error.state = "nothing was changed (no migration was rolled back)";
    error.hint =
        "add a `-- dbinit:down` section to the migration (editing the down section is not "
        "drift), or an empty .down.sql file next to a golang-migrate .up.sql file when there is "
        "nothing to undo; or roll back fewer migrations";
    throw error;
  }
  return plan;
}

namespace {

class DownRun {
 public:
  DownRun(const Project& project, const DownOptions& options, Reporter& reporter)
      : m_project(project), m_options(options), m_reporter(reporter) {}

  DownResult run();

 private:
  // Reads the ledger and plans; false when there is no ledger.
  bool load_and_plan();
  void confirm_if_production();
  Step rollback_step(const DownStep& step);

  const Project& m_project;
  const DownOptions& m_options;
  Reporter& m_reporter;
  std::unique_ptr<Engine> m_engine;
  MigrationSet m_files;
  std::vector<LedgerEntry> m_ledger;
  Status m_status;
  DownPlan m_plan;
  DownResult m_result;
};

bool DownRun::load_and_plan() {
  std::optional<std::vector<LedgerEntry>> ledger = m_engine->read_ledger();
  m_plan = DownPlan{};
  if (!ledger) return false;
  m_ledger = std::move(*ledger);
  m_status = compute_status(m_files.migrations, m_ledger);
  m_plan = plan_down(m_status, m_options.steps, m_options.to);
  return true;
}

void DownRun::confirm_if_production() {
  GuardInput guard;
  guard.operation = "down";
  guard.target = m_result.url;
  guard.environment = m_project.environment;
  guard.recorded = m_engine->meta(k_meta_environment);
  guard.requires_development = false;
  guard.confirmed = m_options.confirmed;
  GuardDecision decision = evaluate_guard(guard);
  if (decision.verdict == GuardVerdict::allowed) return;
  std::vector<std::string> names;
  for (const DownStep& step : m_plan.steps) names.push_back(step.name);
  if (m_options.ask) {
    // Only a missing confirmation can refuse a rollback; the name typed gives it.
    const std::string name = m_project.url.database;
    if (trim(m_options.ask(name, guard.target)) == name) return;
    decision.failures.push_back(prompt_mismatch(name));
  }
  Error error = guard_refusal(guard, decision);
  error.hint +=
      fmt::format("; rolling back may drop data (it would roll back {})", join_names(names));
  throw error;
}

// Runs the down SQL; the session removes the ledger row in the same transaction (or, for a step
// that cannot be rolled back, once it completed, after a `failed` "rollback in progress" row).
Step DownRun::rollback_step(const DownStep& step) {
  const Script script{step.sql, step.source, step.first_line};
  Step out;
  out.kind = StepKind::rollback;
  out.label = step.name;
  out.no_transaction = step.directives.no_transaction;
  out.foreign_keys_off = step.directives.foreign_keys_off;
  out.rolls_back = !out.no_transaction && m_engine->rolls_back(script);
  out.removes = {step.version.str()};
  out.hint = "fix the down section of the migration and start again";
  if (!out.rolls_back) {
    LedgerEntry mark = *step.entry;
    mark.state = LedgerState::failed;
    mark.error = fmt::format(
        "rollback in progress since {} ({}); if no dbinit is running, it was interrupted",
        utc_now_iso8601(), m_project.applied_by);
    out.mark = std::move(mark);
    out.mark_prefix = "rollback failed: ";
    out.repair_hint = fmt::format(
        "look at what those statements changed and finish the rollback by hand, then run `dbinit "
        "repair --forget-failed {0}`; or undo them and run `dbinit repair --mark-applied {0}`",
        step.version.str());
  }
  out.run = [this, &step, script](Engine& engine, Step&) {
    const Clock::time_point start = Clock::now();
    engine.execute(script);
    const std::int64_t ms = elapsed_ms(start);
    m_result.rolled_back.push_back({step.version.str(), step.name, ms, step.from_ledger});
    m_reporter.note(fmt::format("rolled back {} ({} ms{})", step.name, ms,
                                step.from_ledger ? ", down SQL from the ledger" : ""));
  };
  return out;
}

DownResult DownRun::run() {
  const Clock::time_point start = Clock::now();
  m_result.engine = m_project.url.engine;
  m_result.url = m_project.url.redacted();
  auto finish = [&] {
    m_result.duration_ms = elapsed_ms(start);
    return std::move(m_result);
  };

  m_files = load_migrations(m_project.migrations_dir, m_project.url.engine,
                            m_project.migrations_dir.string());
  OpenResult opened = OpenResult::missing;
  std::tie(m_engine, opened) = connect(m_project, false, m_options.connect, m_reporter);
  if (opened == OpenResult::missing) {
    m_result.nothing_reason = "the database does not exist";
    return finish();
  }
  if (!load_and_plan()) {
    m_result.nothing_reason = "the database has no dbinit ledger";
    return finish();
  }
  if (m_plan.steps.empty()) {
    m_result.version = m_status.current;
    m_result.nothing_reason =
        m_plan.applied == 0 ? "no migration is applied"
                            : fmt::format("the database is at version {}", m_status.current->str());
    return finish();
  }
  confirm_if_production();
  std::vector<std::string> confirmed;
  for (const DownStep& step : m_plan.steps) confirmed.push_back(step.version.str());

  const bool one_transaction =
      m_engine->transactional_ddl() && m_options.transaction == TransactionMode::all &&
      std::none_of(m_plan.steps.begin(), m_plan.steps.end(), needs_own_step);
  try {
    SessionOptions session_options;
    session_options.scope = one_transaction ? LockScope::transaction : LockScope::session;
    session_options.lock_timeout = m_options.lock_timeout;
    session_options.grouping = m_options.transaction;
    session_options.undone = "the rollback was undone";
    session_options.connect = m_options.connect;
    Session session(*m_engine, m_project, session_options, m_reporter);
    // Another process may have changed the ledger while we planned (or the user read the prompt).
    load_and_plan();
    std::vector<std::string> now;
    for (const DownStep& step : m_plan.steps) now.push_back(step.version.str());
    if (now != confirmed) {
      Error error(ErrorKind::failure,
                  "the ledger changed while this rollback waited for the migration lock");
      error.where = m_result.url;
      error.state = "nothing was changed";
      error.hint = "run `dbinit status`, then `dbinit down` again";
      throw error;
    }
    if (m_plan.steps.size() < static_cast<std::size_t>(m_options.steps) && !m_options.to) {
      m_reporter.warn(fmt::format("--steps {}: only {} applied", m_options.steps,
                                  m_plan.steps.size() == 1
                                      ? std::string("1 migration is")
                                      : fmt::format("{} migrations are", m_plan.steps.size())));
    }
    std::vector<Step> steps;
    for (const DownStep& step : m_plan.steps) steps.push_back(rollback_step(step));
    session.run(steps);
    session.finish();
  } catch (Error& error) {
    if (one_transaction) m_result.rolled_back.clear();
    if (error.where.empty()) error.where = m_result.url;
    if (error.state.empty()) error.state = "nothing was changed";
    if (error.hint.empty()) {
      error.hint = error.kind() == ErrorKind::lock_timeout
                       ? "another dbinit is migrating this database; wait for it or raise "
                         "--lock-timeout"
                   : error.kind() == ErrorKind::unreachable
                       ? "the server went away; start again once it is back"
                       : "fix the down section of the migration and start again";
    }
    throw;
  }
  m_result.version = m_plan.version_after;
  return finish();
}

}  // namespace

DownResult run_down(const Project& project, const DownOptions& options, Reporter& reporter) {
  DownRun run(project, options, reporter);
  return run.run();
}

}  // namespace dbinit
