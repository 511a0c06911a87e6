// Snapshots on sqlite: dump, load and the plain SQL script (engines/snapshot.h).
//
// A snapshot is one file, `database.sqlite3`: a complete SQLite database as of one moment.
//
// dump() holds one read transaction on the engine's connection for everything it reads: the
// row counts, the ledger, and the database's pages. In a rollback-journal database that read
// transaction is a SHARED lock, under which the file on disk is exactly the committed database,
// so its bytes are copied in one pass (read, hashed and written by FileSink). They are read
// through SQLite's own file handle (SQLITE_FCNTL_FILE_POINTER): opening and closing a second
// descriptor on the database file would drop every POSIX lock the process holds on it, SQLite's
// included. In WAL mode the committed pages are partly in the WAL, so the online backup API
// copies them from the same read transaction into the new file, which is hashed afterwards.
// Either way the snapshot file is a rollback-journal database (header bytes 18 and 19 are 1), so
// that it opens read-only without side files; the journal mode belongs to the target.
//
// load() copies the snapshot into the engine's own connection with the online backup API: the
// destination is written in one write transaction of that connection, journaled as any other
// (rollback journal or WAL). A failure rolls it back, and a process killed at any moment leaves
// a hot journal (or uncommitted WAL frames) that the next connection rolls back, so the database
// is either as it was or exactly the snapshot. Replacing the file by rename() instead would be
// faster for an empty target, but is not safe: other connections keep the old inode open with
// their locks, and a WAL or journal beside the old file would be applied to the new one.
//
// dump_sql() writes what `sqlite3 .dump` writes, from one read transaction, row by row.

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "engines/snapshot.h"
#include "engines/sqlite/sqlite_codes.h"
#include "engines/sqlite/sqlite_engine.h"
#include "util/error.h"
#include "util/sha256.h"
#include "util/text.h"

namespace dbinit {

namespace {

namespace fs = std::filesystem;

/// The one file of a snapshot.
constexpr std::string_view k_file_name = "database.sqlite3";
/// Bytes read and written per piece when copying the database file.
constexpr std::size_t k_copy_chunk = 1 << 20;
/// Buffers between the thread that reads the database file and the one that hashes and writes.
constexpr std::size_t k_copy_buffers = 4;
/// Pages per sqlite3_backup_step() call: a progress report about every 16 MiB of 4 KiB pages.
constexpr int k_backup_pages = 4096;
/// Rows between two progress reports of dump_sql().
constexpr std::int64_t k_progress_rows = 4096;

struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

struct ConnectionCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, ConnectionCloser>;

std::string database_path(sqlite3* db) {
  const char* name = sqlite3_db_filename(db, "main");
  return name != nullptr && *name != '\0' ? std::string(name) : std::string(":memory:");
}

/// An Error for the last failure of `db`: "<what>: <sqlite message>" with its code.
Error sqlite_error(sqlite3* db, std::string_view what, std::string where) {
  Error error(ErrorKind::failure, fmt::format("{}: {}", what, sqlite3_errmsg(db)));
  error.where = std::move(where);
  error.code = sqlite_code_name(sqlite3_extended_errcode(db));
  return error;
}

/// The same for a result code `rc` of a call that does not set the connection's error.
Error sqlite_error(int rc, std::string_view what, std::string where) {
  Error error(ErrorKind::failure, fmt::format("{}: {}", what, sqlite3_errstr(rc)));
  error.where = std::move(where);
  error.code = sqlite_code_name(rc);
  return error;
}

Statement prepare(sqlite3* db, std::string_view sql, std::string_view what) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr) !=
      SQLITE_OK) {
    sqlite3_finalize(raw);
    throw sqlite_error(db, what, database_path(db));
  }
  return Statement(raw);
}

void exec(sqlite3* db, const char* sql, std::string_view what) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw sqlite_error(db, what, database_path(db));
  }
}

std::int64_t query_int(sqlite3* db, std::string_view sql, std::string_view what) {
  Statement statement = prepare(db, sql, what);
  const int rc = sqlite3_step(statement.get());
  if (rc == SQLITE_ROW) return sqlite3_column_int64(statement.get(), 0);
  if (rc == SQLITE_DONE) return 0;
  throw sqlite_error(db, what, database_path(db));
}

