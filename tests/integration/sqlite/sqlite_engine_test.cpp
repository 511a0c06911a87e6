// What only the SQLite engine does, on real database files: paths and URL parameters, the ledger's
// column types, a rollback that leaves the file byte for byte, error positions from SQLite's tail
// pointer, the lock file, foreign key switching and restoring sqlite3 `.dump` output. The contract
// every engine keeps is tested once in integration/engine_conformance_test.cpp.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "engines/engine.h"
#include "engines/url.h"
#include "support/harness.h"
#include "util/error.h"

namespace dbinit::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

std::unique_ptr<Engine> engine_for(const std::string& url) {
  return make_engine(parse_database_url(url));
}

/// Runs `action`, which must throw dbinit::Error, and returns the error.
Error expect_error(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "expected a dbinit::Error";
  return Error(ErrorKind::failure, "<no error>");
}

LedgerEntry entry(std::string version, LedgerState state = LedgerState::applied) {
  LedgerEntry e;
  e.version = version;
  e.name = version + "-migration.sql";
  e.checksum = "sha256:" + std::string(64, 'a');
  e.state = state;
  e.applied_at = "2026-11-22T03:16:26Z";
  e.duration_ms = 42;
  e.applied_by = "app@host dbinit 0.1.0";
  return e;
}

class SqliteEngineTest : public ::testing::Test {
 protected:
  std::unique_ptr<Engine> open_engine(const std::string& params = "") {
    auto engine = engine_for(m_db->url() + params);
    engine->open(true);
    return engine;
  }
  fs::path path() const { return fs::path(m_db->url().substr(std::string("sqlite:").size())); }

  std::unique_ptr<TestDatabase> m_db = make_test_database("sqlite");
};

TEST(SqliteEngineOpen, MissingFileIsReportedAndNotCreated) {
  TempDir dir;
  fs::path file = dir.path() / "nested" / "deeper" / "app.db";
  auto engine = engine_for("sqlite:" + file.string());
  EXPECT_EQ(engine->open(false), OpenResult::missing);
  EXPECT_FALSE(fs::exists(file));
  EXPECT_FALSE(fs::exists(dir.path() / "nested"));
}

TEST(SqliteEngineOpen, CreateMakesParentFoldersAndFile) {
  TempDir dir;
  fs::path file = dir.path() / "nested" / "deeper" / "app.db";
  auto engine = engine_for("sqlite:" + file.string());
  EXPECT_EQ(engine->open(true), OpenResult::created);
  EXPECT_TRUE(fs::is_regular_file(file));
  EXPECT_EQ(engine->name(), "sqlite");
  EXPECT_TRUE(engine->transactional_ddl());
  EXPECT_TRUE(engine->server_version().starts_with("SQLite 3.")) << engine->server_version();
  EXPECT_FALSE(engine->has_user_tables());
  EXPECT_EQ(engine->read_ledger(), std::nullopt);

  auto again = engine_for("sqlite:" + file.string());
  EXPECT_EQ(again->open(false), OpenResult::opened);
}

TEST(SqliteEngineOpen, RelativePathIsRelativeToTheWorkingDirectory) {
  TempDir dir;
  fs::path before = fs::current_path();
  fs::current_path(dir.path());
  auto engine = engine_for("sqlite:db/dev.sqlite3");
  OpenResult result = engine->open(true);
  fs::current_path(before);
  EXPECT_EQ(result, OpenResult::created);
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "db" / "dev.sqlite3"));
}

TEST(SqliteEngineOpen, InMemoryDatabase) {
  auto engine = engine_for("sqlite::memory:");
  EXPECT_EQ(engine->open(false), OpenResult::created);
  engine->lock(milliseconds(100));
  engine->begin();
  engine->ensure_ledger();
  engine->execute({"CREATE TABLE t (x INTEGER);", "t.sql", 1});
  engine->commit();
  engine->unlock();
  EXPECT_TRUE(engine->has_user_tables());
  EXPECT_TRUE(engine->read_ledger().has_value());
}

