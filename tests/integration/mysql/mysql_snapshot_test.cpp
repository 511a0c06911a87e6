// Snapshots on the MariaDB test server (engines/mysql/mysql_snapshot.cpp): dump, load and the
// plain SQL script must rebuild a database whose mariadb-dump output (schema, data, AUTO_INCREMENT
// counters, routines, triggers) is the original's, on a fixture with every common column type,
// extreme values, several-MB binary values of every byte, non-ASCII names, foreign keys with
// actions, FULLTEXT and prefix indexes, views on views, routines, triggers, a sequence and
// dbinit's ledger. Loads replace everything (stray objects go), a corrupt file changes nothing,
// and a load killed at any moment leaves the database as it was or as the snapshot.

#include <gmock/gmock.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "engines/engine.h"
#include "engines/snapshot.h"
#include "engines/url.h"
#include "support/harness.h"
#include "util/error.h"
#include "util/stream_file.h"

namespace dbinit::test {
namespace {

namespace fs = std::filesystem;

// A database on the test server and an engine opened on it (created by the engine).
struct Opened {
  std::unique_ptr<TestDatabase> db = make_test_database("mysql");
  std::unique_ptr<Engine> engine = make_engine(parse_database_url(db->url()));
  Opened() { engine->open(true); }
  std::string name() const { return parse_database_url(db->url()).database; }
};

const SnapshotSupport& support() {
  return *find_engine("mysql")->snapshot;
}

/// mariadb-dump of the whole database, dbinit's tables included, without comment lines (which
/// name the database and the server).
std::string dump_view(const TestDatabase& db) {
  const std::string name = parse_database_url(db.url()).database;
  std::vector<std::string> argv = mariadb_client("/usr/bin/mariadb-dump", db);
  for (const char* option : {"--routines", "--triggers", "--skip-dump-date", "--skip-comments"}) {
    argv.emplace_back(option);
  }
  argv.push_back(name);
  RunResult dump = run_program(argv);
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  std::istringstream lines(dump.out);
  std::string view;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("-- ")) continue;
    view += line + "\n";
  }
  return view;
}

std::string all_bytes_hex() {
  std::string hex;
  for (int i = 0; i < 256; ++i) hex += fmt::format("{:02X}", i);
  return hex;
}

