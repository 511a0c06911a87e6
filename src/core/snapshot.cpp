#include "core/snapshot.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/guard.h"
#include "core/session.h"
#include "util/elapsed.h"
#include "util/error.h"
#include "util/files.h"
#include "util/sha256.h"
#include "util/text.h"

namespace dbinit {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view k_manifest_name = "manifest.json";
// Prefix of the temporary folder a dump writes into, and of the folder a --force dump moves the
// old snapshot to before removing it. Both start with a dot: never listed, never a NAME.
constexpr std::string_view k_partial_prefix = ".partial-";
constexpr std::string_view k_replaced_prefix = ".replaced-";

[[noreturn]] void throw_errno(std::string_view what, const fs::path& path, int error_number) {
  Error error(ErrorKind::failure,
              fmt::format("cannot {} {}: {}", what, path.string(), std::strerror(error_number)));
  if (error_number == ENOSPC || error_number == EDQUOT) {
    error.hint = "free space on that file system (or point --backups elsewhere) and run it again";
  }
  throw error;
}

std::string random_suffix() {
  std::random_device device;
  return fmt::format("{}-{:08x}", ::getpid(), device());
}

// A folder a dump is writing, locked (flock) for as long as the dump runs, so that a later dump
// knows that a folder it finds unlocked was left by a dump that died, and removes it.
class PartialFolder {
 public:
  explicit PartialFolder(const fs::path& backups) {
    m_path = backups / fmt::format("{}{}", k_partial_prefix, random_suffix());
    if (::mkdir(m_path.c_str(), 0700) != 0) throw_errno("create", m_path, errno);
    m_fd = ::open(m_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m_fd < 0 || ::flock(m_fd, LOCK_EX) != 0) {
      const int error_number = errno;
      remove();
      throw_errno("lock", m_path, error_number);
    }
  }
  PartialFolder(const PartialFolder&) = delete;
  PartialFolder& operator=(const PartialFolder&) = delete;
  ~PartialFolder() {
    if (!m_kept) remove();
    if (m_fd >= 0) ::close(m_fd);
  }

  const fs::path& path() const { return m_path; }
  // The folder has been renamed to its final name: nothing to remove any more.
  void keep() { m_kept = true; }

 private:
  void remove() noexcept {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }

  fs::path m_path;
  int m_fd = -1;
  bool m_kept = false;
};

// Removes what killed dumps left in `backups`: temporary folders nobody holds the lock of.
void remove_leftovers(const fs::path& backups) {
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(backups, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(k_partial_prefix) && !name.starts_with(k_replaced_prefix)) continue;
    const int fd = ::open(entry.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      std::error_code ignored;
      fs::remove_all(entry.path(), ignored);
    }
    ::close(fd);
  }
}

void ensure_backups_folder(const fs::path& backups) {
  std::error_code ec;
  fs::create_directories(backups, ec);
  if (ec || !fs::is_directory(backups)) {
    Error error(ErrorKind::failure, fmt::format("cannot create the backups folder {}: {}",
                                                backups.string(), ec.message()));
    error.hint =
        "check the path and its permissions (--backups, DBINIT_BACKUPS, `backups` in "
        "dbinit.toml)";
    throw error;
  }
}

// `when` in UTC, as strftime's `format` writes it.
std::string utc_text(std::chrono::system_clock::time_point when, const char* format) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, format, &tm);
  return text;
}

json ledger_json(const std::vector<LedgerEntry>& ledger) {
  json rows = json::array();
  for (const LedgerEntry& entry : ledger) {
    json row = {{"version", entry.version},       {"name", entry.name},
                {"checksum", entry.checksum},     {"state", std::string(to_string(entry.state))},
                {"applied_at", entry.applied_at}, {"duration_ms", entry.duration_ms},
                {"applied_by", entry.applied_by}};
    rows.push_back(std::move(row));
  }
  return rows;
}

// The hint for a snapshot that cannot be read or whose files do not match.
std::string corrupt_hint(std::string_view name) {
  return fmt::format(
      "the snapshot {} is damaged or incomplete: load another one (`dbinit backups` lists them) or "
      "take it again with `dbinit dump --name {} --force`",
      name, name);
}

