// The pure parts of the session: how a committed list is put into words, and how the ledger read
// after a lost COMMIT tells whether it took effect.

#include <gtest/gtest.h>

#include "core/session.h"

namespace dbinit {
namespace {

LedgerEntry row(const std::string& version, const std::string& at = "2026-12-03T10:00:00Z") {
  LedgerEntry entry;
  entry.version = version;
  entry.name = "000" + version + "-x.sql";
  entry.checksum = "sha256:" + version;
  entry.applied_at = at;
  entry.applied_by = "me@host dbinit 0.1.0";
  return entry;
}

TEST(SessionTest, DescribesWhatWasCommitted) {
  using C = Session::Committed;
  EXPECT_EQ(Session::describe_committed({}), "nothing was changed");
  EXPECT_EQ(Session::describe_committed({C{StepKind::ledger, "the ledger"}}),
            "nothing was changed");
  EXPECT_EQ(Session::describe_committed(
                {C{StepKind::migration, "0001-a.sql"}, C{StepKind::migration, "0002-b.sql"}}),
            "migrations up to 0002-b.sql were applied and committed");
  EXPECT_EQ(Session::describe_committed({C{StepKind::restore, "the init dump"}}),
            "the init dump was restored and committed");
  EXPECT_EQ(Session::describe_committed({C{StepKind::rollback, "0003-c.sql"}}),
            "0003-c.sql was rolled back and committed");
  EXPECT_EQ(Session::describe_committed(
                {C{StepKind::rollback, "0003-c.sql"}, C{StepKind::rollback, "0002-b.sql"}}),
            "2 migrations (0003-c.sql to 0002-b.sql) were rolled back and committed");
  EXPECT_EQ(Session::describe_committed(
                {C{StepKind::migration, "0001-a.sql"}, C{StepKind::seeds, "the seeds"}}),
            "migrations up to 0001-a.sql were applied and committed, and the seeds too");
}

TEST(SessionTest, LedgerShowsACommitOnlyWhenEveryRowIsThereAsWritten) {
  const std::vector<LedgerEntry> written = {row("1"), row("2")};
  // Nothing to look for: cannot tell.
  EXPECT_EQ(ledger_shows_commit(std::vector<LedgerEntry>{}, {}, {}), std::nullopt);
  // No ledger table: the rows are not there.
  EXPECT_EQ(ledger_shows_commit(std::nullopt, written, {}), false);
  EXPECT_EQ(ledger_shows_commit(std::vector<LedgerEntry>{row("1")}, written, {}), false);
  EXPECT_EQ(ledger_shows_commit(written, written, {}), true);
  // The same versions written by another run (another time) are not this run's rows.
  EXPECT_EQ(ledger_shows_commit(
                std::vector<LedgerEntry>{row("1"), row("2", "2026-12-03T11:00:00Z")}, written, {}),
            false);
  // A failed "in progress" row of the same version is not the applied row.
  std::vector<LedgerEntry> failed = written;
  failed[1].state = LedgerState::failed;
  EXPECT_EQ(ledger_shows_commit(failed, written, {}), false);
}

TEST(SessionTest, LedgerShowsACommittedRemovalWhenTheRowIsGone) {
  const std::vector<std::string> removed = {"3"};
  EXPECT_EQ(ledger_shows_commit(std::vector<LedgerEntry>{row("1"), row("3")}, {}, removed), false);
  EXPECT_EQ(ledger_shows_commit(std::vector<LedgerEntry>{row("1")}, {}, removed), true);
  EXPECT_EQ(ledger_shows_commit(std::nullopt, {}, removed), std::nullopt);
}

}  // namespace
}  // namespace dbinit
