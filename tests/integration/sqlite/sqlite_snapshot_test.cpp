// Snapshots of SQLite databases (engines/snapshot.h) on real files, judged by the sqlite3 shell:
// a database loaded from a snapshot, or built from the SQL script by the shell or by restore(),
// must give the same `.dump` as the original. Every storage class, odd identifiers, generated
// columns, WITHOUT ROWID, AUTOINCREMENT counters and the ledger are in the fixture. A dump taken
// while another connection writes shows one moment; a load killed at any moment, or stopped by a
// full disk, leaves the database as it was.

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "engines/engine.h"
#include "engines/snapshot.h"
#include "engines/sqlite/sqlite_engine.h"
#include "engines/url.h"
#include "support/harness.h"
#include "util/error.h"
#include "util/sha256.h"

namespace dbinit::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

const SnapshotSupport& support() {
  return k_sqlite_snapshot_support;
}

std::unique_ptr<Engine> open_engine(const fs::path& path, const std::string& params = "") {
  auto engine = make_engine(parse_database_url("sqlite:" + path.string() + params));
  engine->open(true);
  return engine;
}

/// Runs `sql` with the sqlite3 shell on `db`, stopping at the first error.
void shell(const fs::path& db, const std::string& sql) {
  RunOptions options;
  options.stdin_data = sql;
  RunResult result = run_program({"sqlite3", "-bail", db.string()}, options);
  ASSERT_EQ(result.exit_code, 0) << result.err;
}

std::string shell_output(const fs::path& db, const std::string& command) {
  RunResult result = run_program({"sqlite3", db.string(), command});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.out;
}

std::string shell_dump(const fs::path& db) {
  return shell_output(db, ".dump");
}

/// What `.dump` cannot show: text with a NUL (the shell cuts it there) and each value's type.
/// A snapshot also keeps the rowids of tables without INTEGER PRIMARY KEY (`with_rowids`); the
/// SQL script, like sqlite3 .dump, keeps their order only.
std::string exact_values(const fs::path& db, bool with_rowids = true) {
  return shell_output(db, std::string("SELECT id, hex(t), typeof(t), typeof(r), typeof(i), "
                                      "typeof(b) FROM kinds ORDER BY id; SELECT ") +
                              (with_rowids ? "rowid, " : "") + "* FROM plain ORDER BY rowid;");
}

