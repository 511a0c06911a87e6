// The MySQL schema model read from the real test server (engines/mysql/mysql_introspect.cpp), on a
// fixture with most of what MariaDB schemas hold: composite and self-referencing foreign keys with
// actions, unique keys, checks, a generated column, defaults, ENUM and SET, comments, FULLTEXT,
// SPATIAL, HASH and prefix indexes, a sequence, views reading views, a view calling a function,
// procedures and triggers. The render must not depend on the order objects were created in, and
// must rebuild the same database through the mariadb shell and through dbinit's engine.

#include <gmock/gmock.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <vector>

#include "engines/engine.h"
#include "engines/url.h"
#include "support/harness.h"
#include "util/error.h"

namespace dbinit::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const SchemaSupport& support() {
  return *find_engine("mysql")->schema;
}

// A database on the test server and an engine opened on it (created by the engine).
struct Opened {
  std::unique_ptr<TestDatabase> db = make_test_database("mysql");
  std::unique_ptr<Engine> engine = make_engine(parse_database_url(db->url()));
  Opened() { engine->open(true); }
  std::string name() const { return parse_database_url(db->url()).database; }
};

// The fixture, one object per script.
const std::vector<std::string>& fixture() {
  static const std::vector<std::string> objects = {
      // 0
      "CREATE TABLE customers (\n"
      "  id INT NOT NULL AUTO_INCREMENT,\n"
      "  email VARCHAR(190) NOT NULL,\n"
      "  name VARCHAR(120) NOT NULL DEFAULT '' COMMENT 'display name',\n"
      "  status ENUM('new','active','gone') NOT NULL DEFAULT 'new',\n"
      "  flags SET('vip','beta') DEFAULT NULL,\n"
      "  referrer_id INT NULL,\n"
      "  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n"
      "  bio TEXT,\n"
      "  PRIMARY KEY (id),\n"
      "  UNIQUE KEY customers_email (email),\n"
      "  KEY customers_name_prefix (name(10)),\n"
      "  FULLTEXT KEY customers_bio (bio),\n"
      "  CONSTRAINT customers_referrer FOREIGN KEY (referrer_id) REFERENCES customers (id)\n"
      "    ON DELETE SET NULL,\n"
      "  CONSTRAINT customers_email_at CHECK (email LIKE '%@%')\n"
      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='people who buy';",
      // 1
      "CREATE TABLE orders (\n"
      "  customer_id INT NOT NULL,\n"
      "  order_no INT NOT NULL,\n"
      "  placed_on DATE NOT NULL,\n"
      "  total DECIMAL(10,2) NOT NULL DEFAULT 0.00,\n"
      "  tax DECIMAL(10,2) AS (total * 0.2) STORED,\n"
      "  PRIMARY KEY (customer_id, order_no),\n"
      "  UNIQUE KEY orders_placed (placed_on, customer_id, order_no),\n"
      "  CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)\n"
      "    ON DELETE CASCADE ON UPDATE CASCADE,\n"
      "  CONSTRAINT orders_total_positive CHECK (total >= 0)\n"
      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
      // 2
      "CREATE TABLE order_lines (\n"
      "  customer_id INT NOT NULL,\n"
      "  order_no INT NOT NULL,\n"
      "  line_no SMALLINT NOT NULL,\n"
      "  sku CHAR(12) NOT NULL,\n"
      "  quantity INT NOT NULL DEFAULT 1 CHECK (quantity > 0),\n"
      "  PRIMARY KEY (customer_id, order_no, line_no),\n"
      "  KEY order_lines_sku (sku),\n"
      "  CONSTRAINT order_lines_order FOREIGN KEY (customer_id, order_no)\n"
      "    REFERENCES orders (customer_id, order_no) ON DELETE CASCADE\n"
      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
      // 3
      "CREATE TABLE lookups (code CHAR(3) NOT NULL, label VARCHAR(40),\n"
      "  KEY lookups_code (code) USING HASH) ENGINE=MEMORY DEFAULT CHARSET=utf8mb4;",
      // 4
      "CREATE TABLE places (id INT NOT NULL PRIMARY KEY, pos POINT NOT NULL,\n"
      "  SPATIAL KEY places_pos (pos)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
      // 5
      "CREATE SEQUENCE invoice_numbers START WITH 1000 INCREMENT BY 1;",
      // 6
      "DELIMITER ;;\n"
      "CREATE FUNCTION order_label(c INT, n INT) RETURNS VARCHAR(40) DETERMINISTIC\n"
      "BEGIN\n"
      "  RETURN CONCAT('order ', c, '/', n, ';');\n"
      "END;;\n"
      "DELIMITER ;\n",
      // 7
      "DELIMITER $$\n"
      "CREATE PROCEDURE close_customer(IN who INT)\n"
      "BEGIN\n"
      "  UPDATE customers SET status = 'gone' WHERE id = who;\n"
      "  DELETE FROM orders WHERE customer_id = who;\n"
      "END$$\n"
      "DELIMITER ;\n",
      // 8
      "CREATE VIEW active_customers AS SELECT id, email, name FROM customers\n"
      "  WHERE status = 'active';",
      // 9
      "CREATE VIEW customer_totals AS SELECT c.id, c.email, SUM(o.total) AS spent\n"
      "  FROM active_customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.email;",
      // 10
      "CREATE VIEW a_big_spenders AS SELECT id, email FROM customer_totals WHERE spent > 1000;",
      // 11
      "CREATE VIEW order_labels AS SELECT customer_id, order_no,\n"
      "  order_label(customer_id, order_no) AS label FROM orders;",
      // 12
      "DELIMITER ;;\n"
      "CREATE TRIGGER orders_bi BEFORE INSERT ON orders FOR EACH ROW\n"
      "BEGIN\n"
      "  IF NEW.total < 0 THEN SET NEW.total = 0; END IF;\n"
      "END;;\n"
      "DELIMITER ;\n",
      // 13
      "CREATE TRIGGER customers_bu BEFORE UPDATE ON customers FOR EACH ROW\n"
      "  SET NEW.email = LOWER(NEW.email);",
      // 14
      "CREATE ALGORITHM=MERGE SQL SECURITY INVOKER VIEW recent_orders AS\n"
      "  SELECT customer_id, order_no FROM orders WHERE placed_on > '2020-01-01';",
  };
  return objects;
}

