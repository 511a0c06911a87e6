#include "core/session.h"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

#include "util/error.h"

namespace dbinit {

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

constexpr std::string_view k_nothing = "nothing was changed";
constexpr std::string_view k_server_gone = "the server went away; start again once it is back";
// How long a lost COMMIT waits for the server to accept connections again, at least: a failover
// or a restart takes seconds.
constexpr milliseconds k_min_reconnect_wait{5'000};

// `a; b`, leaving out `a` when it only says that nothing was changed before.
std::string after(const std::string& before, const std::string& what) {
  if (before == k_nothing) return what;
  return before + "; " + what;
}

std::string statements(long n) {
  return fmt::format("{} of its statements", n);
}

std::string step_name(StepKind kind, const std::string& label) {
  return kind == StepKind::rollback ? "the rollback of " + label : label;
}

bool same_row(const LedgerEntry& a, const LedgerEntry& b) {
  return a.version == b.version && a.state == b.state && a.checksum == b.checksum &&
         a.applied_at == b.applied_at && a.applied_by == b.applied_by;
}

}  // namespace

std::optional<bool> ledger_shows_commit(const std::optional<std::vector<LedgerEntry>>& read,
                                        std::span<const LedgerEntry> rows,
                                        std::span<const std::string> removes) {
  if (rows.empty() && removes.empty()) return std::nullopt;
  if (!read) {
    // No ledger table: rows written in the transaction are not there. Removals alone cannot be
    // told apart from a ledger that was dropped since.
    if (!rows.empty()) return false;
    return std::nullopt;
  }
  for (const LedgerEntry& row : rows) {
    const bool found = std::any_of(read->begin(), read->end(),
                                   [&](const LedgerEntry& entry) { return same_row(entry, row); });
    if (!found) return false;
  }
  for (const std::string& version : removes) {
    const bool found = std::any_of(read->begin(), read->end(), [&](const LedgerEntry& entry) {
      return entry.version == version;
    });
    if (found) return false;
  }
  return true;
}

std::string Session::describe_committed(const std::vector<Committed>& committed) {
  std::vector<const Committed*> migrations;
  std::vector<const Committed*> rollbacks;
  bool restore = false;
  bool seeds = false;
  std::vector<const Committed*> others;
  for (const Committed& step : committed) {
    switch (step.kind) {
      case StepKind::migration:
        migrations.push_back(&step);
        break;
      case StepKind::rollback:
        rollbacks.push_back(&step);
        break;
      case StepKind::restore:
        restore = true;
        break;
      case StepKind::seeds:
        seeds = true;
        break;
      case StepKind::other:
        others.push_back(&step);
        break;
      case StepKind::ledger:
        break;
    }
  }
  if (!rollbacks.empty()) {
    if (rollbacks.size() == 1) return rollbacks.front()->label + " was rolled back and committed";
    return fmt::format("{} migrations ({} to {}) were rolled back and committed", rollbacks.size(),
                       rollbacks.front()->label, rollbacks.back()->label);
  }
  std::string out;
  if (!migrations.empty()) {
    out = fmt::format("migrations up to {} were applied and committed", migrations.back()->label);
  } else if (restore) {
    out = "the init dump was restored and committed";
  }
  if (seeds) out += out.empty() ? "the seeds were applied and committed" : ", and the seeds too";
  for (const Committed* other : others) {
    out += (out.empty() ? "" : "; ") + other->label + " was committed";
  }
  return out.empty() ? std::string(k_nothing) : out;
}

Session::Session(Engine& engine, const Project& project, SessionOptions options, Reporter& reporter)
    : m_engine(engine), m_project(project), m_options(std::move(options)), m_reporter(reporter) {
  try {
    if (m_options.scope == LockScope::transaction) {
      m_engine.begin_locked(m_options.lock_timeout);
      m_open = true;
    } else {
      m_engine.lock(m_options.lock_timeout);
    }
    m_locked = true;
  } catch (Error& error) {
    if (error.where.empty()) error.where = m_project.url.redacted();
    if (error.state.empty()) error.state = m_options.nothing;
    if (error.hint.empty()) {
      if (error.kind() == ErrorKind::lock_timeout) {
        error.hint =
            "another dbinit is migrating this database; wait for it or raise --lock-timeout";
      } else if (error.kind() == ErrorKind::unreachable) {
        error.hint = std::string(k_server_gone);
      }
    }
    throw;
  }
}

Session::~Session() {
  if (m_open) m_engine.rollback();
  if (m_foreign_keys_off) {
    try {
      m_engine.set_foreign_keys(true);
    } catch (const Error&) {
      // The connection closes with the command; the setting does not outlive it.
    }
  }
  if (m_locked && m_options.scope == LockScope::session) m_engine.unlock();
}

void Session::open_group() {
  m_engine.begin();
  m_open = true;
  m_group.clear();
  m_group_rows.clear();
  m_group_removes.clear();
  m_group_rolls_back = true;
  m_group_partial.clear();
}

void Session::run(std::span<Step> steps) {
  if (m_done) throw std::logic_error("Session::run after the session ended");
  for (Step& step : steps) run_step(step);
}

void Session::run_step(Step& step) {
  auto in_group = [&] {
    try {
      step.run(m_engine, step);
      for (const std::string& version : step.removes) m_engine.remove(version);
    } catch (Error& error) {
      fail(error, &step, true);
    }
    m_group.push_back({step.kind, step.label});
    m_group_rows.insert(m_group_rows.end(), step.rows.begin(), step.rows.end());
    m_group_removes.insert(m_group_removes.end(), step.removes.begin(), step.removes.end());
    if (!step.rolls_back) {
      m_group_rolls_back = false;
      if (m_group_partial.empty()) m_group_partial = step.partial_state;
    }
  };

  if (m_options.scope == LockScope::transaction) {
    // Every step runs in the one transaction that holds the lock; finish() commits it.
    in_group();
    return;
  }
  const bool transactional = m_engine.transactional_ddl();
  if (!step.no_transaction && !step.foreign_keys_off && !step.own_transaction && step.rolls_back &&
      transactional) {
    if (m_options.grouping == TransactionMode::each) commit_group();
    if (!m_open) open_group();
    in_group();
    return;
  }
  commit_group();
  if (step.foreign_keys_off && !step.no_transaction && transactional) {
    // SQLite switches foreign keys only between transactions; the check runs before the commit.
    m_engine.set_foreign_keys(false);
    m_foreign_keys_off = true;
    open_group();
    in_group();
    try {
      m_engine.check_foreign_keys();
    } catch (Error& error) {
      fail(error, &step, true);
    }
    commit_group();
    m_engine.set_foreign_keys(true);
    m_foreign_keys_off = false;
  } else if (!step.no_transaction && (step.rolls_back || !step.mark)) {
    open_group();
    in_group();
    commit_group();
  } else {
    run_marked(step);
  }
}

// A step that cannot be rolled back if it fails half-way: its `failed` "in progress" row is
// committed before the first statement runs and replaced only after the last one.
void Session::run_marked(Step& step) {
  const std::string name = step_name(step.kind, step.label);
  const std::string before = describe_committed(m_committed);
  std::optional<LedgerEntry> mark = step.mark;
  if (mark) {
    try {
      m_engine.record(*mark);
    } catch (Error& error) {
      m_done = true;
      if (error.where.empty()) error.where = m_project.url.redacted();
      error.state = after(before, name +
                                      " was not started (its \"in progress\" ledger row could "
                                      "not be written)");
      if (error.hint.empty()) {
        error.hint =
            error.kind() == ErrorKind::unreachable ? std::string(k_server_gone) : step.hint;
      }
      throw;
    }
  }
  try {
    step.run(m_engine, step);
  } catch (Error& error) {
    m_done = true;
    if (mark) {
      mark->error = fmt::format("{}{}{} after {} completed statement{}", step.mark_prefix,
                                error.where.empty() ? "" : error.where + ": ", error.message(),
                                error.statements_done, error.statements_done == 1 ? "" : "s");
      try {
        m_engine.record(*mark);
      } catch (const Error&) {
        // The "in progress" row stays; it still blocks later runs, which is what matters.
      }
      error.state =
          after(before, fmt::format("{} ran outside a transaction and is recorded as failed after "
                                    "{} completed",
                                    name, statements(error.statements_done)));
    } else {
      error.state = after(before, fmt::format("{} ran outside a transaction and stopped after {} "
                                              "completed; they stay",
                                              name, statements(error.statements_done)));
    }
    if (error.kind() == ErrorKind::unreachable) {
      error.hint = "the server went away; once it is back, " +
                   (step.repair_hint.empty() ? std::string("start again") : step.repair_hint);
    } else {
      error.hint = step.repair_hint.empty() ? step.hint : step.repair_hint;
    }
    throw;
  }
  try {
    for (const std::string& version : step.removes) m_engine.remove(version);
    if (!step.rows.empty()) m_engine.record_all(step.rows);
  } catch (Error& error) {
    m_done = true;
    if (error.where.empty()) error.where = m_project.url.redacted();
    error.state = after(
        before, fmt::format("{} ran outside a transaction and all its statements completed, but "
                            "the ledger could not be updated afterwards (it does not record {} as "
                            "done)",
                            name, step.label));
    if (error.kind() == ErrorKind::unreachable) {
      error.hint = fmt::format(
          "the server went away; once it is back, record {} with `dbinit repair --mark-applied "
          "V` or `--forget-failed V` as `dbinit status` shows",
          step.label);
    } else {
      error.hint = fmt::format(
          "check dbinit's ledger table {} (a migration must not drop or change it) and restore "
          "it; then `dbinit status` shows what it records, and `dbinit repair` or `dbinit "
          "baseline` records what is there",
          k_ledger_table);
    }
    throw;
  }
  m_committed.push_back({step.kind, step.label});
}

void Session::fail(Error& error, const Step* step, bool rolled_back) {
  m_done = true;
  const bool was_open = m_open;
  if (m_open) {
    m_engine.rollback();
    m_open = false;
    if (m_options.scope == LockScope::transaction) m_locked = false;
  }
  if (m_foreign_keys_off) {
    try {
      m_engine.set_foreign_keys(true);
      m_foreign_keys_off = false;
    } catch (const Error&) {
      // Reported below is the step's error; the connection ends with the command.
    }
  }
  const bool undone = rolled_back && (step == nullptr || step->rolls_back) && m_group_rolls_back;
  const std::string partial =
      step != nullptr && !step->rolls_back && !step->partial_state.empty() ? step->partial_state
      : !m_group_partial.empty()                                           ? m_group_partial
      : step != nullptr ? step_name(step->kind, step->label) +
                              " ran in a transaction but commits at once and may be applied in "
                              "part"
                        : std::string("the transaction may be applied in part");
  if (m_options.scope == LockScope::transaction) {
    error.state = undone ? fmt::format("{} ({})", k_nothing, m_options.undone) : partial;
  } else {
    const std::string before = describe_committed(m_committed);
    if (!was_open || undone) {
      const std::string what = step != nullptr && !step->undone_state.empty()
                                   ? step->undone_state
                                   : std::string("the failing step was rolled back");
      error.state =
          before == k_nothing ? fmt::format("{} ({})", k_nothing, what) : before + "; " + what;
    } else {
      error.state = after(before, partial);
    }
  }
  if (error.where.empty()) error.where = m_project.url.redacted();
  if (error.kind() == ErrorKind::unreachable) {
    if (error.hint.empty()) error.hint = std::string(k_server_gone);
  } else if (error.hint.empty() && step != nullptr) {
    error.hint = step->hint;
  }
  throw;
}

void Session::commit_group() {
  if (!m_open) return;
  try {
    if (!m_group_rows.empty()) m_engine.record_all(m_group_rows);
  } catch (Error& error) {
    fail(error, nullptr, true);
  }
  try {
    m_engine.commit();
  } catch (Error& error) {
    m_open = false;
    if (m_options.scope == LockScope::transaction) m_locked = false;
    if (error.kind() == ErrorKind::unreachable) commit_lost(error);
    // The server answered: the transaction was rolled back (a deferred constraint, a
    // serialization failure, a full disk).
    m_engine.rollback();
    fail(error, nullptr, true);
  }
  m_open = false;
  if (m_options.scope == LockScope::transaction) m_locked = false;
  m_committed.insert(m_committed.end(), m_group.begin(), m_group.end());
  m_group.clear();
  m_group_rows.clear();
  m_group_removes.clear();
}

void Session::finish() {
  if (m_done) throw std::logic_error("Session::finish after the session ended");
  commit_group();
  m_done = true;
  if (m_locked && m_options.scope == LockScope::session) {
    m_locked = false;
    m_engine.unlock();
  }
  m_locked = false;
}

void Session::commit_lost(Error& error) {
  m_done = true;
  const std::string before = describe_committed(m_committed);
  std::string why;
  const std::optional<bool> committed = find_out_committed(why);
  const bool whole_run = m_options.scope == LockScope::transaction;
  auto lost = [&](ErrorKind kind) {
    Error out(kind, fmt::format("the connection to the server was lost during COMMIT: {}",
                                error.message()));
    out.where = error.where.empty() ? m_project.url.redacted() : error.where;
    out.code = error.code;
    return out;
  };
  if (committed == true) {
    m_committed.insert(m_committed.end(), m_group.begin(), m_group.end());
    Error out = lost(ErrorKind::unreachable);
    out.state = describe_committed(m_committed) +
                " (the COMMIT took effect before the connection was lost: the ledger shows it)";
    out.hint =
        "the server went away; start again once it is back: the next run finds this "
        "work done";
    throw out;
  }
  const std::string what =
      whole_run
          ? std::string("the run")
          : fmt::format("the transaction of {}",
                        m_group.empty() ? std::string("the ledger")
                                        : step_name(m_group.back().kind, m_group.back().label));
  if (committed == false) {
    Error out = lost(ErrorKind::unreachable);
    out.state = whole_run ? fmt::format(
                                "{} (the COMMIT did not take effect: the ledger shows that "
                                "the run was rolled back)",
                                k_nothing)
                          : after(before, fmt::format("{} was rolled back (the COMMIT did not take "
                                                      "effect: the ledger does not show it)",
                                                      what));
    out.hint = std::string(k_server_gone);
    throw out;
  }
  Error out = lost(ErrorKind::in_doubt);
  out.state = after(before, fmt::format("outcome unknown: whether {} was committed could not be "
                                        "found out ({})",
                                        what, why));
  out.hint =
      "run `dbinit status` once the server is reachable: it shows what the ledger "
      "records; then start again";
  throw out;
}

std::optional<bool> Session::find_out_committed(std::string& why_unknown) {
  if (m_group_rows.empty() && m_group_removes.empty()) {
    why_unknown = "the transaction wrote no ledger rows to look for";
    return std::nullopt;
  }
  m_reporter.note(
      "the connection was lost during COMMIT; reconnecting to find out whether it "
      "took effect");
  try {
    ConnectOptions options = m_options.connect;
    options.wait = std::max(options.wait, k_min_reconnect_wait);
    options.between_attempts = {};
    auto [fresh, opened] = connect(m_project, false, options, m_reporter);
    if (opened == OpenResult::missing) {
      why_unknown = "the database is not there any more";
      return std::nullopt;
    }
    // The lock is free only once the lost session has ended, and with it its transaction: what
    // the ledger shows then is final.
    fresh->begin_locked(m_options.lock_timeout);
    std::optional<std::vector<LedgerEntry>> ledger = fresh->read_ledger();
    fresh->rollback();
    std::optional<bool> shown = ledger_shows_commit(ledger, m_group_rows, m_group_removes);
    if (!shown) why_unknown = "the ledger cannot tell";
    return shown;
  } catch (const Error& failure) {
    why_unknown = "reconnecting failed: " + failure.message();
    return std::nullopt;
  }
}

}  // namespace dbinit
