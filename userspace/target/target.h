// What pyhang needs from a process it looks at, whatever the process is: a
// live process (LiveProcess) or a core file (CoreTarget). Everything that
// touches the operating system about a target goes through here, so the
// decoder, the monitor, snapshots and the samplers work on any Target.
#ifndef PYHANG_USERSPACE_TARGET_TARGET_H_
#define PYHANG_USERSPACE_TARGET_TARGET_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "userspace/memory/memory_reader.h"
#include "userspace/process/mapped_file.h"
#include "userspace/process/maps.h"
#include "userspace/process/registers.h"
#include "userspace/threads/kernel_thread.h"

namespace pyhang::target {

// A thread by its ids. `tid` is what the host's ps, top and kill
// use; `ns_tid` is what the target itself sees (gettid(),
// threading.get_native_id(), PyThreadState.native_thread_id, glibc's
// struct pthread). They differ inside a pid namespace (containers).
// `thread_pointer` (its fs base: glibc's struct pthread, which is what
// pthread_self() and PyThreadState.thread_id hold) is known where the
// registers are (a core); 0 elsewhere. It matches thread states to
// threads whatever the pid namespace of the core's writer was.
struct ThreadIds {
  int64_t tid = 0;
  int64_t ns_tid = 0;
  uint64_t thread_pointer = 0;
};

struct ProcessInfo {
  pid_t pid = 0;             // as the host sees it
  pid_t ns_pid = 0;          // as the target sees itself (== pid outside containers)
  std::string comm;          // /proc/PID/comm
  std::string command_line;  // arguments joined by spaces
  std::string executable;    // the executable's path as the target sees it
  std::string working_directory;  // as the target sees it; empty if unknown (a core)
};

class Target {
 public:
  virtual ~Target() = default;

  virtual const ProcessInfo& info() const = 0;
  pid_t pid() const { return info().pid; }
  // True if the target runs in another pid namespace than pyhang.
  bool in_pid_namespace() const { return info().ns_pid != info().pid; }

  // The target's memory, uncached (callers put a cache on top).
  virtual memory::MemoryReader& memory() = 0;

  // Its mappings. kUnavailable once the target is gone.
  virtual absl::StatusOr<std::vector<process::MemoryMap>> Maps() = 0;

  // The ELF file behind `map` as the target sees it (its root, or the
  // mapped inode itself when the file was deleted or replaced).
  virtual absl::StatusOr<process::MappedFile> OpenMappedFile(
      const std::vector<process::MemoryMap>& maps, const process::MemoryMap& map) = 0;

  // Its threads, sorted by host tid. kUnavailable once the target is gone.
  virtual absl::StatusOr<std::vector<ThreadIds>> Threads() = 0;

  // True once the target no longer exists.
  virtual bool Gone() = 0;

  // What the kernel knows of thread `tid` (host tid): its run state, the
  // system call it is in and that call's arguments. A core knows only the
  // call its registers show (state '?'). kNotFound if the thread is gone.
  virtual absl::StatusOr<threads::KernelThread> KernelThread(
      int64_t tid, const threads::KernelReadOptions& options) = 0;

  // What file descriptor `fd` is ("socket:[123] 10.0.0.1:80", a path); ""
  // if that cannot be known.
  virtual std::string DescribeFd(int fd) = 0;

  // The thread's registers where the target holds them (a core); a running
  // process is never stopped to read them, so nullptr there.
  virtual const process::Registers* ThreadRegisters(int64_t tid) { return nullptr; }

  // At most `max_bytes` of a regular file, resolved the way the target
  // resolves `path` (its root; its working directory for relative paths).
  // Never blocks and never reads a FIFO, device or directory.
  virtual absl::StatusOr<std::string> ReadFile(absl::string_view path, size_t max_bytes) = 0;
};

}  // namespace pyhang::target

#endif  // PYHANG_USERSPACE_TARGET_TARGET_H_
