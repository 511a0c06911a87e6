#pragma once

// What every subcommand shares: the global options, the output helpers, and the table through
// which each command file adds its subcommands (cli/cmd_*.cpp). app.cpp parses argv and runs the
// one subcommand that was given.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/config.h"
#include "cli/output.h"
#include "core/migration.h"

namespace dbinit::cli {

/// The options every subcommand accepts.
struct Common {
  Flags flags;
  bool json = false;
  bool quiet = false;
  bool verbose = false;
  /// For `run`: the command after `--`.
  std::vector<std::string> exec;
  /// The arguments before any `--`, as given (`--all` starts dbinit again with them).
  std::vector<std::string> args;
  /// With --json: what the command has found or done so far. When it fails, the one document on
  /// stdout is this with `"error"` (error_json()) and `"exit_code"` added.
  nlohmann::json result = nlohmann::json::object();
  Verbosity verbosity() const {
    return verbose ? Verbosity::verbose : quiet ? Verbosity::quiet : Verbosity::normal;
  }
};

/// The subcommands, each with what runs it once argv has been parsed.
class Commands {
 public:
  Commands(CLI::App& root, Common& common) : m_root(root), m_common(common) {}

  /// Adds subcommand `name` with the common options; `run` is called when it was given.
  CLI::App* add(const std::string& name, const std::string& description, std::function<int()> run);

  /// Builds only subcommand `name` (the one argv names) instead of every one: CLI11's options
  /// for every subcommand are most of what a start of dbinit costs. Without a call, every
  /// subcommand is built.
  void build_only(std::string name);
  /// True when subcommand `name` is to be built: each add_*_command asks before adding one.
  bool wants(std::string_view name) const;
  /// The number of subcommands added.
  std::size_t size() const { return m_entries.size(); }

  Common& common() { return m_common; }
  /// Runs the subcommand that was parsed; returns its exit code.
  int run_parsed() const;
  /// True when `name` was the subcommand given.
  bool parsed(const std::string& name) const;

 private:
  struct Entry {
    CLI::App* app;
    std::function<int()> run;
  };
  CLI::App& m_root;
  Common& m_common;
  std::vector<Entry> m_entries;
  std::optional<std::string> m_only;
};

/// Adds the global options to `app`.
void add_common(CLI::App& app, Common& common);

// Each command file adds its subcommands.
void add_up_commands(Commands& commands);      // up, run, reset
void add_status_commands(Commands& commands);  // status, check
void add_new_command(Commands& commands);      // new
void add_repair_command(Commands& commands);   // repair
void add_seed_command(Commands& commands);     // seed

void add_down_command(Commands& commands);       // down
void add_baseline_command(Commands& commands);   // baseline
void add_verify_command(Commands& commands);     // verify
void add_schema_command(Commands& commands);     // schema
void add_diagram_command(Commands& commands);    // diagram
void add_snapshot_commands(Commands& commands);  // dump, load, backups

// --- helpers for the command files ---------------------------------------------------------

/// `3 migrations`, `1 migration`.
std::string plural(long n, std::string_view word);
/// A version for humans: `version 12`, or `no version` when empty (`at version 12`, `at no
/// version`).
std::string version_text(const std::optional<Version>& version);
/// A version for JSON: the digits, or null when empty.
nlohmann::json version_json(const std::optional<Version>& version);
/// Parses `texts` as versions; Error{usage} naming `flag` for anything that is not digits.
std::vector<Version> parse_versions(const std::vector<std::string>& texts, std::string_view flag);

}  // namespace dbinit::cli
