// `dbinit diagram`.

#include "cli/command.h"

namespace dbinit::cli {

void add_diagram_command(Commands& commands) {
  (void)commands;
}

}  // namespace dbinit::cli
