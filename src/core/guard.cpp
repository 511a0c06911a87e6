#include "core/guard.h"

#include <fmt/format.h>

#include "util/text.h"

namespace dbinit {

bool is_development_environment(std::string_view environment) {
  return equals_ci(environment, "development") || equals_ci(environment, "dev");
}

bool is_production_environment(std::string_view environment) {
  return equals_ci(environment, "production") || equals_ci(environment, "prod");
}

namespace {

const char* const k_confirm_fix =
    "add --yes (or set DBINIT_YES=1), or run it at a terminal and type the database's name when "
    "asked";

std::string describe(std::string_view environment) {
  return environment.empty() ? "not set" : fmt::format("'{}'", environment);
}

}  // namespace

GuardDecision evaluate_guard(const GuardInput& input) {
  GuardDecision decision;
  auto fail = [&](std::string reason, std::string fix) {
    decision.failures.push_back({std::move(reason), std::move(fix)});
  };
  const bool recorded_production = input.recorded && is_production_environment(*input.recorded);

  if (input.requires_development) {
    if (!is_development_environment(input.environment)) {
      fail(fmt::format("the environment is {}, not development", describe(input.environment)),
           "on a development machine, set DBINIT_ENV=development (or pass --env development, or "
           "put env = \"development\" in dbinit.toml)");
    }
    if (recorded_production) {
      fail(fmt::format("the database is recorded as {} (by `dbinit up` in that environment)",
                       describe(*input.recorded)),
           fmt::format("dbinit never runs {} on a database recorded as production, whatever the "
                       "local setting; if this is a development copy of a production database, "
                       "drop it with the database's own tools",
                       input.operation));
    }
    if (!decision.failures.empty()) {
      // Asking is pointless when the answer cannot change the outcome; say what else is missing.
      if (!input.confirmed) {
        fail("it was not confirmed", k_confirm_fix);
      }
      return decision;
    }
    if (input.confirmed) {
      decision.verdict = GuardVerdict::allowed;
    } else if (input.can_prompt) {
      decision.verdict = GuardVerdict::ask;
    } else {
      fail("it was not confirmed (no --yes, and stdin is not a terminal to ask on)", k_confirm_fix);
    }
    return decision;
  }

  // Adding development data: refused on production unless confirmed.
  if (input.confirmed) {
    decision.verdict = GuardVerdict::allowed;
    return decision;
  }
  if (is_production_environment(input.environment)) {
    fail(fmt::format("the environment is {}", describe(input.environment)),
         fmt::format("add --yes if {} is really meant to run in production", input.operation));
  }
  if (recorded_production) {
    fail(fmt::format("the database is recorded as {} (by `dbinit up` in that environment)",
                     describe(*input.recorded)),
         fmt::format("add --yes if {} is really meant for this database", input.operation));
  }
  if (decision.failures.empty()) decision.verdict = GuardVerdict::allowed;
  return decision;
}

GuardDecision::Failure prompt_mismatch(std::string_view expected) {
  return {fmt::format("the name typed at the prompt was not '{}'", expected),
          "type the database's name exactly as shown, or pass --yes"};
}

Error guard_refusal(const GuardInput& input, const GuardDecision& decision) {
  std::string reasons;
  std::string fixes;
  for (const GuardDecision::Failure& failure : decision.failures) {
    reasons += (reasons.empty() ? "" : "; ") + failure.reason;
    fixes += (fixes.empty() ? "" : "; ") + failure.fix;
  }
  Error error(ErrorKind::refused, fmt::format("{} refused: {}", input.operation, reasons));
  error.where = input.target;
  error.state = "nothing was changed";
  error.hint = fixes;
  return error;
}

std::string confirmation_name(const DatabaseUrl& url) {
  return url.database.empty() ? url.user : url.database;
}

void require_guard(const GuardInput& input, const AskForName& ask, const std::string& name) {
  GuardDecision decision = evaluate_guard(input);
  if (decision.verdict == GuardVerdict::ask) {
    if (ask && trim(ask(name, input.target)) == name) {
      decision.verdict = GuardVerdict::allowed;
    } else {
      decision.verdict = GuardVerdict::refused;
      decision.failures.push_back(prompt_mismatch(name));
    }
  }
  if (decision.verdict != GuardVerdict::allowed) throw guard_refusal(input, decision);
}

}  // namespace dbinit
