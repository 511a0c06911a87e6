#include "core/diagram.h"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/harness.h"
#include "util/error.h"
#include "util/graphviz.h"

namespace dbinit::test {
namespace {

Column column(std::string name, std::string type, bool nullable = false) {
  Column out;
  out.name = std::move(name);
  out.type = std::move(type);
  out.nullable = nullable;
  return out;
}

ForeignKey foreign_key(std::vector<std::string> columns, std::string table,
                       std::vector<std::string> referenced, std::string schema = "") {
  ForeignKey out;
  out.columns = std::move(columns);
  out.referenced_table = {std::move(schema), std::move(table)};
  out.referenced_columns = std::move(referenced);
  return out;
}

Table table(std::string name, std::vector<Column> columns, std::vector<std::string> primary_key,
            std::string schema = "") {
  Table out;
  out.name = {std::move(schema), std::move(name)};
  out.columns = std::move(columns);
  if (!primary_key.empty()) out.primary_key = KeyConstraint{"", std::move(primary_key)};
  return out;
}

// A shop: customers, their orders and order lines (a composite key), one profile per customer
// (one-to-one), an optional referrer, a view.
SchemaModel shop() {
  SchemaModel model;
  model.engine = "postgres";
  Table customers = table("customers",
                          {column("id", "integer"), column("email", "character varying(120)"),
                           column("referred_by", "integer", true)},
                          {"id"});
  customers.unique_keys.push_back({"customers_email_key", {"email"}});
  customers.foreign_keys.push_back(foreign_key({"referred_by"}, "customers", {"id"}));
  Table orders = table("orders",
                       {column("id", "bigint"), column("customer_id", "integer"),
                        column("total", "NUMERIC(12,2)"), column("note", "text", true)},
                       {"id"});
  orders.foreign_keys.push_back(foreign_key({"customer_id"}, "customers", {"id"}));
  Table lines = table(
      "order_lines",
      {column("order_id", "bigint"), column("line_no", "integer"), column("sku", "text", true)},
      {"order_id", "line_no"});
  lines.foreign_keys.push_back(foreign_key({"order_id"}, "orders", {"id"}));
  Table shipments = table("shipments",
                          {column("id", "integer"), column("order_id", "bigint", true),
                           column("line_no", "integer", true)},
                          {"id"});
  shipments.foreign_keys.push_back(
      foreign_key({"order_id", "line_no"}, "order_lines", {"order_id", "line_no"}));
  // SQLite reports `customer_id INTEGER PRIMARY KEY` as nullable: a key column is never drawn so.
  Table profiles =
      table("profiles", {column("customer_id", "integer", true), column("bio", "text", true)},
            {"customer_id"});
  profiles.foreign_keys.push_back(foreign_key({"customer_id"}, "customers", {"id"}));
  model.tables = {customers, lines, orders, profiles, shipments};
  View view;
  view.name = {"", "big_orders"};
  view.columns = {column("id", "bigint", true), column("total", "numeric", true)};
  view.depends_on = {{"", "orders"}};
  model.views.push_back(view);
  return model;
}

// Names and types that no diagram language takes as they are.
SchemaModel awkward() {
  SchemaModel model;
  model.engine = "mysql";
  Table spaced = table("order items",
                       {column("item id", "int"), column("kind", "enum('a','b','it''s')"),
                        column("price", "decimal(10, 2) unsigned"),
                        column("\"quoted\"", "character varying(120)", true),
                        column("1st", "", true), column("tags", "text[]", true),
                        column("mood", "public.mood", true), column("class", "varchar(3)", true),
                        column("PK", "int", true), column("x<y>&z", "double precision", true)},
                       {"item id"});
  Table dotted = table("audit.log", {column("id", "int"), column("item", "int", true)}, {"id"},
                       "weird\"schema");
  dotted.foreign_keys.push_back(foreign_key({"item"}, "order items", {"item id"}));
  dotted.comment = "a \"comment\"";
  Table keyword = table("to", {column("one", "int")}, {"one"});
  Table keyword2 = table("style", {column("direction", "int")}, {});
  Table clash1 = table("a-b", {column("x", "int")}, {});
  Table clash2 = table("a_b", {column("x", "int")}, {});
  Table empty = table("nothing", {}, {});
  Table unicode = table("café", {column("prix €", "numeric")}, {});
  model.tables = {clash1, clash2, unicode, empty, spaced, keyword2, keyword, dotted};
  std::sort(model.tables.begin(), model.tables.end(),
            [](const Table& a, const Table& b) { return a.name < b.name; });
  View view;
  view.name = {"", "v \"x\" {y}"};
  view.materialized = true;
  view.columns = {column("a b", "")};
  model.views.push_back(view);
  return model;
}

// `count` tables in chains and stars, each with a few columns and one or two foreign keys.
SchemaModel large(int count) {
  SchemaModel model;
  model.engine = "sqlite";
  for (int i = 0; i < count; ++i) {
    Table t = table(fmt::format("table_{:03}", i),
                    {column("id", "INTEGER"), column("name", "TEXT", true),
                     column("parent_id", "INTEGER", true), column("hub_id", "INTEGER")},
                    {"id"});
    if (i > 0 && i % 7 != 0) {
      t.foreign_keys.push_back(
          foreign_key({"parent_id"}, fmt::format("table_{:03}", i - 1), {"id"}));
    }
    if (i >= 10) {
      t.foreign_keys.push_back(foreign_key({"hub_id"}, fmt::format("table_{:03}", i % 10), {"id"}));
    }
    model.tables.push_back(t);
  }
  return model;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// --- Mermaid -------------------------------------------------------------------------------------

TEST(DiagramMermaid, TablesColumnsAndMarkers) {
  const std::string text = render_mermaid(shop());
  EXPECT_EQ(text.rfind("erDiagram\n", 0), 0u) << text;
  EXPECT_TRUE(has(text, "  customers {\n    integer id PK\n")) << text;
  EXPECT_TRUE(has(text, "    character_varying(120) email UK\n")) << text;
  EXPECT_TRUE(has(text, "    integer referred_by FK \"nullable\"\n")) << text;
  EXPECT_TRUE(has(text, "    NUMERIC(12_2) total\n")) << text;
  EXPECT_TRUE(has(text, "    bigint order_id PK, FK\n")) << text;
  EXPECT_TRUE(has(text, "    integer customer_id PK, FK\n")) << text;
}

TEST(DiagramMermaid, Cardinalities) {
  const std::string text = render_mermaid(shop());
  // Many orders to exactly one customer.
  EXPECT_TRUE(has(text, "  customers ||--o{ orders : \"customer_id\"\n")) << text;
  // One profile per customer: the foreign key is the whole primary key.
  EXPECT_TRUE(has(text, "  customers ||--o| profiles : \"customer_id\"\n")) << text;
  // A nullable reference: zero or one referrer.
  EXPECT_TRUE(has(text, "  customers |o--o{ customers : \"referred_by\"\n")) << text;
  // A composite key is one relationship, labelled with both columns.
  EXPECT_TRUE(has(text, "  order_lines |o--o{ shipments : \"order_id, line_no\"\n")) << text;
  EXPECT_TRUE(has(text, "  orders ||--o{ order_lines : \"order_id\"\n")) << text;
}

TEST(DiagramMermaid, AUniqueForeignKeyIsOneToOne) {
  SchemaModel model = shop();
  Table& orders = model.tables[2];
  ASSERT_EQ(orders.name.name, "orders");
  orders.unique_keys.push_back({"one_order_each", {"customer_id"}});
  EXPECT_TRUE(has(render_mermaid(model), "  customers ||--o| orders : \"customer_id\"\n"));
  orders.unique_keys.clear();
  Index index;
  index.name = "orders_customer";
  index.unique = true;
  index.keys = {"customer_id"};
  orders.indexes.push_back(index);
  EXPECT_TRUE(has(render_mermaid(model), "  customers ||--o| orders : \"customer_id\"\n"));
  // A partial unique index does not make the column unique.
  orders.indexes[0].predicate = "customer_id > 0";
  EXPECT_TRUE(has(render_mermaid(model), "  customers ||--o{ orders : \"customer_id\"\n"));
}

TEST(DiagramMermaid, OneCommonSchemaIsLeftOut) {
  // PostgreSQL: every table in `public`.
  SchemaModel model = shop();
  for (Table& table : model.tables) {
    table.name.schema = "public";
    for (ForeignKey& key : table.foreign_keys) key.referenced_table.schema = "public";
  }
  for (View& view : model.views) view.name.schema = "public";
  EXPECT_EQ(render_mermaid(model), render_mermaid(shop()));
  EXPECT_EQ(render_dot(model), render_dot(shop()));
  // Two schemas: every name keeps its own.
  model.tables[0].name.schema = "billing";
  const std::string text = render_mermaid(model);
  EXPECT_TRUE(has(text, "public.orders")) << text;
  EXPECT_TRUE(has(text, "billing.")) << text;
}

TEST(DiagramMermaid, ViewsAreMarkedAndHaveNoEdges) {
  const std::string text = render_mermaid(shop());
  EXPECT_TRUE(has(text, "  big_orders[\"big_orders (view)\"] {\n    bigint id\n")) << text;
  EXPECT_FALSE(has(text, "big_orders :")) << text;
  EXPECT_FALSE(has(text, "--o{ big_orders")) << text;
}

TEST(DiagramMermaid, NamesAndTypesAreSanitised) {
  const std::string text = render_mermaid(awkward());
  EXPECT_TRUE(has(text, "  order_items[\"order items\"] {\n")) << text;
  EXPECT_TRUE(has(text, "    int item_id PK \"item id\"\n")) << text;
  EXPECT_TRUE(has(text, "    enum(a_b_its) kind\n")) << text;
  EXPECT_TRUE(has(text, "    decimal(10_2)_unsigned price\n")) << text;
  EXPECT_TRUE(has(text, "    character_varying(120) _quoted_ \"'quoted', nullable\"\n")) << text;
  EXPECT_TRUE(has(text, "    untyped _1st \"1st, nullable\"\n")) << text;
  EXPECT_TRUE(has(text, "    text[] tags \"nullable\"\n")) << text;
  EXPECT_TRUE(has(text, "    public_mood mood \"nullable\"\n")) << text;
  EXPECT_TRUE(has(text, "    varchar(3) class \"nullable\"\n")) << text;
  EXPECT_TRUE(has(text, "    int PK_ \"PK, nullable\"\n")) << text;
  EXPECT_TRUE(has(text, "    double_precision x_y_z \"x<y>&z, nullable\"\n")) << text;
  // Keywords, clashes after sanitising, dots and quotes in schema names.
  EXPECT_TRUE(has(text, "  to_[\"to\"] {\n")) << text;
  EXPECT_TRUE(has(text, "  style_[\"style\"] {\n    int direction\n")) << text;
  // `a_b` keeps its name; `a-b` gives way.
  EXPECT_TRUE(has(text, "  a_b_2[\"a-b\"] {\n")) << text;
  EXPECT_TRUE(has(text, "  a_b {\n")) << text;
  EXPECT_TRUE(has(text, "  caf_[\"café\"] {\n    numeric prix_ \"prix €\"\n")) << text;
  EXPECT_TRUE(has(text, "  weird_schema_audit_log[\"weird'schema.audit.log\"] {\n")) << text;
  EXPECT_TRUE(has(text, "  order_items |o--o{ weird_schema_audit_log : \"item\"\n")) << text;
  EXPECT_TRUE(has(text, "  v_x_y_[\"v 'x' {y} (materialized view)\"] {\n")) << text;
  EXPECT_TRUE(has(text, "  nothing\n")) << text;
  for (const char c : text) EXPECT_NE(c, '\t');
}

TEST(DiagramMermaid, EmptyModel) {
  EXPECT_EQ(render_mermaid(SchemaModel{}), "erDiagram\n");
}

// --- DOT
// -------------------------------------------------------------------------------------------

TEST(DiagramDot, LayoutAttributesAndHtmlTables) {
  const std::string text = render_dot(shop());
  EXPECT_EQ(text.rfind("digraph schema {\n", 0), 0u) << text;
  EXPECT_TRUE(has(text, "rankdir=LR")) << text;
  EXPECT_TRUE(has(text, "nodesep=")) << text;
  EXPECT_TRUE(has(text, "ranksep=")) << text;
  EXPECT_TRUE(has(text, "node [shape=plain")) << text;
  EXPECT_TRUE(has(text, "<b>customers</b>")) << text;
  EXPECT_TRUE(has(text, "<td port=\"i0\" align=\"left\"><u>id</u>&#160;&#160;</td>")) << text;
  EXPECT_TRUE(has(text, "character varying(120)")) << text;
  EXPECT_TRUE(has(text, "integer <i>nullable</i>")) << text;
  EXPECT_TRUE(has(text, ">PK FK</font>")) << text;
  // Graphviz refuses empty <font> elements.
  EXPECT_FALSE(has(text, "\"></font>")) << text;
  EXPECT_EQ(text.substr(text.size() - 2), "}\n");
}

TEST(DiagramDot, EdgesWithPortsAndCrowsFeet) {
  const std::string text = render_dot(shop());
  // Tables are t1.. in name order: customers, order_lines, orders, profiles, shipments.
  EXPECT_TRUE(has(text, "  t3:o1:e -> t1:i0:w [arrowtail=crowodot, arrowhead=teetee,")) << text;
  EXPECT_TRUE(has(text, "  t4:o0:e -> t1:i0:w [arrowtail=teeodot, arrowhead=teetee,")) << text;
  // A self reference loops on the right side of its table.
  EXPECT_TRUE(has(text, "  t1:o2:e -> t1:o0:e [arrowtail=crowodot, arrowhead=teeodot,")) << text;
  EXPECT_TRUE(has(text,
                  "  t5:o1:e -> t2:i0:w [arrowtail=crowodot, arrowhead=teeodot, "
                  "label=\"(order_id, line_no)\","))
      << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '>') > 0, true);
  // One edge per foreign key, none for the view.
  std::size_t edges = 0;
  for (std::size_t at = text.find(" -> "); at != std::string::npos; at = text.find(" -> ", at + 1))
    ++edges;
  EXPECT_EQ(edges, 5u);
}

TEST(DiagramDot, ViewsAreMarked) {
  const std::string text = render_dot(shop());
  EXPECT_TRUE(has(text, "  v1 [label=<<table")) << text;
  EXPECT_TRUE(has(text, "style=\"dashed\"")) << text;
  EXPECT_TRUE(has(text, "<i>view</i>&#160;<b>big_orders</b>")) << text;
  EXPECT_FALSE(has(text, "-> v1")) << text;
}

TEST(DiagramDot, HtmlAndStringsAreEscaped) {
  const std::string text = render_dot(awkward());
  EXPECT_TRUE(has(text, "x&lt;y&gt;&amp;z")) << text;
  EXPECT_TRUE(has(text, "<b>weird&quot;schema.audit.log</b>")) << text;
  EXPECT_TRUE(has(text, "enum(&quot;") || has(text, "enum('a','b','it''s')")) << text;
  EXPECT_TRUE(
      has(text, "tooltip=\"weird\\\"schema.audit.log(item) references order items(item id)\""))
      << text;
}

// --- Both
// ------------------------------------------------------------------------------------------

TEST(Diagram, Deterministic) {
  SchemaModel shuffled = shop();
  std::reverse(shuffled.tables.begin(), shuffled.tables.end());
  EXPECT_EQ(render_mermaid(shop()), render_mermaid(shop()));
  EXPECT_EQ(render_mermaid(shop()), render_mermaid(shuffled));
  EXPECT_EQ(render_dot(shop()), render_dot(shuffled));
  EXPECT_EQ(render_dot(awkward()), render_dot(awkward()));
}

TEST(Diagram, LargeModel) {
  const SchemaModel model = large(120);
  const std::string mermaid = render_mermaid(model);
  const std::string dot = render_dot(model);
  for (const Table& t : model.tables) {
    EXPECT_TRUE(has(mermaid, "  " + t.name.name + " {\n")) << t.name.name;
    EXPECT_TRUE(has(dot, "<b>" + t.name.name + "</b>")) << t.name.name;
  }
  EXPECT_TRUE(has(mermaid, "  table_005 |o--o{ table_006 : \"parent_id\"\n"));
  EXPECT_TRUE(has(mermaid, "  table_005 ||--o{ table_115 : \"hub_id\"\n"));
  EXPECT_EQ(render_dot(model), dot);
}

// --- Filters
// ----------------------------------------------------------------------------------------

TEST(DiagramFilter, Globs) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*", "anything"));
  EXPECT_TRUE(glob_match("order*", "orders"));
  EXPECT_TRUE(glob_match("order*", "order_lines"));
  EXPECT_FALSE(glob_match("order*", "customers"));
  EXPECT_TRUE(glob_match("*_lines", "order_lines"));
  EXPECT_TRUE(glob_match("o?ders", "orders"));
  EXPECT_FALSE(glob_match("o?ders", "oders"));
  EXPECT_TRUE(glob_match("[ab]*", "audit"));
  EXPECT_FALSE(glob_match("[!ab]*", "audit"));
  EXPECT_TRUE(glob_match("[a-c]x", "bx"));
  EXPECT_TRUE(glob_match("a\\*", "a*"));
  EXPECT_FALSE(glob_match("a\\*", "ab"));
  EXPECT_TRUE(glob_match("*a*b*c*", "xxaxxbxxcxx"));
  EXPECT_FALSE(glob_match("*a*b*c*", "xxaxxcxxbxx"));
  EXPECT_TRUE(glob_match("[x", "[x"));
  EXPECT_FALSE(glob_match("Orders", "orders"));
}