void create_fixture(Opened& opened) {
  TestDatabase& db = *opened.db;
  db.query(
      "CREATE TABLE parent (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT "
      "NULL, UNIQUE KEY parent_name (name)) ENGINE=InnoDB");
  db.query(
      "CREATE TABLE child (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, parent_id INT NULL, "
      "note VARCHAR(100) NOT NULL DEFAULT '', CONSTRAINT child_parent FOREIGN KEY (parent_id) "
      "REFERENCES parent (id) ON DELETE CASCADE ON UPDATE SET NULL) ENGINE=InnoDB");
  db.query(
      "CREATE TABLE types (\n"
      "  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,\n"
      "  u BIGINT UNSIGNED, s BIGINT, dec65 DECIMAL(65,30), f FLOAT, d DOUBLE,\n"
      "  dt DATE, dtm DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL, tm TIME(3), y YEAR,\n"
      "  c CHAR(10), vc VARCHAR(100), txt TEXT, lat VARCHAR(50) CHARACTER SET latin1,\n"
      "  bin BINARY(4), vb VARBINARY(300), bl LONGBLOB, e ENUM('a','b','ç'), st SET('x','y','z'),\n"
      "  j JSON, b BIT(13),\n"
      "  g_virtual INT AS (u % 7) VIRTUAL,\n"
      "  g_stored VARCHAR(120) AS (CONCAT(vc, '!')) STORED,\n"
      "  KEY types_prefix (vc(5)), FULLTEXT KEY types_ft (txt)\n"
      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
  db.query(
      "CREATE TABLE `naïve_tàble` (`clé` INT PRIMARY KEY, `prix€` DECIMAL(10,2)) DEFAULT "
      "CHARSET=utf8mb4");
  db.query("CREATE SEQUENCE seq_orders START WITH 100 INCREMENT BY 5");
  db.query("SELECT NEXTVAL(seq_orders)");
  db.query("SELECT NEXTVAL(seq_orders)");

  db.query("INSERT INTO parent (name) VALUES ('one'), ('two'), ('three'), ('gone')");
  db.query("DELETE FROM parent WHERE name = 'gone'");  // the counter stays ahead of the rows
  db.query("INSERT INTO child (parent_id, note) VALUES (1, 'a'), (1, 'b'), (2, 'c'), (NULL, '')");
  const std::string bytes = all_bytes_hex();
  db.query(
      "INSERT INTO types (u, s, dec65, f, d, dt, dtm, ts, tm, y, c, vc, txt, lat, bin, vb, bl, "
      "e, st, j, b) VALUES "
      "(18446744073709551615, -9223372036854775808, "
      "'12345678901234567890123456789012345.123456789012345678901234567890', 16777217, "
      "1.7976931348623157e308, '1000-01-01', '9999-12-31 23:59:59.999999', "
      "'2038-01-19 03:14:07.999999', '-838:59:59.000', 1901, 'abc', "
      "'😀 ünï\\tcode\\n\\\\ \\'\"\\0end', 'long\\ntext \\\\N with \\\\ and tabs\\t', 'é à ÿ', "
      "0x00FF0A09, UNHEX('" +
      bytes + "'), REPEAT(UNHEX('" + bytes +
      "'), 12288), 'ç', 'x,z', '{\"k\": [1, 2.5, \"ü\"]}', b'1010101010101'),"
      "(0, 9223372036854775807, '-0.000000000000000000000000000001', 3.40282e38, 4.9e-324, "
      "'9999-12-31', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01.000000', "
      "'838:59:59.999', 2155, '', '', '', '', 0x00000000, '', '', 'a', '', '[]', b'0'),"
      "(1, -1, 0.1, -1.17549e-38, 2.2250738585072014e-308, '2024-02-29', "
      "'2024-02-29 12:34:56.000001', '2024-02-29 12:34:56.5', '00:00:00', 2000, 'N', '\\\\N', "
      "'\\\\', 'x', 0x5C4E0000, 0x5C4E, 0x0A0D09, 'b', 'x,y,z', 'null', b'1111111111111'),"
      "(NULL, NULL, NULL, 0.1, 0.1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
      "NULL, NULL, NULL, NULL, NULL, NULL, NULL)");
  db.query("INSERT INTO types (u, d) VALUES (5, -0.5)");
  db.query("DELETE FROM types WHERE u = 5");
  db.query("INSERT INTO `naïve_tàble` VALUES (1, 9.99), (2, NULL)");

  db.query("CREATE VIEW parent_names AS SELECT id, name FROM parent");
  db.query(
      "CREATE VIEW parent_counts AS SELECT p.name, COUNT(c.id) AS children FROM parent_names p "
      "LEFT JOIN child c ON c.parent_id = p.id GROUP BY p.name");
  db.query(
      "CREATE PROCEDURE add_parent(IN n VARCHAR(40))\nBEGIN\n  INSERT INTO parent (name) "
      "VALUES (n);\nEND");
  db.query("CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2");
  db.query("CREATE VIEW doubled AS SELECT id, twice(id) AS twice_id FROM parent");
  db.query(
      "CREATE TRIGGER child_note BEFORE INSERT ON child FOR EACH ROW SET NEW.note = "
      "CONCAT('t:', NEW.note)");
  db.query(
      "CREATE TRIGGER child_note_2 BEFORE INSERT ON child FOR EACH ROW FOLLOWS child_note SET "
      "NEW.note = CONCAT(NEW.note, '!')");

  opened.engine->ensure_ledger();
  LedgerEntry entry;
  entry.version = "1";
  entry.name = "0001-init.sql";
  entry.checksum = "sha256:00";
  entry.applied_at = "2026-11-22T03:16:26Z";
  entry.applied_by = "me@host dbinit 0.1.0";
  entry.down_sql = "DROP TABLE parent;";
  opened.engine->record(entry);
  opened.engine->set_meta("environment", "test");
}

// A table large enough for a load to take a while.
void create_big_table(TestDatabase& db, int rows, int seed) {
  db.query(
      "CREATE TABLE big (id INT PRIMARY KEY, b BIGINT, t TEXT, ts TIMESTAMP NULL, d DOUBLE, "
      "KEY big_b (b))");
  db.query(
      fmt::format("INSERT INTO big SELECT seq, seq * {0}, REPEAT(CHAR(65 + (seq + {0}) % 26), 60), "
                  "FROM_UNIXTIME(1600000000 + seq), seq / 7 FROM seq_1_to_{1}",
                  seed, rows));
}

struct Snapshot {
  TempDir dir;
  SnapshotDump result;
};

std::unique_ptr<Snapshot> take(Engine& engine) {
  auto snapshot = std::make_unique<Snapshot>();
  NoProgress progress;
  snapshot->result = support().dump(engine, snapshot->dir.path(), progress);
  return snapshot;
}

void put(Engine& engine, const Snapshot& snapshot) {
  NoProgress progress;
  engine.lock(std::chrono::seconds(10));
  support().load(engine, snapshot.dir.path(), snapshot.result.files, progress);
  engine.unlock();
}

std::vector<std::string> helper_databases(TestDatabase& db) {
  std::vector<std::string> names;
  for (const auto& row :
       db.query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE "
                "'%\\_dbinit\\_%' OR SCHEMA_NAME LIKE 'dbinit\\_%\\_load\\_%'")) {
    names.push_back(row.at(0));
  }
  return names;
}