// Checks one file's size and SHA-256 against the manifest.
void check_file(const fs::path& folder, const WrittenFile& expected, std::string_view name) {
  const fs::path path = folder / expected.name;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  auto fail = [&](std::string message) {
    Error error(ErrorKind::config, std::move(message));
    error.where = path.string();
    error.state = "nothing was changed";
    error.hint = corrupt_hint(name);
    throw error;
  };
  if (ec) fail(fmt::format("snapshot file missing: {}", ec.message()));
  if (size != expected.size) {
    fail(fmt::format("snapshot file is {} bytes, the manifest says {}", size, expected.size));
  }
  FileSource source(path, false);
  Sha256 hash;
  for (std::string_view chunk = source.read(); !chunk.empty(); chunk = source.read()) {
    hash.update(chunk);
  }
  if (hash.finish_hex() != expected.sha256) {
    fail("snapshot file does not match its SHA-256 in the manifest");
  }
}

// Checks every file, two at a time (the machine's cores read and hash in parallel).
void check_files(const fs::path& folder, const SnapshotManifest& manifest, std::string_view name) {
  for (const WrittenFile& file : manifest.files) {
    if (file.name.empty() || file.name.find('/') != std::string::npos || file.name[0] == '.') {
      Error error(ErrorKind::config,
                  fmt::format("manifest names a file outside the snapshot: {}", file.name));
      error.where = (folder / k_manifest_name).string();
      error.state = "nothing was changed";
      error.hint = corrupt_hint(name);
      throw error;
    }
  }
  const std::size_t workers = std::min<std::size_t>(
      manifest.files.size(), std::max(1u, std::min(4u, std::thread::hardware_concurrency())));
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> failures(manifest.files.size());
  std::atomic<std::size_t> next{0};
  for (std::size_t w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      for (std::size_t i = next++; i < manifest.files.size(); i = next++) {
        try {
          check_file(folder, manifest.files[i], name);
        } catch (...) {
          failures[i] = std::current_exception();
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::exception_ptr& failure : failures) {
    if (failure) std::rethrow_exception(failure);
  }
}

// Compares the snapshot's ledger with the migration files: every recorded migration must have its
// file, with the same checksum. Returns the first difference, or nullopt.
struct LedgerMismatch {
  bool newer = false;  // a recorded migration has no file (the snapshot is newer than the files)
  std::string message;
};
std::optional<LedgerMismatch> ledger_mismatch(const std::vector<LedgerEntry>& ledger,
                                              const MigrationSet& files) {
  std::map<std::string, const Migration*> by_version;
  for (const Migration& migration : files.migrations) {
    by_version[migration.version.str()] = &migration;
  }
  for (const LedgerEntry& entry : ledger) {
    auto it = by_version.find(entry.version);
    if (it == by_version.end()) {
      return LedgerMismatch{
          true, fmt::format("it records migration {} ({}), which has no file in {}", entry.version,
                            entry.name, files.dir.string())};
    }
    if (it->second->checksum != entry.checksum) {
      return LedgerMismatch{
          false,
          fmt::format("it records migration {} with checksum {}, and the file {} has {}",
                      entry.version, entry.checksum, it->second->name, it->second->checksum)};
    }
  }
  return std::nullopt;
}

SnapshotManifest read_manifest(const fs::path& folder, std::string_view name) {
  const fs::path path = folder / k_manifest_name;
  std::string text;
  try {
    text = read_file(path);
  } catch (Error& error) {
    error.state = "nothing was changed";
    error.hint = corrupt_hint(name);
    throw;
  }
  try {
    return parse_manifest(text, path.string());
  } catch (Error& error) {
    error.state = "nothing was changed";
    error.hint = corrupt_hint(name);
    throw;
  }
}

// The name of the server-side database that holds a template snapshot.
std::string template_database_name(const Project& project, std::string_view name) {
  std::string base = fmt::format("{}_dbinit_{}", project.url.database, name);
  for (char& c : base) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  if (base.size() > 63) base = base.substr(0, 54) + "_" + sha256_hex(base).substr(0, 8);
  return base;
}

void remove_snapshot_folder(Engine* engine, const fs::path& folder) {
  std::error_code ec;
  if (engine) {
    try {
      const SnapshotManifest manifest =
          parse_manifest(read_file(folder / k_manifest_name), (folder / k_manifest_name).string());
      const SnapshotSupport& support = snapshot_support(*engine);
      if (manifest.template_database && support.drop_template) {
        support.drop_template(*engine, *manifest.template_database);
      }
    } catch (const Error&) {
      // An unreadable manifest has no template to drop.
    }
  }
  fs::remove_all(folder, ec);
}

}  // namespace

// --- Manifest
// --------------------------------------------------------------------------------------

std::string SnapshotManifest::ledger_version() const {
  if (!ledger) return {};
  std::string newest;
  for (const LedgerEntry& entry : *ledger) {
    if (entry.state == LedgerState::failed) continue;
    if (newest.empty() || Version(entry.version) > Version(newest)) newest = entry.version;
  }
  return newest;
}

std::uint64_t SnapshotManifest::size() const {
  std::uint64_t total = 0;
  for (const WrittenFile& file : files) total += file.size;
  return total;
}

std::string manifest_json(const SnapshotManifest& manifest) {
  json doc;
  doc["format"] = manifest.format;
  doc["engine"] = manifest.engine;
  doc["server_version"] = manifest.server_version;
  doc["database"] = manifest.database;
  doc["dbinit_version"] = manifest.dbinit_version;
  doc["created_at"] = manifest.created_at;
  doc["ledger_version"] = manifest.ledger_version();
  doc["ledger"] = manifest.ledger ? ledger_json(*manifest.ledger) : json(nullptr);
  if (manifest.template_database) doc["template_database"] = *manifest.template_database;
  json tables = json::array();
  for (const SnapshotTable& table : manifest.tables) {
    tables.push_back({{"name", table.name}, {"rows", table.rows}});
  }
  doc["tables"] = std::move(tables);
  json files = json::array();
  for (const WrittenFile& file : manifest.files) {
    files.push_back({{"name", file.name}, {"size", file.size}, {"sha256", file.sha256}});
  }
  doc["files"] = std::move(files);
  return doc.dump(2) + "\n";
}

SnapshotManifest parse_manifest(std::string_view text, std::string_view shown) {
  auto fail = [&](std::string message) -> Error {
    Error error(ErrorKind::config, std::move(message));
    error.where = std::string(shown);
    return error;
  };
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    throw fail(fmt::format("not a snapshot manifest: {}", e.what()));
  }
  SnapshotManifest manifest;
  try {
    if (!doc.is_object()) throw fail("not a snapshot manifest: not a JSON object");
    manifest.format = doc.at("format").get<int>();
    if (manifest.format != k_snapshot_format) {
      throw fail(fmt::format("snapshot format {} is not known to this dbinit (it reads format {})",
                             manifest.format, k_snapshot_format));
    }
    manifest.engine = doc.at("engine").get<std::string>();
    manifest.server_version = doc.value("server_version", "");
    manifest.database = doc.value("database", "");
    manifest.dbinit_version = doc.value("dbinit_version", "");
    manifest.created_at = doc.value("created_at", "");
    if (doc.contains("template_database")) {
      manifest.template_database = doc.at("template_database").get<std::string>();
    }
    const json& ledger = doc.at("ledger");
    if (!ledger.is_null()) {
      manifest.ledger.emplace();
      for (const json& row : ledger) {
        LedgerEntry entry;
        entry.version = row.at("version").get<std::string>();
        if (!Version::is_valid(entry.version)) {
          throw fail(fmt::format("ledger row has a bad version '{}'", entry.version));
        }
        entry.name = row.at("name").get<std::string>();
        entry.checksum = row.at("checksum").get<std::string>();
        entry.state = parse_ledger_state(row.at("state").get<std::string>());
        entry.applied_at = row.value("applied_at", "");
        entry.duration_ms = row.value("duration_ms", std::int64_t{0});
        entry.applied_by = row.value("applied_by", "");
        manifest.ledger->push_back(std::move(entry));
      }
    }
    for (const json& table : doc.at("tables")) {
      manifest.tables.push_back(
          {table.at("name").get<std::string>(), table.at("rows").get<std::int64_t>()});
    }
    for (const json& file : doc.at("files")) {
      manifest.files.push_back({file.at("name").get<std::string>(),
                                file.at("size").get<std::uint64_t>(),
                                file.at("sha256").get<std::string>()});
    }
  } catch (const json::exception& e) {
    throw fail(fmt::format("not a snapshot manifest: {}", e.what()));
  }
  return manifest;
}

