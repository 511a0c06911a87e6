#include "cli/app.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/secrets.h"
#include "dbinit/version.h"
#include "engines/engine.h"
#include "util/error.h"

namespace dbinit::cli {

namespace {

// The one document `--json` promises, for a command that failed: what it had found or done
// (`partial`), with the error.
nlohmann::json failure_json(const nlohmann::json& partial, const Error& error) {
  nlohmann::json out = partial.is_object() ? partial : nlohmann::json::object();
  out["error"] = error_json(error);
  out["exit_code"] = exit_code(error.kind());
  return out;
}

// CLI11 reports an unknown command as a missing one: name it and list the commands instead.
std::optional<Error> unknown_command(CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->parsed()) return std::nullopt;
  }
  for (const std::string& word : app.remaining()) {
    if (word.empty() || word.starts_with('-')) continue;
    std::string names;
    for (const CLI::App* sub : app.get_subcommands({})) {
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    Error error(ErrorKind::usage, fmt::format("unknown command \"{}\"", word));
    error.hint = "the commands are " + names + "; run `dbinit --help` for what each does";
    return error;
  }
  return std::nullopt;
}

std::unique_ptr<CLI::App> make_root(Common& common) {
  auto app = std::make_unique<CLI::App>(
      "dbinit brings a service's database to the state its code expects.", "dbinit");
  app->set_version_flag("--version", std::string("dbinit ") + k_version);
  app->require_subcommand(1);
  add_common(*app, common);
  return app;
}

void add_commands(Commands& commands) {
  add_up_commands(commands);
  add_status_commands(commands);
  add_new_command(commands);
  add_repair_command(commands);
  add_down_command(commands);
  add_baseline_command(commands);
  add_verify_command(commands);
  add_seed_command(commands);
  add_schema_command(commands);
  add_diagram_command(commands);
  add_snapshot_commands(commands);
}

// The subcommand `args` name: the first argument that is neither an option of `root` nor the
// value of one; empty when there is none. Nullopt when every subcommand is built: `--help` comes
// first, and CLI11 then prints the list of subcommands or the help of the one that follows.
std::optional<std::string> named_subcommand(const CLI::App& root,
                                            const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") return std::nullopt;
    if (arg.size() < 2 || arg[0] != '-') return arg;
    if (arg.starts_with("--") && arg.find('=') == std::string::npos) {
      const CLI::Option* option = root.get_option_no_throw(arg);
      if (option != nullptr && option->get_items_expected_min() > 0) ++i;  // its value
    }
  }
  return std::string();
}

}  // namespace

int main(int argc, char** argv) {
  configure_engine_libraries();
  Common common;
  // Everything after the first `--` is the command `run` starts; CLI11 never sees it.
  std::vector<std::string> args(argv + 1, argv + argc);
  bool has_separator = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      common.exec.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      args.resize(i);
      has_separator = true;
      break;
    }
  }
  common.args = args;
  // Copied above: the passwords can go from the process's arguments now.
  protect_arguments(argc, argv);
  // Known before parsing, so that a usage error is a JSON document too.
  const bool json_requested = std::find(args.begin(), args.end(), "--json") != args.end();

  // Only the subcommand given is built: building every subcommand's options would be most of the
  // cost of a start. A name that is no subcommand's gets the whole tree, so that CLI11 reports
  // it as it always does.
  std::unique_ptr<CLI::App> root = make_root(common);
  auto commands = std::make_unique<Commands>(*root, common);
  const std::optional<std::string> only = named_subcommand(*root, args);
  if (only) commands->build_only(*only);
  add_commands(*commands);
  if (only && !only->empty() && commands->size() == 0) {
    commands.reset();
    root = make_root(common);
    commands = std::make_unique<Commands>(*root, common);
    add_commands(*commands);
  }
  CLI::App& app = *root;

  Verbosity verbosity = Verbosity::normal;
  auto fail = [&](const Error& error) {
    print_error(error, verbosity);
    if (json_requested || common.json) print_json(failure_json(common.result, error));
    return exit_code(error.kind());
  };
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    try {
      app.parse(reversed);
    } catch (const CLI::ParseError& e) {
      if (dynamic_cast<const CLI::Success*>(&e) == nullptr) {
        register_configured_secrets(common.flags, process_environment());
        if (std::optional<Error> unknown = unknown_command(app)) throw *unknown;
      }
      throw;
    }
    verbosity = common.verbosity();
    register_configured_secrets(common.flags, process_environment());
    if (has_separator && !commands->parsed("run")) {
      throw Error(ErrorKind::usage, "`--` and a command are only accepted by `dbinit run`");
    }
    return commands->run_parsed();
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    Error error(ErrorKind::usage, e.what());
    error.hint = "run `dbinit --help` for the commands and options";
    return fail(error);
  } catch (const Error& e) {
    return fail(e);
  } catch (const std::exception& e) {
    return fail(Error(ErrorKind::failure, e.what()));
  }
}

}  // namespace dbinit::cli