std::vector<std::string> helpers_of(TestDatabase& db, const std::string& name) {
  std::vector<std::string> mine;
  for (const std::string& helper : helper_databases(db)) {
    if (helper.starts_with(name + "_dbinit_")) mine.push_back(helper);
  }
  return mine;
}

TEST(MysqlSnapshot, DumpAndLoadIntoAnEmptyDatabaseGiveTheSameMariadbDump) {
  Opened source;
  create_fixture(source);
  const std::string before = dump_view(*source.db);
  ASSERT_THAT(before, ::testing::HasSubstr("AUTO_INCREMENT=5"));
  // A sequence goes on after the values its server cached, as after a restart (mariadb-dump too).
  const Rows next_sequence_value = source.db->query("SELECT next_not_cached_value FROM seq_orders");

  auto snapshot = take(*source.engine);
  EXPECT_THAT(snapshot->result.server_version, ::testing::StartsWith("MariaDB "));
  ASSERT_TRUE(snapshot->result.ledger.has_value());
  ASSERT_EQ(snapshot->result.ledger->size(), 1u);
  EXPECT_EQ(snapshot->result.ledger->at(0).down_sql, "DROP TABLE parent;");
  std::map<std::string, std::int64_t> counts;
  for (const SnapshotTable& table : snapshot->result.tables) counts[table.name] = table.rows;
  EXPECT_EQ(counts, (std::map<std::string, std::int64_t>{{"child", 4},
                                                         {"dbinit_meta", 1},
                                                         {"dbinit_migrations", 1},
                                                         {"naïve_tàble", 2},
                                                         {"parent", 3},
                                                         {"types", 4}}));
  for (const WrittenFile& file : snapshot->result.files) {
    EXPECT_EQ(fs::file_size(snapshot->dir.path() / file.name), file.size) << file.name;
  }
  // Nothing changed in the source.
  EXPECT_EQ(dump_view(*source.db), before);

  Opened target;
  put(*target.engine, *snapshot);
  EXPECT_EQ(dump_view(*target.db), before);
  EXPECT_TRUE(helpers_of(*target.db, target.name()).empty());
  // The objects work: the trigger fires, the sequence goes on from where it was.
  target.db.get()->query("INSERT INTO child (parent_id, note) VALUES (2, 'x')");
  EXPECT_EQ(target.db->query("SELECT note FROM child WHERE note LIKE 't:x%'"), (Rows{{"t:x!"}}));
  EXPECT_EQ(target.db->query("SELECT NEXTVAL(seq_orders)"), next_sequence_value);
  EXPECT_EQ(target.db->query("SELECT twice_id FROM doubled WHERE id = 3"), (Rows{{"6"}}));
  EXPECT_EQ(target.db->query("SELECT HEX(f), f + 0e0 FROM types WHERE u = 18446744073709551615"),
            source.db->query("SELECT HEX(f), f + 0e0 FROM types WHERE u = 18446744073709551615"));
  EXPECT_EQ(target.db->query("SELECT MD5(bl), LENGTH(bl) FROM types ORDER BY id"),
            source.db->query("SELECT MD5(bl), LENGTH(bl) FROM types ORDER BY id"));
}