/// Every storage class and the schema objects SQLite has, with dbinit's ledger.
void build_fixture(const fs::path& db) {
  shell(db, R"sql(
PRAGMA foreign_keys=ON;
CREATE TABLE kinds (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, n, e TEXT DEFAULT '');
INSERT INTO kinds VALUES (1, 9223372036854775807, 0.1, 'it''s', X'00FF10', NULL, '');
INSERT INTO kinds VALUES (2, -9223372036854775808, 1e308 * 10, '', X'', 'any', NULL);
INSERT INTO kinds VALUES (3, 0, -1e308 * 10, 'line one
line two', zeroblob(10), 42, 'x');
INSERT INTO kinds VALUES (4, 1, 4.9406564584124654e-324, 'Grüße, 日本語, 🎉, Ελληνικά', randomblob(5000000), 3.5, 'y');
INSERT INTO kinds VALUES (5, -1, 1.7976931348623157e308, 'a' || char(0) || 'b' || char(13) || char(10), NULL, X'01', 'z');
INSERT INTO kinds VALUES (6, 12345678901234, -0.0, 'tab	and \ backslash and "quotes"', CAST('text as blob' AS BLOB), 1e-300, NULL);
INSERT INTO kinds VALUES (7, NULL, 123456789.123456789, NULL, NULL, NULL, NULL);
INSERT INTO kinds VALUES (8, 2, 1.0, '0', X'30', '1', CAST(X'C328' AS TEXT));
CREATE TABLE floats (x REAL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO floats SELECT CASE i % 3 WHEN 0 THEN random() / 7.0 WHEN 1 THEN 1.0 / (i * 7.3)
                                     ELSE (random() % 1000000) * 1e-300 / 3.0 END FROM n;
CREATE TABLE "Ünïcode tåble" ("spalte ä" TEXT, "quote""d" INTEGER, "select" TEXT);
INSERT INTO "Ünïcode tåble" VALUES ('ä', 1, 'keyword'), ('b', NULL, '');
CREATE TABLE seq (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
INSERT INTO seq (v) VALUES ('a'), ('b'), ('c');
DELETE FROM seq WHERE v = 'c';
CREATE TABLE wr (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;
INSERT INTO wr VALUES ('b', 2), ('a', 1);
CREATE TABLE gen (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL,
                  c TEXT GENERATED ALWAYS AS (a || 'x') STORED);
INSERT INTO gen (a) VALUES (1), (2), (NULL);
CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE,
                    note TEXT);
INSERT INTO parent VALUES (1, 'one'), (2, 'two');
INSERT INTO child VALUES (10, 1, 'x'), (11, 2, NULL);
CREATE TABLE plain (a TEXT, b REAL);
INSERT INTO plain VALUES ('A', 1.5), ('B', -2), ('C', 3), ('D', 0);
DELETE FROM plain WHERE a = 'B';
CREATE TABLE desc_key (id INTEGER PRIMARY KEY DESC, v TEXT);
INSERT INTO desc_key VALUES (5, 'five'), (3, 'three');
CREATE TABLE empty_one (x);
CREATE VIRTUAL TABLE docs USING fts5 (title, body);
INSERT INTO docs VALUES ('hello', 'world of text'), ('second', 'more words');
CREATE INDEX child_parent ON child (parent_id);
CREATE INDEX plain_partial ON plain (a) WHERE b > 0;
CREATE INDEX plain_expression ON plain (lower(a), b * 2);
CREATE VIEW children AS SELECT p.name, c.note FROM parent p JOIN child c ON c.parent_id = p.id;
CREATE TRIGGER child_touch AFTER INSERT ON child BEGIN
  UPDATE parent SET name = name WHERE id = NEW.parent_id;
END;
)sql");
  auto engine = open_engine(db);
  engine->ensure_ledger();
  LedgerEntry entry;
  entry.version = "1";
  entry.name = "0001-init.sql";
  entry.checksum = "sha256:" + std::string(64, 'a');
  entry.applied_at = "2026-11-22T03:16:26Z";
  entry.duration_ms = 7;
  entry.applied_by = "app@host dbinit 0.1.0";
  entry.down_sql = "DROP TABLE kinds;\nDROP TABLE seq;\n";
  engine->record(entry);
  entry.version = "2";
  entry.name = "0002-more.sql";
  entry.down_sql.reset();
  engine->record(entry);
  engine->set_meta(k_meta_environment, "development");
}

SnapshotDump dump_into(Engine& engine, const fs::path& dir) {
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  NoProgress progress;
  return support().dump(engine, dir, progress);
}

void load_from(Engine& engine, const fs::path& dir, const SnapshotDump& dump) {
  NoProgress progress;
  engine.lock(milliseconds{5000});
  try {
    support().load(engine, dir, dump.files, progress);
  } catch (...) {
    engine.unlock();
    throw;
  }
  engine.unlock();
}

std::int64_t rows_of(const SnapshotDump& dump, const std::string& table) {
  for (const SnapshotTable& t : dump.tables) {
    if (t.name == table) return t.rows;
  }
  ADD_FAILURE() << "no table " << table << " in the snapshot";
  return -1;
}

TEST(SqliteSnapshot, DumpThenLoadIntoAnEmptyDatabaseGivesTheSameDump) {
  TempDir dir;
  const fs::path original = dir.path() / "original.sqlite3";
  build_fixture(original);
  const std::string expected = shell_dump(original);
  // A folder name with the characters that SQLite URIs escape.
  const fs::path snap = dir.path() / "snap ?#%20 é";
  ASSERT_THAT(expected, HasSubstr("CREATE TABLE dbinit_migrations"));

  SnapshotDump dump;
  {
    auto engine = open_engine(original);
    dump = dump_into(*engine, snap);
  }
  EXPECT_THAT(dump.server_version, HasSubstr("SQLite 3."));
  ASSERT_TRUE(dump.ledger.has_value());
  ASSERT_EQ(dump.ledger->size(), 2u);
  EXPECT_EQ((*dump.ledger)[0].down_sql.value_or(""), "DROP TABLE kinds;\nDROP TABLE seq;\n");
  EXPECT_EQ(rows_of(dump, "kinds"), 8);
  EXPECT_EQ(rows_of(dump, "seq"), 2);
  EXPECT_EQ(rows_of(dump, "dbinit_migrations"), 2);
  EXPECT_EQ(rows_of(dump, "dbinit_meta"), 1);
  EXPECT_EQ(rows_of(dump, "Ünïcode tåble"), 2);
  EXPECT_EQ(rows_of(dump, "empty_one"), 0);
  for (const SnapshotTable& table : dump.tables) EXPECT_NE(table.name, "sqlite_sequence");

  ASSERT_EQ(dump.files.size(), 1u);
  const fs::path file = snap / dump.files[0].name;
  const std::string bytes = read_file(file);
  EXPECT_EQ(dump.files[0].size, bytes.size());
  EXPECT_EQ(dump.files[0].sha256, sha256_hex(bytes));
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  // The snapshot is a database of its own that the shell reads.
  EXPECT_EQ(shell_output(file, "PRAGMA integrity_check;"), "ok\n");

  const fs::path target = dir.path() / "target.sqlite3";
  {
    auto engine = open_engine(target);
    load_from(*engine, snap, dump);
    // The connection that loaded sees the new contents at once.
    auto ledger = engine->read_ledger();
    ASSERT_TRUE(ledger.has_value());
    EXPECT_EQ(ledger->size(), 2u);
    EXPECT_EQ(engine->meta(k_meta_environment).value_or(""), "development");
  }
  EXPECT_EQ(shell_dump(target), expected);
  EXPECT_EQ(exact_values(target), exact_values(original));
  EXPECT_EQ(shell_output(target, "PRAGMA integrity_check;"), "ok\n");
}

TEST(SqliteSnapshot, LoadOverADamagedDatabaseLeavesExactlyTheSnapshot) {
  TempDir dir;
  const fs::path original = dir.path() / "original.sqlite3";
  build_fixture(original);
  const std::string expected = shell_dump(original);
  SnapshotDump dump;
  {
    auto engine = open_engine(original);
    dump = dump_into(*engine, dir.path() / "snap");
  }
  const fs::path target = dir.path() / "target.sqlite3";
  fs::copy_file(original, target);
  shell(target, R"sql(
DROP TABLE wr;
DELETE FROM kinds WHERE id > 2;
UPDATE dbinit_migrations SET checksum = 'changed';
CREATE TABLE stray (x);
INSERT INTO stray VALUES (1);
CREATE VIEW stray_view AS SELECT * FROM stray;
CREATE TRIGGER stray_trigger AFTER INSERT ON plain BEGIN SELECT 1; END;
CREATE INDEX stray_index ON kinds (i);
PRAGMA page_size = 1024;
VACUUM;
)sql");
  ASSERT_NE(shell_dump(target), expected);
  {
    auto engine = open_engine(target);
    load_from(*engine, dir.path() / "snap", dump);
  }
  EXPECT_EQ(shell_dump(target), expected);
  EXPECT_EQ(exact_values(target), exact_values(original));
  EXPECT_EQ(shell_output(target, "PRAGMA integrity_check;"), "ok\n");
}

TEST(SqliteSnapshot, CorruptSnapshotFileIsRefusedAndTheDatabaseKept) {
  TempDir dir;
  const fs::path target = dir.path() / "target.sqlite3";
  shell(target, "CREATE TABLE kept (x); INSERT INTO kept VALUES (1);");
  const std::string before = shell_dump(target);
  const fs::path snap = dir.path() / "snap";
  fs::create_directories(snap);
  dir.write("snap/database.sqlite3", std::string(8192, 'x'));
  SnapshotDump dump;
  dump.files.push_back(WrittenFile{"database.sqlite3", 8192, ""});
  auto engine = open_engine(target);
  try {
    load_from(*engine, snap, dump);
    ADD_FAILURE() << "a file that is not a database was loaded";
  } catch (const Error& error) {
    EXPECT_THAT(error.full_message(), HasSubstr("not a database"));
    EXPECT_THAT(error.state, HasSubstr("not changed"));
  }
  engine.reset();
  EXPECT_EQ(shell_dump(target), before);
}

/// Two tables that a writer fills in step, one row each per transaction: a dump that shows one
/// moment counts as many rows in both.
void run_dump_while_writing(const std::string& journal_mode) {
  TempDir dir;
  const fs::path db = dir.path() / "busy.sqlite3";
  shell(db, "PRAGMA journal_mode=" + journal_mode +
                "; CREATE TABLE a (id INTEGER PRIMARY KEY, pad TEXT);"
                " CREATE TABLE b (id INTEGER PRIMARY KEY, pad TEXT);"
                " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)"
                " INSERT INTO a SELECT i, hex(randomblob(100)) FROM n;"
                " INSERT INTO b SELECT * FROM a;");
  std::atomic<bool> stop{false};
  std::atomic<int> commits{0};
  std::thread writer([&] {
    auto engine = open_engine(db);
    while (!stop) {
      engine->begin();
      engine->execute(
          Script{"INSERT INTO a (pad) VALUES (hex(randomblob(100)));"
                 "INSERT INTO b (pad) VALUES (hex(randomblob(100)));",
                 "writer", 1});
      engine->commit();
      ++commits;
      // A pause as an application leaves between transactions: SQLite's busy handler lets a
      // reader that met a committing writer wait with growing sleeps, which a writer without
      // pauses would turn into seconds.
      std::this_thread::sleep_for(milliseconds{1});
    }
  });
  while (commits < 20) std::this_thread::sleep_for(milliseconds{1});
  std::vector<SnapshotDump> dumps;
  {
    auto engine = open_engine(db);
    for (int i = 0; i < 3; ++i) {
      dumps.push_back(dump_into(*engine, dir.path() / ("snap" + std::to_string(i))));
      std::this_thread::sleep_for(milliseconds{20});
    }
  }
  stop = true;
  writer.join();
  EXPECT_GT(commits, 20);
  for (int i = 0; i < 3; ++i) {
    const SnapshotDump& dump = dumps[static_cast<std::size_t>(i)];
    EXPECT_EQ(rows_of(dump, "a"), rows_of(dump, "b"));
    EXPECT_GE(rows_of(dump, "a"), 20000);
    const fs::path copy = dir.path() / ("copy" + std::to_string(i) + ".sqlite3");
    {
      auto engine = open_engine(copy);
      load_from(*engine, dir.path() / ("snap" + std::to_string(i)), dump);
    }
    EXPECT_EQ(
        shell_output(copy, "SELECT count(*) FROM a; SELECT count(*) FROM b;"),
        std::to_string(rows_of(dump, "a")) + "\n" + std::to_string(rows_of(dump, "b")) + "\n");
    EXPECT_EQ(shell_output(copy, "PRAGMA integrity_check;"), "ok\n");
  }
}

TEST(SqliteSnapshot, DumpWhileAnotherConnectionWritesShowsOneMoment) {
  run_dump_while_writing("delete");
}

TEST(SqliteSnapshot, DumpOfAWalDatabaseWhileAnotherConnectionWritesShowsOneMoment) {
  run_dump_while_writing("wal");
}

TEST(SqliteSnapshot, WalDatabaseWithCommitsStillInTheWal) {
  TempDir dir;
  const fs::path original = dir.path() / "wal.sqlite3";
  build_fixture(original);
  shell(original, "PRAGMA journal_mode=WAL;");
  // Rows committed but not yet checkpointed: the engine keeps its connection (and so the WAL)
  // open, with automatic checkpoints off.
  auto engine = open_engine(original);
  engine->execute(
      Script{"PRAGMA wal_autocheckpoint=0; INSERT INTO plain VALUES ('in wal', 9);"
             "CREATE TABLE late (x); INSERT INTO late VALUES (randomblob(100000));",
             "test", 1});
  ASSERT_GT(fs::file_size(fs::path(original.string() + "-wal")), 100000u);
  const std::string expected = shell_dump(original);
  const SnapshotDump dump = dump_into(*engine, dir.path() / "snap");
  EXPECT_EQ(rows_of(dump, "late"), 1);
  // The snapshot file is a rollback-journal database: it opens without side files.
  const fs::path file = dir.path() / "snap" / "database.sqlite3";
  EXPECT_EQ(read_file(file).substr(18, 2), std::string("\x01\x01", 2));

  // Into a database in WAL mode (kept in WAL mode) and into one with a rollback journal.
  const fs::path wal_target = dir.path() / "wal-target.sqlite3";
  shell(wal_target, "PRAGMA journal_mode=WAL; CREATE TABLE old (x); INSERT INTO old VALUES (1);");
  {
    auto target = open_engine(wal_target);
    load_from(*target, dir.path() / "snap", dump);
  }
  EXPECT_EQ(shell_dump(wal_target), expected);
  EXPECT_EQ(shell_output(wal_target, "PRAGMA journal_mode;"), "wal\n");
  const fs::path plain_target = dir.path() / "plain-target.sqlite3";
  {
    auto target = open_engine(plain_target);
    load_from(*target, dir.path() / "snap", dump);
  }
  EXPECT_EQ(shell_dump(plain_target), expected);
  EXPECT_EQ(shell_output(plain_target, "PRAGMA journal_mode;"), "delete\n");
  EXPECT_EQ(exact_values(plain_target), exact_values(original));

  // A WAL database with pages of another size cannot take the snapshot's pages: a clear error,
  // and nothing changed.
  const fs::path other = dir.path() / "other-pages.sqlite3";
  shell(other, "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; CREATE TABLE mine (x);");
  const std::string other_before = shell_dump(other);
  {
    auto target = open_engine(other);
    try {
      load_from(*target, dir.path() / "snap", dump);
      ADD_FAILURE() << "pages of another size were loaded into a WAL database";
    } catch (const Error& error) {
      EXPECT_THAT(error.message(), HasSubstr("pages are of 4096 bytes and the database's of 8192"));
      EXPECT_THAT(error.state, HasSubstr("not changed"));
      EXPECT_THAT(error.hint, HasSubstr("journal_mode=DELETE"));
    }
  }
  EXPECT_EQ(shell_dump(other), other_before);
}

TEST(SqliteSnapshot, SqlScriptRunsInTheShellAndThroughRestoreAndGivesTheSameDump) {
  TempDir dir;
  const fs::path original = dir.path() / "original.sqlite3";
  build_fixture(original);
  shell(original, "ANALYZE;");
  const std::string expected = shell_dump(original);
  {
    auto engine = open_engine(original);
    FileSink sink(dir.path(), "dump.sql", FileSink::Options{});
    NoProgress progress;
    support().dump_sql(*engine, sink, progress);
    sink.finish();
  }
  const std::string script = read_file(dir.path() / "dump.sql");
  EXPECT_THAT(script, HasSubstr("BEGIN TRANSACTION;\n"));
  EXPECT_THAT(script, HasSubstr("INSERT INTO \"dbinit_migrations\""));
  EXPECT_EQ(script.substr(script.size() - 8), "COMMIT;\n");

  const fs::path by_shell = dir.path() / "shell.sqlite3";
  shell(by_shell, script);
  EXPECT_EQ(shell_dump(by_shell), expected);
  EXPECT_EQ(exact_values(by_shell, false), exact_values(original, false));

  const fs::path by_restore = dir.path() / "restore.sqlite3";
  {
    auto engine = open_engine(by_restore);
    engine->begin();
    engine->restore(Script{script, "dump.sql", 1});
    engine->commit();
  }
  EXPECT_EQ(shell_dump(by_restore), expected);
  EXPECT_EQ(exact_values(by_restore, false), exact_values(original, false));
}

TEST(SqliteSnapshot, FiftyMegabyteValuesGoThroughTheSqlScriptAndTheSnapshot) {
  TempDir dir;
  const fs::path original = dir.path() / "original.sqlite3";
  shell(original,
        "CREATE TABLE big (id INTEGER PRIMARY KEY, b BLOB, t TEXT);"
        "INSERT INTO big VALUES (1, randomblob(50000000), NULL);"
        "INSERT INTO big VALUES (2, NULL, hex(randomblob(25000000)) || char(10) || 'end');");
  const std::string expected = shell_output(original, ".sha3sum");
  SnapshotDump dump;
  {
    auto engine = open_engine(original);
    dump = dump_into(*engine, dir.path() / "snap");
    FileSink sink(dir.path(), "dump.sql", FileSink::Options{});
    NoProgress progress;
    support().dump_sql(*engine, sink, progress);
    sink.finish();
  }
  const fs::path by_shell = dir.path() / "shell.sqlite3";
  RunResult result = run_program(
      {"sh", "-c",
       "sqlite3 -bail '" + by_shell.string() + "' < '" + (dir.path() / "dump.sql").string() + "'"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(shell_output(by_shell, ".sha3sum"), expected);
  const fs::path loaded = dir.path() / "loaded.sqlite3";
  {
    auto engine = open_engine(loaded);
    load_from(*engine, dir.path() / "snap", dump);
  }
  EXPECT_EQ(shell_output(loaded, ".sha3sum"), expected);
}

/// A database of about `megabytes` MiB.
void build_large(const fs::path& db, int megabytes, const std::string& tag) {
  shell(db,
        "CREATE TABLE big (id INTEGER PRIMARY KEY, tag TEXT, payload BLOB);"
        "CREATE INDEX big_tag ON big (tag, id);"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
            std::to_string(megabytes * 256) + ") INSERT INTO big SELECT i, '" + tag +
            "' || i, randomblob(3000) FROM n;");
}

std::string fingerprint(const fs::path& db) {
  return sha256_hex(shell_dump(db));
}

TEST(SqliteSnapshot, LoadKilledAtAnyMomentLeavesTheDatabaseAsItWas) {
  TempDir dir;
  const fs::path source = dir.path() / "source.sqlite3";
  build_large(source, 24, "new");
  SnapshotDump dump;
  {
    auto engine = open_engine(source);
    dump = dump_into(*engine, dir.path() / "snap");
  }
  const fs::path target = dir.path() / "target.sqlite3";
  build_large(target, 16, "old");
  const fs::path pristine = dir.path() / "pristine.sqlite3";
  fs::copy_file(target, pristine);
  const std::string before = fingerprint(target);
  const std::string after = fingerprint(source);
  ASSERT_NE(before, after);

  // How long a whole load takes here, on a copy.
  const fs::path probe = dir.path() / "probe.sqlite3";
  fs::copy_file(target, probe);
  const auto start = std::chrono::steady_clock::now();
  {
    auto engine = open_engine(probe);
    load_from(*engine, dir.path() / "snap", dump);
  }
  const double load_seconds = seconds_since(start);
  ASSERT_EQ(fingerprint(probe), after);

  constexpr int k_kills = 24;
  int interrupted = 0;
  int journal_left = 0;  // kills inside the write transaction, with the journal on disk
  for (int i = 0; i < k_kills; ++i) {
    const auto delay =
        std::chrono::microseconds(static_cast<std::int64_t>(load_seconds * 1e6 * 2 * i / k_kills));
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        auto engine = open_engine(target);
        load_from(*engine, dir.path() / "snap", dump);
      } catch (...) {
        ::_exit(1);
      }
      ::_exit(0);
    }
    std::this_thread::sleep_for(delay);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    const bool killed = WIFSIGNALED(status);
    ASSERT_TRUE(killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
        << "the load failed at kill " << i;

    if (fs::exists(target.string() + "-journal")) ++journal_left;
    EXPECT_EQ(shell_output(target, "PRAGMA integrity_check;"), "ok\n") << "kill " << i;
    const std::string now = fingerprint(target);
    if (now == before) {
      ++interrupted;
      continue;
    }
    // The kill came after the commit: the database is the whole snapshot, nothing between.
    ASSERT_EQ(now, after) << "kill " << i << " after " << delay.count() << " us";
    fs::copy_file(pristine, target, fs::copy_options::overwrite_existing);
    ASSERT_EQ(fingerprint(target), before);
  }
  EXPECT_GE(interrupted, 8) << "too few kills landed inside the load (" << load_seconds << " s)";
  EXPECT_GE(journal_left, 3) << "too few kills landed inside the load's write transaction";
  std::printf("load %.3f s; %d of %d kills before the commit, %d with the journal on disk\n",
              load_seconds, interrupted, k_kills, journal_left);
}

TEST(SqliteSnapshot, FullDiskDuringLoadLeavesTheDatabaseAsItWas) {
  TempDir dir;
  const fs::path source = dir.path() / "source.sqlite3";
  build_large(source, 4, "new");
  SnapshotDump dump;
  {
    auto engine = open_engine(source);
    dump = dump_into(*engine, dir.path() / "snap");
  }
  const fs::path original = dir.path() / "original.sqlite3";
  build_large(original, 1, "old");
  const std::string before_bytes = read_file(original);
  const fs::path mount = dir.path() / "small-disk";
  fs::create_directory(mount);
  const fs::path db = mount / "db.sqlite3";

  // In a child with a mount namespace of its own: a 2 MiB tmpfs that the load fills up.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto report = [&](const std::string& name, const std::string& text) {
      std::ofstream(dir.path() / name) << text;
    };
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", mount.c_str(), "tmpfs", 0, "size=2m") != 0) {
      report("setup", std::strerror(errno));
      ::_exit(90);
    }
    std::error_code ec;
    fs::copy_file(original, db, ec);
    if (ec) ::_exit(91);
    try {
      auto engine = open_engine(db);
      load_from(*engine, dir.path() / "snap", dump);
      report("error", "");
    } catch (const Error& error) {
      report("error", error.full_message() + "\nstate: " + error.state + "\nhint: " + error.hint);
    }
    fs::copy_file(db, dir.path() / "after.sqlite3", ec);
    std::string listing;
    for (const auto& entry : fs::directory_iterator(mount)) {
      listing += entry.path().filename().string() + "\n";
    }
    report("listing", listing);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "could not set up the small filesystem (needs root): "
      << (fs::exists(dir.path() / "setup") ? read_file(dir.path() / "setup") : "");
  const std::string error = read_file(dir.path() / "error");
  EXPECT_THAT(error, HasSubstr("database or disk is full"));
  EXPECT_THAT(error, HasSubstr("SQLITE_FULL"));
  EXPECT_THAT(error, HasSubstr("state: the database was not changed"));
  EXPECT_THAT(error, HasSubstr("free space on the disk that holds " + db.string()));
  EXPECT_THAT(read_file(dir.path() / "listing"), Not(HasSubstr("journal")));
  EXPECT_TRUE(read_file(dir.path() / "after.sqlite3") == before_bytes)
      << "the database file changed";
}

}  // namespace
}  // namespace dbinit::test
