// What only the MySQL/MariaDB engine does, against the real test server: connection errors, TLS,
// statement errors with file lines, DELIMITER scripts, which scripts roll back, and the restore of
// a real mariadb-dump. The contract every engine keeps (ledger, lock, errors, restore, drop,
// schema) is tested once in integration/engine_conformance_test.cpp.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
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

std::unique_ptr<Engine> engine_for(const std::string& url) {
  return make_engine(parse_database_url(url));
}

// A database on the test server and an engine opened on it (created by the engine).
struct Opened {
  std::unique_ptr<TestDatabase> db = make_test_database("mysql");
  std::unique_ptr<Engine> engine = engine_for(db->url());
  Opened() { engine->open(true); }
};

// The URL of `db` with its host part replaced.
std::string with_authority(const std::string& url, const std::string& authority) {
  std::size_t start = url.find("//") + 2;
  std::size_t end = url.find_first_of("/?", start);
  return url.substr(0, start) + authority + url.substr(end);
}

// A loopback port nothing listens on: bound once by the kernel's choice, then released.
int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  int port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

template <typename F>
Error expect_error(F&& f) {
  try {
    f();
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "expected a dbinit::Error";
  return Error(ErrorKind::failure, "<no error thrown>");
}

// --- Connection -------------------------------------------------------------------------------

TEST(MysqlEngine, OpenReportsMissingThenCreates) {
  auto db = make_test_database("mysql");
  auto engine = engine_for(db->url());
  EXPECT_EQ(engine->name(), "mysql");
  EXPECT_FALSE(engine->transactional_ddl());
  EXPECT_EQ(engine->open(false), OpenResult::missing);
  EXPECT_FALSE(db->exists());
  EXPECT_EQ(engine->open(true), OpenResult::created);
  EXPECT_TRUE(db->exists());
  EXPECT_EQ(db->query("SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA "
                      "WHERE SCHEMA_NAME = DATABASE()"),
            (Rows{{"utf8mb4"}}));
  EXPECT_TRUE(engine->server_version().starts_with("MariaDB ") ||
              engine->server_version().starts_with("MySQL "))
      << engine->server_version();

  auto second = engine_for(db->url());
  EXPECT_EQ(second->open(false), OpenResult::opened);
  auto third = engine_for(db->url());
  EXPECT_EQ(third->open(true), OpenResult::opened);
}

TEST(MysqlEngine, ConcurrentCreatorsCreateOnce) {
  auto db = make_test_database("mysql");
  constexpr int k_starters = 12;
  std::vector<std::unique_ptr<Engine>> engines;
  for (int i = 0; i < k_starters; ++i) engines.push_back(engine_for(db->url()));
  std::atomic<int> created{0};
  std::atomic<int> opened{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (auto& engine : engines) {
    threads.emplace_back([&, e = engine.get()] {
      try {
        OpenResult result = e->open(true);
        (result == OpenResult::created ? created : opened)++;
      } catch (const Error&) {
        failed++;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(opened.load(), k_starters - 1);
}

TEST(MysqlEngine, WrongPasswordIsAnAuthErrorThatHidesThePassword) {
  auto db = make_test_database("mysql");
  DatabaseUrl url = parse_database_url(db->url());
  const std::string wrong = "Wr0ngPa55word";
  std::string bad_url = with_authority(db->url(), url.user + ":" + wrong + "@" + url.hosts);
  auto engine = engine_for(bad_url);
  Error error = expect_error([&] { engine->open(true); });
  EXPECT_EQ(error.kind(), ErrorKind::auth) << error.full_message();
  EXPECT_EQ(exit_code(error.kind()), 6);
  EXPECT_NE(error.code.find("1045"), std::string::npos) << error.code;
  std::string text = error.full_message() + error.detail + error.statement;
  EXPECT_EQ(text.find(wrong), std::string::npos) << text;
  EXPECT_EQ(text.find(url.password), std::string::npos) << text;
  EXPECT_NE(text.find(":***@"), std::string::npos) << text;
}

TEST(MysqlEngine, ClosedPortIsUnreachable) {
  auto db = make_test_database("mysql");
  DatabaseUrl url = parse_database_url(db->url());
  std::string bad_url = with_authority(
      db->url(), url.user + ":" + url.password + "@127.0.0.1:" + std::to_string(unused_port()));
  auto engine = engine_for(bad_url + "?connect-timeout=3");
  Error error = expect_error([&] { engine->open(true); });
  EXPECT_EQ(error.kind(), ErrorKind::unreachable) << error.full_message();
  EXPECT_EQ(exit_code(error.kind()), 6);
  EXPECT_EQ(error.full_message().find(url.password), std::string::npos) << error.full_message();

  auto by_socket = engine_for(db->url() + "?socket=/nonexistent/dbinit-test.sock");
  Error socket_error = expect_error([&] { by_socket->open(true); });
  EXPECT_EQ(socket_error.kind(), ErrorKind::unreachable) << socket_error.full_message();
}

TEST(MysqlEngine, ConnectsThroughTheUnixSocket) {
  auto db = make_test_database("mysql");
  Rows socket = db->query("SELECT @@socket");
  ASSERT_EQ(socket.size(), 1u);
  auto engine = engine_for(db->url() + "?socket=" + socket[0][0]);
  EXPECT_EQ(engine->open(false), OpenResult::opened);  // query() created the database
  engine->execute({"CREATE TABLE t (a INT)", "socket.sql", 1});
  EXPECT_EQ(db->tables(), (std::vector<std::string>{"t"}));
}

TEST(MysqlEngine, UserWithoutPrivilegesGetsAnAuthErrorNamingTheUser) {
  auto db = make_test_database("mysql");
  const std::string user = "dbinit_limited_" + std::to_string(::getpid());
  const std::string password = "limited-Pa55";
  for (const char* host : {"%", "localhost"}) {
    db->query("DROP USER IF EXISTS '" + user + "'@'" + host + "'");
    db->query("CREATE USER '" + user + "'@'" + host + "' IDENTIFIED BY '" + password + "'");
  }
  DatabaseUrl url = parse_database_url(db->url());
  const std::string limited = with_authority(db->url(), user + ":" + password + "@" + url.hosts);

  // The database exists (query() created it) but the user may not use it.
  Error existing = expect_error([&] { engine_for(limited)->open(false); });
  EXPECT_EQ(existing.kind(), ErrorKind::auth) << existing.full_message();
  EXPECT_NE(existing.code.find("1044"), std::string::npos) << existing.code;

  // Creating a database needs a privilege the user lacks: the error says whom to grant what.
  const std::string missing = with_authority(db->url(), user + ":" + password + "@" + url.hosts);
  auto engine = engine_for(missing.substr(0, missing.rfind('/')) + "/" + url.database + "_nope");
  Error create = expect_error([&] { engine->open(true); });
  EXPECT_EQ(create.kind(), ErrorKind::auth) << create.full_message();
  EXPECT_NE(create.full_message().find(user), std::string::npos) << create.full_message();
  EXPECT_EQ(create.full_message().find(password), std::string::npos) << create.full_message();

  for (const char* host : {"%", "localhost"}) {
    db->query("DROP USER IF EXISTS '" + user + "'@'" + host + "'");
  }
}

// The session's TLS cipher as the server sees it ("" for plain text), read through `engine`.
std::string session_cipher(Engine& engine, TestDatabase& db) {
  engine.execute(
      {"DROP TABLE IF EXISTS tls_probe;\n"
       "CREATE TABLE tls_probe AS SELECT VARIABLE_VALUE AS v FROM "
       "information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher';",
       "probe.sql", 1});
  return db.query("SELECT v FROM tls_probe").at(0).at(0);
}

TEST(MysqlEngine, TlsModes) {
  auto db = make_test_database("mysql");
  Rows ssl = db->query("SELECT @@have_ssl, @@ssl_ca");
  ASSERT_EQ(ssl.at(0).at(0), "YES")
      << "the test server runs without TLS (testserver-mysql needs the openssl command)";
  const std::string ca = ssl.at(0).at(1);
  const std::string url = db->url();

  auto plain = engine_for(url + "?ssl-mode=DISABLED");
  plain->open(true);
  EXPECT_EQ(session_cipher(*plain, *db), "");

  auto required = engine_for(url + "?ssl-mode=REQUIRED");
  required->open(true);
  EXPECT_NE(session_cipher(*required, *db), "");

  // The harness's certificate names 127.0.0.1 and localhost, signed by its own CA.
  auto verified = engine_for(url + "?ssl-mode=VERIFY_IDENTITY&ssl-ca=" + ca);
  verified->open(true);
  EXPECT_NE(session_cipher(*verified, *db), "");

  // The system's CAs did not sign the test server's certificate.
  auto wrong_ca = engine_for(url + "?sslmode=VERIFY_CA&sslca=/etc/ssl/certs/ca-certificates.crt");
  Error error = expect_error([&] { wrong_ca->open(true); });
  EXPECT_EQ(error.kind(), ErrorKind::failure) << error.full_message();
  EXPECT_NE(error.code.find("2026"), std::string::npos) << error.full_message();
  EXPECT_NE(error.hint.find("ssl"), std::string::npos) << error.full_message();
}

TEST(MysqlEngine, UnknownParametersAreConfigErrors) {
  auto db = make_test_database("mysql");
  Error error = expect_error([&] { engine_for(db->url() + "?sslmode=REQUIRED&colour=blue"); });
  EXPECT_EQ(error.kind(), ErrorKind::config);
  EXPECT_NE(error.message().find("colour"), std::string::npos) << error.full_message();

  Error mode = expect_error([&] { engine_for(db->url() + "?ssl-mode=sometimes"); });
  EXPECT_EQ(mode.kind(), ErrorKind::config);

  // Known TLS parameters are accepted; DISABLED connects in plain text.
  auto plain = engine_for(db->url() + "?ssl-mode=DISABLED&connect_timeout=5");
  EXPECT_EQ(plain->open(true), OpenResult::created);
}

// --- Ledger -----------------------------------------------------------------------------------

// --- Execution --------------------------------------------------------------------------------

TEST(MysqlEngine, FailingStatementNamesFileLineErrnoAndSqlstate) {
  Opened o;
  const std::string sql =
      "-- Ünïcödé: naïve café ✓ 😀\n"                           // 1
      "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT);\n"  // 2
      "\n"                                                     // 3
      "INSERT INTO notes VALUES (1, 'héllo; wörld 😀\n"         // 4
      "second line');\n"                                       // 5
      "/* a comment; with a delimiter */\n"                    // 6
      "INSERT INTO missing_table VALUES (1);\n"                // 7
      "INSERT INTO notes VALUES (2, 'never');\n";              // 8
  Error error = expect_error([&] {
    o.engine->execute({sql, "db/migrations/0003-add-notes.sql", 1});
  });
  EXPECT_EQ(error.kind(), ErrorKind::failure);
  EXPECT_EQ(error.where, "db/migrations/0003-add-notes.sql line 7");
  EXPECT_EQ(error.code, "MySQL 1146, SQLSTATE 42S02");
  EXPECT_EQ(error.statements_done, 2);
  EXPECT_EQ(error.statement, "INSERT INTO missing_table VALUES (1)");
  EXPECT_NE(error.message().find("missing_table"), std::string::npos) << error.message();
  // The first two statements ran (DDL commits implicitly on MySQL), the fourth did not.
  EXPECT_EQ(o.db->query("SELECT id, body FROM notes"),
            (Rows{{"1", "héllo; wörld 😀\nsecond line"}}));

  // A script that starts on a later line of its file (after a `-- dbinit:up` marker).
  Error later = expect_error([&] {
    o.engine->execute({"SELECT 1;\nSELECT * FROM nowhere;", "0004-x.sql", 10});
  });
  EXPECT_EQ(later.where, "0004-x.sql line 11");
  EXPECT_EQ(later.statements_done, 1);
}

TEST(MysqlEngine, SyntaxErrorReportsTheServerMessage) {
  Opened o;
  Error error = expect_error([&] { o.engine->execute({"SELEC 1;", "x.sql", 1}); });
  EXPECT_EQ(error.where, "x.sql line 1");
  EXPECT_EQ(error.code, "MySQL 1064, SQLSTATE 42000");
  EXPECT_EQ(error.statements_done, 0);

  Error delimiter = expect_error([&] {
    o.engine->execute({"SELECT 1;\nDELIMITER\n", "y.sql", 1});
  });
  EXPECT_EQ(delimiter.where, "y.sql line 2");
}

TEST(MysqlEngine, DelimiterBlocksForProceduresAndTriggers) {
  Opened o;
  const std::string sql =
      "CREATE TABLE counters (name VARCHAR(20) PRIMARY KEY, n INT NOT NULL);\n"
      "CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(100));\n"
      "DELIMITER $$\n"
      "CREATE PROCEDURE bump(IN which VARCHAR(20))\n"
      "BEGIN\n"
      "  INSERT INTO counters VALUES (which, 1) ON DUPLICATE KEY UPDATE n = n + 1;\n"
      "  SELECT n FROM counters WHERE name = which;\n"
      "END$$\n"
      "CREATE TRIGGER counters_ai AFTER INSERT ON counters FOR EACH ROW\n"
      "BEGIN\n"
      "  INSERT INTO audit (what) VALUES (CONCAT('new;', NEW.name));\n"
      "END$$\n"
      "DELIMITER ;\n"
      "CALL bump('a');\n"
      "CALL bump('a');\n"
      "CALL bump('b');\n";
  o.engine->execute({sql, "0001-procs.sql", 1});
  EXPECT_EQ(o.db->query("SELECT name, n FROM counters ORDER BY name"),
            (Rows{{"a", "2"}, {"b", "1"}}));
  EXPECT_EQ(o.db->query("SELECT what FROM audit ORDER BY id"), (Rows{{"new;a"}, {"new;b"}}));

  // An error raised inside a procedure is reported at the CALL's line.
  Error error = expect_error([&] {
    o.engine->execute(
        {"DELIMITER ;;\nCREATE PROCEDURE boom() BEGIN SELECT 1; SIGNAL SQLSTATE "
         "'45000' SET MESSAGE_TEXT = 'kaboom'; END;;\nDELIMITER ;\n\nCALL boom();",
         "0002-boom.sql", 1});
  });
  EXPECT_EQ(error.where, "0002-boom.sql line 5");
  EXPECT_EQ(error.code, "MySQL 1644, SQLSTATE 45000");
  EXPECT_NE(error.message().find("kaboom"), std::string::npos);
  EXPECT_EQ(error.statements_done, 1);

  std::string schema = schema_text(*o.engine);
  EXPECT_NE(schema.find("CREATE PROCEDURE `bump`"), std::string::npos) << schema;
  EXPECT_NE(schema.find("CREATE TRIGGER"), std::string::npos) << schema;
  EXPECT_EQ(schema.find("DEFINER="), std::string::npos) << schema;
  EXPECT_EQ(schema.find("AUTO_INCREMENT="), std::string::npos) << schema;
}

TEST(MysqlEngine, ScriptUseDoesNotMoveTheLedger) {
  Opened o;
  auto other = make_test_database("mysql");
  other->query("SELECT 1");  // creates it
  DatabaseUrl other_url = parse_database_url(other->url());
  o.engine->execute(
      {"USE `" + other_url.database + "`;\nCREATE TABLE elsewhere (a INT);", "0001-use.sql", 1});
  o.engine->ensure_ledger();
  EXPECT_EQ(other->tables(), (std::vector<std::string>{"elsewhere"}));
  EXPECT_EQ(o.db->query("SELECT COUNT(*) FROM dbinit_migrations"), (Rows{{"0"}}));
}

TEST(MysqlEngine, RollsBackOnlyPureDml) {
  Opened o;
  auto rolls_back = [&](std::string_view sql) { return o.engine->rolls_back({sql, "x.sql", 1}); };
  EXPECT_TRUE(rolls_back(""));
  EXPECT_TRUE(rolls_back("-- only a comment\n"));
  EXPECT_TRUE(
      rolls_back("INSERT INTO t VALUES (1);\nUPDATE t SET a = 2;\nDELETE FROM t;\n"
                 "REPLACE INTO t VALUES (3); SELECT * FROM t; SET @x = 1;\n"
                 "WITH c AS (SELECT 1) SELECT * FROM c; SET NAMES utf8mb4"));
  EXPECT_TRUE(
      rolls_back("/*!40101 SET @saved = @@character_set_client */;\n"
                 "insert into t values ('CREATE TABLE x (a int)');"));
  EXPECT_FALSE(rolls_back("INSERT INTO t VALUES (1);\nCREATE TABLE u (a INT);"));
  EXPECT_FALSE(rolls_back("ALTER TABLE t ADD COLUMN b INT"));
  EXPECT_FALSE(
      rolls_back("/*!50003 CREATE*/ /*!50003 TRIGGER x BEFORE INSERT ON t FOR EACH ROW "
                 "SET NEW.a = 1 */"));
  EXPECT_FALSE(rolls_back("TRUNCATE TABLE t"));
  EXPECT_FALSE(rolls_back("CALL p()"));
  EXPECT_FALSE(rolls_back("LOCK TABLES t WRITE; INSERT INTO t VALUES (1); UNLOCK TABLES;"));
  EXPECT_FALSE(rolls_back("START TRANSACTION; INSERT INTO t VALUES (1); COMMIT;"));
  EXPECT_FALSE(rolls_back("SET autocommit = 1"));
  EXPECT_FALSE(rolls_back("SET GLOBAL max_connections = 10"));
  EXPECT_FALSE(rolls_back("SET @@global.max_connections = 10"));
  EXPECT_FALSE(rolls_back("SET PASSWORD = PASSWORD('x')"));
  EXPECT_FALSE(rolls_back("RENAME TABLE a TO b"));
  EXPECT_FALSE(rolls_back("SELECT 1;\nDELIMITER\n"));
}

TEST(MysqlEngine, DmlInATransactionRollsBackCompletely) {
  Opened o;
  o.engine->execute({"CREATE TABLE t (a INT PRIMARY KEY) ENGINE=InnoDB;", "0001.sql", 1});
  o.db->query("INSERT INTO t VALUES (1)");
  const std::string dml =
      "INSERT INTO t VALUES (2);\nUPDATE t SET a = a + 10;\nINSERT INTO t VALUES (11);";
  ASSERT_TRUE(o.engine->rolls_back({dml, "0002.sql", 1}));
  std::string before = o.db->fingerprint();
  o.engine->begin();
  Error error = expect_error([&] { o.engine->execute({dml, "0002.sql", 1}); });
  o.engine->rollback();
  EXPECT_EQ(error.where, "0002.sql line 3");
  EXPECT_EQ(error.code, "MySQL 1062, SQLSTATE 23000");
  EXPECT_EQ(error.statements_done, 2);
  EXPECT_EQ(o.db->fingerprint(), before);

  o.engine->begin();
  o.engine->execute({"INSERT INTO t VALUES (5);", "0003.sql", 1});
  o.engine->commit();
  EXPECT_EQ(o.db->query("SELECT a FROM t ORDER BY a"), (Rows{{"1"}, {"5"}}));
}

// --- Schema -----------------------------------------------------------------------------------

TEST(MysqlEngine, SchemaIsStableAndLoadable) {
  Opened o;
  o.engine->ensure_ledger();
  EXPECT_FALSE(o.engine->has_user_tables());
  o.engine->set_foreign_keys(false);  // b_child refers to a table created later
  o.engine->execute(
      {"CREATE TABLE b_child (id INT AUTO_INCREMENT PRIMARY KEY, parent INT,\n"
       "  FOREIGN KEY (parent) REFERENCES a_parent (id));\n",
       "0001.sql", 1});
  EXPECT_TRUE(o.engine->has_user_tables());
  o.engine->set_foreign_keys(true);
  o.engine->execute(
      {"CREATE TABLE a_parent (id INT PRIMARY KEY);\n"
       "CREATE VIEW z_first AS SELECT id FROM a_parent;\n"
       "CREATE VIEW a_second AS SELECT id FROM z_first;\n"
       "INSERT INTO a_parent VALUES (1), (2);\n"
       "INSERT INTO b_child (parent) VALUES (1), (2);\n",
       "0002.sql", 1});
  std::string schema = schema_text(*o.engine);
  EXPECT_EQ(schema.find("dbinit_"), std::string::npos) << schema;
  EXPECT_EQ(schema.find("AUTO_INCREMENT="), std::string::npos) << schema;
  EXPECT_LT(schema.find("CREATE TABLE `a_parent`"), schema.find("CREATE TABLE `b_child`"));
  EXPECT_LT(schema.find("VIEW `z_first`"), schema.find("VIEW `a_second`")) << schema;
  EXPECT_EQ(schema_text(*o.engine), schema);

  // The schema text loads into an empty database and describes it again identically.
  Opened copy;
  copy.engine->restore({schema, "schema.sql", 1});
  EXPECT_EQ(schema_text(*copy.engine), schema);

  o.engine->set_foreign_keys(false);
  o.engine->execute({"INSERT INTO b_child (parent) VALUES (99);", "x.sql", 1});
  o.engine->set_foreign_keys(true);
  o.engine->check_foreign_keys();  // documented no-op
  Error error = expect_error([&] {
    o.engine->execute({"INSERT INTO b_child (parent) VALUES (98);", "y.sql", 1});
  });
  EXPECT_EQ(error.code, "MySQL 1452, SQLSTATE 23000");
}

// --- Restore ----------------------------------------------------------------------------------

// Makes the server accept the > 16 MB statements of the dump test, for servers other than the
// harness's (which starts with max_allowed_packet=64M). New sessions see the new value.
void ensure_packet_size(TestDatabase& db, long long bytes) {
  long long current = std::stoll(db.query("SELECT @@global.max_allowed_packet").at(0).at(0));
  if (current < bytes) db.query("SET GLOBAL max_allowed_packet = " + std::to_string(bytes));
}

std::vector<std::string> dump_command(const TestDatabase& db, const std::string& file) {
  DatabaseUrl url = parse_database_url(db.url());
  std::vector<std::string> argv = {"mariadb-dump", "--no-defaults", "--user=" + url.user,
                                   "--password=" + url.password};
  std::string host = url.hosts;
  std::size_t colon = host.rfind(':');
  if (!url.param("socket").empty()) {
    argv.push_back("--socket=" + url.param("socket"));
  } else {
    argv.push_back("--host=" + host.substr(0, colon));
    if (colon != std::string::npos) argv.push_back("--port=" + host.substr(colon + 1));
    argv.push_back("--protocol=TCP");
  }
  for (const char* option : {"--routines", "--triggers", "--events", "--single-transaction",
                             "--max-allowed-packet=512M"}) {
    argv.emplace_back(option);
  }
  argv.push_back("--result-file=" + file);
  argv.push_back(url.database);
  return argv;
}

TEST(MysqlEngine, RestoresARealMariadbDumpExactly) {
  Opened original;
  ensure_packet_size(*original.db, 64LL * 1024 * 1024);
  // Tables with tricky text, binary data, a view, a procedure, a function and a trigger.
  original.engine->execute({R"sql(
CREATE TABLE people (
  id INT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  note TEXT,
  photo BLOB,
  born DATE,
  score DECIMAL(10, 3),
  UNIQUE KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE `odd ``name`` table` (`semi;colon` VARCHAR(50), `# hash` INT);
CREATE TABLE big (id INT PRIMARY KEY, payload LONGTEXT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(200));
INSERT INTO people (name, note, photo, born, score) VALUES
  ('O''Brien', 'quote '' double " backslash \\ end', X'00FF0A0D275C22', '1970-01-01', 12.5),
  ('emoji 😀 ñ é ü 中文', 'line one\nline two\r\ntab\there', NULL, NULL, NULL),
  ('nul', CONCAT('before', CHAR(0), 'after'), X'', '2024-02-29', -0.001),
  ('comments', '-- not a comment; /* nor this */ # nor this', X'2F2A212A2F', NULL, 0),
  ('delimiter', 'DELIMITER ;;\nEND;;\n$$ ;', NULL, NULL, NULL);
INSERT INTO `odd ``name`` table` VALUES ('a;b', 1), (NULL, NULL);
CREATE VIEW people_view AS SELECT id, name FROM people WHERE note IS NOT NULL;
DELIMITER //
CREATE FUNCTION shout(s VARCHAR(200)) RETURNS VARCHAR(210) DETERMINISTIC
BEGIN
  RETURN CONCAT(UPPER(s), '!;');
END//
CREATE PROCEDURE add_person(IN who VARCHAR(200))
BEGIN
  INSERT INTO people (name) VALUES (who);
  SELECT shout(who);
END//
CREATE TRIGGER people_ai AFTER INSERT ON people FOR EACH ROW
BEGIN
  INSERT INTO audit (what) VALUES (CONCAT('added ''', NEW.name, ''';'));
END//
DELIMITER ;
CALL add_person('via procedure');
)sql",
                            "setup.sql", 1});
  // One row of 17 MB: mariadb-dump writes it as one INSERT, larger than MariaDB's default
  // max_allowed_packet of 16 MB.
  original.db->query(
      "INSERT INTO big VALUES (1, REPEAT(CONCAT('x\\'y\\\\z \"q\" 😀', CHAR(0), '\\n;'), "
      "17 * 1024 * 1024 / 16)), (2, 'small')");
  ASSERT_GT(
      std::stoll(original.db->query("SELECT LENGTH(payload) FROM big WHERE id = 1").at(0).at(0)),
      16LL * 1024 * 1024);

  TempDir dir;
  const std::string file = (dir.path() / "dump.sql").string();
  RunResult dumped = run_program(dump_command(*original.db, file));
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  std::string dump = read_file(file);
  EXPECT_NE(dump.find("DELIMITER ;;"), std::string::npos);
  EXPECT_NE(dump.find("/*!40101 SET"), std::string::npos);
  EXPECT_NE(dump.find("LOCK TABLES"), std::string::npos);
  std::size_t longest_line = 0;
  for (std::size_t start = 0; start < dump.size();) {
    std::size_t end = dump.find('\n', start);
    if (end == std::string::npos) end = dump.size();
    longest_line = std::max(longest_line, end - start);
    start = end + 1;
  }
  EXPECT_GT(longest_line, 16u * 1024 * 1024);

  Opened copy;
  copy.engine->restore({dump, "db/init/init.sql", 1});

  EXPECT_EQ(schema_text(*copy.engine), schema_text(*original.engine));
  EXPECT_EQ(copy.db->fingerprint(), original.db->fingerprint());
  EXPECT_EQ(copy.db->query("SELECT name FROM people_view ORDER BY id").size(), 5u);
  EXPECT_EQ(copy.db->query("SELECT shout('a')"), (Rows{{"A!;"}}));
  // The restored trigger and procedure work.
  copy.db->query("CALL add_person('after restore')");
  EXPECT_EQ(copy.db->query("SELECT what FROM audit ORDER BY id DESC LIMIT 1"),
            (Rows{{"added 'after restore';"}}));
  // The session is usable for the ledger afterwards.
  copy.engine->ensure_ledger();
  EXPECT_TRUE(copy.engine->read_ledger()->empty());
}

TEST(MysqlEngine, RestoreMapsTheDumpsDatabaseOntoTheTarget) {
  Opened o;
  const std::string dump =
      "/*!40000 DROP DATABASE IF EXISTS `production_db`*/;\n"
      "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `production_db` /*!40100 DEFAULT CHARACTER SET "
      "utf8mb4 */;\n"
      "USE `production_db`;\n"
      "CREATE TABLE t (a INT);\n"
      "INSERT INTO t VALUES (1);\n";
  o.engine->restore({dump, "init.sql", 1});
  EXPECT_EQ(o.db->query("SELECT a FROM t"), (Rows{{"1"}}));
  EXPECT_EQ(o.db->query("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = "
                        "'production_db'"),
            (Rows{{"0"}}));

  Error error = expect_error([&] {
    o.engine->restore(
        {"USE `one`;\nCREATE TABLE u (a INT);\nUSE `two`;\nCREATE TABLE v (a INT);", "all.sql", 1});
  });
  EXPECT_EQ(error.where, "all.sql line 3");
  EXPECT_NE(error.message().find("`two`"), std::string::npos) << error.message();
}

TEST(MysqlEngine, StatementLargerThanTheServerPacketIsExplained) {
  Opened o;
  long long packet = std::stoll(o.db->query("SELECT @@global.max_allowed_packet").at(0).at(0));
  ASSERT_LE(packet, 256LL * 1024 * 1024) << "the test builds a statement larger than this";
  o.engine->execute({"CREATE TABLE t (a LONGTEXT);", "0001.sql", 1});
  std::string sql = "SELECT 1;\nINSERT INTO t VALUES ('";
  sql.append(static_cast<std::size_t>(packet), 'x');
  sql += "');";
  Error error = expect_error([&] { o.engine->restore({sql, "init.sql", 1}); });
  EXPECT_EQ(error.kind(), ErrorKind::failure);
  EXPECT_EQ(error.where, "init.sql line 2");
  EXPECT_EQ(error.statements_done, 1);
  EXPECT_NE(error.message().find("max_allowed_packet"), std::string::npos) << error.message();
  EXPECT_NE(error.hint.find("max_allowed_packet"), std::string::npos) << error.hint;
  EXPECT_LT(error.statement.size(), 10000u);
  // The connection is still usable.
  o.engine->execute({"INSERT INTO t VALUES ('ok');", "0002.sql", 1});
}

}  // namespace
}  // namespace dbinit::test