TEST(SqliteEngineOpen, FileThatIsNotADatabaseIsAConfigError) {
  TempDir dir;
  fs::path file = dir.write("notes.db", std::string(4096, 'x'));
  auto engine = engine_for("sqlite:" + file.string());
  Error error = expect_error([&] { engine->open(false); });
  EXPECT_EQ(error.kind(), ErrorKind::config);
  EXPECT_EQ(error.code, "SQLITE_NOTADB");
  EXPECT_NE(error.message().find("not a database"), std::string::npos) << error.message();
  EXPECT_EQ(error.where, file.string());
  EXPECT_EQ(read_file(file), std::string(4096, 'x'));
}

TEST(SqliteEngineOpen, UnknownUrlParameterIsAConfigError) {
  TempDir dir;
  auto engine = engine_for("sqlite:" + (dir.path() / "a.db").string() + "?foreign_key=off");
  Error error = expect_error([&] { engine->open(true); });
  EXPECT_EQ(error.kind(), ErrorKind::config);
  EXPECT_NE(error.message().find("foreign_key"), std::string::npos) << error.message();
}

TEST_F(SqliteEngineTest, JournalModeParameterIsApplied) {
  auto engine = open_engine("?journal_mode=wal");
  engine->execute({"CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);", "test.sql", 1});
  EXPECT_EQ(m_db->query("PRAGMA journal_mode"), (Rows{{"wal"}}));
}

TEST_F(SqliteEngineTest, LedgerTableHasTheDocumentedColumns) {
  auto engine = open_engine();
  engine->ensure_ledger();
  Rows columns = m_db->query(
      "SELECT name, type, \"notnull\", pk FROM pragma_table_info('dbinit_migrations') ORDER BY "
      "cid");
  EXPECT_EQ(columns, (Rows{{"version", "TEXT", "0", "1"},
                           {"name", "TEXT", "1", "0"},
                           {"checksum", "TEXT", "1", "0"},
                           {"state", "TEXT", "1", "0"},
                           {"applied_at", "TEXT", "1", "0"},
                           {"duration_ms", "INTEGER", "1", "0"},
                           {"applied_by", "TEXT", "1", "0"},
                           {"down_sql", "TEXT", "0", "0"},
                           {"error", "TEXT", "0", "0"}}));
  EXPECT_EQ(m_db->tables(), std::vector<std::string>{});
}

TEST_F(SqliteEngineTest, CorruptLedgerStateIsAFailure) {
  auto engine = open_engine();
  engine->ensure_ledger();
  engine->record(entry("1"));
  m_db->query("UPDATE dbinit_migrations SET state = 'done'");
  Error error = expect_error([&] { engine->read_ledger(); });
  EXPECT_EQ(error.kind(), ErrorKind::failure);
  EXPECT_NE(error.message().find("done"), std::string::npos);
}

TEST_F(SqliteEngineTest, RollbackLeavesTheFileByteForByteIdentical) {
  m_db->query(
      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);"
      "INSERT INTO users (name) VALUES ('ada'), ('grace'), ('Zoë');");
  const std::string before = read_file(path());
  {
    auto engine = open_engine();
    engine->begin_locked(milliseconds(1000));
    engine->ensure_ledger();
    engine->record(entry("1"));
    engine->set_meta(k_meta_environment, "production");
    // Enough data to overflow SQLite's page cache, so that changed pages reach the file itself
    // before the rollback.
    engine->execute(
        {"CREATE TABLE big (id INTEGER PRIMARY KEY, payload TEXT);\n"
         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000)\n"
         "INSERT INTO big (payload) SELECT printf('%.1000c', 'x') FROM n;\n"
         "UPDATE users SET name = upper(name);\n"
         "DELETE FROM users WHERE id = 1;",
         "0001-big.sql", 1});
    engine->rollback();
    EXPECT_EQ(engine->read_ledger(), std::nullopt);
    EXPECT_FALSE(fs::exists(path().string() + "-journal"));
  }
  EXPECT_TRUE(read_file(path()) == before) << "the database file changed";
  EXPECT_FALSE(fs::exists(path().string() + ".lock"));
}

