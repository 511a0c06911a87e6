#pragma once

// The resolved configuration of one project (or one service of a multi-service project): what
// the CLI hands the core after applying flags > environment > dbinit.toml > defaults. The core
// reads nothing else from the environment.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "engines/url.h"

namespace dbinit {

struct Project {
  DatabaseUrl url;
  /// Folders and files; relative paths are relative to the current directory and are shown in
  /// messages as written.
  std::filesystem::path migrations_dir = "db/migrations";
  std::filesystem::path init_path = "db/init";
  std::filesystem::path seeds_dir = "db/seeds";
  std::filesystem::path backups_dir = "db/backups";
  std::filesystem::path schema_file = "db/schema.sql";
  /// DBINIT_ENV or the toml's `env` (`development`, `production`, ...); empty when unset.
  std::string environment;
  /// Who applies migrations, recorded in the ledger: `user@host dbinit <version>`.
  std::string applied_by;
  /// `hooks.after_up`: commands (argv lists, no shell) run after a successful `up`.
  std::vector<std::vector<std::string>> after_up_hooks;
  /// The same commands as written in the configuration, `${VAR}` not replaced: what messages
  /// show.
  std::vector<std::vector<std::string>> after_up_hooks_as_written;
};

}  // namespace dbinit
