// `dump`, `load`, `backups`, `seed --record`, `up --load` and `up --backup-before`, on every
// engine: what the snapshot folder holds, what a load replaces, what is refused with the database
// untouched, and what a killed dump or load leaves.

#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engines/url.h"
#include "integration/cli_fixture.h"

namespace dbinit::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::map<std::string, std::string> k_dev = {{"DBINIT_ENV", "development"}};

class SnapshotTest : public CliTest {
 protected:
  void write_history() {
    migration(
        "0001-items.sql",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, label VARCHAR(100), price DECIMAL(12,2));\n"
        "-- dbinit:down\nDROP TABLE items;\n");
    migration("0002-tags.sql",
              "CREATE TABLE tags (item_id INTEGER NOT NULL REFERENCES items (id), "
              "tag VARCHAR(30) NOT NULL, PRIMARY KEY (item_id, tag));\n"
              "CREATE INDEX tags_tag ON tags (tag);\n"
              "CREATE VIEW tagged AS SELECT i.label, t.tag FROM items i JOIN tags t ON t.item_id = "
              "i.id;\n");
  }

  // `rows` rows in items (id 1..rows), the label a text of about 60 characters.
  void fill(int rows, int first = 1) {
    const std::string last = std::to_string(first + rows - 1);
    const std::string from = std::to_string(first);
    if (engine() == "mysql") {
      // MariaDB's sequence engine: no recursion limit.
      db().query(
          "INSERT INTO items (id, label, price) SELECT seq, CONCAT('item number ', seq, "
          "' with a label of some sixty characters'), seq / 100 FROM seq_" +
          from + "_to_" + last);
    } else {
      db().query("INSERT INTO items (id, label, price) WITH RECURSIVE n(i) AS (SELECT " + from +
                 " UNION ALL SELECT i + 1 FROM n WHERE i < " + last +
                 ") SELECT i, 'item number ' || i || ' with a label of some sixty characters', "
                 "i / 100.0 FROM n");
    }
  }

  fs::path backups() const { return project().path() / "db" / "backups"; }

  RunResult dump_ok(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"dump"};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult result = dbinit(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result;
  }

  json manifest(const std::string& name) {
    return json::parse(read_file(backups() / name / "manifest.json"));
  }

  // Flips one byte in the middle of the snapshot's largest data file.
  void damage_file(const std::string& name) {
    fs::path largest;
    std::uintmax_t size = 0;
    for (const auto& entry : fs::directory_iterator(backups() / name)) {
      if (entry.path().filename() == "manifest.json") continue;
      if (entry.file_size() >= size) {
        size = entry.file_size();
        largest = entry.path();
      }
    }
    ASSERT_FALSE(largest.empty());
    std::fstream file(largest, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(size / 2));
    char byte = 0;
    file.read(&byte, 1);
    file.seekp(static_cast<std::streamoff>(size / 2));
    byte = static_cast<char>(byte ^ 0x5a);
    file.write(&byte, 1);
  }

  RunResult load(const std::string& name, std::vector<std::string> extra = {},
                 std::map<std::string, std::string> env = k_dev) {
    std::vector<std::string> args{"load", name};
    args.insert(args.end(), extra.begin(), extra.end());
    return dbinit(args, std::move(env));
  }
};

