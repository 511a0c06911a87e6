#include "cli/app.h"

#include <algorithm>
#include <cstdio>
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

  CLI::App app{"dbinit brings a service's database to the state its code expects.", "dbinit"};
  app.set_version_flag("--version", std::string("dbinit ") + k_version);
  app.require_subcommand(1);
  add_common(app, common);
  Commands commands(app, common);
  add_up_commands(commands);
  add_status_commands(commands);
  add_new_command(commands);
  add_repair_command(commands);
  add_down_command(commands);
  add_baseline_command(commands);
  add_verify_command(commands);
  add_seed_command(commands);

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
    if (has_separator && !commands.parsed("run")) {
      throw Error(ErrorKind::usage, "`--` and a command are only accepted by `dbinit run`");
    }
    return commands.run_parsed();
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
