// An ELF core file (x86_64 Linux), as gdb's gcore and the kernel write it:
// the memory it holds (PT_LOAD), the files that were mapped (NT_FILE), every
// thread with its registers (NT_PRSTATUS), the process (NT_PRPSINFO), the
// signal that ended it (NT_SIGINFO) and the auxiliary vector (NT_AUXV).
//
// The file is mapped, never read into memory: a 1 GiB core costs pages of
// page cache, not RSS. Parsing trusts nothing: every note and segment is
// checked against the file's real size, so a truncated or hostile core is
// an error or a smaller core, never a crash.
#ifndef PYHANG_USERSPACE_CORE_CORE_FILE_H_
#define PYHANG_USERSPACE_CORE_CORE_FILE_H_

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "userspace/common/unique_fd.h"
#include "userspace/process/registers.h"

namespace pyhang::core {

using process::Registers;

struct CoreThread {
  int64_t tid = 0;          // pr_pid: the id the core's writer saw
  int signal = 0;           // pr_cursig: the signal the thread was handling
  Registers registers{};
};

// One PT_LOAD segment: [vaddr, vaddr + memory_size) in the target, the
// first `file_size` bytes of it present in the core at `offset`.
struct Segment {
  uint64_t vaddr = 0;
  uint64_t memory_size = 0;
  uint64_t offset = 0;
  uint64_t file_size = 0;  // clipped to what the (maybe truncated) file holds
  bool readable = false, writable = false, executable = false;
};

// One NT_FILE entry: [start, end) mapped from `path` at `file_offset`.
struct FileMapping {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t file_offset = 0;  // bytes
  std::string path;          // as the target saw it
};

struct SignalInfo {
  int signo = 0;
  int code = 0;
  int errno_value = 0;
  // si_addr for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGTRAP; else nullopt.
  std::optional<uint64_t> fault_address;
};

struct CoreProcess {
  int64_t pid = 0;
  int64_t ppid = 0;
  int64_t uid = 0;
  char state = '?';
  std::string comm;       // pr_fname (16 bytes at most)
  std::string arguments;  // pr_psargs (80 bytes at most, NULs as spaces)
};

class CoreFile {
 public:
  // Limits that keep a hostile core bounded.
  static constexpr size_t kMaxThreads = 1 << 16;
  static constexpr size_t kMaxSegments = 1 << 20;
  static constexpr size_t kMaxNoteBytes = 256 << 20;

  // Parses the uncompressed core behind `fd` (a regular file; see
  // OpenCoreInput for compressed cores and stdin). `name` is for messages.
  // kInvalidArgument for anything that is not an x86_64 ELF core.
  static absl::StatusOr<std::unique_ptr<CoreFile>> Open(UniqueFd fd, std::string name);
  // The same, over a copy of bytes in memory (fuzzing, tests).
  static absl::StatusOr<std::unique_ptr<CoreFile>> FromBytes(absl::string_view bytes,
                                                            std::string name);
  ~CoreFile();
  CoreFile(const CoreFile&) = delete;
  CoreFile& operator=(const CoreFile&) = delete;

  const std::string& name() const { return name_; }
  int fd() const { return fd_.get(); }  // -1 for FromBytes
  const CoreProcess& process() const { return process_; }
  const std::vector<CoreThread>& threads() const { return threads_; }
  const std::vector<Segment>& segments() const { return segments_; }
  const std::vector<FileMapping>& files() const { return files_; }
  const std::optional<SignalInfo>& signal() const { return signal_; }
  // AT_* -> value; empty without NT_AUXV.
  std::optional<uint64_t> Auxv(uint64_t type) const;
  // NT_AUXV's bytes as the kernel saved them (type, value pairs).
  absl::string_view RawAuxv() const { return raw_auxv_; }
  // True if the file ended before some segment's bytes did.
  bool truncated() const { return truncated_; }

  // Copies target memory held by the core's segments. False if any byte of
  // [address, address + out.size()) is not in the core (not dumped, or cut
  // off by truncation).
  bool ReadMemory(uint64_t address, absl::Span<std::byte> out) const;
  // The mapping from NT_FILE containing `address`, or nullptr.
  const FileMapping* FileAt(uint64_t address) const;
  // The segment whose memory (dumped or not) contains `address`, or nullptr.
  const Segment* SegmentAt(uint64_t address) const;

 private:
  CoreFile() = default;
  absl::Status Parse();
  absl::Status ParseNotes(absl::string_view notes);
  void ParseFileNote(absl::string_view desc);

  std::string name_;
  UniqueFd fd_;
  const char* data_ = nullptr;  // the whole file
  std::string owned_;           // FromBytes' copy
  size_t size_ = 0;
  bool mapped_ = false;
  CoreProcess process_;
  std::vector<CoreThread> threads_;
  std::vector<Segment> segments_;  // sorted by vaddr
  std::vector<FileMapping> files_;  // sorted by start
  std::optional<SignalInfo> signal_;
  std::vector<std::pair<uint64_t, uint64_t>> auxv_;
  std::string raw_auxv_;
  bool truncated_ = false;
};

// "SIGSEGV" for 11; "signal N" for numbers without a name.
std::string SignalName(int signo);

}  // namespace pyhang::core

#endif  // PYHANG_USERSPACE_CORE_CORE_FILE_H_
