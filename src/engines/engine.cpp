#include "engines/engine.h"

#include <algorithm>

#include <fmt/format.h>

#include "engines/mysql/mysql_engine.h"
#include "engines/postgres/postgres_engine.h"
#include "engines/snapshot.h"
#include "engines/sqlite/sqlite_engine.h"
#include "util/error.h"
#include "util/text.h"

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

namespace {

// The registry. Aliases are URL schemes and migration file-name suffixes alike.
constexpr std::string_view k_sqlite_aliases[] = {"sqlite3"};
constexpr std::string_view k_postgres_aliases[] = {"postgresql"};
constexpr std::string_view k_mysql_aliases[] = {"mariadb"};

constexpr EngineInfo k_engines[] = {
    {"sqlite", k_sqlite_aliases, true, make_sqlite_engine, &k_sqlite_schema_support,
     &k_sqlite_snapshot_support},
    {"postgres", k_postgres_aliases, false, make_postgres_engine, &k_postgres_schema_support,
     &k_postgres_snapshot_support},
    {"mysql", k_mysql_aliases, false, make_mysql_engine, &k_mysql_schema_support,
     &k_mysql_snapshot_support},
};

}  // namespace

std::span<const EngineInfo> engine_registry() {
  return k_engines;
}

const EngineInfo* find_engine(std::string_view name) {
  for (const EngineInfo& info : k_engines) {
    if (equals_ci(info.name, name)) return &info;
    for (std::string_view alias : info.aliases) {
      if (equals_ci(alias, name)) return &info;
    }
  }
  return nullptr;
}

const EngineInfo& embedded_engine() {
  static const EngineInfo& embedded =
      *std::find_if(std::begin(k_engines), std::end(k_engines),
                    [](const EngineInfo& e) { return e.file_databases; });
  return embedded;
}

const SchemaSupport& schema_support(const Engine& engine) {
  const EngineInfo* info = find_engine(engine.name());
  if (!info || !info->schema) {
    throw Error(ErrorKind::failure, fmt::format("engine {} has no schema support", engine.name()));
  }
  return *info->schema;
}

const SnapshotSupport& snapshot_support(const Engine& engine) {
  const EngineInfo* info = find_engine(engine.name());
  if (!info || !info->snapshot || !info->snapshot->dump) {
    throw Error(ErrorKind::failure,
                fmt::format("engine {} has no snapshot support", engine.name()));
  }
  return *info->snapshot;
}

SchemaModel read_for_rendering(const SchemaSupport& support, Engine& engine) {
  return support.read_definitions ? support.read_definitions(engine) : support.read(engine);
}

std::string schema_text(Engine& engine) {
  const SchemaSupport& support = schema_support(engine);
  return support.render(read_for_rendering(support, engine));
}

std::unique_ptr<Engine> make_engine(const DatabaseUrl& url) {
  for (const EngineInfo& info : k_engines) {
    if (info.name == url.engine) return info.make(url);
  }
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

void reject_nul_bytes(const Script& script) {
  const std::size_t nul = script.sql.find('\0');
  if (nul == std::string_view::npos) return;
  const std::string_view before = script.sql.substr(0, nul);
  const int line =
      script.first_line + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
  Error error(ErrorKind::failure, "the SQL text holds a NUL byte (\\0), which is not SQL");
  error.where = fmt::format("{} line {}", script.source, line);
  error.hint = "the file is binary or was saved in UTF-16; save it as UTF-8 text without NUL bytes";
  throw error;
}

void configure_engine_libraries() {
  configure_sqlite_library();
}

std::string_view known_engines() {
  static const std::string names = [] {
    std::string out;
    for (const EngineInfo& info : k_engines) {
      if (!out.empty()) out += ", ";
      out += info.name;
    }
    return out;
  }();
  return names;
}

}  // namespace dbinit
