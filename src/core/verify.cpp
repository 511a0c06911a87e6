#include "core/verify.h"

#include <chrono>

#include <fmt/format.h>

#include "core/schema_diff.h"
#include "core/schema_file.h"
#include "core/scratch.h"
#include "util/error.h"
#include "util/files.h"

namespace dbinit {

namespace fs = std::filesystem;

using Clock = std::chrono::steady_clock;

std::string_view to_string(VerifyProblemKind kind) {
  switch (kind) {
    case VerifyProblemKind::missing_down:
      return "missing_down";
    case VerifyProblemKind::schema_differs:
      return "schema_differs";
    case VerifyProblemKind::down_failed:
      return "down_failed";
    case VerifyProblemKind::up_failed:
      return "up_failed";
    case VerifyProblemKind::reapply_failed:
      return "reapply_failed";
    case VerifyProblemKind::reapply_differs:
      return "reapply_differs";
  }
  return "unknown";
}

namespace {

class TargetCheck {
 public:
  TargetCheck(VerifyTarget& target, Engine& engine, Reporter& reporter)
      : m_target(target), m_engine(engine), m_reporter(reporter) {}

  // Checks `migration`; false when the check cannot go on to the next migration.
  bool check(const Migration& migration);

 private:
  void problem(const Migration& migration, VerifyProblemKind kind, std::string message,
               std::vector<std::string> diff = {}) {
    m_reporter.detail(fmt::format("{} on {}: {}", migration.name, m_target.engine, message));
    m_target.problems.push_back(
        {migration.version, migration.name, kind, std::move(message), std::move(diff)});
  }
  void compare(const Migration& migration, VerifyProblemKind kind, const std::string& expected,
               const std::string& found, std::string_view what) {
    if (expected == found) return;
    std::vector<std::string> diff = schema_diff(expected, found);
    problem(migration, kind, std::string(what), std::move(diff));
  }
  // The down and the second up inside a transaction that is rolled back afterwards.
  void round_trip_rolled_back(const Migration& migration, const Script& down, const Script& up,
                              const std::string& before, const std::string& after_up);
  // The down and the second up for real; false when the database is left in an unknown state.
  bool round_trip(const Migration& migration, const Script& down, const Script& up,
                  const std::string& before, const std::string& after_up);

