// A target whose threads' registers and stack tops were copied at one
// instant (by BPF, without stopping anything): what a native unwinder
// needs from a live process. Everything else goes to the live process;
// reads inside a copied stack are answered from the copy, so the unwind
// sees one consistent moment even while the threads move on.
#ifndef PYHANG_USERSPACE_TARGET_STACK_COPIES_H_
#define PYHANG_USERSPACE_TARGET_STACK_COPIES_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "userspace/target/target.h"

namespace pyhang::target {

struct StackCopy {
  int64_t tid = 0;             // host tid
  bool on_cpu = false;         // running at the copy: its registers are stale
  process::Registers registers{};
  std::string stack;           // the bytes from registers.rsp up
  // The kernel functions a blocked thread is in, innermost first. Read from
  // /proc right after the copy, while pyhang still holds CAP_SYS_ADMIN,
  // which /proc/PID/task/TID/stack requires.
  std::vector<std::string> kernel_stack;
};

class WithStackCopies : public Target {
 public:
  // `live` must outlive this.
  WithStackCopies(Target& live, std::vector<StackCopy> copies);

  const ProcessInfo& info() const override { return live_.info(); }
  memory::MemoryReader& memory() override { return memory_; }
  absl::StatusOr<std::vector<process::MemoryMap>> Maps() override { return live_.Maps(); }
  absl::StatusOr<process::MappedFile> OpenMappedFile(
      const std::vector<process::MemoryMap>& maps, const process::MemoryMap& map) override {
    return live_.OpenMappedFile(maps, map);
  }
  // The live threads, and copied threads the live process no longer lists.
  absl::StatusOr<std::vector<ThreadIds>> Threads() override;
  bool Gone() override { return live_.Gone(); }
  absl::StatusOr<std::string> ReadFile(absl::string_view path, size_t max_bytes) override {
    return live_.ReadFile(path, max_bytes);
  }
  absl::StatusOr<threads::KernelThread> KernelThread(
      int64_t tid, const threads::KernelReadOptions& options) override {
    return live_.KernelThread(tid, options);
  }
  std::string DescribeFd(int fd) override { return live_.DescribeFd(fd); }
  // Only threads that were off CPU: a running thread's saved registers
  // are from its last entry into the kernel, not where it is now.
  const process::Registers* ThreadRegisters(int64_t tid) override;

  const std::vector<StackCopy>& copies() const { return copies_; }
  // The next moment: these copies instead (record --native, per sample).
  void Replace(std::vector<StackCopy> copies);

 private:
  class Memory : public memory::MemoryReader {
   public:
    explicit Memory(WithStackCopies& owner) : owner_(owner) {}
    absl::Status Read(uint64_t address, absl::Span<std::byte> out) override;

   private:
    WithStackCopies& owner_;
  };

  Target& live_;
  std::vector<StackCopy> copies_;
  absl::flat_hash_map<int64_t, size_t> by_tid_;
  Memory memory_;
};

}  // namespace pyhang::target

#endif  // PYHANG_USERSPACE_TARGET_STACK_COPIES_H_