TEST_F(SqliteEngineTest, ErrorNamesTheLineOfTheFailingStatement) {
  auto engine = open_engine();
  const std::string sql =
      "-- Ünïcödé prelude; not a statement\n"                       // line 1
      "CREATE TABLE users (id INTEGER PRIMARY KEY,\n"               // line 2
      "  name TEXT NOT NULL UNIQUE);  -- 名前\n"                    // line 3
      "INSERT INTO users (name) VALUES ('Zoë\n"                     // line 4
      "with a newline; and a semicolon');\n"                        // line 5
      "/* a block comment\n"                                        // line 6
      " spanning lines */ INSERT INTO users (name) VALUES ('Zoë\n"  // line 7
      "with a newline; and a semicolon');\n"                        // line 8
      "CREATE TABLE never (x INTEGER);\n";                          // line 9
  engine->begin_locked(milliseconds(1000));
  Error error = expect_error([&] { engine->execute({sql, "db/migrations/0003-users.sql", 1}); });
  EXPECT_EQ(error.kind(), ErrorKind::failure);
  EXPECT_EQ(error.where, "db/migrations/0003-users.sql line 7");
  EXPECT_EQ(error.code, "SQLITE_CONSTRAINT_UNIQUE");
  EXPECT_EQ(error.message(), "UNIQUE constraint failed: users.name");
  EXPECT_EQ(error.statements_done, 2);
  EXPECT_EQ(error.statement,
            "INSERT INTO users (name) VALUES ('Zoë\nwith a newline; and a semicolon');");
  engine->rollback();
  EXPECT_FALSE(engine->has_user_tables());
}

TEST_F(SqliteEngineTest, SyntaxErrorLineComesFromTheTokenAndTheScriptOffset) {
  auto engine = open_engine();
  const std::string sql =
      "CREATE TABLE a (x INTEGER);\n"  // line 10
      "CREATE TABLE b (y INTEGER);\n"  // line 11
      "SELECT x,\n"                    // line 12
      "       émial\n"                 // line 13
      "  FROM a;\n"                    // line 14
      "CREATE TABLE c (z INTEGER);\n";
  Error error = expect_error([&] { engine->execute({sql, "0004-select.sql", 10}); });
  EXPECT_EQ(error.where, "0004-select.sql line 13");
  EXPECT_EQ(error.code, "SQLITE_ERROR");
  EXPECT_EQ(error.message(), "no such column: émial");
  EXPECT_EQ(error.statements_done, 2);
  EXPECT_EQ(error.statement, "SELECT x,\n       émial\n  FROM a;");
  EXPECT_EQ(error.full_message(), "0004-select.sql line 13: no such column: émial (SQLITE_ERROR)");

  Error syntax = expect_error([&] {
    engine->execute({"CREATE TABLE d (x INTEGER);\n\nCREATE TABLEE e (x);\n", "s.sql", 1});
  });
  EXPECT_EQ(syntax.where, "s.sql line 3");
  EXPECT_NE(syntax.message().find("syntax error"), std::string::npos) << syntax.message();
  EXPECT_EQ(syntax.statement, "CREATE TABLEE e (x);");
  EXPECT_EQ(syntax.statements_done, 1);
}

TEST_F(SqliteEngineTest, StatementsThatReturnRowsAndEmptyStatementsRun) {
  auto engine = open_engine();
  engine->execute({";;\n", "empty.sql", 1});
  engine->execute(
      {"CREATE TABLE t (x INTEGER);\n"
       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)\n"
       "INSERT INTO t SELECT i FROM n;\n"
       "SELECT * FROM t;\n"
       "PRAGMA table_info(t);\n"
       "INSERT INTO t VALUES (501);  -- trailing comment without newline",
       "rows.sql", 1});
  EXPECT_EQ(m_db->query("SELECT count(*), max(x) FROM t"), (Rows{{"501", "501"}}));
}

