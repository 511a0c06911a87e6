#include "util/elapsed.h"

#include <gtest/gtest.h>

namespace dbinit::test {
namespace {

using std::chrono::milliseconds;

TEST(DurationText, OneFormForEveryDuration) {
  EXPECT_EQ(duration_text(milliseconds(0)), "0 ms");
  EXPECT_EQ(duration_text(milliseconds(350)), "350 ms");
  EXPECT_EQ(duration_text(milliseconds(999)), "999 ms");
  EXPECT_EQ(duration_text(milliseconds(1000)), "1 s");
  EXPECT_EQ(duration_text(milliseconds(1250)), "1.2 s");
  EXPECT_EQ(duration_text(milliseconds(3000)), "3 s");
  EXPECT_EQ(duration_text(milliseconds(30'000)), "30 s");
  EXPECT_EQ(duration_text(milliseconds(59'900)), "59.9 s");
  EXPECT_EQ(duration_text(milliseconds(60'000)), "1 min");
  EXPECT_EQ(duration_text(milliseconds(125'000)), "2 min 5 s");
  EXPECT_EQ(duration_text(milliseconds(3'600'000)), "1 h");
  EXPECT_EQ(duration_text(milliseconds(5'400'000)), "1 h 30 min");
}

}  // namespace
}  // namespace dbinit::test
