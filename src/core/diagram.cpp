#include "core/diagram.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/scratch.h"
#include "util/error.h"

namespace dbinit {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

// --- What the renderers share ------------------------------------------------------------------

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool same_set(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.empty() || a.size() != b.size()) return false;
  return std::set<std::string>(a.begin(), a.end()) == std::set<std::string>(b.begin(), b.end());
}

const Column* find_column(const Table& table, const std::string& name) {
  for (const Column& column : table.columns) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

// True when `column` of `table` may hold NULL. A primary-key column never does, whatever the
// engine reports (SQLite's catalog says "nullable" for `id INTEGER PRIMARY KEY`).
bool may_be_null(const Table& table, const Column& column) {
  return column.nullable &&
         !(table.primary_key && contains(table.primary_key->columns, column.name));
}

struct Markers {
  bool pk = false;
  bool fk = false;
  bool uk = false;
};

Markers markers(const Table& table, const std::string& column) {
  Markers out;
  out.pk = table.primary_key && contains(table.primary_key->columns, column);
  for (const ForeignKey& key : table.foreign_keys) out.fk = out.fk || contains(key.columns, column);
  for (const KeyConstraint& key : table.unique_keys)
    out.uk = out.uk || contains(key.columns, column);
  for (const Index& index : table.indexes) {
    if (index.unique && !index.predicate) out.uk = out.uk || contains(index.keys, column);
  }
  return out;
}

// How many rows on each side of a foreign key, as the header comment of diagram.h says.
struct Cardinality {
  bool parent_optional = false;  // zero or one parent (a nullable column)
  bool child_unique = false;     // zero or one child (the columns are unique)
};

Cardinality cardinality(const Table& child, const ForeignKey& key) {
  Cardinality out;
  for (const std::string& name : key.columns) {
    const Column* column = find_column(child, name);
    if (column != nullptr && may_be_null(child, *column)) out.parent_optional = true;
  }
  if (child.primary_key && same_set(key.columns, child.primary_key->columns)) {
    out.child_unique = true;
  }
  for (const KeyConstraint& unique : child.unique_keys) {
    if (same_set(key.columns, unique.columns)) out.child_unique = true;
  }
  for (const Index& index : child.indexes) {
    if (index.unique && !index.predicate && same_set(key.columns, index.keys)) {
      out.child_unique = true;
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// The tables and views sorted by name, whatever order the model holds them in.
std::vector<const Table*> sorted_tables(const SchemaModel& model) {
  std::vector<const Table*> out;
  for (const Table& table : model.tables) out.push_back(&table);
  std::stable_sort(out.begin(), out.end(),
                   [](const Table* a, const Table* b) { return a->name < b->name; });
  return out;
}

std::vector<const View*> sorted_views(const SchemaModel& model) {
  std::vector<const View*> out;
  for (const View& view : model.views) out.push_back(&view);
  std::stable_sort(out.begin(), out.end(),
                   [](const View* a, const View* b) { return a->name < b->name; });
  return out;
}

std::string view_kind(const View& view) {
  return view.materialized ? "materialized view" : "view";
}

// --- Mermaid -----------------------------------------------------------------------------------

// Words that Mermaid's erDiagram grammar reads as keywords (in any case) where an entity name is
// expected, and where an attribute's name or type is.
bool mermaid_entity_keyword(std::string_view word) {
  static const std::set<std::string, std::less<>> keywords = {
      "erdiagram", "acctitle", "accdescr", "style", "classdef", "class",
      "subgraph",  "one",      "many",     "to",    "end"};
  return keywords.contains(lower(word));
}

bool mermaid_attribute_keyword(std::string_view word) {
  const std::string name = lower(word);
  return name == "pk" || name == "fk" || name == "uk";
}

// `text` with every character outside [A-Za-z0-9_] replaced by `_` (runs of them by one), never
// empty, never starting with a digit, and never a keyword (`entity`: of an entity name, else of an
// attribute name): a name Mermaid reads as such.
std::string mermaid_name(std::string_view text, bool entity) {
  std::string out;
  for (const char c : text) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (plain) {
      out += c;
    } else if (out.empty() || out.back() != '_') {
      out += '_';
    }
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out.insert(0, "_");
  if (entity ? mermaid_entity_keyword(out) : mermaid_attribute_keyword(out)) out += '_';
  return out;
}

// A type as an attribute type of Mermaid's grammar: letters, digits, `_`, `-`, `(`, `)`, `[`, `]`,
// starting with a letter or `_`. Quotes are dropped, anything else becomes `_`:
// `character varying(120)` → `character_varying(120)`, `NUMERIC(12, 2)` → `NUMERIC(12_2)`,
// `enum('a','b')` → `enum(a_b)`.
std::string mermaid_type(std::string_view type) {
  std::string out;
  for (const char c : type) {
    const bool kept = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '(' || c == ')' || c == '[' || c == ']';
    if (kept) {
      out += c;
    } else if (c == '\'' || c == '"' || c == '`') {
      continue;
    } else if (!out.empty() && out.back() != '_' && out.back() != '(') {
      out += '_';
    }
  }
  // No `_` just before a closing parenthesis or at the end: `enum('a', 'b ')` → `enum(a_b)`.
  std::string tidy;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '_' && (i + 1 == out.size() || out[i + 1] == ')' || out[i + 1] == ']')) continue;
    tidy += out[i];
  }
  if (tidy.empty()) return "untyped";
  if (mermaid_attribute_keyword(tidy)) tidy += '_';
  if (!((tidy[0] >= 'A' && tidy[0] <= 'Z') || (tidy[0] >= 'a' && tidy[0] <= 'z'))) {
    tidy.insert(0, "_");
  }
  return tidy;
}

// Text inside a Mermaid double-quoted string: no `"` (Mermaid has no escape for it), no line
// breaks.
std::string mermaid_string(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '"') {
      out += '\'';
    } else if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
    } else if (static_cast<unsigned char>(c) >= 0x20) {
      out += c;
    }
  }
  return out;
}

