// The postgres schema support on the test server: the model read from the catalogs of a rich
// schema, the rendered script's independence from the order objects were created in, and the
// script itself, which must rebuild the schema through psql and through dbinit's engine alike so
// that pg_dump cannot tell the copies from the original.

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "engines/engine.h"
#include "engines/url.h"
#include "support/harness.h"
#include "util/error.h"

namespace dbinit::test {
namespace {

// Two schemas, enum, domain, composite and range types, identity and serial columns, a generated
// column, defaults, comments, composite primary and foreign keys, a self-reference, ON DELETE
// CASCADE / SET NULL / RESTRICT, unique and check constraints, partial and expression indexes,
// views on views (one whose name sorts before what it reads), a materialized view with an index,
// plpgsql and sql functions (two of them returning a table's and a view's rows), a procedure,
// triggers and a partitioned table.
constexpr std::string_view k_schema = R"sql(
CREATE SCHEMA inventory;
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN inventory.positive AS integer CHECK (VALUE > 0);
CREATE TYPE public.address AS (street text, city text, zip varchar(10));
CREATE TYPE public.float_range AS RANGE (subtype = float8);
CREATE FUNCTION public.shout(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN upper(t) || '!'; -- a ; in a body
END;
$$;
CREATE TABLE public.customers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name text NOT NULL DEFAULT 'anonymous' CHECK (name <> ''),
  feeling public.mood DEFAULT 'ok',
  home public.address,
  referred_by bigint REFERENCES public.customers (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE public.customers IS 'people who buy; "quoted"';
COMMENT ON COLUMN public.customers.email IS 'unique, it''s checked';
CREATE TABLE inventory.products (
  sku text,
  variant integer,
  price numeric(10, 2) NOT NULL CHECK (price >= 0),
  stock inventory.positive,
  price_with_tax numeric GENERATED ALWAYS AS (price * 1.2) STORED,
  PRIMARY KEY (sku, variant)
);
CREATE TABLE public.orders (
  id serial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES public.customers (id) ON DELETE CASCADE,
  state public.mood NOT NULL DEFAULT 'ok',
  placed date NOT NULL DEFAULT CURRENT_DATE,
  note text,
  CONSTRAINT orders_note_length CHECK (length(note) < 1000)
);
CREATE TABLE public.order_lines (
  order_id integer NOT NULL REFERENCES public.orders (id) ON UPDATE CASCADE ON DELETE CASCADE,
  line integer NOT NULL,
  sku text NOT NULL,
  variant integer NOT NULL,
  quantity integer NOT NULL DEFAULT 1,
  PRIMARY KEY (order_id, line),
  CONSTRAINT order_lines_product_fkey FOREIGN KEY (sku, variant)
    REFERENCES inventory.products (sku, variant) ON DELETE RESTRICT,
  CONSTRAINT order_lines_unique_product UNIQUE (order_id, sku, variant)
);
CREATE INDEX orders_open ON public.orders (placed) WHERE state <> 'happy';
CREATE INDEX customers_lower_email ON public.customers (lower(email));
CREATE TABLE public.events (id bigint NOT NULL, at date NOT NULL, payload jsonb)
  PARTITION BY RANGE (at);
CREATE TABLE public.events_2026 PARTITION OF public.events
  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE public.events_2027 PARTITION OF public.events
  FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
CREATE INDEX events_at ON public.events (at);
CREATE FUNCTION public.customer_count() RETURNS bigint LANGUAGE sql STABLE
  AS 'SELECT count(*) FROM public.customers';
CREATE FUNCTION public.double_it(x integer) RETURNS integer LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
  SELECT x * 2;
END;
CREATE VIEW public.order_totals AS
  SELECT o.id, o.customer_id, sum(l.quantity) AS items
  FROM public.orders o JOIN public.order_lines l ON l.order_id = o.id GROUP BY o.id, o.customer_id;
CREATE VIEW public.big_orders AS SELECT * FROM public.order_totals WHERE items > 10;
CREATE VIEW inventory.aa_busy_customers AS
  SELECT c.email, b.items FROM public.big_orders b JOIN public.customers c ON c.id = b.customer_id;
CREATE MATERIALIZED VIEW inventory.stock_value AS
  SELECT sku, sum(price * stock) AS value FROM inventory.products GROUP BY sku;
CREATE UNIQUE INDEX stock_value_sku ON inventory.stock_value (sku);
COMMENT ON VIEW public.big_orders IS 'orders of more than ten items';
CREATE FUNCTION public.orders_of(c bigint) RETURNS SETOF public.orders LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT * FROM public.orders WHERE customer_id = c;
END
$$;
CREATE FUNCTION public.big_orders_of(c bigint) RETURNS SETOF public.big_orders LANGUAGE sql
  AS 'SELECT * FROM public.big_orders WHERE customer_id = c';
CREATE PROCEDURE inventory.restock(p_sku text, amount integer) LANGUAGE plpgsql AS $$
BEGIN
  UPDATE inventory.products SET stock = stock + amount WHERE sku = p_sku;
END;
$$;
CREATE FUNCTION public.touch_note() RETURNS trigger LANGUAGE plpgsql AS $t$
BEGIN
  NEW.note := trim(NEW.note);
  RETURN NEW;
END
$t$;
CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON public.orders
  FOR EACH ROW EXECUTE FUNCTION public.touch_note();
CREATE TRIGGER events_touch BEFORE INSERT ON public.events
  FOR EACH ROW EXECUTE FUNCTION public.touch_note();
)sql";

// The same objects, created in another order: functions and later tables first, keys and
// foreign keys added afterwards, after an object that was created and dropped again.
constexpr std::string_view k_schema_reordered = R"sql(
CREATE TABLE public.unrelated (x int);
DROP TABLE public.unrelated;
CREATE FUNCTION public.touch_note() RETURNS trigger LANGUAGE plpgsql AS $t$
BEGIN
  NEW.note := trim(NEW.note);
  RETURN NEW;
END
$t$;
CREATE SCHEMA inventory;
CREATE TYPE public.float_range AS RANGE (subtype = float8);
CREATE TYPE public.address AS (street text, city text, zip varchar(10));
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN inventory.positive AS integer CHECK (VALUE > 0);
CREATE TABLE public.order_lines (
  order_id integer NOT NULL,
  line integer NOT NULL,
  sku text NOT NULL,
  variant integer NOT NULL,
  quantity integer NOT NULL DEFAULT 1
);
CREATE TABLE public.orders (
  id serial,
  customer_id bigint NOT NULL,
  state public.mood NOT NULL DEFAULT 'ok',
  placed date NOT NULL DEFAULT CURRENT_DATE,
  note text
);
CREATE TABLE public.events (id bigint NOT NULL, at date NOT NULL, payload jsonb)
  PARTITION BY RANGE (at);
CREATE INDEX events_at ON public.events (at);
CREATE TABLE public.events_2027 PARTITION OF public.events
  FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
CREATE TRIGGER events_touch BEFORE INSERT ON public.events
  FOR EACH ROW EXECUTE FUNCTION public.touch_note();
CREATE TABLE public.events_2026 PARTITION OF public.events
  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE public.customers (
  id bigint GENERATED ALWAYS AS IDENTITY,
  email text NOT NULL,
  name text NOT NULL DEFAULT 'anonymous',
  feeling public.mood DEFAULT 'ok',
  home public.address,
  referred_by bigint,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE inventory.products (
  sku text NOT NULL,
  variant integer NOT NULL,
  price numeric(10, 2) NOT NULL,
  stock inventory.positive,
  price_with_tax numeric GENERATED ALWAYS AS (price * 1.2) STORED
);
ALTER TABLE inventory.products ADD CONSTRAINT products_pkey PRIMARY KEY (sku, variant);
ALTER TABLE inventory.products ADD CONSTRAINT products_price_check CHECK (price >= 0);
ALTER TABLE public.customers ADD CONSTRAINT customers_pkey PRIMARY KEY (id);
ALTER TABLE public.customers ADD CONSTRAINT customers_email_key UNIQUE (email);
ALTER TABLE public.customers ADD CONSTRAINT customers_name_check CHECK (name <> '');
ALTER TABLE public.orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);
ALTER TABLE public.orders ADD CONSTRAINT orders_note_length CHECK (length(note) < 1000);
ALTER TABLE public.order_lines ADD CONSTRAINT order_lines_pkey PRIMARY KEY (order_id, line);
ALTER TABLE public.order_lines ADD CONSTRAINT order_lines_unique_product
  UNIQUE (order_id, sku, variant);
ALTER TABLE public.order_lines ADD CONSTRAINT order_lines_product_fkey FOREIGN KEY (sku, variant)
  REFERENCES inventory.products (sku, variant) ON DELETE RESTRICT;
ALTER TABLE public.order_lines ADD CONSTRAINT order_lines_order_id_fkey FOREIGN KEY (order_id)
  REFERENCES public.orders (id) ON UPDATE CASCADE ON DELETE CASCADE;
ALTER TABLE public.orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id)
  REFERENCES public.customers (id) ON DELETE CASCADE;
ALTER TABLE public.customers ADD CONSTRAINT customers_referred_by_fkey FOREIGN KEY (referred_by)
  REFERENCES public.customers (id) ON DELETE SET NULL;
CREATE MATERIALIZED VIEW inventory.stock_value AS
  SELECT sku, sum(price * stock) AS value FROM inventory.products GROUP BY sku;
CREATE UNIQUE INDEX stock_value_sku ON inventory.stock_value (sku);
CREATE VIEW public.order_totals AS
  SELECT o.id, o.customer_id, sum(l.quantity) AS items
  FROM public.orders o JOIN public.order_lines l ON l.order_id = o.id GROUP BY o.id, o.customer_id;
CREATE VIEW public.big_orders AS SELECT * FROM public.order_totals WHERE items > 10;
CREATE VIEW inventory.aa_busy_customers AS
  SELECT c.email, b.items FROM public.big_orders b JOIN public.customers c ON c.id = b.customer_id;
CREATE INDEX customers_lower_email ON public.customers (lower(email));
CREATE INDEX orders_open ON public.orders (placed) WHERE state <> 'happy';
CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON public.orders
  FOR EACH ROW EXECUTE FUNCTION public.touch_note();
CREATE FUNCTION public.double_it(x integer) RETURNS integer LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
  SELECT x * 2;
END;
CREATE FUNCTION public.customer_count() RETURNS bigint LANGUAGE sql STABLE
  AS 'SELECT count(*) FROM public.customers';
CREATE PROCEDURE inventory.restock(p_sku text, amount integer) LANGUAGE plpgsql AS $$
BEGIN
  UPDATE inventory.products SET stock = stock + amount WHERE sku = p_sku;
END;
$$;
CREATE FUNCTION public.shout(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN upper(t) || '!'; -- a ; in a body
END;
$$;
CREATE FUNCTION public.orders_of(c bigint) RETURNS SETOF public.orders LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY SELECT * FROM public.orders WHERE customer_id = c;
END
$$;
CREATE FUNCTION public.big_orders_of(c bigint) RETURNS SETOF public.big_orders LANGUAGE sql
  AS 'SELECT * FROM public.big_orders WHERE customer_id = c';
COMMENT ON VIEW public.big_orders IS 'orders of more than ten items';
COMMENT ON COLUMN public.customers.email IS 'unique, it''s checked';
COMMENT ON TABLE public.customers IS 'people who buy; "quoted"';
)sql";

const SchemaSupport& support() {
  return *find_engine("postgres")->schema;
}

std::unique_ptr<Engine> open_engine(const TestDatabase& db) {
  auto engine = make_engine(parse_database_url(db.url()));
  engine->open(true);
  return engine;
}

/// pg_dump --schema-only of `db`, without the lines that differ between any two runs (the
/// `\restrict` key of newer pg_dump releases).
std::string schema_dump(const TestDatabase& db) {
  RunResult result =
      run_program({postgres_client("pg_dump"), "--schema-only", "--dbname=" + db.url()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::istringstream lines(result.out);
  std::string out;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("\\restrict") || line.starts_with("\\unrestrict")) continue;
    out += line + "\n";
  }
  return out;
}

const Table& table(const SchemaModel& model, std::string schema, std::string name) {
  const Table* found = model.find_table({std::move(schema), std::move(name)});
  if (found == nullptr) throw std::runtime_error("no table " + name);
  return *found;
}

std::vector<std::string> column_names(const std::vector<Column>& columns) {
  std::vector<std::string> names;
  for (const Column& column : columns) names.push_back(column.name);
  return names;
}

const Column& column(const Table& table, std::string_view name) {
  for (const Column& c : table.columns) {
    if (c.name == name) return c;
  }
  throw std::runtime_error("no column " + std::string(name));
}

/// Checks that the render of `db` loads into fresh databases with psql and with the engine's
/// restore() and execute(), that pg_dump sees the copies as it sees `db`, and that the copies
/// render the same text.
void expect_render_rebuilds(TestDatabase& db) {
  const std::string text = support().render(support().read(*open_engine(db)));
  const std::string original_dump = schema_dump(db);
  ASSERT_NE(original_dump.find("CREATE TABLE"), std::string::npos) << original_dump;

  TempDir dir;
  const auto file = dir.write("schema.sql", text);
  auto by_psql = make_test_database("postgres");
  by_psql->query("SELECT 1");
  RunResult psql = run_program({postgres_client("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f",
                                file.string(), "--dbname=" + by_psql->url()});
  ASSERT_EQ(psql.exit_code, 0) << psql.err << "\n" << text;
  EXPECT_EQ(schema_dump(*by_psql), original_dump);
  EXPECT_EQ(support().render(support().read(*open_engine(*by_psql))), text);

  auto by_restore = make_test_database("postgres");
  auto restored = open_engine(*by_restore);
  restored->begin();
  restored->restore({text, "db/schema.sql", 1});
  restored->commit();
  EXPECT_EQ(schema_dump(*by_restore), original_dump);
  EXPECT_EQ(support().render(support().read(*restored)), text);

  auto by_execute = make_test_database("postgres");
  auto executed = open_engine(*by_execute);
  executed->execute({text, "db/schema.sql", 1});
  EXPECT_EQ(schema_text(*executed), text);
}

class PgIntrospectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_db->query(std::string(k_schema));
    m_engine = open_engine(*m_db);
  }