TEST(MysqlSnapshot, LoadReplacesADamagedDatabase) {
  Opened source;
  create_fixture(source);
  const std::string before = dump_view(*source.db);
  auto snapshot = take(*source.engine);

  TestDatabase& db = *source.db;
  db.query("SET foreign_key_checks = 0; DROP TABLE parent");
  db.query("DELETE FROM types WHERE id = 2");
  db.query("UPDATE child SET note = 'changed'");
  db.query("CREATE TABLE stray (id INT PRIMARY KEY)");
  db.query("CREATE VIEW stray_view AS SELECT id FROM stray");
  db.query("CREATE PROCEDURE stray_proc() SELECT 1");
  db.query("CREATE TRIGGER stray_trigger AFTER DELETE ON child FOR EACH ROW SET @x = 1");
  db.query("DROP VIEW parent_counts");
  db.query("CREATE VIEW parent_counts AS SELECT 1 AS other");
  db.query("DROP FUNCTION twice");
  // A table where a view was, and a view where a table was.
  db.query("DROP VIEW parent_names; CREATE TABLE parent_names (id INT)");
  db.query("DROP TABLE `naïve_tàble`; CREATE VIEW `naïve_tàble` AS SELECT 1 AS x");

  put(*source.engine, *snapshot);
  EXPECT_EQ(dump_view(db), before);
  EXPECT_TRUE(helpers_of(db, source.name()).empty());
}

TEST(MysqlSnapshot, DumpIsConsistentWhileAnotherSessionWrites) {
  Opened source;
  source.db->query("CREATE TABLE a (id INT PRIMARY KEY, v INT)");
  source.db->query("CREATE TABLE b (id INT PRIMARY KEY, v INT)");
  std::atomic<bool> stop = false;
  std::atomic<int> written = 0;
  std::thread writer([&] {
    auto engine = make_engine(parse_database_url(source.db->url()));
    engine->open(false);
    for (int i = 1; !stop; ++i) {
      engine->begin();
      const std::string sql = fmt::format(
          "INSERT INTO a VALUES ({0}, {0}); INSERT INTO b VALUES ({0}, {0}); UPDATE a SET v = v + "
          "1 WHERE id = 1; UPDATE b SET v = v + 1 WHERE id = 1",
          i);
      engine->execute(Script{sql, "writer", 1});
      engine->commit();
      written = i;
    }
  });
  while (written < 200) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::unique_ptr<Snapshot> snapshots[3];
  for (auto& snapshot : snapshots) snapshot = take(*source.engine);
  stop = true;
  writer.join();
  for (auto& snapshot : snapshots) {
    std::map<std::string, std::int64_t> counts;
    for (const SnapshotTable& table : snapshot->result.tables) counts[table.name] = table.rows;
    EXPECT_EQ(counts["a"], counts["b"]);
    Opened target;
    put(*target.engine, *snapshot);
    EXPECT_EQ(target.db->query("SELECT COUNT(*), SUM(v) FROM a"),
              target.db->query("SELECT COUNT(*), SUM(v) FROM b"));
    EXPECT_EQ(target.db->query("SELECT COUNT(*) FROM a"), (Rows{{std::to_string(counts["a"])}}));
  }
}

