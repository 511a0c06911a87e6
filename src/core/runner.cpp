#include "core/runner.h"

#include <algorithm>
#include <ctime>
#include <thread>

#include <fmt/format.h>

#include "core/guard.h"
#include "core/seed.h"
#include "util/elapsed.h"
#include "util/error.h"
#include "util/files.h"
#include "util/text.h"

namespace dbinit {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string utc_now_iso8601() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

namespace {

std::string format_duration(milliseconds d) {
  return duration_text(d);
}

}  // namespace

std::pair<std::unique_ptr<Engine>, OpenResult> connect(const Project& project, bool create,
                                                       const ConnectOptions& options,
                                                       Reporter& reporter) {
  std::unique_ptr<Engine> engine = make_engine(project.url);
  const Clock::time_point start = Clock::now();
  Clock::time_point last_note = start;
  milliseconds backoff{100};
  while (true) {
    try {
      OpenResult result = engine->open(create);
      return {std::move(engine), result};
    } catch (Error& error) {
      if (error.kind() != ErrorKind::unreachable) throw;
      const milliseconds waited = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
      if (waited >= options.wait) {
        if (error.where.empty()) error.where = project.url.redacted();
        if (error.state.empty()) error.state = "nothing was changed";
        if (options.wait.count() > 0) {
          // The engine's hint suggests --wait; it was given, so say how long was waited instead.
          error.hint = fmt::format(
              "the server did not accept connections within {}; check that it is running and "
              "reachable, or wait longer with --wait",
              format_duration(options.wait));
        } else if (error.hint.empty()) {
          error.hint =
              "check that the server is running and reachable, or use --wait 30s to wait "
              "for it";
        }
        throw;
      }
      if (Clock::now() - last_note >= std::chrono::seconds(5) || last_note == start) {
        reporter.note(fmt::format("waiting for {}: {}", project.url.redacted(), error.message()));
        last_note = Clock::now();
      }
      if (options.between_attempts) options.between_attempts();
      std::this_thread::sleep_for(std::min(backoff, options.wait - waited));
      backoff = std::min(backoff * 2, milliseconds(2000));
    }
  }
}

Connected load_and_connect(const Project& project, bool create, const ConnectOptions& options,
                           Reporter& reporter) {
  // The files are read on a second thread while this one connects and reads the ledger, then this
  // one shares what is left: on a start with nothing to do, the two are most of the work.
  MigrationLoader loader(project.migrations_dir, project.url.engine,
                         project.migrations_dir.string());
  std::thread background([&loader] { loader.work(); });
  std::optional<MigrationSet> files;
  // Rethrows the loader's error, if any.
  auto take_files = [&] {
    if (files) return;
    loader.work();
    if (background.joinable()) background.join();
    files = loader.take();
  };
  struct JoinOnExit {
    std::thread& thread;
    ~JoinOnExit() {
      if (thread.joinable()) thread.join();
    }
  } join_on_exit{background};

  Connected connected;
  ConnectOptions first = options;
  // While waiting for a server, the files are checked first: a bad one is the error to report.
  first.between_attempts = [&] {
    take_files();
    if (options.between_attempts) options.between_attempts();
  };
  bool denied = false;
  try {
    std::tie(connected.engine, connected.opened) = connect(project, false, first, reporter);
    if (connected.opened != OpenResult::missing) connected.ledger = connected.engine->read_ledger();
  } catch (const Error& error) {
    take_files();  // a bad file is the error to report
    // MySQL tells a user without privileges on a database that does not exist "access denied";
    // creating it may still be allowed.
    if (!create || error.kind() != ErrorKind::auth) throw;
    denied = true;
  } catch (...) {
    take_files();
    throw;
  }
  take_files();
  if (denied) {
    std::tie(connected.engine, connected.opened) = connect(project, true, options, reporter);
  } else if (connected.opened == OpenResult::missing && create) {
    connected.opened = connected.engine->open(true);
  }
  connected.files = std::move(*files);
  return connected;
}

std::vector<fs::path> find_init_dump(const fs::path& init_path) {
  std::error_code ec;
  if (fs::is_regular_file(init_path, ec)) return {init_path};
  if (!fs::is_directory(init_path, ec)) return {};
  for (const char* name : {"init.sql", "init.sql.gz", "init.sql.zst"}) {
    if (fs::is_regular_file(init_path / name, ec)) return {init_path / name};
  }
  return list_sql_files(init_path);
}

namespace {

// One `up` run. Keeps the state that error messages need (what was committed so far) in one
// place, so that every failure can say exactly what state the database is in.
class UpRun {
 public:
  UpRun(const Project& project, const UpOptions& options, Reporter& reporter)
      : m_project(project), m_options(options), m_reporter(reporter) {}

