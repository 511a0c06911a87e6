#include "util/redactor.h"

#include <gtest/gtest.h>

namespace dbinit::test {
namespace {

class Redactor : public ::testing::Test {
 protected:
  void SetUp() override { clear_secrets(); }
  void TearDown() override { clear_secrets(); }
};

TEST_F(Redactor, ReplacesTheSecretInEveryFormAUrlMayHoldIt) {
  add_secret("p@ss:w/rd%?#&=+ \xc3\xa9");
  EXPECT_EQ(redact("raw p@ss:w/rd%?#&=+ \xc3\xa9 end"), "raw *** end");
  EXPECT_EQ(redact("x p%40ss%3Aw%2Frd%25%3F%23%26%3D%2B%20%C3%A9 y"), "x *** y");
  EXPECT_EQ(redact("x p%40ss%3aw%2frd%25%3f%23%26%3d%2b%20%c3%a9 y"), "x *** y");
  EXPECT_EQ(redact("x p%40ss%3Aw%2Frd%25%3F%23%26%3D%2B+%C3%A9 y"), "x *** y");
  EXPECT_EQ(redact("x p%40ss%3Aw%2Frd%25%3F%23%26%3D%2B%20\xc3\xa9 y"), "x *** y");
  EXPECT_EQ(redact("twice: p@ss:w/rd%?#&=+ \xc3\xa9p@ss:w/rd%?#&=+ \xc3\xa9"), "twice: ******");
  EXPECT_EQ(redact("nothing here"), "nothing here");
}

TEST_F(Redactor, LongerSecretsGoFirstAndShortOnesAreIgnored) {
  add_secret("abc");
  add_secret("abcdef");
  add_secret("xy");
  EXPECT_EQ(redact("abcdef abc xy"), "*** *** xy");
  clear_secrets();
  EXPECT_EQ(redact("abcdef"), "abcdef");
}

TEST(PercentEncode, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(percent_encode("aZ9-._~ /@"), "aZ9-._~%20%2F%40");
  EXPECT_EQ(percent_encode("\xc3\xa9:", true), "%c3%a9%3a");
  EXPECT_EQ(percent_encode("\xc3\xa9:", false, true), "\xc3\xa9%3A");
}

}  // namespace
}  // namespace dbinit::test
