#include "core/plan.h"

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "util/error.h"

namespace dbinit::test {
namespace {

// A migration file as load_migrations() returns it; `digits` is the version as written in the
// file name (leading zeros kept), `checksum` stands for the up section's.
Migration file(const std::string& digits, const std::string& checksum = "") {
  Migration migration;
  migration.version = Version(digits);
  migration.name = digits + "-m.sql";
  migration.description = "m";
  migration.display = "db/migrations/" + migration.name;
  migration.up_sql = "SELECT " + digits + ";";
  migration.checksum = checksum.empty() ? "sha256:" + migration.version.str() : checksum;
  return migration;
}

// A ledger row; `version` is stored without leading zeros, as engines store it.
LedgerEntry row(const std::string& version, LedgerState state = LedgerState::applied,
                const std::string& checksum = "") {
  LedgerEntry entry;
  entry.version = Version(version).str();
  entry.name = version + "-m.sql";
  entry.checksum = checksum.empty() ? "sha256:" + entry.version : checksum;
  entry.state = state;
  return entry;
}

std::vector<std::string> versions(const Status& status) {
  std::vector<std::string> out;
  for (const StatusRow& r : status.rows) out.push_back(r.version.str());
  return out;
}

std::vector<std::string> states(const Status& status) {
  std::vector<std::string> out;
  for (const StatusRow& r : status.rows) out.emplace_back(to_string(r.state));
  return out;
}

std::vector<std::string> versions(const std::vector<const Migration*>& migrations) {
  std::vector<std::string> out;
  for (const Migration* m : migrations) out.push_back(m->version.str());
  return out;
}

using Strings = std::vector<std::string>;

TEST(Version, ComparesAsNumbersWhateverTheLength) {
  EXPECT_LT(Version("9"), Version("10"));
  EXPECT_LT(Version("10"), Version("0011"));
  EXPECT_LT(Version("0009"), Version("10"));
  EXPECT_EQ(Version("0011"), Version("11"));
  EXPECT_EQ(Version("000"), Version("0"));
  EXPECT_EQ(Version("000").str(), "0");
  EXPECT_LT(Version("99999999999999999999"), Version("100000000000000000000"));
  EXPECT_GT(Version("20240830120000"), Version("0001"));
}

TEST(MigrationStateNames, AreTheWordsStatusPrints) {
  EXPECT_EQ(to_string(MigrationState::applied), "applied");
  EXPECT_EQ(to_string(MigrationState::baseline), "baseline");
  EXPECT_EQ(to_string(MigrationState::pending), "pending");
  EXPECT_EQ(to_string(MigrationState::changed), "changed");
  EXPECT_EQ(to_string(MigrationState::missing), "missing");
  EXPECT_EQ(to_string(MigrationState::failed), "failed");
}

TEST(ComputeStatus, NothingAnywhereIsAnEmptyStatus) {
  Status status = compute_status({}, {});
  EXPECT_TRUE(status.rows.empty());
  EXPECT_FALSE(status.current.has_value());
  EXPECT_EQ(status.applied + status.baseline + status.pending + status.changed + status.missing +
                status.failed,
            0);
}

TEST(ComputeStatus, FilesWithoutLedgerArePendingInVersionOrder) {
  std::vector<Migration> files = {file("9"), file("10"), file("0011")};
  Status status = compute_status(files, {});
  EXPECT_EQ(versions(status), (Strings{"9", "10", "11"}));
  EXPECT_EQ(states(status), (Strings{"pending", "pending", "pending"}));
  EXPECT_EQ(status.pending, 3);
  EXPECT_FALSE(status.current.has_value());
  for (const StatusRow& r : status.rows) {
    EXPECT_EQ(r.entry, nullptr);
    ASSERT_NE(r.migration, nullptr);
    EXPECT_EQ(r.name(), r.migration->name);
  }
}

TEST(ComputeStatus, EveryState) {
  std::vector<Migration> files = {file("1"), file("2"), file("3", "sha256:edited"), file("5"),
                                  file("6")};
  std::vector<LedgerEntry> ledger = {
      row("1"),                         // applied
      row("2", LedgerState::baseline),  // baseline
      row("3"),                         // changed: the file has another checksum
      row("4"),                         // missing: no file
      row("5", LedgerState::failed),    // failed
  };
  // 6: pending
  Status status = compute_status(files, ledger);
  EXPECT_EQ(versions(status), (Strings{"1", "2", "3", "4", "5", "6"}));
  EXPECT_EQ(states(status),
            (Strings{"applied", "baseline", "changed", "missing", "failed", "pending"}));
  EXPECT_EQ(status.applied, 1);
  EXPECT_EQ(status.baseline, 1);
  EXPECT_EQ(status.changed, 1);
  EXPECT_EQ(status.missing, 1);
  EXPECT_EQ(status.failed, 1);
  EXPECT_EQ(status.pending, 1);
  // The failed row does not count as applied: the database is at 4.
  ASSERT_TRUE(status.current.has_value());
  EXPECT_EQ(status.current->str(), "4");

  // The pointers point into the arguments.
  EXPECT_EQ(status.rows[0].migration, &files[0]);
  EXPECT_EQ(status.rows[0].entry, &ledger[0]);
  EXPECT_EQ(status.rows[3].migration, nullptr);
  EXPECT_EQ(status.rows[3].entry, &ledger[3]);
  EXPECT_EQ(status.rows[3].name(), "4-m.sql");  // from the ledger
  EXPECT_EQ(status.rows[5].entry, nullptr);
}

TEST(ComputeStatus, LedgerInAnyOrderIsJoinedNumerically) {
  // Files are in version order; ledger rows in any (text order would put 10 before 9).
  std::vector<Migration> files = {file("0009"), file("0010"), file("0011"), file("0100")};
  std::vector<LedgerEntry> ledger = {row("100"), row("10"), row("9")};
  Status status = compute_status(files, ledger);
  EXPECT_EQ(versions(status), (Strings{"9", "10", "11", "100"}));
  EXPECT_EQ(states(status), (Strings{"applied", "applied", "pending", "applied"}));
  EXPECT_EQ(status.current->str(), "100");
}

TEST(ComputeStatus, LeadingZerosInTheFileNameMatchTheLedgerVersion) {
  std::vector<Migration> files = {file("0011")};
  std::vector<LedgerEntry> ledger = {row("11")};
  Status status = compute_status(files, ledger);
  ASSERT_EQ(status.rows.size(), 1u);
  EXPECT_EQ(status.rows[0].state, MigrationState::applied);
  EXPECT_EQ(status.rows[0].migration, &files[0]);
  EXPECT_EQ(status.rows[0].entry, &ledger[0]);
}

TEST(ComputeStatus, MissingRowsMergeInVersionOrder) {
  std::vector<Migration> files = {file("2"), file("20")};
  std::vector<LedgerEntry> ledger = {row("30"), row("2"), row("3"), row("1")};
  Status status = compute_status(files, ledger);
  EXPECT_EQ(versions(status), (Strings{"1", "2", "3", "20", "30"}));
  EXPECT_EQ(states(status), (Strings{"missing", "applied", "missing", "pending", "missing"}));
  EXPECT_EQ(status.current->str(), "30");
}

TEST(ComputeStatus, BaselineRows) {
  std::vector<Migration> files = {file("1"), file("2"), file("3", "sha256:edited")};
  LedgerEntry no_checksum = row("2", LedgerState::baseline);
  no_checksum.checksum.clear();
  std::vector<LedgerEntry> ledger = {
      row("1", LedgerState::baseline),  // checksum matches
      no_checksum,                      // none recorded: nothing to compare
      row("3", LedgerState::baseline),  // recorded, the file changed since
      row("4", LedgerState::baseline),  // file gone
  };
  Status status = compute_status(files, ledger);
  EXPECT_EQ(states(status), (Strings{"baseline", "baseline", "changed", "missing"}));
  EXPECT_EQ(status.baseline, 2);
  EXPECT_EQ(status.changed, 1);
  EXPECT_EQ(status.missing, 1);
  EXPECT_EQ(status.current->str(), "4");
}

TEST(ComputeStatus, ChangedIsAboutTheChecksumOnly) {
  Migration same = file("1");
  same.down_sql = "DROP TABLE t;";  // the down section is not part of the checksum
  std::vector<Migration> files = {same};
  Status status = compute_status(files, {row("1")});
  EXPECT_EQ(status.rows[0].state, MigrationState::applied);

  files[0].checksum = "sha256:other";
  status = compute_status(files, {row("1")});
  EXPECT_EQ(status.rows[0].state, MigrationState::changed);
  EXPECT_EQ(status.changed, 1);
  EXPECT_EQ(status.applied, 0);
}

TEST(ComputeStatus, FailedRowsAreFailedWithOrWithoutTheirFile) {
  std::vector<Migration> files = {file("1", "sha256:edited")};
  Status status =
      compute_status(files, {row("1", LedgerState::failed), row("2", LedgerState::failed)});
  EXPECT_EQ(states(status), (Strings{"failed", "failed"}));
  EXPECT_EQ(status.failed, 2);
  EXPECT_FALSE(status.current.has_value());
}

TEST(ComputeStatus, CurrentIsTheHighestRecordedVersionNotTheLastRow) {
  std::vector<Migration> files = {file("1"), file("2"), file("3")};
  Status status = compute_status(files, {row("1"), row("2")});
  EXPECT_EQ(status.current->str(), "2");
  // A pending file older than the newest applied one does not lower the current version.
  status = compute_status(files, {row("1"), row("3")});
  EXPECT_EQ(status.current->str(), "3");
  EXPECT_EQ(states(status), (Strings{"applied", "pending", "applied"}));
  // A failed row above the applied ones does not raise it.
  status = compute_status(files, {row("1"), row("3", LedgerState::failed)});
  EXPECT_EQ(status.current->str(), "1");
}

TEST(PlanUp, AppliesEveryPendingMigrationInVersionOrder) {
  std::vector<Migration> files = {file("9"), file("10"), file("0011")};
  Status status = compute_status(files, {});
  UpPlan plan = plan_up(status, std::nullopt);
  EXPECT_EQ(versions(plan.apply), (Strings{"9", "10", "11"}));
  EXPECT_EQ(plan.apply[0], &files[0]);
  EXPECT_TRUE(plan.out_of_order.empty());
}

TEST(PlanUp, NothingPendingIsAnEmptyPlan) {
  std::vector<Migration> files = {file("1"), file("2")};
  Status status = compute_status(files, {row("1"), row("2")});
  UpPlan plan = plan_up(status, std::nullopt);
  EXPECT_TRUE(plan.apply.empty());
  EXPECT_TRUE(plan.out_of_order.empty());
}

TEST(PlanUp, SkipsEveryStateButPending) {
  std::vector<Migration> files = {file("1"), file("2"), file("3", "sha256:edited"), file("5"),
                                  file("6")};
  Status status = compute_status(files, {row("1"), row("2", LedgerState::baseline), row("3"),
                                         row("4"), row("5", LedgerState::failed)});
  EXPECT_EQ(versions(plan_up(status, std::nullopt).apply), (Strings{"6"}));
}

TEST(PlanUp, ToStopsAtAndIncludesTheTarget) {
  std::vector<Migration> files = {file("1"), file("2"), file("10"), file("11")};
  Status status = compute_status(files, {row("1")});
  EXPECT_EQ(versions(plan_up(status, Version("10")).apply), (Strings{"2", "10"}));
  // Numeric, not text: --to 9 stops before 10.
  EXPECT_EQ(versions(plan_up(status, Version("9")).apply), (Strings{"2"}));
  EXPECT_EQ(versions(plan_up(status, Version("0010")).apply), (Strings{"2", "10"}));
  // A target between versions, and one already passed.
  EXPECT_EQ(versions(plan_up(status, Version("3")).apply), (Strings{"2"}));
  EXPECT_TRUE(plan_up(status, Version("1")).apply.empty());
  EXPECT_TRUE(plan_up(status, Version("0")).apply.empty());
  // Beyond the last file: everything.
  EXPECT_EQ(versions(plan_up(status, Version("99")).apply), (Strings{"2", "10", "11"}));
}

TEST(PlanUp, OutOfOrderPendingMigrationsAreAppliedAndListed) {
  // 2 and 4 were merged from a branch after 3 and 5 ran.
  std::vector<Migration> files = {file("1"), file("2"), file("3"), file("4"), file("5"), file("6")};
  Status status = compute_status(files, {row("1"), row("3"), row("5")});
  EXPECT_EQ(status.current->str(), "5");
  UpPlan plan = plan_up(status, std::nullopt);
  EXPECT_EQ(versions(plan.apply), (Strings{"2", "4", "6"}));
  EXPECT_EQ(versions(plan.out_of_order), (Strings{"2", "4"}));

  // With --to, only those up to the target.
  plan = plan_up(status, Version("3"));
  EXPECT_EQ(versions(plan.apply), (Strings{"2"}));
  EXPECT_EQ(versions(plan.out_of_order), (Strings{"2"}));
}

TEST(PlanUp, OlderThanAFailedRowIsNotOutOfOrder) {
  // A failed row is not the current version: nothing is older than what was applied.
  std::vector<Migration> files = {file("1"), file("2")};
  Status status = compute_status(files, {row("2", LedgerState::failed)});
  UpPlan plan = plan_up(status, std::nullopt);
  EXPECT_EQ(versions(plan.apply), (Strings{"1"}));
  EXPECT_TRUE(plan.out_of_order.empty());
}

TEST(ChangedMigrationError, NamesTheFileBothChecksumsAndTheHint) {
  std::vector<Migration> files = {file("3", "sha256:new")};
  std::vector<LedgerEntry> ledger = {row("3", LedgerState::applied, "sha256:old")};
  Status status = compute_status(files, ledger);
  ASSERT_EQ(status.rows[0].state, MigrationState::changed);
  Error error = changed_migration_error(status.rows[0], "do this");
  EXPECT_EQ(error.kind(), ErrorKind::drift);
  EXPECT_EQ(exit_code(error.kind()), 3);
  EXPECT_EQ(error.where, "db/migrations/3-m.sql");
  EXPECT_NE(error.message().find("3-m.sql"), std::string::npos) << error.message();
  EXPECT_NE(error.detail.find("sha256:old"), std::string::npos) << error.detail;
  EXPECT_NE(error.detail.find("sha256:new"), std::string::npos) << error.detail;
  EXPECT_EQ(error.state, "nothing was changed");
  EXPECT_EQ(error.hint, "do this");
}

}  // namespace
}  // namespace dbinit::test