  std::unique_ptr<TestDatabase> m_db = make_test_database("postgres");
  std::unique_ptr<Engine> m_engine;
};

TEST_F(PgIntrospectTest, ReadsTablesWithTheirKeysAndColumns) {
  m_engine->ensure_ledger();
  const SchemaModel model = support().read(*m_engine);
  EXPECT_EQ(model.engine, "postgres");
  EXPECT_EQ(model.namespaces, (std::vector<std::string>{"inventory"}));
  EXPECT_TRUE(model.extensions.empty());
  std::vector<std::string> tables;
  for (const Table& t : model.tables) tables.push_back(t.name.display());
  EXPECT_EQ(tables,
            (std::vector<std::string>{"inventory.products", "public.customers", "public.events",
                                      "public.events_2026", "public.events_2027",
                                      "public.order_lines", "public.orders"}));

  const Table& customers = table(model, "public", "customers");
  EXPECT_EQ(column_names(customers.columns),
            (std::vector<std::string>{"id", "email", "name", "feeling", "home", "referred_by",
                                      "created_at"}));
  EXPECT_TRUE(column(customers, "id").identity);
  EXPECT_FALSE(column(customers, "id").nullable);
  EXPECT_EQ(column(customers, "id").type, "bigint");
  EXPECT_EQ(column(customers, "name").default_value, "'anonymous'::text");
  EXPECT_EQ(column(customers, "feeling").type, "public.mood");
  EXPECT_EQ(column(customers, "home").type, "public.address");
  EXPECT_TRUE(column(customers, "feeling").nullable);
  EXPECT_EQ(column(customers, "email").comment, "unique, it's checked");
  EXPECT_EQ(customers.comment, "people who buy; \"quoted\"");
  ASSERT_TRUE(customers.primary_key);
  EXPECT_EQ(customers.primary_key->name, "customers_pkey");
  EXPECT_EQ(customers.primary_key->columns, (std::vector<std::string>{"id"}));
  ASSERT_EQ(customers.unique_keys.size(), 1u);
  EXPECT_EQ(customers.unique_keys[0].columns, (std::vector<std::string>{"email"}));
  ASSERT_EQ(customers.checks.size(), 1u);
  EXPECT_EQ(customers.checks[0].name, "customers_name_check");
  EXPECT_EQ(customers.checks[0].expression, "(name <> ''::text)");
  ASSERT_EQ(customers.foreign_keys.size(), 1u);
  EXPECT_EQ(customers.foreign_keys[0].referenced_table, (ObjectName{"public", "customers"}));
  EXPECT_EQ(customers.foreign_keys[0].on_delete, ForeignKeyAction::set_null);
  ASSERT_EQ(customers.indexes.size(), 1u);
  EXPECT_EQ(customers.indexes[0].name, "customers_lower_email");
  EXPECT_EQ(customers.indexes[0].keys, (std::vector<std::string>{"lower(email)"}));
  EXPECT_EQ(customers.indexes[0].method, "btree");

  const Table& products = table(model, "inventory", "products");
  EXPECT_EQ(products.primary_key->columns, (std::vector<std::string>{"sku", "variant"}));
  EXPECT_EQ(column(products, "price_with_tax").generated, "(price * 1.2)");
  EXPECT_EQ(column(products, "price_with_tax").default_value, std::nullopt);
  EXPECT_EQ(column(products, "stock").type, "inventory.positive");
  EXPECT_EQ(column(products, "price").type, "numeric(10,2)");

  const Table& orders = table(model, "public", "orders");
  EXPECT_EQ(column(orders, "id").default_value, "nextval('public.orders_id_seq'::regclass)");
  EXPECT_FALSE(column(orders, "id").identity);
  ASSERT_EQ(orders.indexes.size(), 1u);
  EXPECT_EQ(orders.indexes[0].keys, (std::vector<std::string>{"placed"}));
  EXPECT_EQ(orders.indexes[0].predicate, "(state <> 'happy'::public.mood)");
  EXPECT_FALSE(orders.indexes[0].unique);
  ASSERT_EQ(orders.foreign_keys.size(), 1u);
  EXPECT_EQ(orders.foreign_keys[0].on_delete, ForeignKeyAction::cascade);
  EXPECT_EQ(orders.foreign_keys[0].on_update, ForeignKeyAction::no_action);

  const Table& lines = table(model, "public", "order_lines");
  EXPECT_EQ(lines.primary_key->columns, (std::vector<std::string>{"order_id", "line"}));
  ASSERT_EQ(lines.unique_keys.size(), 1u);
  EXPECT_EQ(lines.unique_keys[0].name, "order_lines_unique_product");
  EXPECT_EQ(lines.unique_keys[0].columns, (std::vector<std::string>{"order_id", "sku", "variant"}));
  ASSERT_EQ(lines.foreign_keys.size(), 2u);
  const ForeignKey& to_orders = lines.foreign_keys[0];
  EXPECT_EQ(to_orders.name, "order_lines_order_id_fkey");
  EXPECT_EQ(to_orders.on_update, ForeignKeyAction::cascade);
  EXPECT_EQ(to_orders.on_delete, ForeignKeyAction::cascade);
  const ForeignKey& to_products = lines.foreign_keys[1];
  EXPECT_EQ(to_products.name, "order_lines_product_fkey");
  EXPECT_EQ(to_products.columns, (std::vector<std::string>{"sku", "variant"}));
  EXPECT_EQ(to_products.referenced_table, (ObjectName{"inventory", "products"}));
  EXPECT_EQ(to_products.referenced_columns, (std::vector<std::string>{"sku", "variant"}));
  EXPECT_EQ(to_products.on_delete, ForeignKeyAction::restrict);
  EXPECT_TRUE(to_products.definition.starts_with(
      "ALTER TABLE ONLY public.order_lines ADD CONSTRAINT order_lines_product_fkey FOREIGN KEY "
      "(sku, variant) REFERENCES inventory.products(sku, variant) ON DELETE RESTRICT"))
      << to_products.definition;

  // The partitions' copies of the parent's index are the parent's.
  const Table& events = table(model, "public", "events");
  ASSERT_EQ(events.indexes.size(), 1u);
  EXPECT_EQ(events.indexes[0].name, "events_at");
  EXPECT_TRUE(table(model, "public", "events_2026").indexes.empty());
  EXPECT_NE(table(model, "public", "events_2026").definition.find("PARTITION OF public.events"),
            std::string::npos);
}

TEST_F(PgIntrospectTest, ReadsTypesSequencesViewsRoutinesAndTriggers) {
  const SchemaModel model = support().read(*m_engine);
  ASSERT_EQ(model.types.size(), 4u);
  EXPECT_EQ(model.types[0].name, (ObjectName{"inventory", "positive"}));
  EXPECT_EQ(model.types[0].kind, TypeKind::domain);
  EXPECT_EQ(model.types[0].base_type, "integer");
  EXPECT_EQ(model.types[1].name, (ObjectName{"public", "address"}));
  EXPECT_EQ(model.types[1].kind, TypeKind::composite);
  EXPECT_EQ(model.types[2].name, (ObjectName{"public", "float_range"}));
  EXPECT_EQ(model.types[2].kind, TypeKind::range);
  EXPECT_EQ(model.types[2].base_type, "double precision");
  EXPECT_EQ(model.types[3].name, (ObjectName{"public", "mood"}));
  EXPECT_EQ(model.types[3].kind, TypeKind::enumeration);
  EXPECT_EQ(model.types[3].labels, (std::vector<std::string>{"sad", "ok", "happy"}));
  EXPECT_EQ(model.types[3].definition, "CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy')");

  // The serial column's sequence, not the identity column's.
  ASSERT_EQ(model.sequences.size(), 1u);
  EXPECT_EQ(model.sequences[0].name, (ObjectName{"public", "orders_id_seq"}));
  EXPECT_EQ(model.sequences[0].owned_by, "public.orders.id");

  std::vector<std::string> views;
  for (const View& view : model.views) views.push_back(view.name.display());
  EXPECT_EQ(views, (std::vector<std::string>{"inventory.stock_value", "public.order_totals",
                                             "public.big_orders", "inventory.aa_busy_customers"}));
  const View& busy = model.views[3];
  EXPECT_EQ(busy.depends_on,
            (std::vector<ObjectName>{{"public", "big_orders"}, {"public", "customers"}}));
  EXPECT_EQ(column_names(busy.columns), (std::vector<std::string>{"email", "items"}));
  EXPECT_FALSE(busy.materialized);
  const View& stock = model.views[0];
  EXPECT_TRUE(stock.materialized);
  EXPECT_TRUE(stock.definition.starts_with("CREATE MATERIALIZED VIEW inventory.stock_value AS\n"))
      << stock.definition;
  ASSERT_EQ(stock.indexes.size(), 1u);
  EXPECT_TRUE(stock.indexes[0].unique);
  EXPECT_EQ(model.views[2].comment, "orders of more than ten items");

  std::vector<std::string> routines;
  for (const Routine& routine : model.routines) {
    routines.push_back(routine.name.display() + "(" + routine.arguments + ") " + routine.language +
                       (routine.kind == RoutineKind::procedure ? " procedure" : ""));
  }
  EXPECT_EQ(routines, (std::vector<std::string>{
                          "inventory.restock(IN p_sku text, IN amount integer) plpgsql procedure",
                          "public.big_orders_of(c bigint) sql", "public.customer_count() sql",
                          "public.double_it(x integer) sql", "public.orders_of(c bigint) plpgsql",
                          "public.shout(t text) plpgsql", "public.touch_note() plpgsql"}));
  EXPECT_TRUE(model.routines[3].definition.starts_with(
      "CREATE OR REPLACE FUNCTION public.double_it(x integer)"))
      << model.routines[3].definition;

  ASSERT_EQ(model.triggers.size(), 2u);
  EXPECT_EQ(model.triggers[0].name, (ObjectName{"public", "events_touch"}));
  EXPECT_EQ(model.triggers[0].table, (ObjectName{"public", "events"}));
  EXPECT_EQ(model.triggers[1].name, (ObjectName{"public", "orders_touch"}));
  EXPECT_TRUE(model.triggers[1].definition.starts_with(
      "CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON public.orders"))
      << model.triggers[1].definition;
}

TEST_F(PgIntrospectTest, RenderIsTheEnginesSchemaAndIndependentOfCreationOrder) {
  const std::string text = support().render(support().read(*m_engine));
  EXPECT_EQ(schema_text(*m_engine), text);
  EXPECT_EQ(support().render(support().read(*m_engine)), text);

  auto other_db = make_test_database("postgres");
  other_db->query(std::string(k_schema_reordered));
  auto other = open_engine(*other_db);
  other->ensure_ledger();
  EXPECT_EQ(support().render(support().read(*other)), text);
}

TEST_F(PgIntrospectTest, ReadingChangesNothingAndKeepsTheSessionsSearchPath) {
  // Inside the caller's transaction, and in a transaction of its own.
  m_engine->begin();
  support().read(*m_engine);
  m_engine->execute(
      {"CREATE TABLE public.path_inside AS SELECT "
       "current_setting('search_path') AS path;",
       "t.sql", 1});
  m_engine->commit();
  support().read(*m_engine);
  m_engine->execute(
      {"CREATE TABLE public.path_outside AS SELECT "
       "current_setting('search_path') AS path;",
       "t.sql", 1});
  EXPECT_EQ(m_db->query("SELECT path FROM public.path_inside UNION ALL "
                        "SELECT path FROM public.path_outside"),
            (Rows{{"\"$user\", public"}, {"\"$user\", public"}}));
}

TEST_F(PgIntrospectTest, RenderLoadsWithPsqlAndThroughTheEngineAsPgDumpSeesIt) {
  expect_render_rebuilds(*m_db);
}

// What the rich schema leaves out: an extension, quoted names, an exclusion constraint, a
// primary key on a partitioned table with partitions of partitions and a default partition, a
// deferrable foreign key to it, an unlogged table, storage parameters, a column collation, a
// sequence of its own, UNIQUE NULLS NOT DISTINCT ... INCLUDE, a NOT VALID check, a view with
// options, inheritance from two tables whose names sort after the child's, and comments on a
// sequence, types and routines, and a default that calls an SQL function.
constexpr std::string_view k_edge_schema = R"sql(
CREATE EXTENSION IF NOT EXISTS citext;
CREATE SCHEMA "Reporting";
CREATE TABLE public.bookings (
  id integer NOT NULL,
  room text COLLATE "C" NOT NULL,
  during tsrange NOT NULL,
  guest public.citext,
  CONSTRAINT bookings_no_overlap EXCLUDE USING gist (during WITH &&)
) WITH (fillfactor = 70);
CREATE UNLOGGED TABLE public.scratch (k text PRIMARY KEY, v text);
CREATE TABLE public.tickets (
  no integer GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY 10 CACHE 20) PRIMARY KEY,
  other smallint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME public.other_numbers CYCLE)
);
CREATE SEQUENCE "Reporting"."Ticket Numbers" AS bigint START WITH 1000 INCREMENT BY 7 CACHE 5;
CREATE TABLE "Reporting"."Daily Totals" (
  "Day" date PRIMARY KEY,
  total numeric,
  ticket bigint DEFAULT nextval('"Reporting"."Ticket Numbers"')
);
COMMENT ON COLUMN "Reporting"."Daily Totals"."Day" IS 'the day';
CREATE TABLE public.measurements (
  sensor integer NOT NULL,
  at timestamptz NOT NULL,
  value double precision,
  PRIMARY KEY (sensor, at)
) PARTITION BY LIST (sensor);
CREATE TABLE public.measurements_1 PARTITION OF public.measurements FOR VALUES IN (1)
  PARTITION BY RANGE (at);
