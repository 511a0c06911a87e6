#include "core/runner.h"

#include <algorithm>
#include <ctime>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "core/guard.h"
#include "core/schema_file.h"
#include "core/seed.h"
#include "core/snapshot.h"
#include "util/elapsed.h"
#include "util/error.h"
#include "util/files.h"
#include "util/text.h"

namespace dbinit {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string format_duration(milliseconds d) {
  return duration_text(d);
}

}  // namespace

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
  // Restores the init dump (or loads the schema file) into the empty database, then re-plans.
  void restore_init_and_replan(Session& session);
  // Points m_init at the schema file when the empty database can be built from it: the file
  // exists, --no-schema-file was not given, and every migration it records still has its
  // checksum (else one warning says why it is ignored).
  void consider_schema_file();
  // `reset` / `up --clean`: the guard, then the drop (or, with --dry-run, what it would do).
  void clean_database();
  // Loads m_snapshot into the empty database under the lock (unless another starter filled it
  // meanwhile), then reads the state again.
  void load_snapshot();
  // --backup-before: the snapshot before the pending migrations run.
  void take_backup();
  // --backup-before on an engine whose migrations cannot be rolled back: loads the backup again
  // after `error`, and says so in the error's state.
  void restore_backup(Error& error);
  // Verifies applied migrations against their files; throws drift / failed errors.
  void check_applied(const Status& status, bool under_lock) const;
  LedgerEntry ledger_entry(const Migration& migration, LedgerState state, std::int64_t duration_ms,
                           std::optional<std::string> error) const;
  // The steps of the plan: the migrations, the seeds and the recorded environment.
  std::vector<Step> plan_steps();
  Step migration_step(const Migration& migration);

  const Project& m_project;
  const UpOptions& m_options;
  Reporter& m_reporter;
  std::unique_ptr<Engine> m_engine;
  // `reset`: the engine that holds the reset lock (Engine::lock_for_reset) until the run ends.
  std::unique_ptr<Engine> m_reset_engine;
  OpenResult m_opened = OpenResult::missing;
  MigrationSet m_files;
  // The ledger as last read (nullopt: no ledger table) and whether the database is empty.
  std::optional<std::vector<LedgerEntry>> m_ledger;
  bool m_empty = true;
  Status m_status;
  UpPlan m_up;
  std::vector<fs::path> m_init;
  // m_init is the schema file rather than an init dump.
  bool m_from_schema_file = false;
  bool m_schema_file_warned = false;
  // Seeds to apply: those of the seeds folder when the database is empty and seeding is on.
  std::vector<fs::path> m_seeds;
  // The database is empty, has seeds, but the environment is production: they are not applied.
  bool m_seeds_withheld = false;
  // The snapshot to load into the empty database (`--load NAME`, `_init`), if any.
  std::optional<std::string> m_snapshot;
  bool m_load_ignored_noted = false;
  // --dry-run with --clean: plan as if the database had been dropped.
  bool m_pretend_dropped = false;
  // The ledger load_and_connect read, used by the first load_state().
  std::optional<std::vector<LedgerEntry>> m_read_ledger;
  bool m_ledger_read = false;
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
      error.hint = failed_migration_hint(row.version);
      throw error;
    }
  }
  for (const StatusRow& row : status.rows) {
    if (row.state == MigrationState::changed) {
      throw changed_migration_error(row, changed_migration_hint(row.version));
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

void UpRun::consider_schema_file() {
  if (!m_options.use_schema_file) return;
  const fs::path& file = m_project.schema_file;
  std::error_code ec;
  if (file.empty() || !fs::is_regular_file(file, ec)) return;
  const std::string display = file.string();
  std::optional<std::string> stale;
  try {
    const std::string text = read_file(file);
    const EngineInfo* engine = find_engine(m_project.url.engine);
    const std::optional<std::string> written_for = schema_file_engine(text);
    if (written_for && *written_for != engine->name) {
      stale =
          fmt::format("it was written for {}, and the database is {}", *written_for, engine->name);
    } else {
      const std::vector<LedgerEntry> rows = read_schema_file_rows(text, *engine->schema, display);
      stale = schema_file_staleness(rows, m_files.migrations);
      if (!stale && m_options.to && Version(rows.back().version) > *m_options.to) {
        // Not stale, only further than asked: no warning.
        m_reporter.detail(fmt::format("{} records migrations after --to {}; replaying them instead",
                                      display, m_options.to->str()));
        return;
      }
    }
  } catch (const Error& error) {
    stale = error.message();
  }
  if (stale) {
    if (!m_schema_file_warned) {
      m_reporter.warn(
          fmt::format("{} is stale and was not used ({}); replaying the migrations; "
                      "`dbinit schema` writes it again",
                      display, *stale));
      m_schema_file_warned = true;
    }
    return;
  }
  m_init = {file};
  m_from_schema_file = true;
}

void UpRun::restore_init_and_replan(Session& session) {
  const std::string_view what = m_from_schema_file ? "the schema file" : "the init dump";
  Step step;
  step.kind = StepKind::restore;
  step.label = std::string(what);
  step.hint = m_from_schema_file
                  ? (m_engine->transactional_ddl()
                         ? "fix or write again the schema file, or replay the migrations with "
                           "`dbinit up --no-schema-file`"
                         : "drop and recreate the database, then replay the migrations with "
                           "`dbinit up --no-schema-file` (or write the schema file again)")
                  : (m_engine->transactional_ddl()
                         ? "fix the init dump and start again"
                         : "drop and recreate the database, fix the init dump and start again");
  step.rolls_back = m_engine->transactional_ddl();
  step.partial_state = fmt::format("{} was {} only in part; the database is not empty any more",
                                   what, m_from_schema_file ? "loaded" : "restored");
  step.run = [this](Engine& engine, Step&) {
    for (const fs::path& file : m_init) {
      const Clock::time_point start = Clock::now();
      const std::string text = read_sql_file(file);
      engine.restore(Script{text, file.string(), 1});
      m_result.restored.push_back(file.string());
      m_reporter.note(fmt::format("{} {} ({})",
                                  m_from_schema_file ? "loaded schema file" : "restored init dump",
                                  file.string(), format_duration(milliseconds(elapsed_ms(start)))));
    }
    engine.ensure_ledger();
  };
  m_result.from_schema_file = m_from_schema_file;
  session.run(std::span(&step, 1));
  // A dump of a dbinit-managed database brings its ledger along: only newer migrations run.
  m_ledger = m_engine->read_ledger();
  replan(true);
  m_result.skipped = m_status.applied + m_status.baseline;
}

Step UpRun::migration_step(const Migration& migration) {
  Step step;
  step.kind = StepKind::migration;
  step.label = migration.name;
  step.no_transaction = migration.directives.no_transaction;
  step.foreign_keys_off = migration.directives.foreign_keys_off;
  step.rolls_back =
      !step.no_transaction &&
      m_engine->rolls_back(Script{migration.up_sql, migration.display, migration.up_line});
  step.hint = "fix the migration and start again";
  if (!step.rolls_back) {
    // Cannot be rolled back if it fails half-way: the ledger says `failed` / "in progress" before
    // the first statement runs, and `applied` only after the last one.
    step.mark = ledger_entry(
        migration, LedgerState::failed, 0,
        fmt::format("in progress since {} ({}); if no dbinit is running, it was interrupted",
                    utc_now_iso8601(), m_project.applied_by));
    step.repair_hint = fmt::format(
        "look at what those statements changed and undo or complete them by hand, then run "
        "`dbinit repair --forget-failed {0}` (to run it again) or `dbinit repair --mark-applied "
        "{0}`",
        migration.version.str());
  }
  step.run = [this, &migration](Engine& engine, Step& self) {
    const Clock::time_point start = Clock::now();
    engine.execute(Script{migration.up_sql, migration.display, migration.up_line});
    const std::int64_t ms = elapsed_ms(start);
    self.rows = {ledger_entry(migration, LedgerState::applied, ms, std::nullopt)};
    m_result.applied.push_back({migration.version.str(), migration.name, ms});
    m_reporter.applied(migration, milliseconds(ms));
  };
  return step;
}

std::vector<Step> UpRun::plan_steps() {
  std::vector<Step> steps;
  for (const Migration* migration : m_up.apply) steps.push_back(migration_step(*migration));
  if (!m_seeds.empty()) {
    Step seeds;
    seeds.kind = StepKind::seeds;
    seeds.label = "the seeds";
    seeds.own_transaction = true;
    seeds.undone_state = "the seeds were rolled back";
    for (const fs::path& file : m_seeds) {
      const std::string text = read_sql_file(file);
      if (!m_engine->rolls_back(Script{text, file.string(), 1})) seeds.rolls_back = false;
    }
    seeds.hint =
        "fix the seed, then apply the seeds with `dbinit seed` (`up` seeds only a database that "
        "was empty when it started)";
    seeds.partial_state =
        "the seeds ran outside a transaction (MySQL commits DDL at once) and may be applied in "
        "part";
    seeds.run = [this](Engine& engine, Step&) {
      apply_seed_files(engine, m_seeds, m_reporter, m_result.seeded);
    };
    steps.push_back(std::move(seeds));
  }
  if (!m_project.environment.empty()) {
    Step environment;
    environment.kind = StepKind::ledger;
    environment.label = "the environment";
    environment.run = [this](Engine& engine, Step&) {
      if (engine.meta(k_meta_environment) != m_project.environment) {
        engine.set_meta(k_meta_environment, m_project.environment);
      }
    };
    steps.push_back(std::move(environment));
  }
  return steps;
}

bool needs_own_step(const Migration& migration) {
  return migration.directives.no_transaction || migration.directives.foreign_keys_off;
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
  m_snapshot.reset();
  if (m_empty && (m_options.use_init_snapshot || !m_options.load.empty())) {
    m_snapshot = snapshot_for_empty_database(m_project, m_options.load);
  } else if (!m_empty && !m_options.load.empty() && m_result.loaded_snapshot.empty() &&
             !m_load_ignored_noted) {
    m_reporter.note(
        fmt::format("the database is not empty: snapshot {} was not loaded ({} loads "
                    "only into an empty database; `dbinit load {}` replaces one)",
                    m_options.load, "--load", m_options.load));
    m_load_ignored_noted = true;
  }
  m_init = m_empty && !m_snapshot ? find_init_dump(m_project.init_path) : std::vector<fs::path>{};
  m_from_schema_file = false;
  if (m_empty && !m_snapshot && m_init.empty()) consider_schema_file();
  m_seeds.clear();
  m_seeds_withheld = false;
  // A loaded snapshot brings its data: seeds are for a database built from nothing.
  if (m_empty && !m_snapshot && !m_options.skip_seed) {
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
  require_guard(guard, m_options.ask, confirmation_name(m_project.url));
  if (m_options.dry_run) {
    m_reporter.note(fmt::format("would drop database {} and create it again", guard.target));
    m_pretend_dropped = true;
    return;
  }
  // Held until this run ends: a second reset waits here instead of dropping the database under
  // this run (on PostgreSQL the drop ends every session on it).
  try {
    engine->lock_for_reset(m_options.lock_timeout);
  } catch (Error& error) {
    if (error.where.empty()) error.where = guard.target;
    error.state = "nothing was changed";
    if (error.hint.empty()) {
      error.hint = error.kind() == ErrorKind::lock_timeout
                       ? "another dbinit is resetting this database; wait for it or raise "
                         "--lock-timeout"
                       : "the server went away; start again once it is back";
    }
    throw;
  }
  m_reset_engine = std::move(engine);
  Engine* target = m_reset_engine.get();
  std::unique_ptr<Engine> recreated;
  if (opened == OpenResult::missing) {
    // Another reset may have dropped the database just before this one looked, and created it
    // again while this one waited for the lock: look again, now that no reset can run.
    std::tie(recreated, opened) = connect(m_project, false, m_options.connect, m_reporter);
    if (opened == OpenResult::missing) {
      m_reporter.note(fmt::format("database {} does not exist; nothing to drop", guard.target));
      return;
    }
    // The user has confirmed already; what the new database records may still refuse it.
    guard.recorded = recreated->meta(k_meta_environment);
    guard.confirmed = true;
    guard.can_prompt = false;
    const GuardDecision decision = evaluate_guard(guard);
    if (decision.verdict != GuardVerdict::allowed) throw guard_refusal(guard, decision);
    target = recreated.get();
  }
  target->drop_database();
  m_result.dropped = true;
  m_reporter.note(fmt::format("dropped database {}", guard.target));
}

void UpRun::load_snapshot() {
  const std::string name = *m_snapshot;
  const Clock::time_point start = Clock::now();
  NoProgress silent;
  SnapshotProgress& progress = m_options.progress ? *m_options.progress : silent;
  const CheckedSnapshot snapshot = check_snapshot(m_project, name, m_files);
  if (load_checked_snapshot(*m_engine, m_project, snapshot, m_options.lock_timeout, true,
                            progress)) {
    m_result.loaded_snapshot = name;
    m_reporter.note(fmt::format("loaded snapshot {} (at {}; {})", name,
                                snapshot.manifest.ledger_version().empty()
                                    ? std::string("no version")
                                    : "version " + snapshot.manifest.ledger_version(),
                                format_duration(milliseconds(elapsed_ms(start)))));
  } else {
    m_reporter.detail("another process filled the database while this one waited");
  }
  load_state(false);
}

void UpRun::take_backup() {
  const std::string name = fmt::format("pre-{}-{}", m_up.apply.front()->version.str(),
                                       timestamp_snapshot_name(std::chrono::system_clock::now()));
  const Clock::time_point start = Clock::now();
  NoProgress silent;
  try {
    write_snapshot(*m_engine, m_project, name, false, false,
                   m_options.progress ? *m_options.progress : silent);
  } catch (Error& error) {
    if (error.state.empty()) error.state = "nothing was changed (no migration was applied)";
    if (error.hint.empty())
      error.hint = "fix what the message names, or run without --backup-before";
    throw;
  }
  m_result.backup = name;
  m_reporter.note(fmt::format("took snapshot {} before applying {} ({})", name,
                              m_up.apply.size() == 1
                                  ? std::string("1 migration")
                                  : fmt::format("{} migrations", m_up.apply.size()),
                              format_duration(milliseconds(elapsed_ms(start)))));
}

void UpRun::restore_backup(Error& error) {
  const std::string& name = m_result.backup;
  NoProgress silent;
  try {
    // The failed migration's connection may be gone with the failure: a new one loads it.
    auto [engine, opened] = connect(m_project, false, m_options.connect, m_reporter);
    if (opened == OpenResult::missing) throw Error(ErrorKind::failure, "the database is gone");
    const CheckedSnapshot snapshot = check_snapshot(m_project, name, m_files);
    load_checked_snapshot(*engine, m_project, snapshot, m_options.lock_timeout, false,
                          m_options.progress ? *m_options.progress : silent);
  } catch (const Error& failure) {
    error.state += fmt::format("; loading the snapshot {} taken before the run failed too ({})",
                               name, failure.message());
    error.hint = fmt::format(
        "load it by hand with `dbinit load {} --yes` (it holds the database as it was before "
        "the run), then fix the migration",
        name);
    return;
  }
  m_result.backup_restored = true;
  m_result.applied.clear();
  error.state = fmt::format(
      "the database was restored from the snapshot {} taken before the run (as it was before "
      "it; no `failed` row is left)",
      name);
  error.hint = "fix the migration and start again";
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
        error.state = (error.kind() == ErrorKind::in_doubt ? "the database was created; "
                                                           : "the database was created, then ") +
                      error.state;
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
    if (m_snapshot) m_reporter.note(fmt::format("would load snapshot {}", *m_snapshot));
    m_result.from_schema_file = m_from_schema_file;
    for (const fs::path& file : m_init) {
      m_reporter.note(fmt::format("would {} {}",
                                  m_from_schema_file ? "load schema file" : "restore init dump",
                                  file.string()));
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
  if (m_snapshot) load_snapshot();
  // Nothing to do: no lock, no write. A `failed` row needs a look under the lock.
  if (m_up.apply.empty() && m_init.empty() && m_seeds.empty() && m_status.failed == 0) {
    return finish(m_status);
  }
  if (m_options.backup_before && !m_empty && !m_up.apply.empty()) take_backup();

  // There is work. Decide how the run is split, then take the lock and look again: another
  // process may have done the work while we were planning.
  const bool one_transaction = m_engine->transactional_ddl() &&
                               m_options.transaction == TransactionMode::all &&
                               std::none_of(m_up.apply.begin(), m_up.apply.end(),
                                            [](const Migration* m) { return needs_own_step(*m); });
  try {
    SessionOptions session_options;
    session_options.scope = one_transaction ? LockScope::transaction : LockScope::session;
    session_options.lock_timeout = m_options.lock_timeout;
    session_options.grouping = m_options.transaction;
    session_options.connect = m_options.connect;
    Session session(*m_engine, m_project, session_options, m_reporter);
    load_state(true);
    if (m_up.apply.empty() && m_init.empty() && m_seeds.empty()) {
      m_reporter.detail("another process applied the migrations while this one waited");
    }
    if (!m_init.empty()) {
      restore_init_and_replan(session);
    } else {
      Step ledger;
      ledger.kind = StepKind::ledger;
      ledger.label = "the ledger";
      // MySQL: CREATE TABLE commits at once; it runs in autocommit, as it cannot be undone.
      ledger.no_transaction = !m_engine->transactional_ddl();
      ledger.run = [](Engine& engine, Step&) { engine.ensure_ledger(); };
      session.run(std::span(&ledger, 1));
    }
    for (const Migration* migration : m_up.out_of_order) {
      m_reporter.warn(
          fmt::format("{} is older than the current version {} and was never "
                      "applied; applying it now",
                      migration->name, m_status.current->str()));
    }
    std::vector<Step> steps = plan_steps();
    session.run(steps);
    session.finish();
  } catch (Error& error) {
    if (one_transaction) {
      m_result.applied.clear();
      m_result.restored.clear();
      m_result.seeded.clear();
    }
    if (error.state.empty()) {
      error.state = one_transaction && error.kind() != ErrorKind::lock_timeout
                        ? "nothing was changed (the run was rolled back)"
                        : "nothing was changed";
    }
    if (error.hint.empty()) {
      error.hint = error.kind() == ErrorKind::lock_timeout
                       ? "another dbinit is migrating this database; wait for it or raise "
                         "--lock-timeout"
                   : error.kind() == ErrorKind::unreachable
                       ? "the server went away; start again once it is back"
                       : "fix the migration and start again";
    }
    if (!m_result.backup.empty() && !m_engine->transactional_ddl() &&
        error.kind() != ErrorKind::lock_timeout && error.kind() != ErrorKind::in_doubt) {
      restore_backup(error);
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
  auto fail = [&](ErrorKind kind, std::string message, std::string hint = "run `dbinit up`") {
    Error error(kind, std::move(message));
    error.where = report.url;
    error.hint = std::move(hint);
    throw error;
  };
  // The first row in `state`, for the repair command that `up` would point to.
  auto first_in = [&](MigrationState state) {
    return std::find_if(status.rows.begin(), status.rows.end(),
                        [&](const StatusRow& row) { return row.state == state; })
        ->version;
  };
  if (!report.database_exists) fail(ErrorKind::not_current, "the database does not exist");
  if (status.failed > 0) {
    // `up` refuses (exit 4) until the failed row is resolved: say how, as `up` does.
    fail(ErrorKind::not_current,
         fmt::format("{} failed migration{} need repair", status.failed,
                     status.failed == 1 ? "" : "s"),
         failed_migration_hint(first_in(MigrationState::failed)));
  }
  if (status.changed > 0) {
    // `up` refuses (exit 3) on drift.
    fail(ErrorKind::not_current,
         fmt::format("{} applied migration{} changed since (drift)", status.changed,
                     status.changed == 1 ? "" : "s"),
         changed_migration_hint(first_in(MigrationState::changed)));
  }
  if (status.missing > 0)
    fail(ErrorKind::not_current,
         fmt::format("{} applied migration{} missing from {}", status.missing,
                     status.missing == 1 ? "" : "s", report.files.dir.string()),
         "restore the file, or run `dbinit up --allow-missing` if it was removed on purpose");
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
