#pragma once

// Streaming files for snapshots: written once, hashed as written, optionally Zstandard-compressed,
// flushed to disk before they count; read back in bounded chunks. Memory use is a fixed buffer
// whatever the file size.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace dbinit {

/// A file as written: its name (relative to the folder it was written in), its size on disk and
/// the lowercase hex SHA-256 of its bytes on disk.
struct WrittenFile {
  std::string name;
  std::uint64_t size = 0;
  std::string sha256;
};

/// Writes one new file. The file is created with O_EXCL and mode 0600 (never follows or replaces
/// anything), every byte is hashed as it goes to disk, and finish() flushes it with fsync. A sink
/// destroyed without finish() closes its file and leaves it as far as it was written (the caller
/// removes the folder it was writing). Throws Error{failure} naming the file and the system's
/// reason (a full disk: ENOSPC) on any I/O error.
class FileSink {
 public:
  struct Options {
    /// 0: the bytes as given; 1..19: a Zstandard stream at that level (1 is fast; the data is
    /// compressed on a worker thread of libzstd, so compression overlaps with the producer).
    int zstd_level = 0;
    /// Zstandard worker threads when zstd_level > 0 (0: compress on the calling thread).
    int zstd_workers = 1;
  };

  /// Creates `dir / name`.
  FileSink(const std::filesystem::path& dir, std::string name, Options options);
  /// Writes to an open descriptor it does not own (stdout for `dump --format sql`): no fsync of a
  /// pipe or terminal, not closed at the end. `shown` names it in errors.
  static FileSink to_descriptor(int fd, std::string shown, Options options);
  FileSink(FileSink&&) noexcept;
  FileSink& operator=(FileSink&&) noexcept;
  ~FileSink();

  /// Buffers `data` and writes it out in large blocks.
  void write(std::string_view data);
  /// Bytes passed to write() so far, before compression (for progress lines).
  std::uint64_t bytes_in() const;
  /// Writes what is buffered, ends the compressed stream, fsyncs (a regular file) and closes.
  WrittenFile finish();

 private:
  struct State;
  FileSink() = default;
  std::unique_ptr<State> m_state;
};

/// Reads one file in chunks, decompressing a Zstandard stream when `zstd` (several frames
/// allowed). Throws Error{failure} naming the file on an I/O error or corrupt or truncated
/// compressed data.
class FileSource {
 public:
  FileSource(const std::filesystem::path& path, bool zstd);
  FileSource(FileSource&&) noexcept;
  FileSource& operator=(FileSource&&) noexcept;
  ~FileSource();

  /// The next piece of the (decompressed) content, at most a few hundred KiB; empty at the end.
  /// Valid until the next call.
  std::string_view read();
  /// Bytes of the file on disk consumed so far (for progress lines).
  std::uint64_t bytes_read() const;

 private:
  struct State;
  std::unique_ptr<State> m_state;
};

/// fsync(2) of a folder, so that the names created or renamed in it are on disk. Throws
/// Error{failure} naming it.
void sync_directory(const std::filesystem::path& dir);

}  // namespace dbinit
