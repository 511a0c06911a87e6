#include "core/baseline.h"

#include <limits>

#include <fmt/format.h>

#include "core/schema_diff.h"
#include "core/scratch.h"
#include "core/session.h"
#include "util/error.h"

namespace dbinit {

std::vector<LedgerEntry> baseline_entries(const std::vector<Migration>& migrations,
                                          const Version& version, std::string_view applied_at,
                                          std::string_view applied_by) {
  std::vector<LedgerEntry> entries;
  for (const Migration& migration : migrations) {
    if (migration.version > version) break;
    LedgerEntry entry;
    entry.version = migration.version.str();
    entry.name = migration.name;
    entry.checksum = migration.checksum;
    entry.state = LedgerState::baseline;
    entry.applied_at = std::string(applied_at);
    entry.duration_ms = 0;
    entry.applied_by = std::string(applied_by);
    entry.down_sql = migration.down_sql;
    entries.push_back(std::move(entry));
  }
  return entries;
}

Version baseline_version(const MigrationSet& files, const std::optional<Version>& requested) {
  if (files.migrations.empty()) {
    Error error(ErrorKind::usage,
                fmt::format("baseline needs migrations, and {} has none", files.dir.string()));
    error.hint = "add the migrations that built the database's schema first";
    throw error;
  }
  if (!requested) return files.migrations.back().version;
  for (const Migration& migration : files.migrations) {
    if (migration.version == *requested) return *requested;
  }
  Error error(ErrorKind::usage, fmt::format("--version {}: no migration in {} has that version",
                                            requested->str(), files.dir.string()));
  error.hint = "run `dbinit status` to list the versions, or use --detect to find it";
  throw error;
}

namespace {

Error refusal(const Project& project, std::string message, std::string hint) {
  Error error(ErrorKind::usage, std::move(message));
  error.where = project.url.redacted();
  error.state = "nothing was changed";
  error.hint = std::move(hint);
  return error;
}

// Throws unless `engine` holds tables and no ledger rows.
void check_adoptable(const Project& project, Engine& engine) {
  std::optional<std::vector<LedgerEntry>> ledger = engine.read_ledger();
  if (ledger && !ledger->empty()) {
    throw refusal(project,
                  fmt::format("the database already has a dbinit ledger ({} row{})", ledger->size(),
                              ledger->size() == 1 ? "" : "s"),
                  "baseline is for a database built without dbinit; `dbinit status` shows what "
                  "is recorded, and `dbinit repair --mark-applied V` records single migrations");
  }
  if (!engine.has_user_tables()) {
    throw refusal(project, "the database has no tables, so there is no schema to baseline",
                  "run `dbinit up`, which applies every migration");
  }
}

BaselineDetection detect(const Project& project, const MigrationSet& files, Engine& live,
                         Reporter& reporter) {
  BaselineDetection detection;
  const std::string live_schema = schema_text(live);
  // A file engine's scratch database is a file in a temporary folder; a server engine's is a
  // database on the same server.
  const EngineInfo* engine = find_engine(project.url.engine);
  ScratchDatabase scratch(engine != nullptr && engine->file_databases
                              ? std::nullopt
                              : std::optional<DatabaseUrl>(project.url));
  detection.scratch_url = scratch.url().redacted();
  reporter.detail(fmt::format("applying the migrations one by one to scratch database {}",
                              detection.scratch_url));
  std::size_t best = std::numeric_limits<std::size_t>::max();
  for (const Migration& migration : files.migrations) {
    try {
      run_on_scratch(scratch.engine(),
                     Script{migration.up_sql, migration.display, migration.up_line},
                     migration.directives);
    } catch (Error& error) {
      error.state = fmt::format("the database was not changed; {} failed in scratch database {}",
                                migration.name, detection.scratch_url);
      error.hint = "fix the migration, or give the version with `dbinit baseline --version V`";
      throw;
    }
    const std::string schema = schema_text(scratch.engine());
    if (schema == live_schema) {
      detection.match = migration.version;
      detection.matches.push_back(migration.version);
      reporter.detail(fmt::format("{}: the schema matches", migration.name));
      continue;
    }
    const std::size_t distance = schema_distance(schema, live_schema);
    reporter.detail(
        fmt::format("{}: {} line{} differ", migration.name, distance, distance == 1 ? "" : "s"));
    if (distance < best) {
      best = distance;
      detection.closest = migration.version;
      detection.diff = schema_diff(schema, live_schema);
    }
  }
  if (detection.match) {
    detection.closest.reset();
    detection.diff.clear();
  }
  try {
    scratch.drop();
  } catch (const Error& error) {
    reporter.warn(fmt::format("could not drop scratch database {}: {}", detection.scratch_url,
                              error.message()));
  }
  return detection;
}

}  // namespace

BaselineResult run_baseline(const Project& project, const BaselineOptions& options,
                            Reporter& reporter) {
  BaselineResult result;
  result.engine = project.url.engine;
  result.url = project.url.redacted();
  if (options.detect && options.version) {
    throw Error(ErrorKind::usage, "--detect and --version exclude each other");
  }
  const MigrationSet files =
      load_migrations(project.migrations_dir, project.url.engine, project.migrations_dir.string());
  Version version = baseline_version(files, options.version);

  auto [engine, opened] = connect(project, false, options.connect, reporter);
  if (opened == OpenResult::missing) {
    throw refusal(project, "the database does not exist",
                  "`dbinit up` creates and migrates a new database; baseline is for an existing "
                  "one");
  }
  check_adoptable(project, *engine);

  if (options.detect) {
    result.detection = detect(project, files, *engine, reporter);
    if (!result.detection->match) return result;
    version = *result.detection->match;
    result.version = version;
    if (!options.yes) return result;
  }
  result.version = version;

  // Under the migration lock; the rows in one transaction (MySQL: the ledger's CREATE TABLE
  // commits implicitly, so it comes first, and the rows follow in a transaction of their own).
  const bool transactional = engine->transactional_ddl();
  SessionOptions session_options;
  session_options.scope = transactional ? LockScope::transaction : LockScope::session;
  session_options.lock_timeout = options.lock_timeout;
  session_options.undone = "nothing was recorded";
  session_options.nothing = "nothing was recorded";
  session_options.connect = options.connect;
  try {
    Session session(*engine, project, session_options, reporter);
    check_adoptable(project, *engine);
    std::vector<Step> steps(2);
    steps[0].kind = StepKind::ledger;
    steps[0].label = "the ledger";
    // MySQL: CREATE TABLE commits at once; it runs in autocommit, as it cannot be undone.
    steps[0].no_transaction = !transactional;
    steps[0].run = [](Engine& on, Step&) { on.ensure_ledger(); };
    steps[1].kind = StepKind::other;
    steps[1].label = fmt::format("the baseline up to version {}", version.str());
    steps[1].rows =
        baseline_entries(files.migrations, version, utc_now_iso8601(), project.applied_by);
    steps[1].run = [&project](Engine& on, Step&) {
      if (!project.environment.empty()) on.set_meta(k_meta_environment, project.environment);
    };
    result.recorded = steps[1].rows;
    session.run(steps);
    session.finish();
  } catch (Error& error) {
    result.recorded.clear();
    if (error.state.empty() || error.state == "nothing was changed (nothing was recorded)") {
      error.state = "nothing was recorded";
    }
    if (error.hint.empty() && error.kind() == ErrorKind::lock_timeout) {
      error.hint = "another dbinit is migrating this database; wait for it or raise --lock-timeout";
    }
    throw;
  }
  for (const LedgerEntry& entry : result.recorded) {
    reporter.detail(fmt::format("recorded {} as baseline", entry.name));
  }
  return result;
}

}  // namespace dbinit
