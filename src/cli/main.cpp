#include "cli/app.h"

int main(int argc, char** argv) {
  return dbinit::cli::main(argc, argv);
}
