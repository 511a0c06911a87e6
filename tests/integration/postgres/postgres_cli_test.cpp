// The PostgreSQL engine end to end, through the built binary: credentials and unreachable servers
// (exit 6, redacted URLs, --wait), libpq parameters and unix sockets in URLs and URL files, a
// role without CREATEDB, real pg_dump output as a compressed init dump, and concurrent starters
// through PgBouncer in transaction pooling mode.

#include <gmock/gmock.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "engines/url.h"
#include "integration/cli_fixture.h"
#include "support/pgbouncer.h"
#include "support/tcp_forwarder.h"

namespace dbinit::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

class PostgresCliTest : public CliTest {
 protected:
  DatabaseUrl url() { return parse_database_url(db().url()); }

  /// Runs dbinit in the project with `url` as DBINIT_URL.
  RunResult dbinit_at(const std::string& url, std::vector<std::string> args) {
    return dbinit(std::move(args), {{"DBINIT_URL", url}});
  }

  /// The test database's URL on a loopback port where nothing listens.
  std::string unreachable_url() {
    return with_authority(db().url(), url().user + ":" + url().password +
                                          "@127.0.0.1:" + std::to_string(unused_port()));
  }
};

// --- Credentials and unreachable servers ------------------------------------------------------

TEST_F(PostgresCliTest, WrongPasswordExitsSixNamingTheRedactedUrlNeverThePassword) {
  migration("0001-a.sql", "CREATE TABLE a (id integer);\n");
  const std::string secret = "Wrong-Secret-Pw-77";
  const std::string bad = with_authority(db().url(), url().user + ":" + secret + "@" + url().hosts);

  RunResult result = dbinit_at(bad, {"up", "-v"});
  EXPECT_EQ(result.exit_code, 6) << result.err;
  EXPECT_THAT(result.err, HasSubstr("postgres://dbinit:***@" + url().hosts + "/"));
  EXPECT_THAT(result.err, HasSubstr("password authentication failed"));
  EXPECT_THAT(result.err, HasSubstr("pg_hba.conf"));
  EXPECT_THAT(result.err + result.out, Not(HasSubstr(secret)));
  EXPECT_THAT(result.err + result.out, Not(HasSubstr(url().password)));

  // Rejected credentials are final: --wait does not retry them.
  const Clock::time_point start = Clock::now();
  RunResult waited = dbinit_at(bad, {"up", "--wait", "10s"});
  EXPECT_EQ(waited.exit_code, 6) << waited.err;
  EXPECT_LT(seconds_since(start), 5.0);
  EXPECT_THAT(waited.err, Not(HasSubstr("waiting for")));
  EXPECT_THAT(waited.err, Not(HasSubstr(secret)));

  RunResult status = dbinit_at(bad, {"status", "--json"});
  EXPECT_EQ(status.exit_code, 6) << status.err;
  EXPECT_THAT(status.err + status.out, Not(HasSubstr(secret)));
  EXPECT_FALSE(db().exists());
}

TEST_F(PostgresCliTest, UnreachablePortExitsSixWithAHint) {
  migration("0001-a.sql", "CREATE TABLE a (id integer);\n");
  const std::string target = unreachable_url();
  RunResult result = dbinit_at(target, {"up"});
  EXPECT_EQ(result.exit_code, 6) << result.err;
  EXPECT_THAT(result.err, HasSubstr("cannot connect to PostgreSQL"));
  EXPECT_THAT(result.err, HasSubstr("Connection refused"));
  EXPECT_THAT(result.err, HasSubstr("dbinit:***@127.0.0.1:"));
  EXPECT_THAT(result.err, HasSubstr("--wait"));
  EXPECT_THAT(result.err, Not(HasSubstr(url().password)));

  RunResult check = dbinit_at(target, {"check"});
  EXPECT_EQ(check.exit_code, 6) << check.err;
}