TEST_F(SqliteEngineTest, ScriptsOwnBeginAndCommitAreSkippedInsideTheRunsTransaction) {
  auto engine = open_engine();
  engine->begin_locked(milliseconds(1000));
  // golang-migrate style files wrap themselves in BEGIN/COMMIT; inside the run's transaction those
  // are skipped, so the run stays all-or-nothing.
  engine->execute({"BEGIN;\nCREATE TABLE t (x INTEGER);\nCOMMIT;\n", "0001-t.sql", 1});
  Error error = expect_error([&] {
    engine->execute({"CREATE TABLE u (x INTEGER);\nROLLBACK;\n", "0002-u.sql", 1});
  });
  EXPECT_EQ(error.where, "0002-u.sql line 2");
  EXPECT_EQ(error.statements_done, 1);
  EXPECT_FALSE(error.hint.empty());
  engine->rollback();
  EXPECT_FALSE(engine->has_user_tables());

  // Outside a transaction a script's own BEGIN/COMMIT run as written.
  engine->execute({"BEGIN;\nCREATE TABLE v (x INTEGER);\nCOMMIT;\n", "v.sql", 1});
  EXPECT_EQ(m_db->tables(), std::vector<std::string>{"v"});
}

TEST_F(SqliteEngineTest, RestoresTheOutputOfTheSqlite3ShellsDump) {
  auto source = make_test_database("sqlite");
  // `orders` is created before `customers`, so the dump fills the child table first: restoring
  // it needs the foreign key checks deferred, which `.dump`'s PRAGMA foreign_keys=OFF asks for.
  source->query(
      "PRAGMA foreign_keys=ON;"
      "CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  customer_id INTEGER NOT NULL REFERENCES customers(id), note TEXT, data BLOB);"
      "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
      "INSERT INTO customers VALUES (1, 'Zoë ''the first'''), (2, 'multi\nline; text');"
      "INSERT INTO orders (customer_id, note, data) VALUES (1, 'a;b', x'00ff10'), (2, NULL, NULL);"
      "CREATE INDEX orders_customer ON orders (customer_id);"
      "CREATE VIEW big_orders AS SELECT * FROM orders WHERE id > 1;"
      "CREATE TABLE audit (at TEXT, what TEXT);"
      "CREATE TRIGGER orders_audit AFTER INSERT ON orders BEGIN\n"
      "  INSERT INTO audit VALUES ('now', 'order ' || NEW.id);\n"
      "  UPDATE customers SET name = name WHERE id = NEW.customer_id;\n"
      "END;"
      "INSERT INTO orders (customer_id, note) VALUES (1, 'third');"
      "PRAGMA user_version = 0;");
  const std::string source_path = source->url().substr(std::string("sqlite:").size());
  RunResult dump = run_program({"sqlite3", source_path, ".dump"});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  ASSERT_NE(dump.out.find("BEGIN TRANSACTION;"), std::string::npos) << dump.out;
  ASSERT_NE(dump.out.find("PRAGMA foreign_keys=OFF;"), std::string::npos) << dump.out;

  auto engine = open_engine();
  engine->begin_locked(milliseconds(1000));
  engine->restore({dump.out, "db/init/init.sql", 1});
  engine->check_foreign_keys();
  engine->commit();
  EXPECT_EQ(m_db->fingerprint(), source->fingerprint());
  EXPECT_EQ(m_db->query("SELECT count(*) FROM audit"), (Rows{{"1"}}));

  // The trigger came back too: a new order is audited.
  engine->execute({"INSERT INTO orders (customer_id, note) VALUES (2, 'fourth');", "x.sql", 1});
  EXPECT_EQ(m_db->query("SELECT count(*) FROM audit"), (Rows{{"2"}}));
}

TEST_F(SqliteEngineTest, RestoreOutsideATransactionRunsTheDumpsOwnTransaction) {
  auto engine = open_engine();
  engine->restore(
      {"PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n"
       "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));\n"
       "INSERT INTO child VALUES(1,1);\n"
       "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
       "INSERT INTO parent VALUES(1);\n"
       "COMMIT;\n",
       "init.sql", 1});
  EXPECT_EQ(m_db->query("SELECT count(*) FROM child"), (Rows{{"1"}}));
  // Not left inside a transaction, and foreign keys are still enforced.
  engine->begin_locked(milliseconds(200));
  Error error = expect_error([&] {
    engine->execute({"INSERT INTO child VALUES (2, 99);", "fk.sql", 1});
  });
  EXPECT_EQ(error.code, "SQLITE_CONSTRAINT_FOREIGNKEY");
  engine->rollback();
}

