// The Engine contract (src/engines/engine.h), written once and compiled into every integration
// binary, so that SQLite, PostgreSQL and MySQL/MariaDB pass the same checks against real databases:
// the ledger and its companion meta table, the migration lock and its timeout, what an execution
// error carries, restoring the engine's own dump format, dropping the database, telling an empty
// database from a used one, and a schema text that does not depend on creation order. What only
// one engine does lives in integration/<engine>/<engine>_engine_test.cpp.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engines/engine.h"
#include "engines/url.h"
#include "support/harness.h"
#include "util/error.h"

namespace dbinit::test {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using Clock = std::chrono::steady_clock;

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

/// Runs `action` on another thread and fails the whole test binary when it has not returned after
/// `limit`: a hang must show up as a failure, not as a test run that never ends.
void within(std::chrono::seconds limit, std::function<void()> action) {
  auto task = std::make_shared<std::packaged_task<void()>>(std::move(action));
  std::future<void> done = task->get_future();
  std::thread([task] { (*task)(); }).detach();
  if (done.wait_for(limit) != std::future_status::ready) {
    ADD_FAILURE() << "did not finish within " << limit.count() << "s";
    std::fprintf(stderr, "engine call still running after %llds: stopping the test binary\n",
                 static_cast<long long>(limit.count()));
    std::fflush(stderr);
    std::_Exit(1);
  }
  done.get();  // rethrows what `action` threw
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
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

/// The engine's code for "INSERT INTO no_such_table ...".
std::string missing_table_code(std::string_view engine) {
  static const std::map<std::string_view, std::string> codes = {
      {"sqlite", "SQLITE_ERROR"},
      {"postgres", "SQLSTATE 42P01"},
      {"mysql", "MySQL 1146, SQLSTATE 42S02"},
  };
  return codes.at(engine);
}

/// A small init dump in the format of the engine's own dump tool (sqlite3 `.dump`, pg_dump,
/// mariadb-dump): a parent and a child table, one row each with non-ASCII text, and whatever
/// framing the tool writes around them. The child is filled before the parent, as dump tools do.
std::string own_dump(std::string_view engine) {
  if (engine == "sqlite") {
    return "PRAGMA foreign_keys=OFF;\n"
           "BEGIN TRANSACTION;\n"
           "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));\n"
           "INSERT INTO child VALUES(1,1);\n"
           "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);\n"
           "INSERT INTO parent VALUES(1,'Zoë; ''quoted''');\n"
           "COMMIT;\n";
  }
  if (engine == "postgres") {
    return "SET statement_timeout = 0;\n"
           "SET client_encoding = 'UTF8';\n"
           "SELECT pg_catalog.set_config('search_path', '', false);\n"
           "CREATE TABLE public.parent (id integer NOT NULL, name text);\n"
           "CREATE TABLE public.child (id integer NOT NULL, parent_id integer);\n"
           "COPY public.child (id, parent_id) FROM stdin;\n"
           "1\t1\n"
           "\\.\n"
           "\n"
           "COPY public.parent (id, name) FROM stdin;\n"
           "1\tZoë; 'quoted'\n"
           "\\.\n"
           "\n"
           "ALTER TABLE ONLY public.parent ADD CONSTRAINT parent_pkey PRIMARY KEY (id);\n"
           "ALTER TABLE ONLY public.child\n"
           "    ADD CONSTRAINT child_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES "
           "public.parent(id);\n";
  }
  return "/*!40101 SET NAMES utf8mb4 */;\n"
         "/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n"
         "CREATE TABLE `child` (`id` int(11) NOT NULL, `parent_id` int(11) DEFAULT NULL,\n"
         "  PRIMARY KEY (`id`), CONSTRAINT `child_fk` FOREIGN KEY (`parent_id`) REFERENCES "
         "`parent` (`id`)) ENGINE=InnoDB;\n"
         "LOCK TABLES `child` WRITE;\n"
         "INSERT INTO `child` VALUES (1,1);\n"
         "UNLOCK TABLES;\n"
         "CREATE TABLE `parent` (`id` int(11) NOT NULL, `name` text, PRIMARY KEY (`id`)) "
         "ENGINE=InnoDB;\n"
         "INSERT INTO `parent` VALUES (1,'Zoë; \\'quoted\\'');\n"
         "DELIMITER ;;\n"
         "CREATE TRIGGER parent_name BEFORE INSERT ON parent FOR EACH ROW BEGIN\n"
         "  SET NEW.name = TRIM(NEW.name);\n"
         "END ;;\n"
         "DELIMITER ;\n"
         "/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n";
}

class EngineConformance : public ::testing::Test {
 protected:
  /// A new connection to the test database, opened (and the database created) when `open`.
  std::unique_ptr<Engine> connect(bool open = true) {
    auto engine = make_engine(parse_database_url(m_db->url()));
    if (open) engine->open(true);
    return engine;
  }

  const std::string& engine_name() const { return m_engine; }
  TestDatabase& db() { return *m_db; }

 private:
  std::string m_engine = test_engine();
  std::unique_ptr<TestDatabase> m_db = make_test_database(m_engine);
};

// --- Ledger -----------------------------------------------------------------------------------

TEST_F(EngineConformance, LedgerRoundTripKeepsEveryField) {
  auto engine = connect();
  EXPECT_EQ(engine->name(), engine_name());
  EXPECT_EQ(engine->read_ledger(), std::nullopt);
  engine->ensure_ledger();
  engine->ensure_ledger();  // idempotent
  ASSERT_TRUE(engine->read_ledger().has_value());
  EXPECT_TRUE(engine->read_ledger()->empty());

  // Down SQL that quoting, escaping or a short column would damage.
  std::string long_down = "-- Zoë's down: 'quotes', \"double\", `back`, $$dollars$$, \\ \x01\n";
  while (long_down.size() < 300 * 1024) {
    long_down += "DROP TABLE IF EXISTS \"t_ünïcödé_" + std::to_string(long_down.size()) +
                 "\"; -- 日本語 😀\n";
  }
  LedgerEntry nine = entry("9");
  nine.name = "9-näme with spaces.sql";
  nine.down_sql = long_down;
  nine.duration_ms = 1234567890123;
  nine.applied_by = "zoë@hôst dbinit 0.1.0";
  LedgerEntry ten = entry("10", LedgerState::baseline);
  LedgerEntry hundred = entry("100", LedgerState::failed);
  hundred.error = "relation \"x\" does not exist (SQLSTATE 42P01) at statement 3; it's 'bad'";
  LedgerEntry zero = entry("0");
  zero.down_sql = "";  // empty is not NULL
  LedgerEntry long_version = entry("20240830120000123456789");
  for (const LedgerEntry* e : {&long_version, &hundred, &ten, &nine, &zero}) engine->record(*e);

  auto ledger = engine->read_ledger();
  ASSERT_TRUE(ledger.has_value());
  ASSERT_EQ(ledger->size(), 5u);
  std::vector<std::string> versions;
  for (const LedgerEntry& e : *ledger) versions.push_back(e.version);
  EXPECT_EQ(versions, (std::vector<std::string>{"0", "9", "10", "100", "20240830120000123456789"}));
  const LedgerEntry& read_nine = (*ledger)[1];
  EXPECT_EQ(read_nine.name, nine.name);
  EXPECT_EQ(read_nine.checksum, nine.checksum);
  EXPECT_EQ(read_nine.state, LedgerState::applied);
  EXPECT_EQ(read_nine.applied_at, nine.applied_at);
  EXPECT_EQ(read_nine.duration_ms, 1234567890123);
  EXPECT_EQ(read_nine.applied_by, nine.applied_by);
  EXPECT_TRUE(read_nine.down_sql == nine.down_sql) << "the long down SQL changed";
  EXPECT_EQ(read_nine.error, std::nullopt);
  EXPECT_EQ((*ledger)[0].down_sql, std::optional<std::string>(""));
  EXPECT_EQ((*ledger)[2].state, LedgerState::baseline);
  EXPECT_EQ((*ledger)[2].down_sql, std::nullopt);
  EXPECT_EQ((*ledger)[3].state, LedgerState::failed);
  EXPECT_EQ((*ledger)[3].error, hundred.error);
  EXPECT_EQ((*ledger)[4].name, long_version.name);

  // Recording a version again replaces its row, NULLs included.
  hundred.state = LedgerState::applied;
  hundred.error.reset();
  hundred.down_sql = "DROP TABLE x;";
  hundred.duration_ms = 7;
  engine->record(hundred);
  ledger = engine->read_ledger();
  ASSERT_EQ(ledger->size(), 5u);
  EXPECT_EQ((*ledger)[3].state, LedgerState::applied);
  EXPECT_EQ((*ledger)[3].error, std::nullopt);
  EXPECT_EQ((*ledger)[3].down_sql, "DROP TABLE x;");
  EXPECT_EQ((*ledger)[3].duration_ms, 7);

  engine->remove("9");
  engine->remove("12345");  // no row: not an error
  ledger = engine->read_ledger();
  ASSERT_EQ(ledger->size(), 4u);
  EXPECT_EQ((*ledger)[1].version, "10");

  // Another connection sees the rows (they were written in autocommit), and none of this counts
  // as user tables or schema.
  auto other = connect(false);
  EXPECT_EQ(other->open(false), OpenResult::opened);
  EXPECT_EQ(other->read_ledger()->size(), 4u);
  EXPECT_FALSE(other->has_user_tables());
  EXPECT_EQ(schema_text(*other), "");
}

TEST_F(EngineConformance, RecordAllWritesManyRowsAndReplacesExistingOnes) {
  auto engine = connect();
  engine->ensure_ledger();
  engine->record(entry("5"));
  LedgerEntry failed = entry("7", LedgerState::failed);
  failed.error = "in progress";
  engine->record(failed);

  std::vector<LedgerEntry> rows;
  for (int i = 1; i <= 1500; ++i) {
    LedgerEntry e = entry(std::to_string(i));
    e.name = std::to_string(i) + "-ünïcödé.sql";
    e.duration_ms = i;
    if (i % 3 == 0) e.down_sql = "DROP TABLE t" + std::to_string(i) + "; -- 'q'";
    if (i % 5 == 0) e.state = LedgerState::baseline;
    rows.push_back(e);
  }
  // Nothing of a rolled-back record_all stays.
  engine->begin();
  engine->record_all(rows);
  engine->rollback();
  ASSERT_EQ(engine->read_ledger()->size(), 2u);

  engine->begin();
  engine->record_all(rows);
  engine->commit();
  auto ledger = engine->read_ledger();
  ASSERT_EQ(ledger->size(), 1500u);
  for (std::size_t i = 0; i < ledger->size(); ++i) {
    const LedgerEntry& expected = rows[i];
    const LedgerEntry& got = (*ledger)[i];
    ASSERT_EQ(got.version, expected.version);
    ASSERT_EQ(got.name, expected.name);
    ASSERT_EQ(got.state, expected.state) << got.version;
    ASSERT_EQ(got.duration_ms, expected.duration_ms);
    ASSERT_EQ(got.down_sql, expected.down_sql) << got.version;
    ASSERT_EQ(got.error, std::nullopt) << got.version;  // the failed row 7 was replaced
  }
  // An empty batch is nothing.
  engine->begin();
  engine->record_all({});
  engine->commit();
  EXPECT_EQ(engine->read_ledger()->size(), 1500u);
}

TEST_F(EngineConformance, MetaIsEmptyUntilSetAndThenReplaced) {
  auto engine = connect();
  EXPECT_EQ(engine->meta(k_meta_environment), std::nullopt);  // no meta table yet
  engine->ensure_ledger();
  EXPECT_EQ(engine->meta(k_meta_environment), std::nullopt);
  engine->set_meta(k_meta_environment, "development");
  engine->set_meta(k_meta_environment, "production");
  const std::string key = std::string(k_meta_accepted_checksum) + "12";
  engine->set_meta(key, "sha256:aa -> sha256:bb at 2026-11-22T03:16:26Z by zoë@hôst 'x'");
  EXPECT_EQ(engine->meta(k_meta_environment), "production");
  EXPECT_EQ(engine->meta(key), "sha256:aa -> sha256:bb at 2026-11-22T03:16:26Z by zoë@hôst 'x'");
  EXPECT_EQ(engine->meta(std::string(k_meta_accepted_checksum) + "13"), std::nullopt);

  // Inside a rolled-back transaction a change does not stay.
  engine->begin();
  engine->set_meta(k_meta_environment, "staging");
  EXPECT_EQ(engine->meta(k_meta_environment), "staging");
  engine->rollback();
  auto other = connect();
  EXPECT_EQ(other->meta(k_meta_environment), "production");
}

// --- Lock and transactions --------------------------------------------------------------------

TEST_F(EngineConformance, TransactionLockMakesASecondConnectionTimeOut) {
  auto first = connect();
  auto second = connect();
  first->begin_locked(5s);
  first->ensure_ledger();

  auto start = Clock::now();
  Error error = expect_error([&] { second->begin_locked(300ms); });
  auto waited = Clock::now() - start;
  EXPECT_EQ(error.kind(), ErrorKind::lock_timeout) << error.full_message();
  EXPECT_EQ(exit_code(error.kind()), 5);
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 5s);
  // The session lock is the same lock.
  start = Clock::now();
  EXPECT_EQ(expect_error([&] { second->lock(300ms); }).kind(), ErrorKind::lock_timeout);
  EXPECT_LT(Clock::now() - start, 5s);
  // Zero means do not wait.
  start = Clock::now();
  EXPECT_EQ(expect_error([&] { second->begin_locked(0ms); }).kind(), ErrorKind::lock_timeout);
  EXPECT_LT(Clock::now() - start, 2s);

  // The failed attempts left the second connection usable and outside any transaction; it does
  // not see uncommitted work (MySQL commits DDL at once).
  if (first->transactional_ddl()) {
    EXPECT_EQ(second->read_ledger(), std::nullopt);
  }
  first->commit();  // releases the lock
  second->begin_locked(1s);
  EXPECT_TRUE(second->read_ledger().has_value());  // sees the committed ledger under the lock
  second->rollback();                              // releases the lock
  first->begin_locked(1s);
  first->rollback();
}

TEST_F(EngineConformance, SessionLockIsHeldAcrossTransactionsUntilUnlock) {
  auto first = connect();
  auto second = connect();
  first->lock(5s);
  EXPECT_EQ(expect_error([&] { second->lock(200ms); }).kind(), ErrorKind::lock_timeout);
  EXPECT_EQ(expect_error([&] { second->begin_locked(200ms); }).kind(), ErrorKind::lock_timeout);

  // The holder works in plain transactions; the lock outlives them.
  first->begin();
  first->ensure_ledger();
  first->record(entry("1"));
  first->commit();
  first->begin();
  first->record(entry("2"));
  first->rollback();
  EXPECT_EQ(first->read_ledger()->size(), 1u);
  EXPECT_EQ(expect_error([&] { second->lock(100ms); }).kind(), ErrorKind::lock_timeout);

  first->unlock();
  first->unlock();  // not held: harmless
  second->lock(1s);
  EXPECT_EQ(expect_error([&] { first->begin_locked(100ms); }).kind(), ErrorKind::lock_timeout);
  second->unlock();
  first->begin_locked(1s);
  first->rollback();
}

TEST_F(EngineConformance, ClosingTheConnectionReleasesTheLocks) {
  auto waiter = connect();
  {
    auto holder = connect();
    holder->lock(1s);
    EXPECT_EQ(expect_error([&] { waiter->lock(100ms); }).kind(), ErrorKind::lock_timeout);
  }  // the session ends without unlock(), as a killed process's does
  waiter->lock(5s);
  waiter->unlock();
  {
    auto holder = connect();
    holder->begin_locked(1s);
    holder->ensure_ledger();
    EXPECT_EQ(expect_error([&] { waiter->begin_locked(100ms); }).kind(), ErrorKind::lock_timeout);
  }  // neither commit nor rollback
  waiter->begin_locked(5s);
  // The open transaction was not committed by closing the connection (MySQL commits DDL at once).
  if (waiter->transactional_ddl()) {
    EXPECT_EQ(waiter->read_ledger(), std::nullopt);
  }
  waiter->rollback();
}

TEST_F(EngineConformance, LocksOfDifferentDatabasesDoNotConflict) {
  auto other_db = make_test_database(engine_name());
  auto first = connect();
  auto second = make_engine(parse_database_url(other_db->url()));
  second->open(true);
  first->begin_locked(1s);
  second->begin_locked(500ms);
  second->ensure_ledger();
  second->commit();
  first->rollback();
  first->lock(1s);
  second->lock(500ms);
  second->unlock();
  first->unlock();
  EXPECT_TRUE(second->read_ledger().has_value());
  EXPECT_EQ(first->read_ledger(), std::nullopt);
}

TEST_F(EngineConformance, CommitKeepsAndRollbackUndoesTheWork) {
  auto engine = connect();
  engine->execute({"CREATE TABLE t (x INTEGER);", "0001-t.sql", 1});
  engine->begin();
  engine->execute({"INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);", "a.sql", 1});
  engine->rollback();
  EXPECT_EQ(db().query("SELECT COUNT(*) FROM t"), (Rows{{"0"}}));
  engine->begin();
  engine->execute({"INSERT INTO t VALUES (3);", "b.sql", 1});
  engine->commit();
  EXPECT_EQ(db().query("SELECT x FROM t"), (Rows{{"3"}}));

  if (engine->transactional_ddl()) {
    engine->begin_locked(1s);
    engine->ensure_ledger();
    engine->record(entry("1"));
    engine->execute({"CREATE TABLE u (x INTEGER);", "0002-u.sql", 1});
    engine->rollback();
    EXPECT_EQ(engine->read_ledger(), std::nullopt);
    EXPECT_EQ(db().tables(), std::vector<std::string>{"t"});
  }
}

// --- Execution --------------------------------------------------------------------------------

constexpr std::string_view k_failing_script =
    "-- Ünïcödé: naïve café ✓ 日本語 😀\n"                                 // 5
    "CREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR(100));\n"  // 6
    "INSERT INTO people VALUES (1, 'Zoë; with\n"                          // 7
    "a newline');\n"                                                      // 8
    "/* a comment; with ünïcode */\n"                                     // 9
    "\n"                                                                  // 10
    "INSERT INTO no_such_table\n"                                         // 11
    "  VALUES (1);\n"                                                     // 12
    "INSERT INTO people VALUES (2, 'never');\n";                          // 13

void expect_failing_script_error(const Error& error, std::string_view engine) {
  EXPECT_EQ(error.kind(), ErrorKind::failure);
  EXPECT_EQ(error.where, "db/migrations/0003-people.sql line 11");
  EXPECT_EQ(error.code, missing_table_code(engine));
  EXPECT_TRUE(contains(error.message(), "no_such_table")) << error.message();
  EXPECT_EQ(error.statements_done, 2);
  EXPECT_TRUE(error.statement.starts_with("INSERT INTO no_such_table\n  VALUES (1)"))
      << error.statement;
  EXPECT_TRUE(contains(error.full_message(), "db/migrations/0003-people.sql line 11: "))
      << error.full_message();
}

TEST_F(EngineConformance, ExecuteErrorNamesSourceLineCodeStatementAndCount) {
  auto engine = connect();
  const Script script{k_failing_script, "db/migrations/0003-people.sql", 5};

  // In a transaction (the run's)...
  engine->begin();
  expect_failing_script_error(expect_error([&] { engine->execute(script); }), engine_name());
  engine->rollback();
  if (engine->transactional_ddl()) {
    EXPECT_TRUE(db().tables().empty());
  }
  engine->execute({"DROP TABLE IF EXISTS people;", "x.sql", 1});

  // ... and in autocommit (no-transaction migrations), where what ran before stays.
  expect_failing_script_error(expect_error([&] { engine->execute(script); }), engine_name());
  EXPECT_EQ(db().query("SELECT name FROM people"), (Rows{{"Zoë; with\na newline"}}));

  // A syntax error names its own line.
  Error syntax = expect_error([&] {
    engine->execute({"SELECT 1;\n\nCREATE TABLEE e (x INTEGER);\nSELECT 2;\n", "s.sql", 1});
  });
  EXPECT_EQ(syntax.where, "s.sql line 3");
  EXPECT_EQ(syntax.statements_done, 1);
  EXPECT_FALSE(syntax.code.empty());
  EXPECT_TRUE(contains(syntax.statement, "CREATE TABLEE e")) << syntax.statement;
}

TEST_F(EngineConformance, EmptyAndCommentOnlyScriptsDoNothing) {
  auto engine = connect();
  engine->ensure_ledger();
  const std::string before = db().fingerprint();
  engine->execute({"", "empty.sql", 1});
  engine->execute({"-- nothing\n/* at all */\n", "comments.sql", 1});
  engine->begin();
  engine->execute({"  ;  -- x\n", "semicolon.sql", 1});
  engine->commit();
  engine->restore({"\n-- an empty dump\n", "init.sql", 1});
  EXPECT_EQ(db().fingerprint(), before);
  EXPECT_FALSE(engine->has_user_tables());
  // The connection is still fine and outside any transaction: another connection can lock.
  auto other = connect();
  other->begin_locked(1s);
  other->rollback();
}

TEST_F(EngineConformance, NulByteIsAnErrorNamingTheLineNeverAHang) {
  auto engine = connect();
  engine->ensure_ledger();
  const std::string before = db().fingerprint();
  struct Case {
    std::string sql;
    int first_line;
    std::string where;
  };
  const std::vector<Case> cases = {
      {"SELECT 1;\0\n"s, 1, "0001-x.sql line 1"},
      {"\0"s, 1, "0001-x.sql line 1"},
      {"SELECT 1;\n-- comment\nSELECT\0 2;\n"s, 4, "0001-x.sql line 6"},
      {"CREATE TABLE t (x INTEGER);\n'\0'"s, 1, "0001-x.sql line 2"},
  };
  for (const Case& c : cases) {
    for (bool restoring : {false, true}) {
      for (bool transaction : {false, true}) {
        SCOPED_TRACE(testing::Message() << "line " << c.first_line << (restoring ? " restore" : "")
                                        << (transaction ? " in a transaction" : ""));
        const Script script{c.sql, "0001-x.sql", c.first_line};
        if (transaction) engine->begin_locked(1s);
        Error error = expect_error([&] {
          within(20s, [&] { restoring ? engine->restore(script) : engine->execute(script); });
        });
        if (transaction) engine->rollback();
        EXPECT_EQ(error.kind(), ErrorKind::failure);
        EXPECT_EQ(error.where, c.where);
        EXPECT_TRUE(contains(error.message(), "NUL")) << error.message();
        EXPECT_EQ(error.statements_done, 0);
      }
    }
  }
  // Nothing ran, and the lock is free.
  EXPECT_EQ(db().fingerprint(), before);
  auto other = connect();
  other->begin_locked(1s);
  other->rollback();
}

TEST_F(EngineConformance, RestoreRunsTheEnginesOwnDumpFormat) {
  auto engine = connect();
  engine->begin_locked(5s);
  engine->restore({own_dump(engine_name()), "db/init/init.sql", 1});
  engine->check_foreign_keys();
  engine->commit();
  EXPECT_EQ(db().tables(), (std::vector<std::string>{"child", "parent"}));
  EXPECT_EQ(db().query("SELECT name FROM parent"), (Rows{{"Zoë; 'quoted'"}}));
  EXPECT_EQ(db().query("SELECT parent_id FROM child"), (Rows{{"1"}}));
  // Foreign keys are enforced again after the restore.
  Error fk = expect_error([&] {
    engine->execute({"INSERT INTO child VALUES (2, 99);", "fk.sql", 1});
  });
  EXPECT_EQ(fk.where, "fk.sql line 1");

  // A failing statement in a dump names its line.
  auto target = make_test_database(engine_name());
  auto other = make_engine(parse_database_url(target->url()));
  other->open(true);
  other->begin_locked(5s);
  Error error = expect_error([&] {
    other->restore({"CREATE TABLE a (x INTEGER);\n\nINSERT INTO no_such_table VALUES (1);\n",
                    "db/init/init.sql", 1});
  });
  other->rollback();
  EXPECT_EQ(error.where, "db/init/init.sql line 3");
  EXPECT_EQ(error.code, missing_table_code(engine_name()));
  EXPECT_EQ(error.statements_done, 1);
}

// --- Database ---------------------------------------------------------------------------------

TEST_F(EngineConformance, DropDatabaseRemovesItAndOpenCreatesItAgain) {
  auto engine = connect(false);
  EXPECT_EQ(engine->open(false), OpenResult::missing);
  EXPECT_FALSE(db().exists());
  EXPECT_EQ(engine->open(true), OpenResult::created);
  EXPECT_TRUE(db().exists());
  engine->ensure_ledger();
  engine->execute({"CREATE TABLE t (x INTEGER);", "t.sql", 1});

  auto other = connect(false);
  EXPECT_EQ(other->open(false), OpenResult::opened);
  EXPECT_TRUE(other->has_user_tables());

  engine->drop_database();
  EXPECT_FALSE(db().exists());
  engine->drop_database();  // no database: not an error
  auto again = connect(false);
  EXPECT_EQ(again->open(false), OpenResult::missing);
  EXPECT_EQ(engine->open(true), OpenResult::created);
  EXPECT_FALSE(engine->has_user_tables());
  EXPECT_EQ(engine->read_ledger(), std::nullopt);
}

TEST_F(EngineConformance, HasUserTablesIgnoresDbinitsTables) {
  auto engine = connect();
  EXPECT_FALSE(engine->has_user_tables());
  engine->ensure_ledger();
  engine->record(entry("1"));
  engine->set_meta(k_meta_environment, "production");
  EXPECT_FALSE(engine->has_user_tables());
  engine->execute({"CREATE TABLE t (x INTEGER);", "t.sql", 1});
  EXPECT_TRUE(engine->has_user_tables());
  engine->execute({"DROP TABLE t;", "d.sql", 1});
  EXPECT_FALSE(engine->has_user_tables());
  engine->execute({"CREATE VIEW v AS SELECT 1 AS one;", "v.sql", 1});
  EXPECT_TRUE(engine->has_user_tables());
  engine->execute({"DROP VIEW v;", "d.sql", 1});
  EXPECT_FALSE(engine->has_user_tables());
}

// --- Schema -----------------------------------------------------------------------------------

TEST_F(EngineConformance, SchemaIsStableAndIndependentOfCreationOrder) {
  const std::vector<std::string> objects = {
      "CREATE TABLE b_orders (id INTEGER PRIMARY KEY, note VARCHAR(50));",
      "CREATE TABLE a_people (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);",
      "CREATE INDEX b_orders_note ON b_orders (note);",
      "CREATE VIEW z_people AS SELECT id, name FROM a_people;",
      "CREATE VIEW c_orders AS SELECT id FROM b_orders;",
  };
  auto engine = connect();
  engine->ensure_ledger();
  engine->record(entry("1"));
  for (const std::string& sql : objects) engine->execute({sql, "forward.sql", 1});
  const std::string schema = schema_text(*engine);
  EXPECT_FALSE(schema.empty());
  EXPECT_FALSE(contains(schema, "dbinit_")) << schema;
  EXPECT_EQ(schema_text(*engine), schema);
  EXPECT_EQ(schema_text(*connect()), schema);

  // The same objects created in another order (views after the tables they read) describe the
  // same schema.
  auto other_db = make_test_database(engine_name());
  auto other = make_engine(parse_database_url(other_db->url()));
  other->open(true);
  for (int i : {1, 3, 0, 4, 2}) {
    other->execute({objects[static_cast<std::size_t>(i)], "reverse.sql", 1});
  }
  EXPECT_EQ(schema_text(*other), schema);
}

}  // namespace
}  // namespace dbinit::test
