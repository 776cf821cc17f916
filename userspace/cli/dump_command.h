// `pyhang dump`: every thread's Python stack, now (--pid) or as a core
// file keeps it (--core).
#ifndef PYHANG_USERSPACE_CLI_DUMP_COMMAND_H_
#define PYHANG_USERSPACE_CLI_DUMP_COMMAND_H_

#include <sys/types.h>

#include <string>

#include "CLI/CLI.hpp"

namespace pyhang::cli {

struct DumpArgs {
  pid_t pid = 0;
  std::string core;     // --core FILE ("-": standard input)
  std::string exe;      // --exe PATH: the core's interpreter
  std::string sysroot;  // --sysroot DIR: where the core's files are
  bool native = false;
  bool allow_truncated = false;
  bool json = false;
  bool locals = false;
  bool globals = false;
  bool no_source = false;
  size_t max_depth = 4096;
};

// Declares the subcommand's flags on `app`, filling `args`.
CLI::App* AddDumpCommand(CLI::App& app, DumpArgs& args);
// Runs it; returns the process exit code.
int RunDump(const DumpArgs& args);

}  // namespace pyhang::cli

#endif  // PYHANG_USERSPACE_CLI_DUMP_COMMAND_H_
