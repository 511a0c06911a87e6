// `dbinit schema`: writes the schema file, or checks it against what the migrations build.

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/services.h"
#include "core/schema_file.h"
#include "util/error.h"
#include "util/files.h"

namespace dbinit::cli {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

struct SchemaFlags {
  std::string output;
  bool check = false;
  bool from_migrations = false;
};

std::string contents_text(const SchemaResult& result) {
  return fmt::format("{}, {}, {}", plural(result.tables, "table"), plural(result.views, "view"),
                     plural(result.migrations, "migration"));
}

int command_schema(Common& common, const SchemaFlags& flags) {
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  HumanReporter reporter(common.verbosity());
  const bool to_stdout = flags.output == "-";
  const fs::path file =
      flags.output.empty() ? settings.project.schema_file : fs::path(flags.output);
  common.result = {{"engine", settings.project.url.engine},
                   {"url", settings.project.url.redacted()},
                   {"file", to_stdout ? json(nullptr) : json(file.string())}};

  if (flags.check) {
    require_migrations_dir(settings);
    if (to_stdout) {
      Error error(ErrorKind::usage, "--check compares a file: give --output FILE, not -");
      error.state = "nothing was read or written";
      error.hint = "leave out --output to check the schema file (--schema-file, db/schema.sql)";
      throw error;
    }
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
      Error error(ErrorKind::not_current, "there is no schema file to check");
      error.where = file.string();
      error.hint = "write it with `dbinit schema` from a database at the latest migration";
      throw error;
    }
    const std::string current = read_file(file);
    const SchemaResult expected = build_schema_file_from_migrations(settings.project, reporter);
    const std::optional<std::string> difference = first_difference(current, expected.text);
    common.result["up_to_date"] = !difference.has_value();
    common.result["migrations"] = expected.migrations;
    if (difference) {
      Error error(ErrorKind::not_current, "the schema file differs from what the migrations build");
      error.where = fmt::format("{} {}", file.string(), *difference);
      error.hint =
          "write it again with `dbinit schema --from-migrations`, or with `dbinit "
          "schema` from a database at the latest migration";
      throw error;
    }
    if (common.json) print_json(common.result);
    const std::string summary =
        fmt::format("{} matches what the {} build ({})", file.string(),
                    plural(expected.migrations, "migration"), contents_text(expected));
    reporter.note(summary);
    report_summary(summary);
    return 0;
  }

  if (flags.from_migrations) require_migrations_dir(settings);
  const SchemaResult result =
      flags.from_migrations
          ? build_schema_file_from_migrations(settings.project, reporter)
          : read_schema_file_of_database(settings.project, settings.wait, reporter);
  common.result["migrations"] = result.migrations;
  common.result["tables"] = result.tables;
  common.result["views"] = result.views;
  if (to_stdout) {
    print_out(result.text);
    report_summary(contents_text(result));
    return 0;
  }
  std::error_code ec;
  const bool unchanged = fs::is_regular_file(file, ec) && read_file(file) == result.text;
  if (!unchanged) {
    if (file.has_parent_path()) fs::create_directories(file.parent_path(), ec);
    write_file_atomic(file, result.text);
  }
  common.result["changed"] = !unchanged;
  if (common.json) print_json(common.result);
  const std::string summary = fmt::format("{} {}: {}", unchanged ? "unchanged" : "wrote",
                                          file.string(), contents_text(result));
  reporter.note(summary);
  report_summary(summary);
  return 0;
}

}  // namespace

void add_schema_command(Commands& commands) {
  if (!commands.wants("schema")) return;
  auto flags = std::make_shared<SchemaFlags>();
  CLI::App* app = commands.add(
      "schema", "write the database's schema and ledger to the schema file (db/schema.sql)",
      [&commands, flags] { return command_schema(commands.common(), *flags); });
  app->add_option("--output,-o", flags->output,
                  "the file to write or check (default: the schema file, --schema-file); - for "
                  "stdout");
  app->add_flag("--check", flags->check,
                "exit 7 when the file differs from what the migrations build (for CI)");
  app->add_option("--wait", commands.common().flags.wait, "wait this long for the server");
  app->add_flag("--from-migrations", flags->from_migrations,
                "write what the migrations build in a scratch database, not the database's schema");
}

}  // namespace dbinit::cli
