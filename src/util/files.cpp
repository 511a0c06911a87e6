#include "util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "util/error.h"

namespace dbinit {

namespace {

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : m_fd(fd) {}
  ~FileDescriptor() {
    if (m_fd >= 0) ::close(m_fd);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  int get() const { return m_fd; }
  /// Closes now and reports close()'s result (NFS reports write errors there).
  int close() {
    int result = ::close(m_fd);
    m_fd = -1;
    return result;
  }

 private:
  int m_fd;
};

[[noreturn]] void throw_read_error(std::string_view shown, int error_number) {
  throw Error(ErrorKind::config,
              fmt::format("cannot read {}: {}", shown, std::strerror(error_number)));
}

[[noreturn]] void throw_read_error(const std::filesystem::path& path, int error_number) {
  throw_read_error(std::string_view(path.native()), error_number);
}

[[noreturn]] void throw_write_error(const std::filesystem::path& path, int error_number) {
  throw Error(ErrorKind::failure,
              fmt::format("cannot write {}: {}", path.string(), std::strerror(error_number)));
}

[[noreturn]] void throw_decompress_error(const std::filesystem::path& path, std::string_view why) {
  Error error(ErrorKind::config, fmt::format("cannot decompress {}: {}", path.string(), why));
  error.hint = "the file is corrupt or was cut short; recreate it";
  throw error;
}

// Reads until end of file into `out` from offset `filled`, growing as needed: for files whose size
// fstat cannot tell (pipes, /proc) and for the rest of a file larger than one read.
void read_to_end(int fd, std::string& out, std::size_t filled, std::string_view shown) {
  for (;;) {
    if (filled == out.size()) out.resize(std::max<std::size_t>(out.size() * 2, 64 * 1024));
    ssize_t n = ::read(fd, out.data() + filled, out.size() - filled);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_read_error(shown, errno);
    }
    if (n == 0) break;
    filled += static_cast<std::size_t>(n);
  }
  out.resize(filled);
}

// Output size guess for a compressed input of `size` bytes: SQL compresses about 5:1.
std::size_t initial_output_size(std::size_t size) {
  return std::clamp<std::size_t>(size * 6, 64 * 1024, std::size_t{1} << 30);
}

std::string gunzip(std::string_view input, const std::filesystem::path& path) {
  z_stream stream{};
  // 16 + MAX_WBITS: gzip wrapper only.
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&stream, inflateEnd);

  std::string out(initial_output_size(input.size()), '\0');
  std::size_t in_pos = 0;
  std::size_t out_pos = 0;
  bool member_done = false;
  for (;;) {
    if (stream.avail_in == 0 && in_pos < input.size()) {
      std::size_t chunk = std::min<std::size_t>(input.size() - in_pos, UINT_MAX);
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data() + in_pos));
      stream.avail_in = static_cast<uInt>(chunk);
      in_pos += chunk;
    }
    if (out_pos == out.size()) out.resize(out.size() * 2);
    std::size_t room = std::min<std::size_t>(out.size() - out_pos, UINT_MAX);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + out_pos);
    stream.avail_out = static_cast<uInt>(room);
    int result = inflate(&stream, Z_NO_FLUSH);
    out_pos += room - stream.avail_out;
    if (result == Z_STREAM_END) {
      member_done = true;
      std::size_t consumed = in_pos - stream.avail_in;
      std::string_view rest = input.substr(consumed);
      // gzip(1) accepts zero padding after the last member (tape blocks); so do we.
      if (std::all_of(rest.begin(), rest.end(), [](char c) { return c == '\0'; })) break;
      // Another member follows (`cat a.gz b.gz`): its output is appended.
      if (inflateReset(&stream) != Z_OK) throw_decompress_error(path, "zlib reset failed");
      member_done = false;
      continue;
    }
    if (result == Z_OK) continue;
    if (result == Z_BUF_ERROR && stream.avail_out == 0) continue;
    if (result == Z_BUF_ERROR) break;  // no more input: the member is incomplete
    throw_decompress_error(path, stream.msg != nullptr ? stream.msg : "invalid gzip data");
  }
  if (!member_done) throw_decompress_error(path, "the gzip data is empty or truncated");
  out.resize(out_pos);
  return out;
}

std::string unzstd(std::string_view input, const std::filesystem::path& path) {
  std::unique_ptr<ZSTD_DCtx, std::size_t (*)(ZSTD_DCtx*)> context(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!context) throw std::bad_alloc();

  std::size_t size = initial_output_size(input.size());
  unsigned long long declared = ZSTD_getFrameContentSize(input.data(), input.size());
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR &&
      declared < (1ULL << 32)) {
    size = std::max<std::size_t>(static_cast<std::size_t>(declared) + 1, 1024);
  }
  std::string out(size, '\0');
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  std::size_t out_pos = 0;
  std::size_t result = 0;
  for (;;) {
    if (out_pos == out.size()) out.resize(out.size() * 2);
    ZSTD_outBuffer buffer{out.data() + out_pos, out.size() - out_pos, 0};
    result = ZSTD_decompressStream(context.get(), &buffer, &in);
    if (ZSTD_isError(result)) throw_decompress_error(path, ZSTD_getErrorName(result));
    out_pos += buffer.pos;
    // Done when all input is consumed and the decoder did not fill the buffer (nothing is held).
    if (in.pos == in.size && buffer.pos < buffer.size) break;
  }
  // A non-zero result means the decoder is in the middle of a frame.
  if (result != 0 || input.empty()) {
    throw_decompress_error(path, "the zstd data is empty or truncated");
  }
  out.resize(out_pos);
  return out;
}

