// What only the PostgreSQL engine does, on the test server: connecting (creating the database,
// credentials, unreachable servers, libpq parameters), the ledger's schema, the advisory lock's
// settings, error positions and detail lines, no-transaction execution, psql meta-commands, session
// settings, and restoring real pg_dump output. The contract every engine keeps is tested once in
// integration/engine_conformance_test.cpp.

#include <gtest/gtest.h>

#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "engines/engine.h"
#include "engines/url.h"
#include "support/harness.h"
#include "util/error.h"

namespace dbinit::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

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

/// `url` with other credentials and database: `postgres://user:password@<same hosts>/database`.
std::string url_with(const std::string& url, const std::string& user, const std::string& password,
                     const std::string& database, const std::string& hosts = "") {
  DatabaseUrl parsed = parse_database_url(url);
  std::string out = "postgres://" + user;
  if (!password.empty()) out += ":" + password;
  out += "@" + (hosts.empty() ? parsed.hosts : hosts) + "/" + database;
  std::string query;
  for (const auto& [key, value] : parsed.params) {
    query += (query.empty() ? "?" : "&") + key + "=" + value;
  }
  return out + query;
}

std::string database_name(const TestDatabase& db) {
  return parse_database_url(db.url()).database;
}

/// Dumps `db` with pg_dump in plain format, as people do for init dumps.
std::string pg_dump(const TestDatabase& db, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv{postgres_client("pg_dump")};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("--dbname=" + db.url());
  RunResult result = run_program(argv);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.out;
}

class PostgresEngineTest : public ::testing::Test {
 protected:
  std::unique_ptr<Engine> open_engine(const std::string& params = "") {
    auto engine = engine_for(m_db->url() + params);
    engine->open(true);
    return engine;
  }

  std::unique_ptr<TestDatabase> m_db = make_test_database("postgres");
};

// --- Connection and database -----------------------------------------------------------------

TEST_F(PostgresEngineTest, MissingDatabaseIsReportedAndNotCreated) {
  auto engine = engine_for(m_db->url());
  EXPECT_EQ(engine->open(false), OpenResult::missing);
  EXPECT_FALSE(m_db->exists());
}

TEST_F(PostgresEngineTest, OpenCreatesTheDatabase) {
  auto engine = engine_for(m_db->url());
  EXPECT_EQ(engine->open(true), OpenResult::created);
  EXPECT_TRUE(m_db->exists());
  EXPECT_EQ(engine->name(), "postgres");
  EXPECT_TRUE(engine->transactional_ddl());
  EXPECT_TRUE(engine->server_version().starts_with("PostgreSQL 1")) << engine->server_version();
  EXPECT_EQ(engine->server_version().find('('), std::string::npos) << engine->server_version();
  EXPECT_FALSE(engine->has_user_tables());
  EXPECT_EQ(engine->read_ledger(), std::nullopt);
  EXPECT_EQ(engine->meta(k_meta_environment), std::nullopt);

  auto again = engine_for(m_db->url());
  EXPECT_EQ(again->open(true), OpenResult::opened);
  EXPECT_EQ(again->open(false), OpenResult::opened);
}

TEST_F(PostgresEngineTest, DatabaseNameIsQuotedWhenCreated) {
  std::string name = database_name(*m_db) + "_Mixed Case-ü";
  DatabaseUrl base = parse_database_url(m_db->url());
  std::string url = url_with(m_db->url(), base.user, base.password, "");
  // Percent-encode the name for the URL: libpq decodes it.
  std::string encoded;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '_' || c == '-') {
      encoded += static_cast<char>(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", c);
      encoded += buffer;
    }
  }
  std::size_t query = url.find('?');
  url.insert(query == std::string::npos ? url.size() : query, encoded);
  auto engine = engine_for(url);
  EXPECT_EQ(engine->open(true), OpenResult::created);
  engine.reset();
  Rows rows = m_db->query("SELECT datname FROM pg_database WHERE datname = '" + name + "'");
  EXPECT_EQ(rows, (Rows{{name}}));
  m_db->query("DROP DATABASE \"" + name + "\" WITH (FORCE)");
}

TEST_F(PostgresEngineTest, RoleWithoutCreatedbGetsAClearError) {
  std::string role = "dbinit_test_nocreatedb_" + std::to_string(getpid());
  m_db->query("DROP ROLE IF EXISTS " + role + "; CREATE ROLE " + role +
              " LOGIN NOCREATEDB PASSWORD 'Secret-Pw-1'");
  std::string missing = database_name(*m_db) + "_nocreatedb";
  auto engine = engine_for(url_with(m_db->url(), role, "Secret-Pw-1", missing));
  Error error = expect_error([&] { engine->open(true); });
  EXPECT_EQ(error.kind(), ErrorKind::failure);
  EXPECT_EQ(error.code, "SQLSTATE 42501");
  EXPECT_TRUE(contains(error.message(), "role '" + role + "'")) << error.message();
  EXPECT_TRUE(contains(error.message(), "CREATEDB")) << error.message();
  EXPECT_TRUE(contains(error.message(), missing)) << error.message();
  EXPECT_TRUE(contains(error.hint, "CREATEDB")) << error.hint;
  EXPECT_FALSE(contains(error.full_message(), "Secret-Pw-1")) << error.full_message();
  EXPECT_TRUE(contains(error.where, ":***@")) << error.where;

  // Without create, the same role just learns that the database is missing.
  auto plain = engine_for(url_with(m_db->url(), role, "Secret-Pw-1", missing));
  EXPECT_EQ(plain->open(false), OpenResult::missing);
  m_db->query("DROP ROLE " + role);
}