CREATE TABLE public.measurements_1_2026 PARTITION OF public.measurements_1
  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE public.measurements_other PARTITION OF public.measurements DEFAULT;
CREATE TABLE public.alerts (
  id integer PRIMARY KEY,
  sensor integer NOT NULL,
  at timestamptz NOT NULL,
  FOREIGN KEY (sensor, at) REFERENCES public.measurements (sensor, at) DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE public.tags (
  name text,
  owner integer,
  note text,
  CONSTRAINT tags_name_owner UNIQUE NULLS NOT DISTINCT (name, owner) INCLUDE (note)
);
ALTER TABLE public.tags ADD CONSTRAINT tags_note_check CHECK (note <> '') NOT VALID;
CREATE VIEW "Reporting".secure WITH (security_barrier) AS SELECT id FROM public.bookings;
COMMENT ON SEQUENCE "Reporting"."Ticket Numbers" IS 'one per ticket';
CREATE DOMAIN public.short_text AS text CHECK (length(VALUE) < 10);
COMMENT ON DOMAIN public.short_text IS 'a short text';
CREATE TYPE public.pair AS (a integer, b integer);
COMMENT ON TYPE public.pair IS 'two numbers';
CREATE FUNCTION public.add(p public.pair) RETURNS integer LANGUAGE sql IMMUTABLE
  RETURN p.a + p.b;
COMMENT ON FUNCTION public.add(public.pair) IS 'the sum';
CREATE PROCEDURE public.noop(IN x integer) LANGUAGE sql AS '';
COMMENT ON PROCEDURE public.noop(integer) IS 'does nothing';
CREATE FUNCTION public.next_code() RETURNS text LANGUAGE sql VOLATILE
  AS $$SELECT md5(random()::text)$$;
CREATE TABLE public.codes (code text DEFAULT public.next_code() PRIMARY KEY);
CREATE TABLE public.zoo_animals (name text NOT NULL CHECK (name <> ''), legs integer DEFAULT 4);
CREATE TABLE public.zoo_keepers (keeper text);
CREATE TABLE public.dogs (breed text, legs integer DEFAULT 4)
  INHERITS (public.zoo_animals, public.zoo_keepers);
)sql";