TEST_F(PostgresCliTest, WaitRetriesAnUnreachableServerWithShortLinesThenExitsSix) {
  migration("0001-a.sql", "CREATE TABLE a (id integer);\n");
  const std::string target = unreachable_url();
  const Clock::time_point start = Clock::now();
  RunResult result = dbinit_at(target, {"up", "--wait", "3s"});
  const double elapsed = seconds_since(start);
  EXPECT_EQ(result.exit_code, 6) << result.err;
  EXPECT_GE(elapsed, 2.5);
  EXPECT_LE(elapsed, 15.0);
  EXPECT_THAT(result.err,
              ::testing::ContainsRegex("dbinit: waiting for postgres://dbinit:\\*\\*\\*@127\\.0\\."
                                       "0\\.1:[0-9]+/[a-z0-9_]+: cannot connect"));
  EXPECT_THAT(result.err, HasSubstr("did not accept connections within"));
  EXPECT_THAT(result.err, Not(HasSubstr(url().password)));
  // One line every few seconds, not one per attempt.
  std::size_t lines = 0;
  for (std::size_t at = 0; (at = result.err.find("waiting for", at)) != std::string::npos; ++at) {
    ++lines;
  }
  EXPECT_GE(lines, 1u);
  EXPECT_LE(lines, 2u) << result.err;
}

TEST_F(PostgresCliTest, WaitSucceedsWhenTheServerComesUpMeanwhile) {
  migration("0001-a.sql", "CREATE TABLE a (id integer);\n");
  const int port = unused_port();
  const std::string host = url().hosts.substr(0, url().hosts.rfind(':'));
  const int server_port = std::stoi(url().hosts.substr(url().hosts.rfind(':') + 1));
  TcpForwarder forwarder(port, host, server_port);

  RunOptions options;
  options.cwd = project().path();
  options.env["DBINIT_URL"] = with_authority(
      db().url(), url().user + ":" + url().password + "@127.0.0.1:" + std::to_string(port));
  const Clock::time_point start = Clock::now();
  Child child({DBINIT_BINARY, "up", "--wait", "30s"}, options);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  forwarder.start();
  RunResult result = child.wait();
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_LT(seconds_since(start), 15.0);
  EXPECT_THAT(result.err, HasSubstr("waiting for postgres://dbinit:***@127.0.0.1:"));
  EXPECT_THAT(result.err, HasSubstr("applied 0001-a.sql"));
  EXPECT_GE(forwarder.connections(), 1);
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
}

TEST_F(PostgresCliTest, RunWithWaitStartsTheCommandWhenTheServerIsThere) {
  migration("0001-a.sql", "CREATE TABLE a (id integer);\n");
  RunResult result = dbinit({"run", "--wait", "5s", "--", "sh", "-c", "echo started"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "started\n");
  EXPECT_THAT(result.err, Not(HasSubstr("waiting for")));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
}

// --- URL forms --------------------------------------------------------------------------------

TEST_F(PostgresCliTest, UrlFileWithLibpqParametersPassesThemThrough) {
  migration("0001-seen.sql",
            "CREATE TABLE seen (step integer, app text, port integer, ssl boolean);\n"
            "INSERT INTO seen SELECT 1, current_setting('application_name'), inet_server_port(), "
            "(SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid());\n");
  // The URL file alone names the database (no DBINIT_URL).
  project().write("secret-url", db().url() + "\n");
  RunOptions options;
  options.cwd = project().path();
  options.env["DATABASE_URL_FILE"] = (project().path() / "secret-url").string();
  RunResult first = run_dbinit({"up"}, options);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.err, Not(HasSubstr(url().password)));

  // Two hosts, the first one down; libpq tries them in order and keeps the writable one.
  // application_name and sslmode come from the URL.
  const std::string hosts = "127.0.0.1:" + std::to_string(unused_port()) + "," + url().hosts;
  const std::string multi =
      with_authority(db().url(), url().user + ":" + url().password + "@" + hosts) +
      "?target_session_attrs=read-write&sslmode=disable&application_name=billing-migrations"
      "&connect_timeout=5";
  project().write("secret-url", multi + "\n");
  migration("0002-seen.sql",
            "INSERT INTO seen SELECT 2, current_setting('application_name'), inet_server_port(), "
            "(SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid());\n");
  RunResult second = run_dbinit({"up"}, options);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.err, Not(HasSubstr(url().password)));

  const std::string port = url().hosts.substr(url().hosts.rfind(':') + 1);
  EXPECT_EQ(db().query("SELECT step, app, port, ssl FROM seen ORDER BY step"),
            (Rows{{"1", "dbinit", port, "f"}, {"2", "billing-migrations", port, "f"}}));

  // A parameter libpq rejects is a configuration error, not an unreachable server.
  project().write("secret-url", db().url() + "?sslmode=sometimes\n");
  RunResult bad = run_dbinit({"status"}, options);
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("sslmode"));
  EXPECT_THAT(bad.err, Not(HasSubstr(url().password)));
}