TEST_F(SqliteEngineTest, DumpThatEndsInRollbackIsRefused) {
  auto engine = open_engine();
  engine->begin_locked(milliseconds(1000));
  Error error = expect_error([&] {
    engine->restore(
        {"PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t (x);\n"
         "ROLLBACK; -- due to errors\n",
         "init.sql", 1});
  });
  EXPECT_EQ(error.kind(), ErrorKind::failure);
  EXPECT_EQ(error.where, "init.sql line 4");
  engine->rollback();
}

TEST_F(SqliteEngineTest, RestoredDumpWithDanglingForeignKeyFails) {
  auto engine = open_engine();
  engine->begin_locked(milliseconds(1000));
  Error error = expect_error([&] {
    engine->restore(
        {"PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n"
         "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
         "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES "
         "parent(id));\n"
         "INSERT INTO child VALUES(1,7);\n"
         "COMMIT;\n",
         "init.sql", 1});
  });
  EXPECT_EQ(error.code, "SQLITE_CONSTRAINT_FOREIGNKEY");
  EXPECT_EQ(error.where, "init.sql");
  EXPECT_NE(error.message().find("child rowid 1"), std::string::npos) << error.message();
  engine->rollback();
  EXPECT_FALSE(engine->has_user_tables());
  // Enforcement is back on after the restore.
  engine->execute(
      {"CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
       "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES "
       "parent(id));",
       "schema.sql", 1});
  EXPECT_THROW(engine->execute({"INSERT INTO child VALUES (1, 7);", "bad.sql", 1}), Error);
}

TEST_F(SqliteEngineTest, LockTimeoutNamesTheFileAndTheWait) {
  auto first = open_engine();
  auto second = open_engine();
  first->begin_locked(milliseconds(1000));
  first->ensure_ledger();
  Error error = expect_error([&] { second->begin_locked(milliseconds(200)); });
  EXPECT_EQ(error.kind(), ErrorKind::lock_timeout);
  EXPECT_EQ(error.where, path().string());
  EXPECT_NE(error.message().find("within 200 ms"), std::string::npos) << error.message();
  first->rollback();
}
TEST_F(SqliteEngineTest, SessionLockIsTheLockFileBesideTheDatabase) {
  auto first = open_engine();
  auto second = open_engine();
  first->lock(milliseconds(1000));
  EXPECT_TRUE(fs::exists(path().string() + ".lock"));
  // Between the session's transactions SQLite's write lock is free, but the lock file is not.
  Error locked = expect_error([&] { second->begin_locked(milliseconds(200)); });
  EXPECT_EQ(locked.kind(), ErrorKind::lock_timeout);
  EXPECT_EQ(locked.where, path().string());
  first->unlock();
  second->begin_locked(milliseconds(200));
  second->rollback();
}
TEST_F(SqliteEngineTest, SessionLockWaitsForATransactionThatStartedFirst) {
  auto first = open_engine();
  auto second = open_engine();
  first->begin_locked(milliseconds(1000));
  Error error = expect_error([&] { second->lock(milliseconds(200)); });
  EXPECT_EQ(error.kind(), ErrorKind::lock_timeout);
  first->commit();
  // The failed attempt let go of the lock file.
  first->lock(milliseconds(200));
  first->unlock();
}