std::string query_text(sqlite3* db, std::string_view sql, std::string_view what) {
  Statement statement = prepare(db, sql, what);
  const int rc = sqlite3_step(statement.get());
  if (rc == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement.get(), 0));
    return text != nullptr ? std::string(text) : std::string();
  }
  if (rc == SQLITE_DONE) return {};
  throw sqlite_error(db, what, database_path(db));
}

std::string quote_identifier(std::string_view name) {
  return sql_quoted_identifier(name);
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && lower_ascii(text.substr(0, prefix.size())) == prefix;
}

/// One read transaction on the engine's connection, ended when the object dies. The first read
/// takes the snapshot (WAL) or the SHARED lock (rollback journal) that every later read shares.
class ReadTransaction {
 public:
  explicit ReadTransaction(sqlite3* db) : m_db(db) {
    if (sqlite3_get_autocommit(db) == 0) {
      Error error(ErrorKind::failure, "a snapshot cannot be taken inside an open transaction");
      error.where = database_path(db);
      throw error;
    }
    exec(db, "BEGIN", "cannot begin the snapshot's read transaction");
    m_open = true;
    try {
      exec(db, "SELECT 1 FROM sqlite_master LIMIT 1", "cannot read the database");
    } catch (...) {
      end();
      throw;
    }
  }
  ~ReadTransaction() { end(); }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

  void end() noexcept {
    if (m_open && sqlite3_get_autocommit(m_db) == 0) {
      sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    m_open = false;
  }

 private:
  sqlite3* m_db;
  bool m_open = false;
};

// --- What a snapshot records --------------------------------------------------------------------

/// The user tables (sqlite_master order, SQLite's own tables left out) with their row counts.
std::vector<SnapshotTable> count_tables(sqlite3* db) {
  std::vector<std::pair<std::string, bool>> names;  // name, virtual
  {
    Statement statement =
        prepare(db,
                "SELECT name, sql LIKE 'CREATE VIRTUAL %' FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
                "cannot list the database's tables");
    int rc;
    while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
      const auto* name = reinterpret_cast<const char*>(sqlite3_column_text(statement.get(), 0));
      names.emplace_back(name != nullptr ? name : "", sqlite3_column_int(statement.get(), 1) != 0);
    }
    if (rc != SQLITE_DONE) {
      throw sqlite_error(db, "cannot list the database's tables", database_path(db));
    }
  }
  std::vector<SnapshotTable> tables;
  tables.reserve(names.size());
  for (const auto& [name, is_virtual] : names) {
    const std::string sql = "SELECT count(*) FROM " + quote_identifier(name);
    SnapshotTable& table = tables.emplace_back();
    table.name = name;
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
      sqlite3_finalize(raw);
      // A virtual table whose module this build lacks cannot be read; its rows live in its
      // shadow tables, which are copied and counted like any other table.
      if (is_virtual) {
        table.rows = -1;
        continue;
      }
      throw sqlite_error(db, fmt::format("cannot count the rows of {}", name), database_path(db));
    }
    Statement statement(raw);
    if (sqlite3_step(statement.get()) != SQLITE_ROW) {
      throw sqlite_error(db, fmt::format("cannot count the rows of {}", name), database_path(db));
    }
    table.rows = sqlite3_column_int64(statement.get(), 0);
  }
  return tables;
}

std::int64_t total_rows(const std::vector<SnapshotTable>& tables) {
  std::int64_t total = 0;
  for (const SnapshotTable& table : tables) total += std::max<std::int64_t>(table.rows, 0);
  return total;
}

// --- dump() -----------------------------------------------------------------------------------