TEST_F(PostgresEngineTest, WrongPasswordIsAnAuthErrorWithoutThePassword) {
  DatabaseUrl base = parse_database_url(m_db->url());
  const std::string secret = "Definitely-Wrong-Secret-42";
  auto engine = engine_for(url_with(m_db->url(), base.user, secret, "postgres"));
  Error error = expect_error([&] { engine->open(true); });
  EXPECT_EQ(error.kind(), ErrorKind::auth);
  EXPECT_EQ(exit_code(error.kind()), 6);
  EXPECT_TRUE(contains(error.message(), "password authentication failed")) << error.message();
  EXPECT_FALSE(contains(error.full_message(), secret)) << error.full_message();
  EXPECT_FALSE(contains(error.detail, secret));
  EXPECT_FALSE(contains(error.hint, secret));
  EXPECT_TRUE(contains(error.where, ":***@")) << error.where;

  // A missing database behind a wrong password is still an authentication failure.
  auto missing = engine_for(url_with(m_db->url(), base.user, secret, database_name(*m_db)));
  EXPECT_EQ(expect_error([&] { missing->open(true); }).kind(), ErrorKind::auth);
  EXPECT_FALSE(m_db->exists());
}

TEST_F(PostgresEngineTest, UnknownRoleIsAnAuthError) {
  auto engine = engine_for(url_with(m_db->url(), "dbinit_no_such_role", "pw", "postgres"));
  Error error = expect_error([&] { engine->open(false); });
  EXPECT_EQ(error.kind(), ErrorKind::auth) << error.full_message();
}

TEST_F(PostgresEngineTest, UnreachablePortIsUnreachable) {
  DatabaseUrl base = parse_database_url(m_db->url());
  auto engine = engine_for(url_with(m_db->url(), base.user, "Secret-Pw-2", "app", "127.0.0.1:1") +
                           "?connect_timeout=3");
  auto start = Clock::now();
  Error error = expect_error([&] { engine->open(true); });
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(error.kind(), ErrorKind::unreachable);
  EXPECT_EQ(exit_code(error.kind()), 6);
  EXPECT_TRUE(contains(error.message(), "Connection refused")) << error.message();
  EXPECT_FALSE(contains(error.full_message(), "Secret-Pw-2")) << error.full_message();
}

TEST_F(PostgresEngineTest, UnknownHostIsUnreachable) {
  auto engine = engine_for("postgres://u:Secret-Pw-3@dbinit-no-such-host.invalid:5432/app");
  Error error = expect_error([&] { engine->open(true); });
  EXPECT_EQ(error.kind(), ErrorKind::unreachable) << error.full_message();
  EXPECT_FALSE(contains(error.full_message(), "Secret-Pw-3"));
}

TEST_F(PostgresEngineTest, InvalidLibpqParameterIsAConfigError) {
  auto engine = engine_for(m_db->url() + "?sslmode=sometimes");
  Error error = expect_error([&] { engine->open(true); });
  EXPECT_EQ(error.kind(), ErrorKind::config) << error.full_message();
  EXPECT_TRUE(contains(error.full_message(), "sslmode")) << error.full_message();
  EXPECT_FALSE(contains(error.full_message(), parse_database_url(m_db->url()).password));
}

TEST_F(PostgresEngineTest, ApplicationNameDefaultsToDbinitAndUrlParametersPassThrough) {
  auto engine = open_engine();
  std::string name = database_name(*m_db);
  auto names = [&] {
    return m_db->query("SELECT application_name FROM pg_stat_activity WHERE datname = '" + name +
                       "' AND pid <> pg_backend_pid() ORDER BY 1");
  };
  EXPECT_EQ(names(), (Rows{{"dbinit"}}));
  engine.reset();

  auto custom = open_engine("?application_name=billing-migrations&sslmode=disable");
  EXPECT_EQ(names(), (Rows{{"billing-migrations"}}));
}

TEST_F(PostgresEngineTest, MultiHostUrlFallsThroughToAWritableServer) {
  m_db->query("SELECT 1");  // creates the database
  DatabaseUrl base = parse_database_url(m_db->url());
  std::string hosts = "127.0.0.1:1," + base.hosts;
  auto engine =
      engine_for(url_with(m_db->url(), base.user, base.password, database_name(*m_db), hosts) +
                 "?target_session_attrs=read-write&connect_timeout=5");
  EXPECT_EQ(engine->open(false), OpenResult::opened);
  engine->execute({"CREATE TABLE reached (x int);", "test.sql", 1});
  EXPECT_EQ(m_db->tables(), (std::vector<std::string>{"reached"}));
}

// --- Ledger ----------------------------------------------------------------------------------

TEST_F(PostgresEngineTest, LedgerTableHasTheDocumentedColumns) {
  auto engine = open_engine();
  engine->ensure_ledger();
  Rows columns = m_db->query(
      "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
      "WHERE table_name = 'dbinit_migrations' ORDER BY ordinal_position");
  EXPECT_EQ(columns, (Rows{{"version", "text", "NO"},
                           {"name", "text", "NO"},
                           {"checksum", "text", "NO"},
                           {"state", "text", "NO"},
                           {"applied_at", "text", "NO"},
                           {"duration_ms", "bigint", "NO"},
                           {"applied_by", "text", "NO"},
                           {"down_sql", "text", "YES"},
                           {"error", "text", "YES"}}));
  EXPECT_EQ(m_db->query("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                        "i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indisprimary AND "
                        "i.indrelid = 'dbinit_migrations'::regclass"),
            (Rows{{"version"}}));
}