TEST_F(PostgresCliTest, SslModeRequireAgainstAServerWithoutTlsFailsWithoutRetrying) {
  migration("0001-a.sql", "CREATE TABLE a (id integer);\n");
  const Clock::time_point start = Clock::now();
  RunResult result = dbinit_at(db().url() + "?sslmode=require", {"up", "--wait", "10s"});
  EXPECT_NE(result.exit_code, 0) << result.err;
  EXPECT_LT(seconds_since(start), 5.0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("SSL"));
  EXPECT_THAT(result.err, HasSubstr("sslmode"));
  EXPECT_THAT(result.err, Not(HasSubstr("waiting for")));
  EXPECT_THAT(result.err, Not(HasSubstr(url().password)));
}

TEST_F(PostgresCliTest, SocketUrlsConnectThroughTheUnixSocket) {
  migration("0001-seen.sql",
            "CREATE TABLE seen (step serial, socket boolean);\n"
            "INSERT INTO seen (socket) SELECT inet_server_addr() IS NULL;\n");
  const std::string socket_dir = test_server_file("postgres", "socket-dir");
  const std::string port = test_server_file("postgres", "port");
  const std::string database = url().database;

  // host= as a query parameter, no password (the test server trusts its socket).
  RunResult query_form =
      dbinit_at("postgres://dbinit@/" + database + "?host=" + socket_dir + "&port=" + port, {"up"});
  ASSERT_EQ(query_form.exit_code, 0) << query_form.err;

  // The socket folder percent-encoded in the host part.
  std::string encoded;
  for (char c : socket_dir) encoded += c == '/' ? std::string("%2F") : std::string(1, c);
  migration("0002-seen.sql", "INSERT INTO seen (socket) SELECT inet_server_addr() IS NULL;\n");
  RunResult host_form =
      dbinit_at("postgres://dbinit@" + encoded + ":" + port + "/" + database, {"up"});
  ASSERT_EQ(host_form.exit_code, 0) << host_form.err;
  EXPECT_EQ(db().query("SELECT socket FROM seen ORDER BY step"), (Rows{{"t"}, {"t"}}));
}

// A tablespace on a tmpfs of `size` that the test server's user owns, mounted where the server
// sees it; unmounted when the object dies. Writing past its size fails with disk_full (53100)
// while the server's own files and WAL stay on its disk, as when a data volume fills up.
class SmallTablespace {
 public:
  SmallTablespace(TestDatabase& db, const std::string& prefix, const std::string& size)
      : m_name(prefix + std::to_string(::getpid())) {
    fs::permissions(m_dir.path(), fs::perms::owner_all | fs::perms::group_read |
                                      fs::perms::group_exec | fs::perms::others_read |
                                      fs::perms::others_exec);
    m_path = m_dir.path() / "small";
    fs::create_directory(m_path);
    struct stat data {};
    if (::stat(db.query("SHOW data_directory").at(0).at(0).c_str(), &data) != 0) {
      throw std::runtime_error("cannot stat the server's data directory");
    }
    RunResult mounted =
        run_program({"mount", "-t", "tmpfs", "-o",
                     "size=" + size + ",mode=0700,uid=" + std::to_string(data.st_uid), "tmpfs",
                     m_path.string()});
    if (mounted.exit_code != 0) {
      throw std::runtime_error("mounting a tmpfs needs root: " + mounted.err);
    }
    db.query("CREATE TABLESPACE " + m_name + " LOCATION '" + m_path.string() + "'");
  }
  ~SmallTablespace() { run_program({"umount", "-l", m_path.string()}); }
  SmallTablespace(const SmallTablespace&) = delete;
  SmallTablespace& operator=(const SmallTablespace&) = delete;

  const fs::path& path() const { return m_path; }
  const std::string& name() const { return m_name; }

 private:
  TempDir m_dir;
  fs::path m_path;
  std::string m_name;
};

// --- Creating the database ---------------------------------------------------------------------