TEST(PgIntrospectEdgeTest, ReadsAndRebuildsWhatFewSchemasUse) {
  auto db = make_test_database("postgres");
  db->query(std::string(k_edge_schema));
  auto engine = open_engine(*db);
  const SchemaModel model = support().read(*engine);
  EXPECT_EQ(model.namespaces, (std::vector<std::string>{"Reporting"}));
  EXPECT_EQ(model.extensions,
            (std::vector<std::string>{"CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public"}));
  ASSERT_EQ(model.types.size(), 2u);
  EXPECT_EQ(model.types[0].comment, "two numbers");
  EXPECT_EQ(model.types[1].comment, "a short text");
  ASSERT_EQ(model.routines.size(), 3u);
  EXPECT_EQ(model.routines[0].comment, "the sum");
  EXPECT_EQ(model.routines[2].kind, RoutineKind::procedure);
  const Table& bookings = table(model, "public", "bookings");
  ASSERT_EQ(bookings.exclusions.size(), 1u);
  EXPECT_EQ(bookings.exclusions[0].expression, "EXCLUDE USING gist (during WITH &&)");
  EXPECT_EQ(column(bookings, "guest").type, "public.citext");
  const Table& measurements = table(model, "public", "measurements");
  EXPECT_EQ(measurements.primary_key->columns, (std::vector<std::string>{"sensor", "at"}));
  EXPECT_FALSE(table(model, "public", "measurements_1").primary_key);
  const Table& alerts = table(model, "public", "alerts");
  ASSERT_EQ(alerts.foreign_keys.size(), 1u);
  EXPECT_EQ(alerts.foreign_keys[0].referenced_table, (ObjectName{"public", "measurements"}));
  const Table& tags = table(model, "public", "tags");
  ASSERT_EQ(tags.unique_keys.size(), 1u);
  EXPECT_EQ(tags.unique_keys[0].columns, (std::vector<std::string>{"name", "owner"}));
  EXPECT_NE(table(model, "public", "tickets")
                .definition.find("no integer GENERATED BY DEFAULT AS IDENTITY (START WITH 100 "
                                 "INCREMENT BY 10 CACHE 20) NOT NULL,\n    other smallint "
                                 "GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME "
                                 "public.other_numbers CYCLE) NOT NULL"),
            std::string::npos)
      << table(model, "public", "tickets").definition;
  const Table& dogs = table(model, "public", "dogs");
  EXPECT_EQ(column_names(dogs.columns),
            (std::vector<std::string>{"name", "legs", "keeper", "breed"}));
  EXPECT_TRUE(dogs.checks.empty());
  EXPECT_EQ(dogs.definition,
            "CREATE TABLE public.dogs (\n    legs integer DEFAULT 4,\n    breed text\n)\n"
            "INHERITS (public.zoo_animals, public.zoo_keepers)");
  ASSERT_EQ(model.sequences.size(), 1u);
  EXPECT_EQ(model.sequences[0].name, (ObjectName{"Reporting", "Ticket Numbers"}));
  EXPECT_EQ(model.sequences[0].owned_by, "");
  EXPECT_EQ(model.sequences[0].comment, "one per ticket");

  expect_render_rebuilds(*db);
}