TEST(DiagramFilter, TablesAndExclude) {
  const SchemaModel model = shop();
  SchemaModel shown = filter_model(model, DiagramFilter{{"order*"}, {}});
  ASSERT_EQ(shown.tables.size(), 2u);
  EXPECT_EQ(shown.tables[0].name.name, "order_lines");
  EXPECT_EQ(shown.tables[1].name.name, "orders");
  EXPECT_TRUE(shown.views.empty());
  // Edges to tables left out are not drawn; the FK marker stays.
  const std::string text = render_mermaid(shown);
  EXPECT_TRUE(has(text, "  orders ||--o{ order_lines : \"order_id\"\n")) << text;
  EXPECT_FALSE(has(text, "customers")) << text;
  EXPECT_TRUE(has(text, "    integer customer_id FK\n")) << text;
  EXPECT_FALSE(has(render_dot(shown), "-> t3")) << render_dot(shown);

  shown = filter_model(model, DiagramFilter{{}, {"*s", "big_*"}});
  ASSERT_EQ(shown.tables.size(), 0u);
  shown = filter_model(model, DiagramFilter{{"customers", "profiles"}, {"profiles"}});
  ASSERT_EQ(shown.tables.size(), 1u);
  EXPECT_EQ(shown.tables[0].name.name, "customers");
}