/// Copies the first `size` bytes of the main database file of `db` into `sink`, through SQLite's
/// own file handle. The caller holds a read transaction in rollback-journal mode.
void copy_database_file(sqlite3* db, std::uint64_t size, FileSink& sink,
                        SnapshotProgress& progress) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK ||
      file == nullptr || file->pMethods == nullptr) {
    Error error(ErrorKind::failure, "cannot reach the database file through SQLite");
    error.where = database_path(db);
    throw error;
  }
  // A reader thread fills the buffers (pread through SQLite's handle, which touches nothing
  // else of the connection) while this thread hashes and writes the ones filled before.
  struct Piece {
    std::string bytes = std::string(k_copy_chunk, '\0');
    std::size_t size = 0;
    bool full = false;
  };
  std::array<Piece, k_copy_buffers> pieces;
  std::mutex mutex;
  std::condition_variable changed;
  bool stop = false;
  int read_rc = SQLITE_OK;
  std::thread reader([&] {
    std::uint64_t offset = 0;
    for (std::size_t index = 0; offset < size; index = (index + 1) % pieces.size()) {
      Piece& piece = pieces[index];
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return stop || !piece.full; });
        if (stop) return;
      }
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(k_copy_chunk, size - offset));
      const int rc = file->pMethods->xRead(file, piece.bytes.data(), static_cast<int>(n),
                                           static_cast<sqlite3_int64>(offset));
      if (offset == 0 && n >= 20) {
        // A rollback-journal database: what the file says already, unless it is WAL's header.
        piece.bytes[18] = 1;
        piece.bytes[19] = 1;
      }
      std::lock_guard lock(mutex);
      piece.size = n;
      piece.full = true;
      if (rc != SQLITE_OK) {
        read_rc = rc;
        stop = true;
      }
      changed.notify_all();
      if (stop) return;
      offset += n;
    }
  });
  auto finish_reader = [&] {
    {
      std::lock_guard lock(mutex);
      stop = true;
    }
    changed.notify_all();
    reader.join();
  };
  try {
    std::uint64_t done = 0;
    for (std::size_t index = 0; done < size; index = (index + 1) % pieces.size()) {
      Piece& piece = pieces[index];
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return piece.full || read_rc != SQLITE_OK; });
        if (read_rc != SQLITE_OK) break;
      }
      sink.write(std::string_view(piece.bytes.data(), piece.size));
      progress.advance(0, static_cast<std::int64_t>(piece.size));
      done += piece.size;
      std::lock_guard lock(mutex);
      piece.full = false;
      changed.notify_all();
    }
  } catch (...) {
    finish_reader();
    throw;
  }
  finish_reader();
  if (read_rc != SQLITE_OK) {
    throw sqlite_error(read_rc, "cannot read the database file", database_path(db));
  }
}

/// Writes `length` bytes at `offset` of the file `fd` (the snapshot file's header).
void write_at(int fd, const void* data, std::size_t length, off_t offset, const fs::path& path) {
  if (::pwrite(fd, data, length, offset) != static_cast<ssize_t>(length)) {
    Error error(ErrorKind::failure,
                fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
    throw error;
  }
}

/// Copies the database of `db` (inside its read transaction) into the new file `dir` /
/// k_file_name with the online backup API.
void backup_database(sqlite3* db, const fs::path& dir, SnapshotProgress& progress) {
  const fs::path path = dir / k_file_name;
  const std::string shown = path.string();
  {
    const int fd = ::open(shown.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      Error error(ErrorKind::failure,
                  fmt::format("cannot create {}: {}", shown, std::strerror(errno)));
      throw error;
    }
    ::close(fd);
  }
  sqlite3* raw = nullptr;
  const int open_rc =
      sqlite3_open_v2(shown.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  Connection target(raw);
  if (open_rc != SQLITE_OK) throw sqlite_error(open_rc, "cannot open the snapshot file", shown);
  // The file is new and flushed as a whole at the end: no journal, no syncs while copying.
  exec(target.get(), "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF",
       "cannot prepare the snapshot file");
  sqlite3_backup* backup = sqlite3_backup_init(target.get(), "main", db, "main");
  if (backup == nullptr)
    throw sqlite_error(target.get(), "cannot start copying the database", shown);
  const std::int64_t page_size = query_int(db, "PRAGMA page_size", "cannot read the page size");
  std::int64_t left = query_int(db, "PRAGMA page_count", "cannot read the page count");
  // The source is read inside the caller's read transaction and the target is a new file that
  // nothing else opens: neither can be busy.
  int rc;
  while ((rc = sqlite3_backup_step(backup, k_backup_pages)) == SQLITE_OK || rc == SQLITE_DONE) {
    const std::int64_t remaining = sqlite3_backup_remaining(backup);
    progress.advance(0, (left - remaining) * page_size);
    left = remaining;
    if (rc == SQLITE_DONE) break;
  }
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    Error error = sqlite_error(rc, "cannot copy the database", shown);
    if ((rc & 0xff) == SQLITE_FULL) {
      error.hint = "free space on that file system (or point --backups elsewhere) and run it again";
    }
    throw error;
  }
}

/// Makes the file that backup_database() wrote a rollback-journal database, flushes it and
/// hashes it.
WrittenFile finish_backup_file(const fs::path& dir) {
  const fs::path path = dir / k_file_name;
  const std::string shown = path.string();
  const int fd = ::open(shown.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    throw Error(ErrorKind::failure, fmt::format("cannot open {}: {}", shown, std::strerror(errno)));
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  const unsigned char legacy[2] = {1, 1};
  write_at(fd, legacy, sizeof legacy, 18, path);
  Sha256 hash;
  std::string buffer(k_copy_chunk, '\0');
  std::uint64_t size = 0;
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorKind::failure,
                  fmt::format("cannot read {}: {}", shown, std::strerror(errno)));
    }
    if (n == 0) break;
    hash.update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    size += static_cast<std::uint64_t>(n);
  }
  if (::fsync(fd) != 0) {
    Error error(ErrorKind::failure,
                fmt::format("cannot flush {}: {}", shown, std::strerror(errno)));
    throw error;
  }
  return WrittenFile{std::string(k_file_name), size, hash.finish_hex()};
}

