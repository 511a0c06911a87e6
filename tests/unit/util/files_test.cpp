#include "util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "support/harness.h"
#include "util/error.h"

namespace dbinit::test {
namespace {

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  fs::path write(const std::string& name, std::string_view content) {
    return m_temp.write(name, content);
  }

  TempDir m_temp;
  const fs::path& m_dir = m_temp.path();
};

std::string gzip(std::string_view data) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2");
  }
  std::string out(deflateBound(&stream, data.size()) + 64, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int result = deflate(&stream, Z_FINISH);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(stream.total_out);
  return out;
}

std::string zstd_known_size(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  std::size_t size = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(size)) throw std::runtime_error("ZSTD_compress");
  out.resize(size);
  return out;
}

// A frame whose header does not record the content size, as `zstd` writes when reading a pipe.
std::string zstd_streamed(std::string_view data) {
  ZSTD_CCtx* context = ZSTD_createCCtx();
  std::string out(ZSTD_compressBound(data.size()) + 1024, '\0');
  ZSTD_outBuffer output{out.data(), out.size(), 0};
  ZSTD_inBuffer input{data.data(), data.size(), 0};
  std::size_t result = ZSTD_compressStream2(context, &output, &input, ZSTD_e_continue);
  ZSTD_inBuffer empty{nullptr, 0, 0};
  while (!ZSTD_isError(result)) {
    result = ZSTD_compressStream2(context, &output, &empty, ZSTD_e_end);
    if (result == 0) break;
  }
  ZSTD_freeCCtx(context);
  if (ZSTD_isError(result)) throw std::runtime_error("ZSTD_compressStream2");
  out.resize(output.pos);
  return out;
}

std::string sample_sql(std::size_t rows) {
  std::string sql = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);\n";
  for (std::size_t i = 0; i < rows; ++i) {
    sql +=
        "INSERT INTO t VALUES (" + std::to_string(i) + ", 'name " + std::to_string(i * 7) + "');\n";
  }
  return sql;
}

TEST_F(FilesTest, ReadFileReturnsExactBytes) {
  std::string content("line 1\r\nline 2\0binary\xff", 22);
  EXPECT_EQ(dbinit::read_file(write("a.sql", content)), content);
  EXPECT_EQ(dbinit::read_file(write("empty.sql", "")), "");
  std::string big = sample_sql(50000);
  EXPECT_EQ(dbinit::read_file(write("big.sql", big)), big);
}

TEST_F(FilesTest, ReadFileOfUnsizedFile) {
  // /proc files report size 0 but have content.
  std::string status = dbinit::read_file("/proc/self/status");
  EXPECT_NE(status.find("Pid:"), std::string::npos);
}

TEST_F(FilesTest, ReadFileErrorNamesFileAndReason) {
  fs::path missing = m_dir / "missing.sql";
  try {
    dbinit::read_file(missing);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::config);
    EXPECT_NE(error.message().find(missing.string()), std::string::npos) << error.message();
    EXPECT_NE(error.message().find("No such file or directory"), std::string::npos)
        << error.message();
  }
  try {
    dbinit::read_file(m_dir);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::config);
    EXPECT_NE(error.message().find("Is a directory"), std::string::npos) << error.message();
  }
}

TEST_F(FilesTest, ReadFileAtReadsRelativeToAnOpenFolder) {
  write("x.sql", "SELECT 1;");
  int dir_fd = ::open(m_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir_fd, 0);
  EXPECT_EQ(read_file_at(dir_fd, "x.sql", "x.sql"), "SELECT 1;");
  // Empty, and around the size that one read covers.
  write("empty.sql", "");
  EXPECT_EQ(read_file_at(dir_fd, "empty.sql", "empty.sql"), "");
  for (std::size_t size : {16u * 1024 - 1, 16u * 1024, 16u * 1024 + 1, 200u * 1024}) {
    std::string text(size, 'x');
    for (std::size_t i = 0; i < size; i += 97) text[i] = static_cast<char>('a' + i % 26);
    write("big.sql", text);
    EXPECT_EQ(read_file_at(dir_fd, "big.sql", "big.sql"), text) << size;
  }
  try {
    read_file_at(dir_fd, "missing.sql", "shown/missing.sql");
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.message(), "cannot read shown/missing.sql: No such file or directory");
  }
  ::close(dir_fd);
}

