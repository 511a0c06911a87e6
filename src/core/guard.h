#pragma once

// The guard in front of destructive commands (SPEC.md "The ledger" and `reset`). A pure function of
// what the caller knows: the local environment, the environment recorded in the database, and
// whether the user confirmed. The caller does the asking (a terminal prompt) and the dropping.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engines/url.h"
#include "util/error.h"

namespace dbinit {

struct GuardInput {
  /// What would be done, for messages: `reset`, `up --clean`, `seed`.
  std::string operation;
  /// The database, as users name it (redacted URL), for messages.
  std::string target;
  /// The local environment (--env, DBINIT_ENV, the toml's `env`); empty when unset.
  std::string environment;
  /// The environment recorded in the database by `up`; nullopt when none (or no database).
  std::optional<std::string> recorded;
  /// True for operations that destroy a database (`reset`): the local environment must be
  /// development. False for operations that only add development data (`seed`): those are
  /// refused only on production, unless confirmed.
  bool requires_development = true;
  /// --yes or DBINIT_YES=1.
  bool confirmed = false;
  /// True when the caller can ask the user (stdin is a terminal).
  bool can_prompt = false;
};

enum class GuardVerdict {
  allowed,  // go ahead
  ask,      // every condition holds but the confirmation: ask the user, then go ahead or refuse
  refused,  // at least one condition failed
};

struct GuardDecision {
  GuardVerdict verdict = GuardVerdict::refused;
  /// One entry per failed condition: what failed and how to satisfy it.
  struct Failure {
    std::string reason;
    std::string fix;
  };
  std::vector<Failure> failures;
};

/// Decides whether `input.operation` may go ahead. For destructive operations
/// (`requires_development`) every condition must hold: the local environment is development, the
/// database is not recorded as production (no local setting or flag overrides that), and the user
/// confirmed (or can be asked). Otherwise (`seed`): allowed when confirmed or when neither the
/// local nor the recorded environment is production. Every failed condition is listed, so the
/// message names them all.
GuardDecision evaluate_guard(const GuardInput& input);

/// The Error{refused} (exit 8) for a refusal: its message names every failed condition and its
/// hint how to satisfy each.
Error guard_refusal(const GuardInput& input, const GuardDecision& decision);

/// The failure to report when the user was asked and did not type the expected name.
GuardDecision::Failure prompt_mismatch(std::string_view expected);

/// Asks the user to type the database's name (`name`, shown with `target`) and returns what was
/// typed; empty when nobody can be asked.
using AskForName = std::function<std::string(const std::string& name, const std::string& target)>;

/// The name a user types to confirm: the database's name, or the SQLite file as written.
std::string confirmation_name(const DatabaseUrl& url);

/// evaluate_guard(), then, when it says `ask`, asks through `ask` for `name`: returns when the
/// operation may go ahead, else throws guard_refusal() naming every failed condition.
void require_guard(const GuardInput& input, const AskForName& ask, const std::string& name);

/// `development` or `dev` (ASCII case-insensitive).
bool is_development_environment(std::string_view environment);
/// `production` or `prod` (ASCII case-insensitive).
bool is_production_environment(std::string_view environment);

}  // namespace dbinit