TEST_F(PostgresEngineTest, LedgerLivesInTheFirstSchemaOfTheSearchPath) {
  m_db->query("CREATE SCHEMA app");
  auto engine = open_engine("?options=-c%20search_path%3Dapp");
  engine->ensure_ledger();
  engine->record(entry("1"));
  EXPECT_EQ(m_db->query("SELECT count(*) FROM app.dbinit_migrations"), (Rows{{"1"}}));
  EXPECT_EQ(m_db->query("SELECT to_regclass('public.dbinit_migrations') IS NULL"), (Rows{{"t"}}));
  EXPECT_EQ(engine->read_ledger()->size(), 1u);
}

// --- Lock --------------------------------------------------------------------------------------

TEST_F(PostgresEngineTest, LockTimeoutNamesTheHolderAndLeavesNoSettingBehind) {
  auto first = open_engine();
  auto second = open_engine();
  first->begin_locked(milliseconds(1000));
  Error error = expect_error([&] { second->begin_locked(milliseconds(300)); });
  EXPECT_EQ(error.kind(), ErrorKind::lock_timeout);
  EXPECT_EQ(error.code, "SQLSTATE 55P03");
  EXPECT_TRUE(contains(error.detail, "application 'dbinit'")) << error.detail;
  // The failed attempt left no transaction open: plain statements autocommit.
  second->execute({"CREATE TABLE visible (x int);", "t.sql", 1});
  EXPECT_EQ(m_db->tables(), (std::vector<std::string>{"visible"}));

  first->commit();
  second->begin_locked(milliseconds(300));
  // lock_timeout is back to its old value for the migrations themselves.
  second->execute(
      {"DO $$ BEGIN IF current_setting('lock_timeout') <> '0' THEN RAISE EXCEPTION "
       "'lock_timeout leaked: %', current_setting('lock_timeout'); END IF; END $$;",
       "t.sql", 1});
  second->commit();
}
TEST_F(PostgresEngineTest, LedgerWrittenWhileWaitingForTheLockIsSeenUnderIt) {
  auto waiter = open_engine();
  auto holder = open_engine();
  // The waiter has looked for the ledger before (the runner does, to see whether there is work).
  EXPECT_EQ(waiter->read_ledger(), std::nullopt);
  EXPECT_EQ(waiter->meta(k_meta_environment), std::nullopt);

  holder->begin_locked(milliseconds(1000));
  holder->ensure_ledger();
  holder->execute({"CREATE TABLE t (x int);", "0001-t.sql", 1});
  holder->record(entry("1"));
  holder->set_meta(k_meta_environment, "staging");

  std::optional<std::vector<LedgerEntry>> seen;
  std::optional<std::string> environment;
  std::string failure;
  std::thread second([&] {
    try {
      waiter->begin_locked(milliseconds(10000));
      seen = waiter->read_ledger();
      environment = waiter->meta(k_meta_environment);
      waiter->rollback();
    } catch (const Error& error) {
      failure = error.full_message();
    }
  });
  std::this_thread::sleep_for(milliseconds(300));
  holder->commit();
  second.join();
  EXPECT_EQ(failure, "");
  ASSERT_TRUE(seen.has_value());
  ASSERT_EQ(seen->size(), 1u);
  EXPECT_EQ(seen->front().version, "1");
  EXPECT_EQ(environment, "staging");
}

TEST_F(PostgresEngineTest, SessionLockLeavesNoLockTimeoutBehind) {
  auto first = open_engine();
  auto second = open_engine();
  first->lock(milliseconds(1000));
  EXPECT_EQ(expect_error([&] { second->lock(milliseconds(200)); }).kind(), ErrorKind::lock_timeout);
  first->unlock();
  second->lock(milliseconds(200));
  second->execute(
      {"DO $$ BEGIN IF current_setting('lock_timeout') <> '0' THEN RAISE EXCEPTION "
       "'lock_timeout leaked'; END IF; END $$;",
       "t.sql", 1});
  second->unlock();
}
// --- Execution ---------------------------------------------------------------------------------

// Non-ASCII text before the failing line: the server reports character positions, not bytes.
constexpr std::string_view k_unicode_prelude =
    "-- Ünïcödé: 日本語のコメント ✓\n"                                 // 1
    "CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL);\n"  // 2
    "INSERT INTO people VALUES (1, 'ñandú — 日本語');\n"               // 3
    "/* nested /* comment */ with ünïcode; */\n"                       // 4
    "INSERT INTO people VALUES (2, E'it''s \\'quoted\\' ; ✓');\n"      // 5
    "SELECT 'äöü;' AS x,\n";                                           // 6

TEST_F(PostgresEngineTest, ErrorNamesFileLineSqlstateAndMessage) {
  auto engine = open_engine();
  std::string sql(k_unicode_prelude);
  sql += "       emial FROM people;\n";  // 7
  sql += "INSERT INTO people VALUES (3, 'never');\n";
  engine->begin();
  Error error = expect_error([&] { engine->execute({sql, "db/migrations/0003-x.sql", 1}); });
  engine->rollback();
  EXPECT_EQ(error.kind(), ErrorKind::failure);
  EXPECT_EQ(error.where, "db/migrations/0003-x.sql line 7");
  EXPECT_EQ(error.code, "SQLSTATE 42703");
  EXPECT_EQ(error.message(), "column \"emial\" does not exist");
  EXPECT_EQ(error.statements_done, 3);
  EXPECT_TRUE(error.statement.starts_with("SELECT 'äöü;' AS x,")) << error.statement;
  EXPECT_TRUE(error.statement.ends_with("FROM people;")) << error.statement;
  EXPECT_TRUE(m_db->tables().empty());
}

