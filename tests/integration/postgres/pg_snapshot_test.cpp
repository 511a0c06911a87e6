// Postgres snapshots on the test server: dump and load of a rich database, judged by pg_dump's
// own plain output of the copy against the original's; loads over a damaged database, a dump
// while another session writes, the plain SQL script through psql and restore(), template
// copies, a missing pg_dump, a load killed at many moments and a load of a corrupt file.

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engines/engine.h"
#include "engines/postgres/postgres_snapshot.h"
#include "engines/snapshot.h"
#include "engines/url.h"
#include "support/harness.h"
#include "util/error.h"
#include "util/stream_file.h"

namespace dbinit::test {
namespace {

// Two schemas (one with a non-ASCII name), an extension, enum, domain and composite types,
// identity, serial and generated columns, numerics at full precision, NaN and infinities,
// timestamptz, json and jsonb, arrays, a bytea of several MB, NULLs beside empty strings, text
// with tabs, newlines and backslashes, views, a materialized view over a view, functions, a
// procedure, triggers, a partitioned table, a free-standing sequence, comments, grants and a
// revoked privilege, a table of another owner, an aggregate, row-level security with a policy, a
// cast, an event trigger and dbinit's own tables.
constexpr std::string_view k_fixture = R"sql(
CREATE EXTENSION citext;
CREATE SCHEMA inventory;
CREATE SCHEMA "Ünïcode Schema";
COMMENT ON SCHEMA inventory IS 'stock and prices';
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN inventory.positive AS integer CHECK (VALUE > 0);
CREATE TYPE public.address AS (street text, city text, zip varchar(10));
CREATE TABLE public.customers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email citext NOT NULL UNIQUE,
  feeling public.mood DEFAULT 'ok',
  home public.address,
  created timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE public.customers IS 'people who buy; "quoted"';
COMMENT ON COLUMN public.customers.email IS 'unique, it''s checked';
CREATE TABLE inventory.products (
  sku text PRIMARY KEY,
  price numeric(40, 20) NOT NULL CHECK (price >= 0),
  stock inventory.positive,
  price_with_tax numeric GENERATED ALWAYS AS (price * 1.2) STORED
);
CREATE TABLE public.orders (
  id serial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES public.customers (id) ON DELETE CASCADE,
  sku text REFERENCES inventory.products (sku),
  state public.mood NOT NULL DEFAULT 'ok'
);
CREATE TABLE public.samples (
  id integer PRIMARY KEY,
  f float8,
  n numeric,
  j json,
  jb jsonb,
  ints integer[],
  texts text[],
  bin bytea,
  t text,
  at timestamptz,
  span interval
);
CREATE TABLE "Ünïcode Schema"."Täble ☃" ("spalte ü" text, "Mixed Case" integer);
CREATE TABLE public.events (id bigint NOT NULL, at date NOT NULL, payload jsonb)
  PARTITION BY RANGE (at);
CREATE TABLE public.events_2026 PARTITION OF public.events
  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE public.events_2027 PARTITION OF public.events
  FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
CREATE INDEX events_at ON public.events (at);
CREATE INDEX samples_f ON public.samples (f);
CREATE VIEW public.customer_orders AS
  SELECT c.email, count(o.id) AS orders FROM public.customers c
  LEFT JOIN public.orders o ON o.customer_id = c.id GROUP BY c.email;
CREATE MATERIALIZED VIEW inventory.busy AS
  SELECT email, orders FROM public.customer_orders WHERE orders > 1;
CREATE UNIQUE INDEX busy_email ON inventory.busy (email);
CREATE FUNCTION public.shout(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN upper(t) || '!';
END
$$;
CREATE PROCEDURE inventory.restock(p_sku text, amount integer) LANGUAGE sql AS $$
  UPDATE inventory.products SET stock = stock + amount WHERE sku = p_sku
$$;
CREATE FUNCTION public.trim_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.t := NEW.t;
  RETURN NEW;
END
$$;
CREATE TRIGGER samples_trim BEFORE INSERT OR UPDATE ON public.samples
  FOR EACH ROW EXECUTE FUNCTION public.trim_text();
CREATE SEQUENCE inventory.counter START 100;
SELECT nextval('inventory.counter'), nextval('inventory.counter');
REVOKE USAGE ON SCHEMA public FROM PUBLIC;
COMMENT ON SCHEMA public IS 'the application''s schema';
DO $$
BEGIN
  CREATE ROLE dbinit_test_reader;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;
GRANT SELECT ON public.customers TO dbinit_test_reader;
GRANT USAGE ON SCHEMA inventory TO dbinit_test_reader;
ALTER TABLE inventory.products OWNER TO dbinit_test_reader;
CREATE AGGREGATE public.total(integer) (SFUNC = int4pl, STYPE = integer);
ALTER TABLE public.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_mine ON public.orders USING (state <> 'sad');
CREATE CAST (public.address AS text) WITH INOUT;
CREATE FUNCTION public.note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  NULL;
END
$$;
CREATE EVENT TRIGGER note_ddl ON ddl_command_end EXECUTE FUNCTION public.note_ddl();

INSERT INTO public.customers (email, feeling, home, created)
  SELECT 'user' || i || '@example.com', (ARRAY['sad', 'ok', 'happy'])[1 + i % 3]::public.mood,
         ROW('Straße ' || i, 'Zürich', lpad(i::text, 5, '0'))::public.address,
         timestamptz '2026-01-01 00:00:00+00' + i * interval '1 hour 1.5 second'
  FROM generate_series(1, 500) i;
INSERT INTO inventory.products (sku, price, stock)
  SELECT 'sku-' || i, 12345678901234567890.12345678901234567890 / i, i FROM generate_series(1, 50) i;
INSERT INTO public.orders (customer_id, sku, state)
  SELECT 1 + i % 500, 'sku-' || (1 + i % 50), 'happy' FROM generate_series(1, 2000) i;
INSERT INTO public.samples VALUES
  (1, 'NaN', 'NaN', '{"a": [1, 2, {"b": null}]}', '{"z": 1, "a": "ü"}', ARRAY[1, NULL, 3],
   ARRAY['a b', NULL, '', 'x"y', 'back\slash'], '\x00ff10', '', '2026-06-01 12:00:00.123456+02',
   '1 year 2 months 3 days 04:05:06.789'),
  (2, 'Infinity', 'Infinity', 'null', '[]', '{}', '{}', '', NULL, 'infinity', '-1 second'),
  (3, '-Infinity', '-Infinity', '"text"', '"ü"', NULL, NULL, NULL, E'tab\there\nnewline\\ \\N',
   '-infinity', NULL),
  (4, 1.7976931348623157e308, 0.000000000000000000000000000000000000000000000000001,
   '{}', '{}', ARRAY[2147483647], ARRAY['日本語', '☃'], NULL, 'grüße ☃ 日本', NULL, NULL),
  (5, -0.0, -123456789012345678901234567890.123456789012345678901234567890, NULL, NULL, NULL,
   NULL, (SELECT string_agg(sha256(i::text::bytea), ''::bytea) FROM generate_series(1, 150000) i),
   'a 4.8 MB bytea', NULL, NULL),
  (6, 5e-324, 1e-300, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO "Ünïcode Schema"."Täble ☃" VALUES ('wert ✓', 1), (NULL, NULL), ('', 0);
INSERT INTO public.events
  SELECT i, date '2026-01-01' + i % 700, jsonb_build_object('n', i) FROM generate_series(1, 3000) i;
REFRESH MATERIALIZED VIEW inventory.busy;
)sql";

std::unique_ptr<Engine> open_engine(const TestDatabase& db) {
  auto engine = make_engine(parse_database_url(db.url()));
  engine->open(true);
  return engine;
}

const SnapshotSupport& support() {
  return *find_engine("postgres")->snapshot;
}

/// pg_dump's plain output (schema and data) of `db`, without the `\restrict` lines whose key
/// differs between any two runs.
std::string full_dump(const TestDatabase& db) {
  RunResult result = run_program({postgres_client("pg_dump"), "--dbname=" + db.url()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::istringstream lines(result.out);
  std::string out;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("\\restrict") || line.starts_with("\\unrestrict")) continue;
    out += line + "\n";
  }
  return out;
}

/// Fills `db` with the fixture and dbinit's ledger.
void fill(TestDatabase& db) {
  db.query(std::string(k_fixture));
  auto engine = open_engine(db);
  engine->ensure_ledger();
  LedgerEntry entry;
  entry.version = "1";
  entry.name = "0001-init.sql";
  entry.checksum = "sha256:00";
  entry.applied_at = "2026-11-22T03:16:26Z";
  entry.applied_by = "test@host dbinit 0.1.0";
  entry.down_sql = "DROP TABLE x;";
  engine->record(entry);
  engine->set_meta("environment", "development");
}

SnapshotDump dump_to(const TestDatabase& db, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  auto engine = open_engine(db);
  NoProgress progress;
  return support().dump(*engine, dir, progress);
}

void load_from(const TestDatabase& db, const std::filesystem::path& dir, const SnapshotDump& dump) {
  auto engine = open_engine(db);
  engine->lock(std::chrono::seconds(10));
  NoProgress progress;
  support().load(*engine, dir, dump.files, progress);
  engine->unlock();
}

std::int64_t rows_of(const SnapshotDump& dump, std::string_view table) {
  for (const SnapshotTable& t : dump.tables) {
    if (t.name == table) return t.rows;
  }
  return -1;
}

class PgSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fill(*m_db);
    m_original = full_dump(*m_db);
    for (std::string_view part :
         {"COPY public.samples", "CREATE EVENT TRIGGER note_ddl", "CREATE POLICY orders_mine",
          "GRANT SELECT ON TABLE public.customers TO dbinit_test_reader",
          "ALTER TABLE inventory.products OWNER TO dbinit_test_reader",
          "CREATE CAST (public.address AS text)", "CREATE EXTENSION IF NOT EXISTS citext",
          "REVOKE USAGE ON SCHEMA public FROM PUBLIC", "REFRESH MATERIALIZED VIEW inventory.busy",
          "SELECT pg_catalog.setval('inventory.counter', 101, true)"}) {
      ASSERT_NE(m_original.find(part), std::string::npos) << part;
    }
  }