TEST(MysqlSnapshot, SqlScriptRebuildsTheDatabaseThroughTheShellAndRestore) {
  Opened source;
  create_fixture(source);
  const std::string before = dump_view(*source.db);
  TempDir dir;
  {
    FileSink sink(dir.path(), "dump.sql", {});
    NoProgress progress;
    support().dump_sql(*source.engine, sink, progress);
    sink.finish();
  }
  const std::string script = read_file(dir.path() / "dump.sql");
  EXPECT_EQ(dump_view(*source.db), before);

  Opened by_shell;
  RunOptions options;
  options.stdin_data = script;
  std::vector<std::string> argv = mariadb_client("/usr/bin/mariadb", *by_shell.db);
  argv.push_back(by_shell.name());
  RunResult result = run_program(argv, options);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(dump_view(*by_shell.db), before);

  Opened by_restore;
  by_restore.engine->restore({script, "dump.sql", 1});
  EXPECT_EQ(dump_view(*by_restore.db), before);
}

TEST(MysqlSnapshot, CorruptDataFileLeavesTheDatabaseAsItWas) {
  Opened source;
  create_fixture(source);
  create_big_table(*source.db, 20000, 3);
  auto snapshot = take(*source.engine);

  Opened target;
  target.db->query("CREATE TABLE keep (id INT PRIMARY KEY)");
  target.db->query("INSERT INTO keep VALUES (1), (2)");
  const std::string before = dump_view(*target.db);
  std::string big_file;
  for (const WrittenFile& file : snapshot->result.files) {
    if (file.size > 100000 && big_file.empty()) big_file = file.name;
  }
  ASSERT_FALSE(big_file.empty());
  {
    std::fstream file(snapshot->dir.path() / big_file,
                      std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(fs::file_size(snapshot->dir.path() / big_file) / 2));
    file.write("\x13\x37\x00\xff garbage", 12);
  }
  NoProgress progress;
  target.engine->lock(std::chrono::seconds(10));
  try {
    support().load(*target.engine, snapshot->dir.path(), snapshot->result.files, progress);
    ADD_FAILURE() << "the load of a corrupt file succeeded";
  } catch (const Error& error) {
    EXPECT_EQ(error.state, "the database was not changed") << error.full_message();
  }
  target.engine->unlock();
  EXPECT_EQ(dump_view(*target.db), before);
  EXPECT_TRUE(helpers_of(*target.db, target.name()).empty());
}

TEST(MysqlSnapshot, FiftyMegabyteValuesRoundTrip) {
  {
    // Values this large need a server that accepts them at all (sessions opened from now on).
    Opened setter;
    setter.db->query("SET GLOBAL max_allowed_packet = 134217728");
  }
  Opened source;
  source.db->query("CREATE TABLE huge (id INT PRIMARY KEY, bl LONGBLOB, tx LONGTEXT)");
  source.db->query("INSERT INTO huge VALUES (1, REPEAT(UNHEX('" + all_bytes_hex() +
                   "'), 200000), REPEAT('é\\t\\n😀', 1000000))");
  const Rows sums = source.db->query("SELECT MD5(bl), LENGTH(bl), MD5(tx), LENGTH(tx) FROM huge");
  ASSERT_EQ(sums.at(0).at(1), "51200000");
  auto snapshot = take(*source.engine);
  Opened target;
  put(*target.engine, *snapshot);
  EXPECT_EQ(target.db->query("SELECT MD5(bl), LENGTH(bl), MD5(tx), LENGTH(tx) FROM huge"), sums);
}

