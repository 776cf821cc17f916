// A running process as a Target, read through /proc without stopping it.
#ifndef PYHANG_USERSPACE_TARGET_LIVE_PROCESS_H_
#define PYHANG_USERSPACE_TARGET_LIVE_PROCESS_H_

#include <sys/types.h>

#include <memory>

#include "absl/container/flat_hash_map.h"
#include "userspace/memory/process_reader.h"
#include "userspace/target/target.h"

namespace pyhang::target {

class LiveProcess : public Target {
 public:
  // Errors as memory::ProcessReader::Create's: kNotFound (no such
  // process), kPermissionDenied, kFailedPrecondition (no user memory).
  static absl::StatusOr<std::unique_ptr<LiveProcess>> Open(pid_t pid);

  const ProcessInfo& info() const override { return info_; }
  memory::MemoryReader& memory() override { return *memory_; }
  absl::StatusOr<std::vector<process::MemoryMap>> Maps() override;
  absl::StatusOr<process::MappedFile> OpenMappedFile(
      const std::vector<process::MemoryMap>& maps, const process::MemoryMap& map) override;
  absl::StatusOr<std::vector<ThreadIds>> Threads() override;
  bool Gone() override;
  absl::StatusOr<threads::KernelThread> KernelThread(
      int64_t tid, const threads::KernelReadOptions& options) override;
  std::string DescribeFd(int fd) override;
  absl::StatusOr<std::string> ReadFile(absl::string_view path, size_t max_bytes) override;

 private:
  LiveProcess(ProcessInfo info, std::unique_ptr<memory::ProcessReader> memory)
      : info_(std::move(info)), memory_(std::move(memory)) {}

  // The namespace id of host thread `tid`, remembered while it lives.
  int64_t NamespaceTid(int64_t tid);

  ProcessInfo info_;
  std::string root_;  // the target's root as pyhang sees it ("/" outside containers)
  std::unique_ptr<memory::ProcessReader> memory_;
  absl::flat_hash_map<int64_t, int64_t> ns_tids_;  // host tid -> namespace tid
};

// The innermost id of an `NSpid:` line of /proc/.../status (the id in the
// process's own pid namespace); nullopt if there is no such line.
std::optional<int64_t> InnermostNamespaceId(absl::string_view status_text);

}  // namespace pyhang::target

#endif  // PYHANG_USERSPACE_TARGET_LIVE_PROCESS_H_
