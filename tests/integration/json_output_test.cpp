// `--json` always prints exactly one JSON document on stdout: the result, or, when the command
// fails, what it had found with the error (category, message, where, state, hint, exit code).
// Also `up --baseline` and unknown commands.

#include <gmock/gmock.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "integration/cli_fixture.h"

namespace dbinit::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

class JsonOutputTest : public CliTest {
 protected:
  /// Runs dbinit with --json and `args`; expects exit code `code` and one JSON document on
  /// stdout, which it returns.
  json run_json(std::vector<std::string> args, int code,
                std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), "--json");
    RunResult result = dbinit(args, std::move(env));
    EXPECT_EQ(result.exit_code, code) << result.err;
    json parsed = json::parse(result.out, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << "stdout: " << result.out << "\nstderr: " << result.err;
    if (parsed.is_discarded()) return json::object();
    EXPECT_TRUE(parsed.is_object()) << result.out;
    if (code != 0) {
      EXPECT_EQ(parsed.value("exit_code", -1), code) << result.out;
      EXPECT_EQ(parsed["error"].value("exit_code", -1), code) << result.out;
      EXPECT_TRUE(parsed["error"]["message"].is_string()) << result.out;
    } else {
      EXPECT_FALSE(parsed.contains("error")) << result.out;
    }
    return parsed;
  }
};

TEST_F(JsonOutputTest, EveryFailureIsOneDocumentWithTheError) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");

  json missing = run_json({"check"}, 7);
  EXPECT_EQ(missing["error"]["category"], "not_current");

  up_ok();
  migration("0002-b.sql", "CREATE TABLE b (id INTEGER);\n");
  json pending = run_json({"check"}, 7);
  EXPECT_EQ(pending["error"]["category"], "not_current");
  EXPECT_THAT(pending["error"]["message"].get<std::string>(), HasSubstr("0002-b.sql"));
  EXPECT_EQ(pending["current"], false);
  EXPECT_EQ(pending["version"], "1");
  EXPECT_EQ(pending["engine"], engine());

  migration("0001-a.sql", "CREATE TABLE a (id INTEGER, changed INTEGER);\n");
  json drift = run_json({"up"}, 3);
  EXPECT_EQ(drift["error"]["category"], "drift");
  EXPECT_TRUE(drift["error"]["hint"].is_string());
  EXPECT_TRUE(drift["error"]["state"].is_string());
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");

  json usage = run_json({"up", "--no-such-flag"}, 2);
  EXPECT_EQ(usage["error"]["category"], "usage");
  json bad_wait = run_json({"status", "--wait", "soon"}, 2);
  EXPECT_THAT(bad_wait["error"]["message"].get<std::string>(), HasSubstr("not a duration"));

  json refused_baseline = run_json({"baseline"}, 2);
  EXPECT_EQ(refused_baseline["error"]["category"], "usage");
  json refused_repair = run_json({"repair"}, 2);
  json refused_reset = run_json({"reset", "--yes"}, 8);
  EXPECT_EQ(refused_reset["error"]["category"], "refused");

  // A failing hook: the up result is there, with the error.
  project().write("dbinit.toml", "[hooks]\nafter_up = [['sh', '-c', 'echo out; exit 3']]\n");
  json hook = run_json({"up"}, 1);
  EXPECT_EQ(hook["error"]["category"], "failure");
  EXPECT_THAT(hook["error"]["message"].get<std::string>(), HasSubstr("failed with exit code 3"));
  EXPECT_EQ(hook["version"], "2");
  ASSERT_EQ(hook["applied"].size(), 1u);
  EXPECT_EQ(hook["applied"][0]["name"], "0002-b.sql");
  fs::remove(project().path() / "dbinit.toml");

  // `run` prints the document before it starts the command.
  json run = run_json({"run", "--", "true"}, 0);
  EXPECT_EQ(run["version"], "2");
}

TEST_F(JsonOutputTest, HookOutputGoesToStderrNotIntoTheDocument) {
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n");
  project().write("dbinit.toml",
                  "[hooks]\nafter_up = [['sh', '-c', 'echo to-stdout; echo to-stderr >&2; "
                  "printf no-newline']]\n");
  RunResult result = dbinit({"up", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(json::parse(result.out, nullptr, false).is_discarded()) << result.out;
  EXPECT_THAT(result.err, HasSubstr("\nto-stdout\n"));
  EXPECT_THAT(result.err, HasSubstr("\nto-stderr\n"));
  EXPECT_THAT(result.err, HasSubstr("\nno-newline\n"));
}

TEST_F(JsonOutputTest, AFileNameThatIsNotUtf8IsWrittenWithReplacementCharacters) {
  migration("0001-caf\xe9.sql", "CREATE TABLE a (id INTEGER);\n");
  json status = run_json({"status"}, 0);
  ASSERT_EQ(status["migrations"].size(), 1u);
  EXPECT_EQ(status["migrations"][0]["name"], "0001-caf\xef\xbf\xbd.sql");
  EXPECT_EQ(status["migrations"][0]["state"], "pending");
  json check = run_json({"check"}, 7);
  EXPECT_EQ(check["error"]["category"], "not_current");
}

TEST_F(JsonOutputTest, UnknownCommandIsNamedWithTheCommandList) {
  RunResult result = dbinit({"snapshot"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("unknown command \"snapshot\""));
  EXPECT_THAT(result.err, HasSubstr("up, run, reset, status, check"));
  EXPECT_THAT(result.err, Not(HasSubstr("A subcommand is required")));
  json document = run_json({"--url", "sqlite:x.db", "snapshot"}, 2);
  EXPECT_EQ(document["error"]["message"], "unknown command \"snapshot\"");

  RunResult none = dbinit({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, HasSubstr("subcommand is required"));
}

TEST_F(JsonOutputTest, UpBaselineAdoptsAnUnmanagedDatabaseThenGoesOn) {
  db().query("CREATE TABLE a (id INTEGER)");
  migration("0001-a.sql", "CREATE TABLE a (id INTEGER);\n-- dbinit:down\nDROP TABLE a;\n");

  RunResult refused = dbinit({"up"});
  EXPECT_EQ(refused.exit_code, 9) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("dbinit up --baseline"));
  RunResult dry = dbinit({"up", "--baseline", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 9) << dry.err;

  RunResult adopted = dbinit({"up", "--baseline"});
  ASSERT_EQ(adopted.exit_code, 0) << adopted.err;
  EXPECT_THAT(adopted.err, HasSubstr("recorded 1 migration as baseline up to version 1"));
  EXPECT_EQ(ledger(), (Ledger{{"1", "baseline"}}));

  // On a managed database --baseline changes nothing; newer migrations are applied.
  migration("0002-b.sql", "CREATE TABLE b (id INTEGER);\n");
  json up = run_json({"up", "--baseline"}, 0);
  EXPECT_EQ(up["version"], "2");
  EXPECT_EQ(up["baseline"], nullptr);
  EXPECT_EQ(ledger(), (Ledger{{"1", "baseline"}, {"2", "applied"}}));
}

}  // namespace
}  // namespace dbinit::test
