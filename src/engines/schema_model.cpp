#include "engines/schema_model.h"

#include <algorithm>

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

}  // namespace dbinit