SnapshotDump sqlite_dump(Engine& engine, const fs::path& dir, SnapshotProgress& progress) {
  sqlite3* db = sqlite_handle(engine);
  SnapshotDump dump;
  dump.server_version = engine.server_version();
  ReadTransaction transaction(db);
  dump.tables = count_tables(db);
  dump.ledger = engine.read_ledger();
  const std::string journal_mode =
      lower_ascii(query_text(db, "PRAGMA journal_mode", "cannot read the journal mode"));
  progress.table(k_file_name, total_rows(dump.tables));
  const bool on_disk = database_path(db) != ":memory:";
  if (journal_mode != "wal" && on_disk) {
    const std::int64_t page_size = query_int(db, "PRAGMA page_size", "cannot read the page size");
    const std::int64_t pages = query_int(db, "PRAGMA page_count", "cannot read the page count");
    FileSink sink(dir, std::string(k_file_name), FileSink::Options{});
    copy_database_file(db, static_cast<std::uint64_t>(page_size * pages), sink, progress);
    // Writers wait for the read transaction's lock to commit: it ends before the flush.
    transaction.end();
    dump.files.push_back(sink.finish());
  } else {
    backup_database(db, dir, progress);
    transaction.end();
    dump.files.push_back(finish_backup_file(dir));
  }
  progress.advance(total_rows(dump.tables), 0);
  return dump;
}

// --- load() -----------------------------------------------------------------------------------

/// Sets the connection's journal mode back to what it was when a load switched it (the memory
/// and off modes give no atomicity, so the load runs with a rollback journal on disk).
class JournalModeRestore {
 public:
  JournalModeRestore(sqlite3* db, std::string mode) : m_db(db), m_mode(std::move(mode)) {}
  ~JournalModeRestore() {
    const std::string sql = "PRAGMA journal_mode=" + m_mode;
    sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, nullptr);
  }
  JournalModeRestore(const JournalModeRestore&) = delete;
  JournalModeRestore& operator=(const JournalModeRestore&) = delete;

 private:
  sqlite3* m_db;
  std::string m_mode;
};

/// `path` as an SQLite URI filename (https://www.sqlite.org/uri.html): the characters that end
/// or escape the path part are percent-encoded.
std::string file_uri(const fs::path& path) {
  std::string uri = "file:";
  for (char c : fs::absolute(path).string()) {
    if (c == '%' || c == '?' || c == '#') {
      uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      uri += c;
    }
  }
  return uri;
}

