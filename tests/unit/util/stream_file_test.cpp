// Streaming snapshot files (util/stream_file.h): hashed as written, compressed, read back in
// pieces, and errors that name the file.

#include "util/stream_file.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "support/harness.h"
#include "util/error.h"
#include "util/sha256.h"

namespace dbinit {
namespace {

namespace fs = std::filesystem;

std::string random_text(std::size_t size, unsigned seed) {
  std::mt19937 gen(seed);
  std::string text(size, '\0');
  // Half random bytes, half repeats: compressible but not trivially.
  for (std::size_t i = 0; i < size; ++i) {
    text[i] = (i / 4096) % 2 ? static_cast<char>(gen()) : static_cast<char>('a' + i % 7);
  }
  return text;
}

std::string read_back(const fs::path& path, bool zstd) {
  FileSource source(path, zstd);
  std::string out;
  for (std::string_view piece = source.read(); !piece.empty(); piece = source.read()) {
    EXPECT_LE(piece.size(), 4u << 20);
    out += piece;
  }
  return out;
}

TEST(StreamFile, WritesHashesAndReadsBackPlainAndCompressed) {
  test::TempDir dir;
  const std::string text = random_text(5'000'000, 1);
  for (int level : {0, 1, 3}) {
    const std::string name = "data-" + std::to_string(level);
    FileSink sink(dir.path(), name, {level, level > 0 ? 1 : 0});
    // Pieces of every size, including ones larger than the buffer.
    std::size_t pos = 0;
    std::size_t step = 1;
    while (pos < text.size()) {
      const std::size_t n = std::min(step, text.size() - pos);
      sink.write(std::string_view(text).substr(pos, n));
      pos += n;
      step = step * 3 + 1;
      if (step > 3'000'000) step = 7;
    }
    EXPECT_EQ(sink.bytes_in(), text.size());
    const WrittenFile written = sink.finish();
    EXPECT_EQ(written.name, name);
    const std::string on_disk = test::read_file(dir.path() / name);
    EXPECT_EQ(written.size, on_disk.size());
    EXPECT_EQ(written.sha256, sha256_hex(on_disk));
    if (level > 0) {
      EXPECT_LT(on_disk.size(), text.size());
    }
    struct stat st {};
    ASSERT_EQ(::stat((dir.path() / name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(read_back(dir.path() / name, level > 0), text) << level;
  }
}

TEST(StreamFile, NeverReplacesAFile) {
  test::TempDir dir;
  dir.write("taken", "old");
  try {
    FileSink sink(dir.path(), "taken", {});
    ADD_FAILURE() << "opened an existing file";
  } catch (const Error& error) {
    EXPECT_NE(error.message().find("taken"), std::string::npos) << error.message();
  }
  EXPECT_EQ(test::read_file(dir.path() / "taken"), "old");
}

TEST(StreamFile, TruncatedOrCorruptCompressedDataIsAnError) {
  test::TempDir dir;
  {
    FileSink sink(dir.path(), "z", {1, 0});
    sink.write(random_text(1'000'000, 2));
    sink.finish();
  }
  const fs::path path = dir.path() / "z";
  const std::string whole = test::read_file(path);
  dir.write("cut", whole.substr(0, whole.size() / 2));
  EXPECT_THROW(read_back(dir.path() / "cut", true), Error);
  std::string flipped = whole;
  flipped[flipped.size() / 3] ^= 0x40;
  flipped[flipped.size() / 3 + 1] ^= 0x40;
  dir.write("flipped", flipped);
  // Frames carry a checksum: a flipped byte anywhere is seen.
  EXPECT_THROW(read_back(dir.path() / "flipped", true), Error);
}

TEST(StreamFile, AMissingFileNamesItself) {
  try {
    FileSource source("/nonexistent/dbinit/x", false);
    ADD_FAILURE();
  } catch (const Error& error) {
    EXPECT_NE(error.message().find("/nonexistent/dbinit/x"), std::string::npos);
  }
}

}  // namespace
}  // namespace dbinit
