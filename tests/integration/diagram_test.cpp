// `dbinit diagram`: ER diagrams of a database built by migrations, in every format, end to end on
// the engine under test.

#include <gmock/gmock.h>

#include <nlohmann/json.hpp>

#include "integration/cli_fixture.h"

namespace dbinit::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

class DiagramTest : public CliTest {
 protected:
  // Customers, orders, order lines (a composite primary key), one profile per customer, and a
  // view; foreign keys as table constraints, which every engine keeps.
  void shop() {
    migration("0001-customers.sql",
              "CREATE TABLE customers (\n"
              "  id INTEGER NOT NULL PRIMARY KEY,\n"
              "  email VARCHAR(120) NOT NULL UNIQUE,\n"
              "  referred_by INTEGER,\n"
              "  FOREIGN KEY (referred_by) REFERENCES customers (id)\n"
              ");\n");
    migration("0002-orders.sql",
              "CREATE TABLE orders (\n"
              "  id INTEGER NOT NULL PRIMARY KEY,\n"
              "  customer_id INTEGER NOT NULL,\n"
              "  total NUMERIC(12,2),\n"
              "  FOREIGN KEY (customer_id) REFERENCES customers (id)\n"
              ");\n"
              "CREATE TABLE order_lines (\n"
              "  order_id INTEGER NOT NULL,\n"
              "  line_no INTEGER NOT NULL,\n"
              "  PRIMARY KEY (order_id, line_no),\n"
              "  FOREIGN KEY (order_id) REFERENCES orders (id)\n"
              ");\n");
    migration("0003-profiles.sql",
              "CREATE TABLE profiles (\n"
              "  customer_id INTEGER NOT NULL PRIMARY KEY,\n"
              "  bio TEXT,\n"
              "  FOREIGN KEY (customer_id) REFERENCES customers (id)\n"
              ");\n"
              "CREATE TABLE shipments (\n"
              "  id INTEGER NOT NULL PRIMARY KEY,\n"
              "  order_id INTEGER,\n"
              "  line_no INTEGER,\n"
              "  FOREIGN KEY (order_id, line_no) REFERENCES order_lines (order_id, line_no)\n"
              ");\n"
              "CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;\n");
  }

  // Checks that `file` is well-formed XML and returns the text of its <text> elements, one a line.
  static std::string svg_texts(const fs::path& file) {
    const RunResult result = run_program(
        {"python3", "-c",
         "import sys, xml.dom.minidom as m\n"
         "d = m.parse(sys.argv[1])\n"
         "assert d.documentElement.tagName == 'svg'\n"
         "for t in d.getElementsByTagName('text'):\n"
         "    print(''.join(n.data for n in t.childNodes if n.nodeType == n.TEXT_NODE))\n",
         file.string()});
    EXPECT_EQ(result.exit_code, 0) << "not well-formed XML: " << result.err;
    return result.out;
  }
};