void sqlite_load(Engine& engine, const fs::path& dir, const std::vector<WrittenFile>& files,
                 SnapshotProgress& progress) {
  sqlite3* db = sqlite_handle(engine);
  const std::string target_path = database_path(db);
  const std::string unchanged = "the database was not changed";
  auto fail = [&](Error error, std::string hint = {}) {
    if (error.where.empty()) error.where = target_path;
    error.state = unchanged;
    if (!hint.empty()) error.hint = std::move(hint);
    return error;
  };

  const bool listed = std::any_of(files.begin(), files.end(),
                                  [](const WrittenFile& f) { return f.name == k_file_name; });
  const fs::path source_path = dir / k_file_name;
  if (!listed) {
    Error error(
        ErrorKind::failure,
        fmt::format("the snapshot has no {} (an SQLite snapshot is that one file)", k_file_name));
    error.where = dir.string();
    throw fail(std::move(error), "load a snapshot written by dump from an SQLite database");
  }
  if (sqlite3_get_autocommit(db) == 0) {
    throw fail(Error(ErrorKind::failure, "a snapshot cannot be loaded inside an open transaction"));
  }

  // immutable: the caller has checked the file's checksum and nothing writes it, so SQLite
  // reads it without locks or side files.
  const std::string uri = file_uri(source_path) + "?immutable=1";
  sqlite3* raw = nullptr;
  const int open_rc = sqlite3_open_v2(
      uri.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
  Connection source(raw);
  if (open_rc != SQLITE_OK) {
    throw fail(sqlite_error(open_rc, "cannot open the snapshot", source_path.string()));
  }
  std::int64_t source_page_size = 0;
  std::int64_t source_pages = 0;
  try {
    source_page_size = query_int(source.get(), "PRAGMA page_size", "cannot read the snapshot");
    source_pages = query_int(source.get(), "PRAGMA page_count", "cannot read the snapshot");
    query_int(source.get(), "SELECT count(*) FROM sqlite_master", "cannot read the snapshot");
  } catch (Error& error) {
    error.where = source_path.string();
    throw fail(std::move(error), "the snapshot file is not an SQLite database: dump it again");
  }

  const std::string mode =
      lower_ascii(query_text(db, "PRAGMA journal_mode", "cannot read the journal mode"));
  std::unique_ptr<JournalModeRestore> restore_mode;
  if (mode == "wal") {
    const std::int64_t page_size = query_int(db, "PRAGMA page_size", "cannot read the page size");
    if (page_size != source_page_size) {
      Error error(ErrorKind::failure,
                  fmt::format("the snapshot's pages are of {} bytes and the database's of {}: "
                              "SQLite cannot copy pages of another size into a database in WAL "
                              "mode",
                              source_page_size, page_size));
      throw fail(std::move(error),
                 fmt::format("switch the database out of WAL mode for the load (PRAGMA "
                             "journal_mode=DELETE, then WAL again afterwards), or give it the "
                             "snapshot's page size (PRAGMA page_size={}; VACUUM)",
                             source_page_size));
    }
  } else if (mode == "memory" || mode == "off") {
    exec(db, "PRAGMA journal_mode=DELETE", "cannot set the journal mode for the load");
    restore_mode = std::make_unique<JournalModeRestore>(db, mode);
  }

  progress.table(k_file_name, -1);
  sqlite3_backup* backup = sqlite3_backup_init(db, "main", source.get(), "main");
  if (backup == nullptr) throw fail(sqlite_error(db, "cannot start the load", target_path));
  int rc;
  int last_remaining = static_cast<int>(source_pages);
  while ((rc = sqlite3_backup_step(backup, k_backup_pages)) == SQLITE_OK) {
    const int remaining = sqlite3_backup_remaining(backup);
    progress.advance(0, static_cast<std::int64_t>(last_remaining - remaining) * source_page_size);
    last_remaining = remaining;
  }
  // sqlite3_backup_finish() rolls the destination's transaction back unless the copy is done.
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    Error error = sqlite_error(rc, "cannot load the snapshot", target_path);
    // After an I/O error the rollback may only have happened in memory: the next read plays the
    // hot journal back now, so that the file is as it was before this process ends.
    sqlite3_exec(db, "SELECT 1 FROM sqlite_master LIMIT 1", nullptr, nullptr, nullptr);
    std::string hint;
    switch (rc & 0xff) {
      case SQLITE_FULL:
        hint = fmt::format(
            "free space on the disk that holds {} (the load needs room for the snapshot and for "
            "the rollback journal that keeps the old contents until it is done), then load again",
            target_path);
        break;
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        error = Error(ErrorKind::lock_timeout,
                      "cannot load the snapshot: another connection kept the database locked");
        error.where = target_path;
        error.code = sqlite_code_name(rc);
        hint = "stop the processes that use the database, then load again";
        break;
      case SQLITE_READONLY:
        hint = fmt::format("make {} and its folder writable, then load again", target_path);
        break;
      default:
        hint = "check the disk and the snapshot, then load again";
        break;
    }
    throw fail(std::move(error), std::move(hint));
  }
  progress.advance(0, static_cast<std::int64_t>(last_remaining) * source_page_size);
}

