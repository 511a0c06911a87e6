// The MySQL/MariaDB engine end to end, through the built binary: credentials and unreachable
// servers (exit 6, redacted URLs, --wait), sockets and TLS parameters in URL files, migrations
// that fail or are killed half-way (the `failed` row, status, repair), and real mariadb-dump
// output of a dbinit-managed database as a compressed init dump.

#include <gmock/gmock.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "engines/url.h"
#include "integration/cli_fixture.h"
#include "support/tcp_forwarder.h"

namespace dbinit::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

/// `url` with its database replaced by `database` (query parameters kept).
std::string with_database(const std::string& url, const std::string& database) {
  std::size_t start = url.find("//") + 2;
  std::size_t slash = url.find('/', start);
  std::size_t query = url.find('?', start);
  std::string out = url.substr(0, slash) + "/" + database;
  if (query != std::string::npos) out += url.substr(query);
  return out;
}

/// mariadb-dump of `db` with routines and triggers, as people make init dumps, into `file`.
RunResult mariadb_dump(const TestDatabase& db, const fs::path& file) {
  std::vector<std::string> argv = mariadb_client("mariadb-dump", db);
  for (const char* option : {"--routines", "--triggers", "--single-transaction"}) {
    argv.emplace_back(option);
  }
  argv.push_back("--result-file=" + file.string());
  argv.push_back(parse_database_url(db.url()).database);
  return run_program(argv);
}

std::size_t occurrences(const std::string& text, std::string_view part) {
  std::size_t n = 0;
  for (std::size_t at = 0; (at = text.find(part, at)) != std::string::npos; at += part.size()) ++n;
  return n;
}

class MysqlCliTest : public CliTest {
 protected:
  DatabaseUrl url() { return parse_database_url(db().url()); }

  RunResult dbinit_at(const std::string& url, std::vector<std::string> args) {
    return dbinit(std::move(args), {{"DBINIT_URL", url}});
  }

  std::string unreachable_url() {
    return with_authority(db().url(), url().user + ":" + url().password +
                                          "@127.0.0.1:" + std::to_string(unused_port()));
  }

  std::string ledger_error(const std::string& version) {
    return db()
        .query("SELECT error FROM dbinit_migrations WHERE version = '" + version + "'")
        .at(0)
        .at(0);
  }
};

// --- Credentials and unreachable servers ------------------------------------------------------

