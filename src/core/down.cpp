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
    error.hint = fmt::format(
        "inspect the database and undo or complete what the migration did, then run `dbinit "
        "repair --forget-failed {0}` or `dbinit repair --mark-applied {0}` before rolling back",
        row.version.str());
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
  void roll_back(const DownStep& step);
  void roll_back_guarded(const DownStep& step);
  void run_in_steps();
  std::string committed_state() const;

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

std::string DownRun::committed_state() const {
  if (m_result.rolled_back.empty()) return "nothing was changed";
  return fmt::format(
      "{} was rolled back and committed",
      m_result.rolled_back.size() == 1
          ? m_result.rolled_back.front().name
          : fmt::format("{} migrations ({} to {})", m_result.rolled_back.size(),
                        m_result.rolled_back.front().name, m_result.rolled_back.back().name));
}

// Runs the down SQL and removes the ledger row, in whatever transaction is open.
void DownRun::roll_back(const DownStep& step) {
  const Clock::time_point start = Clock::now();
  m_engine->execute(Script{step.sql, step.source, step.first_line});
  m_engine->remove(step.version.str());
  const std::int64_t ms = elapsed_ms(start);
  m_result.rolled_back.push_back({step.version.str(), step.name, ms, step.from_ledger});
  m_reporter.note(fmt::format("rolled back {} ({} ms{})", step.name, ms,
                              step.from_ledger ? ", down SQL from the ledger" : ""));
}

// A rollback that cannot be undone if it fails half-way: the ledger row says `failed` / "rollback
// in progress" before its first statement runs and is removed only after the last one.
void DownRun::roll_back_guarded(const DownStep& step) {
  LedgerEntry entry = *step.entry;
  entry.state = LedgerState::failed;
  entry.error =
      fmt::format("rollback in progress since {} ({}); if no dbinit is running, it was interrupted",
                  utc_now_iso8601(), m_project.applied_by);
  m_engine->record(entry);
  try {
    roll_back(step);
  } catch (Error& error) {
    entry.error = fmt::format("rollback failed: {}{} after {} completed statement{}",
                              error.where.empty() ? "" : error.where + ": ", error.message(),
                              error.statements_done, error.statements_done == 1 ? "" : "s");
    try {
      m_engine->record(entry);
    } catch (const Error&) {
      // The "in progress" row stays; it still blocks later runs, which is what matters.
    }
    error.state = fmt::format(
        "{}; the rollback of {} ran outside a transaction and is recorded as failed after {} of "
        "its statements completed",
        committed_state(), step.name, error.statements_done);
    error.hint = fmt::format(
        "look at what those statements changed and finish the rollback by hand, then run `dbinit "
        "repair --forget-failed {0}`; or undo them and run `dbinit repair --mark-applied {0}`",
        step.version.str());
    throw;
  }
}

// Several transactions: one per migration with `--transaction each`, and a step of its own for
// every down that needs one (no-transaction, foreign keys off) or that the engine cannot roll
// back (MySQL DDL). Runs under the session lock.
void DownRun::run_in_steps() {
  const bool transactional = m_engine->transactional_ddl();
  bool open = false;
  std::size_t group_first = 0;
  bool foreign_keys_off = false;
  auto open_group = [&] {
    m_engine->begin();
    open = true;
    group_first = m_result.rolled_back.size();
  };
  auto close_group = [&] {
    if (open) m_engine->commit();
    open = false;
  };
  try {
    for (const DownStep& step : m_plan.steps) {
      const Script script{step.sql, step.source, step.first_line};
      if (transactional && !needs_own_step(step)) {
        if (m_options.transaction == TransactionMode::each) close_group();
        if (!open) open_group();
        roll_back(step);
        continue;
      }
      close_group();
      if (step.directives.foreign_keys_off && !step.directives.no_transaction && transactional) {
        m_engine->set_foreign_keys(false);
        foreign_keys_off = true;
        open_group();
        roll_back(step);
        m_engine->check_foreign_keys();
        close_group();
        m_engine->set_foreign_keys(true);
        foreign_keys_off = false;
      } else if (!step.directives.no_transaction && m_engine->rolls_back(script)) {
        open_group();
        roll_back(step);
        close_group();
      } else {
        roll_back_guarded(step);
      }
    }
    close_group();
  } catch (Error& error) {
    if (open) {
      m_engine->rollback();
      m_result.rolled_back.resize(group_first);
    }
    if (foreign_keys_off) m_engine->set_foreign_keys(true);
    if (error.state.empty()) {
      error.state = m_result.rolled_back.empty()
                        ? "nothing was changed (the failing step was rolled back)"
                        : committed_state() + "; the failing step was rolled back";
    }
    throw;
  }
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
  bool locked = false;
  try {
    if (one_transaction) {
      m_engine->begin_locked(m_options.lock_timeout);
    } else {
      m_engine->lock(m_options.lock_timeout);
    }
    locked = true;
    // Another process may have changed the ledger while we planned (or the user read the prompt).
    load_and_plan();
    std::vector<std::string> now;
    for (const DownStep& step : m_plan.steps) now.push_back(step.version.str());
    if (now != confirmed) {
      Error error(ErrorKind::failure,
                  "the ledger changed while this rollback waited for the migration lock");
      error.where = m_result.url;
      error.hint = "run `dbinit status`, then `dbinit down` again";
      throw error;
    }
    if (m_plan.steps.size() < static_cast<std::size_t>(m_options.steps) && !m_options.to) {
      m_reporter.warn(fmt::format("--steps {}: only {} applied", m_options.steps,
                                  m_plan.steps.size() == 1
                                      ? std::string("1 migration is")
                                      : fmt::format("{} migrations are", m_plan.steps.size())));
    }
    if (one_transaction) {
      for (const DownStep& step : m_plan.steps) roll_back(step);
      locked = false;  // the commit ends the transaction that holds the lock
      m_engine->commit();
    } else {
      run_in_steps();
      locked = false;
      m_engine->unlock();
    }
  } catch (Error& error) {
    if (one_transaction) {
      if (locked) m_engine->rollback();
      m_result.rolled_back.clear();
      if (error.kind() != ErrorKind::lock_timeout) {
        error.state = "nothing was changed (the rollback was undone)";
      }
    } else if (locked) {
      m_engine->unlock();
    }
    if (error.where.empty()) error.where = m_result.url;
    if (error.state.empty()) error.state = "nothing was changed";
    if (error.hint.empty()) {
      error.hint = error.kind() == ErrorKind::lock_timeout
                       ? "another dbinit is migrating this database; wait for it or raise "
                         "--lock-timeout"
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