  UpResult run();

 private:
  UpResult run_unguarded();
  void load_state(bool under_lock);
  void replan(bool under_lock);
  void restore_init_and_replan(bool one_transaction);
  // `reset` / `up --clean`: the guard, then the drop (or, with --dry-run, what it would do).
  void clean_database();
  void apply_seeds();
  // Seeds after a run split into steps: their own transaction, under the session lock.
  void apply_seeds_in_steps();
  // Verifies applied migrations against their files; throws drift / failed errors.
  void check_applied(const Status& status, bool under_lock) const;
  void run_in_steps();
  void record_environment();
  void restore_init();
  void apply_in_transaction(const Migration& migration);
  void apply_guarded(const Migration& migration);
  LedgerEntry ledger_entry(const Migration& migration, LedgerState state, std::int64_t duration_ms,
                           std::optional<std::string> error) const;
  void record(const Migration& migration, LedgerState state, std::int64_t duration_ms,
              std::optional<std::string> error);
  // Writes the ledger rows of the migrations applied in the open transaction, then commits it.
  void commit();
  void finish_applied(const Migration& migration, Clock::time_point start);
  std::string committed_state() const;

  const Project& m_project;
  const UpOptions& m_options;
  Reporter& m_reporter;
  std::unique_ptr<Engine> m_engine;
  OpenResult m_opened = OpenResult::missing;
  MigrationSet m_files;
  // The ledger as last read (nullopt: no ledger table) and whether the database is empty.
  std::optional<std::vector<LedgerEntry>> m_ledger;
  bool m_empty = true;
  Status m_status;
  UpPlan m_up;
  std::vector<fs::path> m_init;
  // Seeds to apply: those of the seeds folder when the database is empty and seeding is on.
  std::vector<fs::path> m_seeds;
  // The database is empty, has seeds, but the environment is production: they are not applied.
  bool m_seeds_withheld = false;
  // --dry-run with --clean: plan as if the database had been dropped.
  bool m_pretend_dropped = false;
  // Ledger rows of the migrations applied in the open transaction: written together just before
  // it commits (Engine::record_all, one statement for many on a server, where a row per
  // migration cost a round trip each).
  std::vector<LedgerEntry> m_unrecorded;
  // The ledger load_and_connect read, used by the first load_state().
  std::optional<std::vector<LedgerEntry>> m_read_ledger;
  bool m_ledger_read = false;
  std::vector<const Migration*> m_plan;
  UpResult m_result;
};

void UpRun::check_applied(const Status& status, bool under_lock) const {
  for (const StatusRow& row : status.rows) {
    // Before the lock, a `failed` row may be the "in progress" mark of a run that is still going:
    // only under the lock, with the ledger read again, does it mean that a run did not finish.
    if (row.state == MigrationState::failed && under_lock) {
      Error error(ErrorKind::needs_repair,
                  fmt::format("migration {} did not finish: {}", row.name(),
                              row.entry->error.value_or("no error was recorded")));
      error.where = m_project.url.redacted();
      error.state = "the database may hold part of that migration's changes";
      error.hint = fmt::format(
          "inspect the database and undo or complete what the migration did, then run `dbinit "
          "repair --forget-failed {0}` (to run it again) or `dbinit repair --mark-applied {0}`",
          row.version.str());
      throw error;
    }
  }
  for (const StatusRow& row : status.rows) {
    if (row.state == MigrationState::changed) {
      throw changed_migration_error(
          row, fmt::format("restore the file as it was applied and put the change in a new "
                           "migration (`dbinit new ...`), or, if the edit is harmless, accept it "
                           "with `dbinit repair --accept-checksum {}`",
                           row.version.str()));
    }
    if (row.state == MigrationState::missing && !m_options.allow_missing) {
      Error error(
          ErrorKind::drift,
          fmt::format("migration {} is recorded as applied but its file is missing", row.name()));
      error.where = (m_project.migrations_dir / row.name()).string();
      error.state = "nothing was changed";
      error.hint =
          "restore the file, or run with --allow-missing if it was removed on purpose (for "
          "example after a rollback to an older release)";
      throw error;
    }
  }
}

LedgerEntry UpRun::ledger_entry(const Migration& migration, LedgerState state,
                                std::int64_t duration_ms, std::optional<std::string> error) const {
  LedgerEntry entry;
  entry.version = migration.version.str();
  entry.name = migration.name;
  entry.checksum = migration.checksum;
  entry.state = state;
  entry.applied_at = utc_now_iso8601();
  entry.duration_ms = duration_ms;
  entry.applied_by = m_project.applied_by;
  entry.down_sql = migration.down_sql;
  entry.error = std::move(error);
  return entry;
}

void UpRun::record(const Migration& migration, LedgerState state, std::int64_t duration_ms,
                   std::optional<std::string> error) {
  m_engine->record(ledger_entry(migration, state, duration_ms, std::move(error)));
}

void UpRun::commit() {
  m_engine->record_all(m_unrecorded);
  m_unrecorded.clear();
  m_engine->commit();
}

void UpRun::finish_applied(const Migration& migration, Clock::time_point start) {
  const std::int64_t ms = elapsed_ms(start);
  m_result.applied.push_back({migration.version.str(), migration.name, ms});
  m_reporter.applied(migration, milliseconds(ms));
}

void UpRun::restore_init() {
  for (const fs::path& file : m_init) {
    const Clock::time_point start = Clock::now();
    const std::string text = read_sql_file(file);
    m_engine->restore(Script{text, file.string(), 1});
    m_result.restored.push_back(file.string());
    m_reporter.note(fmt::format("restored init dump {} ({})", file.string(),
                                format_duration(milliseconds(elapsed_ms(start)))));
  }
}

std::string UpRun::committed_state() const {
  if (m_result.applied.empty() && m_result.restored.empty()) return "nothing was changed";
  if (m_result.applied.empty()) return "the init dump was restored and committed";
  return fmt::format("migrations up to {} were applied and committed",
                     m_result.applied.back().name);
}

void UpRun::apply_in_transaction(const Migration& migration) {
  const Clock::time_point start = Clock::now();
  m_engine->execute(Script{migration.up_sql, migration.display, migration.up_line});
  m_unrecorded.push_back(
      ledger_entry(migration, LedgerState::applied, elapsed_ms(start), std::nullopt));
  finish_applied(migration, start);
}

// A migration that cannot be rolled back if it fails half-way: its ledger row says `failed` / "in
// progress" before the first statement runs, and only becomes `applied` after the last one.
void UpRun::apply_guarded(const Migration& migration) {
  const Clock::time_point start = Clock::now();
  record(migration, LedgerState::failed, 0,
         fmt::format("in progress since {} ({}); if no dbinit is running, it was interrupted",
                     utc_now_iso8601(), m_project.applied_by));
  try {
    m_engine->execute(Script{migration.up_sql, migration.display, migration.up_line});
  } catch (Error& error) {
    const std::string what = fmt::format(
        "{}{} after {} completed statement{}", error.where.empty() ? "" : error.where + ": ",
        error.message(), error.statements_done, error.statements_done == 1 ? "" : "s");
    try {
      record(migration, LedgerState::failed, elapsed_ms(start), what);
    } catch (const Error&) {
      // The "in progress" row stays; it still blocks later runs, which is what matters.
    }
    error.state = fmt::format(
        "{}; {} ran outside a transaction and is recorded as failed after {} of its statements "
        "completed",
        committed_state(), migration.name, error.statements_done);
    error.hint = fmt::format(
        "look at what those statements changed and undo or complete them by hand, then run "
        "`dbinit repair --forget-failed {0}` (to run it again) or `dbinit repair --mark-applied "
        "{0}`",
        migration.version.str());
    throw;
  }
  record(migration, LedgerState::applied, elapsed_ms(start), std::nullopt);
  finish_applied(migration, start);
}

void UpRun::record_environment() {
  if (!m_project.environment.empty() &&
      m_engine->meta(k_meta_environment) != m_project.environment) {
    m_engine->set_meta(k_meta_environment, m_project.environment);
  }
}

bool needs_own_step(const Migration& migration) {
  return migration.directives.no_transaction || migration.directives.foreign_keys_off;
}

// Runs the plan in several transactions: one per migration with `--transaction each`, and around
// every migration that needs a step of its own (no-transaction, foreign keys off) or that the
// engine cannot roll back (MySQL DDL). Runs under the session lock.
void UpRun::run_in_steps() {
  const bool transactional = m_engine->transactional_ddl();
  bool open = false;            // a transaction grouping migrations is open
  std::size_t group_first = 0;  // index in m_result.applied of the group's first migration
  bool foreign_keys_off = false;
  auto open_group = [&] {
    m_engine->begin();
    open = true;
    group_first = m_result.applied.size();
  };
  auto close_group = [&] {
    if (open) commit();
    open = false;
  };
  try {
    for (const Migration* migration : m_plan) {
      const Script script{migration->up_sql, migration->display, migration->up_line};
      if (transactional && !needs_own_step(*migration)) {
        if (m_options.transaction == TransactionMode::each) close_group();
        if (!open) open_group();
        apply_in_transaction(*migration);
        continue;
      }
      close_group();
      if (migration->directives.foreign_keys_off && !migration->directives.no_transaction &&
          transactional) {
        m_engine->set_foreign_keys(false);
        foreign_keys_off = true;
        open_group();
        apply_in_transaction(*migration);
        m_engine->check_foreign_keys();
        close_group();
        m_engine->set_foreign_keys(true);
        foreign_keys_off = false;
      } else if (!migration->directives.no_transaction && m_engine->rolls_back(script)) {
        open_group();
        apply_in_transaction(*migration);
        close_group();
      } else {
        apply_guarded(*migration);
      }
    }
    close_group();
    record_environment();
  } catch (Error& error) {
    m_unrecorded.clear();
    if (open) {
      m_engine->rollback();
      m_result.applied.resize(group_first);
    }
    if (foreign_keys_off) m_engine->set_foreign_keys(true);
    if (error.state.empty()) {
      error.state = m_result.applied.empty() && m_result.restored.empty()
                        ? "nothing was changed (the failing step was rolled back)"
                        : committed_state() + "; the failing step was rolled back";
    }
    throw;
  }
}

// Reads the ledger (and, when there is none, whether the database is empty), checks the applied
// migrations against their files and plans. Called before the lock and again under it.
void UpRun::load_state(bool under_lock) {
  m_ledger.reset();
  m_empty = true;
  if (m_opened != OpenResult::missing) {
    if (m_ledger_read) {
      m_ledger = std::move(m_read_ledger);  // read by load_and_connect
      m_ledger_read = false;
    } else {
      m_ledger = m_engine->read_ledger();
    }
    m_empty = !m_ledger && !m_engine->has_user_tables();
    if (!m_ledger && !m_empty && !under_lock) {
      // Another starter may have committed its first run between the two reads.
      m_ledger = m_engine->read_ledger();
    }
    if (!m_ledger && !m_empty) {
      Error error(ErrorKind::unmanaged, "the database has tables but no dbinit ledger");
      error.where = m_project.url.redacted();
      error.state = "nothing was changed";
      error.hint =
          "if its schema was built without dbinit, record it with `dbinit baseline --version V`; "
          "otherwise point --url at the right database";
      throw error;
    }
  }
  replan(under_lock);
  m_result.skipped = m_status.applied + m_status.baseline;
  m_init = m_empty ? find_init_dump(m_project.init_path) : std::vector<fs::path>{};
  m_seeds.clear();
  m_seeds_withheld = false;
  if (m_empty && !m_options.skip_seed) {
    m_seeds = find_seeds(m_project.seeds_dir);
    // Seeds are development data: a production database's first start must not get them.
    if (!m_seeds.empty() && is_production_environment(m_project.environment)) {
      m_seeds.clear();
      m_seeds_withheld = true;
    }
  }
}

void UpRun::replan(bool under_lock) {
  static const std::vector<LedgerEntry> k_none;
  m_status = compute_status(m_files.migrations, m_ledger ? *m_ledger : k_none);
  check_applied(m_status, under_lock);
  m_up = plan_up(m_status, m_options.to);
}

// Restores the init dump into the empty database (inside the run's transaction when there is
// one), then re-plans: a dump of a dbinit-managed database brings its ledger along, and only the
// migrations newer than it run.
void UpRun::restore_init_and_replan(bool one_transaction) {
  const bool own_transaction = !one_transaction && m_engine->transactional_ddl();
  if (own_transaction) m_engine->begin();
  try {
    restore_init();
    m_engine->ensure_ledger();
    if (own_transaction) m_engine->commit();
  } catch (Error& error) {
    if (own_transaction) m_engine->rollback();
    if (m_engine->transactional_ddl()) {
      m_result.restored.clear();
      if (error.state.empty()) error.state = "nothing was changed (the restore was rolled back)";
      if (error.hint.empty()) error.hint = "fix the init dump and start again";
    } else {
      if (error.state.empty()) {
        error.state = "the init dump was restored only in part; the database is not empty any more";
      }
      if (error.hint.empty()) {
        error.hint = "drop and recreate the database, fix the init dump and start again";
      }
    }
    throw;
  }
  m_ledger = m_engine->read_ledger();
  replan(true);
  m_result.skipped = m_status.applied + m_status.baseline;
}

// The name a user types to confirm a reset: the database's name, or the SQLite file as written.
std::string confirmation_name(const DatabaseUrl& url) {
  return url.database.empty() ? url.user : url.database;
}

void UpRun::clean_database() {
  auto [engine, opened] = connect(m_project, false, m_options.connect, m_reporter);
  GuardInput guard;
  guard.operation = m_options.clean_operation;
  guard.target = m_project.url.redacted();
  guard.environment = m_project.environment;
  if (opened != OpenResult::missing) guard.recorded = engine->meta(k_meta_environment);
  guard.requires_development = true;
  guard.confirmed = m_options.confirmed;
  guard.can_prompt = static_cast<bool>(m_options.ask);
  GuardDecision decision = evaluate_guard(guard);
  if (decision.verdict == GuardVerdict::ask) {
    const std::string name = confirmation_name(m_project.url);
    if (trim(m_options.ask(name, guard.target)) == name) {
      decision.verdict = GuardVerdict::allowed;
    } else {
      decision.verdict = GuardVerdict::refused;
      decision.failures.push_back(prompt_mismatch(name));
    }
  }
  if (decision.verdict != GuardVerdict::allowed) throw guard_refusal(guard, decision);
  if (m_options.dry_run) {
    m_reporter.note(fmt::format("would drop database {} and create it again", guard.target));
    m_pretend_dropped = true;
    return;
  }
  if (opened == OpenResult::missing) {
    m_reporter.note(fmt::format("database {} does not exist; nothing to drop", guard.target));
    return;
  }
  engine->drop_database();
  m_result.dropped = true;
  m_reporter.note(fmt::format("dropped database {}", guard.target));
}

void UpRun::apply_seeds() {
  apply_seed_files(*m_engine, m_seeds, m_reporter, m_result.seeded);
}

void UpRun::apply_seeds_in_steps() {
  if (m_seeds.empty()) return;
  bool atomic = true;
  m_engine->begin();
  try {
    apply_seed_files(*m_engine, m_seeds, m_reporter, m_result.seeded, &atomic);
    m_engine->commit();
  } catch (Error& error) {
    m_engine->rollback();
    m_result.seeded.clear();
    error.state = committed_state() +
                  (atomic ? "; the seeds were rolled back"
                          : "; the seeds ran outside a transaction (MySQL commits DDL at once) "
                            "and may be applied in part");
    error.hint =
        "fix the seed, then apply the seeds with `dbinit seed` (`up` seeds only a database that "
        "was empty when it started)";
    throw;
  }
}

UpResult UpRun::run() {
  try {
    return run_unguarded();
  } catch (Error& error) {
    if (m_result.dropped) {
      error.state = "the old database was dropped, then " +
                    (error.state.empty() ? std::string("nothing was created") : error.state);
    } else if (m_result.created) {
      // The database this run created stays: "nothing was changed" would not be the whole story.
      constexpr std::string_view k_nothing = "nothing was changed";
      if (error.state.empty() || std::string_view(error.state).starts_with(k_nothing)) {
        error.state = "the database was created and is still empty" +
                      error.state.substr(std::min(error.state.size(), k_nothing.size()));
      } else {
        error.state = "the database was created, then " + error.state;
      }
    }
    throw;
  }
}

UpResult UpRun::run_unguarded() {
  const Clock::time_point start = Clock::now();
  m_result.engine = m_project.url.engine;
  m_result.url = m_project.url.redacted();

  if (m_options.clean) {
    // Files first: a bad file name is a configuration error whatever the database says, and
    // must not cost a reset its database.
    m_files = load_migrations(m_project.migrations_dir, m_project.url.engine,
                              m_project.migrations_dir.string());
    clean_database();
    std::tie(m_engine, m_opened) =
        connect(m_project, !m_options.dry_run, m_options.connect, m_reporter);
  } else {
    Connected connected =
        load_and_connect(m_project, !m_options.dry_run, m_options.connect, m_reporter);
    m_files = std::move(connected.files);
    m_engine = std::move(connected.engine);
    m_opened = connected.opened;
    m_read_ledger = std::move(connected.ledger);
    m_ledger_read = m_opened == OpenResult::opened;
  }
  if (m_pretend_dropped) m_opened = OpenResult::missing;
  m_result.created = m_opened == OpenResult::created;
  if (m_result.created) m_reporter.note(fmt::format("created database {}", m_result.url));

  load_state(m_options.dry_run);
  if (m_options.to &&
      std::none_of(m_status.rows.begin(), m_status.rows.end(),
                   [&](const StatusRow& row) { return row.version == *m_options.to; })) {
    Error error(ErrorKind::usage,
                fmt::format("--to {}: no migration has that version", m_options.to->str()));
    error.hint = "run `dbinit status` to list the versions";
    throw error;
  }
  auto finish = [&](const Status& status) {
    if (m_seeds_withheld) {
      m_reporter.warn(fmt::format(
          "the seeds in {} were not applied: the environment is {}; apply them with `dbinit "
          "seed --yes` if this database really should get them",
          m_project.seeds_dir.string(), m_project.environment));
    }
    m_result.version = status.current;
    m_result.pending = status.pending;
    m_result.duration_ms = elapsed_ms(start);
    return std::move(m_result);
  };

  if (m_options.dry_run) {
    for (const fs::path& file : m_init) {
      m_reporter.note(fmt::format("would restore init dump {}", file.string()));
      m_result.restored.push_back(file.string());
    }
    for (const Migration* migration : m_up.apply) {
      m_reporter.note(fmt::format("would apply {}", migration->name));
      m_result.planned.push_back({migration->version.str(), migration->name, 0});
    }
    for (const fs::path& file : m_seeds) {
      m_reporter.note(fmt::format("would apply seed {}", file.string()));
    }
    return finish(m_status);
  }
  // Nothing to do: no lock, no write. A `failed` row needs a look under the lock.
  if (m_up.apply.empty() && m_init.empty() && m_seeds.empty() && m_status.failed == 0) {
    return finish(m_status);
  }

  // There is work. Decide how the run is split, then take the lock and look again: another
  // process may have done the work while we were planning.
  const bool one_transaction = m_engine->transactional_ddl() &&
                               m_options.transaction == TransactionMode::all &&
                               std::none_of(m_up.apply.begin(), m_up.apply.end(),
                                            [](const Migration* m) { return needs_own_step(*m); });
  bool locked = false;
  try {
    if (one_transaction) {
      m_engine->begin_locked(m_options.lock_timeout);
    } else {
      m_engine->lock(m_options.lock_timeout);
    }
    locked = true;
    load_state(true);
    if (m_up.apply.empty() && m_init.empty() && m_seeds.empty()) {
      m_reporter.detail("another process applied the migrations while this one waited");
    }
    if (!m_init.empty()) {
      restore_init_and_replan(one_transaction);
    } else if (one_transaction || !m_engine->transactional_ddl()) {
      m_engine->ensure_ledger();
    } else {
      m_engine->begin();
      m_engine->ensure_ledger();
      m_engine->commit();
    }
    m_plan = m_up.apply;
    for (const Migration* migration : m_up.out_of_order) {
      m_reporter.warn(
          fmt::format("{} is older than the current version {} and was never "
                      "applied; applying it now",
                      migration->name, m_status.current->str()));
    }
    if (one_transaction) {
      for (const Migration* migration : m_plan) apply_in_transaction(*migration);
      apply_seeds();
      record_environment();
      locked = false;  // the commit ends the transaction that holds the lock
      commit();
    } else {
      run_in_steps();
      apply_seeds_in_steps();
      locked = false;
      m_engine->unlock();
    }
  } catch (Error& error) {
    m_unrecorded.clear();
    if (one_transaction) {
      if (locked) m_engine->rollback();
      m_result.applied.clear();
      m_result.restored.clear();
      m_result.seeded.clear();
      if (error.kind() != ErrorKind::lock_timeout) {
        error.state = "nothing was changed (the run was rolled back)";
      }
    } else if (locked) {
      m_engine->unlock();
    }
    if (error.state.empty()) error.state = "nothing was changed";
    if (error.hint.empty()) {
      error.hint = error.kind() == ErrorKind::lock_timeout
                       ? "another dbinit is migrating this database; wait for it or raise "
                         "--lock-timeout"
                       : "fix the migration and start again";
    }
    throw;
  }

  m_ledger = m_engine->read_ledger();
  replan(true);
  return finish(m_status);
}

}  // namespace

UpResult run_up(const Project& project, const UpOptions& options, Reporter& reporter) {
  UpRun run(project, options, reporter);
  return run.run();
}

std::unique_ptr<StatusReport> read_status(const Project& project, const ConnectOptions& options,
                                          Reporter& reporter) {
  auto report = std::make_unique<StatusReport>();
  report->engine = project.url.engine;
  report->url = project.url.redacted();
  Connected connected = load_and_connect(project, false, options, reporter);
  report->files = std::move(connected.files);
  Engine* engine = connected.engine.get();
  report->database_exists = connected.opened != OpenResult::missing;
  if (report->database_exists) {
    std::optional<std::vector<LedgerEntry>> ledger = std::move(connected.ledger);
    report->has_ledger = ledger.has_value();
    if (ledger) {
      report->ledger = std::move(*ledger);
      report->environment = engine->meta(k_meta_environment);
    }
  }
  report->status = compute_status(report->files.migrations, report->ledger);
  return report;
}

void check_current(const StatusReport& report) {
  const Status& status = report.status;
  auto fail = [&](ErrorKind kind, std::string message) {
    Error error(kind, std::move(message));
    error.where = report.url;
    error.hint = kind == ErrorKind::not_current ? "run `dbinit up`" : "run `dbinit status`";
    throw error;
  };
  if (!report.database_exists) fail(ErrorKind::not_current, "the database does not exist");
  if (status.failed > 0)
    fail(ErrorKind::not_current, fmt::format("{} failed migration{} need repair", status.failed,
                                             status.failed == 1 ? "" : "s"));
  if (status.changed > 0)
    fail(ErrorKind::not_current, fmt::format("{} applied migration{} changed since (drift)",
                                             status.changed, status.changed == 1 ? "" : "s"));
  if (status.missing > 0)
    fail(ErrorKind::not_current,
         fmt::format("{} applied migration{} missing from {}", status.missing,
                     status.missing == 1 ? "" : "s", report.files.dir.string()));
  if (status.pending > 0) {
    std::string versions;
    int listed = 0;
    for (const StatusRow& row : status.rows) {
      if (row.state != MigrationState::pending) continue;
      if (listed == 5) {
        versions += ", ...";
        break;
      }
      versions += (listed++ ? ", " : "") + row.name();
    }
    fail(ErrorKind::not_current, fmt::format("{} pending migration{} ({})", status.pending,
                                             status.pending == 1 ? "" : "s", versions));
  }
  if (!report.has_ledger && !report.files.migrations.empty()) {
    fail(ErrorKind::not_current, "the database has no dbinit ledger");
  }
}

}  // namespace dbinit