// --- dump_sql() -------------------------------------------------------------------------------

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length;
    std::uint32_t min;
    std::uint32_t code;
    if ((c & 0xe0) == 0xc0) {
      length = 2;
      min = 0x80;
      code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      length = 3;
      min = 0x800;
      code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      length = 4;
      min = 0x10000;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + length > n) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
    i += length;
  }
  return true;
}

void append_hex(std::string& out, const unsigned char* data, std::size_t size) {
  static constexpr char k_digits[] = "0123456789ABCDEF";
  const std::size_t start = out.size();
  out.resize(start + 2 * size);
  char* p = out.data() + start;
  for (std::size_t i = 0; i < size; ++i) {
    *p++ = k_digits[data[i] >> 4];
    *p++ = k_digits[data[i] & 0x0f];
  }
}

/// The script as it is written: pieces gather in a buffer that goes to the sink in large blocks,
/// so that a row is never held twice and a large value is never held as a whole in hex.
class ScriptWriter {
 public:
  explicit ScriptWriter(FileSink& sink) : m_sink(sink) { m_buffer.reserve(k_flush_size * 2); }

  std::string& buffer() { return m_buffer; }
  void append(std::string_view text) {
    if (text.size() >= k_flush_size) {
      // A large value goes straight to the file rather than through a copy in the buffer.
      flush();
      m_sink.write(text);
      return;
    }
    m_buffer.append(text);
    flush_if_full();
  }
  void flush_if_full() {
    if (m_buffer.size() >= k_flush_size) flush();
  }
  void flush() {
    m_sink.write(m_buffer);
    m_buffer.clear();
  }
  /// Bytes of the script so far.
  std::uint64_t bytes() const { return m_sink.bytes_in() + m_buffer.size(); }

 private:
  static constexpr std::size_t k_flush_size = 1 << 20;
  FileSink& m_sink;
  std::string m_buffer;
};

void append_hex(ScriptWriter& writer, const unsigned char* data, std::size_t size) {
  constexpr std::size_t k_piece = 1 << 16;
  for (std::size_t offset = 0; offset < size; offset += k_piece) {
    append_hex(writer.buffer(), data + offset, std::min(k_piece, size - offset));
    writer.flush_if_full();
  }
}

/// Reads the text of a number as SQLite's own parser does (sqlite3AtoF, which is not correctly
/// rounded: about one double in two hundred does not survive its shortest decimal form).
class RealReader {
 public:
  explicit RealReader(sqlite3* db)
      : m_statement(prepare(db, "SELECT ?1", "cannot read a number")) {}
  double read(std::string_view text) {
    sqlite3_bind_text(m_statement.get(), 1, text.data(), static_cast<int>(text.size()),
                      SQLITE_STATIC);
    sqlite3_step(m_statement.get());
    const double value = sqlite3_column_double(m_statement.get(), 0);
    sqlite3_reset(m_statement.get());
    return value;
  }

 private:
  Statement m_statement;
};

/// Appends `value` (finite) as SQL that SQLite reads back as exactly this double: its shortest
/// decimal form when SQLite's parser reads that form back exactly, else m * 2^e written with
/// operations on doubles that are all exact.
void append_real(std::string& out, double value, RealReader& reader) {
  char buffer[40];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string_view text(buffer, static_cast<std::size_t>(result.ptr - buffer));
  if (text.find_first_of(".e") == std::string_view::npos) {
    *result.ptr++ = '.';
    *result.ptr++ = '0';
    text = std::string_view(buffer, static_cast<std::size_t>(result.ptr - buffer));
  }
  const double back = reader.read(text);
  if (std::memcmp(&back, &value, sizeof value) == 0) {
    out.append(text);
    return;
  }
  int exponent = 0;
  const double fraction = std::frexp(value, &exponent);  // value = fraction * 2^exponent
  auto mantissa = static_cast<std::int64_t>(std::ldexp(fraction, 53));
  exponent -= 53;
  if (exponent < -1074) {  // a subnormal: its low bits are zero
    mantissa >>= (-1074 - exponent);
    exponent = -1074;
  }
  while (mantissa != 0 && (mantissa & 1) == 0 && exponent < 0) {
    mantissa >>= 1;
    ++exponent;
  }
  out += fmt::format("(CAST({} AS REAL)", mantissa);
  const char operation = exponent >= 0 ? '*' : '/';
  int left = std::abs(exponent);
  while (left > 0) {
    const int step = std::min(left, 62);
    out += operation;
    out += fmt::format("{}", std::int64_t{1} << step);
    left -= step;
  }
  out += ')';
}