TEST_F(SnapshotTest, DumpWritesAFolderWithAManifestThatChecksEveryFile) {
  write_history();
  up_ok();
  fill(500);
  db().query("INSERT INTO tags (item_id, tag) VALUES (1, 'red'), (2, 'blue')");
  RunResult dumped = dump_ok({"--name", "first", "--json"});
  const json out = json::parse(dumped.out);
  EXPECT_EQ(out.at("name"), "first");
  EXPECT_EQ(out.at("version"), "2");
  EXPECT_NE(dumped.err.find("wrote snapshot first"), std::string::npos) << dumped.err;

  const fs::path folder = backups() / "first";
  struct stat st {};
  ASSERT_EQ(::stat(folder.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  const json m = manifest("first");
  EXPECT_EQ(m.at("format"), 1);
  EXPECT_EQ(m.at("engine"), engine());
  EXPECT_FALSE(m.at("server_version").get<std::string>().empty());
  EXPECT_EQ(m.at("ledger_version"), "2");
  ASSERT_EQ(m.at("ledger").size(), 2u);
  EXPECT_EQ(m.at("ledger")[1].at("name"), "0002-tags.sql");
  EXPECT_FALSE(m.at("dbinit_version").get<std::string>().empty());
  bool items_counted = false;
  for (const json& table : m.at("tables")) {
    const std::string name = table.at("name");
    if (name == "items" || name == "public.items") {
      EXPECT_EQ(table.at("rows"), 500);
      items_counted = true;
    }
  }
  EXPECT_TRUE(items_counted) << m.dump();
  ASSERT_FALSE(m.at("files").empty());
  for (const json& file : m.at("files")) {
    const fs::path path = folder / file.at("name").get<std::string>();
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
    EXPECT_EQ(static_cast<std::uintmax_t>(st.st_size), file.at("size").get<std::uintmax_t>());
    RunResult sum = run_program({"sha256sum", path.string()});
    EXPECT_EQ(sum.out.substr(0, 64), file.at("sha256").get<std::string>());
  }
  // Nothing but the snapshot is left in the backups folder.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(backups())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"first"});
  // No password anywhere.
  const DatabaseUrl url = parse_database_url(db().url());
  if (!url.password.empty()) {
    EXPECT_EQ(read_file(folder / "manifest.json").find(url.password), std::string::npos);
    EXPECT_EQ(dumped.out.find(url.password), std::string::npos);
    EXPECT_EQ(dumped.err.find(url.password), std::string::npos);
  }
}

TEST_F(SnapshotTest, LoadIntoAnEmptyDatabaseGivesTheSameDatabase) {
  write_history();
  up_ok();
  fill(2000);
  db().query("INSERT INTO tags (item_id, tag) VALUES (1, 'red'), (2, 'blue')");
  dump_ok({"--name", "copy"});
  const std::string original = db().fingerprint();

  auto other = make_test_database(engine());
  RunResult loaded = load("copy", {"--json"}, {{"DBINIT_URL", other->url()}});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  EXPECT_EQ(json::parse(loaded.out).at("replaced"), false);
  EXPECT_EQ(other->fingerprint(), original);
}

TEST_F(SnapshotTest, LoadOverADamagedDatabaseLeavesNothingOfIt) {
  write_history();
  up_ok();
  fill(1000);
  db().query("INSERT INTO tags (item_id, tag) VALUES (3, 'green')");
  dump_ok({"--name", "good"});
  const std::string original = db().fingerprint();

  db().query("DELETE FROM tags");
  db().query("DELETE FROM items WHERE id > 10");
  db().query("DROP VIEW tagged");
  db().query("CREATE TABLE stray (id INTEGER PRIMARY KEY)");
  db().query("CREATE VIEW stray_view AS SELECT id FROM stray");
  db().query("CREATE INDEX items_label ON items (label)");
  ASSERT_NE(db().fingerprint(), original);

  RunResult loaded = load("good", {"--yes"});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  EXPECT_EQ(db().fingerprint(), original);
  EXPECT_NE(loaded.err.find("loaded snapshot good"), std::string::npos) << loaded.err;
}

TEST_F(SnapshotTest, LoadThenMigratesAndDoesNotSeed) {
  write_history();
  up_ok({"--to", "1"});
  fill(10);
  dump_ok({"--name", "at1"});
  project().write("db/seeds/0001-more.sql", "INSERT INTO items (id, label) VALUES (999, 'x');\n");
  up_ok();  // version 2; seeds do not run (the database was not empty)

  RunResult no_migrate = load("at1", {"--yes", "--no-migrate", "--json"});
  ASSERT_EQ(no_migrate.exit_code, 0) << no_migrate.err;
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
  EXPECT_EQ(json::parse(no_migrate.out).at("version"), "1");

  RunResult migrated = load("at1", {"--yes", "--json"});
  ASSERT_EQ(migrated.exit_code, 0) << migrated.err;
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));
  EXPECT_EQ(count("items"), "10");
  const json out = json::parse(migrated.out);
  EXPECT_EQ(out.at("version"), "2");
  ASSERT_EQ(out.at("applied").size(), 1u);
  EXPECT_EQ(out.at("applied")[0].at("name"), "0002-tags.sql");
}