TEST_F(FilesTest, ReadSqlFilePlain) {
  EXPECT_EQ(read_sql_file(write("init.sql", "SELECT 1;\n")), "SELECT 1;\n");
}

TEST_F(FilesTest, ReadSqlFileGzip) {
  std::string sql = sample_sql(20000);
  fs::path path = write("init.sql.gz", gzip(sql));
  EXPECT_LT(fs::file_size(path), sql.size() / 4);
  EXPECT_EQ(read_sql_file(path), sql);
  // Reading the compressed file plainly gives the compressed bytes.
  EXPECT_NE(dbinit::read_file(path), sql);
}

TEST_F(FilesTest, ReadSqlFileGzipMultiMemberAndPadding) {
  std::string a = sample_sql(100);
  std::string b = "-- second member\nSELECT 2;\n";
  EXPECT_EQ(read_sql_file(write("two.sql.gz", gzip(a) + gzip(b))), a + b);
  EXPECT_EQ(read_sql_file(write("padded.sql.gz", gzip(a) + std::string(512, '\0'))), a);
  EXPECT_EQ(read_sql_file(write("empty-content.sql.gz", gzip(""))), "");
}

TEST_F(FilesTest, ReadSqlFileGzipErrors) {
  std::string compressed = gzip(sample_sql(1000));
  for (const auto& [name, bytes] :
       {std::pair<std::string, std::string>{"truncated.sql.gz",
                                            compressed.substr(0, compressed.size() / 2)},
        {"empty.sql.gz", ""},
        {"garbage.sql.gz", "this is not gzip data at all"},
        {"trailing.sql.gz", compressed + "junk after the member"}}) {
    fs::path path = write(name, bytes);
    try {
      read_sql_file(path);
      FAIL() << name << ": no error";
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::config) << name;
      EXPECT_NE(error.message().find(path.string()), std::string::npos) << error.message();
    }
  }
}

TEST_F(FilesTest, ReadSqlFileZstd) {
  std::string sql = sample_sql(20000);
  EXPECT_EQ(read_sql_file(write("known.sql.zst", zstd_known_size(sql))), sql);

  std::string streamed = zstd_streamed(sql);
  ASSERT_EQ(ZSTD_getFrameContentSize(streamed.data(), streamed.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  EXPECT_EQ(read_sql_file(write("streamed.sql.zst", streamed)), sql);

  std::string tail = "SELECT 'second frame';\n";
  EXPECT_EQ(read_sql_file(write("frames.sql.zst", zstd_known_size(sql) + zstd_streamed(tail))),
            sql + tail);
}

TEST_F(FilesTest, ReadSqlFileZstdErrors) {
  std::string compressed = zstd_streamed(sample_sql(5000));
  for (const auto& [name, bytes] :
       {std::pair<std::string, std::string>{"truncated.sql.zst",
                                            compressed.substr(0, compressed.size() - 10)},
        {"empty.sql.zst", ""},
        {"garbage.sql.zst", "definitely not zstd"}}) {
    fs::path path = write(name, bytes);
    try {
      read_sql_file(path);
      FAIL() << name << ": no error";
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::config) << name;
      EXPECT_NE(error.message().find(path.string()), std::string::npos) << error.message();
    }
  }
}

TEST_F(FilesTest, WriteFileAtomicCreatesAndReplaces) {
  fs::path path = m_dir / "schema.sql";
  write_file_atomic(path, "first\n");
  EXPECT_EQ(dbinit::read_file(path), "first\n");
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  std::string big = sample_sql(10000);
  write_file_atomic(path, big);
  EXPECT_EQ(dbinit::read_file(path), big);
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  write_file_atomic(path, "");
  EXPECT_EQ(dbinit::read_file(path), "");
  // Nothing but the file itself is left in the folder.
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(m_dir)) {
    ++entries;
    EXPECT_EQ(entry.path().filename(), "schema.sql");
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(FilesTest, WriteFileAtomicErrorNamesFile) {
  fs::path path = m_dir / "no" / "such" / "folder" / "schema.sql";
  try {
    write_file_atomic(path, "x");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::failure);
    EXPECT_NE(error.message().find(path.string()), std::string::npos) << error.message();
    EXPECT_NE(error.message().find("No such file or directory"), std::string::npos);
  }
}

}  // namespace
}  // namespace dbinit::test