// --- Names
// -----------------------------------------------------------------------------------------

void check_snapshot_name(std::string_view name) {
  const bool good =
      !name.empty() && name.size() <= 100 && name[0] != '.' && name[0] != '-' &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      });
  if (!good) {
    Error error(ErrorKind::usage, fmt::format("'{}' cannot name a snapshot", name));
    error.hint =
        "use 1 to 100 letters, digits, '.', '_' and '-', not starting with '.' or '-' "
        "(`before-upgrade`, `_init`)";
    throw error;
  }
}

std::string timestamp_snapshot_name(std::chrono::system_clock::time_point when) {
  return utc_text(when, "%Y%m%dT%H%M%SZ");
}

bool is_timestamp_snapshot_name(std::string_view name) {
  if (name.size() != 16 || name[8] != 'T' || name[15] != 'Z') return false;
  for (std::size_t i = 0; i < 15; ++i) {
    if (i == 8) continue;
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return false;
  }
  return true;
}

// --- Dump
// ------------------------------------------------------------------------------------------

namespace {

DumpResult write_snapshot_unguarded(Engine& engine, const Project& project, const std::string& name,
                                    bool force, bool template_copy, SnapshotProgress& progress) {
  const Clock::time_point start = Clock::now();
  const fs::path& backups = project.backups_dir;
  const fs::path folder = backups / name;
  std::error_code ec;
  if (!force && fs::exists(fs::symlink_status(folder, ec))) {
    Error error(ErrorKind::usage, fmt::format("snapshot {} exists already", name));
    error.where = folder.string();
    error.state = "nothing was changed";
    error.hint = "choose another --name, or replace it with --force";
    throw error;
  }
  const SnapshotSupport& support = snapshot_support(engine);
  if (template_copy && !support.dump_template) {
    Error error(ErrorKind::usage, fmt::format("{} has no template snapshots", project.url.engine));
    error.hint = "dump without --template: a snapshot folder works on every engine";
    throw error;
  }
  ensure_backups_folder(backups);
  remove_leftovers(backups);

  SnapshotManifest manifest;
  manifest.engine = project.url.engine;
  manifest.database = project.url.database;
  manifest.dbinit_version = std::string(project.applied_by.substr(
      project.applied_by.rfind(' ') == std::string::npos ? 0 : project.applied_by.rfind(' ') + 1));
  manifest.created_at = utc_text(std::chrono::system_clock::now(), "%Y-%m-%dT%H:%M:%SZ");

  PartialFolder partial(backups);
  // A template database whose snapshot folder was not completed is dropped again.
  struct DropOnFailure {
    Engine& engine;
    const SnapshotSupport& support;
    std::string name;
    ~DropOnFailure() {
      if (name.empty()) return;
      try {
        support.drop_template(engine, name);
      } catch (const Error&) {
        // The failure that got here is the one to report.
      }
    }
  } drop_on_failure{engine, support, {}};
  SnapshotDump dump;
  std::string template_name;
  if (template_copy) {
    // A name of its own for every template, so that --force drops the old one only once the
    // new one is complete.
    template_name = template_database_name(project, fmt::format("{}_{}", name, random_suffix()));
    dump = support.dump_template(engine, template_name);
    manifest.template_database = template_name;
    drop_on_failure.name = template_name;
  } else {
    dump = support.dump(engine, partial.path(), progress);
  }
  manifest.server_version = std::move(dump.server_version);
  manifest.ledger = std::move(dump.ledger);
  manifest.tables = std::move(dump.tables);
  manifest.files = std::move(dump.files);

  FileSink sink(partial.path(), std::string(k_manifest_name), {});
  sink.write(manifest_json(manifest));
  sink.finish();
  sync_directory(partial.path());

  // Into place: a new name is one rename; an existing one (--force) is exchanged with the new
  // folder in one step where the file system can, so that NAME always names a whole snapshot.
  if (fs::exists(fs::symlink_status(folder, ec))) {
    const fs::path replaced = backups / fmt::format("{}{}", k_replaced_prefix, random_suffix());
    if (::renameat2(AT_FDCWD, partial.path().c_str(), AT_FDCWD, folder.c_str(), RENAME_EXCHANGE) ==
        0) {
      // `partial` now holds the old snapshot, and is removed with it.
      sync_directory(backups);
      remove_snapshot_folder(&engine, partial.path());
    } else {
      if (::rename(folder.c_str(), replaced.c_str()) != 0) throw_errno("move", folder, errno);
      if (::rename(partial.path().c_str(), folder.c_str()) != 0) {
        const int error_number = errno;
        ::rename(replaced.c_str(), folder.c_str());
        throw_errno("rename", partial.path(), error_number);
      }
      partial.keep();
      sync_directory(backups);
      remove_snapshot_folder(&engine, replaced);
    }
  } else {
    if (::rename(partial.path().c_str(), folder.c_str()) != 0) {
      throw_errno("rename", partial.path(), errno);
    }
    partial.keep();
    sync_directory(backups);
  }

  drop_on_failure.name.clear();
  DumpResult result;
  result.name = name;
  result.folder = folder;
  result.manifest = std::move(manifest);
  result.duration_ms = elapsed_ms(start);
  return result;
}

}  // namespace