TEST_F(PostgresEngineTest, ErrorLineCountsFromTheSectionsFirstLine) {
  auto engine = open_engine();
  std::string sql(k_unicode_prelude);
  sql += "       emial FROM people;\n";
  engine->begin();
  Error error = expect_error([&] { engine->execute({sql, "0003-x.sql", 5}); });
  engine->rollback();
  EXPECT_EQ(error.where, "0003-x.sql line 11");
}

TEST_F(PostgresEngineTest, ErrorWithoutPositionNamesTheStatementsLineAndDetail) {
  auto engine = open_engine();
  std::string sql(k_unicode_prelude);
  sql += "       1 AS y;\n";                              // 7
  sql += "\n";                                            // 8
  sql += "INSERT INTO people\n  VALUES (1, 'again');\n";  // 9-10
  engine->begin();
  Error error = expect_error([&] { engine->execute({sql, "0004-dup.sql", 1}); });
  engine->rollback();
  EXPECT_EQ(error.where, "0004-dup.sql line 9");
  EXPECT_EQ(error.code, "SQLSTATE 23505");
  EXPECT_TRUE(contains(error.message(), "duplicate key value violates unique constraint"))
      << error.message();
  EXPECT_TRUE(contains(error.detail, "DETAIL: Key (id)=(1) already exists.")) << error.detail;
  EXPECT_EQ(error.statements_done, 4);
  EXPECT_EQ(error.statement, "INSERT INTO people\n  VALUES (1, 'again');");
}

TEST_F(PostgresEngineTest, ErrorHintAndContextAreInTheDetail) {
  auto engine = open_engine();
  std::string sql =
      "CREATE FUNCTION boom() RETURNS void LANGUAGE plpgsql AS $$\n"
      "BEGIN\n"
      "  RAISE EXCEPTION 'boom; really' USING DETAIL = 'some detail', HINT = 'try harder';\n"
      "END $$;\n"
      "SELECT boom();\n";
  engine->begin();
  Error error = expect_error([&] { engine->execute({sql, "0005-boom.sql", 1}); });
  engine->rollback();
  EXPECT_EQ(error.where, "0005-boom.sql line 5");
  EXPECT_EQ(error.code, "SQLSTATE P0001");
  EXPECT_EQ(error.message(), "boom; really");
  // One line per field, in the order psql shows them.
  EXPECT_EQ(error.detail,
            "DETAIL: some detail\nHINT: try harder\nCONTEXT: PL/pgSQL function boom() line 3 at "
            "RAISE")
      << error.detail;
  EXPECT_EQ(error.statements_done, 1);
}

TEST_F(PostgresEngineTest, SyntaxErrorInAutocommitNamesItsLine) {
  auto engine = open_engine();
  std::string sql(k_unicode_prelude);
  sql += "       1 AS y;\n";              // 7
  sql += "CREATE TABEL oops (x int);\n";  // 8
  Error error = expect_error([&] { engine->execute({sql, "0006-typo.sql", 1}); });
  EXPECT_EQ(error.where, "0006-typo.sql line 8");
  EXPECT_EQ(error.code, "SQLSTATE 42601");
  EXPECT_EQ(error.statements_done, 4);
  // Autocommit: what ran before the failure stays.
  EXPECT_EQ(m_db->query("SELECT count(*) FROM people"), (Rows{{"2"}}));
}

TEST_F(PostgresEngineTest, NoTransactionScriptRunsStatementByStatement) {
  auto engine = open_engine();
  engine->execute(
      {"CREATE TYPE mood AS ENUM ('sad', 'ok');\n"
       "CREATE TABLE items (id int, name text, feeling mood);\n"
       "INSERT INTO items SELECT g, 'item ' || g, 'ok' FROM generate_series(1, 100) g;",
       "0001-setup.sql", 1});
  std::string sql =
      "-- dbinit:no-transaction\n"
      "CREATE INDEX CONCURRENTLY items_name ON items (name);\n"
      "ALTER TYPE mood ADD VALUE 'happy';\n"
      "UPDATE items SET feeling = 'happy' WHERE id = 1;\n"
      "CREATE FUNCTION twice(x int) RETURNS int LANGUAGE plpgsql AS $body$\n"
      "BEGIN\n"
      "  RETURN x * 2; -- a ; inside\n"
      "END\n"
      "$body$;\n"
      "CREATE FUNCTION thrice(x int) RETURNS int LANGUAGE sql\n"
      "BEGIN ATOMIC\n"
      "  SELECT x * 3;\n"
      "END;\n"
      "VACUUM ANALYZE items;\n";
  engine->execute({sql, "0002-index.sql", 1});
  EXPECT_EQ(m_db->query("SELECT indexdef FROM pg_indexes WHERE indexname = 'items_name'"),
            (Rows{{"CREATE INDEX items_name ON public.items USING btree (name)"}}));
  EXPECT_EQ(m_db->query("SELECT feeling, twice(2), thrice(2) FROM items WHERE id = 1"),
            (Rows{{"happy", "4", "6"}}));

  // Inside a transaction, CREATE INDEX CONCURRENTLY is refused by the server.
  engine->begin();
  Error error = expect_error([&] {
    engine->execute({"CREATE INDEX CONCURRENTLY items_id ON items (id);", "0003.sql", 1});
  });
  engine->rollback();
  EXPECT_EQ(error.code, "SQLSTATE 25001");
  EXPECT_EQ(error.where, "0003.sql line 1");
  EXPECT_TRUE(contains(error.hint, "-- dbinit:no-transaction")) << error.hint;

  engine->begin();
  Error vacuum = expect_error([&] {
    engine->execute({"SELECT 1;\nVACUUM items;\n", "0004-vacuum.sql", 1});
  });
  engine->rollback();
  EXPECT_EQ(vacuum.code, "SQLSTATE 25001");
  EXPECT_EQ(vacuum.where, "0004-vacuum.sql line 2");
  EXPECT_TRUE(contains(vacuum.message(), "cannot run inside a transaction block"))
      << vacuum.message();
  EXPECT_TRUE(contains(vacuum.hint, "-- dbinit:no-transaction")) << vacuum.hint;
}