// Creates the fixture in `order` (indexes into fixture()), foreign key checks off.
void create_fixture(Engine& engine, const std::vector<int>& order) {
  engine.set_foreign_keys(false);
  for (int i : order) {
    engine.execute({fixture().at(static_cast<std::size_t>(i)), "fixture.sql", 1});
  }
  engine.set_foreign_keys(true);
}

const std::vector<int> k_forward = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
const std::vector<int> k_shuffled = {6, 7, 5, 4, 3, 2, 1, 14, 0, 13, 12, 11, 8, 9, 10};

/// mariadb-dump --no-data of `db` with routines and triggers, without dbinit's tables, comments
/// and AUTO_INCREMENT counters.
std::string dump_schema(const TestDatabase& db) {
  const std::string name = parse_database_url(db.url()).database;
  std::vector<std::string> argv = mariadb_client("mariadb-dump", db);
  for (const char* option :
       {"--no-data", "--skip-dump-date", "--routines", "--triggers", "--skip-comments"}) {
    argv.emplace_back(option);
  }
  argv.push_back("--ignore-table=" + name + ".dbinit_migrations");
  argv.push_back("--ignore-table=" + name + ".dbinit_meta");
  argv.push_back(name);
  RunResult dump = run_program(argv);
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  return std::regex_replace(dump.out, std::regex(" AUTO_INCREMENT=[0-9]+"), "");
}

std::string name_text(const ObjectName& name) {
  return name.display();
}
std::string name_text(const std::string& name) {
  return name;
}

std::vector<std::string> names_of(const auto& list) {
  std::vector<std::string> names;
  for (const auto& item : list) names.push_back(name_text(item.name));
  return names;
}

const Table& table_of(const SchemaModel& model, const std::string& name) {
  const Table* table = model.find_table({"", name});
  if (!table) throw std::runtime_error("no table " + name);
  return *table;
}

