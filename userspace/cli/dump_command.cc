#include "userspace/cli/dump_command.h"

#include <cstdio>

#include "userspace/cli/exit_codes.h"
#include "userspace/common/huge_heap.h"
#include "userspace/output/dump_output.h"
#include "userspace/snapshot/snapshot.h"

namespace pyhang::cli {

CLI::App* AddDumpCommand(CLI::App& app, DumpArgs& args) {
  CLI::App* dump = app.add_subcommand(
      "dump", "Print every thread's Python stack now, without stopping the process");
  dump->add_option("-p,--pid", args.pid, "Process id of the Python program")->required();
  dump->add_flag("-j,--json", args.json, "Print JSON (the format in docs/ARCHITECTURE.md)");
  dump->add_flag("-l,--locals", args.locals, "Show each frame's arguments and local variables");
  dump->add_flag("--no-source", args.no_source, "Do not print source lines under frames");
  dump->add_option("--max-depth", args.max_depth, "Frames per thread at most")
      ->check(CLI::Range(size_t{1}, size_t{1} << 16));
  return dump;
}

int RunDump(const DumpArgs& args) {
  // A dump is short and allocates a few MiB at once: fault them in 2 MiB
  // at a time (see huge_heap.h). Not for watch/record, whose RSS is watched.
  UseHugePagesForHeap(32 << 20);
  snapshot::SnapshotOptions options;
  options.locals = args.locals;
  options.max_depth = args.max_depth;
  absl::StatusOr<snapshot::ProcessSnapshot> snapshot = snapshot::TakeSnapshot(args.pid, options);
  if (!snapshot.ok()) return ReportError(snapshot.status());
  output::DumpFormatOptions format{args.locals, !args.no_source};
  std::string text = args.json ? JsonText(output::DumpJson(*snapshot, format)) + "\n"
                               : output::DumpText(*snapshot, format);
  return WriteStdout(text);
}

}  // namespace pyhang::cli
