// A core file as a Target: the process as it was when the core was
// written. Memory comes from the core's segments, and where the core left
// bytes out (read-only text and data of mapped files), from the files it
// names, found by BinaryLocator (path, --sysroot, build id). Threads and
// their states come from the registers of every NT_PRSTATUS.
#ifndef PYHANG_USERSPACE_TARGET_CORE_TARGET_H_
#define PYHANG_USERSPACE_TARGET_CORE_TARGET_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "userspace/common/unique_fd.h"
#include "userspace/core/binary_locator.h"
#include "userspace/core/core_file.h"
#include "userspace/target/target.h"

namespace pyhang::target {

struct CoreOptions {
  std::string sysroot;     // --sysroot
  std::string executable;  // --exe
};

class CoreTarget : public Target {
 public:
  static absl::StatusOr<std::unique_ptr<CoreTarget>> Open(std::unique_ptr<core::CoreFile> core,
                                                         const CoreOptions& options);

  const ProcessInfo& info() const override { return info_; }
  memory::MemoryReader& memory() override { return memory_; }
  absl::StatusOr<std::vector<process::MemoryMap>> Maps() override { return maps_; }
  absl::StatusOr<process::MappedFile> OpenMappedFile(
      const std::vector<process::MemoryMap>& maps, const process::MemoryMap& map) override;
  absl::StatusOr<std::vector<ThreadIds>> Threads() override;
  bool Gone() override { return false; }
  absl::StatusOr<std::string> ReadFile(absl::string_view path, size_t max_bytes) override;
  absl::StatusOr<threads::KernelThread> KernelThread(
      int64_t tid, const threads::KernelReadOptions& options) override;
  std::string DescribeFd(int fd) override { return ""; }
  const process::Registers* ThreadRegisters(int64_t tid) override;

  const core::CoreFile& core() const { return *core_; }
  core::BinaryLocator& locator() { return *locator_; }
  // Shared, so what it found outlives a target that failed to attach.
  std::shared_ptr<core::BinaryLocator> shared_locator() { return locator_; }
  // The core's build id of the ELF file mapped from `target_path`; "".
  std::string BuildIdOf(const std::string& target_path);
  // The thread that took the fatal signal (the first NT_PRSTATUS with a
  // signal, as both gcore and the kernel order them), or 0.
  int64_t crashing_tid() const;

 private:
  // Core segments first; bytes the core left out come from the mapped files.
  class Memory : public memory::MemoryReader {
   public:
    explicit Memory(CoreTarget& target) : target_(target) {}
    absl::Status Read(uint64_t address, absl::Span<std::byte> out) override;

   private:
    // Bytes of [address, address + out.size()) from the file mapped there;
    // how many (0 if none).
    size_t ReadFromFile(uint64_t address, absl::Span<std::byte> out);
    CoreTarget& target_;
    absl::flat_hash_map<std::string, UniqueFd> files_;  // by target path; invalid: unusable
  };

  CoreTarget(std::unique_ptr<core::CoreFile> core, core::LocatorOptions locator)
      : core_(std::move(core)),
        locator_(std::make_shared<core::BinaryLocator>(std::move(locator))),
        memory_(*this) {}
  void BuildMaps();

  std::unique_ptr<core::CoreFile> core_;
  std::shared_ptr<core::BinaryLocator> locator_;
  Memory memory_;
  ProcessInfo info_;
  std::vector<process::MemoryMap> maps_;
  absl::flat_hash_map<std::string, std::string> build_ids_;  // by target path
};

}  // namespace pyhang::target

#endif  // PYHANG_USERSPACE_TARGET_CORE_TARGET_H_
