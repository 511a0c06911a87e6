#include "engines/engine.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "util/error.h"

namespace dbinit::test {
namespace {

std::vector<LedgerEntry> ledger(const std::vector<std::string>& versions) {
  std::vector<LedgerEntry> out;
  for (const std::string& version : versions) {
    LedgerEntry entry;
    entry.version = version;
    entry.name = version + ".sql";
    out.push_back(entry);
  }
  return out;
}

std::vector<std::string> versions(const std::vector<LedgerEntry>& entries) {
  std::vector<std::string> out;
  for (const LedgerEntry& entry : entries) out.push_back(entry.version);
  return out;
}

TEST(SortLedger, NumericOrderFromPrimaryKeyOrder) {
  // A TEXT primary key returns rows in text order: 10 before 9.
  std::vector<LedgerEntry> entries = ledger({"1", "10", "100", "11", "2", "9"});
  sort_ledger(entries);
  EXPECT_EQ(versions(entries), (std::vector<std::string>{"1", "2", "9", "10", "11", "100"}));
  // The rows move whole.
  EXPECT_EQ(entries[3].name, "10.sql");
}

TEST(SortLedger, SortedAndEmptyInputStayAsTheyAre) {
  std::vector<LedgerEntry> entries = ledger({"20240101000000", "20240102000000", "20250101000000"});
  sort_ledger(entries);
  EXPECT_EQ(versions(entries),
            (std::vector<std::string>{"20240101000000", "20240102000000", "20250101000000"}));
  std::vector<LedgerEntry> none;
  sort_ledger(none);
  EXPECT_TRUE(none.empty());
}

TEST(SortLedger, ReverseOrder) {
  std::vector<LedgerEntry> entries = ledger({"30", "20", "3", "2", "1"});
  sort_ledger(entries);
  EXPECT_EQ(versions(entries), (std::vector<std::string>{"1", "2", "3", "20", "30"}));
}

TEST(LedgerState, NamesRoundTrip) {
  for (LedgerState state : {LedgerState::applied, LedgerState::baseline, LedgerState::failed}) {
    EXPECT_EQ(parse_ledger_state(to_string(state)), state);
  }
  try {
    parse_ledger_state("done");
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::failure);
    EXPECT_NE(error.message().find("'done'"), std::string::npos) << error.message();
  }
}

}  // namespace
}  // namespace dbinit::test