TEST_F(SnapshotTest, ReplacingADatabaseFollowsTheResetGuard) {
  write_history();
  up_ok();
  fill(5);
  dump_ok({"--name", "s"});
  db().query("DELETE FROM items WHERE id = 1");
  const std::string before = db().fingerprint();

  RunResult no_env = load("s", {"--yes"}, {});
  EXPECT_EQ(no_env.exit_code, 8) << no_env.err;
  EXPECT_NE(no_env.err.find("development"), std::string::npos) << no_env.err;
  RunResult unconfirmed = load("s", {});
  EXPECT_EQ(unconfirmed.exit_code, 8) << unconfirmed.err;
  EXPECT_EQ(db().fingerprint(), before);

  // A database recorded as production refuses whatever the local setting.
  migration("0003-more.sql", "CREATE TABLE more (id INTEGER);\n");
  RunResult recorded = dbinit({"up"}, {{"DBINIT_ENV", "production"}});
  ASSERT_EQ(recorded.exit_code, 0) << recorded.err;
  const std::string production = db().fingerprint();
  RunResult refused = load("s", {"--yes"});
  EXPECT_EQ(refused.exit_code, 8) << refused.err;
  EXPECT_NE(refused.err.find("production"), std::string::npos) << refused.err;
  EXPECT_EQ(db().fingerprint(), production);
}