  VerifyTarget& m_target;
  Engine& m_engine;
  Reporter& m_reporter;
};

constexpr std::string_view k_down_differs =
    "after up and down the schema differs from the one before up (- before, + after down)";
constexpr std::string_view k_reapply_differs =
    "up applied again after down gives another schema than the first time (- first, + again)";

std::string failure_text(const Error& error) {
  return error.full_message();
}

void TargetCheck::round_trip_rolled_back(const Migration& migration, const Script& down,
                                         const Script& up, const std::string& before,
                                         const std::string& after_up) {
  const bool foreign_keys_off = migration.directives.foreign_keys_off;
  if (foreign_keys_off) m_engine.set_foreign_keys(false);
  m_engine.begin();
  try {
    bool ran = true;
    try {
      m_engine.execute(down);
    } catch (const Error& error) {
      problem(migration, VerifyProblemKind::down_failed, "down failed: " + failure_text(error));
      ran = false;
    }
    if (ran) {
      compare(migration, VerifyProblemKind::schema_differs, before, m_engine.schema(),
              k_down_differs);
      try {
        m_engine.execute(up);
      } catch (const Error& error) {
        problem(migration, VerifyProblemKind::reapply_failed,
                "up failed when applied again after down: " + failure_text(error));
        ran = false;
      }
    }
    if (ran) {
      compare(migration, VerifyProblemKind::reapply_differs, after_up, m_engine.schema(),
              k_reapply_differs);
    }
  } catch (...) {
    m_engine.rollback();
    if (foreign_keys_off) m_engine.set_foreign_keys(true);
    throw;
  }
  // Back to the schema the first up left, whatever the down did.
  m_engine.rollback();
  if (foreign_keys_off) m_engine.set_foreign_keys(true);
}

bool TargetCheck::round_trip(const Migration& migration, const Script& down, const Script& up,
                             const std::string& before, const std::string& after_up) {
  try {
    run_on_scratch(m_engine, down, migration.directives);
  } catch (const Error& error) {
    problem(migration, VerifyProblemKind::down_failed, "down failed: " + failure_text(error));
    m_target.stopped = fmt::format(
        "stopped after {}: its down failed outside a transaction, so the scratch database is in "
        "an unknown state",
        migration.name);
    return false;
  }
  compare(migration, VerifyProblemKind::schema_differs, before, m_engine.schema(), k_down_differs);
  try {
    run_on_scratch(m_engine, up, migration.directives);
  } catch (const Error& error) {
    problem(migration, VerifyProblemKind::reapply_failed,
            "up failed when applied again after down: " + failure_text(error));
    m_target.stopped = fmt::format(
        "stopped after {}: up could not be applied again, so the migrations after it would not "
        "start from the right schema",
        migration.name);
    return false;
  }
  compare(migration, VerifyProblemKind::reapply_differs, after_up, m_engine.schema(),
          k_reapply_differs);
  return true;
}

bool TargetCheck::check(const Migration& migration) {
  const Script up{migration.up_sql, migration.display, migration.up_line};
  const std::string before = m_engine.schema();
  try {
    run_on_scratch(m_engine, up, migration.directives);
  } catch (const Error& error) {
    problem(migration, VerifyProblemKind::up_failed, "up failed: " + failure_text(error));
    m_target.stopped =
        fmt::format("stopped at {}: its up failed, so the migrations after it cannot be checked",
                    migration.name);
    return false;
  }
  const std::string after_up = m_engine.schema();
  if (!migration.down_sql) {
    problem(migration, VerifyProblemKind::missing_down, "no down section");
    ++m_target.checked;
    return true;
  }
  const std::string down_source = migration.down_display.value_or(migration.display);
  const Script down{*migration.down_sql, down_source, migration.down_line};
  if (m_engine.transactional_ddl() && !migration.directives.no_transaction) {
    round_trip_rolled_back(migration, down, up, before, after_up);
  } else if (!round_trip(migration, down, up, before, after_up)) {
    return false;
  }
  ++m_target.checked;
  return true;
}

VerifyTarget verify_on(const Project& project, const std::optional<DatabaseUrl>& server,
                       Reporter& reporter) {
  const Clock::time_point start = Clock::now();
  VerifyTarget target;
  target.engine = server ? server->engine : std::string(embedded_engine().name);
  const MigrationSet files =
      load_migrations(project.migrations_dir, target.engine, project.migrations_dir.string());
  target.migrations = static_cast<int>(files.migrations.size());
  ScratchDatabase scratch(server);
  target.url = scratch.url().redacted();
  reporter.detail(fmt::format("verifying {} migration{} in scratch database {}", target.migrations,
                              target.migrations == 1 ? "" : "s", target.url));
  TargetCheck check(target, scratch.engine(), reporter);
  for (const Migration& migration : files.migrations) {
    if (!check.check(migration)) break;
  }
  std::error_code ec;
  if (target.checked == target.migrations && target.stopped.empty() &&
      target.engine == project.url.engine && fs::is_regular_file(project.schema_file, ec)) {
    target.schema_file = project.schema_file.string();
    const SchemaSupport& support = schema_support(scratch.engine());
    const std::string expected = render_schema_file(
        support, read_for_rendering(support, scratch.engine()), schema_file_rows(files.migrations));
    target.schema_file_difference = first_difference(read_file(project.schema_file), expected);
  }
  try {
    scratch.drop();
  } catch (const Error& error) {
    reporter.warn(
        fmt::format("could not drop scratch database {}: {}", target.url, error.message()));
  }
  target.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  return target;
}

}  // namespace

std::vector<VerifyTarget> run_verify(const Project& project, const VerifyOptions& options,
                                     Reporter& reporter) {
  std::vector<std::optional<DatabaseUrl>> targets = options.targets;
  if (targets.empty()) targets.emplace_back(std::nullopt);
  std::vector<VerifyTarget> results;
  for (const std::optional<DatabaseUrl>& server : targets) {
    results.push_back(verify_on(project, server, reporter));
  }
  return results;
}

}  // namespace dbinit
