#include "util/stream_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>
#include <zstd.h>

#include "util/error.h"
#include "util/sha256.h"

namespace dbinit {

namespace {

constexpr std::size_t k_buffer_size = 1 << 20;

[[noreturn]] void throw_io(std::string_view what, std::string_view shown, int error_number) {
  Error error(ErrorKind::failure,
              fmt::format("cannot {} {}: {}", what, shown, std::strerror(error_number)));
  if (error_number == ENOSPC || error_number == EDQUOT) {
    error.hint = "free space on that file system (or point --backups elsewhere) and run it again";
  }
  throw error;
}

void write_all(int fd, std::string_view data, std::string_view shown) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io("write", shown, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

// --- FileSink
// -------------------------------------------------------------------------------------

struct FileSink::State {
  int fd = -1;
  bool owned = true;
  std::string name;
  std::string shown;
  Options options;
  Sha256 hash;
  // Bytes waiting to be written (compressed ones when zstd): `used` of a buffer allocated once,
  // large enough for one block plus one compressor output step.
  std::unique_ptr<char[]> buffer;
  std::size_t used = 0;
  std::size_t capacity = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  ZSTD_CCtx* zstd = nullptr;

  ~State() {
    if (zstd) ZSTD_freeCCtx(zstd);
    if (owned && fd >= 0) ::close(fd);
  }

  void allocate() {
    capacity = k_buffer_size + ZSTD_CStreamOutSize();
    buffer = std::make_unique_for_overwrite<char[]>(capacity);
  }

  void put(std::string_view data) {
    write_all(fd, data, shown);
    if (owned) hash.update(data);
    bytes_out += data.size();
  }

  void flush_buffer() {
    if (used == 0) return;
    put(std::string_view(buffer.get(), used));
    used = 0;
  }

  void compress(std::string_view data, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    while (true) {
      if (capacity - used < ZSTD_CStreamOutSize()) flush_buffer();
      ZSTD_outBuffer out{buffer.get() + used, capacity - used, 0};
      const std::size_t left = ZSTD_compressStream2(zstd, &out, &in, mode);
      used += out.pos;
      if (ZSTD_isError(left)) {
        throw Error(ErrorKind::failure,
                    fmt::format("cannot compress {}: {}", shown, ZSTD_getErrorName(left)));
      }
      if (used >= k_buffer_size) flush_buffer();
      const bool done = mode == ZSTD_e_continue ? in.pos == in.size : left == 0;
      if (done) break;
    }
  }

  void start_compression() {
    if (options.zstd_level <= 0) return;
    zstd = ZSTD_createCCtx();
    if (!zstd) throw Error(ErrorKind::failure, "cannot allocate a Zstandard context");
    ZSTD_CCtx_setParameter(zstd, ZSTD_c_compressionLevel, options.zstd_level);
    // A checksum per frame: a damaged file fails to decompress rather than giving other rows.
    ZSTD_CCtx_setParameter(zstd, ZSTD_c_checksumFlag, 1);
    if (options.zstd_workers > 0) {
      // Without a multithreaded libzstd this fails and compression stays on this thread.
      ZSTD_CCtx_setParameter(zstd, ZSTD_c_nbWorkers, options.zstd_workers);
    }
  }
};

FileSink::FileSink(const std::filesystem::path& dir, std::string name, Options options)
    : m_state(std::make_unique<State>()) {
  State& s = *m_state;
  const std::filesystem::path path = dir / name;
  s.name = std::move(name);
  s.shown = path.string();
  s.options = options;
  s.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (s.fd < 0) throw_io("create", s.shown, errno);
  s.allocate();
  s.start_compression();
}

FileSink FileSink::to_descriptor(int fd, std::string shown, Options options) {
  FileSink sink;
  sink.m_state = std::make_unique<State>();
  State& s = *sink.m_state;
  s.fd = fd;
  s.owned = false;
  s.name = shown;
  s.shown = std::move(shown);
  s.options = options;
  s.allocate();
  s.start_compression();
  return sink;
}

FileSink::FileSink(FileSink&&) noexcept = default;
FileSink& FileSink::operator=(FileSink&&) noexcept = default;
FileSink::~FileSink() = default;

void FileSink::write(std::string_view data) {
  State& s = *m_state;
  s.bytes_in += data.size();
  if (s.zstd) {
    s.compress(data, ZSTD_e_continue);
    return;
  }
  if (s.used + data.size() > k_buffer_size) {
    s.flush_buffer();
    if (data.size() >= k_buffer_size) {
      s.put(data);
      return;
    }
  }
  std::memcpy(s.buffer.get() + s.used, data.data(), data.size());
  s.used += data.size();
}

std::uint64_t FileSink::bytes_in() const {
  return m_state->bytes_in;
}

WrittenFile FileSink::finish() {
  State& s = *m_state;
  if (s.zstd) s.compress({}, ZSTD_e_end);
  s.flush_buffer();
  WrittenFile file{s.name, s.bytes_out, {}};
  if (s.owned) {
    if (::fsync(s.fd) != 0) throw_io("flush", s.shown, errno);
    const int fd = std::exchange(s.fd, -1);
    if (::close(fd) != 0) throw_io("close", s.shown, errno);
    file.sha256 = s.hash.finish_hex();
  }
  return file;
}

// --- FileSource
// -----------------------------------------------------------------------------------

struct FileSource::State {
  int fd = -1;
  std::string shown;
  std::string raw;  // bytes read from the file
  std::size_t raw_pos = 0;
  std::string out;  // decompressed bytes handed out
  bool eof = false;
  std::uint64_t bytes_read = 0;
  ZSTD_DCtx* zstd = nullptr;
  std::size_t frame_left = 0;  // ZSTD_decompressStream's last hint: 0 when a frame ended

  ~State() {
    if (zstd) ZSTD_freeDCtx(zstd);
    if (fd >= 0) ::close(fd);
  }

  // Reads the next block of the file into `raw`; false at the end.
  bool fill() {
    raw.resize(k_buffer_size);
    raw_pos = 0;
    while (true) {
      const ssize_t n = ::read(fd, raw.data(), raw.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_io("read", shown, errno);
      }
      raw.resize(static_cast<std::size_t>(n));
      bytes_read += static_cast<std::uint64_t>(n);
      if (n == 0) eof = true;
      return n > 0;
    }
  }
};

FileSource::FileSource(const std::filesystem::path& path, bool zstd)
    : m_state(std::make_unique<State>()) {
  State& s = *m_state;
  s.shown = path.string();
  s.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (s.fd < 0) throw_io("open", s.shown, errno);
  if (zstd) {
    s.zstd = ZSTD_createDCtx();
    if (!s.zstd) throw Error(ErrorKind::failure, "cannot allocate a Zstandard context");
  }
}

FileSource::FileSource(FileSource&&) noexcept = default;
FileSource& FileSource::operator=(FileSource&&) noexcept = default;
FileSource::~FileSource() = default;

std::string_view FileSource::read() {
  State& s = *m_state;
  if (!s.zstd) {
    if (s.eof || !s.fill()) return {};
    return s.raw;
  }
  s.out.resize(ZSTD_DStreamOutSize() * 2);
  ZSTD_outBuffer out{s.out.data(), s.out.size(), 0};
  while (out.pos == 0) {
    if (s.raw_pos == s.raw.size()) {
      if (s.eof || !s.fill()) {
        if (s.frame_left != 0) {
          throw Error(ErrorKind::failure,
                      fmt::format("cannot read {}: the zstd data is truncated", s.shown));
        }
        return {};
      }
    }
    ZSTD_inBuffer in{s.raw.data(), s.raw.size(), s.raw_pos};
    const std::size_t hint = ZSTD_decompressStream(s.zstd, &out, &in);
    if (ZSTD_isError(hint)) {
      throw Error(ErrorKind::failure, fmt::format("cannot read {}: corrupt zstd data ({})", s.shown,
                                                  ZSTD_getErrorName(hint)));
    }
    s.raw_pos = in.pos;
    s.frame_left = hint;
  }
  return std::string_view(s.out.data(), out.pos);
}

std::uint64_t FileSource::bytes_read() const {
  return m_state->bytes_read;
}

void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_io("open", dir.string(), errno);
  const int result = ::fsync(fd);
  const int error_number = errno;
  ::close(fd);
  if (result != 0) throw_io("flush", dir.string(), error_number);
}

}  // namespace dbinit
