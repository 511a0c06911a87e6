#include "core/scratch.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include <fmt/format.h>

#include "util/error.h"

namespace dbinit {

namespace fs = std::filesystem;

namespace {

std::string next_scratch_name() {
  static std::atomic<int> counter{0};
  return fmt::format("dbinit_scratch_{}_{}", static_cast<long>(getpid()), ++counter);
}

}  // namespace

DatabaseUrl scratch_url(const DatabaseUrl& url) {
  const std::string name = next_scratch_name();
  const std::string_view original = url.original;
  const std::size_t query = original.find('?');
  const std::string_view params =
      query == std::string_view::npos ? std::string_view{} : original.substr(query);
  const EngineInfo* engine = find_engine(url.engine);
  if (engine != nullptr && engine->file_databases) {
    const fs::path file = fs::path(url.database).parent_path() / (name + ".sqlite3");
    return parse_database_url(fmt::format("{}:{}{}", url.scheme, file.string(), params));
  }
  // scheme://authority[/database][?params]: the authority ends at the first '/' or '?'.
  const std::size_t authority = original.find("://");
  const std::size_t start = authority == std::string_view::npos ? 0 : authority + 3;
  const std::size_t end = std::min(original.find('/', start), query);
  const std::string_view head =
      original.substr(0, end == std::string_view::npos ? original.size() : end);
  return parse_database_url(fmt::format("{}/{}{}", head, name, params));
}

ScratchDatabase::ScratchDatabase(const std::optional<DatabaseUrl>& server) {
  if (server) {
    m_url = scratch_url(*server);
  } else {
    const std::string name = next_scratch_name();
    m_temp_dir = fs::temp_directory_path() / name;
    std::error_code ec;
    fs::create_directories(*m_temp_dir, ec);
    if (ec) {
      Error error(ErrorKind::failure, fmt::format("cannot create the scratch folder {}: {}",
                                                  m_temp_dir->string(), ec.message()));
      error.hint = "check TMPDIR and the free space there";
      throw error;
    }
    m_url = parse_database_url(
        fmt::format("{}:{}", embedded_engine().name, (*m_temp_dir / "scratch.db").string()));
  }
  m_engine = make_engine(m_url);
  try {
    m_engine->open(true);
  } catch (...) {
    m_dropped = true;
    std::error_code ec;
    if (m_temp_dir) fs::remove_all(*m_temp_dir, ec);
    throw;
  }
}

ScratchDatabase::~ScratchDatabase() {
  try {
    drop();
  } catch (...) {
    // A scratch database left behind has a name that says what it is; nothing else to do here.
  }
}

void ScratchDatabase::drop() {
  if (m_dropped) return;
  m_dropped = true;
  m_engine->drop_database();
  if (m_temp_dir) {
    std::error_code ec;
    fs::remove_all(*m_temp_dir, ec);
  }
}

void run_on_scratch(Engine& engine, const Script& script, const Directives& directives) {
  if (!engine.transactional_ddl() || directives.no_transaction) {
    engine.execute(script);
    return;
  }
  const bool foreign_keys_off = directives.foreign_keys_off;
  if (foreign_keys_off) engine.set_foreign_keys(false);
  engine.begin();
  try {
    engine.execute(script);
    if (foreign_keys_off) engine.check_foreign_keys();
    engine.commit();
  } catch (...) {
    engine.rollback();
    if (foreign_keys_off) engine.set_foreign_keys(true);
    throw;
  }
  if (foreign_keys_off) engine.set_foreign_keys(true);
}

}  // namespace dbinit