TEST(MysqlIntrospect, ReadsTheFixture) {
  Opened o;
  o.engine->ensure_ledger();
  create_fixture(*o.engine, k_forward);
  const SchemaModel model = support().read(*o.engine);

  EXPECT_EQ(model.engine, "mysql");
  EXPECT_TRUE(model.namespaces.empty());
  EXPECT_EQ(names_of(model.tables),
            (std::vector<std::string>{"customers", "lookups", "order_lines", "orders", "places"}));
  EXPECT_EQ(names_of(model.sequences), (std::vector<std::string>{"invoice_numbers"}));

  // Columns, in column order.
  const Table& customers = table_of(model, "customers");
  EXPECT_EQ(names_of(customers.columns),
            (std::vector<std::string>{"id", "email", "name", "status", "flags", "referrer_id",
                                      "created_at", "bio"}));
  const std::vector<Column>& c = customers.columns;
  EXPECT_EQ(c[0].type, "int(11)");
  EXPECT_TRUE(c[0].identity);
  EXPECT_FALSE(c[0].nullable);
  EXPECT_EQ(c[0].default_value, std::nullopt);
  EXPECT_FALSE(c[1].identity);
  EXPECT_EQ(c[1].type, "varchar(190)");
  EXPECT_EQ(c[2].default_value, "''");
  EXPECT_EQ(c[2].comment, "display name");
  EXPECT_EQ(c[3].type, "enum('new','active','gone')");
  EXPECT_EQ(c[3].default_value, "'new'");
  EXPECT_EQ(c[4].type, "set('vip','beta')");
  EXPECT_TRUE(c[4].nullable);
  EXPECT_TRUE(c[5].nullable);
  EXPECT_EQ(c[6].type, "timestamp");
  EXPECT_EQ(c[6].default_value, "current_timestamp()");
  EXPECT_EQ(c[7].comment, std::nullopt);
  EXPECT_EQ(customers.comment, "people who buy");
  const Table& orders = table_of(model, "orders");
  EXPECT_EQ(orders.columns.at(3).default_value, "0.00");
  EXPECT_EQ(orders.columns.at(4).name, "tax");
  ASSERT_TRUE(orders.columns.at(4).generated.has_value());
  EXPECT_THAT(*orders.columns.at(4).generated, HasSubstr("`total` * 0.2"));
  EXPECT_EQ(orders.columns.at(4).default_value, std::nullopt);
  EXPECT_EQ(orders.comment, std::nullopt);

  // Keys.
  ASSERT_TRUE(customers.primary_key.has_value());
  EXPECT_EQ(customers.primary_key->name, "PRIMARY");
  EXPECT_EQ(customers.primary_key->columns, (std::vector<std::string>{"id"}));
  EXPECT_EQ(orders.primary_key->columns, (std::vector<std::string>{"customer_id", "order_no"}));
  const Table& lines = table_of(model, "order_lines");
  EXPECT_EQ(lines.primary_key->columns,
            (std::vector<std::string>{"customer_id", "order_no", "line_no"}));
  ASSERT_EQ(customers.unique_keys.size(), 1u);
  EXPECT_EQ(customers.unique_keys[0].name, "customers_email");
  EXPECT_EQ(customers.unique_keys[0].columns, (std::vector<std::string>{"email"}));
  ASSERT_EQ(orders.unique_keys.size(), 1u);
  EXPECT_EQ(orders.unique_keys[0].columns,
            (std::vector<std::string>{"placed_on", "customer_id", "order_no"}));
  EXPECT_FALSE(table_of(model, "lookups").primary_key.has_value());

  // Foreign keys with their actions.
  ASSERT_EQ(customers.foreign_keys.size(), 1u);
  const ForeignKey& referrer = customers.foreign_keys[0];
  EXPECT_EQ(referrer.name, "customers_referrer");
  EXPECT_EQ(referrer.columns, (std::vector<std::string>{"referrer_id"}));
  EXPECT_EQ(referrer.referenced_table, (ObjectName{"", "customers"}));
  EXPECT_EQ(referrer.referenced_columns, (std::vector<std::string>{"id"}));
  EXPECT_EQ(referrer.on_delete, ForeignKeyAction::set_null);
  EXPECT_EQ(referrer.on_update, ForeignKeyAction::restrict);  // MariaDB's name for "not given"
  EXPECT_EQ(referrer.definition,
            "CONSTRAINT `customers_referrer` FOREIGN KEY (`referrer_id`) REFERENCES `customers` "
            "(`id`) ON DELETE SET NULL");
  ASSERT_EQ(orders.foreign_keys.size(), 1u);
  EXPECT_EQ(orders.foreign_keys[0].on_delete, ForeignKeyAction::cascade);
  EXPECT_EQ(orders.foreign_keys[0].on_update, ForeignKeyAction::cascade);
  ASSERT_EQ(lines.foreign_keys.size(), 1u);
  EXPECT_EQ(lines.foreign_keys[0].name, "order_lines_order");
  EXPECT_EQ(lines.foreign_keys[0].columns, (std::vector<std::string>{"customer_id", "order_no"}));
  EXPECT_EQ(lines.foreign_keys[0].referenced_table, (ObjectName{"", "orders"}));
  EXPECT_EQ(lines.foreign_keys[0].referenced_columns,
            (std::vector<std::string>{"customer_id", "order_no"}));
  EXPECT_EQ(lines.foreign_keys[0].on_delete, ForeignKeyAction::cascade);

  // Checks: named ones and MariaDB's column check, named after its column.
  ASSERT_EQ(customers.checks.size(), 1u);
  EXPECT_EQ(customers.checks[0].name, "customers_email_at");
  EXPECT_THAT(customers.checks[0].expression, HasSubstr("like '%@%'"));
  ASSERT_EQ(orders.checks.size(), 1u);
  EXPECT_EQ(orders.checks[0].name, "orders_total_positive");
  ASSERT_EQ(lines.checks.size(), 1u);
  EXPECT_EQ(lines.checks[0].name, "quantity");
  EXPECT_THAT(lines.checks[0].expression, HasSubstr("`quantity` > 0"));

  // Indexes that no key owns, with their methods; InnoDB's index for the self-reference too.
  ASSERT_EQ(
      names_of(customers.indexes),
      (std::vector<std::string>{"customers_bio", "customers_name_prefix", "customers_referrer"}));
  EXPECT_EQ(customers.indexes[0].method, "FULLTEXT");
  EXPECT_EQ(customers.indexes[0].keys, (std::vector<std::string>{"bio"}));
  EXPECT_EQ(customers.indexes[0].definition, "FULLTEXT KEY `customers_bio` (`bio`)");
  EXPECT_EQ(customers.indexes[1].method, "BTREE");
  EXPECT_EQ(customers.indexes[1].keys, (std::vector<std::string>{"name(10)"}));
  EXPECT_EQ(customers.indexes[1].definition, "KEY `customers_name_prefix` (`name`(10))");
  EXPECT_FALSE(customers.indexes[1].unique);
  EXPECT_TRUE(orders.indexes.empty());
  ASSERT_EQ(lines.indexes.size(), 1u);
  EXPECT_EQ(lines.indexes[0].keys, (std::vector<std::string>{"sku"}));
  ASSERT_EQ(table_of(model, "lookups").indexes.size(), 1u);
  EXPECT_EQ(table_of(model, "lookups").indexes[0].method, "HASH");
  ASSERT_EQ(table_of(model, "places").indexes.size(), 1u);
  EXPECT_EQ(table_of(model, "places").indexes[0].method, "SPATIAL");

  // Definitions as the server prints them, without counters or definers.
  EXPECT_THAT(customers.definition, HasSubstr("CREATE TABLE `customers` (\n"));
  EXPECT_THAT(customers.definition, HasSubstr("COMMENT='people who buy'"));

  // Views after the views they read, then by name.
  EXPECT_EQ(names_of(model.views),
            (std::vector<std::string>{"active_customers", "customer_totals", "a_big_spenders",
                                      "order_labels", "recent_orders"}));
  const View& totals = model.views[1];
  EXPECT_EQ(names_of(totals.columns), (std::vector<std::string>{"id", "email", "spent"}));
  EXPECT_EQ(totals.depends_on, (std::vector<ObjectName>{{"", "active_customers"}, {"", "orders"}}));
  EXPECT_EQ(model.views[0].depends_on, (std::vector<ObjectName>{{"", "customers"}}));
  EXPECT_EQ(model.views[3].depends_on, (std::vector<ObjectName>{{"", "orders"}}));
  EXPECT_TRUE(totals.definition.starts_with("CREATE VIEW `customer_totals` AS select "))
      << totals.definition;
  // Clauses that differ from the defaults stay.
  EXPECT_TRUE(model.views[4].definition.starts_with(
      "CREATE ALGORITHM=MERGE SQL SECURITY INVOKER VIEW `recent_orders` AS select "))
      << model.views[4].definition;

  ASSERT_EQ(names_of(model.routines), (std::vector<std::string>{"close_customer", "order_label"}));
  EXPECT_EQ(model.routines[0].kind, RoutineKind::procedure);
  EXPECT_EQ(model.routines[1].kind, RoutineKind::function);
  EXPECT_EQ(model.routines[1].language, "SQL");
  EXPECT_TRUE(model.routines[1].definition.starts_with("CREATE FUNCTION `order_label`"))
      << model.routines[1].definition;

  ASSERT_EQ(names_of(model.triggers), (std::vector<std::string>{"customers_bu", "orders_bi"}));
  EXPECT_EQ(model.triggers[0].table, (ObjectName{"", "customers"}));
  EXPECT_TRUE(model.triggers[1].definition.starts_with("CREATE TRIGGER orders_bi BEFORE INSERT"))
      << model.triggers[1].definition;
}