// Unique entity names for every table and view. Names that Mermaid takes as they are keep them;
// the others are rewritten (mermaid_name()) and numbered when they meet a name already taken:
// tables `a_b` and `a-b` become `a_b` and `a_b_2`.
class MermaidNames {
 public:
  explicit MermaidNames(const std::vector<ObjectName>& names) {
    for (const ObjectName& name : names) {
      const std::string id = mermaid_name(name.display(), true);
      if (id == name.display() && !m_used.contains(lower(id))) {
        m_used.insert(lower(id));
        m_names[name] = id;
      }
    }
    for (const ObjectName& name : names) {
      if (m_names.contains(name)) continue;
      const std::string base = mermaid_name(name.display(), true);
      std::string id = base;
      for (int n = 2; m_used.contains(lower(id)); ++n) id = fmt::format("{}_{}", base, n);
      m_used.insert(lower(id));
      m_names[name] = id;
    }
  }
  const std::string* find(const ObjectName& name) const {
    const auto it = m_names.find(name);
    return it == m_names.end() ? nullptr : &it->second;
  }

 private:
  std::set<std::string> m_used;
  std::map<ObjectName, std::string> m_names;
};

void mermaid_entity(std::string& out, const std::string& id, const std::string& label,
                    const std::vector<Column>& columns, const Table* table) {
  out += "  " + id;
  if (!label.empty()) out += "[\"" + mermaid_string(label) + "\"]";
  if (columns.empty()) {
    out += "\n";
    return;
  }
  out += " {\n";
  std::set<std::string> used;
  for (const Column& column : columns) {
    std::string name = mermaid_name(column.name, false);
    for (int n = 2; used.contains(lower(name)); ++n) {
      name = fmt::format("{}_{}", mermaid_name(column.name, false), n);
    }
    used.insert(lower(name));
    out += fmt::format("    {} {}", mermaid_type(column.type), name);
    if (table != nullptr) {
      const Markers marked = markers(*table, column.name);
      std::vector<std::string> keys;
      if (marked.pk) keys.emplace_back("PK");
      if (marked.fk) keys.emplace_back("FK");
      if (marked.uk) keys.emplace_back("UK");
      if (!keys.empty()) out += " " + join(keys, ", ");
    }
    std::vector<std::string> notes;
    if (name != column.name) notes.push_back(column.name);
    if (table != nullptr && may_be_null(*table, column)) notes.emplace_back("nullable");
    if (!notes.empty()) out += " \"" + mermaid_string(join(notes, ", ")) + "\"";
    out += "\n";
  }
  out += "  }\n";
}

// --- DOT ---------------------------------------------------------------------------------------

// Text inside an HTML-like label.
std::string html(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\n':
      case '\r':
      case '\t':
        out += ' ';
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20) out += c;
    }
  }
  return out;
}

