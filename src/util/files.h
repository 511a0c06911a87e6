#pragma once

// Whole-file reading and writing.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace dbinit {

/// The bytes of `path`. Throws Error{config} naming the file and the system's reason when it cannot
/// be read (missing, a directory, no permission).
std::string read_file(const std::filesystem::path& path);

/// The bytes of the regular file `name` in the open folder `dir_fd` (openat(2): no path lookup
/// from the root, for reading many files of one folder); `shown` names the file in error messages.
/// Takes a short read for the end of the file, as POSIX defines it for regular files: the caller
/// makes sure that `name` is one (a FIFO would be read only as far as its first write).
std::string read_file_at(int dir_fd, const char* name, std::string_view shown);

/// The bytes of `path`, decompressed by extension: `.gz` (gzip, several members allowed) and `.zst`
/// (Zstandard, several frames allowed, content size not required); anything else is read as is.
/// Throws Error{config} for an unreadable file or corrupt or truncated compressed data.
std::string read_sql_file(const std::filesystem::path& path);

/// The `*.sql`, `*.sql.gz` and `*.sql.zst` files directly in `dir`, in name order, leaving out
/// hidden files and anything that is not a regular file. Empty when `dir` is not a folder.
std::vector<std::filesystem::path> list_sql_files(const std::filesystem::path& dir);

/// Replaces `path` with `content` atomically: writes a temporary file in the same folder, flushes
/// it to disk and renames it over `path`, so readers see the old file or the new one, never a part.
/// An existing file's permissions are kept. Throws Error{failure} naming the file on an I/O error.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

}  // namespace dbinit
