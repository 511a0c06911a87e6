#pragma once

// Configuration resolution: command-line flag > environment variable > dbinit.toml > built-in
// default (SPEC.md "Invocation and configuration"). Done once, here; nothing below the CLI reads
// the environment.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/project.h"
#include "core/runner.h"

namespace dbinit::cli {

/// What the user gave on the command line; an empty optional means "not given".
struct Flags {
  std::optional<std::string> url;
  std::optional<std::string> config;
  std::optional<std::string> dir;
  std::optional<std::string> init;
  std::optional<std::string> seeds;
  std::optional<std::string> backups;
  std::optional<std::string> schema_file;
  std::optional<std::string> env;
  std::optional<std::string> service;
  std::optional<std::string> wait;
  std::optional<std::string> lock_timeout;
  std::optional<std::string> transaction;
};

/// Looks up an environment variable; nullopt when unset. Tests pass a map instead of getenv.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

struct Settings {
  Project project;
  std::chrono::milliseconds wait{0};
  std::chrono::milliseconds lock_timeout{60'000};
  TransactionMode transaction = TransactionMode::all;
  /// The toml file that was read, if any (for messages).
  std::string config_file;
};

/// Resolves every setting. `command_wait_default` is the --wait default of the command (`run`
/// waits 30s by default, `up` does not wait). Throws Error{config} naming `file:line` for a bad
/// dbinit.toml, and Error{usage} for a bad flag value.
Settings resolve_settings(const Flags& flags, const EnvLookup& env,
                          std::chrono::milliseconds command_wait_default);

/// Parses `30s`, `500ms`, `2m`, `1h`, `1m30s`, or a bare number of seconds. Throws Error{usage}
/// naming `what` (the flag or variable) for anything else.
std::chrono::milliseconds parse_duration(const std::string& text, const std::string& what);

/// `user@host dbinit <version>`, for the ledger's applied_by.
std::string applied_by();

}  // namespace dbinit::cli