// Text inside a DOT double-quoted string: `"` and `\` escaped, so that no escape sequence of
// Graphviz's (`\N`, `\l`) is read into it.
std::string dot_string(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

constexpr std::string_view k_room = "&#160;&#160;";

constexpr std::string_view k_dot_header =
    "digraph schema {\n"
    "  graph [rankdir=LR, nodesep=0.3, ranksep=1.0, pad=0.3, outputorder=edgesfirst,\n"
    "         fontname=\"Helvetica\", fontsize=10];\n"
    "  node [shape=plain, fontname=\"Helvetica\", fontsize=10];\n"
    "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#5a6b7d\", arrowsize=0.8, dir=both,\n"
    "        penwidth=1.1];\n";

void dot_node(std::string& out, const std::string& id, const std::string& title,
              const std::vector<Column>& columns, const Table* table) {
  const bool view = table == nullptr;
  out += fmt::format(
      "  {} [label=<<table border=\"1\" cellborder=\"0\" cellspacing=\"0\" cellpadding=\"3\" "
      "color=\"{}\"{}>\n",
      id, view ? "#8c8c8c" : "#4a6e94", view ? " style=\"dashed\"" : "");
  out += fmt::format("    <tr><td colspan=\"3\" bgcolor=\"{}\" cellpadding=\"5\">{}</td></tr>\n",
                     view ? "#e6e6e6" : "#d4e2f2", title);
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const Column& column = columns[i];
    std::string keys;
    if (table != nullptr) {
      const Markers marked = markers(*table, column.name);
      std::vector<std::string> list;
      if (marked.pk) list.emplace_back("PK");
      if (marked.fk) list.emplace_back("FK");
      if (marked.uk) list.emplace_back("UK");
      keys = join(list, " ");
    }
    std::string name = html(column.name);
    if (table != nullptr && table->primary_key &&
        contains(table->primary_key->columns, column.name))
      name = "<u>" + name + "</u>";
    std::string type = column.type.empty() ? "" : html(column.type);
    if (table != nullptr && may_be_null(*table, column)) {
      type += std::string(type.empty() ? "" : " ") + "<i>nullable</i>";
    }
    // Graphviz refuses an empty <font> element: the cells stay empty instead.
    if (!type.empty()) type = "<font color=\"#555555\">" + type + "</font>";
    if (!keys.empty()) keys = "<font color=\"#9a5b00\">" + keys + "</font>";
    // Graphviz sizes cells with Helvetica's metrics; a viewer without Helvetica or Arial draws
    // wider text (DejaVu Sans), so names and types get two spaces of room.
    out += fmt::format(
        "    <tr><td port=\"i{0}\" align=\"left\">{1}{4}</td><td align=\"left\">{2}{4}</td>"
        "<td port=\"o{0}\" align=\"right\">{3}</td></tr>\n",
        i, name, type, keys, k_room);
  }
  if (columns.empty()) out += "    <tr><td colspan=\"3\"> </td></tr>\n";
  out += "  </table>>];\n";
}

std::string column_port(const std::vector<Column>& columns, const std::string& name,
                        std::string_view side) {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return fmt::format(":{}{}:{}", side, i, side == "i" ? "w" : "e");
  }
  return "";
}

// --- Reading -----------------------------------------------------------------------------------

SchemaModel read_model(Engine& engine) {
  return schema_support(engine).read(engine);
}

}  // namespace

std::string_view to_string(DiagramFormat format) {
  switch (format) {
    case DiagramFormat::mermaid:
      return "mermaid";
    case DiagramFormat::dot:
      return "dot";
    case DiagramFormat::svg:
      return "svg";
  }
  return "mermaid";
}

std::optional<DiagramFormat> parse_diagram_format(std::string_view text) {
  const std::string name = lower(text);
  if (name == "mermaid") return DiagramFormat::mermaid;
  if (name == "dot") return DiagramFormat::dot;
  if (name == "svg") return DiagramFormat::svg;
  return std::nullopt;
}