TEST_F(MysqlCliTest, WrongPasswordExitsSixNamingTheRedactedUrlNeverThePassword) {
  migration("0001-a.sql", "CREATE TABLE a (id INT);\n");
  const std::string secret = "Wrong-Secret-Pw-88";
  const std::string bad = with_authority(db().url(), url().user + ":" + secret + "@" + url().hosts);

  RunResult result = dbinit_at(bad, {"up", "-v"});
  EXPECT_EQ(result.exit_code, 6) << result.err;
  EXPECT_THAT(result.err, HasSubstr("mysql://dbinit:***@" + url().hosts + "/"));
  EXPECT_THAT(result.err, HasSubstr("Access denied for user"));
  EXPECT_THAT(result.err, HasSubstr("MySQL 1045"));
  EXPECT_THAT(result.err, HasSubstr("check the user name and password"));
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

TEST_F(MysqlCliTest, UserWithoutPrivilegesOnAMissingDatabaseIsToldWhatToGrant) {
  // The server answers such a user "access denied" (1044) rather than "unknown database": `up`
  // tries to create the database, and its refusal names the grant that is missing.
  const std::string user = "dbinit_nopriv_" + std::to_string(::getpid());
  const std::string password = "NoPriv-Pa55-x";
  for (const char* host : {"%", "localhost"}) {
    db().query("DROP USER IF EXISTS '" + user + "'@'" + host + "'");
    db().query("CREATE USER '" + user + "'@'" + host + "' IDENTIFIED BY '" + password + "'");
  }
  const std::string database = url().database + "_nopriv";
  const std::string limited = with_database(
      with_authority(db().url(), user + ":" + password + "@" + url().hosts), database);
  migration("0001-a.sql", "CREATE TABLE a (id INT);\n");

  RunResult up = dbinit_at(limited, {"up"});
  EXPECT_EQ(up.exit_code, 6) << up.err;
  EXPECT_THAT(up.err, HasSubstr("cannot create database `" + database + "`"));
  EXPECT_THAT(up.err, HasSubstr("let user '" + user + "' create it (GRANT CREATE ON `" + database));
  EXPECT_THAT(up.err + up.out, Not(HasSubstr(password)));

  // Commands that never create a database say what the server said, and why it may say it.
  RunResult status = dbinit_at(limited, {"status"});
  EXPECT_EQ(status.exit_code, 6) << status.err;
  EXPECT_THAT(status.err, HasSubstr("MySQL 1044"));
  EXPECT_THAT(status.err, HasSubstr("grant user '" + user + "' access to database `" + database +
                                    "` (it may not exist)"));

  // A bad migration file is still the error reported first.
  migration("0002-b.sql", "-- dbinit:typo\nSELECT 1;\n");
  RunResult bad_file = dbinit_at(limited, {"up"});
  EXPECT_EQ(bad_file.exit_code, 2) << bad_file.err;
  EXPECT_THAT(bad_file.err, HasSubstr("unknown directive '-- dbinit:typo'"));

  for (const char* host : {"%", "localhost"}) {
    db().query("DROP USER IF EXISTS '" + user + "'@'" + host + "'");
  }
}

TEST_F(MysqlCliTest, UnreachablePortExitsSixWithAHint) {
  migration("0001-a.sql", "CREATE TABLE a (id INT);\n");
  const std::string target = unreachable_url();
  const std::string port =
      target.substr(target.rfind(':') + 1, target.rfind('/') - target.rfind(':') - 1);
  RunResult result = dbinit_at(target, {"up"});
  EXPECT_EQ(result.exit_code, 6) << result.err;
  EXPECT_THAT(result.err, HasSubstr("cannot connect to the MySQL server"));
  EXPECT_THAT(result.err, HasSubstr("dbinit:***@127.0.0.1:" + port));
  EXPECT_THAT(result.err, HasSubstr("accepts connections on 127.0.0.1:" + port));
  EXPECT_THAT(result.err, HasSubstr("--wait"));
  EXPECT_THAT(result.err, Not(HasSubstr(url().password)));

  RunResult socket = dbinit_at(db().url() + "?socket=/nonexistent/mysqld.sock", {"check"});
  EXPECT_EQ(socket.exit_code, 6) << socket.err;
  EXPECT_THAT(socket.err, HasSubstr("accepts connections on /nonexistent/mysqld.sock"));
}

TEST_F(MysqlCliTest, WaitRetriesAnUnreachableServerWithShortLinesThenExitsSix) {
  migration("0001-a.sql", "CREATE TABLE a (id INT);\n");
  const Clock::time_point start = Clock::now();
  RunResult result = dbinit_at(unreachable_url(), {"up", "--wait", "3s"});
  const double elapsed = seconds_since(start);
  EXPECT_EQ(result.exit_code, 6) << result.err;
  EXPECT_GE(elapsed, 2.5);
  EXPECT_LE(elapsed, 15.0);
  EXPECT_THAT(result.err,
              ::testing::ContainsRegex("dbinit: waiting for mysql://dbinit:\\*\\*\\*@127\\.0\\.0\\."
                                       "1:[0-9]+/[a-z0-9_]+: cannot connect"));
  EXPECT_THAT(result.err, HasSubstr("did not accept connections within"));
  EXPECT_THAT(result.err, Not(HasSubstr(url().password)));
  EXPECT_GE(occurrences(result.err, "waiting for"), 1u);
  EXPECT_LE(occurrences(result.err, "waiting for"), 2u) << result.err;
}

TEST_F(MysqlCliTest, WaitSucceedsWhenTheServerComesUpMeanwhile) {
  migration("0001-a.sql", "CREATE TABLE a (id INT);\n");
  const int port = unused_port();
  const std::size_t colon = url().hosts.rfind(':');
  TcpForwarder forwarder(port, url().hosts.substr(0, colon),
                         std::stoi(url().hosts.substr(colon + 1)));

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
  EXPECT_THAT(result.err, HasSubstr("waiting for mysql://dbinit:***@127.0.0.1:"));
  EXPECT_THAT(result.err, HasSubstr("applied 0001-a.sql"));
  EXPECT_GE(forwarder.connections(), 1);
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
}

TEST_F(MysqlCliTest, RunWithWaitStartsTheCommandWhenTheServerIsThere) {
  migration("0001-a.sql", "CREATE TABLE a (id INT);\n");
  RunResult result = dbinit({"run", "--wait", "5s", "--", "sh", "-c", "echo started"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "started\n");
  EXPECT_THAT(result.err, Not(HasSubstr("waiting for")));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
}

// --- URL forms --------------------------------------------------------------------------------

TEST_F(MysqlCliTest, UrlFileWithASocketOrTlsParametersIsUsedAsItIs) {
  // How the server sees each connection: through the socket (`localhost`) or TCP, with TLS or not.
  const std::string probe =
      "INSERT INTO seen (host, cipher) SELECT (SELECT HOST FROM information_schema.PROCESSLIST "
      "WHERE ID = CONNECTION_ID()), (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
      "WHERE VARIABLE_NAME = 'Ssl_cipher');\n";
  migration("0001-seen.sql",
            "CREATE TABLE seen (step INT AUTO_INCREMENT PRIMARY KEY, host VARCHAR(200), "
            "cipher VARCHAR(200));\n" +
                probe);
  RunOptions options;
  options.cwd = project().path();
  options.env["DATABASE_URL_FILE"] = (project().path() / "secret-url").string();

  const std::string socket_url =
      with_database(test_server_file("mysql", "socket-url"), url().database);
  ASSERT_THAT(socket_url, HasSubstr("?socket="));
  project().write("secret-url", socket_url + "\n");
  RunResult by_socket = run_dbinit({"up"}, options);
  ASSERT_EQ(by_socket.exit_code, 0) << by_socket.err;
  EXPECT_THAT(by_socket.err, Not(HasSubstr(url().password)));

  const std::string ca = db().query("SELECT @@ssl_ca").at(0).at(0);
  ASSERT_FALSE(ca.empty()) << "the test server runs without TLS";
  project().write("secret-url",
                  db().url() + "?ssl-mode=VERIFY_IDENTITY&ssl-ca=" + ca + "&connect-timeout=5\n");
  migration("0002-seen.sql", probe);
  RunResult by_tls = run_dbinit({"up"}, options);
  ASSERT_EQ(by_tls.exit_code, 0) << by_tls.err;

  const Rows seen = db().query("SELECT host, cipher FROM seen ORDER BY step");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0][0], "localhost");
  EXPECT_EQ(seen[0][1], "");
  EXPECT_THAT(seen[1][0], HasSubstr("127.0.0.1"));
  EXPECT_NE(seen[1][1], "");

  // An unknown parameter is a configuration error that names it, not the password.
  project().write("secret-url", db().url() + "?sslmode=REQUIRED&colour=blue\n");
  RunResult bad = run_dbinit({"status"}, options);
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("unknown mysql URL parameter 'colour'"));
  EXPECT_THAT(bad.err, Not(HasSubstr(url().password)));
}

