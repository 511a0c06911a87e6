// The postgres schema renderer (engines/postgres/postgres_introspect.cpp) as a pure function: a
// model built in code renders in an order that loads into an empty database, whatever order the
// model lists its objects in, and the same model always renders the same bytes.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engines/engine.h"
#include "util/error.h"

namespace dbinit::test {
namespace {

const SchemaSupport& postgres() {
  const EngineInfo* info = find_engine("postgres");
  EXPECT_NE(info, nullptr);
  return *info->schema;
}

Column column(std::string name, std::string type, bool nullable = true) {
  Column out;
  out.name = std::move(name);
  out.type = std::move(type);
  out.nullable = nullable;
  return out;
}

Table table(std::string schema, std::string name, std::vector<Column> columns) {
  Table out;
  out.name = {std::move(schema), std::move(name)};
  out.columns = std::move(columns);
  return out;
}

View view(std::string name, std::vector<ObjectName> depends_on) {
  View out;
  out.name = {"public", name};
  out.depends_on = std::move(depends_on);
  out.definition = "CREATE VIEW public." + name + " AS\n SELECT 1 AS x";
  return out;
}

/// A model whose lists are in an order that would not load as listed: the referencing table
/// first, a view before the view it reads, an SQL function before a plpgsql one.
SchemaModel shop() {
  SchemaModel model;
  model.engine = "postgres";
  model.namespaces = {"sales"};
  UserType mood;
  mood.name = {"public", "mood"};
  mood.kind = TypeKind::enumeration;
  mood.labels = {"sad", "ok"};
  mood.definition = "CREATE TYPE public.mood AS ENUM ('sad', 'ok')";
  UserType positive;
  positive.name = {"public", "positive"};
  positive.kind = TypeKind::domain;
  positive.base_type = "integer";
  positive.definition = "CREATE DOMAIN public.positive AS integer CHECK (VALUE > 0)";
  model.types = {positive, mood};
  model.sequences = {Sequence{{"public", "orders_id_seq"},
                              "public.orders.id",
                              "CREATE SEQUENCE public.orders_id_seq AS integer"}};

  Table orders = table("public", "orders",
                       {column("id", "integer", false), column("customer", "bigint"),
                        column("feeling", "public.mood")});
  orders.primary_key = KeyConstraint{"orders_pkey", {"id"}};
  ForeignKey to_customers;
  to_customers.name = "orders_customer_fkey";
  to_customers.columns = {"customer"};
  to_customers.referenced_table = {"sales", "customers"};
  to_customers.referenced_columns = {"id"};
  to_customers.on_delete = ForeignKeyAction::set_null;
  orders.foreign_keys = {to_customers};
  Index feeling;
  feeling.name = "orders_feeling";
  feeling.keys = {"feeling"};
  feeling.predicate = "feeling <> 'sad'::public.mood";
  feeling.definition =
      "CREATE INDEX orders_feeling ON public.orders USING btree (feeling) WHERE (feeling <> "
      "'sad'::public.mood)";
  orders.indexes = {feeling};
  orders.comment = "what people bought; it's a table";
  orders.columns[1].comment = "who";

  Table customers = table("sales", "customers", {column("id", "bigint", false)});
  customers.primary_key = KeyConstraint{"customers_pkey", {"id"}};
  customers.checks = {CheckConstraint{"customers_id_check", "id > 0"}};

  model.tables = {orders, customers};
  model.views = {view("b_recent", {{"public", "c_all"}}), view("a_top", {{"public", "b_recent"}}),
                 view("c_all", {{"public", "orders"}})};
  Routine count;
  count.name = {"public", "order_count"};
  count.language = "sql";
  count.definition =
      "CREATE OR REPLACE FUNCTION public.order_count() RETURNS bigint LANGUAGE "
      "sql AS $$SELECT count(*) FROM public.orders$$";
  Routine touch;
  touch.name = {"public", "touch"};
  touch.language = "plpgsql";
  touch.definition =
      "CREATE OR REPLACE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS "
      "$$BEGIN RETURN NEW; END$$";
  model.routines = {count, touch};
  model.triggers = {Trigger{{"public", "orders_touch"},
                            {"public", "orders"},
                            "CREATE TRIGGER orders_touch BEFORE INSERT ON public.orders FOR EACH "
                            "ROW EXECUTE FUNCTION public.touch()"}};
  return model;
}

std::size_t position(const std::string& text, std::string_view part) {
  const std::size_t at = text.find(part);
  EXPECT_NE(at, std::string::npos) << part << "\n" << text;
  return at;
}

TEST(PgRender, EmptyModelRendersNothing) {
  SchemaModel model;
  model.engine = "postgres";
  EXPECT_EQ(postgres().render(model), "");
}

TEST(PgRender, PutsEveryStatementAfterWhatItNeeds) {
  const std::string text = postgres().render(shop());
  const std::vector<std::string_view> order = {
      "CREATE SCHEMA sales;",
      "CREATE TYPE public.mood AS ENUM",
      "CREATE DOMAIN public.positive",
      "CREATE SEQUENCE public.orders_id_seq",
      "CREATE OR REPLACE FUNCTION public.touch()",
      "CREATE TABLE public.orders (\n    id integer NOT NULL,\n    customer bigint,\n    "
      "feeling public.mood\n);",
      "CREATE TABLE sales.customers (",
      "CREATE OR REPLACE FUNCTION public.order_count()",
      "CREATE VIEW public.c_all",
      "CREATE VIEW public.b_recent",
      "CREATE VIEW public.a_top",
      "ALTER TABLE ONLY public.orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);",
      "ALTER TABLE ONLY sales.customers ADD CONSTRAINT customers_pkey PRIMARY KEY (id);",
      "ALTER TABLE ONLY sales.customers ADD CONSTRAINT customers_id_check CHECK (id > 0);",
      "CREATE INDEX orders_feeling",
      "CREATE TRIGGER orders_touch",
      "ALTER TABLE ONLY public.orders ADD CONSTRAINT orders_customer_fkey FOREIGN KEY (customer) "
      "REFERENCES sales.customers(id) ON DELETE SET NULL;",
      "ALTER SEQUENCE public.orders_id_seq OWNED BY public.orders.id;",
      "COMMENT ON TABLE public.orders IS 'what people bought; it''s a table';",
      "COMMENT ON COLUMN public.orders.customer IS 'who';",
  };
  for (std::size_t i = 1; i < order.size(); ++i) {
    EXPECT_LT(position(text, order[i - 1]), position(text, order[i]))
        << order[i - 1] << " / " << order[i] << "\n"
        << text;
  }
  // Statements end with `;`, are separated by one blank line, and the text ends in one newline.
  EXPECT_TRUE(text.ends_with(";\n")) << text;
  EXPECT_FALSE(text.ends_with("\n\n")) << text;
  EXPECT_NE(text.find(";\n\nCREATE TYPE public.mood"), std::string::npos) << text;
}

TEST(PgRender, ForeignKeysComeAfterEveryTableAndIndex) {
  const std::string text = postgres().render(shop());
  const std::size_t foreign_key = position(text, "FOREIGN KEY");
  EXPECT_GT(foreign_key, text.rfind("CREATE TABLE"));
  EXPECT_GT(foreign_key, text.rfind("CREATE INDEX"));
  EXPECT_GT(foreign_key, text.rfind("CREATE VIEW"));
  EXPECT_GT(foreign_key, text.rfind("PRIMARY KEY"));
}

TEST(PgRender, IsDeterministicWhateverTheModelsOrder) {
  SchemaModel model = shop();
  const std::string text = postgres().render(model);
  EXPECT_EQ(postgres().render(model), text);
  std::reverse(model.tables.begin(), model.tables.end());
  std::reverse(model.views.begin(), model.views.end());
  std::reverse(model.types.begin(), model.types.end());
  std::reverse(model.routines.begin(), model.routines.end());
  EXPECT_EQ(postgres().render(model), text);
  std::rotate(model.views.begin(), model.views.begin() + 1, model.views.end());
  EXPECT_EQ(postgres().render(model), text);
}

TEST(PgRender, PartitionsComeAfterTheTableTheyBelongTo) {
  SchemaModel model;
  model.engine = "postgres";
  Table parent = table("public", "zz_events", {column("at", "date")});
  parent.definition = "CREATE TABLE public.zz_events (\n    at date\n) PARTITION BY RANGE (at)";
  Table child = table("public", "aa_events_2026", {column("at", "date")});
  child.definition =
      "CREATE TABLE public.aa_events_2026 PARTITION OF public.zz_events\n    FOR VALUES FROM "
      "('2026-01-01') TO ('2027-01-01') PARTITION BY RANGE (at)";
  Table grandchild = table("public", "a_events_2026_q1", {column("at", "date")});
  grandchild.definition =
      "CREATE TABLE public.a_events_2026_q1 PARTITION OF public.aa_events_2026\n    FOR VALUES "
      "FROM ('2026-01-01') TO ('2026-04-01')";
  model.tables = {grandchild, child, parent};
  const std::string text = postgres().render(model);
  EXPECT_LT(position(text, "TABLE public.zz_events"), position(text, "TABLE public.aa_events"));
  EXPECT_LT(position(text, "TABLE public.aa_events"), position(text, "TABLE public.a_events"));
}

TEST(PgRender, InheritingTablesComeAfterTheirParents) {
  SchemaModel model;
  model.engine = "postgres";
  Table parent = table("public", "zoo_animals", {column("name", "text")});
  parent.definition = "CREATE TABLE public.zoo_animals (\n    name text\n)";
  Table other = table("public", "zoo", {column("x", "text")});
  other.definition = "CREATE TABLE public.zoo (\n    x text\n)";
  Table child = table("public", "dogs", {column("name", "text"), column("breed", "text")});
  child.definition =
      "CREATE TABLE public.dogs (\n    breed text\n)\nINHERITS (public.zoo_animals) WITH "
      "(fillfactor=70)";
  model.tables = {child, parent, other};
  const std::string text = postgres().render(model);
  EXPECT_LT(position(text, "TABLE public.zoo ("), position(text, "TABLE public.zoo_animals"));
  EXPECT_LT(position(text, "TABLE public.zoo_animals"), position(text, "TABLE public.dogs"));
}

TEST(PgRender, RoutinesOfARowTypeWaitForItsTableOrView) {
  SchemaModel model = shop();
  Routine of_table;
  of_table.name = {"public", "orders_of"};
  of_table.language = "plpgsql";
  of_table.definition =
      "CREATE OR REPLACE FUNCTION public.orders_of(c bigint)\n RETURNS SETOF public.orders\n "
      "LANGUAGE plpgsql\nAS $function$BEGIN RETURN QUERY SELECT * FROM public.orders_x; "
      "END$function$";
  Routine of_view;
  of_view.name = {"public", "a_of_view"};
  of_view.language = "sql";
  of_view.definition =
      "CREATE OR REPLACE FUNCTION public.a_of_view()\n RETURNS SETOF public.a_top\n LANGUAGE "
      "sql\nAS $function$SELECT * FROM public.a_top$function$";
  Routine of_neither;
  of_neither.name = {"public", "b_plain"};
  of_neither.language = "plpgsql";
  of_neither.definition =
      "CREATE OR REPLACE FUNCTION public.b_plain(x public.orders_id)\n RETURNS int\n LANGUAGE "
      "plpgsql\nAS $function$BEGIN RETURN 1; -- public.orders\nEND$function$";
  Routine default_code;
  default_code.name = {"public", "next_code"};
  default_code.language = "sql";
  default_code.definition =
      "CREATE OR REPLACE FUNCTION public.next_code()\n RETURNS text\n LANGUAGE sql\nAS "
      "$function$SELECT 'x'$function$";
  model.tables[0].columns[1].default_value = "public.next_code()";
  model.routines.push_back(default_code);
  model.routines.push_back(of_table);
  model.routines.push_back(of_view);
  model.routines.push_back(of_neither);
  const std::string text = postgres().render(model);
  EXPECT_LT(position(text, "FUNCTION public.b_plain"), position(text, "CREATE TABLE"));
  EXPECT_LT(position(text, "FUNCTION public.next_code"), position(text, "CREATE TABLE"));
  EXPECT_GT(position(text, "FUNCTION public.order_count"), text.rfind("CREATE TABLE"));
  EXPECT_GT(position(text, "FUNCTION public.orders_of"), text.rfind("CREATE TABLE"));
  EXPECT_LT(position(text, "FUNCTION public.orders_of"), position(text, "CREATE VIEW"));
  EXPECT_GT(position(text, "FUNCTION public.a_of_view"),
            position(text, "CREATE VIEW public.a_top"));
}

TEST(PgRender, QuotesNamesThatNeedIt) {
  SchemaModel model;
  model.engine = "postgres";
  model.namespaces = {"Sales Team", "user", "xmltable", "zoo", "all"};
  Table odd = table("Sales Team", "Order", {column("select", "text"), column("plain_1", "int")});
  odd.comment = "x";
  odd.columns[0].comment = "y";
  model.tables = {odd};
  const std::string text = postgres().render(model);
  EXPECT_NE(text.find("CREATE SCHEMA \"Sales Team\";"), std::string::npos) << text;
  EXPECT_NE(text.find("CREATE SCHEMA \"user\";"), std::string::npos) << text;
  EXPECT_NE(text.find("CREATE SCHEMA \"xmltable\";"), std::string::npos) << text;
  EXPECT_NE(text.find("CREATE SCHEMA \"all\";"), std::string::npos) << text;
  EXPECT_NE(text.find("CREATE SCHEMA zoo;"), std::string::npos) << text;
  EXPECT_NE(text.find("CREATE TABLE \"Sales Team\".\"Order\" (\n    \"select\" text,\n    "
                      "plain_1 int\n);"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("COMMENT ON COLUMN \"Sales Team\".\"Order\".\"select\" IS 'y';"),
            std::string::npos)
      << text;
}

TEST(PgSchemaSupport, QuotesLiteralsTheStandardWay) {
  EXPECT_EQ(postgres().quote_literal("it's a \\ path"), "'it''s a \\ path'");
  EXPECT_EQ(postgres().quote_literal(""), "''");
  EXPECT_THROW(postgres().quote_literal(std::string_view("a\0b", 3)), Error);
  EXPECT_FALSE(postgres().backslash_escapes);
}

TEST(PgSchemaSupport, LedgerDdlIsTheUnqualifiedCreateStatements) {
  const std::string ddl = postgres().ledger_ddl();
  EXPECT_TRUE(
      ddl.starts_with("CREATE TABLE IF NOT EXISTS dbinit_migrations (\n  version text "
                      "PRIMARY KEY,"))
      << ddl;
  EXPECT_NE(ddl.find(");\nCREATE TABLE IF NOT EXISTS dbinit_meta (\n  key text PRIMARY KEY,"),
            std::string::npos)
      << ddl;
  EXPECT_TRUE(ddl.ends_with(");\n")) << ddl;
  EXPECT_NE(postgres().utc_now_sql.find("UTC"), std::string_view::npos);
}

}  // namespace
}  // namespace dbinit::test