std::optional<DiagramFormat> diagram_format_for(const std::filesystem::path& path) {
  const std::string suffix = lower(path.extension().string());
  if (suffix == ".mmd" || suffix == ".md" || suffix == ".mermaid") return DiagramFormat::mermaid;
  if (suffix == ".dot" || suffix == ".gv") return DiagramFormat::dot;
  if (suffix == ".svg") return DiagramFormat::svg;
  return std::nullopt;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matching with one backtrack point for the last `*`, as fnmatch(3) without flags.
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_text = 0;
  // Matches the bracket expression at pattern[p] against `c`; sets `end` past it. False with
  // end = npos when the bracket is not closed (then `[` is an ordinary character).
  const auto bracket = [&](std::size_t at, char c, std::size_t& end) {
    std::size_t i = at + 1;
    bool negate = false;
    if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
      negate = true;
      ++i;
    }
    bool matched = false;
    bool first = true;
    while (i < pattern.size() && (first || pattern[i] != ']')) {
      first = false;
      char low = pattern[i];
      if (low == '\\' && i + 1 < pattern.size()) low = pattern[++i];
      char high = low;
      if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
        high = pattern[i + 2];
        if (high == '\\' && i + 3 < pattern.size()) ++i, high = pattern[i + 2];
        i += 2;
      }
      if (c >= low && c <= high) matched = true;
      ++i;
    }
    if (i >= pattern.size()) {
      end = std::string_view::npos;
      return false;
    }
    end = i + 1;
    return matched != negate;
  };
  while (t < text.size()) {
    bool advanced = false;
    if (p < pattern.size()) {
      const char c = pattern[p];
      if (c == '*') {
        star = ++p;
        star_text = t;
        continue;
      }
      if (c == '?') {
        ++p, ++t;
        continue;
      }
      if (c == '[') {
        std::size_t end = 0;
        const bool matched = bracket(p, text[t], end);
        if (end != std::string_view::npos) {
          if (matched) {
            p = end, ++t;
            advanced = true;
          }
        } else if (text[t] == '[') {
          ++p, ++t;
          advanced = true;
        }
      } else {
        std::size_t next = p;
        char literal = c;
        if (c == '\\' && p + 1 < pattern.size()) literal = pattern[++next];
        if (literal == text[t]) {
          p = next + 1, ++t;
          advanced = true;
        }
      }
    }
    if (advanced) continue;
    if (star == std::string_view::npos) return false;
    p = star;
    t = ++star_text;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool DiagramFilter::selects(const ObjectName& name) const {
  const std::string display = name.display();
  const auto matches = [&](const std::string& pattern) {
    return glob_match(pattern, name.name) || glob_match(pattern, display);
  };
  if (!include.empty() && std::none_of(include.begin(), include.end(), matches)) return false;
  return std::none_of(exclude.begin(), exclude.end(), matches);
}

SchemaModel filter_model(const SchemaModel& model, const DiagramFilter& filter) {
  SchemaModel out;
  out.engine = model.engine;
  out.namespaces = model.namespaces;
  for (const Table& table : model.tables) {
    if (filter.selects(table.name)) out.tables.push_back(table);
  }
  for (const View& view : model.views) {
    if (filter.selects(view.name)) out.views.push_back(view);
  }
  return out;
}

namespace {

// A model whose tables and views all live in one schema (PostgreSQL's `public`, typically) is
// drawn with bare names: the schema would only repeat itself on every table.
SchemaModel without_common_schema(const SchemaModel& model) {
  std::set<std::string> schemas;
  for (const Table& table : model.tables) schemas.insert(table.name.schema);
  for (const View& view : model.views) schemas.insert(view.name.schema);
  SchemaModel out = model;
  if (schemas.size() != 1 || schemas.begin()->empty()) return out;
  const std::string common = *schemas.begin();
  auto strip = [&](ObjectName& name) {
    if (name.schema == common) name.schema.clear();
  };
  for (Table& table : out.tables) {
    strip(table.name);
    for (ForeignKey& key : table.foreign_keys) strip(key.referenced_table);
  }
  for (View& view : out.views) {
    strip(view.name);
    for (ObjectName& read : view.depends_on) strip(read);
  }
  return out;
}

}  // namespace

std::string render_mermaid(const SchemaModel& input) {
  const SchemaModel model = without_common_schema(input);
  const std::vector<const Table*> tables = sorted_tables(model);
  const std::vector<const View*> views = sorted_views(model);
  std::vector<ObjectName> objects;
  for (const Table* table : tables) objects.push_back(table->name);
  for (const View* view : views) objects.push_back(view->name);
  const MermaidNames names(objects);

  std::string out = "erDiagram\n";
  for (const Table* table : tables) {
    const std::string& id = *names.find(table->name);
    const std::string display = table->name.display();
    mermaid_entity(out, id, id == display ? "" : display, table->columns, table);
  }
  for (const View* view : views) {
    mermaid_entity(out, *names.find(view->name),
                   fmt::format("{} ({})", view->name.display(), view_kind(*view)), view->columns,
                   nullptr);
  }
  for (const Table* table : tables) {
    for (const ForeignKey& key : table->foreign_keys) {
      const std::string* parent = names.find(key.referenced_table);
      if (parent == nullptr || model.find_table(key.referenced_table) == nullptr) continue;
      const Cardinality counted = cardinality(*table, key);
      out += fmt::format("  {} {}--{} {} : \"{}\"\n", *parent,
                         counted.parent_optional ? "|o" : "||", counted.child_unique ? "o|" : "o{",
                         *names.find(table->name), mermaid_string(join(key.columns, ", ")));
    }
  }
  return out;
}

std::string render_dot(const SchemaModel& input) {
  const SchemaModel model = without_common_schema(input);
  const std::vector<const Table*> tables = sorted_tables(model);
  const std::vector<const View*> views = sorted_views(model);
  std::map<ObjectName, std::string> ids;
  for (const Table* table : tables) ids[table->name] = fmt::format("t{}", ids.size() + 1);
  std::map<ObjectName, std::string> view_ids;
  for (const View* view : views) view_ids[view->name] = fmt::format("v{}", view_ids.size() + 1);

  std::string out(k_dot_header);
  for (const Table* table : tables) {
    dot_node(out, ids[table->name], "<b>" + html(table->name.display()) + "</b>", table->columns,
             table);
  }
  for (const View* view : views) {
    dot_node(out, view_ids[view->name],
             fmt::format("<i>{}</i>&#160;<b>{}</b>", view_kind(*view), html(view->name.display())),
             view->columns, nullptr);
  }
  for (const Table* table : tables) {
    for (const ForeignKey& key : table->foreign_keys) {
      const Table* parent = model.find_table(key.referenced_table);
      const auto parent_id = ids.find(key.referenced_table);
      if (parent == nullptr || parent_id == ids.end() || key.columns.empty()) continue;
      const Cardinality counted = cardinality(*table, key);
      const std::string tail_port = column_port(table->columns, key.columns.front(), "o");
      std::string head_port =
          key.referenced_columns.empty()
              ? ""
              : column_port(parent->columns, key.referenced_columns.front(), "i");
      // A table that references itself: both ends on the right, a loop beside the table.
      if (parent == table && !head_port.empty()) {
        head_port = column_port(parent->columns, key.referenced_columns.front(), "o");
      }
      std::string attributes =
          fmt::format("arrowtail={}, arrowhead={}", counted.child_unique ? "teeodot" : "crowodot",
                      counted.parent_optional ? "teeodot" : "teetee");
      if (key.columns.size() > 1) {
        attributes += fmt::format(", label=\"({})\"", dot_string(join(key.columns, ", ")));
      }
      attributes += fmt::format(
          ", tooltip=\"{}\"",
          dot_string(fmt::format("{}({}) references {}({})", table->name.display(),
                                 join(key.columns, ", "), key.referenced_table.display(),
                                 join(key.referenced_columns, ", "))));
      out += fmt::format("  {}{} -> {}{} [{}];\n", ids[table->name], tail_port, parent_id->second,
                         head_port, attributes);
    }
  }
  out += "}\n";
  return out;
}

SchemaModel read_database_model(const Project& project, const ConnectOptions& options,
                                Reporter& reporter) {
  auto [engine, opened] = connect(project, false, options, reporter);
  if (opened == OpenResult::missing) {
    Error error(ErrorKind::config,
                fmt::format("database {} does not exist", project.url.redacted()));
    error.hint =
        "run `dbinit up` to create it, or draw what the migrations build with "
        "`dbinit diagram --from-migrations`";
    throw error;
  }
  return read_model(*engine);
}

SchemaModel read_migrations_model(const Project& project, Reporter& reporter) {
  const EngineInfo* info = find_engine(project.url.engine);
  std::optional<DatabaseUrl> server;
  if (info == nullptr || !info->file_databases) server = project.url;
  const std::string engine_name = server ? server->engine : std::string(embedded_engine().name);
  const MigrationSet files =
      load_migrations(project.migrations_dir, engine_name, project.migrations_dir.string());
  ScratchDatabase scratch(server);
  reporter.detail(fmt::format("building {} migration{} in scratch database {}",
                              files.migrations.size(), files.migrations.size() == 1 ? "" : "s",
                              scratch.url().redacted()));
  for (const Migration& migration : files.migrations) {
    run_on_scratch(scratch.engine(), Script{migration.up_sql, migration.display, migration.up_line},
                   migration.directives);
  }
  SchemaModel model = read_model(scratch.engine());
  try {
    scratch.drop();
  } catch (const Error& error) {
    reporter.warn(fmt::format("could not drop scratch database {}: {}", scratch.url().redacted(),
                              error.message()));
  }
  return model;
}

}  // namespace dbinit