// Runs the load in a child process and kills it with SIGKILL after `delay` unless it ended
// before; returns whether it ended by itself, successfully.
bool load_and_kill(const std::string& url, const Snapshot& snapshot,
                   std::chrono::microseconds delay) {
  const pid_t pid = fork();
  if (pid == 0) {
    try {
      auto engine = make_engine(parse_database_url(url));
      engine->open(false);
      put(*engine, snapshot);
    } catch (const std::exception& e) {
      fprintf(stderr, "load: %s\n", e.what());
      _exit(1);
    }
    _exit(0);
  }
  const auto deadline = std::chrono::steady_clock::now() + delay;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  ::kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(MysqlSnapshot, LoadKilledAtAnyMomentLeavesTheOldDatabaseOrTheSnapshot) {
  // The same schema before and after (views and a routine, no triggers: dropping old triggers
  // before the RENAME is the one step that can leave a state between the two), other data.
  auto setup = [](TestDatabase& db, int seed) {
    create_big_table(db, 100000, seed);
    db.query("CREATE TABLE small (id INT PRIMARY KEY, v VARCHAR(20))");
    db.query(fmt::format("INSERT INTO small VALUES (1, 'seed {}')", seed));
    db.query("CREATE VIEW small_view AS SELECT id, v FROM small");
    db.query("CREATE FUNCTION plus_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 1");
  };
  Opened source;
  setup(*source.db, 7);
  auto snapshot = take(*source.engine);
  const std::string after = dump_view(*source.db);

  Opened target;
  setup(*target.db, 11);
  auto original = take(*target.engine);
  const std::string before = dump_view(*target.db);
  ASSERT_NE(before, after);

  // How long a whole load takes here, to spread the kills over it.
  const auto start = std::chrono::steady_clock::now();
  put(*target.engine, *snapshot);
  const auto whole = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  put(*target.engine, *original);
  ASSERT_EQ(dump_view(*target.db), before);

  // Kills spread over one and a half times the load's length (a child on a busy machine may
  // take longer), then one load left to finish.
  int as_before = 0, as_snapshot = 0;
  constexpr int k_points = 22;
  for (int i = 0; i <= k_points; ++i) {
    const auto delay = i == k_points ? std::chrono::microseconds(std::chrono::minutes(5))
                                     : whole * (i + 1) * 3 / (2 * k_points);
    const bool finished = load_and_kill(target.db->url(), *snapshot, delay);
    const std::string now = dump_view(*target.db);
    if (now == before) {
      ++as_before;
    } else if (now == after) {
      ++as_snapshot;
      put(*target.engine, *original);  // back to the old state for the next kill
      ASSERT_EQ(dump_view(*target.db), before);
      EXPECT_TRUE(helpers_of(*target.db, target.name()).empty());
    } else {
      ADD_FAILURE() << "killed after " << delay.count()
                    << " us: the database is neither as before nor the snapshot";
      put(*target.engine, *original);
    }
    if (i == k_points) {
      EXPECT_TRUE(finished);
    }
  }
  RecordProperty("kills_as_before", as_before);
  RecordProperty("kills_as_snapshot", as_snapshot);
  EXPECT_GT(as_before, 0);
  EXPECT_GT(as_snapshot, 0);
  // The next load drops what killed loads left behind.
  put(*target.engine, *snapshot);
  EXPECT_EQ(dump_view(*target.db), after);
  EXPECT_TRUE(helpers_of(*target.db, target.name()).empty());
}

// Side by side with mariadb-dump and the mariadb shell on the 3,000,000-row table of the
// benchmarks: seconds, sizes and peak RSS, printed. Not run by default (a measurement, not a
// check): --gtest_also_run_disabled_tests --gtest_filter='*Benchmark*' on a release build.
struct Measured {
  double seconds = 0;
  long peak_rss_kb = 0;
};

template <typename Body>
Measured in_child(Body&& body) {
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    try {
      body();
    } catch (const std::exception& e) {
      fprintf(stderr, "%s\n", e.what());
      _exit(1);
    }
    _exit(0);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return {seconds_since(start), usage.ru_maxrss};
}

std::string shell_quoted(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& arg : argv) out += "'" + arg + "' ";
  return out;
}