// --- Migrations that stop half-way --------------------------------------------------------------

TEST_F(MysqlCliTest, DdlMigrationFailingHalfWayIsRecordedAsFailedUntilRepaired) {
  migration("0001-a.sql", "CREATE TABLE a (id INT);\n");
  migration("0002-half.sql",
            "CREATE TABLE b (id INT);\n"
            "CREATE TABLE c (id INT);\n"
            "INSERT INTO no_such_table VALUES (1);\n"
            "CREATE TABLE d (id INT);\n");
  RunResult failed = dbinit({"up"});
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  EXPECT_THAT(failed.err, HasSubstr("db/migrations/0002-half.sql line 3"));
  EXPECT_THAT(failed.err, HasSubstr("MySQL 1146, SQLSTATE 42S02"));
  EXPECT_THAT(failed.err, HasSubstr("recorded as failed after 2 of its statements"));
  EXPECT_THAT(failed.err, HasSubstr("repair --forget-failed 2"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "failed"}}));
  // DDL committed as it ran: what came before the failure is there, nothing after it.
  EXPECT_EQ(db().tables(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_THAT(ledger_error("2"), HasSubstr("0002-half.sql line 3"));
  EXPECT_THAT(ledger_error("2"), HasSubstr("no_such_table"));
  EXPECT_THAT(ledger_error("2"), HasSubstr("after 2 completed statements"));

  RunResult status = dbinit({"status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, ::testing::ContainsRegex("2 +failed .*0002-half.sql"));
  EXPECT_THAT(status.out, HasSubstr("error: db/migrations/0002-half.sql line 3"));
  EXPECT_THAT(status.out, HasSubstr("1 applied, 0 baseline, 0 pending, 0 changed, 0 missing, "
                                    "1 failed"));
  RunResult json_status = dbinit({"status", "--json"});
  ASSERT_EQ(json_status.exit_code, 0) << json_status.err;
  const nlohmann::json doc = nlohmann::json::parse(json_status.out);
  EXPECT_EQ(doc["failed"], 1);
  EXPECT_EQ(doc["version"], "1");
  EXPECT_EQ(doc["migrations"][1]["state"], "failed");
  EXPECT_THAT(doc["migrations"][1]["error"].get<std::string>(),
              HasSubstr("after 2 completed statements"));
  EXPECT_EQ(doc["migrations"][0].count("error"), 0u);

  RunResult check = dbinit({"check"});
  EXPECT_EQ(check.exit_code, 7) << check.err;
  EXPECT_THAT(check.err, HasSubstr("failed"));
  RunResult blocked = dbinit({"up"});
  EXPECT_EQ(blocked.exit_code, 4) << blocked.err;
  EXPECT_THAT(blocked.err, HasSubstr("0002-half.sql did not finish"));
  EXPECT_THAT(blocked.err, HasSubstr("--mark-applied 2"));

  // --mark-applied: the human completes the migration by hand and fixes the file to say what
  // was done; the ledger takes the fixed file's checksum.
  db().query("CREATE TABLE d (id INT)");
  migration("0002-half.sql",
            "CREATE TABLE b (id INT);\nCREATE TABLE c (id INT);\nCREATE TABLE d (id INT);\n");
  RunResult mark = dbinit({"repair", "--mark-applied", "2"});
  ASSERT_EQ(mark.exit_code, 0) << mark.err;
  EXPECT_THAT(mark.err, HasSubstr("recorded 0002-half.sql as applied"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));
  EXPECT_EQ(ledger_error("2"), "<null>");
  EXPECT_EQ(dbinit({"check"}).exit_code, 0);

  // --forget-failed: the human undoes what ran and fixes the file; `up` runs it again.
  migration("0003-again.sql",
            "CREATE TABLE e (id INT);\nALTER TABLE e ADD COLUMN oops no_such_type;\n");
  ASSERT_EQ(dbinit({"up"}).exit_code, 1);
  EXPECT_EQ(ledger().back(), (std::pair<std::string, std::string>{"3", "failed"}));
  db().query("DROP TABLE e");
  migration("0003-again.sql", "CREATE TABLE e (id INT);\nALTER TABLE e ADD COLUMN ok INT;\n");
  RunResult forget = dbinit({"repair", "--forget-failed", "3"});
  ASSERT_EQ(forget.exit_code, 0) << forget.err;
  EXPECT_THAT(forget.err, HasSubstr("forgot the failed run of 0003-again.sql"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));
  RunResult rerun = up_ok();
  EXPECT_THAT(rerun.err, HasSubstr("applied 0003-again.sql"));
  EXPECT_EQ(db().query("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                       "DATABASE() AND TABLE_NAME = 'e'"),
            (Rows{{"2"}}));
  EXPECT_EQ(dbinit({"check"}).exit_code, 0);
}

TEST_F(MysqlCliTest, DmlOnlyMigrationFailingHalfWayIsRolledBackCompletely) {
  migration("0001-t.sql", "CREATE TABLE t (n INT) ENGINE=InnoDB;\nINSERT INTO t VALUES (1);\n");
  up_ok();
  migration("0002-rows.sql",
            "INSERT INTO t VALUES (2);\nUPDATE t SET n = n * 10;\n" + failing_statement() + "\n");
  RunResult failed = dbinit({"up"});
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  EXPECT_THAT(failed.err, HasSubstr("0002-rows.sql line 3"));
  EXPECT_THAT(failed.err, HasSubstr("rolled back"));
  EXPECT_THAT(failed.err, Not(HasSubstr("recorded as failed")));
  // No `failed` row: nothing of it remains, so the next start simply tries again.
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}}));
  EXPECT_EQ(db().query("SELECT n FROM t ORDER BY n"), (Rows{{"1"}}));
  migration("0002-rows.sql", "INSERT INTO t VALUES (2);\nUPDATE t SET n = n * 10;\n");
  up_ok();
  EXPECT_EQ(db().query("SELECT n FROM t ORDER BY n"), (Rows{{"10"}, {"20"}}));
}