TEST_F(PostgresCliTest, DiskFullOnTheServerRollsTheRunBackAndSaysToFreeSpace) {
  SmallTablespace space(db(), "dbinit_small_", "1m");
  const fs::path& small = space.path();
  const std::string& tablespace = space.name();

  migration("0001-a.sql", "CREATE TABLE a (id INT);\n");
  migration("0002-big.sql", "CREATE TABLE big (id INT, payload TEXT) TABLESPACE " + tablespace +
                                ";\nINSERT INTO big SELECT g, repeat(md5(g::text), 40)\n"
                                "  FROM generate_series(1, 20000) AS g;\n");
  RunResult full = dbinit_at(db().url(), {"up"});
  EXPECT_EQ(full.exit_code, 1) << full.err;
  EXPECT_THAT(full.err, HasSubstr("SQLSTATE 53100"));
  EXPECT_THAT(full.err, HasSubstr("0002-big.sql line 2"));
  EXPECT_THAT(full.err, HasSubstr("nothing was changed (the run was rolled back)"));
  EXPECT_THAT(full.err, HasSubstr("the server's disk is full: free space on the volume"));
  // One transaction: not even 0001 stayed.
  EXPECT_EQ(db().query("SELECT count(*) FROM pg_tables WHERE tablename IN ('a', 'big')"),
            (Rows{{"0"}}));

  // With room again, the next start applies both.
  RunResult grown = run_program({"mount", "-o", "remount,size=64m", small.string()});
  ASSERT_EQ(grown.exit_code, 0) << grown.err;
  RunResult again = dbinit_at(db().url(), {"up"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(db().query("SELECT count(*) FROM big"), (Rows{{"20000"}}));
  db().query("DROP TABLE big");
  db().query("DROP TABLESPACE " + tablespace);
}

TEST_F(PostgresCliTest, DiskFullDuringALoadLeavesTheDatabaseAsItWas) {
  // The table lives in a tablespace on a tmpfs with room for one copy of it: a load, which
  // writes the new table before the old one goes at the commit, fills it.
  SmallTablespace space(db(), "dbinit_load_", "64m");
  const fs::path& small = space.path();
  const std::string& tablespace = space.name();

  migration("0001-big.sql", "CREATE TABLE big (id INT, payload TEXT) TABLESPACE " + tablespace +
                                ";\nINSERT INTO big SELECT g, repeat(md5(g::text), 40)\n"
                                "  FROM generate_series(1, 20000) AS g;\n");
  ASSERT_EQ(dbinit_at(db().url(), {"up"}).exit_code, 0);
  RunResult dumped = dbinit_at(db().url(), {"dump", "--name", "s"});
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  db().query("DELETE FROM big WHERE id > 19000");
  const std::string before = db().fingerprint();
  // Room for what is there and half of the table again.
  const long used_kb = std::stol(run_program({"du", "-sk", small.string()}).out);
  const long table_kb =
      std::stol(db().query("SELECT pg_total_relation_size('big') / 1024").at(0).at(0));
  RunResult shrunk = run_program(
      {"mount", "-o", "remount,size=" + std::to_string(used_kb + table_kb / 2 + 64) + "k",
       small.string()});
  ASSERT_EQ(shrunk.exit_code, 0) << shrunk.err;

  RunResult full =
      dbinit({"load", "s", "--yes"}, {{"DBINIT_URL", db().url()}, {"DBINIT_ENV", "development"}});
  EXPECT_EQ(full.exit_code, 1) << full.err;
  EXPECT_THAT(full.err, HasSubstr("53100"));
  EXPECT_THAT(full.err, HasSubstr("nothing was changed"));
  EXPECT_EQ(db().fingerprint(), before);

  RunResult grown = run_program({"mount", "-o", "remount,size=64m", small.string()});
  ASSERT_EQ(grown.exit_code, 0) << grown.err;
  RunResult again =
      dbinit({"load", "s", "--yes"}, {{"DBINIT_URL", db().url()}, {"DBINIT_ENV", "development"}});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(db().query("SELECT count(*) FROM big"), (Rows{{"20000"}}));
  db().query("DROP TABLE big");
  db().query("DROP TABLESPACE " + tablespace);
}

TEST_F(PostgresCliTest, LedgerRowsRefusedAtTheCommitRollTheWholeRunBack) {
  // The ledger rows of a run are written together just before it commits: a migration that makes
  // the ledger refuse one of them fails the run there, and nothing of it stays.
  migration("0001-a.sql", "CREATE TABLE a (id INT);\n");
  migration("0002-guard.sql",
            "CREATE FUNCTION refuse_three() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            "  IF NEW.version = '3' THEN RAISE EXCEPTION 'version 3 refused'; END IF;\n"
            "  RETURN NEW;\n"
            "END $$;\n"
            "CREATE TRIGGER refuse_three BEFORE INSERT ON dbinit_migrations\n"
            "  FOR EACH ROW EXECUTE FUNCTION refuse_three();\n");
  migration("0003-c.sql", "CREATE TABLE c (id INT);\n");

  RunResult result = dbinit_at(db().url(), {"up"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("recording migrations 1 to 3 in the ledger failed"));
  EXPECT_THAT(result.err, HasSubstr("version 3 refused"));
  // The database itself was created by this run, and stays.
  EXPECT_THAT(result.err,
              HasSubstr("the database was created and is still empty (the run was rolled back)"));
  EXPECT_EQ(db().query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND "
                       "tablename IN ('a', 'c', 'dbinit_migrations')"),
            (Rows{{"0"}}));
}

// --- Session settings ---------------------------------------------------------------------------

TEST_F(PostgresCliTest, SearchPathSetByAMigrationMovesNeitherTheLedgerNorTheNextMigration) {
  migration("0001-other.sql",
            "CREATE SCHEMA other;\nSET search_path TO other;\nCREATE TABLE in_other (x int);\n");
  migration("0002-public.sql", "CREATE TABLE in_public (x int);\n");
  migration("0003-no-tx.sql",
            "-- dbinit:no-transaction\nSELECT set_config('search_path', 'other', false);\n"
            "CREATE TABLE other_too (x int);\n");
  migration("0004-public-again.sql", "CREATE TABLE public_too (x int);\n");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"up"}, std::vector<std::string>{"up", "--transaction", "each"}}) {
    SCOPED_TRACE(args.size());
    RunResult result = dbinit(args);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(ledger(),
              (Ledger{{"1", "applied"}, {"2", "applied"}, {"3", "applied"}, {"4", "applied"}}));
    EXPECT_EQ(db().query("SELECT table_schema, table_name FROM information_schema.tables "
                         "WHERE table_schema IN ('public', 'other') ORDER BY 1, 2"),
              (Rows{{"other", "in_other"},
                    {"other", "other_too"},
                    {"public", "dbinit_meta"},
                    {"public", "dbinit_migrations"},
                    {"public", "in_public"},
                    {"public", "public_too"}}));
    EXPECT_EQ(dbinit({"check"}).exit_code, 0);
    // Once more from the start, one migration per transaction.
    db().query(
        "DROP SCHEMA other CASCADE; DROP TABLE in_public, public_too, dbinit_migrations, "
        "dbinit_meta");
  }
}

