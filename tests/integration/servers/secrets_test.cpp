// Passwords never reach the output: every command, its failures, hooks, `--all` and `--json` run
// with a password made of URL-special characters, and no stdout or stderr holds it, raw or
// percent-encoded. Nor does the process's command line while `run --wait` waits. PostgreSQL and
// MariaDB only: SQLite URLs have no password.

#include <gmock/gmock.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
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

// Every character that has a meaning in a URL, a percent sign, a space and a non-ASCII letter.
const std::string k_password = "p@ss:w/rd%?#&=+ \xc3\xa9";
// The same, percent-encoded as it must be written in a URL.
const std::string k_encoded = "p%40ss%3Aw%2Frd%25%3F%23%26%3D%2B%20%C3%A9";

class SecretsTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    // Every command below reaches the database: a project with no migrations yet.
    fs::create_directories(project().path() / "db/migrations");
    m_role = "dbinit_test_secret_" + std::to_string(getpid());
    if (engine() == "postgres") {
      db().query("DROP ROLE IF EXISTS " + m_role + "; CREATE ROLE " + m_role +
                 " LOGIN SUPERUSER PASSWORD '" + k_password + "'");
    } else {
      for (const char* host : {"%", "localhost"}) {
        const std::string account = "'" + m_role + "'@'" + host + "'";
        db().query("DROP USER IF EXISTS " + account);
        db().query("CREATE USER " + account + " IDENTIFIED BY '" + k_password + "'");
        db().query("GRANT ALL PRIVILEGES ON *.* TO " + account + " WITH GRANT OPTION");
      }
    }
  }

  void TearDown() override {
    if (m_role.empty()) return;
    try {
      if (engine() == "postgres") {
        db().query("REASSIGN OWNED BY " + m_role + " TO CURRENT_USER; DROP OWNED BY " + m_role +
                   "; DROP ROLE " + m_role);
      } else {
        for (const char* host : {"%", "localhost"}) {
          db().query("DROP USER IF EXISTS '" + m_role + "'@'" + host + "'");
        }
      }
    } catch (const std::exception&) {
      // A role left behind carries the dbinit_test_ prefix.
    }
  }

  DatabaseUrl test_url() { return parse_database_url(db().url()); }

  /// The test database's URL with the secret role and password, at `hosts` (default: the test
  /// server).
  std::string secret_url(std::string hosts = "") {
    if (hosts.empty()) hosts = test_url().hosts;
    return with_authority(db().url(), m_role + ":" + k_encoded + "@" + hosts);
  }

  std::string unreachable_url() { return secret_url("127.0.0.1:" + std::to_string(unused_port())); }

  /// Runs dbinit with the secret URL as DBINIT_URL (and `env`), records its output for
  /// expect_no_secret() and returns it.
  RunResult secret_run(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    if (!env.contains("DBINIT_URL")) env["DBINIT_URL"] = secret_url();
    if (!env.contains("SECRET_URL")) env["SECRET_URL"] = secret_url();
    RunResult result = dbinit(args, env);
    std::string command;
    for (const std::string& arg : args) command += " " + arg;
    m_outputs.emplace_back(command, result);
    return result;
  }

  /// Every output recorded so far holds neither the password nor a recognisable part of it.
  void expect_no_secret() {
    for (const auto& [command, result] : m_outputs) {
      const std::string text = result.out + result.err;
      for (const std::string& form :
           {k_password, k_encoded, std::string("ss:w/rd"), std::string("rd%?#&"),
            std::string("%2Frd%25"), std::string("p%40ss"), std::string("2B%20%C3%A9")}) {
        EXPECT_THAT(text, Not(HasSubstr(form))) << "dbinit" << command << "\n" << text;
      }
    }
  }

  /// Parses stdout as exactly one JSON document.
  static nlohmann::json json_of(const RunResult& result) {
    nlohmann::json parsed = nlohmann::json::parse(result.out, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << result.out << result.err;
    return parsed;
  }

  const std::string& role() const { return m_role; }

 private:
  std::string m_role;
  std::vector<std::pair<std::string, RunResult>> m_outputs;
};