DumpResult write_snapshot(Engine& engine, const Project& project, const std::string& name,
                          bool force, bool template_copy, SnapshotProgress& progress) {
  check_snapshot_name(name);
  try {
    return write_snapshot_unguarded(engine, project, name, force, template_copy, progress);
  } catch (Error& error) {
    if (error.state.empty()) {
      error.state = fmt::format("the database was only read; no snapshot {} was written", name);
    }
    if (error.hint.empty() && error.kind() == ErrorKind::failure) {
      error.hint = "fix what the message names and dump again";
    }
    throw;
  }
}

DumpResult run_dump(const Project& project, const DumpOptions& options, Reporter& reporter,
                    SnapshotProgress& progress) {
  const std::string name = options.name.empty()
                               ? timestamp_snapshot_name(std::chrono::system_clock::now())
                               : options.name;
  check_snapshot_name(name);
  auto [engine, opened] = connect(project, false, options.connect, reporter);
  if (opened == OpenResult::missing) {
    Error error(ErrorKind::failure, "the database does not exist");
    error.where = project.url.redacted();
    error.state = "nothing was changed";
    error.hint = "check --url, or create it with `dbinit up`";
    throw error;
  }
  DumpResult result =
      write_snapshot(*engine, project, name, options.force, options.template_copy, progress);
  if (options.keep) {
    std::vector<std::string> stamped;
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator(project.backups_dir, ec)) {
      const std::string entry_name = entry.path().filename().string();
      if (is_timestamp_snapshot_name(entry_name) && entry.is_directory()) {
        stamped.push_back(entry_name);
      }
    }
    std::sort(stamped.begin(), stamped.end());
    const std::size_t keep = static_cast<std::size_t>(std::max(0, *options.keep));
    for (std::size_t i = 0; i + keep < stamped.size(); ++i) {
      if (stamped[i] == result.name) continue;
      remove_snapshot_folder(engine.get(), project.backups_dir / stamped[i]);
      result.removed.push_back(stamped[i]);
      reporter.note(fmt::format("removed snapshot {} (--keep {})", stamped[i], *options.keep));
    }
  }
  return result;
}

