#pragma once

// `dbinit diagram`: entity-relationship diagrams of a schema model (engines/schema_model.h), as
// Mermaid `erDiagram` text or Graphviz DOT. The renderers are pure functions of the model: the
// same model gives the same bytes. Reading the model (from the project's database, or from a
// scratch database built by the migrations) is here too, below the renderers.
//
// Cardinality, from the referencing (child) table's foreign-key columns:
// - the referenced (parent) side is "exactly one", or "zero or one" when any of the columns is
//   nullable;
// - the child side is "zero or more", or "zero or one" when the columns are exactly a unique key
//   or the whole primary key of the child (a one-to-one relationship).

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/connect.h"
#include "core/project.h"
#include "core/reporter.h"
#include "engines/schema_model.h"

namespace dbinit {

enum class DiagramFormat { mermaid, dot, svg };

std::string_view to_string(DiagramFormat format);  // `mermaid`, `dot`, `svg`
/// `mermaid`, `dot` or `svg` (any case); nullopt for anything else.
std::optional<DiagramFormat> parse_diagram_format(std::string_view text);
/// The format a file name asks for by its suffix: `.mmd` and `.md` Mermaid, `.dot` and `.gv` DOT,
/// `.svg` SVG (any case); nullopt for another suffix.
std::optional<DiagramFormat> diagram_format_for(const std::filesystem::path& path);

/// Which tables and views a diagram shows: those that match one of `include` (every one when
/// `include` is empty) and none of `exclude`. Patterns are shell-style globs (`*`, `?`, `[a-z]`,
/// `[!a-z]`, `\` quoting the next character), matched against the whole name and against
/// `schema.name`, case-sensitively.
struct DiagramFilter {
  std::vector<std::string> include;
  std::vector<std::string> exclude;

  bool selects(const ObjectName& name) const;
};

/// True when the shell-style glob `pattern` matches the whole of `text`.
bool glob_match(std::string_view pattern, std::string_view text);

/// `model` with only the tables and views that `filter` selects. Foreign keys to a table left out
/// stay on their table (the columns keep their FK marker) but draw no edge.
SchemaModel filter_model(const SchemaModel& model, const DiagramFilter& filter);

/// `model` as a Mermaid `erDiagram`. Names and types are rewritten into what Mermaid's grammar
/// accepts (letters, digits, `_`, `-`, parentheses and brackets); an entity whose name had to be
/// changed, and every view, shows its real name as the entity's label (`name["label"]`), views
/// with ` (view)` after it. Columns carry PK, FK and UK markers, and "nullable" in their comment
/// when they are (with the real name first when it had to be changed). Ends with a newline.
/// When every table and view is in the same schema (PostgreSQL's `public`), names are drawn
/// without it, here and in render_dot().
std::string render_mermaid(const SchemaModel& model);

/// `model` as a Graphviz DOT digraph laid out left to right: one HTML-like table per table or
/// view (views with a grey, "view"-marked header and a dashed border; primary-key columns
/// underlined, nullable ones marked "nullable"), ports on each column's two ends, and
/// one edge per foreign key from the child's columns to the parent's, with crow's-foot ends
/// (`dir=both`, the child's end at the tail). Composite keys are one edge labelled with their
/// columns. Ends with a newline.
std::string render_dot(const SchemaModel& model);

/// The schema of the project's database, as `schema_support(engine).read()` reads it. Throws
/// Error{config} when the database does not exist.
SchemaModel read_database_model(const Project& project, const ConnectOptions& options,
                                Reporter& reporter);

/// The schema that the project's migrations build, read from a scratch database (core/scratch.h)
/// that is dropped afterwards: a temporary file for a file engine, else a scratch database on the
/// server of the project's URL.
SchemaModel read_migrations_model(const Project& project, Reporter& reporter);

}  // namespace dbinit