TEST_F(SqliteEngineTest, ForeignKeysAreEnforcedByDefault) {
  auto engine = open_engine();
  engine->execute(
      {"CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
       "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));",
       "schema.sql", 1});
  Error error = expect_error([&] {
    engine->execute({"INSERT INTO child VALUES (1, 7);", "bad.sql", 3});
  });
  EXPECT_EQ(error.code, "SQLITE_CONSTRAINT_FOREIGNKEY");
  EXPECT_EQ(error.where, "bad.sql line 3");

  engine->set_foreign_keys(false);
  engine->begin_locked(milliseconds(1000));
  EXPECT_THROW(engine->set_foreign_keys(true), Error);  // SQLite ignores it in a transaction
  engine->execute(
      {"INSERT INTO child VALUES (1, 7);\nINSERT INTO child VALUES (2, 8);", "ok.sql", 1});
  Error check = expect_error([&] { engine->check_foreign_keys(); });
  EXPECT_EQ(check.kind(), ErrorKind::failure);
  EXPECT_EQ(check.code, "SQLITE_CONSTRAINT_FOREIGNKEY");
  EXPECT_NE(check.message().find("2 foreign key violations"), std::string::npos) << check.message();
  EXPECT_NE(check.message().find("child rowid 1"), std::string::npos) << check.message();
  EXPECT_NE(check.message().find("parent"), std::string::npos) << check.message();
  engine->rollback();
  engine->set_foreign_keys(true);
  engine->check_foreign_keys();
}

TEST_F(SqliteEngineTest, ForeignKeyCheckNamesTheScriptThatRanWithForeignKeysOff) {
  auto engine = open_engine();
  engine->execute(
      {"CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
       "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));",
       "db/migrations/0001-schema.sql", 1});
  engine->set_foreign_keys(false);
  engine->begin_locked(milliseconds(1000));
  engine->execute({"INSERT INTO child VALUES (1, 7);", "db/migrations/0002-rows.sql", 2});
  Error error = expect_error([&] { engine->check_foreign_keys(); });
  engine->rollback();
  engine->set_foreign_keys(true);
  EXPECT_EQ(error.where, "db/migrations/0002-rows.sql");
  EXPECT_EQ(error.full_message().find(path().string()), std::string::npos) << error.full_message();
  EXPECT_NE(error.message().find("child rowid 1 references a missing row of parent"),
            std::string::npos)
      << error.message();
}

TEST_F(SqliteEngineTest, VacuumInsideTheRunsTransactionSuggestsNoTransaction) {
  auto engine = open_engine();
  engine->begin_locked(milliseconds(1000));
  Error error = expect_error([&] {
    engine->execute({"CREATE TABLE t (x INTEGER);\nVACUUM;\n", "0002-vacuum.sql", 1});
  });
  engine->rollback();
  EXPECT_EQ(error.where, "0002-vacuum.sql line 2");
  EXPECT_NE(error.message().find("cannot VACUUM from within a transaction"), std::string::npos)
      << error.message();
  EXPECT_NE(error.hint.find("-- dbinit:no-transaction"), std::string::npos) << error.hint;
  // Outside a transaction (a no-transaction migration) it runs.
  engine->execute({"VACUUM;", "0002-vacuum.sql", 2});
}

TEST_F(SqliteEngineTest, ForeignKeysOffParameter) {
  auto engine = open_engine("?foreign_keys=off");
  engine->execute(
      {"CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
       "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));\n"
       "INSERT INTO child VALUES (1, 7);",
       "schema.sql", 1});
  EXPECT_THROW(engine->check_foreign_keys(), Error);
}

TEST_F(SqliteEngineTest, SchemaIsStableAndLeavesOutTheLedger) {
  auto engine = open_engine();
  engine->ensure_ledger();
  engine->execute(
      {"CREATE TABLE b (id INTEGER PRIMARY KEY);\n"
       "CREATE INDEX b_id ON b (id);\n"
       "CREATE VIEW a_view AS SELECT id FROM b;\n"
       "CREATE TABLE a (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE);",
       "s.sql", 1});
  EXPECT_EQ(schema_text(*engine),
            "CREATE TABLE a (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE);\n\n"
            "CREATE TABLE b (id INTEGER PRIMARY KEY);\n\n"
            "CREATE VIEW a_view AS SELECT id FROM b;\n\n"
            "CREATE INDEX b_id ON b (id);\n");
}

}  // namespace
}  // namespace dbinit::test