/// Appends the value of column `column` of `row` as SQL that reads back as the same value of the
/// same storage class.
void append_value(ScriptWriter& writer, sqlite3_stmt* row, int column, RealReader& reader) {
  std::string& out = writer.buffer();
  switch (sqlite3_column_type(row, column)) {
    case SQLITE_NULL:
      out += "NULL";
      return;
    case SQLITE_INTEGER: {
      char buffer[24];
      auto result =
          std::to_chars(buffer, buffer + sizeof buffer, sqlite3_column_int64(row, column));
      out.append(buffer, result.ptr);
      return;
    }
    case SQLITE_FLOAT: {
      const double value = sqlite3_column_double(row, column);
      if (std::isinf(value)) {
        out += value > 0 ? "1e999" : "-1e999";
      } else if (std::isnan(value)) {  // SQLite stores no NaN; it never reaches here
        out += "NULL";
      } else {
        append_real(out, value, reader);
      }
      return;
    }
    case SQLITE_TEXT: {
      const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(row, column));
      const auto size = static_cast<std::size_t>(sqlite3_column_bytes(row, column));
      const std::string_view text(data != nullptr ? data : "", size);
      // Text with a NUL (which SQL text cannot hold), a carriage return (which a shell reading
      // the script line by line may drop) or bytes that are not UTF-8 is written as its bytes.
      if (text.find('\0') != std::string_view::npos || text.find('\r') != std::string_view::npos ||
          !valid_utf8(text)) {
        out += "CAST(X'";
        append_hex(writer, reinterpret_cast<const unsigned char*>(text.data()), text.size());
        writer.buffer() += "' AS TEXT)";
        return;
      }
      out += '\'';
      std::size_t start = 0;
      for (std::size_t quote = text.find('\''); quote != std::string_view::npos;
           quote = text.find('\'', start)) {
        writer.append(text.substr(start, quote + 1 - start));
        out += '\'';
        start = quote + 1;
      }
      writer.append(text.substr(start));
      out += '\'';
      writer.flush_if_full();
      return;
    }
    default: {
      const auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(row, column));
      const auto size = static_cast<std::size_t>(sqlite3_column_bytes(row, column));
      out += "X'";
      append_hex(writer, data, size);
      writer.buffer() += '\'';
      return;
    }
  }
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

/// The columns of `table` that an INSERT can set: generated and hidden ones are left out. Rowids
/// are not kept, as sqlite3 .dump does not keep them: SQLite itself renumbers those of a table
/// without INTEGER PRIMARY KEY on VACUUM, so nothing can rely on them; the rows keep their order.
struct InsertShape {
  std::vector<std::string> columns;
  bool all_columns = true;
};

InsertShape insert_shape(sqlite3* db, const std::string& table) {
  InsertShape shape;
  const std::string what = fmt::format("cannot read the columns of {}", table);
  Statement statement = prepare(db, "SELECT name, hidden FROM pragma_table_xinfo(?1)", what);
  sqlite3_bind_text(statement.get(), 1, table.c_str(), -1, SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
    const auto* name = reinterpret_cast<const char*>(sqlite3_column_text(statement.get(), 0));
    if (sqlite3_column_int(statement.get(), 1) == 0) {
      shape.columns.emplace_back(name != nullptr ? name : "");
    } else {
      shape.all_columns = false;
    }
  }
  if (rc != SQLITE_DONE) throw sqlite_error(db, what, database_path(db));
  return shape;
}

