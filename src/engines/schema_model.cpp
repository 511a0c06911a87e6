#include "engines/schema_model.h"

#include <algorithm>
#include <map>

namespace dbinit {

std::string_view to_sql(ForeignKeyAction action) {
  switch (action) {
    case ForeignKeyAction::no_action:
      return "NO ACTION";
    case ForeignKeyAction::restrict:
      return "RESTRICT";
    case ForeignKeyAction::cascade:
      return "CASCADE";
    case ForeignKeyAction::set_null:
      return "SET NULL";
    case ForeignKeyAction::set_default:
      return "SET DEFAULT";
  }
  return "NO ACTION";
}

const Table* SchemaModel::find_table(const ObjectName& name) const {
  auto found = std::find_if(tables.begin(), tables.end(),
                            [&](const Table& table) { return table.name == name; });
  return found == tables.end() ? nullptr : &*found;
}

bool SchemaModel::empty() const {
  return namespaces.empty() && extensions.empty() && types.empty() && sequences.empty() &&
         tables.empty() && views.empty() && routines.empty() && triggers.empty();
}

std::vector<std::size_t> dependency_order(const std::vector<std::set<std::size_t>>& needs) {
  const std::size_t count = needs.size();
  std::vector<std::set<std::size_t>> waiting = needs;
  std::vector<std::vector<std::size_t>> needed_by(count);
  for (std::size_t i = 0; i < count; ++i) {
    waiting[i].erase(i);
    for (std::size_t used : waiting[i]) needed_by[used].push_back(i);
  }
  std::set<std::size_t> ready;
  for (std::size_t i = 0; i < count; ++i) {
    if (waiting[i].empty()) ready.insert(i);
  }
  std::vector<bool> done(count, false);
  std::vector<std::size_t> order;
  order.reserve(count);
  while (order.size() < count) {
    if (ready.empty()) {
      for (std::size_t i = 0; i < count; ++i) {
        if (!done[i]) {
          ready.insert(i);
          break;
        }
      }
    }
    const std::size_t next = *ready.begin();
    ready.erase(ready.begin());
    if (done[next]) continue;
    done[next] = true;
    order.push_back(next);
    for (std::size_t user : needed_by[next]) {
      waiting[user].erase(next);
      if (waiting[user].empty() && !done[user]) ready.insert(user);
    }
  }
  return order;
}

std::vector<const View*> views_in_dependency_order(const std::vector<View>& views) {
  std::vector<const View*> by_name;
  for (const View& view : views) by_name.push_back(&view);
  std::stable_sort(by_name.begin(), by_name.end(),
                   [](const View* a, const View* b) { return a->name < b->name; });
  std::map<ObjectName, std::size_t> index;
  for (std::size_t i = 0; i < by_name.size(); ++i) index.emplace(by_name[i]->name, i);
  std::vector<std::set<std::size_t>> needs(by_name.size());
  for (std::size_t i = 0; i < by_name.size(); ++i) {
    for (const ObjectName& used : by_name[i]->depends_on) {
      auto found = index.find(used);
      if (found != index.end()) needs[i].insert(found->second);
    }
  }
  std::vector<const View*> out;
  for (std::size_t i : dependency_order(needs)) out.push_back(by_name[i]);
  return out;
}

}  // namespace dbinit