TEST_F(PostgresEngineTest, PsqlMetaCommandsAreRefusedAsNotSqlNamingTheLine) {
  auto engine = open_engine();
  for (bool transaction : {true, false}) {
    if (transaction) engine->begin();
    Error error = expect_error([&] {
      engine->execute(
          {"CREATE TABLE before (x int);\n\\connect other_db\nCREATE TABLE t (x int);\n",
           "db/migrations/0005-connect.sql", 3});
    });
    if (transaction) engine->rollback();
    EXPECT_EQ(error.kind(), ErrorKind::failure);
    EXPECT_EQ(error.where, "db/migrations/0005-connect.sql line 4");
    EXPECT_TRUE(contains(error.message(), "\\connect is a psql meta-command, not SQL"))
        << error.message();
    EXPECT_EQ(error.statement, "\\connect other_db");
    EXPECT_TRUE(contains(error.hint, "URL")) << error.hint;
    EXPECT_EQ(error.statements_done, 0);
    // Refused before anything ran.
    EXPECT_TRUE(m_db->tables().empty());
  }
  Error set = expect_error([&] { engine->execute({"\\set ON_ERROR_STOP on\n", "x.sql", 1}); });
  EXPECT_EQ(set.where, "x.sql line 1");
  EXPECT_TRUE(contains(set.message(), "\\set is a psql meta-command")) << set.message();
}

TEST_F(PostgresEngineTest, ScriptsSessionSettingsReachNeitherTheLedgerNorTheNextScript) {
  m_db->query("CREATE SCHEMA other");
  auto engine = open_engine();
  engine->begin_locked(milliseconds(1000));
  engine->ensure_ledger();
  engine->execute({"SET search_path TO other;\nCREATE TABLE in_other (x int);\n", "1.sql", 1});
  engine->record(entry("1"));
  engine->set_meta(k_meta_environment, "staging");
  EXPECT_EQ(engine->read_ledger()->size(), 1u);
  EXPECT_EQ(engine->meta(k_meta_environment), "staging");
  // The next script starts from the connection's own settings.
  engine->execute(
      {"DO $$ BEGIN PERFORM set_config('search_path', 'other', false); END $$;\n"
       "CREATE TABLE also_other (x int);\n",
       "2.sql", 1});
  engine->execute({"CREATE TABLE in_public (x int);\nSET ROLE NONE;\n", "3.sql", 1});
  engine->record(entry("3"));
  engine->commit();
  EXPECT_EQ(m_db->query("SELECT table_schema, table_name FROM information_schema.tables WHERE "
                        "table_schema IN ('public', 'other') ORDER BY 1, 2"),
            (Rows{{"other", "also_other"},
                  {"other", "in_other"},
                  {"public", "dbinit_meta"},
                  {"public", "dbinit_migrations"},
                  {"public", "in_public"}}));
  EXPECT_EQ(m_db->query("SELECT version FROM public.dbinit_migrations ORDER BY version"),
            (Rows{{"1"}, {"3"}}));
  // In autocommit (no-transaction migrations) too.
  engine->execute({"SET search_path TO other;\n", "4.sql", 1});
  engine->record(entry("4"));
  engine->remove("1");
  EXPECT_EQ(m_db->query("SELECT version FROM public.dbinit_migrations ORDER BY version"),
            (Rows{{"3"}, {"4"}}));
  EXPECT_EQ(engine->read_ledger()->size(), 2u);
}

TEST_F(PostgresEngineTest, NoTransactionFailureCountsCompletedStatements) {
  auto engine = open_engine();
  std::string sql =
      "CREATE TABLE a (x int);\n"
      "CREATE INDEX CONCURRENTLY a_x ON a (x);\n"
      "SELECT 1;;\n"
      "CREATE INDEX CONCURRENTLY a_x ON a (x);\n"
      "CREATE TABLE never (x int);\n";
  Error error = expect_error([&] { engine->execute({sql, "0007-half.sql", 10}); });
  EXPECT_EQ(error.statements_done, 3);
  EXPECT_EQ(error.where, "0007-half.sql line 13");
  EXPECT_EQ(error.code, "SQLSTATE 42P07");
  EXPECT_EQ(error.statement, "CREATE INDEX CONCURRENTLY a_x ON a (x);");
  EXPECT_EQ(m_db->tables(), (std::vector<std::string>{"a"}));
}

TEST_F(PostgresEngineTest, CommitOfAFailedTransactionThrows) {
  auto engine = open_engine();
  engine->begin();
  expect_error([&] { engine->execute({"SELECT 1/0;", "x.sql", 1}); });
  Error error = expect_error([&] { engine->commit(); });
  EXPECT_EQ(error.kind(), ErrorKind::failure);
  // The engine is usable afterwards.
  engine->begin();
  engine->execute({"CREATE TABLE ok (x int);", "x.sql", 1});
  engine->commit();
  EXPECT_EQ(m_db->tables(), (std::vector<std::string>{"ok"}));
}

