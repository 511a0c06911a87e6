#pragma once

// The test harness: temporary project folders, running the built `dbinit` binary, and a fresh real
// database per test on the engine under test. No mocks: every database is a real SQLite file or a
// database on a real server that support/testserver started for this ctest run.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dbinit::test {

/// A folder under the system temp dir, removed when the object dies (kept when the environment
/// variable DBINIT_KEEP_TEST_DIRS is set, to look at after a failure).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }
  /// Writes `content` to `relative` (creating parent folders) and returns the full path.
  std::filesystem::path write(const std::filesystem::path& relative,
                              std::string_view content) const;

 private:
  std::filesystem::path m_path;
};

std::string read_file(const std::filesystem::path& path);

struct RunResult {
  int exit_code = -1;  // the exit status, or 128 + signal number when killed by a signal
  std::string out;     // stdout
  std::string err;     // stderr
};

struct RunOptions {
  std::filesystem::path cwd;
  /// Variables set for the child on top of a clean environment (PATH, HOME, TMPDIR, LANG kept;
  /// every DBINIT_* / DATABASE_* variable of the test process is removed first).
  std::map<std::string, std::string> env;
  std::string stdin_data;
  std::chrono::seconds timeout{120};
};

/// Runs the built dbinit binary with `args` and waits for it.
RunResult run_dbinit(const std::vector<std::string>& args, const RunOptions& options = {});
/// Runs any program (argv[0] looked up in PATH) the same way.
RunResult run_program(const std::vector<std::string>& argv, const RunOptions& options = {});

/// A child process started in the background (for concurrency and kill tests).
class Child {
 public:
  Child(const std::vector<std::string>& argv, const RunOptions& options);
  ~Child();  // kills and reaps the child if it is still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  int pid() const { return m_pid; }
  void kill(int signal);
  /// Waits for the child and returns its result.
  RunResult wait();

 private:
  int m_pid = -1;
  int m_out_fd = -1;
  int m_err_fd = -1;
  std::optional<RunResult> m_result;
};

/// Rows of a query as text; NULL is returned as the string "<null>".
using Rows = std::vector<std::vector<std::string>>;

/// A database on the engine under test. Each test gets its own: a file in a TempDir on SQLite, a
/// `dbinit_test_<n>_<pid>` database on the test server otherwise (dropped by the destructor).
class TestDatabase {
 public:
  virtual ~TestDatabase() = default;
  /// "sqlite", "postgres" or "mysql".
  virtual std::string engine() const = 0;
  /// The URL dbinit is given. The database does not exist yet until something creates it.
  virtual std::string url() const = 0;
  /// Runs `sql` (one or more statements) with the engine's own client library and returns the
  /// rows of the last statement. Fails the test (throws) on an error.
  virtual Rows query(std::string_view sql) = 0;
  /// True when the database exists.
  virtual bool exists() = 0;
  /// User tables (not dbinit's) in name order.
  virtual std::vector<std::string> tables() = 0;
  /// A stable textual form of the whole database (schema and data, dbinit's ledger included):
  /// used to assert that a failed run changed nothing.
  virtual std::string fingerprint() = 0;
};

/// A fresh database on `engine` ("sqlite", "postgres", "mysql"). For servers, the URL comes from
/// DBINIT_TEST_POSTGRES_URL / DBINIT_TEST_MYSQL_URL or from the server the ctest fixture started
/// (DBINIT_TEST_SERVERS_DIR/<engine>/url); a missing server throws, which fails the test.
std::unique_ptr<TestDatabase> make_test_database(std::string_view engine);

/// The engine an integration binary was compiled for (DBINIT_TEST_ENGINE).
std::string test_engine();

/// The first line of a file the test-server fixture of `engine` wrote (support/testserver:
/// `url`, `port`, `socket-dir`, ...). Throws when the fixture did not run.
std::string test_server_file(std::string_view engine, const std::string& name);

/// `url` with the part between `//` and the database replaced by `authority` (`user:pw@host:port`).
std::string with_authority(const std::string& url, const std::string& authority);

/// Seconds since `start` on the steady clock.
double seconds_since(std::chrono::steady_clock::time_point start);

/// The command line of a MariaDB client program (`mariadb`, `mariadb-dump`) connecting to `db`
/// over TCP with its URL's credentials and no option files; the database name is not included.
std::vector<std::string> mariadb_client(const std::string& program, const TestDatabase& db);

/// A client program (`pg_dump`, `psql`) of the PostgreSQL version the test server runs, so that
/// the tests do not depend on Debian's version-picking wrappers.
std::string postgres_client(const std::string& program);

}  // namespace dbinit::test
