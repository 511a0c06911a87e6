// `dbinit schema`.

#include "cli/command.h"

namespace dbinit::cli {

void add_schema_command(Commands& commands) {
  (void)commands;
}

}  // namespace dbinit::cli