TEST(DiagramFilter, SchemaQualifiedNames) {
  SchemaModel model;
  model.tables = {table("users", {column("id", "int")}, {"id"}, "auth"),
                  table("users", {column("id", "int")}, {"id"}, "public")};
  EXPECT_EQ(filter_model(model, DiagramFilter{{"auth.*"}, {}}).tables.size(), 1u);
  EXPECT_EQ(filter_model(model, DiagramFilter{{"users"}, {}}).tables.size(), 2u);
  EXPECT_EQ(filter_model(model, DiagramFilter{{}, {"public.*"}}).tables.size(), 1u);
}

TEST(DiagramFormat, FromNamesAndSuffixes) {
  EXPECT_EQ(parse_diagram_format("SVG"), DiagramFormat::svg);
  EXPECT_EQ(parse_diagram_format("png"), std::nullopt);
  EXPECT_EQ(diagram_format_for("docs/er.mmd"), DiagramFormat::mermaid);
  EXPECT_EQ(diagram_format_for("README.md"), DiagramFormat::mermaid);
  EXPECT_EQ(diagram_format_for("er.gv"), DiagramFormat::dot);
  EXPECT_EQ(diagram_format_for("er.DOT"), DiagramFormat::dot);
  EXPECT_EQ(diagram_format_for("er.svg"), DiagramFormat::svg);
  EXPECT_EQ(diagram_format_for("er.txt"), std::nullopt);
  EXPECT_EQ(diagram_format_for("er"), std::nullopt);
}

