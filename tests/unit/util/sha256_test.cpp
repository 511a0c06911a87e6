#include "util/sha256.h"

#include <string>

#include <gtest/gtest.h>

namespace dbinit::test {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, ReusedContextGivesIndependentResults) {
  std::string first = sha256_hex("abc");
  sha256_hex("something else entirely");
  EXPECT_EQ(sha256_hex("abc"), first);
}

TEST(Sha256, BinaryInput) {
  std::string data("a\0b", 3);
  EXPECT_NE(sha256_hex(data), sha256_hex("a"));
  EXPECT_EQ(sha256_hex(data).size(), 64u);
}

TEST(Sha256, IncrementalMatchesOneShot) {
  Sha256 hash;
  hash.update("a");
  hash.update("");
  hash.update("bc");
  EXPECT_EQ(hash.finish_hex(), sha256_hex("abc"));
  // The object starts over after finish_hex().
  hash.update("abc");
  EXPECT_EQ(hash.finish_hex(), sha256_hex("abc"));
  EXPECT_EQ(hash.finish_hex(), sha256_hex(""));
}

}  // namespace
}  // namespace dbinit::test
