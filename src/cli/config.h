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
  /// --all: run the command for every service of dbinit.toml (cli/services.h); --jobs N of them
  /// at a time.
  bool all = false;
  std::optional<std::string> jobs;
  /// --yes: confirm a destructive or guarded operation (reset, up --clean, seed).
  bool yes = false;
  bool skip_seed = false;
  bool skip_hooks = false;
  /// `up --clean`: reset, then up.
  bool clean = false;
  /// `up --load NAME`: the snapshot to load into an empty database.
  std::optional<std::string> load;
  /// `up --backup-before`: a snapshot before pending migrations are applied.
  bool backup_before = false;
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
  /// Where the URL came from, for messages: `--url`, `DATABASE_URL`, `services.api.url in
  /// dbinit.toml:4`, `the default`.
  std::string url_origin;
  /// Where the migrations folder came from: `from --dir`, `from DBINIT_DIR`, `from dir in
  /// dbinit.toml:2`, `the default`.
  std::string migrations_dir_origin;
  /// --yes or DBINIT_YES=1.
  bool confirmed = false;
  /// --skip-seed or DBINIT_SKIP_SEED=1.
  bool skip_seed = false;
  /// --skip-hooks or DBINIT_SKIP_HOOKS=1.
  bool skip_hooks = false;
  /// `up --clean`, DBINIT_CLEAN=1 or DBINIT_FORCE_RECREATE=1: reset, then up. Only `up` and `run`
  /// act on it.
  bool clean = false;
  /// What asked for the clean, for messages: `up --clean`, `DBINIT_CLEAN=1`.
  std::string clean_origin;
  /// --load NAME or DBINIT_LOAD: the snapshot `up` loads into an empty database; empty: none
  /// (then `_init`, when the backups folder has it).
  std::string load;
  /// --backup-before, DBINIT_BACKUP_BEFORE=1 or `backup_before = true` in dbinit.toml.
  bool backup_before = false;
};

/// Resolves every setting. The URL is `--url`, else the selected service's own `url`, else
/// DBINIT_URL, DBINIT_URL_FILE, DATABASE_URL, DATABASE_URL_FILE, else the top-level `url`, else
/// `sqlite:db/dev.sqlite3`; a dbinit.toml that declares services but has no top-level `url` needs
/// a service picked (or a URL given) instead of that default. Every value is checked here, before
/// anything is opened or created. `command_wait_default` is the --wait default of the command
/// (`run` waits 30s by default, `up` does not wait). Throws Error{config} naming `file:line` for a
/// bad dbinit.toml, and Error{usage} for a bad flag value.
Settings resolve_settings(const Flags& flags, const EnvLookup& env,
                          std::chrono::milliseconds command_wait_default);

/// Throws Error{config} (exit 2) when the migrations folder does not exist or is not a folder,
/// naming it and where it came from. An existing, empty folder is a project without migrations.
/// Every command that reads migrations calls it; `new` creates the folder instead.
void require_migrations_dir(const Settings& settings);

/// A service of dbinit.toml (`[services.NAME]`).
struct ServiceInfo {
  std::string name;
  /// The service's table sets `url`.
  bool has_url = false;
};

/// The services of dbinit.toml (--config, DBINIT_CONFIG or ./dbinit.toml) in name order. Throws
/// Error{config} when there is no file or it declares no service.
std::vector<ServiceInfo> list_services(const Flags& flags, const EnvLookup& env);

/// Parses a switch variable: 1/true/yes/on and 0/false/no/off (any case; empty is off). Throws
/// Error{usage} naming `what` for anything else.
bool parse_switch_value(const std::string& text, const std::string& what);

/// Parses `30s`, `500ms`, `2m`, `1h`, `1m30s`, or a bare number of seconds. Throws Error{usage}
/// naming `what` (the flag or variable) for anything else.
std::chrono::milliseconds parse_duration(const std::string& text, const std::string& what);

/// `user@host dbinit <version>`, for the ledger's applied_by.
std::string applied_by();

}  // namespace dbinit::cli
