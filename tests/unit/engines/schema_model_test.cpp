// The schema model's shared ordering: what every engine's reader and renderer use.

#include "engines/schema_model.h"

#include <gtest/gtest.h>

namespace dbinit {
namespace {

View view(std::string name, std::vector<std::string> reads) {
  View v;
  v.name.name = std::move(name);
  for (std::string& read : reads) v.depends_on.push_back({"", std::move(read)});
  return v;
}

std::vector<std::string> names(const std::vector<const View*>& views) {
  std::vector<std::string> out;
  for (const View* v : views) out.push_back(v->name.name);
  return out;
}

TEST(SchemaModel, DependencyOrderPutsEachAfterWhatItNeedsSmallestFirst) {
  // 0 needs 2, 1 needs nothing, 2 needs 1, 3 needs itself (ignored).
  EXPECT_EQ(dependency_order({{2}, {}, {1}, {3}}), (std::vector<std::size_t>{1, 2, 0, 3}));
  EXPECT_EQ(dependency_order({}), std::vector<std::size_t>{});
  // A cycle cannot stop it: what is left comes in index order.
  EXPECT_EQ(dependency_order({{1}, {0}, {}}), (std::vector<std::size_t>{2, 0, 1}));
}

TEST(SchemaModel, ViewsByNameExceptAfterTheViewsTheyRead) {
  const std::vector<View> views = {view("c", {}), view("a_reads_z", {"z", "some_table"}),
                                   view("z", {"c"}), view("b", {})};
  EXPECT_EQ(names(views_in_dependency_order(views)),
            (std::vector<std::string>{"b", "c", "z", "a_reads_z"}));
  // The same whatever order the views come in.
  const std::vector<View> reversed(views.rbegin(), views.rend());
  EXPECT_EQ(names(views_in_dependency_order(reversed)), names(views_in_dependency_order(views)));
}

TEST(SchemaModel, FindTableAndEmpty) {
  SchemaModel model;
  EXPECT_TRUE(model.empty());
  Table table;
  table.name = {"public", "people"};
  model.tables.push_back(table);
  EXPECT_FALSE(model.empty());
  EXPECT_NE(model.find_table({"public", "people"}), nullptr);
  EXPECT_EQ(model.find_table({"", "people"}), nullptr);
  EXPECT_EQ(to_sql(ForeignKeyAction::set_null), "SET NULL");
}

}  // namespace
}  // namespace dbinit
