#include "core/guard.h"

#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "util/error.h"

namespace dbinit::test {
namespace {

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

GuardInput input(std::string environment, std::optional<std::string> recorded, bool destructive,
                 bool confirmed, bool can_prompt) {
  GuardInput in;
  in.operation = destructive ? "reset" : "seed";
  in.target = "sqlite:db/dev.sqlite3";
  in.environment = std::move(environment);
  in.recorded = std::move(recorded);
  in.requires_development = destructive;
  in.confirmed = confirmed;
  in.can_prompt = can_prompt;
  return in;
}

TEST(GuardEnvironments, DevelopmentAndProductionNames) {
  for (const char* name : {"development", "dev", "Development", "DEV", "dEv"}) {
    EXPECT_TRUE(is_development_environment(name)) << name;
    EXPECT_FALSE(is_production_environment(name)) << name;
  }
  for (const char* name : {"production", "prod", "PRODUCTION", "Prod"}) {
    EXPECT_TRUE(is_production_environment(name)) << name;
    EXPECT_FALSE(is_development_environment(name)) << name;
  }
  for (const char* name : {"", "staging", "test", "develop", "production ", "prods", "devel"}) {
    EXPECT_FALSE(is_development_environment(name)) << "'" << name << "'";
    EXPECT_FALSE(is_production_environment(name)) << "'" << name << "'";
  }
}

// Every combination of the inputs, against the rules as SPEC.md states them:
// - destructive (reset, up --clean, load over data): the local environment is development AND
//   the database is not recorded as production AND the user confirmed (or can be asked);
// - adding data (seed) and rollbacks: allowed when confirmed, or when neither the local nor the
//   recorded environment is production.
TEST(EvaluateGuard, EveryCombination) {
  const std::vector<std::string> environments = {"",        "development", "DEV",
                                                 "staging", "production",  "prod"};
  const std::vector<std::optional<std::string>> recorded = {
      std::nullopt, std::string("development"), std::string("staging"), std::string("production"),
      std::string("PROD")};
  int combinations = 0;
  for (bool destructive : {true, false}) {
    for (const std::string& environment : environments) {
      for (const std::optional<std::string>& rec : recorded) {
        for (bool confirmed : {false, true}) {
          for (bool can_prompt : {false, true}) {
            ++combinations;
            const GuardInput in = input(environment, rec, destructive, confirmed, can_prompt);
            const GuardDecision decision = evaluate_guard(in);
            const bool local_dev = environment == "development" || environment == "DEV";
            const bool local_prod = environment == "production" || environment == "prod";
            const bool rec_prod = rec && (*rec == "production" || *rec == "PROD");
            const std::string what = fmt::format(
                "destructive={} env='{}' recorded='{}' confirmed={} can_prompt={}", destructive,
                environment, rec.value_or("<none>"), confirmed, can_prompt);

            GuardVerdict expected;
            std::size_t failures = 0;
            if (destructive) {
              if (!local_dev || rec_prod) {
                expected = GuardVerdict::refused;
                failures = (local_dev ? 0 : 1) + (rec_prod ? 1 : 0) + (confirmed ? 0 : 1);
              } else if (confirmed) {
                expected = GuardVerdict::allowed;
              } else if (can_prompt) {
                expected = GuardVerdict::ask;
              } else {
                expected = GuardVerdict::refused;
                failures = 1;
              }
            } else if (confirmed || (!local_prod && !rec_prod)) {
              expected = GuardVerdict::allowed;
            } else {
              expected = GuardVerdict::refused;
              failures = (local_prod ? 1 : 0) + (rec_prod ? 1 : 0);
            }
            EXPECT_EQ(decision.verdict, expected) << what;
            EXPECT_EQ(decision.failures.size(), failures) << what;
            for (const GuardDecision::Failure& failure : decision.failures) {
              EXPECT_FALSE(failure.reason.empty()) << what;
              EXPECT_FALSE(failure.fix.empty()) << what;
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(combinations, 2 * 6 * 5 * 2 * 2);
}

TEST(EvaluateGuard, RecordedProductionCannotBeOverriddenLocally) {
  // Development locally, confirmed, a terminal: still refused, and the fix says no flag helps.
  GuardDecision decision = evaluate_guard(input("development", "production", true, true, true));
  EXPECT_EQ(decision.verdict, GuardVerdict::refused);
  ASSERT_EQ(decision.failures.size(), 1u);
  EXPECT_TRUE(contains(decision.failures[0].reason, "recorded as 'production'"))
      << decision.failures[0].reason;
  EXPECT_TRUE(contains(decision.failures[0].fix, "never runs reset")) << decision.failures[0].fix;
}

TEST(EvaluateGuard, ARefusalListsEveryFailedCondition) {
  GuardInput in = input("", "prod", true, false, true);
  GuardDecision decision = evaluate_guard(in);
  ASSERT_EQ(decision.verdict, GuardVerdict::refused);
  ASSERT_EQ(decision.failures.size(), 3u);
  EXPECT_TRUE(contains(decision.failures[0].reason, "the environment is not set, not development"))
      << decision.failures[0].reason;
  EXPECT_TRUE(contains(decision.failures[0].fix, "DBINIT_ENV=development"))
      << decision.failures[0].fix;
  EXPECT_TRUE(contains(decision.failures[1].reason, "recorded as 'prod'"))
      << decision.failures[1].reason;
  EXPECT_TRUE(contains(decision.failures[2].reason, "not confirmed"))
      << decision.failures[2].reason;
  EXPECT_TRUE(contains(decision.failures[2].fix, "--yes")) << decision.failures[2].fix;

  Error error = guard_refusal(in, decision);
  EXPECT_EQ(error.kind(), ErrorKind::refused);
  EXPECT_EQ(exit_code(error.kind()), 8);
  EXPECT_EQ(error.where, "sqlite:db/dev.sqlite3");
  EXPECT_EQ(error.state, "nothing was changed");
  EXPECT_EQ(error.message(), "reset refused: " + decision.failures[0].reason + "; " +
                                 decision.failures[1].reason + "; " + decision.failures[2].reason);
  EXPECT_EQ(error.hint, decision.failures[0].fix + "; " + decision.failures[1].fix + "; " +
                            decision.failures[2].fix);
}

TEST(EvaluateGuard, NamesTheLocalEnvironment) {
  GuardDecision decision = evaluate_guard(input("staging", std::nullopt, true, true, false));
  ASSERT_EQ(decision.failures.size(), 1u);
  EXPECT_EQ(decision.failures[0].reason, "the environment is 'staging', not development");
}

TEST(EvaluateGuard, NoTerminalAndNoYesSaysWhy) {
  GuardDecision decision = evaluate_guard(input("dev", std::nullopt, true, false, false));
  ASSERT_EQ(decision.verdict, GuardVerdict::refused);
  ASSERT_EQ(decision.failures.size(), 1u);
  EXPECT_TRUE(contains(decision.failures[0].reason, "stdin is not a terminal"))
      << decision.failures[0].reason;
}

TEST(EvaluateGuard, SeedOnProductionNamesTheOperationInTheFix) {
  GuardInput in = input("production", "production", false, false, true);
  GuardDecision decision = evaluate_guard(in);
  ASSERT_EQ(decision.verdict, GuardVerdict::refused);
  ASSERT_EQ(decision.failures.size(), 2u);
  EXPECT_EQ(decision.failures[0].reason, "the environment is 'production'");
  EXPECT_TRUE(contains(decision.failures[0].fix, "--yes if seed")) << decision.failures[0].fix;
  EXPECT_TRUE(contains(decision.failures[1].reason, "recorded as 'production'"))
      << decision.failures[1].reason;
  EXPECT_TRUE(contains(guard_refusal(in, decision).message(), "seed refused: "));
}

TEST(PromptMismatch, NamesTheExpectedName) {
  GuardDecision::Failure failure = prompt_mismatch("app_dev");
  EXPECT_EQ(failure.reason, "the name typed at the prompt was not 'app_dev'");
  EXPECT_TRUE(contains(failure.fix, "--yes"));
}

}  // namespace
}  // namespace dbinit::test