  std::unique_ptr<TestDatabase> m_db = make_test_database("postgres");
  std::string m_original;
  TempDir m_dir;
};

TEST_F(PgSnapshotTest, LoadIntoAnEmptyDatabaseGivesTheSamePgDump) {
  const SnapshotDump dump = dump_to(*m_db, m_dir.path() / "snap");
  EXPECT_TRUE(dump.server_version.starts_with("PostgreSQL 15")) << dump.server_version;
  ASSERT_TRUE(dump.ledger.has_value());
  ASSERT_EQ(dump.ledger->size(), 1u);
  EXPECT_EQ(dump.ledger->front().name, "0001-init.sql");
  EXPECT_EQ(rows_of(dump, "public.customers"), 500);
  EXPECT_EQ(rows_of(dump, "public.orders"), 2000);
  EXPECT_EQ(rows_of(dump, "public.samples"), 6);
  EXPECT_EQ(std::to_string(rows_of(dump, "public.events_2026")),
            m_db->query("SELECT count(*) FROM public.events_2026")[0][0]);
  EXPECT_EQ(rows_of(dump, "public.events_2026") + rows_of(dump, "public.events_2027"), 3000);
  EXPECT_EQ(rows_of(dump, "Ünïcode Schema.Täble ☃"), 3);
  EXPECT_EQ(rows_of(dump, "public.dbinit_migrations"), 1);
  EXPECT_EQ(rows_of(dump, "public.dbinit_meta"), 1);
  EXPECT_EQ(rows_of(dump, "public.events"), -1) << "a partitioned table has no rows of its own";
  for (const WrittenFile& file : dump.files) {
    EXPECT_TRUE(std::filesystem::exists(m_dir.path() / "snap" / file.name)) << file.name;
    EXPECT_EQ(std::filesystem::file_size(m_dir.path() / "snap" / file.name), file.size);
  }

  auto copy = make_test_database("postgres");
  copy->query("SELECT 1");
  load_from(*copy, m_dir.path() / "snap", dump);
  EXPECT_EQ(full_dump(*copy), m_original);
  // The copy's ledger is the original's.
  EXPECT_EQ(copy->query("SELECT name, down_sql FROM public.dbinit_migrations"),
            (Rows{{"0001-init.sql", "DROP TABLE x;"}}));
}

TEST_F(PgSnapshotTest, LoadOverADamagedDatabaseRestoresItExactly) {
  const SnapshotDump dump = dump_to(*m_db, m_dir.path() / "snap");
  m_db->query(R"sql(
    DROP TABLE public.orders CASCADE;
    DELETE FROM public.customers WHERE id % 2 = 0;
    UPDATE public.samples SET t = 'changed';
    ALTER TABLE inventory.products ADD COLUMN extra int;
    CREATE TABLE public.stray (x int);
    CREATE VIEW public.stray_view AS SELECT 1 AS one;
    CREATE FUNCTION public.stray_fn() RETURNS int LANGUAGE sql AS 'SELECT 1';
    CREATE TYPE public.stray_type AS ENUM ('x');
    CREATE CAST (public.stray_type AS text) WITH INOUT;
    CREATE SCHEMA stray_schema;
    CREATE TABLE stray_schema.t (x int);
    DROP SCHEMA "Ünïcode Schema" CASCADE;
    DROP EXTENSION citext CASCADE;
    CREATE EXTENSION pgcrypto;
    SELECT setval('inventory.counter', 5000);
    COMMENT ON SCHEMA public IS 'another comment';
    GRANT CREATE ON SCHEMA public TO PUBLIC;
    INSERT INTO public.dbinit_migrations (version, name, checksum, state, applied_at, duration_ms,
      applied_by) VALUES ('2', '0002-x.sql', 'sha256:11', 'applied', 'now', 1, 'me');
    -- Last: it refuses every DDL statement after it, until the load drops it.
    CREATE FUNCTION public.refuse_ddl() RETURNS event_trigger LANGUAGE plpgsql AS
      'BEGIN RAISE EXCEPTION ''no DDL here''; END';
    CREATE EVENT TRIGGER refuse_ddl ON ddl_command_start EXECUTE FUNCTION public.refuse_ddl();
  )sql");
  ASSERT_NE(full_dump(*m_db), m_original);
  load_from(*m_db, m_dir.path() / "snap", dump);
  EXPECT_EQ(full_dump(*m_db), m_original);
}

TEST_F(PgSnapshotTest, ADumpWhileAnotherSessionWritesIsConsistent) {
  m_db->query(
      "CREATE TABLE public.left_side (id int PRIMARY KEY); "
      "CREATE TABLE public.right_side (id int PRIMARY KEY); "
      "INSERT INTO public.left_side SELECT generate_series(1, 200000); "
      "INSERT INTO public.right_side SELECT generate_series(1, 200000);");
  std::atomic<bool> stop{false};
  std::atomic<int> commits{0};
  std::string error;
  std::thread writer([&] {
    PGconn* conn = PQconnectdb(m_db->url().c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      error = PQerrorMessage(conn);
      PQfinish(conn);
      return;
    }
    for (int i = 200001; !stop; ++i) {
      // Each transaction adds one row to both tables, so any one moment has as many on each side.
      const std::string sql = "BEGIN; INSERT INTO public.left_side VALUES (" + std::to_string(i) +
                              "); INSERT INTO public.right_side VALUES (" + std::to_string(i) +
                              "); COMMIT;";
      PGresult* result = PQexec(conn, sql.c_str());
      if (PQresultStatus(result) != PGRES_COMMAND_OK) error = PQresultErrorMessage(result);
      PQclear(result);
      ++commits;
    }
    PQfinish(conn);
  });
  while (commits < 20) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const int before = commits;
  const SnapshotDump dump = dump_to(*m_db, m_dir.path() / "snap");
  const int after = commits;
  stop = true;
  writer.join();
  ASSERT_EQ(error, "");
  EXPECT_GT(after, before) << "the writer made no progress during the dump";
  const std::int64_t left = rows_of(dump, "public.left_side");
  EXPECT_EQ(left, rows_of(dump, "public.right_side"));
  EXPECT_GT(left, 200000);

  auto copy = make_test_database("postgres");
  copy->query("SELECT 1");
  load_from(*copy, m_dir.path() / "snap", dump);
  EXPECT_EQ(copy->query("SELECT count(*), max(id) FROM public.left_side"),
            copy->query("SELECT count(*), max(id) FROM public.right_side"));
  EXPECT_EQ(copy->query("SELECT count(*) FROM public.left_side"), (Rows{{std::to_string(left)}}));
}

TEST_F(PgSnapshotTest, ThePlainScriptRunsThroughPsqlAndRestore) {
  const auto file = m_dir.path() / "dump.sql";
  {
    auto engine = open_engine(*m_db);
    FileSink sink(m_dir.path(), "dump.sql", {});
    NoProgress progress;
    support().dump_sql(*engine, sink, progress);
    sink.finish();
  }
  auto by_psql = make_test_database("postgres");
  by_psql->query("SELECT 1");
  RunResult psql = run_program({postgres_client("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f",
                                file.string(), "--dbname=" + by_psql->url()});
  ASSERT_EQ(psql.exit_code, 0) << psql.err;
  EXPECT_EQ(full_dump(*by_psql), m_original);

  auto by_restore = make_test_database("postgres");
  auto engine = open_engine(*by_restore);
  engine->begin();
  engine->restore({read_file(file), "dump.sql", 1});
  engine->commit();
  EXPECT_EQ(full_dump(*by_restore), m_original);
}

TEST_F(PgSnapshotTest, ThePlainScriptDoesNotDependOnTheSessionsDateStyle) {
  // The rows are written in text: a session that shows dates as 03/12/2026 and intervals in the
  // SQL standard's style must still write what any session reads back the same.
  const auto file = m_dir.path() / "dump.sql";
  {
    auto engine = make_engine(parse_database_url(
        m_db->url() + "?options=-c%20datestyle%3DSQL%2CDMY%20-c%20intervalstyle%3Dsql_standard"));
    engine->open(false);
    FileSink sink(m_dir.path(), "dump.sql", {});
    NoProgress progress;
    support().dump_sql(*engine, sink, progress);
    sink.finish();
  }
  auto by_psql = make_test_database("postgres");
  by_psql->query("SELECT 1");
  RunResult psql = run_program({postgres_client("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f",
                                file.string(), "--dbname=" + by_psql->url()});
  ASSERT_EQ(psql.exit_code, 0) << psql.err;
  EXPECT_EQ(full_dump(*by_psql), m_original);
}

TEST_F(PgSnapshotTest, TemplateCopiesRoundTrip) {
  const std::string name = "dbinit_test_template_" + std::to_string(::getpid());
  auto engine = open_engine(*m_db);
  const SnapshotDump dump = support().dump_template(*engine, name);
  EXPECT_EQ(rows_of(dump, "public.customers"), 500);
  ASSERT_TRUE(dump.ledger.has_value());
  EXPECT_EQ(dump.ledger->size(), 1u);
  EXPECT_TRUE(dump.files.empty());
  EXPECT_EQ(m_db->query("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                        "WHERE datname = '" +
                        name + "'"),
            (Rows{{"dbinit snapshot of database \"" +
                   m_db->query("SELECT current_database()")[0][0] + "\""}}));

  m_db->query("DROP TABLE public.orders CASCADE; CREATE TABLE public.stray (x int);");
  ASSERT_NE(full_dump(*m_db), m_original);
  engine->lock(std::chrono::seconds(10));
  support().load_template(*engine, name);
  engine->unlock();
  EXPECT_EQ(full_dump(*m_db), m_original);
  // The engine is open on the replaced database.
  EXPECT_TRUE(engine->read_ledger().has_value());

  // Another session on the database stops the copy, and the error names it.
  PGconn* other = PQconnectdb((m_db->url() + "?application_name=the_other_session").c_str());
  ASSERT_EQ(PQstatus(other), CONNECTION_OK) << PQerrorMessage(other);
  m_db->query("CREATE TABLE public.after_copy (x int)");
  try {
    engine->lock(std::chrono::seconds(10));
    support().load_template(*engine, name);
    ADD_FAILURE() << "load_template went on beside another session";
  } catch (const Error& error) {
    EXPECT_NE(error.message().find("the_other_session"), std::string::npos) << error.message();
    EXPECT_EQ(error.state, "nothing was changed");
  }
  try {
    support().dump_template(*engine, name + "_2");
    ADD_FAILURE() << "dump_template went on beside another session";
  } catch (const Error& error) {
    EXPECT_NE(error.message().find("the_other_session"), std::string::npos) << error.message();
  }
  PQfinish(other);
  EXPECT_EQ(m_db->query("SELECT count(*) FROM public.after_copy"), (Rows{{"0"}}));
  EXPECT_TRUE(engine->read_ledger().has_value());

  support().drop_template(*engine, name);
  EXPECT_EQ(m_db->query("SELECT count(*) FROM pg_database WHERE datname = '" + name + "'"),
            (Rows{{"0"}}));
}

TEST_F(PgSnapshotTest, AMissingPgDumpIsAClearError) {
  TempDir empty;
  std::filesystem::create_directories(empty.path() / "14" / "bin");
  set_postgres_client_root(empty.path());
  try {
    dump_to(*m_db, m_dir.path() / "snap");
    ADD_FAILURE() << "dump went on without pg_dump";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::config);
    EXPECT_NE(error.hint.find("postgresql-client-15"), std::string::npos) << error.hint;
  }
  try {
    auto engine = open_engine(*m_db);
    FileSink sink(m_dir.path(), "dump.sql", {});
    NoProgress progress;
    support().dump_sql(*engine, sink, progress);
    ADD_FAILURE() << "dump_sql went on without pg_dump";
  } catch (const Error& error) {
    EXPECT_NE(error.hint.find("postgresql-client-15"), std::string::npos) << error.hint;
  }
  set_postgres_client_root("/usr/lib/postgresql");
}

TEST_F(PgSnapshotTest, LargeObjectsAreRefusedRatherThanLeftOut) {
  m_db->query("SELECT lo_from_bytea(0, 'a large object')");
  try {
    dump_to(*m_db, m_dir.path() / "snap");
    ADD_FAILURE() << "dump left the large object out";
  } catch (const Error& error) {
    EXPECT_NE(error.message().find("1 large objects"), std::string::npos) << error.message();
  }
}

/// Writes `data` as the zstd-compressed file `name` of `dir`, replacing it.
void replace_compressed(const std::filesystem::path& dir, const std::string& name,
                        std::string_view data) {
  std::filesystem::remove(dir / name);
  FileSink sink(dir, name, {1, 0});
  sink.write(data);
  sink.finish();
}

TEST_F(PgSnapshotTest, ACorruptDataFileLeavesTheDatabaseAsItWas) {
  const auto dir = m_dir.path() / "snap";
  const SnapshotDump dump = dump_to(*m_db, dir);
  m_db->query("DROP TABLE public.orders CASCADE; CREATE TABLE public.stray (x int);");
  const std::string before = full_dump(*m_db);
  std::string data_file;
  for (const WrittenFile& file : dump.files) {
    if (file.name.starts_with("data-")) data_file = file.name;
  }
  ASSERT_FALSE(data_file.empty());

  // Valid compression around rows the server refuses: COPY fails.
  replace_compressed(dir, data_file, std::string("PGCOPY\n\xff\r\n\0", 11) + "not rows at all");
  try {
    load_from(*m_db, dir, dump);
    ADD_FAILURE() << "a corrupt data file loaded";
  } catch (const Error& error) {
    EXPECT_NE(error.message().find(data_file), std::string::npos) << error.full_message();
    EXPECT_EQ(error.state, "nothing was changed (the load was rolled back)");
  }
  EXPECT_EQ(full_dump(*m_db), before);

  // A damaged compressed stream: reading fails in the middle of the copy.
  {
    std::filesystem::remove(dir / data_file);
    std::ofstream out(dir / data_file, std::ios::binary);
    out << std::string("\x28\xb5\x2f\xfd garbage that is not zstd", 30);
  }
  EXPECT_THROW(load_from(*m_db, dir, dump), Error);
  EXPECT_EQ(full_dump(*m_db), before);
}

TEST_F(PgSnapshotTest, ALoadKilledAtAnyMomentLeavesTheDatabaseAsItWas) {
  // Two snapshots: the fixture (a) and a damaged version of it (b). Each round a child process
  // loads the one the database does not hold and is killed after a growing delay; the database
  // must then hold exactly one of the two.
  const auto dir_a = m_dir.path() / "a";
  const auto dir_b = m_dir.path() / "b";
  const SnapshotDump dump_a = dump_to(*m_db, dir_a);
  m_db->query(
      "DROP TABLE public.orders CASCADE; DELETE FROM public.samples WHERE id > 3; "
      "CREATE TABLE public.stray (x int); INSERT INTO public.stray VALUES (1);");
  const SnapshotDump dump_b = dump_to(*m_db, dir_b);
  const std::string text_b = full_dump(*m_db);
  const std::string text_a = m_original;
  ASSERT_NE(text_a, text_b);

  auto load_in_child = [&](const std::filesystem::path& dir, const SnapshotDump& dump) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      int code = 0;
      try {
        load_from(*m_db, dir, dump);
      } catch (...) {
        code = 1;
      }
      ::_exit(code);
    }
    return pid;
  };
  // How long a whole load takes.
  const auto start = std::chrono::steady_clock::now();
  const pid_t timed = load_in_child(dir_a, dump_a);
  int status = 0;
  ::waitpid(timed, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const double seconds = seconds_since(start);
  ASSERT_EQ(full_dump(*m_db), text_a);

  bool holds_a = true;
  int interrupted = 0;
  constexpr int k_rounds = 24;
  for (int round = 0; round < k_rounds; ++round) {
    const auto delay = std::chrono::microseconds(
        static_cast<std::int64_t>(seconds * 1e6 * round / (k_rounds - 4)));
    const pid_t pid = holds_a ? load_in_child(dir_b, dump_b) : load_in_child(dir_a, dump_a);
    std::this_thread::sleep_for(delay);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    // The server notices the closed connection and rolls back; wait until it has.
    for (int i = 0; i < 100; ++i) {
      if (m_db->query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND pid <> pg_backend_pid()") == Rows{{"0"}}) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const std::string now = full_dump(*m_db);
    const std::string& before = holds_a ? text_a : text_b;
    const std::string& loaded = holds_a ? text_b : text_a;
    if (now == before) {
      ++interrupted;
    } else {
      ASSERT_EQ(now, loaded) << "round " << round
                             << ": the database is neither as before nor "
                                "as the snapshot";
      holds_a = !holds_a;
    }
  }
  EXPECT_GE(interrupted, 12) << "too few loads were interrupted to test anything";
}

}  // namespace
}  // namespace dbinit::test