// --- Checked by the tools that read them
// -------------------------------------------------------------

// The folder where `make test` installs mermaid (tests/support/mermaid, npm ci).
const std::filesystem::path k_mermaid_dir = DBINIT_MERMAID_DIR;

TEST(DiagramMermaid, MermaidParsesEveryDiagram) {
  ASSERT_EQ(run_program({"node", "--version"}).exit_code, 0)
      << "node is needed to check the Mermaid text: scripts/install-deps test";
  ASSERT_TRUE(std::filesystem::exists(k_mermaid_dir / "node_modules" / "mermaid" / "package.json"))
      << "mermaid is not installed in " << k_mermaid_dir
      << ": run `make mermaid-deps` (npm ci from tests/support/mermaid)";
  TempDir dir;
  SchemaModel filtered = filter_model(shop(), DiagramFilter{{"order*"}, {}});
  const std::vector<std::pair<std::string, std::string>> diagrams = {
      {"shop.mmd", render_mermaid(shop())},
      {"awkward.mmd", render_mermaid(awkward())},
      {"large.mmd", render_mermaid(large(120))},
      {"filtered.mmd", render_mermaid(filtered)},
      {"empty.mmd", render_mermaid(SchemaModel{})}};
  std::vector<std::string> argv = {"node", (k_mermaid_dir / "parse.mjs").string()};
  for (const auto& [name, text] : diagrams) argv.push_back(dir.write(name, text).string());
  const RunResult result = run_program(argv);
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(std::count(result.out.begin(), result.out.end(), '\n'),
            static_cast<long>(diagrams.size()))
      << result.out << result.err;
}