TEST_F(PgIntrospectTest, AnEmptyDatabaseRendersNothing) {
  auto empty_db = make_test_database("postgres");
  auto engine = open_engine(*empty_db);
  engine->ensure_ledger();
  const SchemaModel model = support().read(*engine);
  EXPECT_TRUE(model.empty());
  EXPECT_EQ(support().render(model), "");
  EXPECT_EQ(schema_text(*engine), "");
}

TEST_F(PgIntrospectTest, LedgerDdlCreatesTheLedgerTheEngineUses) {
  auto db = make_test_database("postgres");
  auto engine = open_engine(*db);
  engine->execute({support().ledger_ddl(), "ledger.sql", 1});
  const auto ledger = engine->read_ledger();
  ASSERT_TRUE(ledger);
  EXPECT_TRUE(ledger->empty());
  engine->ensure_ledger();
  engine->set_meta(k_meta_environment, "development");
  EXPECT_EQ(engine->meta(k_meta_environment), "development");
  const std::string now = db->query("SELECT " + std::string(support().utc_now_sql) + ", " +
                                    support().quote_literal("it's") + " = 'it''s'")
                              .at(0)
                              .at(0);
  ASSERT_EQ(now.size(), 20u) << now;
  EXPECT_EQ(now[10], 'T');
  EXPECT_EQ(now.back(), 'Z');
}

}  // namespace
}  // namespace dbinit::test