TEST_F(PostgresEngineTest, CopyFromStdinInAMigrationIsRefusedClearly) {
  auto engine = open_engine();
  engine->begin();
  Error error = expect_error([&] {
    engine->execute({"CREATE TABLE t (x int);\nCOPY t FROM stdin;\n", "0001.sql", 1});
  });
  engine->rollback();
  EXPECT_EQ(error.where, "0001.sql line 2");
  EXPECT_TRUE(contains(error.hint, "init dumps")) << error.hint;
}

TEST_F(PostgresEngineTest, HasUserTablesSeesViewsFunctionsAndTypes) {
  auto engine = open_engine();
  engine->ensure_ledger();
  EXPECT_FALSE(engine->has_user_tables());
  engine->execute({"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';", "f.sql", 1});
  EXPECT_TRUE(engine->has_user_tables());
  engine->execute({"DROP FUNCTION f(); CREATE TYPE color AS ENUM ('red');", "t.sql", 1});
  EXPECT_TRUE(engine->has_user_tables());
  engine->execute(
      {"DROP TYPE color; CREATE SCHEMA other; CREATE VIEW other.v AS SELECT 1 AS x;", "v.sql", 1});
  EXPECT_TRUE(engine->has_user_tables());
  engine->execute({"DROP VIEW other.v;", "d.sql", 1});
  EXPECT_FALSE(engine->has_user_tables());
}

// --- Schema ------------------------------------------------------------------------------------

constexpr std::string_view k_schema_part_one =
    "CREATE TYPE status AS ENUM ('new', 'paid', 'shipped');\n"
    "CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  email text NOT NULL UNIQUE, name text DEFAULT 'anonymous' CHECK (name <> ''));\n";
constexpr std::string_view k_schema_part_two =
    "CREATE TABLE orders (id serial PRIMARY KEY, customer bigint REFERENCES customers (id),\n"
    "  state status NOT NULL DEFAULT 'new', total numeric(10, 2));\n"
    "CREATE INDEX orders_state ON orders (state) WHERE state <> 'shipped';\n"
    "CREATE VIEW open_orders AS SELECT * FROM orders WHERE state = 'new';\n"
    "CREATE VIEW big_open_orders AS SELECT * FROM open_orders WHERE total > 100;\n"
    "COMMENT ON TABLE orders IS 'what people bought';\n";

TEST_F(PostgresEngineTest, SchemaIsStableExecutableDdlWithoutTheLedger) {
  auto engine = open_engine();
  engine->ensure_ledger();
  engine->execute({std::string(k_schema_part_one) + std::string(k_schema_part_two), "s.sql", 1});
  std::string schema = schema_text(*engine);
  EXPECT_FALSE(contains(schema, "dbinit_migrations")) << schema;
  EXPECT_FALSE(contains(schema, "dbinit_meta")) << schema;
  EXPECT_TRUE(contains(schema, "CREATE TYPE public.status AS ENUM ('new', 'paid', 'shipped');"))
      << schema;
  EXPECT_TRUE(contains(schema, "CREATE VIEW public.open_orders")) << schema;
  EXPECT_LT(schema.find("CREATE VIEW public.open_orders"),
            schema.find("CREATE VIEW public.big_open_orders"))
      << schema;
  EXPECT_EQ(schema, schema_text(*engine));

  // The same schema built in another order prints the same, and the text itself rebuilds it.
  auto other_db = make_test_database("postgres");
  auto other = engine_for(other_db->url());
  other->open(true);
  other->execute({"CREATE TABLE unrelated (x int); DROP TABLE unrelated;", "x.sql", 1});
  other->execute({std::string(k_schema_part_one) + std::string(k_schema_part_two), "s.sql", 1});
  EXPECT_EQ(schema_text(*other), schema);

  auto rebuilt_db = make_test_database("postgres");
  auto rebuilt = engine_for(rebuilt_db->url());
  rebuilt->open(true);
  rebuilt->begin();
  rebuilt->execute({schema, "schema.sql", 1});
  rebuilt->commit();
  EXPECT_EQ(schema_text(*rebuilt), schema);
}

// --- Restore -----------------------------------------------------------------------------------

// A database with what real dumps contain: data with awkward strings, identity and serial columns,
// sequences moved by setval, views on views, functions in three languages, a trigger, an enum,
// a domain, foreign keys and comments.
constexpr std::string_view k_realistic_database = R"sql(
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE SCHEMA billing;
CREATE TABLE authors (
  id serial PRIMARY KEY,
  name text NOT NULL,
  bio text,
  feeling mood DEFAULT 'ok',
  tags text[],
  meta jsonb,
  photo bytea,
  born date,
  score numeric(8, 3),
  "Odd Column" text
);
CREATE TABLE books (
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  author_id integer NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
  title text NOT NULL,
  pages positive,
  UNIQUE (author_id, title)
);
CREATE TABLE billing.invoices (no integer PRIMARY KEY, amount numeric NOT NULL, paid boolean);
CREATE SEQUENCE billing.invoice_numbers START 1000 INCREMENT 7;
SELECT setval('billing.invoice_numbers', 1234, true);
CREATE INDEX books_title_lower ON books (lower(title));
CREATE VIEW prolific AS
  SELECT a.name, count(*) AS books FROM authors a JOIN books b ON b.author_id = a.id GROUP BY a.name;
