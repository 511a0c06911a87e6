#include <gtest/gtest.h>

#include "engines/postgres/pg_connection.h"

namespace dbinit::test {
namespace {

TEST(PgResourceHint, NamesWhatToFreeOrRaiseForInsufficientResources) {
  EXPECT_NE(pg_resource_hint("53100").find("disk is full"), std::string::npos);
  EXPECT_NE(pg_resource_hint("53200").find("out of memory"), std::string::npos);
  EXPECT_NE(pg_resource_hint("53300").find("max_connections"), std::string::npos);
  // Anything else keeps the runner's own advice.
  EXPECT_EQ(pg_resource_hint("42P01"), "");
  EXPECT_EQ(pg_resource_hint("53400"), "");
  EXPECT_EQ(pg_resource_hint(""), "");
}

}  // namespace
}  // namespace dbinit::test
