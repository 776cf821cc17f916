#include "userspace/target/core_target.h"

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "userspace/common/file_util.h"
#include "userspace/process/build_id.h"

namespace pyhang::target {
namespace {

constexpr size_t kMaxOpenFiles = 512;

// The core's own bytes only: what build ids are read from (the file they
// identify is not known yet).
class SegmentsOnly : public memory::MemoryReader {
 public:
  explicit SegmentsOnly(const core::CoreFile& core) : core_(core) {}
  absl::Status Read(uint64_t address, absl::Span<std::byte> out) override {
    if (core_.ReadMemory(address, out)) return absl::OkStatus();
    return memory::UnreadableError(address, out.size());
  }

 private:
  const core::CoreFile& core_;
};

// A string the target kept in memory (AT_EXECFN).
std::string CoreString(const core::CoreFile& core, uint64_t address) {
  SegmentsOnly reader(core);
  return memory::ReadCString(reader, address, 4096).value_or("");
}

std::string ExecutablePath(const core::CoreFile& core) {
  for (uint64_t type : {uint64_t{AT_ENTRY}, uint64_t{AT_PHDR}}) {
    if (std::optional<uint64_t> address = core.Auxv(type)) {
      if (const core::FileMapping* file = core.FileAt(*address)) return file->path;
    }
  }
  if (std::optional<uint64_t> execfn = core.Auxv(AT_EXECFN)) return CoreString(core, *execfn);
  return core.files().empty() ? "" : core.files().front().path;
}

// The whole command line, from argv on the initial stack: NT_PRPSINFO
// keeps only 80 bytes of it (gdb's gcore only argv[0]). The kernel put
// argc, argv[], NULL, envp[], NULL, then the auxiliary vector there; the
// auxiliary vector is also in NT_AUXV, so finding those bytes finds argv.
std::string CommandLineFromStack(const core::CoreFile& core, absl::string_view auxv) {
  constexpr size_t kMaxArguments = 4096, kMaxEnvironment = 1 << 16, kMaxLength = 1 << 16;
  std::optional<uint64_t> execfn = core.Auxv(AT_EXECFN);
  if (!execfn || auxv.size() < 32) return "";
  const core::Segment* stack = nullptr;
  for (const core::Segment& segment : core.segments()) {
    if (*execfn >= segment.vaddr && *execfn < segment.vaddr + segment.file_size) stack = &segment;
  }
  if (stack == nullptr) return "";
  SegmentsOnly reader(core);
  // The auxiliary vector sits below the strings, within a few pages.
  uint64_t low = std::max(stack->vaddr, *execfn > (256u << 10) ? *execfn - (256u << 10) : 0);
  absl::StatusOr<std::string> window = memory::ReadBytes(reader, low, *execfn - low);
  if (!window.ok()) return "";
  size_t at = window->rfind(std::string(auxv.substr(0, 32)));
  if (at == std::string::npos || at % 8 != 0) return "";
  auto word = [&](uint64_t address) { return memory::ReadValue<uint64_t>(reader, address); };
  uint64_t cursor = low + at - 8;  // envp's terminating NULL
  if (word(cursor).value_or(1) != 0) return "";
  for (size_t skipped = 0;; ++skipped) {  // back over the environment
    cursor -= 8;
    absl::StatusOr<uint64_t> value = word(cursor);
    if (!value.ok() || skipped > kMaxEnvironment) return "";
    if (*value == 0) break;  // argv's NULL
  }
  std::vector<uint64_t> argv;  // argv[argc - 1] first; argc below argv[0]
  for (uint64_t slot = cursor - 8;; slot -= 8) {
    absl::StatusOr<uint64_t> value = word(slot);
    if (!value.ok() || argv.size() > kMaxArguments) return "";
    if (*value == argv.size()) break;
    argv.push_back(*value);
  }
  std::string line;
  for (auto it = argv.rbegin(); it != argv.rend() && line.size() < kMaxLength; ++it) {
    absl::StatusOr<std::string> argument = memory::ReadCString(reader, *it, 4096);
    if (!argument.ok()) return "";
    if (!line.empty()) line += ' ';
    line += *argument;
  }
  return line;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CoreTarget>> CoreTarget::Open(std::unique_ptr<core::CoreFile> core,
                                                            const CoreOptions& options) {
  core::LocatorOptions locator;
  locator.sysroot = options.sysroot;
  locator.executable = options.executable;
  locator.executable_path = ExecutablePath(*core);
  auto target = std::unique_ptr<CoreTarget>(new CoreTarget(std::move(core), locator));
  const core::CoreFile& file = *target->core_;
  ProcessInfo& info = target->info_;
  info.pid = static_cast<pid_t>(file.process().pid != 0 ? file.process().pid : file.threads().front().tid);
  info.ns_pid = info.pid;
  info.comm = file.process().comm;
  info.command_line = CommandLineFromStack(file, file.RawAuxv());
  if (info.command_line.empty()) info.command_line = file.process().arguments;
  info.executable = locator.executable_path;
  target->BuildMaps();
  return target;
}

void CoreTarget::BuildMaps() {
  // Files first (with the permissions of the segment that covers them),
  // then whatever memory no file backs: heap, stacks, anonymous mappings.
  const core::CoreFile& file = *core_;
  // Inodes are not in a core; a stable number per path stands in (maps'
  // consumers only compare them).
  absl::flat_hash_map<std::string, uint64_t> inode_of;
  for (const core::FileMapping& mapping : file.files()) {
    process::MemoryMap map;
    map.start = mapping.start;
    map.end = mapping.end;
    map.offset = mapping.file_offset;
    map.path = mapping.path;
    map.deleted = absl::EndsWith(mapping.path, " (deleted)");
    map.inode = inode_of.try_emplace(mapping.path, inode_of.size() + 1).first->second;
    if (const core::Segment* segment = file.SegmentAt(mapping.start)) {
      map.readable = segment->readable;
      map.writable = segment->writable;
      map.executable = segment->executable;
    } else {
      map.readable = true;
    }
    maps_.push_back(std::move(map));
  }
  for (const core::Segment& segment : file.segments()) {
    if (file.FileAt(segment.vaddr) != nullptr) continue;
    process::MemoryMap map;
    map.start = segment.vaddr;
    map.end = segment.vaddr + segment.memory_size;
    map.readable = segment.readable;
    map.writable = segment.writable;
    map.executable = segment.executable;
    maps_.push_back(std::move(map));
  }
  std::sort(maps_.begin(), maps_.end(),
            [](const process::MemoryMap& a, const process::MemoryMap& b) { return a.start < b.start; });
}

std::string CoreTarget::BuildIdOf(const std::string& target_path) {
  if (auto it = build_ids_.find(target_path); it != build_ids_.end()) return it->second;
  std::string id;
  for (const core::FileMapping& mapping : core_->files()) {
    if (mapping.path != target_path || mapping.file_offset != 0) continue;
    SegmentsOnly reader(*core_);
    id = process::MappedBuildId(reader, mapping.start);
    break;
  }
  if (build_ids_.size() < kMaxOpenFiles) build_ids_.emplace(target_path, id);
  return id;
}

absl::StatusOr<process::MappedFile> CoreTarget::OpenMappedFile(
    const std::vector<process::MemoryMap>& maps, const process::MemoryMap& map) {
  process::MappedFile file;
  file.target_path = map.path;
  file.start = map.start;
  file.end = map.end;
  const process::MemoryMap* offset_zero = nullptr;
  for (const process::MemoryMap& other : maps) {
    if (other.path != map.path) continue;
    file.start = std::min(file.start, other.start);
    file.end = std::max(file.end, other.end);
    if (other.offset == 0 && offset_zero == nullptr) offset_zero = &other;
  }
  if (offset_zero == nullptr) return absl::NotFoundError(absl::StrCat(map.path, ": no mapping at file offset 0"));
  const core::LocatedFile& located = locator_->Locate(map.path, BuildIdOf(map.path));
  if (located.path.empty()) {
    return absl::NotFoundError(absl::StrCat(map.path, ": not found on this machine (use --sysroot or --exe)"));
  }
  absl::StatusOr<std::unique_ptr<process::ElfFile>> elf = process::ElfFile::Open(located.path);
  if (!elf.ok()) return elf.status();
  file.opened_path = located.path;
  file.elf = *std::move(elf);
  file.load_bias = offset_zero->start - file.elf->first_load_address();
  return file;
}

absl::StatusOr<std::vector<ThreadIds>> CoreTarget::Threads() {
  std::vector<ThreadIds> threads;
  for (const core::CoreThread& thread : core_->threads()) {
    threads.push_back(ThreadIds{thread.tid, thread.tid, thread.registers.fs_base});
  }
  std::sort(threads.begin(), threads.end(), [](const ThreadIds& a, const ThreadIds& b) { return a.tid < b.tid; });
  threads.erase(std::unique(threads.begin(), threads.end(),
                            [](const ThreadIds& a, const ThreadIds& b) { return a.tid == b.tid; }),
                threads.end());
  return threads;
}

const process::Registers* CoreTarget::ThreadRegisters(int64_t tid) {
  for (const core::CoreThread& thread : core_->threads()) {
    if (thread.tid == tid) return &thread.registers;
  }
  return nullptr;
}

int64_t CoreTarget::crashing_tid() const {
  int signo = core_->signal() ? core_->signal()->signo : core_->threads().front().signal;
  // gcore stops a healthy process: SIGSTOP (or nothing) is not a crash.
  if (signo == 0 || signo == SIGSTOP) return 0;
  return core_->threads().front().tid;
}

absl::StatusOr<threads::KernelThread> CoreTarget::KernelThread(
    int64_t tid, const threads::KernelReadOptions& options) {
  const process::Registers* registers = ThreadRegisters(tid);
  if (registers == nullptr) return absl::NotFoundError(absl::StrCat("no thread ", tid, " in the core"));
  threads::KernelThread thread;
  thread.tid = tid;
  thread.comm = core_->process().comm;
  thread.instruction_pointer = registers->rip;
  thread.stack_pointer = registers->rsp;
  // orig_rax is the system call a thread was in (what /proc/PID/syscall
  // shows of a live thread), -1 outside one. The run state is not kept.
  auto syscall = static_cast<int64_t>(registers->orig_rax);
  if (tid == crashing_tid()) {
    thread.wchan = absl::StrCat("crashed with ", core::SignalName(core_->signal() ? core_->signal()->signo : core_->threads().front().signal));
  } else if (syscall >= 0) {
    thread.syscall_status = threads::SyscallStatus::kInSyscall;
    thread.syscall = syscall;
    thread.args = {registers->rdi, registers->rsi, registers->rdx,
                   registers->r10, registers->r8, registers->r9};
  } else {
    thread.wchan = "not in a system call when the core was written";
  }
  return thread;
}

absl::StatusOr<std::string> CoreTarget::ReadFile(absl::string_view path, size_t max_bytes) {
  std::string wanted(path);
  const std::string& sysroot = locator_->options().sysroot;
  if (!sysroot.empty() && absl::StartsWith(wanted, "/")) {
    absl::StatusOr<std::string> text = ReadRegularFileInRoot(sysroot, wanted, max_bytes);
    if (text.ok() || text.status().code() != absl::StatusCode::kNotFound) return text;
  }
  return ReadRegularFile(wanted, max_bytes);
}

absl::Status CoreTarget::Memory::Read(uint64_t address, absl::Span<std::byte> out) {
  if (target_.core_->ReadMemory(address, out)) return absl::OkStatus();  // the common case
  // Page by page: each from the core if it holds it, else from the file.
  for (size_t done = 0; done < out.size();) {
    uint64_t at = address + done;
    absl::Span<std::byte> piece = out.subspan(done, std::min<size_t>(out.size() - done, 4096 - (at & 4095)));
    size_t got = target_.core_->ReadMemory(at, piece) ? piece.size() : ReadFromFile(at, piece);
    if (got == 0) return memory::UnreadableError(address, out.size());
    done += got;
  }
  return absl::OkStatus();
}

size_t CoreTarget::Memory::ReadFromFile(uint64_t address, absl::Span<std::byte> out) {
  const core::FileMapping* mapping = target_.core_->FileAt(address);
  if (mapping == nullptr) return 0;
  // Only bytes the core did not hold come from here, and they are the
  // file's unless the process wrote them (then the core holds them).
  auto it = files_.find(mapping->path);
  if (it == files_.end()) {
    if (files_.size() >= kMaxOpenFiles) return 0;
    const core::LocatedFile& located =
        target_.locator_->Locate(mapping->path, target_.BuildIdOf(mapping->path));
    UniqueFd fd;
    if (!located.path.empty()) fd = UniqueFd(::open(located.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    it = files_.emplace(mapping->path, std::move(fd)).first;
  }
  if (!it->second.valid()) return 0;
  size_t size = std::min<uint64_t>(out.size(), mapping->end - address);
  // Up to the end of the page only, so the core is asked again for the next.
  size = std::min<size_t>(size, 4096 - (address & 4095));
  ssize_t n = ::pread(it->second.get(), out.data(), size,
                      static_cast<off_t>(mapping->file_offset + (address - mapping->start)));
  return n > 0 ? static_cast<size_t>(n) : 0;
}

}  // namespace pyhang::target