CREATE VIEW very_prolific AS SELECT * FROM prolific WHERE books > 1;
CREATE FUNCTION shout(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN upper(t) || '!'; -- a ; in a body
END;
$$;
CREATE FUNCTION book_count() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM books';
CREATE FUNCTION double_it(x integer) RETURNS integer LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
  SELECT x * 2;
END;
CREATE FUNCTION touch_title() RETURNS trigger LANGUAGE plpgsql AS $t$
BEGIN
  NEW.title := trim(NEW.title);
  RETURN NEW;
END
$t$;
CREATE TRIGGER books_touch BEFORE INSERT OR UPDATE ON books
  FOR EACH ROW EXECUTE FUNCTION touch_title();
COMMENT ON TABLE authors IS 'people who write; and "quote"';
INSERT INTO authors (name, bio, feeling, tags, meta, photo, born, score, "Odd Column") VALUES
  ('Zoë O''Brien', E'line one\nline two\ttabbed \\ backslash', 'happy', '{a,"b c",NULL}',
   '{"k": [1, 2, {"x": "y"}]}', '\xdeadbeef00', '1970-01-01', 3.142, '\.'),
  ('日本語 著者', '', 'sad', '{}', 'null', '', NULL, -0.5, E'\\N'),
  ('NULL', NULL, NULL, NULL, NULL, NULL, '2000-02-29', NULL, 'COPY x FROM stdin;');
INSERT INTO books (author_id, title, pages) VALUES
  (1, '  First; book  ', 100), (1, 'Second', 200), (2, E'Tab\there', 1), (3, '\.', NULL);
INSERT INTO billing.invoices VALUES (1, 10.5, true), (2, 0, NULL);
DELETE FROM books WHERE title = 'Second';
INSERT INTO books (author_id, title) VALUES (1, 'Third');
)sql";

TEST_F(PostgresEngineTest, RestoresARealPgDumpExactly) {
  m_db->query(std::string(k_realistic_database));
  std::string dump = pg_dump(*m_db);
  ASSERT_TRUE(contains(dump, "COPY public.authors")) << dump.substr(0, 2000);
  ASSERT_TRUE(contains(dump, "set_config('search_path', '', false)"));

  auto restored_db = make_test_database("postgres");
  auto engine = engine_for(restored_db->url());
  ASSERT_EQ(engine->open(true), OpenResult::created);
  engine->begin_locked(milliseconds(1000));
  engine->restore({dump, "db/init/init.sql", 1});
  // pg_dump emptied search_path; later migrations use unqualified names.
  engine->execute({"CREATE TABLE after_restore (id int);\nINSERT INTO after_restore VALUES (1);",
                   "0002-after.sql", 1});
  engine->commit();

  EXPECT_EQ(restored_db->query("SELECT count(*) FROM public.after_restore"), (Rows{{"1"}}));
  restored_db->query("DROP TABLE public.after_restore");

  auto original = engine_for(m_db->url());
  original->open(false);
  EXPECT_EQ(schema_text(*engine), schema_text(*original));
  EXPECT_EQ(restored_db->fingerprint(), m_db->fingerprint());
  EXPECT_TRUE(contains(restored_db->fingerprint(), "Zoë O''Brien") ||
              contains(restored_db->fingerprint(), "Zoë O'Brien"));
  EXPECT_EQ(restored_db->query("SELECT last_value, is_called FROM billing.invoice_numbers"),
            (Rows{{"1234", "t"}}));
  EXPECT_EQ(restored_db->query("SELECT nextval('authors_id_seq')"), (Rows{{"4"}}));
  EXPECT_EQ(restored_db->query("SELECT shout('hi'), double_it(21), book_count()"),
            (Rows{{"HI!", "42", "4"}}));
  EXPECT_EQ(restored_db->query("SELECT bio FROM authors WHERE name = 'Zoë O''Brien'"),
            (Rows{{"line one\nline two\ttabbed \\ backslash"}}));
  EXPECT_EQ(restored_db->query("SELECT \"Odd Column\" FROM authors ORDER BY id"),
            (Rows{{"\\."}, {"\\N"}, {"COPY x FROM stdin;"}}));
}

TEST_F(PostgresEngineTest, RestoresADumpOfADbinitManagedDatabaseWithItsLedger) {
  auto source = open_engine();
  source->begin_locked(milliseconds(1000));
  source->ensure_ledger();
  source->execute({"CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2);", "0001-t.sql", 1});
  LedgerEntry first = entry("1");
  first.down_sql = "DROP TABLE t;";
  source->record(first);
  source->set_meta(k_meta_environment, "development");
  source->commit();
  std::string dump = pg_dump(*m_db, {"--no-owner"});

  auto restored_db = make_test_database("postgres");
  auto engine = engine_for(restored_db->url());
  engine->open(true);
  engine->begin_locked(milliseconds(1000));
  engine->restore({dump, "init.sql", 1});
  auto ledger = engine->read_ledger();
  ASSERT_TRUE(ledger.has_value());
  ASSERT_EQ(ledger->size(), 1u);
  EXPECT_EQ((*ledger)[0].version, "1");
  EXPECT_EQ((*ledger)[0].down_sql, "DROP TABLE t;");
  EXPECT_EQ(engine->meta(k_meta_environment), "development");
  engine->ensure_ledger();
  engine->record(entry("2"));
  engine->commit();
  EXPECT_EQ(restored_db->query("SELECT string_agg(version, ',' ORDER BY version) FROM "
                               "dbinit_migrations"),
            (Rows{{"1,2"}}));
  EXPECT_EQ(restored_db->query("SELECT count(*) FROM t"), (Rows{{"2"}}));
}