void run_dump_sql(const Project& project, const ConnectOptions& connect_options, FileSink& out,
                  SnapshotProgress& progress, Reporter& reporter) {
  auto [engine, opened] = connect(project, false, connect_options, reporter);
  if (opened == OpenResult::missing) {
    Error error(ErrorKind::failure, "the database does not exist");
    error.where = project.url.redacted();
    error.state = "nothing was changed";
    error.hint = "check --url, or create it with `dbinit up`";
    throw error;
  }
  const SnapshotSupport& support = snapshot_support(*engine);
  support.dump_sql(*engine, out, progress);
}

// --- Load
// ------------------------------------------------------------------------------------------

CheckedSnapshot check_snapshot(const Project& project, const std::string& name,
                               const MigrationSet& files) {
  check_snapshot_name(name);
  CheckedSnapshot snapshot;
  snapshot.name = name;
  snapshot.folder = project.backups_dir / name;
  std::error_code ec;
  if (!fs::is_directory(snapshot.folder, ec)) {
    Error error(ErrorKind::config, fmt::format("there is no snapshot {}", name));
    error.where = snapshot.folder.string();
    error.state = "nothing was changed";
    error.hint = "`dbinit backups` lists the snapshots; `dbinit dump --name NAME` takes one";
    throw error;
  }
  snapshot.manifest = read_manifest(snapshot.folder, name);
  const SnapshotManifest& manifest = snapshot.manifest;
  if (manifest.engine != project.url.engine) {
    Error error(ErrorKind::config,
                fmt::format("snapshot {} was taken on {}, and the database is {}", name,
                            manifest.engine, project.url.engine));
    error.where = snapshot.folder.string();
    error.state = "nothing was changed";
    error.hint = fmt::format(
        "load it into a {} database, or use `dbinit dump --format sql` on the old one and adapt "
        "the script",
        manifest.engine);
    throw error;
  }
  check_files(snapshot.folder, manifest, name);
  if (manifest.ledger) {
    if (std::optional<LedgerMismatch> mismatch = ledger_mismatch(*manifest.ledger, files)) {
      Error error(ErrorKind::drift, fmt::format("snapshot {} does not match the migrations: {}",
                                                name, mismatch->message));
      error.where = snapshot.folder.string();
      error.state = "nothing was changed";
      error.hint = mismatch->newer
                       ? "the snapshot is newer than these migration files: load it with the "
                         "release that has them, or pick an older snapshot"
                       : "the migration was edited after the snapshot was taken: restore the file "
                         "as it was, or pick a snapshot taken since";
      throw error;
    }
  }
  return snapshot;
}

