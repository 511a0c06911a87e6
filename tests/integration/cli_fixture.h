#pragma once

// The end-to-end suite's fixture: a temporary project folder, a fresh database on the engine under
// test, and helpers to run the built binary against them. The same tests run on every engine; the
// few expectations that differ (MySQL commits DDL implicitly) branch on `transactional()`.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engines/url.h"
#include "support/harness.h"
#include "support/tcp_forwarder.h"

namespace dbinit::test {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_engine = test_engine();
    m_db = make_test_database(m_engine);
  }

  const std::string& engine() const { return m_engine; }
  bool transactional() const { return m_engine != "mysql"; }
  TestDatabase& db() { return *m_db; }
  const TempDir& project() const { return m_project; }

  /// Starts `proxy` (a fault proxy, support/tcp_forwarder.h) on a free loopback port in front of
  /// the test server and returns the test database's URL through it. Server engines only.
  std::string through_proxy(std::unique_ptr<TcpForwarder>& proxy) {
    const DatabaseUrl url = parse_database_url(m_db->url());
    const std::size_t colon = url.hosts.rfind(':');
    const int port = unused_port();
    proxy = std::make_unique<TcpForwarder>(port, url.hosts.substr(0, colon),
                                           std::stoi(url.hosts.substr(colon + 1)));
    proxy->start();
    return with_authority(m_db->url(),
                          url.user + ":" + url.password + "@127.0.0.1:" + std::to_string(port));
  }

  /// Writes `db/migrations/<name>`.
  void migration(const std::string& name, const std::string& sql) {
    m_project.write("db/migrations/" + name, sql);
  }

  /// Runs dbinit in the project folder with DBINIT_URL pointing at the test database.
  RunResult dbinit(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    RunOptions options;
    options.cwd = m_project.path();
    options.env = std::move(env);
    if (!options.env.contains("DBINIT_URL")) options.env["DBINIT_URL"] = m_db->url();
    return run_dbinit(args, options);
  }

  /// `dbinit up`, expected to succeed.
  RunResult up_ok(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"up"};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult result = dbinit(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result;
  }

  /// The ledger as (version, state) pairs in version order.
  std::vector<std::pair<std::string, std::string>> ledger() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& row : m_db->query(
             "SELECT version, state FROM dbinit_migrations ORDER BY LENGTH(version), version")) {
      out.emplace_back(row.at(0), row.at(1));
    }
    return out;
  }

  std::string count(const std::string& table) {
    return m_db->query("SELECT COUNT(*) FROM " + table).at(0).at(0);
  }

  /// A statement that fails on every engine, at run time rather than at parse time.
  static std::string failing_statement() { return "INSERT INTO no_such_table VALUES (1);"; }

 private:
  std::string m_engine;
  TempDir m_project;
  std::unique_ptr<TestDatabase> m_db;
};

using Ledger = std::vector<std::pair<std::string, std::string>>;

}  // namespace dbinit::test