TEST_F(PostgresEngineTest, RestoreRefusesUnknownMetaCommandsNamingTheLine) {
  auto engine = open_engine();
  engine->begin();
  Error error = expect_error([&] {
    engine->restore(
        {"\\restrict abc123\n"
         "CREATE TABLE a (x int);\n"
         "\n"
         "\\set ON_ERROR_STOP on\n"
         "CREATE TABLE b (x int);\n",
         "db/init/init.sql", 1});
  });
  engine->rollback();
  EXPECT_EQ(error.kind(), ErrorKind::failure);
  EXPECT_EQ(error.where, "db/init/init.sql line 4");
  EXPECT_TRUE(contains(error.message(), "\\set")) << error.message();
  EXPECT_EQ(error.statements_done, 1);
  EXPECT_TRUE(m_db->tables().empty());
}

TEST_F(PostgresEngineTest, RestoreFollowsConnectToTheSameDatabaseOnly) {
  auto engine = open_engine();
  std::string name = database_name(*m_db);
  engine->begin();
  engine->restore({"\\connect " + name + "\nCREATE TABLE a (x int);\n" +
                       "\\connect -reuse-previous=on \"dbname='" + name + "'\"\n" +
                       "CREATE TABLE b (x int);\n\\unrestrict abc\n",
                   "init.sql", 1});
  engine->commit();
  EXPECT_EQ(m_db->tables(), (std::vector<std::string>{"a", "b"}));

  engine->begin();
  Error error = expect_error([&] {
    engine->restore({"CREATE TABLE c (x int);\n\\connect other_db\n", "init.sql", 1});
  });
  engine->rollback();
  EXPECT_EQ(error.where, "init.sql line 2");
  EXPECT_TRUE(contains(error.message(), "other_db")) << error.message();
}

TEST_F(PostgresEngineTest, RestoreCopyErrorNamesTheDataLine) {
  auto engine = open_engine();
  engine->begin();
  Error error = expect_error([&] {
    engine->restore(
        {"CREATE TABLE n (a integer, b text);\n"  // 1
         "\n"                                     // 2
         "COPY public.n (a, b) FROM stdin;\n"     // 3
         "1\tone\n"                               // 4
         "2\ttwo\n"                               // 5
         "three\tthree\n"                         // 6
         "\\.\n",
         "init.sql", 1});
  });
  engine->rollback();
  EXPECT_EQ(error.where, "init.sql line 6");
  EXPECT_EQ(error.code, "SQLSTATE 22P02");
  EXPECT_EQ(error.statements_done, 1);
  EXPECT_TRUE(m_db->tables().empty());
}

TEST_F(PostgresEngineTest, RestoreCopyWithoutTerminatorIsAnError) {
  auto engine = open_engine();
  engine->begin();
  Error error = expect_error([&] {
    engine->restore({"CREATE TABLE n (a integer);\nCOPY n FROM stdin;\n1\n2\n", "init.sql", 1});
  });
  engine->rollback();
  EXPECT_EQ(error.where, "init.sql line 2");
  EXPECT_TRUE(contains(error.message(), "\\.")) << error.message();
}

TEST_F(PostgresEngineTest, RestoreLinesAfterCopyBlocksAreCountedRight) {
  auto engine = open_engine();
  engine->begin();
  Error error = expect_error([&] {
    engine->restore(
        {"CREATE TABLE n (a integer);\n"  // 1
         "COPY n FROM stdin;\n"           // 2
         "1\n"                            // 3
         "2\n"                            // 4
         "\\.\n"                          // 5
         "\n"                             // 6
         "INSERT INTO n VALUES (3);\n"    // 7
         "SELECT nope FROM n;\n",         // 8
         "init.sql", 1});
  });
  engine->rollback();
  EXPECT_EQ(error.where, "init.sql line 8");
  EXPECT_EQ(error.statements_done, 3);
}

TEST_F(PostgresEngineTest, RestoreIgnoresTheDumpsOwnTransactionInsideTheRun) {
  auto engine = open_engine();
  engine->begin();
  engine->restore({"BEGIN;\nCREATE TABLE a (x int);\nCOMMIT;\n", "init.sql", 1});
  engine->rollback();
  EXPECT_TRUE(m_db->tables().empty());
}

TEST_F(PostgresEngineTest, RestoreResetsSessionSettingsTheDumpChanged) {
  auto engine = open_engine();
  engine->begin();
  engine->restore(
      {"SET statement_timeout = 60000;\nSET check_function_bodies = false;\n"
       "SELECT pg_catalog.set_config('search_path', '', false);\n"
       "SET client_min_messages = warning;\nSET row_security = off;\n"
       "CREATE TABLE public.a (x int);\n",
       "init.sql", 1});
  engine->execute(
      {"DO $$ BEGIN\n"
       "  IF current_setting('search_path') <> '\"$user\", public' THEN\n"
       "    RAISE EXCEPTION 'search_path %', current_setting('search_path'); END IF;\n"
       "  IF current_setting('statement_timeout') <> '0' THEN\n"
       "    RAISE EXCEPTION 'statement_timeout'; END IF;\n"
       "  IF current_setting('check_function_bodies') <> 'on' THEN\n"
       "    RAISE EXCEPTION 'check_function_bodies'; END IF;\n"
       "END $$;\n"
       "INSERT INTO a VALUES (1);",
       "check.sql", 1});
  engine->commit();
  EXPECT_EQ(m_db->query("SELECT count(*) FROM a"), (Rows{{"1"}}));
}

}  // namespace
}  // namespace dbinit::test