bool load_checked_snapshot(Engine& engine, const Project& project, const CheckedSnapshot& snapshot,
                           std::chrono::milliseconds lock_timeout, bool only_if_empty,
                           SnapshotProgress& progress) {
  const SnapshotSupport& support = snapshot_support(engine);
  const SnapshotManifest& manifest = snapshot.manifest;
  if (manifest.template_database && !support.load_template) {
    Error error(ErrorKind::config,
                fmt::format("snapshot {} is a template snapshot, which {} cannot load",
                            snapshot.name, project.url.engine));
    error.where = snapshot.folder.string();
    error.state = "nothing was changed";
    error.hint =
        "load it on the PostgreSQL server it was taken on, or take a snapshot without "
        "--template";
    throw error;
  }
  engine.lock(lock_timeout);
  struct Unlock {
    Engine& engine;
    ~Unlock() { engine.unlock(); }
  } unlock{engine};
  if (only_if_empty && (engine.read_ledger() || engine.has_user_tables())) return false;
  try {
    if (manifest.template_database) {
      support.load_template(engine, *manifest.template_database);
    } else {
      support.load(engine, snapshot.folder, manifest.files, progress);
    }
  } catch (Error& error) {
    if (error.where.empty()) error.where = project.url.redacted();
    if (error.state.empty()) error.state = "the database was left as it was";
    if (error.hint.empty()) {
      error.hint = error.kind() == ErrorKind::lock_timeout
                       ? "another dbinit is working on this database; wait for it or raise "
                         "--lock-timeout"
                       : "fix what the message names and load again";
    }
    throw;
  }
  // The database holds exactly the snapshot, the environment it recorded included: a snapshot
  // of production stays guarded as production until an `up` records this project's environment.
  return true;
}

