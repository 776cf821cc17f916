// `pyhang record`: sample a process for a while and write a profile
// (flamegraph SVG, collapsed stacks, speedscope or pprof).
#ifndef PYHANG_USERSPACE_CLI_RECORD_COMMAND_H_
#define PYHANG_USERSPACE_CLI_RECORD_COMMAND_H_

#include <sys/types.h>

#include <string>

#include "CLI/CLI.hpp"
#include "userspace/cli/sampling.h"

namespace pyhang::cli {

struct RecordArgs {
  pid_t pid = 0;
  double duration_s = 0;  // 0: until Ctrl-C or the process exits
  int rate_hz = 100;
  std::string format = "flamegraph";
  std::string output;
  std::string mode = "cpu";
  bool threads = false;
  bool idle = false;
  std::string sampler = "auto";
  std::string title;
  bool inverted = false;
  bool full_filenames = false;
  bool native = false;                   // native frames too (BPF copies each sample's stack)
  uint32_t native_stack_bytes = 16384;   // of user stack per sample
};

CLI::App* AddRecordCommand(CLI::App& app, RecordArgs& args);
int RunRecord(const RecordArgs& args);

}  // namespace pyhang::cli

#endif  // PYHANG_USERSPACE_CLI_RECORD_COMMAND_H_