TEST_F(SecretsTest, NoCommandPrintsThePassword) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n-- dbinit:down\nDROP TABLE a;\n");
  project().write("db/seeds/01.sql", "INSERT INTO a VALUES (1);\n");

  // A hook that prints the URL it is given, and one whose arguments hold it.
  project().write("dbinit.toml",
                  "[hooks]\nafter_up = [['sh', '-c', 'echo \"hook sees $DATABASE_URL\"'], "
                  "['echo', 'arg', '${SECRET_URL}']]\n");
  RunResult up = secret_run({"up", "-v"}, {{"SECRET_URL", secret_url()}});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_THAT(up.err, HasSubstr("hook sees " + engine()));
  EXPECT_THAT(up.err, HasSubstr("running after_up hook `echo arg '${SECRET_URL}'`"));
  EXPECT_EQ(count("a"), "1");

  EXPECT_EQ(secret_run({"up", "--json"}, {{"SECRET_URL", secret_url()}}).exit_code, 0);
  EXPECT_EQ(secret_run({"status"}).exit_code, 0);
  EXPECT_EQ(secret_run({"status", "--json", "-v"}).exit_code, 0);
  EXPECT_EQ(secret_run({"check", "-v"}).exit_code, 0);
  EXPECT_EQ(secret_run({"check", "--json"}).exit_code, 0);
  EXPECT_EQ(secret_run({"seed", "-v"}).exit_code, 0);
  EXPECT_EQ(secret_run({"baseline", "--json"}).exit_code, 2);  // it has a ledger already
  EXPECT_EQ(secret_run({"repair", "--forget-failed", "1"}).exit_code, 2);
  EXPECT_EQ(secret_run({"new", "add b"}).exit_code, 0);
  EXPECT_EQ(secret_run({"check", "--json"}).exit_code, 7);  // the new file is pending
  fs::remove_all(project().path() / "db/migrations");
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n-- dbinit:down\nDROP TABLE a;\n");
  EXPECT_EQ(secret_run({"down", "--steps", "1", "-v", "--json"}).exit_code, 0);
  EXPECT_EQ(secret_run({"reset", "--yes"}).exit_code, 8);  // not a development database
  EXPECT_EQ(secret_run({"reset", "--yes", "-v"}, {{"DBINIT_ENV", "development"}}).exit_code, 0);
  EXPECT_EQ(secret_run({"verify", "--url", secret_url(), "-v"}).exit_code, 0);

  // The URL given as a flag; and a failing migration, whose error quotes the statement.
  migration("0002-bad.sql", failing_statement() + "\n");
  EXPECT_EQ(
      secret_run({"up", "-v", "--url", secret_url()}, {{"DBINIT_URL", "sqlite:x.db"}}).exit_code,
      1);
  EXPECT_EQ(secret_run({"run", "--json", "--", "true"}).exit_code, 1);
  fs::remove(project().path() / "db/migrations/0002-bad.sql");

  // A failing hook whose arguments hold the URL.
  project().write("dbinit.toml",
                  "[hooks]\nafter_up = [['sh', '-c', 'echo \"$1\"; exit 3', 'sh', "
                  "'${SECRET_URL}']]\n");
  RunResult hook = secret_run({"up", "-v", "--json"}, {{"SECRET_URL", secret_url()}});
  EXPECT_EQ(hook.exit_code, 1) << hook.err;
  EXPECT_EQ(json_of(hook)["error"]["category"], "failure");
  fs::remove(project().path() / "dbinit.toml");

  // Wrong passwords, unreachable servers, a missing database.
  const std::string wrong =
      with_authority(db().url(), role() + ":" + k_encoded + "X@" + test_url().hosts);
  for (const std::string& url : {wrong, unreachable_url()}) {
    for (std::vector<std::string> args : {std::vector<std::string>{"up"},
                                          {"status"},
                                          {"check"},
                                          {"down"},
                                          {"baseline"},
                                          {"seed"},
                                          {"repair", "--forget-failed", "1"}}) {
      args.insert(args.end(), {"-v", "--json"});
      RunResult failed = secret_run(args, {{"DBINIT_URL", url}});
      EXPECT_EQ(failed.exit_code, 6) << args.front() << "\n" << failed.err;
      EXPECT_EQ(json_of(failed)["exit_code"], 6) << failed.out;
    }
  }
  EXPECT_EQ(secret_run({"up", "--wait", "1s", "--url", unreachable_url()}).exit_code, 6);

  // --all: one service reaches the database, one has the wrong password, one an unreachable
  // server; every line each prints is passed on.
  project().write("dbinit.toml",
                  "[services.good]\nurl = \"${GOOD_URL}\"\n"
                  "hooks.after_up = [['sh', '-c', 'echo \"$DATABASE_URL\"']]\n"
                  "[services.wrong]\nurl = \"${WRONG_URL}\"\n"
                  "[services.away]\nurl = \"${AWAY_URL}\"\n");
  const std::map<std::string, std::string> services = {
      {"GOOD_URL", secret_url()}, {"WRONG_URL", wrong}, {"AWAY_URL", unreachable_url()}};
  RunResult all = secret_run({"up", "--all", "-v"}, services);
  EXPECT_EQ(all.exit_code, 6) << all.err;
  EXPECT_THAT(all.err, HasSubstr("[good] " + engine()));
  EXPECT_THAT(all.err, HasSubstr("dbinit: 2 of 3 services failed"));
  RunResult all_json = secret_run({"status", "--all", "--json"}, services);
  EXPECT_EQ(all_json.exit_code, 6) << all_json.err;
  EXPECT_EQ(json_of(all_json)["failed"], 2);

  expect_no_secret();
}

