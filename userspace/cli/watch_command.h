// `pyhang watch`: a live view of a process (threads, CPU and GIL share, top
// functions) with hang findings, refreshed every second; JSON lines with
// --json.
#ifndef PYHANG_USERSPACE_CLI_WATCH_COMMAND_H_
#define PYHANG_USERSPACE_CLI_WATCH_COMMAND_H_

#include <sys/types.h>

#include <string>

#include "CLI/CLI.hpp"

namespace pyhang::cli {

struct WatchArgs {
  pid_t pid = 0;
  double duration_s = 0;  // 0: until Ctrl-C or the process exits
  int rate_hz = 100;
  bool json = false;
  double hang_threshold_s = 5.0;
  double look_interval_s = 0.25;  // how often threads are examined for hangs
  std::string sampler = "auto";
  std::string flamegraph;  // also write a CPU flamegraph here at the end
  std::string metrics_addr;  // serve Prometheus metrics here (HOST:PORT)
};

CLI::App* AddWatchCommand(CLI::App& app, WatchArgs& args);
int RunWatch(const WatchArgs& args);

}  // namespace pyhang::cli

#endif  // PYHANG_USERSPACE_CLI_WATCH_COMMAND_H_