TEST(MysqlIntrospect, RenderIsTheEnginesSchemaAndIndependentOfCreationOrder) {
  Opened forward;
  forward.engine->ensure_ledger();
  create_fixture(*forward.engine, k_forward);
  // Counters and rows do not show.
  forward.db->query(
      "INSERT INTO customers (email, name) VALUES ('a@example.com', 'A'), ('b@example.com', 'B')");
  const std::string text = support().render(support().read(*forward.engine));
  EXPECT_EQ(forward.engine->schema(), text);
  EXPECT_THAT(text, Not(HasSubstr("dbinit_")));
  EXPECT_THAT(text, Not(HasSubstr("DEFINER")));
  EXPECT_THAT(text, Not(HasSubstr("AUTO_INCREMENT=")));
  EXPECT_THAT(text, Not(HasSubstr("ALGORITHM=UNDEFINED")));
  EXPECT_THAT(text, Not(HasSubstr("SQL SECURITY DEFINER")));
  EXPECT_THAT(text, Not(HasSubstr(forward.name())));
  EXPECT_THAT(text, HasSubstr("CONSTRAINT `order_lines_order` FOREIGN KEY"));
  EXPECT_LT(text.find("CREATE FUNCTION `order_label`"), text.find("VIEW `order_labels`"));
  EXPECT_LT(text.find("VIEW `customer_totals`"), text.find("VIEW `a_big_spenders`"));
  EXPECT_TRUE(text.ends_with("FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n")) << text;

  Opened shuffled;
  create_fixture(*shuffled.engine, k_shuffled);
  EXPECT_EQ(support().render(support().read(*shuffled.engine)), text);
}