TEST_F(SecretsTest, MalformedPercentEncodingIsOurErrorWithoutThePassword) {
  const std::string scheme = engine() + "://";
  RunResult bad = secret_run({"status", "--url", scheme + "user:se%cretXYZ@127.0.0.1:1/db"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("the password has a '%' that is not followed by two hex digits"));
  EXPECT_THAT(bad.err, HasSubstr(scheme + "user:***@127.0.0.1:1/db"));
  EXPECT_THAT(bad.err + bad.out, Not(HasSubstr("cretXYZ")));
}

TEST_F(SecretsTest, UnescapedAtSignInThePasswordIsReadOneWayEverywhere) {
  // The host starts after the last '@' for the redaction and for the connection alike: the
  // connection goes to 127.0.0.1:1 and fails, and no message shows the rest of the password.
  const std::string scheme = engine() + "://";
  RunResult result = secret_run({"status", "--url", scheme + "user:se@cretXYZ@127.0.0.1:1/db"});
  EXPECT_EQ(result.exit_code, 6) << result.err;
  EXPECT_THAT(result.err, HasSubstr(scheme + "user:***@127.0.0.1:1/db"));
  EXPECT_THAT(result.err + result.out, Not(HasSubstr("cretXYZ")));
}

TEST_F(SecretsTest, RunWaitingForTheServerDoesNotShowThePasswordInItsCommandLine) {
  const std::string url = unreachable_url();
  RunOptions options;
  options.cwd = project().path();
  Child child({DBINIT_BINARY, "run", "--wait", "10s", "--url", url, "--", "true", url}, options);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const std::string cmdline = read_file("/proc/" + std::to_string(child.pid()) + "/cmdline");
  child.kill(SIGTERM);
  RunResult result = child.wait();
  std::string words;
  for (char c : cmdline) words += c == '\0' ? ' ' : c;
  EXPECT_THAT(words, HasSubstr("run --wait 10s --url " + engine() + "://" + role() + ":"));
  for (const std::string& form : {k_password, k_encoded, std::string("p%40ss")}) {
    // Only the command after `--` keeps its arguments, for exec.
    const std::size_t command = words.find(" -- true ");
    ASSERT_NE(command, std::string::npos) << words;
    EXPECT_THAT(words.substr(0, command), Not(HasSubstr(form))) << words;
  }
  EXPECT_THAT(words, HasSubstr(" -- true " + url));
  EXPECT_THAT(result.err + result.out, Not(HasSubstr(k_encoded)));
}

}  // namespace
}  // namespace dbinit::test
