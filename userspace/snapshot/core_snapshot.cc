#include "userspace/snapshot/core_snapshot.h"

#include <sys/stat.h>

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "userspace/common/log.h"
#include "userspace/common/status_macros.h"
#include "userspace/core/core_input.h"
#include "userspace/snapshot/native_frames.h"

namespace pyhang::snapshot {
namespace {

absl::Status CheckDirectoryOption(const std::string& path, absl::string_view flag) {
  struct stat st;
  if (path.empty()) return absl::OkStatus();
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, ": not a directory"));
  }
  return absl::OkStatus();
}

absl::Status CheckFileOption(const std::string& path, absl::string_view flag) {
  struct stat st;
  if (path.empty()) return absl::OkStatus();
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, ": no such file"));
  }
  return absl::OkStatus();
}

// Why attaching failed, in terms of the core: a missing interpreter is
// the likely reason on another machine.
absl::Status ExplainAttachFailure(const absl::Status& status, const core::BinaryLocator& locator,
                                  const std::string& name) {
  std::string missing;
  for (const std::string& warning : locator.warnings()) {
    if (absl::StrContains(warning, "python") || absl::StrContains(warning, "libpython")) {
      missing = warning;
      break;
    }
  }
  if (status.code() == absl::StatusCode::kFailedPrecondition && !missing.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, ": ", missing, "; pass --sysroot DIR or --exe PATH"));
  }
  return absl::Status(status.code(), absl::StrCat(name, ": ", status.message()));
}

CoreSummary Summarize(target::CoreTarget& core, const core::CoreInput& input, const std::string& path) {
  CoreSummary summary;
  summary.file = path;
  summary.compression = std::string(core::CompressionName(input.compression));
  summary.truncated = core.core().truncated();
  summary.threads = core.core().threads().size();
  summary.crashing_tid = core.crashing_tid();
  if (summary.crashing_tid != 0) {
    const std::optional<core::SignalInfo>& signal = core.core().signal();
    summary.signal = signal ? signal->signo : core.core().threads().front().signal;
    if (signal) summary.fault_address = signal->fault_address;
  }
  return summary;
}

// The crashing thread first, then the others as they were.
void CrashingThreadFirst(ProcessSnapshot& snapshot, int64_t tid) {
  std::stable_partition(snapshot.threads.begin(), snapshot.threads.end(),
                        [tid](const ThreadSnapshot& thread) { return thread.thread.tid == tid; });
}

}  // namespace

absl::StatusOr<ProcessSnapshot> TakeCoreSnapshot(const std::string& path,
                                                 const CoreSnapshotOptions& options) {
  RETURN_IF_ERROR(CheckDirectoryOption(options.core.sysroot, "--sysroot"));
  RETURN_IF_ERROR(CheckFileOption(options.core.executable, "--exe"));
  ASSIGN_OR_RETURN(core::CoreInput input, core::OpenCoreInput(path));
  std::string name = input.name;
  ASSIGN_OR_RETURN(std::unique_ptr<core::CoreFile> file, core::CoreFile::Open(std::move(input.fd), name));
  if (file->truncated() && !options.allow_truncated) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": truncated core (its segments need more bytes than the file has); "
        "--allow-truncated dumps what it holds"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<target::CoreTarget> core, target::CoreTarget::Open(std::move(file), options.core));
  target::CoreTarget* core_view = core.get();
  std::shared_ptr<core::BinaryLocator> locator = core->shared_locator();
  CoreSummary summary = Summarize(*core, input, path);
  absl::StatusOr<std::unique_ptr<python::PythonTarget>> attached = python::PythonTarget::Attach(std::move(core));
  if (!attached.ok()) return ExplainAttachFailure(attached.status(), *locator, name);
  for (const std::string& warning : locator->warnings()) LOG_WARNING(warning);
  // Native stacks (and the crashing thread's innermost function) are read
  // while the target is attached; the snapshot below consumes it.
  NativeStacks native;
  if (options.native || summary.crashing_tid != 0) {
    std::vector<std::string> debug_roots;
    if (!options.core.sysroot.empty()) debug_roots.push_back(options.core.sysroot + "/usr/lib/debug");
    std::unique_ptr<native::Unwinder> unwinder = NewUnwinder(*core_view, options.snapshot.max_depth, debug_roots);
    const process::Registers* registers = core_view->ThreadRegisters(summary.crashing_tid);
    if (unwinder && registers) summary.crashed_in = unwinder->Describe(registers->rip);
    if (unwinder && options.native) native = UnwindAll(*core_view, *unwinder);
  }
  ASSIGN_OR_RETURN(ProcessSnapshot snapshot, TakeSnapshot(*std::move(attached), options.snapshot));
  snapshot.source_root = options.core.sysroot;
  snapshot.core = std::move(summary);
  if (options.native) MergeNativeStacks(snapshot, native);
  // A core written from outside the target's pid namespace has host ids;
  // the main thread (tid == pid) knows its id inside (native_thread_id).
  for (const ThreadSnapshot& thread : snapshot.threads) {
    if (thread.thread.tid == snapshot.pid && thread.thread.ns_tid != 0) snapshot.ns_pid = thread.thread.ns_tid;
  }
  CrashingThreadFirst(snapshot, snapshot.core->crashing_tid);
  return snapshot;
}

}  // namespace pyhang::snapshot