TEST_F(DiagramTest, MermaidOfTheDatabase) {
  shop();
  up_ok();
  const RunResult result = dbinit({"diagram"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string& text = result.out;
  EXPECT_EQ(text.rfind("erDiagram\n", 0), 0u) << text;
  for (const std::string name : {"customers", "orders", "order_lines", "profiles", "shipments"}) {
    EXPECT_THAT(text, HasSubstr("  " + name + " {\n"));
  }
  EXPECT_THAT(text, HasSubstr("customers ||--o{ orders : \"customer_id\""));
  EXPECT_THAT(text, HasSubstr("customers ||--o| profiles : \"customer_id\""));
  EXPECT_THAT(text, HasSubstr("customers |o--o{ customers : \"referred_by\""));
  EXPECT_THAT(text, HasSubstr("orders ||--o{ order_lines : \"order_id\""));
  EXPECT_THAT(text, HasSubstr("order_lines |o--o{ shipments : \"order_id, line_no\""));
  EXPECT_THAT(text, HasSubstr("big_orders[\"big_orders (view)\"]"));
  EXPECT_THAT(text, HasSubstr(" email UK\n"));
  EXPECT_THAT(text, Not(HasSubstr("dbinit_")));
  // The same schema gives the same bytes.
  EXPECT_EQ(dbinit({"diagram"}).out, text);
}

TEST_F(DiagramTest, DotAndSvgFilesByTheirSuffix) {
  shop();
  up_ok();
  RunResult result = dbinit({"diagram", "--output", "er.gv"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out.empty()) << result.out;
  const std::string dot = read_file(project().path() / "er.gv");
  EXPECT_EQ(dot.rfind("digraph schema {", 0), 0u) << dot;
  EXPECT_THAT(dot, HasSubstr("<b>order_lines</b>"));
  EXPECT_THAT(dot, HasSubstr("label=\"(order_id, line_no)\""));
  EXPECT_THAT(dot, HasSubstr("<i>view</i>&#160;<b>big_orders</b>"));

  result = dbinit({"diagram", "--output", "docs/er.svg"});
  EXPECT_NE(result.exit_code, 0) << "a missing folder is an error";
  fs::create_directories(project().path() / "docs");
  result = dbinit({"diagram", "--output", "docs/er.svg"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string texts = svg_texts(project().path() / "docs/er.svg");
  for (const std::string name :
       {"customers", "orders", "order_lines", "profiles", "shipments", "big_orders"}) {
    EXPECT_THAT(texts, HasSubstr(name + "\n"));
  }
  // A Markdown file gets a fenced block.
  result = dbinit({"diagram", "--output", "er.md"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string markdown = read_file(project().path() / "er.md");
  EXPECT_EQ(markdown.rfind("```mermaid\nerDiagram\n", 0), 0u) << markdown;
  EXPECT_EQ(markdown.substr(markdown.size() - 5), "\n```\n") << markdown;
  // --format wins over the suffix.
  result = dbinit({"diagram", "--format", "mermaid", "--output", "er.svg"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(read_file(project().path() / "er.svg").rfind("erDiagram\n", 0), 0u);
}

TEST_F(DiagramTest, SvgOnStdoutAndJson) {
  shop();
  up_ok();
  RunResult result = dbinit({"diagram", "--format", "svg"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("<svg"));
  EXPECT_THAT(result.out, HasSubstr(">customers</text>"));

  result = dbinit({"diagram", "--json", "--format", "dot", "--tables", "order*"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json out = nlohmann::json::parse(result.out);
  EXPECT_EQ(out["format"], "dot");
  EXPECT_EQ(out["source"], "database");
  EXPECT_EQ(out["engine"], engine());
  EXPECT_EQ(out["tables"], 2);
  EXPECT_EQ(out["views"], 0);
  EXPECT_EQ(out["relationships"], 1);
  EXPECT_THAT(out["diagram"].get<std::string>(), HasSubstr("digraph schema {"));

  result = dbinit({"diagram", "--json", "--output", "er.mmd"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json written = nlohmann::json::parse(result.out);
  EXPECT_EQ(written["output"], "er.mmd");
  EXPECT_EQ(written["format"], "mermaid");
  EXPECT_FALSE(written.contains("diagram"));
}

TEST_F(DiagramTest, TablesAndExclude) {
  shop();
  up_ok();
  RunResult result = dbinit({"diagram", "--tables", "order*,customers", "--exclude", "orders"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("  order_lines {\n"));
  EXPECT_THAT(result.out, HasSubstr("  customers {\n"));
  EXPECT_THAT(result.out, Not(HasSubstr("  orders {\n")));
  EXPECT_THAT(result.out, Not(HasSubstr("profiles")));
  EXPECT_THAT(result.out, Not(HasSubstr("--o{ order_lines")));

  result = dbinit({"diagram", "--tables", "nothing*"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "erDiagram\n");
  EXPECT_THAT(result.err, HasSubstr("no table or view matches"));
}

TEST_F(DiagramTest, FromMigrationsNeedsNoDatabase) {
  shop();
  fs::create_directories(project().path() / "tmp");
  const RunResult result =
      dbinit({"diagram", "--from-migrations"}, {{"TMPDIR", (project().path() / "tmp").string()}});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("customers ||--o{ orders : \"customer_id\""));
  EXPECT_THAT(result.out, HasSubstr("big_orders[\"big_orders (view)\"]"));
  EXPECT_FALSE(db().exists()) << "the project's database was created";
  EXPECT_TRUE(fs::is_empty(project().path() / "tmp")) << "the scratch database was left behind";
}

TEST_F(DiagramTest, FromMigrationsReportsAFailingMigration) {
  shop();
  migration("0004-broken.sql", "CREATE TABLE broken (id INTEGER REFERENCES);\n");
  const RunResult result = dbinit({"diagram", "--from-migrations"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr("0004-broken.sql"));
  EXPECT_THAT(result.err, HasSubstr("scratch database"));
  EXPECT_FALSE(db().exists());
}

TEST_F(DiagramTest, AMissingDatabaseIsAnError) {
  shop();
  const RunResult result = dbinit({"diagram"});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_THAT(result.err, HasSubstr("does not exist"));
  EXPECT_THAT(result.err, HasSubstr("--from-migrations"));
  EXPECT_FALSE(db().exists());
}

TEST_F(DiagramTest, UnknownFormatIsAUsageError) {
  const RunResult result = dbinit({"diagram", "--format", "png"});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_THAT(result.err, HasSubstr("unknown diagram format 'png'"));
}

// SVG needs neither the `dot` program nor Graphviz's plugin configuration (config6a): GVBINDIR
// points libgvc at an empty folder instead of its own, and PATH holds no `dot`.
TEST_F(DiagramTest, SvgWithoutGraphvizPluginConfiguration) {
  shop();
  up_ok();
  fs::create_directories(project().path() / "no-plugins");
  const RunResult result =
      dbinit({"diagram", "--format", "svg"},
             {{"GVBINDIR", (project().path() / "no-plugins").string()}, {"PATH", "/nonexistent"}});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr(">customers</text>"));
  EXPECT_THAT(result.out, HasSubstr(">shipments</text>"));
}

// Graphviz is loaded only for SVG: the binary does not link it.
TEST_F(DiagramTest, DbinitDoesNotLinkGraphviz) {
  const RunResult result = run_program({"readelf", "-d", DBINIT_BINARY});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, Not(HasSubstr("libgvc")));
  EXPECT_THAT(result.out, Not(HasSubstr("libcgraph")));
}

}  // namespace
}  // namespace dbinit::test