// Checks that `svg` is well-formed XML and returns its text content, one <text> per line.
std::string svg_texts(const TempDir& dir, const std::string& svg) {
  const std::filesystem::path file = dir.write("diagram.svg", svg);
  const RunResult result = run_program(
      {"python3", "-c",
       "import sys, xml.dom.minidom as m\n"
       "d = m.parse(sys.argv[1])\n"
       "assert d.documentElement.tagName == 'svg', d.documentElement.tagName\n"
       "for t in d.getElementsByTagName('text'):\n"
       "    print(''.join(n.data for n in t.childNodes if n.nodeType == n.TEXT_NODE))\n",
       file.string()});
  EXPECT_EQ(result.exit_code, 0) << "not well-formed XML: " << result.err;
  return result.out;
}

TEST(DiagramSvg, WellFormedAndNamesEveryTable) {
  TempDir dir;
  const std::string svg = render_svg(render_dot(shop()));
  const std::string texts = svg_texts(dir, svg);
  for (const std::string name :
       {"customers", "orders", "order_lines", "profiles", "shipments", "big_orders"}) {
    EXPECT_TRUE(has(texts, name + "\n")) << name << "\n" << texts;
  }
  const std::string odd = svg_texts(dir, render_svg(render_dot(awkward())));
  EXPECT_TRUE(has(odd, "order items\n")) << odd;
  EXPECT_TRUE(has(odd, "weird\"schema.audit.log\n")) << odd;
  EXPECT_TRUE(has(odd, "x<y>&z")) << odd;
  EXPECT_TRUE(has(odd, "café\n")) << odd;
}

