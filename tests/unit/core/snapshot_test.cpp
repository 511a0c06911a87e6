// The snapshot manifest and snapshot names (core/snapshot.h).

#include "core/snapshot.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace dbinit {
namespace {

SnapshotManifest sample() {
  SnapshotManifest m;
  m.engine = "postgres";
  m.server_version = "PostgreSQL 15.18";
  m.database = "app";
  m.dbinit_version = "0.1.0";
  m.created_at = "2026-12-03T10:00:00Z";
  LedgerEntry one;
  one.version = "1";
  one.name = "0001-a.sql";
  one.checksum = "sha256:aa";
  LedgerEntry ten = one;
  ten.version = "10";
  ten.name = "0010-b.sql";
  LedgerEntry nine = one;
  nine.version = "9";
  nine.name = "0009-c.sql";
  nine.state = LedgerState::baseline;
  m.ledger = std::vector<LedgerEntry>{one, nine, ten};
  m.tables = {{"public.items", 3000000}};
  m.files = {{"data.zst", 12345, std::string(64, 'a')}};
  return m;
}

TEST(SnapshotManifest, RoundTripsThroughJson) {
  const SnapshotManifest m = sample();
  const std::string text = manifest_json(m);
  const SnapshotManifest back = parse_manifest(text, "manifest.json");
  EXPECT_EQ(manifest_json(back), text);
  EXPECT_EQ(back.ledger_version(), "10");
  EXPECT_EQ(back.size(), 12345u);
  ASSERT_TRUE(back.ledger);
  EXPECT_EQ((*back.ledger)[1].state, LedgerState::baseline);
  EXPECT_NE(text.find("\"ledger_version\": \"10\""), std::string::npos);
}

TEST(SnapshotManifest, NoLedgerIsNull) {
  SnapshotManifest m = sample();
  m.ledger.reset();
  const SnapshotManifest back = parse_manifest(manifest_json(m), "m");
  EXPECT_FALSE(back.ledger);
  EXPECT_EQ(back.ledger_version(), "");
}

TEST(SnapshotManifest, RefusesWhatIsNotOne) {
  for (const char* text :
       {"", "[]", "{\"format\": 1}", "{\"format\": 2, \"engine\": \"sqlite\"}",
        "{\"format\": 1, \"engine\": \"sqlite\", \"ledger\": [{\"version\": \"x1\", \"name\": "
        "\"a\", \"checksum\": \"c\", \"state\": \"applied\"}], \"tables\": [], \"files\": []}",
        "{\"format\": 1, \"engine\": \"sqlite\", \"ledger\": null, \"tables\": [], \"files\": "
        "[{\"name\": 3}]}"}) {
    try {
      parse_manifest(text, "db/backups/x/manifest.json");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::config) << text;
      EXPECT_EQ(error.where, "db/backups/x/manifest.json");
    }
  }
}

TEST(SnapshotNames, AcceptSafeFolderNamesOnly) {
  for (const char* good : {"_init", "before-upgrade", "20261203T101500Z", "v1.2", "a"}) {
    EXPECT_NO_THROW(check_snapshot_name(good)) << good;
  }
  for (const char* bad : {"", ".hidden", "-x", "a/b", "..", "a b", "é"}) {
    EXPECT_THROW(check_snapshot_name(bad), Error) << bad;
  }
  EXPECT_THROW(check_snapshot_name(std::string(101, 'a')), Error);
  EXPECT_NO_THROW(check_snapshot_name(std::string(100, 'a')));
}

TEST(SnapshotNames, TimestampNames) {
  const auto when = std::chrono::system_clock::from_time_t(1764756900);  // 2025-12-03T10:15:00Z
  EXPECT_EQ(timestamp_snapshot_name(when), "20251203T101500Z");
  EXPECT_TRUE(is_timestamp_snapshot_name("20251203T101500Z"));
  EXPECT_FALSE(is_timestamp_snapshot_name("_init"));
  EXPECT_FALSE(is_timestamp_snapshot_name("pre-3-20251203T101500Z"));
  EXPECT_FALSE(is_timestamp_snapshot_name("2025120XT101500Z"));
}

}  // namespace
}  // namespace dbinit