TEST(MysqlIntrospect, RenderRebuildsTheSameDatabaseThroughTheShellAndTheEngine) {
  Opened original;
  original.engine->ensure_ledger();
  create_fixture(*original.engine, k_forward);
  const std::string text = support().render(support().read(*original.engine));
  const std::string dump = dump_schema(*original.db);
  EXPECT_THAT(dump, HasSubstr("CREATE TABLE `order_lines`"));
  EXPECT_THAT(dump, HasSubstr("TRIGGER"));
  EXPECT_THAT(dump, HasSubstr("PROCEDURE `close_customer`"));

  // The mariadb shell, as a person would load the file.
  auto by_shell = make_test_database("mysql");
  by_shell->query("SELECT 1");  // creates it
  RunOptions options;
  options.stdin_data = text;
  std::vector<std::string> argv = mariadb_client("mariadb", *by_shell);
  argv.emplace_back("--batch");
  argv.push_back(parse_database_url(by_shell->url()).database);
  RunResult loaded = run_program(argv, options);
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  EXPECT_EQ(dump_schema(*by_shell), dump);
  auto shell_engine = make_engine(parse_database_url(by_shell->url()));
  shell_engine->open(false);
  EXPECT_EQ(support().render(support().read(*shell_engine)), text);

  // dbinit's restore.
  Opened by_engine;
  by_engine.engine->restore({text, "schema.sql", 1});
  EXPECT_EQ(dump_schema(*by_engine.db), dump);
  EXPECT_EQ(support().render(support().read(*by_engine.engine)), text);

  // What was rebuilt works: the trigger, the function behind the view, the cascade.
  by_engine.db->query(
      "INSERT INTO customers (id, email, status) VALUES (1, 'X@Example.com', 'active');\n"
      "UPDATE customers SET name = 'x' WHERE id = 1;\n"
      "INSERT INTO orders (customer_id, order_no, placed_on, total) VALUES (1, 7, '2026-01-01', "
      "-5);\n"
      "INSERT INTO order_lines (customer_id, order_no, line_no, sku) VALUES (1, 7, 1, 'a');");
  EXPECT_EQ(by_engine.db->query("SELECT email FROM customers"), (Rows{{"x@example.com"}}));
  EXPECT_EQ(by_engine.db->query("SELECT total, label FROM orders JOIN order_labels USING "
                                "(customer_id, order_no)"),
            (Rows{{"0.00", "order 1/7;"}}));
  by_engine.db->query("CALL close_customer(1)");
  EXPECT_EQ(by_engine.db->query("SELECT COUNT(*) FROM order_lines"), (Rows{{"0"}}));
}