TEST_F(MysqlCliTest, KilledMigrationStaysInProgressUntilRepaired) {
  migration("0001-a.sql", "CREATE TABLE a (id INT);\n");
  up_ok();
  migration("0002-slow.sql",
            "CREATE TABLE b (id INT);\nSELECT SLEEP(4);\nCREATE TABLE c (id INT);\n");
  RunOptions options;
  options.cwd = project().path();
  options.env["DBINIT_URL"] = db().url();
  Child child({DBINIT_BINARY, "up"}, options);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  child.kill(SIGKILL);
  ASSERT_EQ(child.wait().exit_code, 128 + SIGKILL);

  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "failed"}}));
  EXPECT_THAT(ledger_error("2"), HasSubstr("in progress since"));
  RunResult status = dbinit({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(nlohmann::json::parse(status.out)["migrations"][1]["error"].get<std::string>(),
              HasSubstr("if no dbinit is running, it was interrupted"));
  // The killed session's lock ends with its connection; the next start waits for it, then
  // refuses because of the row.
  RunResult blocked = dbinit({"up"});
  EXPECT_EQ(blocked.exit_code, 4) << blocked.err;
  EXPECT_THAT(blocked.err, HasSubstr("0002-slow.sql did not finish: in progress since"));

  db().query("DROP TABLE b");
  ASSERT_EQ(dbinit({"repair", "--forget-failed", "2"}).exit_code, 0);
  up_ok();
  EXPECT_EQ(ledger(), (Ledger{{"1", "applied"}, {"2", "applied"}}));
  EXPECT_EQ(db().tables(), (std::vector<std::string>{"a", "b", "c"}));
}

// --- Init dumps from mariadb-dump --------------------------------------------------------------

constexpr const char* k_schema_migration = R"sql(CREATE TABLE people (
  id INT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(200) NOT NULL UNIQUE,
  note TEXT,
  photo BLOB,
  score DECIMAL(10, 3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(300)) ENGINE=InnoDB;
CREATE TABLE `odd ``name`` table` (`semi;colon` VARCHAR(50), `# hash` INT);
CREATE VIEW people_view AS SELECT id, name FROM people WHERE note IS NOT NULL;
DELIMITER //
CREATE FUNCTION shout(s VARCHAR(200)) RETURNS VARCHAR(210) DETERMINISTIC
BEGIN
  RETURN CONCAT(UPPER(s), '!;');
END//
CREATE PROCEDURE add_person(IN who VARCHAR(200))
BEGIN
  INSERT INTO people (name) VALUES (who);
END//
CREATE TRIGGER people_ai AFTER INSERT ON people FOR EACH ROW
BEGIN
  INSERT INTO audit (what) VALUES (CONCAT('added ''', NEW.name, ''';'));
END//
DELIMITER ;
)sql";

constexpr const char* k_data_migration = R"sql(INSERT INTO people (name, note, photo, score) VALUES
  ('O''Brien', 'quote '' double " backslash \\ end', X'00FF0A0D275C22', 12.5),
  ('emoji 😀 ñ é 中文', 'line one\nline two\r\ntab\there', NULL, NULL),
  ('nul', CONCAT('before', CHAR(0), 'after'), X'', -0.001),
  ('comments', '-- not a comment; /* nor this */ # nor this', X'2F2A212A2F', 0),
  ('delimiter', 'DELIMITER ;;\nEND;;\n$$ ;', NULL, NULL);
INSERT INTO `odd ``name`` table` VALUES ('a;b', 1), (NULL, NULL);
CALL add_person('via procedure');
)sql";

TEST_F(MysqlCliTest, MariadbDumpOfAManagedDatabaseIsAnInitDumpThatBringsItsLedger) {
  TempDir source_project;
  source_project.write("db/migrations/0001-schema.sql", k_schema_migration);
  source_project.write("db/migrations/0002-data.sql", k_data_migration);
  auto source = make_test_database("mysql");
  RunOptions options;
  options.cwd = source_project.path();
  options.env["DBINIT_URL"] = source->url();
  options.env["DBINIT_ENV"] = "staging";
  RunResult built = run_dbinit({"up"}, options);
  ASSERT_EQ(built.exit_code, 0) << built.err;
  ASSERT_EQ(source->query("SELECT COUNT(*) FROM audit"), (Rows{{"6"}}));

  const fs::path dump_file = project().path() / "db/init/init.sql";
  fs::create_directories(dump_file.parent_path());
  RunResult dumped = mariadb_dump(*source, dump_file);
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  const std::string dump = read_file(dump_file);
  ASSERT_THAT(dump, HasSubstr("DELIMITER ;;"));
  ASSERT_THAT(dump, HasSubstr("/*!40101 SET"));
  ASSERT_THAT(dump, HasSubstr("INSERT INTO `dbinit_migrations`"));

  // The same migrations and the dump, gzip-compressed: restored, nothing applied.
  migration("0001-schema.sql", k_schema_migration);
  migration("0002-data.sql", k_data_migration);
  ASSERT_EQ(run_program({"gzip", dump_file.string()}).exit_code, 0);
  RunResult restored = up_ok();
  EXPECT_THAT(restored.err, HasSubstr("restored init dump db/init/init.sql.gz"));
  EXPECT_THAT(restored.err, Not(HasSubstr("applied 0001")));
  EXPECT_THAT(restored.err, Not(HasSubstr("applied 0002")));
  EXPECT_EQ(db().fingerprint(), source->fingerprint());
  EXPECT_EQ(dbinit({"check"}).exit_code, 0);
  RunResult status = dbinit({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(nlohmann::json::parse(status.out)["environment"], "staging");
  EXPECT_EQ(db().query("SELECT shout('a')"), (Rows{{"A!;"}}));
  EXPECT_EQ(db().query("SELECT note FROM people WHERE name = 'delimiter'"),
            (Rows{{"DELIMITER ;;\nEND;;\n$$ ;"}}));

  // A newer release: the same dump, zstd-compressed, and one more migration. Only that runs.
  auto fresh = make_test_database("mysql");
  fs::remove(project().path() / "db/init/init.sql.gz");
  project().write("db/init/init.sql", dump);
  ASSERT_EQ(run_program({"zstd", "-q", "--rm", dump_file.string()}).exit_code, 0);
  migration("0003-more.sql",
            "ALTER TABLE people ADD COLUMN email VARCHAR(200);\n"
            "CALL add_person('after restore');\n");
  RunResult newer = dbinit_at(fresh->url(), {"up"});
  ASSERT_EQ(newer.exit_code, 0) << newer.err;
  EXPECT_THAT(newer.err, HasSubstr("restored init dump db/init/init.sql.zst"));
  EXPECT_THAT(newer.err, Not(HasSubstr("applied 0001")));
  EXPECT_THAT(newer.err, Not(HasSubstr("applied 0002")));
  EXPECT_THAT(newer.err, HasSubstr("applied 0003-more.sql"));
  EXPECT_EQ(fresh->query("SELECT version, state FROM dbinit_migrations ORDER BY version"),
            (Rows{{"1", "applied"}, {"2", "applied"}, {"3", "applied"}}));
  EXPECT_EQ(fresh->query("SELECT what FROM audit ORDER BY id DESC LIMIT 1"),
            (Rows{{"added 'after restore';"}}));
  EXPECT_EQ(fresh->query("SELECT COUNT(*) FROM people_view"), (Rows{{"5"}}));
}

}  // namespace
}  // namespace dbinit::test