TEST(DiagramSvg, LargeModelHasNoOverlappingTables) {
  TempDir dir;
  const SchemaModel model = large(120);
  const std::string svg = render_svg(render_dot(model));
  const std::string texts = svg_texts(dir, svg);
  for (const Table& t : model.tables) EXPECT_TRUE(has(texts, t.name.name + "\n")) << t.name.name;
  // The table outlines (one polygon per node group) must not intersect.
  const std::filesystem::path file = dir.write("large.svg", svg);
  const RunResult result = run_program(
      {"python3", "-c",
       "import sys, xml.dom.minidom as m\n"
       "boxes = []\n"
       "for g in m.parse(sys.argv[1]).getElementsByTagName('g'):\n"
       "    if g.getAttribute('class') != 'node': continue\n"
       "    xs, ys = [], []\n"
       "    for p in g.getElementsByTagName('polygon'):\n"
       "        for pt in p.getAttribute('points').split():\n"
       "            x, y = pt.split(','); xs.append(float(x)); ys.append(float(y))\n"
       "    boxes.append((min(xs), min(ys), max(xs), max(ys)))\n"
       "bad = [(a, b) for i, a in enumerate(boxes) for b in boxes[i+1:]\n"
       "       if a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1]\n"
       "print(len(boxes), len(bad))\n"
       "sys.exit(1 if bad else 0)\n",
       file.string()});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(result.out, "120 0\n");
}

TEST(DiagramSvg, ABadHtmlLabelIsAnError) {
  try {
    render_svg(
        "digraph { a [shape=plain, label=<<table><tr><td><font></font></td></tr></table>>]; }");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::failure);
  }
}

TEST(DiagramSvg, BadDotIsAnError) {
  try {
    render_svg("digraph { a -> }");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::failure);
    EXPECT_TRUE(has(error.message(), "Graphviz")) << error.message();
  }
}

}  // namespace
}  // namespace dbinit::test
