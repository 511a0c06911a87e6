// `dbinit diagram`.

#include <fmt/format.h>

#include "cli/command.h"
#include "core/diagram.h"
#include "util/error.h"
#include "util/files.h"
#include "util/graphviz.h"

namespace dbinit::cli {

using nlohmann::json;
using std::chrono::milliseconds;

namespace {

struct DiagramFlags {
  std::string format;
  std::string output;
  std::vector<std::string> tables;
  std::vector<std::string> exclude;
  bool from_migrations = false;
};

// --format, else the suffix of --output, else Mermaid.
DiagramFormat choose_format(const DiagramFlags& flags) {
  if (!flags.format.empty()) {
    if (const auto format = parse_diagram_format(flags.format)) return *format;
    Error error(ErrorKind::usage, fmt::format("unknown diagram format '{}'", flags.format));
    error.hint = "use --format mermaid, dot or svg";
    throw error;
  }
  if (!flags.output.empty()) {
    if (const auto format = diagram_format_for(flags.output)) return *format;
  }
  return DiagramFormat::mermaid;
}

std::size_t count_edges(const SchemaModel& model) {
  std::size_t edges = 0;
  for (const Table& table : model.tables) {
    for (const ForeignKey& key : table.foreign_keys) {
      if (model.find_table(key.referenced_table) != nullptr) ++edges;
    }
  }
  return edges;
}

int command_diagram(Common& common, const DiagramFlags& flags) {
  const DiagramFormat format = choose_format(flags);
  const Settings settings = resolve_settings(common.flags, process_environment(), milliseconds(0));
  HumanReporter reporter(common.verbosity());
  SchemaModel model;
  if (flags.from_migrations) {
    require_migrations_dir(settings);
    try {
      model = read_migrations_model(settings.project, reporter);
    } catch (Error& error) {
      if (error.state.empty()) {
        error.state = "nothing was changed (the migrations ran in a scratch database)";
      }
      throw;
    }
  } else {
    model = read_database_model(settings.project, ConnectOptions{settings.wait}, reporter);
  }
  const SchemaModel shown = filter_model(model, DiagramFilter{flags.tables, flags.exclude});
  if (shown.tables.empty() && shown.views.empty()) {
    reporter.warn(model.tables.empty() && model.views.empty()
                      ? "the schema has no tables or views: the diagram is empty"
                      : "no table or view matches --tables / --exclude: the diagram is empty");
  }

  std::string text;
  switch (format) {
    case DiagramFormat::mermaid:
      text = render_mermaid(shown);
      // A Markdown file gets the fenced block that GitHub and GitLab draw.
      if (std::filesystem::path(flags.output).extension() == ".md") {
        text = "```mermaid\n" + text + "```\n";
      }
      break;
    case DiagramFormat::dot:
      text = render_dot(shown);
      break;
    case DiagramFormat::svg:
      text = render_svg(render_dot(shown));
      break;
  }

  const std::size_t edges = count_edges(shown);
  common.result = {{"format", to_string(format)},
                   {"source", flags.from_migrations ? "migrations" : "database"},
                   {"engine", model.engine},
                   {"output", flags.output.empty() ? json(nullptr) : json(flags.output)},
                   {"tables", shown.tables.size()},
                   {"views", shown.views.size()},
                   {"relationships", edges}};
  if (!flags.output.empty()) {
    write_file_atomic(flags.output, text);
    reporter.note(fmt::format("wrote {} ({}, {}, {}, {})", flags.output, to_string(format),
                              plural(static_cast<long>(shown.tables.size()), "table"),
                              plural(static_cast<long>(shown.views.size()), "view"),
                              plural(static_cast<long>(edges), "relationship")));
  } else if (common.json) {
    common.result["diagram"] = text;
  } else {
    print_out(text);
  }
  if (common.json) print_json(common.result);
  return 0;
}

}  // namespace

void add_diagram_command(Commands& commands) {
  if (!commands.wants("diagram")) return;
  Common& common = commands.common();
  auto flags = std::make_shared<DiagramFlags>();
  CLI::App* diagram = commands.add("diagram", "draw an entity-relationship diagram of the schema",
                                   [&common, flags] { return command_diagram(common, *flags); });
  diagram->add_option("--format", flags->format,
                      "mermaid, dot or svg (default: from --output's suffix, else mermaid)");
  diagram->add_option("--output", flags->output,
                      "write the diagram to FILE (atomically) instead of stdout");
  diagram
      ->add_option("--tables", flags->tables,
                   "draw only the tables and views matching these globs (repeatable, "
                   "comma-separated; matched against name and schema.name)")
      ->delimiter(',');
  diagram
      ->add_option("--exclude", flags->exclude,
                   "leave out the tables and views matching these globs (repeatable, "
                   "comma-separated)")
      ->delimiter(',');
  diagram->add_flag("--from-migrations", flags->from_migrations,
                    "draw what the migrations build, in a scratch database, instead of the "
                    "database itself");
}

}  // namespace dbinit::cli