LoadResult run_load(const Project& project, const std::string& name, const LoadOptions& options,
                    Reporter& reporter, SnapshotProgress& progress) {
  const Clock::time_point start = Clock::now();
  const MigrationSet files =
      load_migrations(project.migrations_dir, project.url.engine, project.migrations_dir.string());
  const CheckedSnapshot snapshot = check_snapshot(project, name, files);

  LoadResult result;
  result.name = name;
  result.url = project.url.redacted();
  result.manifest = snapshot.manifest;
  auto [engine, opened] = connect(project, true, options.connect, reporter);
  result.created = opened == OpenResult::created;
  const std::optional<std::vector<LedgerEntry>> ledger = engine->read_ledger();
  result.replaced = ledger.has_value() || engine->has_user_tables();
  if (result.replaced) {
    GuardInput guard;
    guard.operation = fmt::format("load {}", name);
    guard.target = result.url;
    guard.environment = project.environment;
    guard.recorded = engine->meta(k_meta_environment);
    guard.requires_development = true;
    guard.confirmed = options.confirmed;
    guard.can_prompt = static_cast<bool>(options.ask);
    require_guard(guard, options.ask, confirmation_name(project.url));
  }
  load_checked_snapshot(*engine, project, snapshot, options.lock_timeout, false, progress);
  result.duration_ms = elapsed_ms(start);
  return result;
}

DumpResult record_init_snapshot(const Project& project, UpOptions up, Reporter& reporter,
                                SnapshotProgress& progress) {
  up.clean = true;
  up.clean_operation = "seed --record";
  up.use_init_snapshot = false;
  up.load.clear();
  up.skip_seed = false;
  up.backup_before = false;
  up.dry_run = false;
  const UpResult built = run_up(project, up, reporter);
  if (built.seeded.empty()) {
    reporter.warn(fmt::format("no seed files in {}: the _init snapshot holds only the schema",
                              project.seeds_dir.string()));
  }
  auto [engine, opened] = connect(project, false, up.connect, reporter);
  (void)opened;
  return write_snapshot(*engine, project, std::string(k_init_snapshot), true, false, progress);
}

// --- Listing
// ---------------------------------------------------------------------------------------

std::vector<BackupInfo> list_backups(const Project& project, const MigrationSet& files) {
  std::vector<BackupInfo> backups;
  std::error_code ec;
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(project.backups_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || !entry.is_directory()) continue;
    names.push_back(name);
  }
  for (const std::string& name : names) {
    BackupInfo info;
    info.name = name;
    info.folder = project.backups_dir / name;
    try {
      const SnapshotManifest manifest = read_manifest(info.folder, name);
      info.created_at = manifest.created_at;
      info.size = manifest.size();
      info.engine = manifest.engine;
      info.server_version = manifest.server_version;
      info.ledger_version = manifest.ledger_version();
      info.template_copy = manifest.template_database.has_value();
      check_snapshot(project, name, files);
      info.status = "ok";
    } catch (const Error& error) {
      info.reason = error.message();
      if (!info.engine.empty() && info.engine != project.url.engine) {
        info.status = "other engine";
      } else if (error.kind() == ErrorKind::drift) {
        info.status = error.message().find("has no file") != std::string::npos
                          ? "newer than the migrations"
                          : "drift";
      } else {
        info.status = "corrupt";
      }
    }
    backups.push_back(std::move(info));
  }
  std::sort(backups.begin(), backups.end(), [](const BackupInfo& a, const BackupInfo& b) {
    return std::tie(a.created_at, a.name) < std::tie(b.created_at, b.name);
  });
  return backups;
}

std::optional<std::string> snapshot_for_empty_database(const Project& project,
                                                       const std::string& requested) {
  if (!requested.empty()) return requested;
  std::error_code ec;
  if (fs::is_directory(project.backups_dir / k_init_snapshot, ec)) {
    return std::string(k_init_snapshot);
  }
  return std::nullopt;
}

}  // namespace dbinit