TEST_F(SnapshotTest, CorruptTruncatedAndForeignSnapshotsAreRefusedWithTheDatabaseUntouched) {
  write_history();
  up_ok();
  fill(3000);
  for (const char* name : {"flipped", "truncated", "foreign", "garbage", "missing-file"}) {
    dump_ok({"--name", name});
  }
  db().query("DELETE FROM items WHERE id > 100");
  const std::string before = db().fingerprint();

  damage_file("flipped");
  for (const auto& entry : fs::directory_iterator(backups() / "truncated")) {
    if (entry.path().filename() != "manifest.json") {
      fs::resize_file(entry.path(), entry.file_size() / 2);
    }
  }
  {
    json m = manifest("foreign");
    m["engine"] = engine() == "sqlite" ? "postgres" : "sqlite";
    std::ofstream(backups() / "foreign" / "manifest.json") << m.dump(2);
  }
  std::ofstream(backups() / "garbage" / "manifest.json") << "{\"format\": 1, \"engine\":";
  {
    const json m = manifest("missing-file");
    fs::remove(backups() / "missing-file" / m.at("files")[0].at("name").get<std::string>());
  }

  for (const char* name : {"flipped", "truncated", "foreign", "garbage", "missing-file"}) {
    RunResult result = load(name, {"--yes"});
    EXPECT_EQ(result.exit_code, 2) << name << ": " << result.err;
    EXPECT_NE(result.err.find("nothing was changed"), std::string::npos) << result.err;
    EXPECT_EQ(db().fingerprint(), before) << name;
  }
  RunResult flipped = load("flipped", {"--yes"});
  EXPECT_NE(flipped.err.find("SHA-256"), std::string::npos) << flipped.err;
  RunResult foreign = load("foreign", {"--yes"});
  EXPECT_NE(foreign.err.find("was taken on"), std::string::npos) << foreign.err;
  RunResult none = load("no-such", {"--yes"});
  EXPECT_EQ(none.exit_code, 2) << none.err;

  RunResult listed = dbinit({"backups", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::map<std::string, std::string> status;
  const json document = json::parse(listed.out);
  for (const json& entry : document.at("snapshots")) {
    status[entry.at("name").get<std::string>()] = entry.at("status").get<std::string>();
  }
  EXPECT_EQ(status["flipped"], "corrupt");
  EXPECT_EQ(status["truncated"], "corrupt");
  EXPECT_EQ(status["foreign"], "other engine");
  EXPECT_EQ(status["garbage"], "corrupt");
  EXPECT_EQ(status["missing-file"], "corrupt");
}

TEST_F(SnapshotTest, ASnapshotNewerThanTheMigrationsOrWithAnEditedOneIsRefused) {
  write_history();
  up_ok();
  dump_ok({"--name", "at2"});
  const std::string before = db().fingerprint();

  fs::rename(project().path() / "db/migrations/0002-tags.sql", project().path() / "0002.sql");
  RunResult newer = load("at2", {"--yes"});
  EXPECT_EQ(newer.exit_code, 3) << newer.err;
  EXPECT_NE(newer.err.find("migration 2"), std::string::npos) << newer.err;
  RunResult listed = dbinit({"backups", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(json::parse(listed.out).at("snapshots")[0].at("status"), "newer than the migrations");

  migration("0002-tags.sql", "CREATE TABLE tags (id INTEGER);\n");
  RunResult edited = load("at2", {"--yes"});
  EXPECT_EQ(edited.exit_code, 3) << edited.err;
  EXPECT_NE(edited.err.find("checksum"), std::string::npos) << edited.err;
  EXPECT_EQ(db().fingerprint(), before);
}

TEST_F(SnapshotTest, AnExistingNameNeedsForceAndKeepRemovesOnlyTheOldestTimestampedOnes) {
  write_history();
  up_ok();
  fill(10);
  dump_ok({"--name", "mine"});
  RunResult again = dbinit({"dump", "--name", "mine"});
  EXPECT_EQ(again.exit_code, 2) << again.err;
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;

  fill(10, 11);
  dump_ok({"--name", "mine", "--force"});
  EXPECT_EQ(manifest("mine").at("tables").size() > 0, true);
  auto other = make_test_database(engine());
  ASSERT_EQ(load("mine", {}, {{"DBINIT_URL", other->url()}}).exit_code, 0);
  EXPECT_EQ(other->query("SELECT COUNT(*) FROM items").at(0).at(0), "20");

  for (const char* name : {"20260101T000000Z", "20260102T000000Z", "20260103T000000Z", "_init"}) {
    dump_ok({"--name", name});
  }
  RunResult kept = dump_ok({"--keep", "2", "--json"});
  const std::string newest = json::parse(kept.out).at("name");
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(backups())) {
    names.insert(entry.path().filename().string());
  }
  EXPECT_EQ(names, (std::set<std::string>{"mine", "_init", "20260103T000000Z", newest}));
  EXPECT_EQ(json::parse(kept.out).at("removed"),
            (json::array({"20260101T000000Z", "20260102T000000Z"})));

  RunResult bad = dbinit({"dump", "--name", "../escape"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  RunResult keep_zero = dbinit({"dump", "--keep", "0"});
  EXPECT_EQ(keep_zero.exit_code, 2) << keep_zero.err;
  RunResult json_to_stdout = dbinit({"dump", "--format", "sql", "--json"});
  EXPECT_EQ(json_to_stdout.exit_code, 2) << json_to_stdout.err;
  EXPECT_NE(json_to_stdout.out.find("--output FILE"), std::string::npos) << json_to_stdout.out;
  if (engine() != "postgres") {
    // Template snapshots are PostgreSQL's CREATE DATABASE ... TEMPLATE.
    RunResult no_template = dbinit({"dump", "--template", "--name", "t"});
    EXPECT_EQ(no_template.exit_code, 2) << no_template.err;
    EXPECT_NE(no_template.err.find("without --template"), std::string::npos) << no_template.err;
  }
}

TEST_F(SnapshotTest, UpLoadsTheNamedSnapshotThenInitIntoAnEmptyDatabase) {
  write_history();
  project().write("db/init/init.sql", "CREATE TABLE from_init (id INTEGER);\n");
  project().write("db/seeds/0001.sql", "INSERT INTO items (id, label) VALUES (1, 'seeded');\n");
  // seed --record: reset, migrate, seed, dump as _init (development only).
  RunResult refused = dbinit({"seed", "--record", "--yes"});
  EXPECT_EQ(refused.exit_code, 8) << refused.err;
  RunResult recorded = dbinit({"seed", "--record", "--yes"}, k_dev);
  ASSERT_EQ(recorded.exit_code, 0) << recorded.err;
  EXPECT_TRUE(fs::exists(backups() / "_init" / "manifest.json"));
  EXPECT_EQ(manifest("_init").at("ledger_version"), "2");
  fill(5, 100);
  dump_ok({"--name", "bigger"});

  auto fresh = make_test_database(engine());
  RunResult up = dbinit({"up", "--json"}, {{"DBINIT_URL", fresh->url()}});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_NE(up.err.find("loaded snapshot _init"), std::string::npos) << up.err;
  EXPECT_EQ(json::parse(up.out).at("snapshot"), "_init");
  EXPECT_EQ(fresh->query("SELECT COUNT(*) FROM items").at(0).at(0), "1");

  auto named = make_test_database(engine());
  RunResult with_load = dbinit({"up", "--load", "bigger"}, {{"DBINIT_URL", named->url()}});
  ASSERT_EQ(with_load.exit_code, 0) << with_load.err;
  EXPECT_EQ(named->query("SELECT COUNT(*) FROM items").at(0).at(0), "6");
  // Not empty any more: DBINIT_LOAD is only noted.
  RunResult again = dbinit({"up"}, {{"DBINIT_URL", named->url()}, {"DBINIT_LOAD", "_init"}});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("not empty"), std::string::npos) << again.err;
  EXPECT_EQ(named->query("SELECT COUNT(*) FROM items").at(0).at(0), "6");

  // Without _init, the init dump is used.
  fs::remove_all(backups() / "_init");
  auto plain = make_test_database(engine());
  RunResult init = dbinit({"up"}, {{"DBINIT_URL", plain->url()}});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_NE(init.err.find("restored init dump"), std::string::npos) << init.err;
}

TEST_F(SnapshotTest, BackupBeforeTakesASnapshotOnlyWhenMigrationsArePending) {
  write_history();
  up_ok({"--to", "1"});
  fill(20);
  RunResult none = dbinit({"up", "--to", "1", "--backup-before"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_FALSE(fs::exists(backups()));

  RunResult taken = dbinit({"up", "--backup-before", "--json"});
  ASSERT_EQ(taken.exit_code, 0) << taken.err;
  const std::string name = json::parse(taken.out).at("backup");
  EXPECT_TRUE(name.starts_with("pre-2-")) << name;
  EXPECT_EQ(manifest(name).at("ledger_version"), "1");
}

TEST_F(SnapshotTest, AFailingMigrationAfterBackupBeforeLeavesTheDatabaseAsItWas) {
  write_history();
  up_ok();
  fill(20);
  const std::string before = db().fingerprint();
  migration("0003-breaks.sql", "CREATE TABLE half (id INTEGER);\n" + failing_statement() + "\n");
  RunResult failed = dbinit({"up", "--json"}, {{"DBINIT_BACKUP_BEFORE", "1"}});
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  const json out = json::parse(failed.out);
  // Either the run was rolled back (SQLite, PostgreSQL) or the snapshot was loaded back (MySQL):
  // no `failed` row, no half-made table.
  EXPECT_EQ(db().fingerprint(), before);
  if (!transactional()) {
    EXPECT_NE(failed.err.find("restored from the snapshot pre-3-"), std::string::npos)
        << failed.err;
  }
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));
  (void)out;
}

TEST_F(SnapshotTest, SqlFormatIsAnInitDumpThatUpRestores) {
  write_history();
  up_ok();
  fill(300);
  db().query("INSERT INTO tags (item_id, tag) VALUES (1, 'it''s'), (2, 'a\\b')");
  RunResult dumped = dbinit({"dump", "--format", "sql", "--output", "db/init/init.sql"});
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  const std::string original = db().fingerprint();
  RunResult to_stdout = dbinit({"dump", "--format", "sql"});
  ASSERT_EQ(to_stdout.exit_code, 0) << to_stdout.err;
  // The same script, but for pg_dump's \restrict key, which is new in every dump.
  auto without_restrict_keys = [](const std::string& text) {
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = text.find('\n', pos);
      end = end == std::string::npos ? text.size() : end + 1;
      const std::string_view line(text.data() + pos, end - pos);
      if (!line.starts_with("\\restrict ") && !line.starts_with("\\unrestrict ")) out += line;
      pos = end;
    }
    return out;
  };
  EXPECT_EQ(without_restrict_keys(to_stdout.out),
            without_restrict_keys(read_file(project().path() / "db/init/init.sql")));

  auto fresh = make_test_database(engine());
  RunResult up = dbinit({"up"}, {{"DBINIT_URL", fresh->url()}});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_NE(up.err.find("restored init dump"), std::string::npos) << up.err;
  EXPECT_EQ(fresh->fingerprint(), original);
}

TEST_F(SnapshotTest, AKilledDumpLeavesNoFolderUnderItsName) {
  write_history();
  up_ok();
  fill(engine() == "sqlite" ? 150000 : 100000);
  const auto start = std::chrono::steady_clock::now();
  dump_ok({"--name", "timing"});
  const double full = seconds_since(start);
  RunOptions options;
  options.cwd = project().path();
  options.env["DBINIT_URL"] = db().url();
  int complete = 0;
  for (int point = 0; point < 20; ++point) {
    Child child({DBINIT_BINARY, "dump", "--name", "killed"}, options);
    std::this_thread::sleep_for(std::chrono::duration<double>(full * point / 20.0));
    child.kill(SIGKILL);
    child.wait();
    if (fs::exists(backups() / "killed")) {
      // The rename is the last step: a folder under the name is a whole snapshot.
      RunResult listed = dbinit({"backups", "--json"});
      const json document = json::parse(listed.out);
      for (const json& entry : document.at("snapshots")) {
        if (entry.at("name") == "killed") {
          EXPECT_EQ(entry.at("status"), "ok") << point;
        }
      }
      fs::remove_all(backups() / "killed");
      ++complete;
    }
  }
  EXPECT_LT(complete, 20);
  // The next dump removes what the killed ones left.
  dump_ok({"--name", "after"});
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(backups())) {
    names.insert(entry.path().filename().string());
  }
  EXPECT_EQ(names, (std::set<std::string>{"after", "timing"}));
}

TEST_F(SnapshotTest, AKilledLoadLeavesTheDatabaseAsItWasOrAsTheSnapshot) {
  write_history();
  up_ok();
  fill(engine() == "sqlite" ? 150000 : 100000);
  dump_ok({"--name", "big"});
  const std::string snapshot = db().fingerprint();
  db().query("DELETE FROM items WHERE id > 1000");
  db().query("CREATE TABLE stray (id INTEGER)");
  dump_ok({"--name", "small"});
  const std::string small = db().fingerprint();
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(load("big", {"--yes", "--no-migrate"}).exit_code, 0);
  const double full = seconds_since(start);
  ASSERT_EQ(load("small", {"--yes", "--no-migrate"}).exit_code, 0);

  RunOptions options;
  options.cwd = project().path();
  options.env = {{"DBINIT_URL", db().url()}, {"DBINIT_ENV", "development"}};
  int before = 0;
  for (int point = 0; point < 20; ++point) {
    Child child({DBINIT_BINARY, "load", "big", "--yes", "--no-migrate"}, options);
    std::this_thread::sleep_for(std::chrono::duration<double>(full * point / 20.0));
    child.kill(SIGKILL);
    child.wait();
    const std::string now = db().fingerprint();
    if (now == small) {
      ++before;
    } else {
      ASSERT_EQ(now, snapshot) << "kill point " << point;
      ASSERT_EQ(load("small", {"--yes", "--no-migrate"}).exit_code, 0);
    }
  }
  EXPECT_GT(before, 0);
  // Whatever was killed, the next load works.
  ASSERT_EQ(load("big", {"--yes", "--no-migrate"}).exit_code, 0);
  EXPECT_EQ(db().fingerprint(), snapshot);
}

TEST_F(SnapshotTest, AFullDiskDuringADumpLeavesNothingHalfWritten) {
  write_history();
  up_ok();
  fill(20000);
  // The backups folder on a 64 KiB tmpfs, in a mount namespace of the test's own.
  const fs::path small = project().path() / "small";
  fs::create_directories(small);
  const std::string dump =
      std::string("'") + DBINIT_BINARY + "' dump --name full --backups '" + small.string() + "'";
  const std::string out = project().path().string();
  const std::string script =
      "set -u\nmount -t tmpfs -o size=64k tmpfs '" + small.string() + "' || exit 90\n" + dump +
      " >'" + out + "/full.out' 2>'" + out + "/full.err'; echo $? >'" + out + "/full.rc'\nls -A '" +
      small.string() + "' >'" + out + "/listing'\nmount -o remount,size=64m '" + small.string() +
      "' || exit 92\n" + dump + " >'" + out + "/again.out' 2>'" + out + "/again.err'; echo $? >'" +
      out + "/again.rc'\nls -A '" + small.string() + "' >'" + out + "/listing2'\n";
  RunOptions options;
  options.cwd = project().path();
  options.env["DBINIT_URL"] = db().url();
  RunResult shell = run_program({"unshare", "-m", "sh", "-c", script}, options);
  ASSERT_EQ(shell.exit_code, 0) << "could not set up the small file system (needs root): "
                                << shell.err;
  const std::string err = read_file(project().path() / "full.err");
  EXPECT_EQ(read_file(project().path() / "full.rc"), "1\n") << err;
  EXPECT_NE(err.find("No space left on device"), std::string::npos) << err;
  EXPECT_NE(err.find("free space"), std::string::npos) << err;
  // No folder under the name, and nothing of the failed dump left.
  EXPECT_EQ(read_file(project().path() / "listing"), "");
  EXPECT_EQ(read_file(project().path() / "again.rc"), "0\n")
      << read_file(project().path() / "again.err");
  EXPECT_EQ(read_file(project().path() / "listing2"), "full\n");
}

}  // namespace
}  // namespace dbinit::test
