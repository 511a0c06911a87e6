#include "core/down.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/plan.h"
#include "util/error.h"

namespace dbinit::test {
namespace {

using Strings = std::vector<std::string>;

// A migration file with a down section unless `down` is nullopt.
Migration file(const std::string& digits, std::optional<std::string> down = std::string("-- down"),
               int down_line = 5) {
  Migration migration;
  migration.version = Version(digits);
  migration.name = digits + "-m.sql";
  migration.display = "db/migrations/" + migration.name;
  migration.up_sql = "SELECT 1;";
  migration.checksum = "sha256:" + migration.version.str();
  if (down) {
    migration.down_sql = *down + " " + digits;
    migration.down_line = down_line;
  }
  return migration;
}

LedgerEntry row(const std::string& version, LedgerState state = LedgerState::applied,
                std::optional<std::string> down_sql = std::nullopt) {
  LedgerEntry entry;
  entry.version = Version(version).str();
  entry.name = version + "-m.sql";
  entry.checksum = "sha256:" + entry.version;
  entry.state = state;
  entry.down_sql = std::move(down_sql);
  return entry;
}

Strings versions(const DownPlan& plan) {
  Strings out;
  for (const DownStep& step : plan.steps) out.push_back(step.version.str());
  return out;
}

Error error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "no error";
  return Error(ErrorKind::failure, "no error");
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

class PlanDown : public ::testing::Test {
 protected:
  // Five applied migrations, 9, 10, 11, 12, 100 (numeric order), and a pending 101.
  void SetUp() override {
    m_files = {file("0009"), file("0010"), file("0011"), file("0012"), file("0100"), file("0101")};
    m_ledger = {row("100"), row("9"), row("10"), row("11"), row("12")};
  }

  DownPlan plan(int steps, std::optional<Version> to = std::nullopt) {
    m_status = compute_status(m_files, m_ledger);
    return plan_down(m_status, steps, to);
  }

  Error plan_error(int steps, std::optional<Version> to = std::nullopt) {
    return error_of([&] { plan(steps, to); });
  }

