#pragma once

// The one place that runs steps against a database. A `Session` holds the migration lock for a
// command that writes (`up`, `down`, `baseline`, `repair`, `seed`; later the snapshot and
// schema-file loads) and executes the steps those commands plan: it groups them into
// transactions, guards a step that cannot be rolled back with a `failed` "in progress" ledger
// row, switches foreign keys off for a step that asks, and on any failure says in one sentence
// what state the database was left in. When the connection is lost while a COMMIT is in flight,
// it reconnects and reads the ledger to find out whether the COMMIT took effect (SPEC.md exit 10).
//
// Commands plan; the session runs. A command never calls begin/commit/lock on the engine itself.

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/connect.h"
#include "core/project.h"
#include "core/reporter.h"
#include "engines/engine.h"
#include "util/error.h"

namespace dbinit {

enum class TransactionMode {
  all,   // the whole run is one transaction (engines with transactional DDL)
  each,  // one transaction per migration
};

/// How a session holds the migration lock.
enum class LockScope {
  /// One transaction that holds the lock (`Engine::begin_locked`): every step runs in it and
  /// finish() commits it. Works behind PgBouncer in transaction pooling. A plan with steps that
  /// need a transaction of their own (no-transaction, foreign keys off) uses `session` instead.
  transaction,
  /// The lock for the session (`Engine::lock`): steps are grouped into transactions of their own
  /// and finish() releases the lock.
  session,
};

/// What a step is, for the sentence that says what was committed.
enum class StepKind { restore, ledger, migration, rollback, seeds, other };

/// One unit of work. The planner fills it in; the session decides how it runs.
struct Step {
  StepKind kind = StepKind::other;
  /// Names the step in messages: the migration's file name (a rollback is then called `the
  /// rollback of <label>`), `the init dump`, `the seeds`.
  std::string label;
  /// Runs the step in whatever transaction the session opened for it (none for a step that runs
  /// outside one). Throws Error; `statements_done` says how far it got.
  std::function<void(Engine&, Step& self)> run;
  /// `-- dbinit:no-transaction`: runs in autocommit, never in a transaction.
  bool no_transaction = false;
  /// `-- dbinit:foreign-keys off`: runs in a transaction of its own with foreign keys off, then
  /// `Engine::check_foreign_keys` must pass before it commits.
  bool foreign_keys_off = false;
  /// Runs in a transaction of its own even where it could share one (seeds after migrations, so
  /// that failing seeds do not undo the migrations).
  bool own_transaction = false;
  /// False when a failure inside a transaction would not undo the step completely (MySQL DDL,
  /// which commits implicitly).
  bool rolls_back = true;
  /// For a step that cannot be rolled back: the `failed` "in progress" row written (and
  /// committed) before it runs. Its `error` is replaced with what failed when the step fails.
  /// Without a mark, such a step still runs in a transaction of its own.
  std::optional<LedgerEntry> mark;
  /// Prefix of the `error` column written into `mark` when the step fails (`rollback failed: `).
  std::string mark_prefix;
  /// Ledger rows written once the step completed: with the commit of its transaction, or at once
  /// after a step that ran outside one.
  std::vector<LedgerEntry> rows;
  /// Ledger versions removed once the step completed, in its transaction.
  std::vector<std::string> removes;
  /// The next step when the step itself failed (`fix the migration and start again`).
  std::string hint;
  /// The next step when a marked step failed half-way (the repair commands).
  std::string repair_hint;
  /// What a rollback of the failed step is called in the state (`the seeds were rolled back`);
  /// empty: `the failing step was rolled back`.
  std::string undone_state;
  /// The state when the step ran in a transaction but does not roll back (no mark): what may be
  /// left (`the seeds ... may be applied in part`).
  std::string partial_state;
};

struct SessionOptions {
  LockScope scope = LockScope::transaction;
  std::chrono::milliseconds lock_timeout{60'000};
  /// With LockScope::session: `each` commits after every step that could share a transaction.
  TransactionMode grouping = TransactionMode::all;
  /// The sentence in parentheses after "nothing was changed" when a transaction-scoped session
  /// is rolled back: `the run was rolled back`.
  std::string undone = "the run was rolled back";
  /// The state when the lock could not be taken: `nothing was changed`, `nothing was recorded`.
  std::string nothing = "nothing was changed";
  /// Used to reconnect after a COMMIT whose outcome is unknown.
  ConnectOptions connect;
};

class Session {
 public:
  /// Takes the migration lock on `engine` as `options.scope` says; throws Error{lock_timeout}
  /// (state and hint filled in) when another process holds it longer than the timeout.
  Session(Engine& engine, const Project& project, SessionOptions options, Reporter& reporter);
  /// Rolls back an open transaction and releases the lock, whatever happened.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Runs `steps` in order. May be called several times (a restore, then the migrations that the
  /// restored ledger leaves). On failure throws the step's Error with `state` (what the database
  /// holds now) and `hint` filled in; the session is then done.
  void run(std::span<Step> steps);
  /// Ends the session: commits the open transaction (with its ledger rows) and releases the lock.
  /// Throws like run() when the commit fails, Error{in_doubt} when its outcome is unknown.
  void finish();

  /// The steps committed so far, in order (copies of their labels and kinds).
  struct Committed {
    StepKind kind = StepKind::other;
    std::string label;
  };
  const std::vector<Committed>& committed() const { return m_committed; }
  LockScope scope() const { return m_options.scope; }

  /// What a committed list means, in words: `nothing was changed`, `migrations up to X were
  /// applied and committed`, `X was rolled back and committed`, `the init dump was restored and
  /// committed`. Pure; exposed for tests.
  static std::string describe_committed(const std::vector<Committed>& committed);

 private:
  void open_group();
  // Commits the open group: its ledger rows, then COMMIT; an unknown outcome is resolved here.
  void commit_group();
  void run_step(Step& step);
  void run_marked(Step& step);
  [[noreturn]] void fail(Error& error, const Step* step, bool rolled_back);
  [[noreturn]] void commit_lost(Error& error);
  // Reconnects and reads the ledger under the lock: true when the group's rows are there, false
  // when they are not, nullopt when it cannot be told (no connection, or nothing to look for).
  std::optional<bool> find_out_committed(std::string& why_unknown);

  Engine& m_engine;
  const Project& m_project;
  SessionOptions m_options;
  Reporter& m_reporter;
  bool m_locked = false;
  bool m_open = false;  // a transaction is open
  bool m_foreign_keys_off = false;
  bool m_done = false;
  // The steps of the open transaction and the ledger writes waiting for its commit.
  std::vector<Committed> m_group;
  std::vector<LedgerEntry> m_group_rows;
  std::vector<std::string> m_group_removes;
  // Whether every step of the open transaction rolls back completely.
  bool m_group_rolls_back = true;
  std::string m_group_partial;
  std::vector<Committed> m_committed;
};

/// True when ledger rows `read` show that a transaction which wrote `rows` and removed
/// `removes` committed: every row is there as written and every removed version is gone. Pure;
/// nullopt when there is nothing to look for.
std::optional<bool> ledger_shows_commit(const std::optional<std::vector<LedgerEntry>>& read,
                                        std::span<const LedgerEntry> rows,
                                        std::span<const std::string> removes);

/// The current UTC time as ISO-8601 (`2026-11-22T03:16:26Z`).
std::string utc_now_iso8601();

}  // namespace dbinit