/// Writes an INSERT for every row of `table`.
void dump_rows(sqlite3* db, const std::string& table, ScriptWriter& writer, RealReader& reader,
               SnapshotProgress& progress) {
  const InsertShape shape = insert_shape(db, table);
  std::string select = "SELECT ";
  std::string insert = "INSERT INTO " + quote_identifier(table);
  std::string list;
  for (const std::string& column : shape.columns) {
    if (!list.empty()) list += ',';
    list += quote_identifier(column);
  }
  if (list.empty()) return;  // a table of generated columns only holds no rows of its own
  select += list + " FROM " + quote_identifier(table);
  if (!shape.all_columns) insert += "(" + list + ")";
  insert += " VALUES(";

  progress.table(table, -1);
  Statement statement = prepare(db, select, fmt::format("cannot read the rows of {}", table));
  const int columns = sqlite3_column_count(statement.get());
  std::int64_t rows = 0;
  std::uint64_t reported = writer.bytes();
  int rc;
  while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
    writer.buffer() += insert;
    for (int column = 0; column < columns; ++column) {
      if (column > 0) writer.buffer() += ',';
      append_value(writer, statement.get(), column, reader);
    }
    writer.buffer() += ");\n";
    writer.flush_if_full();
    if (++rows == k_progress_rows) {
      const std::uint64_t bytes = writer.bytes();
      progress.advance(rows, static_cast<std::int64_t>(bytes - reported));
      reported = bytes;
      rows = 0;
    }
  }
  if (rc != SQLITE_DONE) {
    throw sqlite_error(db, fmt::format("cannot read the rows of {}", table), database_path(db));
  }
  progress.advance(rows, static_cast<std::int64_t>(writer.bytes() - reported));
}

void sqlite_dump_sql(Engine& engine, FileSink& out, SnapshotProgress& progress) {
  sqlite3* db = sqlite_handle(engine);
  ReadTransaction transaction(db);
  RealReader reader(db);
  ScriptWriter writer(out);
  writer.append("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n");

  // Tables first, each followed by its rows, in the order they were created, as sqlite3 .dump
  // writes them; sqlite_sequence last, so that AUTOINCREMENT counters end as they were.
  std::vector<std::pair<std::string, std::string>> tables;  // name, sql
  {
    Statement statement = prepare(db,
                                  "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND "
                                  "sql NOT NULL ORDER BY tbl_name = 'sqlite_sequence', rowid",
                                  "cannot list the database's tables");
    int rc;
    while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
      const auto* name = reinterpret_cast<const char*>(sqlite3_column_text(statement.get(), 0));
      const auto* sql = reinterpret_cast<const char*>(sqlite3_column_text(statement.get(), 1));
      tables.emplace_back(name != nullptr ? name : "", sql != nullptr ? sql : "");
    }
    if (rc != SQLITE_DONE) {
      throw sqlite_error(db, "cannot list the database's tables", database_path(db));
    }
  }
  bool writable_schema = false;
  for (const auto& [name, sql] : tables) {
    if (name == "sqlite_sequence") {
      writer.append("DELETE FROM sqlite_sequence;\n");
    } else if (name == "sqlite_stat1") {
      writer.append("ANALYZE sqlite_schema;\n");
    } else if (starts_with_nocase(name, "sqlite_")) {
      continue;
    } else if (starts_with_nocase(sql, "create virtual table")) {
      // As sqlite3 .dump does: the table's entry without running the module's constructor,
      // whose shadow tables follow as tables of their own.
      if (!writable_schema) writer.append("PRAGMA writable_schema=ON;\n");
      writable_schema = true;
      writer.append(fmt::format(
          "INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql)VALUES('table',{},{},0,{});\n",
          quote_literal(name), quote_literal(name), quote_literal(sql)));
      continue;
    } else {
      writer.append(sql);
      writer.append(";\n");
    }
    dump_rows(db, name, writer, reader, progress);
  }

  // Then indexes, triggers and views, in the order they were created.
  {
    Statement statement = prepare(db,
                                  "SELECT sql FROM sqlite_master WHERE sql NOT NULL AND type IN "
                                  "('index', 'trigger', 'view') ORDER BY rowid",
                                  "cannot list the database's indexes, triggers and views");
    int rc;
    while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
      const auto* sql = reinterpret_cast<const char*>(sqlite3_column_text(statement.get(), 0));
      writer.append(sql != nullptr ? sql : "");
      writer.append(";\n");
    }
    if (rc != SQLITE_DONE) {
      throw sqlite_error(db, "cannot list the database's indexes, triggers and views",
                         database_path(db));
    }
  }
  if (writable_schema) writer.append("PRAGMA writable_schema=OFF;\n");
  writer.append("COMMIT;\n");
  writer.flush();
  transaction.end();
}

}  // namespace

const SnapshotSupport k_sqlite_snapshot_support = {
    .dump = sqlite_dump,
    .load = sqlite_load,
    .dump_sql = sqlite_dump_sql,
};

}  // namespace dbinit