  std::vector<Migration> m_files;
  std::vector<LedgerEntry> m_ledger;
  Status m_status;
};

TEST_F(PlanDown, StepsRollsBackTheNewestAppliedNewestFirst) {
  DownPlan p = plan(1);
  EXPECT_EQ(versions(p), (Strings{"100"}));  // the pending 101 is not applied
  EXPECT_EQ(p.applied, 5);
  ASSERT_TRUE(p.version_after.has_value());
  EXPECT_EQ(p.version_after->str(), "12");

  p = plan(3);
  EXPECT_EQ(versions(p), (Strings{"100", "12", "11"}));
  EXPECT_EQ(p.version_after->str(), "10");
}

TEST_F(PlanDown, StepDetailsComeFromTheFile) {
  DownPlan p = plan(1);
  ASSERT_EQ(p.steps.size(), 1u);
  const DownStep& step = p.steps[0];
  EXPECT_EQ(step.name, "0100-m.sql");
  EXPECT_EQ(step.sql, "-- down 0100");
  EXPECT_EQ(step.source, "db/migrations/0100-m.sql");
  EXPECT_EQ(step.first_line, 5);
  EXPECT_FALSE(step.from_ledger);
  ASSERT_NE(step.entry, nullptr);
  EXPECT_EQ(step.entry->version, "100");
}

TEST_F(PlanDown, AGolangMigrateDownFileIsTheSource) {
  m_files[4].down_display = "db/migrations/0100_m.down.sql";
  m_files[4].down_line = 1;
  m_files[4].directives.no_transaction = true;
  DownPlan p = plan(1);
  EXPECT_EQ(p.steps[0].source, "db/migrations/0100_m.down.sql");
  EXPECT_EQ(p.steps[0].first_line, 1);
  EXPECT_TRUE(p.steps[0].directives.no_transaction);
}

TEST_F(PlanDown, MoreStepsThanAppliedRollsBackEverything) {
  DownPlan p = plan(50);
  EXPECT_EQ(versions(p), (Strings{"100", "12", "11", "10", "9"}));
  EXPECT_FALSE(p.version_after.has_value());
}

TEST_F(PlanDown, ZeroOrNegativeStepsRollBackNothing) {
  for (int steps : {0, -3}) {
    DownPlan p = plan(steps);
    EXPECT_TRUE(p.steps.empty()) << steps;
    EXPECT_EQ(p.version_after->str(), "100") << steps;
  }
}

TEST_F(PlanDown, ToKeepsTheTargetAndRollsBackEverythingNewer) {
  DownPlan p = plan(1, Version("10"));
  EXPECT_EQ(versions(p), (Strings{"100", "12", "11"}));
  EXPECT_EQ(p.version_after->str(), "10");
  // Leading zeros name the same version; steps is ignored with --to.
  p = plan(0, Version("0011"));
  EXPECT_EQ(versions(p), (Strings{"100", "12"}));
  EXPECT_EQ(p.version_after->str(), "11");
  // The current version itself: nothing to do.
  p = plan(1, Version("100"));
  EXPECT_TRUE(p.steps.empty());
  EXPECT_EQ(p.version_after->str(), "100");
}

TEST_F(PlanDown, ToAPendingVersionRollsBackNothing) {
  DownPlan p = plan(1, Version("101"));
  EXPECT_TRUE(p.steps.empty());
}

TEST_F(PlanDown, ToZeroRollsBackEverything) {
  DownPlan p = plan(1, Version("0"));
  EXPECT_EQ(versions(p), (Strings{"100", "12", "11", "10", "9"}));
  EXPECT_FALSE(p.version_after.has_value());
  p = plan(1, Version("0000"));
  EXPECT_EQ(p.steps.size(), 5u);
}

TEST_F(PlanDown, ToAnUnknownVersionIsAUsageError) {
  Error error = plan_error(1, Version("13"));
  EXPECT_EQ(error.kind(), ErrorKind::usage);
  EXPECT_TRUE(contains(error.message(), "--to 13")) << error.message();
  EXPECT_TRUE(contains(error.hint, "dbinit status")) << error.hint;
}

TEST_F(PlanDown, AFailedRowRefusesEvenOutsideTheRange) {
  m_ledger[1].state = LedgerState::failed;  // version 9, the oldest
  m_ledger[1].error = "syntax error near x";
  Error error = plan_error(1);
  EXPECT_EQ(error.kind(), ErrorKind::needs_repair);
  EXPECT_EQ(exit_code(error.kind()), 4);
  EXPECT_TRUE(contains(error.message(), "0009-m.sql")) << error.message();
  EXPECT_TRUE(contains(error.message(), "syntax error near x")) << error.message();
  EXPECT_EQ(error.state, "nothing was changed");
  EXPECT_TRUE(contains(error.hint, "repair --forget-failed 9")) << error.hint;
}

TEST_F(PlanDown, AFailedRowWithoutErrorTextSaysSo) {
  m_ledger.push_back(row("101", LedgerState::failed));
  Error error = plan_error(1);
  EXPECT_EQ(error.kind(), ErrorKind::needs_repair);
  EXPECT_TRUE(contains(error.message(), "no error was recorded")) << error.message();
}

TEST_F(PlanDown, AChangedMigrationToRollBackIsDrift) {
  m_files[3].checksum = "sha256:edited";  // 12
  Error error = plan_error(2);
  EXPECT_EQ(error.kind(), ErrorKind::drift);
  EXPECT_TRUE(contains(error.message(), "0012-m.sql")) << error.message();
  EXPECT_TRUE(contains(error.hint, "--accept-checksum 12")) << error.hint;
  // Not in the range: no objection.
  EXPECT_EQ(versions(plan(1)), (Strings{"100"}));
}

TEST_F(PlanDown, MissingDownSqlRefusesNamingEveryMigration) {
  m_files[4] = file("0100", std::nullopt);
  m_files[2] = file("0011", std::nullopt);
  Error error = plan_error(4);
  EXPECT_EQ(error.kind(), ErrorKind::failure);
  EXPECT_EQ(exit_code(error.kind()), 1);
  EXPECT_TRUE(contains(error.message(), "0100-m.sql, 0011-m.sql")) << error.message();
  EXPECT_FALSE(contains(error.message(), "0012-m.sql")) << error.message();
  EXPECT_TRUE(contains(error.state, "nothing was changed")) << error.state;
  EXPECT_TRUE(contains(error.hint, "-- dbinit:down")) << error.hint;
  // Stopping before the migration without down SQL is fine.
  EXPECT_TRUE(plan(5, Version("100")).steps.empty());
}

// An empty recorded down (an empty golang-migrate .down.sql) is a rollback that runs nothing;
// NULL is "no down".
TEST_F(PlanDown, AnEmptyLedgerDownSqlIsANoOpDown) {
  m_files[4] = file("0100", std::nullopt);
  m_ledger[0].down_sql = "";
  DownPlan p = plan(1);
  ASSERT_EQ(versions(p), (Strings{"100"}));
  EXPECT_TRUE(p.steps[0].from_ledger);
  EXPECT_EQ(p.steps[0].sql, "");
  m_ledger[0].down_sql = std::nullopt;
  EXPECT_EQ(plan_error(1).kind(), ErrorKind::failure);
}

TEST_F(PlanDown, ADeletedFileRollsBackWithTheLedgersDownSql) {
  m_files.erase(m_files.begin() + 4);  // 0100 is gone
  m_ledger[0].down_sql = "DROP TABLE t100;";
  DownPlan p = plan(2);
  EXPECT_EQ(versions(p), (Strings{"100", "12"}));
  const DownStep& step = p.steps[0];
  EXPECT_TRUE(step.from_ledger);
  EXPECT_EQ(step.sql, "DROP TABLE t100;");
  EXPECT_EQ(step.name, "100-m.sql");  // the ledger's name
  EXPECT_EQ(step.source, "100-m.sql (down_sql recorded in the ledger)");
  EXPECT_EQ(step.first_line, 1);
  EXPECT_FALSE(step.directives.no_transaction);
  EXPECT_FALSE(p.steps[1].from_ledger);
}

TEST_F(PlanDown, ADeletedFileWithoutLedgerDownSqlRefuses) {
  m_files.erase(m_files.begin() + 4);
  Error error = plan_error(1);
  EXPECT_EQ(error.kind(), ErrorKind::failure);
  EXPECT_TRUE(contains(error.message(), "100-m.sql")) << error.message();
}

TEST_F(PlanDown, AFileWithoutDownSectionFallsBackToTheLedger) {
  m_files[4] = file("0100", std::nullopt);
  m_files[4].directives.foreign_keys_off = true;
  m_ledger[0].down_sql = "DROP TABLE t100;";
  DownPlan p = plan(1);
  ASSERT_EQ(p.steps.size(), 1u);
  EXPECT_TRUE(p.steps[0].from_ledger);
  EXPECT_EQ(p.steps[0].sql, "DROP TABLE t100;");
  // The file's directives still apply.
  EXPECT_TRUE(p.steps[0].directives.foreign_keys_off);
}

TEST_F(PlanDown, TheFilesDownSectionWinsOverTheLedgers) {
  m_ledger[0].down_sql = "-- as applied";
  DownPlan p = plan(1);
  EXPECT_FALSE(p.steps[0].from_ledger);
  EXPECT_EQ(p.steps[0].sql, "-- down 0100");
}

TEST_F(PlanDown, BaselineRowsRollBackLikeAppliedOnes) {
  m_ledger[0].state = LedgerState::baseline;
  DownPlan p = plan(1);
  EXPECT_EQ(versions(p), (Strings{"100"}));
  EXPECT_EQ(p.applied, 5);
}

TEST(PlanDownEmpty, NothingAppliedIsNothingToDo) {
  std::vector<Migration> files = {file("1"), file("2")};
  Status status = compute_status(files, {});
  DownPlan p = plan_down(status, 1, std::nullopt);
  EXPECT_TRUE(p.steps.empty());
  EXPECT_EQ(p.applied, 0);
  EXPECT_FALSE(p.version_after.has_value());
  EXPECT_TRUE(plan_down(status, 1, Version("0")).steps.empty());
}

}  // namespace
}  // namespace dbinit::test