TEST(MysqlIntrospect, ARoutineWhoseBodyCannotBeReadIsAnError) {
  Opened o;
  o.engine->execute({fixture().at(6), "function.sql", 1});
  // A user that may run the function but not read its body (not its definer, no SELECT on
  // mysql.proc): the server shows its definition as NULL.
  const std::string user = "dbinit_reader_" + std::to_string(::getpid());
  const std::string password = "Reader-Pa55";
  const std::string grant_on = "`" + o.name() + "`.*";
  for (const char* host : {"%", "localhost"}) {
    const std::string account = "'" + user + "'@'" + host + "'";
    o.db->query("DROP USER IF EXISTS " + account);
    o.db->query("CREATE USER " + account + " IDENTIFIED BY '" + password + "'");
    o.db->query("GRANT SELECT, EXECUTE ON " + grant_on + " TO " + account);
  }
  const DatabaseUrl url = parse_database_url(o.db->url());
  auto reader = make_engine(
      parse_database_url(with_authority(o.db->url(), user + ":" + password + "@" + url.hosts)));
  reader->open(false);
  try {
    support().read(*reader);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::failure);
    EXPECT_THAT(error.message(), HasSubstr("cannot read the definition of FUNCTION `order_label`"));
    EXPECT_THAT(error.hint, HasSubstr("mysql.proc"));
    EXPECT_THAT(error.where, Not(HasSubstr(password)));
  }
  for (const char* host : {"%", "localhost"}) {
    o.db->query("DROP USER IF EXISTS '" + user + "'@'" + host + "'");
  }
}

TEST(MysqlIntrospect, EmptyDatabaseHasAnEmptyModel) {
  Opened o;
  o.engine->ensure_ledger();
  const SchemaModel model = support().read(*o.engine);
  EXPECT_TRUE(model.empty());
  EXPECT_EQ(support().render(model), "");
  EXPECT_EQ(o.engine->schema(), "");
}

TEST(MysqlIntrospect, LedgerDdlCreatesWhatEnsureLedgerCreates) {
  Opened by_ddl;
  by_ddl.engine->execute({support().ledger_ddl(), "ledger.sql", 1});
  by_ddl.engine->execute({support().ledger_ddl(), "again.sql", 1});  // IF NOT EXISTS
  Opened by_engine;
  by_engine.engine->ensure_ledger();
  for (const char* table : {"dbinit_migrations", "dbinit_meta"}) {
    EXPECT_EQ(by_ddl.db->query(std::string("SHOW CREATE TABLE ") + table),
              by_engine.db->query(std::string("SHOW CREATE TABLE ") + table));
  }
  EXPECT_TRUE(by_ddl.engine->read_ledger()->empty());
}

TEST(MysqlIntrospect, LiteralsAndTheClockReadBackFromTheServer) {
  Opened o;
  const std::vector<std::string> awkward = {
      "",
      "it's",
      "\\",
      "ends with \\",
      "\\'",
      std::string("nul \0 inside", 12),
      "-- not a comment; /* nor */ # nor",
      "line\nbreak\r\ntab\t",
      "50% of a_b \\% \\_",
      "emoji 😀 ñ 中文",
  };
  for (const std::string& value : awkward) {
    EXPECT_EQ(o.db->query("SELECT " + support().quote_literal(value)), (Rows{{value}}))
        << support().quote_literal(value);
  }
  const std::string now = o.db->query("SELECT " + std::string(support().utc_now_sql)).at(0).at(0);
  EXPECT_TRUE(std::regex_match(now, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"))) << now;
  EXPECT_EQ(now.substr(0, 4), o.db->query("SELECT YEAR(UTC_TIMESTAMP())").at(0).at(0));
}

}  // namespace
}  // namespace dbinit::test
