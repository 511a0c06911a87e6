#include "engines/engine.h"

#include <algorithm>

#include <fmt/format.h>

#include "engines/mysql/mysql_engine.h"
#include "engines/postgres/postgres_engine.h"
#include "engines/sqlite/sqlite_engine.h"
#include "util/error.h"

namespace dbinit {

std::string_view to_string(LedgerState state) {
  switch (state) {
    case LedgerState::applied:
      return "applied";
    case LedgerState::baseline:
      return "baseline";
    case LedgerState::failed:
      return "failed";
  }
  return "applied";
}

LedgerState parse_ledger_state(std::string_view text) {
  if (text == "applied") return LedgerState::applied;
  if (text == "baseline") return LedgerState::baseline;
  if (text == "failed") return LedgerState::failed;
  Error error(ErrorKind::failure, fmt::format("ledger row has unknown state '{}'", text));
  error.hint = "the dbinit_migrations table was edited by hand; restore the state column";
  throw error;
}

std::unique_ptr<Engine> make_engine(const DatabaseUrl& url) {
  if (url.engine == "sqlite") return make_sqlite_engine(url);
  if (url.engine == "postgres") return make_postgres_engine(url);
  if (url.engine == "mysql") return make_mysql_engine(url);
  Error error(ErrorKind::config, fmt::format("no engine for '{}'", url.engine));
  error.hint = fmt::format("known engines: {}", known_engines());
  throw error;
}

void sort_ledger(std::vector<LedgerEntry>& entries) {
  auto by_version = [](const LedgerEntry& a, const LedgerEntry& b) {
    if (a.version.size() != b.version.size()) return a.version.size() < b.version.size();
    return a.version < b.version;
  };
  // Rows usually come in primary-key order, which is version order when the versions have one
  // length (timestamps, or sequences below the next power of ten): nothing to move then.
  if (std::is_sorted(entries.begin(), entries.end(), by_version)) return;
  std::sort(entries.begin(), entries.end(), by_version);
}

void configure_engine_libraries() {
  configure_sqlite_library();
}

std::string_view known_engines() {
  return "sqlite, postgres, mysql";
}

}  // namespace dbinit
