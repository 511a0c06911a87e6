#include "cli/app.h"

#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/command.h"
#include "dbinit/version.h"
#include "engines/engine.h"
#include "util/error.h"

namespace dbinit::cli {

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
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
    verbosity = common.verbosity();
    if (has_separator && !commands.parsed("run")) {
      throw Error(ErrorKind::usage, "`--` and a command are only accepted by `dbinit run`");
    }
    return commands.run_parsed();
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "dbinit: error: {}\n", e.what());
    fmt::print(stderr, "dbinit: run `dbinit --help` for the commands and options\n");
    return exit_code(ErrorKind::usage);
  } catch (const Error& e) {
    print_error(e, verbosity);
    return exit_code(e.kind());
  } catch (const std::exception& e) {
    fmt::print(stderr, "dbinit: error: {}\n", e.what());
    return 1;
  }
}

}  // namespace dbinit::cli