bool has_extension(const std::filesystem::path& path, std::string_view extension) {
  const std::string& text = path.native();
  return text.size() >= extension.size() &&
         std::string_view(text).substr(text.size() - extension.size()) == extension;
}

// Reads all of the open file `raw_fd` (taking ownership of it).
std::string read_open_file(int raw_fd, const std::filesystem::path& path) {
  FileDescriptor fd(raw_fd);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) throw_read_error(path, errno);
  if (S_ISDIR(info.st_mode)) throw_read_error(path, EISDIR);

  std::string out;
  if (!S_ISREG(info.st_mode) || info.st_size == 0) {
    read_to_end(fd.get(), out, 0, path.native());
    return out;
  }
  // A regular file: one buffer of the size fstat reported, filled with as few reads as possible.
  // A file that shrinks meanwhile is cut at its end; one that grows is read up to its old size.
  out.resize(static_cast<std::size_t>(info.st_size));
  std::size_t filled = 0;
  while (filled < out.size()) {
    ssize_t n = ::read(fd.get(), out.data() + filled, out.size() - filled);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_read_error(path, errno);
    }
    if (n == 0) {
      out.resize(filled);
      return out;
    }
    filled += static_cast<std::size_t>(n);
  }
  return out;
}

}  // namespace

std::string read_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_read_error(path, errno);
  return read_open_file(fd, path);
}

std::string read_file_at(int dir_fd, const char* name, std::string_view shown) {
  int raw_fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
  if (raw_fd < 0) throw_read_error(shown, errno);
  FileDescriptor fd(raw_fd);
  // Most files fit this buffer, and for a regular file a read that returns less than was asked
  // for has reached the end (POSIX): open, one read, close, and no fstat for the size.
  char buffer[16 * 1024];
  ssize_t n;
  do {
    n = ::read(fd.get(), buffer, sizeof buffer);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw_read_error(shown, errno);
  const auto filled = static_cast<std::size_t>(n);
  if (filled < sizeof buffer) return std::string(buffer, filled);
  std::string out(buffer, filled);
  read_to_end(fd.get(), out, filled, shown);
  return out;
}

std::string read_sql_file(const std::filesystem::path& path) {
  if (has_extension(path, ".gz")) return gunzip(read_file(path), path);
  if (has_extension(path, ".zst")) return unzstd(read_file(path), path);
  return read_file(path);
}

void write_file_atomic(const std::filesystem::path& path, std::string_view content) {
  static std::atomic<unsigned> counter{0};
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";

  struct stat existing {};
  bool keep_mode = ::stat(path.c_str(), &existing) == 0 && S_ISREG(existing.st_mode);

  // O_EXCL with a name unique to this process and call; 0666 lets the umask decide the mode, as
  // for any new file.
  std::filesystem::path temp;
  int raw_fd = -1;
  for (int attempt = 0; raw_fd < 0; ++attempt) {
    temp = dir / fmt::format(".{}.tmp-{}-{}", path.filename().string(), ::getpid(), counter++);
    raw_fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (raw_fd < 0 && (errno != EEXIST || attempt >= 100)) throw_write_error(path, errno);
  }
  FileDescriptor fd(raw_fd);
  auto fail = [&](int error_number) {
    fd.close();
    ::unlink(temp.c_str());
    throw_write_error(path, error_number);
  };

  std::size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(errno);
    }
    written += static_cast<std::size_t>(n);
  }
  if (keep_mode && ::fchmod(fd.get(), existing.st_mode & 07777) != 0) fail(errno);
  if (::fsync(fd.get()) != 0) fail(errno);
  if (fd.close() != 0) {
    int error_number = errno;
    ::unlink(temp.c_str());
    throw_write_error(path, error_number);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int error_number = errno;
    ::unlink(temp.c_str());
    throw_write_error(path, error_number);
  }
  // Make the rename itself durable. A folder that cannot be opened or synced (some network file
  // systems) does not make the write fail: the data is already in place.
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

std::vector<std::filesystem::path> list_sql_files(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  if (!fs::is_directory(dir, ec)) return files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".") || !entry.is_regular_file(ec)) continue;
    if (name.ends_with(".sql") || name.ends_with(".sql.gz") || name.ends_with(".sql.zst")) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace dbinit