TEST_F(PostgresCliTest, ServerDetailHintAndContextArePrintedOneLineEach) {
  migration("0001-boom.sql",
            "DO $$ BEGIN\n"
            "  RAISE EXCEPTION 'boom' USING DETAIL = 'first detail', HINT = 'try harder';\n"
            "END $$;\n");
  RunResult result = dbinit({"up"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("dbinit: error: db/migrations/0001-boom.sql line 1: boom "
                                    "(SQLSTATE P0001)"));
  EXPECT_THAT(result.err, HasSubstr("\ndbinit: detail: DETAIL: first detail\n"
                                    "dbinit: detail: HINT: try harder\n"
                                    "dbinit: detail: CONTEXT: PL/pgSQL function inline_code_block "
                                    "line 2 at RAISE\n"));
  // Every line of the report is dbinit's.
  std::size_t start = 0;
  while (start < result.err.size()) {
    const std::size_t end = result.err.find('\n', start);
    EXPECT_TRUE(result.err.compare(start, 8, "dbinit: ") == 0)
        << result.err.substr(start, end - start);
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

TEST_F(PostgresCliTest, PsqlMetaCommandInAMigrationIsNamedAsSuch) {
  migration("0001-connect.sql", "-- dbinit:up\n\\connect app\nCREATE TABLE a (id int);\n");
  RunResult result = dbinit({"up"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("0001-connect.sql line 2: \\connect is a psql meta-command, "
                                    "not SQL"));
  EXPECT_TRUE(db().tables().empty());
}

TEST_F(PostgresCliTest, RoleWithoutCreatedbIsToldWhichPrivilegeIsMissing) {
  const std::string role = "dbinit_test_app_" + std::to_string(getpid());
  const std::string password = "App-Secret-Pw-5";
  db().query("DROP ROLE IF EXISTS " + role + "; CREATE ROLE " + role +
             " LOGIN NOCREATEDB PASSWORD '" + password + "'");
  // db().query() created the test database to run the statement: start from a missing one.
  auto missing = make_test_database("postgres");
  const DatabaseUrl target = parse_database_url(missing->url());
  const std::string app_url =
      with_authority(missing->url(), role + ":" + password + "@" + target.hosts);
  migration("0001-a.sql", "CREATE TABLE a (id integer);\n");

  RunResult refused = dbinit_at(app_url, {"up"});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("cannot create database \"" + target.database + "\""));
  EXPECT_THAT(refused.err, HasSubstr("role '" + role + "' lacks the CREATEDB privilege"));
  EXPECT_THAT(refused.err, HasSubstr("ALTER ROLE \"" + role + "\" CREATEDB"));
  EXPECT_THAT(refused.err, HasSubstr(role + ":***@"));
  EXPECT_THAT(refused.err, Not(HasSubstr(password)));
  EXPECT_FALSE(missing->exists());

  // Created by an administrator for the role, the database is then migrated by it.
  db().query("CREATE DATABASE " + target.database + " OWNER " + role);
  RunResult up = dbinit_at(app_url, {"up"});
  EXPECT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(missing->query("SELECT tableowner FROM pg_tables WHERE tablename = 'a'"),
            (Rows{{role}}));
  missing->query("REASSIGN OWNED BY " + role + " TO CURRENT_USER; DROP OWNED BY " + role);
  db().query("DROP OWNED BY " + role + "; DROP ROLE " + role);
}

// --- Init dumps from pg_dump -------------------------------------------------------------------

// A schema with what pg_dump writes in special ways: an enum, COPY data with tabs, backslashes
// and NULLs, a sequence moved with setval, a serial column, a function, a view and a trigger.
constexpr const char* k_schema_migration = R"sql(CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE SEQUENCE invoice_numbers START 1000 INCREMENT 7;
CREATE TABLE authors (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  feeling mood DEFAULT 'ok',
  bio text,
  tags text[],
  meta jsonb
);
CREATE TABLE books (
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  author_id integer NOT NULL REFERENCES authors (id),
  title text NOT NULL,
  invoice integer NOT NULL DEFAULT nextval('invoice_numbers')
);
CREATE FUNCTION shout(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN upper(t) || '!'; -- a ; in a body
END;
$$;
CREATE FUNCTION trim_title() RETURNS trigger LANGUAGE plpgsql AS $t$
BEGIN
  NEW.title := trim(NEW.title);
  RETURN NEW;
END
$t$;
CREATE TRIGGER books_trim BEFORE INSERT OR UPDATE ON books
  FOR EACH ROW EXECUTE FUNCTION trim_title();
CREATE VIEW shelf AS
  SELECT a.name, shout(b.title) AS loud, a.feeling FROM authors a JOIN books b ON b.author_id = a.id;
-- dbinit:down
DROP VIEW shelf;
DROP TABLE books;
DROP TABLE authors;
DROP FUNCTION trim_title();
DROP FUNCTION shout(text);
DROP SEQUENCE invoice_numbers;
DROP TYPE mood;
)sql";

constexpr const char* k_data_migration =
    R"sql(INSERT INTO authors (name, feeling, bio, tags, meta) VALUES
  ('Zoë O''Brien', 'happy', E'line one\nline two\ttabbed \\ backslash', '{a,"b c",NULL}',
   '{"k": [1, 2, {"x": "y"}]}'),
  ('\.', 'sad', E'\\N', '{}', 'null'),
  ('NULL', NULL, NULL, NULL, NULL);
INSERT INTO books (author_id, title) VALUES (1, '  First; book  '), (2, E'Tab\there'), (3, 'x');
SELECT setval('invoice_numbers', 5000, true);
)sql";

TEST_F(PostgresCliTest, PgDumpOfAManagedDatabaseIsAnInitDumpThatBringsItsLedger) {
  // The source: a database that dbinit built.
  TempDir source_project;
  source_project.write("db/migrations/0001-schema.sql", k_schema_migration);
  source_project.write("db/migrations/0002-data.sql", k_data_migration);
  auto source = make_test_database("postgres");
  RunOptions options;
  options.cwd = source_project.path();
  options.env["DBINIT_URL"] = source->url();
  options.env["DBINIT_ENV"] = "staging";
  RunResult built = run_dbinit({"up"}, options);
  ASSERT_EQ(built.exit_code, 0) << built.err;

  RunResult dumped = run_program({postgres_client("pg_dump"), "--dbname=" + source->url()});
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  const std::string& dump = dumped.out;
  ASSERT_THAT(dump, HasSubstr("COPY public.authors"));
  ASSERT_THAT(dump, HasSubstr("COPY public.dbinit_migrations"));
  ASSERT_THAT(dump, HasSubstr("setval('public.invoice_numbers', 5000, true)"));

  // The same migrations plus the dump, gzip-compressed: the dump is restored, nothing applied.
  migration("0001-schema.sql", k_schema_migration);
  migration("0002-data.sql", k_data_migration);
  project().write("db/init/init.sql", dump);
  ASSERT_EQ(run_program({"gzip", (project().path() / "db/init/init.sql").string()}).exit_code, 0);
  RunResult restored = up_ok();
  EXPECT_THAT(restored.err, HasSubstr("restored init dump db/init/init.sql.gz"));
  EXPECT_THAT(restored.err, Not(HasSubstr("applied 0001")));
  EXPECT_THAT(restored.err, Not(HasSubstr("applied 0002")));
  EXPECT_EQ(db().fingerprint(), source->fingerprint());
  EXPECT_EQ(dbinit({"check"}).exit_code, 0);
  // The environment the source recorded comes along.
  RunResult status = dbinit({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(nlohmann::json::parse(status.out)["environment"], "staging");

  // The restored objects work: sequences continue, functions and triggers run.
  db().query("INSERT INTO books (author_id, title) VALUES (1, '  Fourth  ')");
  EXPECT_EQ(db().query("SELECT loud, feeling FROM shelf WHERE loud LIKE 'FOURTH%'"),
            (Rows{{"FOURTH!", "happy"}}));
  EXPECT_EQ(db().query("SELECT invoice FROM books WHERE title = 'Fourth'"), (Rows{{"5007"}}));
  EXPECT_EQ(db().query("SELECT nextval('authors_id_seq')"), (Rows{{"4"}}));
  EXPECT_EQ(db().query("SELECT bio FROM authors WHERE name = '\\.'"), (Rows{{"\\N"}}));

  // A newer release: the same dump, zstd-compressed, and one more migration. Only that one runs,
  // with unqualified names although pg_dump emptied search_path.
  auto fresh = make_test_database("postgres");
  fs::remove(project().path() / "db/init/init.sql.gz");
  project().write("db/init/init.sql", dump);
  ASSERT_EQ(run_program({"zstd", "-q", "--rm", (project().path() / "db/init/init.sql").string()})
                .exit_code,
            0);
  migration("0003-more.sql",
            "ALTER TABLE authors ADD COLUMN email text;\n"
            "UPDATE authors SET email = lower(replace(name, ' ', '.')) || '@example.org';\n"
            "INSERT INTO books (author_id, title) VALUES (2, 'Later');\n");
  RunResult newer = dbinit_at(fresh->url(), {"up"});
  ASSERT_EQ(newer.exit_code, 0) << newer.err;
  EXPECT_THAT(newer.err, HasSubstr("restored init dump db/init/init.sql.zst"));
  EXPECT_THAT(newer.err, Not(HasSubstr("applied 0001")));
  EXPECT_THAT(newer.err, Not(HasSubstr("applied 0002")));
  EXPECT_THAT(newer.err, HasSubstr("applied 0003-more.sql"));
  EXPECT_EQ(fresh->query("SELECT version, state FROM dbinit_migrations ORDER BY version"),
            (Rows{{"1", "applied"}, {"2", "applied"}, {"3", "applied"}}));
  EXPECT_EQ(fresh->query("SELECT email FROM authors WHERE id = 1"),
            (Rows{{"zoë.o'brien@example.org"}}));
  EXPECT_EQ(fresh->query("SELECT invoice FROM books WHERE title = 'Later'"), (Rows{{"5007"}}));
}

TEST_F(PostgresCliTest, PgDumpWithoutALedgerIsRestoredThenEveryMigrationRuns) {
  auto source = make_test_database("postgres");
  // The up section only: the migration's down section would drop it all again.
  const std::string schema = k_schema_migration;
  source->query(schema.substr(0, schema.find("-- dbinit:down")));
  source->query(k_data_migration);
  RunResult dumped =
      run_program({postgres_client("pg_dump"), "--no-owner", "--dbname=" + source->url()});
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  project().write("db/init/init.sql", dumped.out);
  ASSERT_EQ(run_program({"zstd", "-q", "--rm", (project().path() / "db/init/init.sql").string()})
                .exit_code,
            0);
  migration("0001-email.sql", "ALTER TABLE authors ADD COLUMN email text;\n");
  migration("0002-index.sql", "CREATE INDEX authors_email ON authors (email);\n");
  RunResult result = up_ok();
  EXPECT_THAT(result.err, HasSubstr("restored init dump db/init/init.sql.zst"));
  EXPECT_THAT(result.err, HasSubstr("applied 0001-email.sql"));
  EXPECT_THAT(result.err, HasSubstr("applied 0002-index.sql"));
  EXPECT_EQ(count("authors"), "3");
  EXPECT_EQ(db().query("SELECT title FROM books ORDER BY id"),
            (Rows{{"First; book"}, {"Tab\there"}, {"x"}}));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));

  // A broken dump changes nothing: the restore is part of the run's transaction.
  auto fresh = make_test_database("postgres");
  fs::remove(project().path() / "db/init/init.sql.zst");
  project().write("db/init/init.sql", dumped.out + "\\o /tmp/elsewhere\n");
  RunResult broken = dbinit_at(fresh->url(), {"up"});
  EXPECT_EQ(broken.exit_code, 1) << broken.err;
  EXPECT_THAT(broken.err, HasSubstr("psql meta-command \\o is not supported"));
  EXPECT_THAT(broken.err, HasSubstr("the database was created and is still empty"));
  EXPECT_TRUE(fresh->tables().empty());
}

// --- PgBouncer ---------------------------------------------------------------------------------

TEST_F(PostgresCliTest, TwelveConcurrentStartersThroughPgBouncerInTransactionPooling) {
  // Created directly on the server: PgBouncer needs a moment to see a database created through it.
  db().query("SELECT 1");
  PgBouncer bouncer(db().url(), "transaction");
  const std::string through = bouncer.url_for(db().url());

  migration("0000-counter.sql", "CREATE TABLE applied (version integer NOT NULL);\n");
  for (int i = 1; i <= 20; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%04d-m.sql", i);
    migration(name, "CREATE TABLE t" + std::to_string(i) +
                        " (id integer);\nINSERT INTO applied (version) VALUES (" +
                        std::to_string(i) + ");\nSELECT pg_sleep(0.02);\n");
  }
  RunOptions options;
  options.cwd = project().path();
  options.env["DBINIT_URL"] = through;
  options.env["DBINIT_LOCK_TIMEOUT"] = "120s";
  std::vector<std::unique_ptr<Child>> children;
  for (int i = 0; i < 12; ++i) {
    children.push_back(
        std::make_unique<Child>(std::vector<std::string>{DBINIT_BINARY, "up"}, options));
  }
  int applying = 0;
  for (auto& child : children) {
    RunResult result = child->wait();
    EXPECT_EQ(result.exit_code, 0) << result.err << bouncer.log();
    EXPECT_THAT(result.err, Not(HasSubstr(url().password)));
    if (result.err.find("applied 0001-m.sql") != std::string::npos) ++applying;
  }
  EXPECT_EQ(applying, 1);
  EXPECT_EQ(count("applied"), "20");
  EXPECT_EQ(db().query("SELECT count(DISTINCT version) FROM applied").at(0).at(0), "20");
  EXPECT_EQ(
      db().query("SELECT count(*) FROM dbinit_migrations WHERE state = 'applied'").at(0).at(0),
      "21");

  // Later starts through the pooler find nothing to do.
  RunResult again = dbinit_at(through, {"up"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("up to date"));
  RunResult status = dbinit_at(through, {"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(nlohmann::json::parse(status.out)["applied"], 21);
}

}  // namespace
}  // namespace dbinit::test