TEST(MysqlSnapshotBenchmark, DISABLED_ThreeMillionRows) {
  Opened source;
  source.db->query(
      "CREATE TABLE bench (id INT PRIMARY KEY, b BIGINT, t TEXT, ts TIMESTAMP NULL, d DOUBLE, "
      "KEY bench_b (b))");
  source.db->query(
      "INSERT INTO bench SELECT seq, seq * 7919 % 1000003, CONCAT(MD5(seq), "
      "SUBSTR(MD5(seq + 1), 1, 28)), FROM_UNIXTIME(1600000000 + seq), seq / 7 FROM "
      "seq_1_to_3000000");
  TempDir dir;
  NoProgress progress;
  const fs::path ours = dir.path() / "ours";
  fs::create_directory(ours);
  SnapshotDump dumped;
  const Measured our_dump = in_child([&] {
    auto engine = make_engine(parse_database_url(source.db->url()));
    engine->open(false);
    support().dump(*engine, ours, progress);
  });
  // The parent needs the file list for load(): dump again cheaply? No: list the folder.
  std::uint64_t our_size = 0;
  for (const auto& entry : fs::directory_iterator(ours)) {
    our_size += entry.file_size();
    dumped.files.push_back({entry.path().filename().string(), entry.file_size(), ""});
  }

  const fs::path sql = dir.path() / "mariadb-dump.sql";
  const auto run_timed = [&](const std::string& command) {
    const fs::path times = dir.path() / "time.txt";
    const auto start = std::chrono::steady_clock::now();
    RunResult result =
        run_program({"bash", "-c", "/usr/bin/time -v -o '" + times.string() + "' " + command});
    Measured measured{seconds_since(start), 0};
    EXPECT_EQ(result.exit_code, 0) << result.err;
    const std::string report = read_file(times);
    const std::size_t at = report.find("Maximum resident set size (kbytes): ");
    if (at != std::string::npos) measured.peak_rss_kb = std::stol(report.substr(at + 36));
    return measured;
  };
  std::vector<std::string> dump_argv = mariadb_client("/usr/bin/mariadb-dump", *source.db);
  dump_argv.push_back("--single-transaction");
  dump_argv.push_back(source.name());
  const Measured their_dump = run_timed(shell_quoted(dump_argv) + "> '" + sql.string() + "'");

  Opened by_load;
  const Measured our_load = in_child([&] {
    auto engine = make_engine(parse_database_url(by_load.db->url()));
    engine->open(false);
    engine->lock(std::chrono::seconds(10));
    support().load(*engine, ours, dumped.files, progress);
  });
  Opened by_shell;
  std::vector<std::string> shell_argv = mariadb_client("/usr/bin/mariadb", *by_shell.db);
  shell_argv.push_back(by_shell.name());
  const Measured their_load = run_timed(shell_quoted(shell_argv) + "< '" + sql.string() + "'");

  // CHECKSUM TABLE names the table with its database: compare the sums only.
  EXPECT_EQ(by_load.db->query("CHECKSUM TABLE bench EXTENDED").at(0).at(1),
            source.db->query("CHECKSUM TABLE bench EXTENDED").at(0).at(1));
  fprintf(stderr,
          "dump: dbinit %.2f s (%lu bytes, %ld KB peak RSS), mariadb-dump %.2f s (%lu bytes, %ld "
          "KB), ratio %.2f\n"
          "load: dbinit %.2f s (%ld KB peak RSS), mariadb shell %.2f s (%ld KB), speed-up %.2f\n",
          our_dump.seconds, static_cast<unsigned long>(our_size), our_dump.peak_rss_kb,
          their_dump.seconds, static_cast<unsigned long>(fs::file_size(sql)),
          their_dump.peak_rss_kb, our_dump.seconds / their_dump.seconds, our_load.seconds,
          our_load.peak_rss_kb, their_load.seconds, their_load.peak_rss_kb,
          their_load.seconds / our_load.seconds);
}

}  // namespace
}  // namespace dbinit::test
