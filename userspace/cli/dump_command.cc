#include "userspace/cli/dump_command.h"

#include <cstdio>

#include "userspace/cli/attached.h"
#include "userspace/cli/exit_codes.h"
#include "userspace/common/huge_heap.h"
#include "userspace/output/dump_output.h"
#include "bpf/pyhang_abi.h"
#include "userspace/sampler/native_snapshot.h"
#include "userspace/snapshot/core_snapshot.h"
#include "userspace/snapshot/native_frames.h"
#include "userspace/snapshot/snapshot.h"

namespace pyhang::cli {

CLI::App* AddDumpCommand(CLI::App& app, DumpArgs& args) {
  CLI::App* dump = app.add_subcommand(
      "dump", "Print every thread's Python stack now, without stopping the process, or from a core file");
  CLI::Option* pid = dump->add_option("-p,--pid", args.pid, "Process id of the Python program");
  CLI::Option* core = dump->add_option("-c,--core", args.core,
                                       "A core file (gcore, the kernel's, zstd/lz4/xz compressed; - for stdin)");
  pid->excludes(core);
  dump->add_option("--exe", args.exe, "With --core: the interpreter the core's process ran")->needs(core);
  dump->add_option("--sysroot", args.sysroot,
                   "With --core: a directory holding the core's files (an unpacked container image)")
      ->needs(core);
  dump->add_flag("--allow-truncated", args.allow_truncated,
                 "With --core: dump what a truncated core holds (frames may end early)")
      ->needs(core);
  dump->add_flag("-n,--native", args.native, "Show native frames too, merged with the Python frames");
  dump->add_flag("-j,--json", args.json, "Print JSON (the format in docs/ARCHITECTURE.md)");
  dump->add_flag("-l,--locals", args.locals, "Show each frame's arguments and local variables");
  dump->add_flag("-g,--globals", args.globals,
                 "Show the module-level names each frame's code reads, with their values");
  dump->add_flag("--no-source", args.no_source, "Do not print source lines under frames");
  dump->add_option("--max-depth", args.max_depth, "Frames per thread at most")
      ->check(CLI::Range(size_t{1}, size_t{1} << 18));
  return dump;
}

namespace {

absl::StatusOr<snapshot::ProcessSnapshot> Snapshot(const DumpArgs& args) {
  snapshot::SnapshotOptions options;
  options.locals = args.locals;
  options.globals = args.globals;
  options.repr.structure = args.json;
  options.max_depth = args.max_depth;
  if (!args.core.empty()) {
    snapshot::CoreSnapshotOptions core;
    core.snapshot = options;
    core.core.executable = args.exe;
    core.core.sysroot = args.sysroot;
    core.native = args.native;
    core.allow_truncated = args.allow_truncated;
    DropUnneededPrivileges(StillNeeded::kReading);
    return snapshot::TakeCoreSnapshot(args.core, core);
  }
  if (args.native) {
    // Copied first, in one pass, by BPF: the process keeps running.
    absl::StatusOr<std::vector<target::StackCopy>> copies =
        sampler::CopyNativeStacks(args.pid, PYHANG_NATIVE_STACK_MAX);
    if (!copies.ok()) return copies.status();
    snapshot::ReadKernelStacks(args.pid, *copies);
    DropUnneededPrivileges(StillNeeded::kReading);
    return snapshot::TakeLiveNativeSnapshot(args.pid, options, *std::move(copies));
  }
  DropUnneededPrivileges(StillNeeded::kReading);
  return snapshot::TakeSnapshot(args.pid, options);
}

}  // namespace

int RunDump(const DumpArgs& args) {
  // A dump is short and allocates a few MiB at once: fault them in 2 MiB
  // at a time (see huge_heap.h). Not for watch/record, whose RSS is watched.
  // A core's own bytes are mapped, not allocated.
  if (args.pid <= 0 && args.core.empty()) {
    std::fprintf(stderr, "pyhang: dump needs --pid PID or --core FILE\n");
    return kExitUsage;
  }
  UseHugePagesForHeap(32 << 20);
  absl::StatusOr<snapshot::ProcessSnapshot> snapshot = Snapshot(args);
  if (!snapshot.ok()) return ReportError(snapshot.status());
  output::DumpFormatOptions format{args.locals, !args.no_source, args.native, args.globals};
  int status = kExitOk;
  auto write = [&status](absl::string_view piece) {
    status = WriteStdout(piece);
    return status == kExitOk;
  };
  if (args.json) {
    output::WriteDumpJson(*snapshot, format, write);
  } else {
    output::WriteDumpText(*snapshot, format, write);
  }
  return status;
}

}  // namespace pyhang::cli
