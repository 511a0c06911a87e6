#include "engines/postgres/postgres_engine.h"

namespace dbinit {

namespace {

SchemaModel read_schema(Engine& engine) {
  (void)engine;
  SchemaModel model;
  model.engine = "postgres";
  return model;
}

std::string render_schema(const SchemaModel& model) {
  (void)model;
  return {};
}

std::string ledger_ddl() {
  return {};
}

std::string quote_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

}  // namespace

const SchemaSupport k_postgres_schema_support = {read_schema,   render_schema, ledger_ddl,
                                                 quote_literal, false,         "''"};

}  // namespace dbinit
