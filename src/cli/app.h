#pragma once

namespace dbinit::cli {

/// The dbinit command line: parses `argv`, runs the command, prints any error once and returns the
/// process exit code (SPEC.md "Exit codes").
int main(int argc, char** argv);

}  // namespace dbinit::cli
