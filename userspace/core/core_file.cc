#include "userspace/core/core_file.h"

#include <elf.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "userspace/common/status_macros.h"

namespace pyhang::core {
namespace {

// Offsets inside the x86_64 kernel structures the notes hold
// (include/uapi/linux/elfcore.h, asm/elf.h); sizes are checked per note.
constexpr size_t kPrstatusCursig = 12;   // short pr_cursig
constexpr size_t kPrstatusPid = 32;      // pid_t pr_pid
constexpr size_t kPrstatusRegs = 112;    // elf_gregset_t pr_reg
constexpr size_t kPrpsinfoSize = 136;
constexpr size_t kPrpsinfoState = 1;     // char pr_sname
constexpr size_t kPrpsinfoUid = 16;
constexpr size_t kPrpsinfoPid = 24;
constexpr size_t kPrpsinfoPpid = 28;
constexpr size_t kPrpsinfoFname = 40;
constexpr size_t kPrpsinfoPsargs = 56;
constexpr size_t kSiginfoMin = 24;       // signo, errno, code, pad, si_addr

template <typename T>
T Load(absl::string_view bytes, size_t offset) {
  T value{};
  if (offset + sizeof(T) <= bytes.size()) std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

std::string FixedString(absl::string_view bytes, size_t offset, size_t size) {
  if (offset >= bytes.size()) return "";
  absl::string_view field = bytes.substr(offset, size);
  return std::string(field.substr(0, field.find('\0')));
}

struct ElfDeleter {
  void operator()(Elf* elf) const { elf_end(elf); }
};

bool HasFaultAddress(int signo) {
  return signo == SIGSEGV || signo == SIGBUS || signo == SIGILL || signo == SIGFPE ||
         signo == SIGTRAP;
}

}  // namespace

std::string SignalName(int signo) {
  const char* abbrev = signo > 0 && signo < NSIG ? sigabbrev_np(signo) : nullptr;
  return abbrev ? absl::StrCat("SIG", abbrev) : absl::StrCat("signal ", signo);
}

CoreFile::~CoreFile() {
  if (mapped_) ::munmap(const_cast<char*>(data_), size_);
}

absl::StatusOr<std::unique_ptr<CoreFile>> CoreFile::Open(UniqueFd fd, std::string name) {
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return absl::InvalidArgumentError(absl::StrCat(name, ": ", strerror(errno)));
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(name, ": not a regular file"));
  if (st.st_size == 0) return absl::InvalidArgumentError(absl::StrCat(name, ": empty file, not a core"));
  auto core = std::unique_ptr<CoreFile>(new CoreFile());
  core->name_ = std::move(name);
  core->size_ = static_cast<size_t>(st.st_size);
  // Private and writable so libelf may do what it likes with its view;
  // nothing is ever written, so no page is ever copied.
  void* data = ::mmap(nullptr, core->size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(), 0);
  if (data == MAP_FAILED) {
    return absl::InvalidArgumentError(absl::StrCat(core->name_, ": cannot map it: ", strerror(errno)));
  }
  ::madvise(data, core->size_, MADV_RANDOM);
  core->data_ = static_cast<const char*>(data);
  core->mapped_ = true;
  core->fd_ = std::move(fd);
  RETURN_IF_ERROR(core->Parse());
  return core;
}

absl::StatusOr<std::unique_ptr<CoreFile>> CoreFile::FromBytes(absl::string_view bytes,
                                                             std::string name) {
  auto core = std::unique_ptr<CoreFile>(new CoreFile());
  core->name_ = std::move(name);
  core->owned_ = std::string(bytes);
  core->data_ = core->owned_.data();
  core->size_ = core->owned_.size();
  if (bytes.empty()) return absl::InvalidArgumentError(absl::StrCat(core->name_, ": empty file, not a core"));
  RETURN_IF_ERROR(core->Parse());
  return core;
}

absl::Status CoreFile::Parse() {
  auto not_core = [this](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(name_, ": not a core file (", why, ")"));
  };
  if (size_ < SELFMAG || std::memcmp(data_, ELFMAG, SELFMAG) != 0) return not_core("no ELF header");
  elf_version(EV_CURRENT);
  // libelf never writes through an ELF_C_READ view of native-order data.
  std::unique_ptr<Elf, ElfDeleter> elf(elf_memory(const_cast<char*>(data_), size_));
  if (!elf) return not_core(elf_errmsg(-1));
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf.get(), &ehdr) == nullptr) return not_core("bad ELF header");
  if (ehdr.e_ident[EI_CLASS] != ELFCLASS64 || ehdr.e_machine != EM_X86_64) {
    return absl::InvalidArgumentError(absl::StrCat(name_, ": not an x86_64 core file"));
  }
  if (ehdr.e_type != ET_CORE) {
    return not_core(ehdr.e_type == ET_EXEC || ehdr.e_type == ET_DYN ? "an executable or library"
                                                                     : "ELF type is not ET_CORE");
  }
  size_t count = 0;
  if (elf_getphdrnum(elf.get(), &count) != 0) return not_core("bad program headers");
  if (count > kMaxSegments) return not_core("too many program headers");
  size_t note_bytes = 0;
  for (size_t i = 0; i < count; ++i) {
    GElf_Phdr phdr;
    if (gelf_getphdr(elf.get(), static_cast<int>(i), &phdr) == nullptr) {
      return not_core("program header table cut off");
    }
    if (phdr.p_type == PT_LOAD) {
      Segment segment;
      segment.vaddr = phdr.p_vaddr;
      segment.memory_size = phdr.p_memsz;
      segment.offset = phdr.p_offset;
      segment.file_size = std::min(phdr.p_filesz, phdr.p_memsz);
      if (segment.vaddr + segment.memory_size < segment.vaddr) continue;  // wraps
      uint64_t available = phdr.p_offset < size_ ? size_ - phdr.p_offset : 0;
      if (segment.file_size > available) {
        truncated_ = true;
        segment.file_size = available;
      }
      segment.readable = phdr.p_flags & PF_R;
      segment.writable = phdr.p_flags & PF_W;
      segment.executable = phdr.p_flags & PF_X;
      segments_.push_back(segment);
    } else if (phdr.p_type == PT_NOTE) {
      if (phdr.p_offset >= size_) {
        truncated_ = true;
        continue;
      }
      uint64_t size = std::min<uint64_t>(phdr.p_filesz, size_ - phdr.p_offset);
      if (size < phdr.p_filesz) truncated_ = true;
      note_bytes += size;
      if (note_bytes > kMaxNoteBytes) return not_core("notes too large");
      RETURN_IF_ERROR(ParseNotes(absl::string_view(data_ + phdr.p_offset, size)));
    }
  }
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.vaddr < b.vaddr; });
  std::sort(files_.begin(), files_.end(),
            [](const FileMapping& a, const FileMapping& b) { return a.start < b.start; });
  if (threads_.empty()) return not_core("no thread (NT_PRSTATUS) in its notes");
  return absl::OkStatus();
}

absl::Status CoreFile::ParseNotes(absl::string_view notes) {
  // Elf64_Nhdr: namesz, descsz, type; name and desc padded to 4 bytes.
  size_t at = 0;
  while (at + 12 <= notes.size()) {
    uint32_t namesz = Load<uint32_t>(notes, at), descsz = Load<uint32_t>(notes, at + 4);
    uint32_t type = Load<uint32_t>(notes, at + 8);
    size_t name_at = at + 12;
    size_t desc_at = name_at + ((static_cast<size_t>(namesz) + 3) & ~size_t{3});
    size_t next = desc_at + ((static_cast<size_t>(descsz) + 3) & ~size_t{3});
    if (desc_at > notes.size() || descsz > notes.size() - desc_at) break;  // cut off
    absl::string_view name = notes.substr(name_at, namesz);
    if (!name.empty() && name.back() == '\0') name.remove_suffix(1);
    absl::string_view desc = notes.substr(desc_at, descsz);
    at = next;
    if (name != "CORE") continue;
    switch (type) {
      case NT_PRSTATUS: {
        if (desc.size() < kPrstatusRegs + sizeof(Registers)) break;
        if (threads_.size() >= kMaxThreads) break;
        CoreThread thread;
        thread.tid = Load<int32_t>(desc, kPrstatusPid);
        thread.signal = Load<int16_t>(desc, kPrstatusCursig);
        std::memcpy(&thread.registers, desc.data() + kPrstatusRegs, sizeof(Registers));
        threads_.push_back(thread);
        break;
      }
      case NT_PRPSINFO: {
        if (desc.size() < kPrpsinfoSize) break;
        process_.state = Load<char>(desc, kPrpsinfoState);
        process_.uid = Load<uint32_t>(desc, kPrpsinfoUid);
        process_.pid = Load<int32_t>(desc, kPrpsinfoPid);
        process_.ppid = Load<int32_t>(desc, kPrpsinfoPpid);
        process_.comm = FixedString(desc, kPrpsinfoFname, 16);
        std::string arguments(desc.substr(kPrpsinfoPsargs, 80));
        arguments = arguments.substr(0, arguments.find_last_not_of('\0') + 1);
        std::replace(arguments.begin(), arguments.end(), '\0', ' ');
        process_.arguments = arguments;
        break;
      }
      case NT_SIGINFO: {
        if (desc.size() < kSiginfoMin) break;
        SignalInfo info;
        info.signo = Load<int32_t>(desc, 0);
        info.errno_value = Load<int32_t>(desc, 4);
        info.code = Load<int32_t>(desc, 8);
        // si_addr is the fault only when the kernel raised the signal
        // (si_code > 0); kill(2) and tgkill(2) put the sender's pid there.
        if (HasFaultAddress(info.signo) && info.code > 0) info.fault_address = Load<uint64_t>(desc, 16);
        signal_ = info;
        break;
      }
      case NT_AUXV:
        raw_auxv_ = std::string(desc.substr(0, 4096));
        for (size_t i = 0; i + 16 <= desc.size() && auxv_.size() < 256; i += 16) {
          auxv_.emplace_back(Load<uint64_t>(desc, i), Load<uint64_t>(desc, i + 8));
        }
        break;
      case NT_FILE:
        ParseFileNote(desc);
        break;
      default:
        break;
    }
  }
  return absl::OkStatus();
}

void CoreFile::ParseFileNote(absl::string_view desc) {
  // count, page_size, then count x {start, end, page offset}, then count
  // NUL-terminated paths.
  uint64_t count = Load<uint64_t>(desc, 0), page_size = Load<uint64_t>(desc, 8);
  if (desc.size() < 16 || count > (desc.size() - 16) / 24 || page_size == 0 ||
      page_size > (1u << 30)) {
    return;
  }
  size_t names_at = 16 + count * 24;
  absl::string_view names = desc.substr(names_at);
  for (uint64_t i = 0; i < count; ++i) {
    FileMapping mapping;
    mapping.start = Load<uint64_t>(desc, 16 + i * 24);
    mapping.end = Load<uint64_t>(desc, 16 + i * 24 + 8);
    mapping.file_offset = Load<uint64_t>(desc, 16 + i * 24 + 16) * page_size;
    size_t end = names.find('\0');
    if (end == absl::string_view::npos) break;
    mapping.path = std::string(names.substr(0, std::min<size_t>(end, 4096)));
    names.remove_prefix(end + 1);
    if (mapping.end > mapping.start) files_.push_back(std::move(mapping));
  }
}

std::optional<uint64_t> CoreFile::Auxv(uint64_t type) const {
  for (const auto& [key, value] : auxv_) {
    if (key == type) return value;
  }
  return std::nullopt;
}

bool CoreFile::ReadMemory(uint64_t address, absl::Span<std::byte> out) const {
  size_t done = 0;
  while (done < out.size()) {
    uint64_t at = address + done;
    if (at < address) return false;  // wrapped
    // The last segment starting at or below `at`.
    auto it = std::upper_bound(segments_.begin(), segments_.end(), at,
                               [](uint64_t value, const Segment& s) { return value < s.vaddr; });
    if (it == segments_.begin()) return false;
    const Segment& segment = *std::prev(it);
    uint64_t inside = at - segment.vaddr;
    if (inside >= segment.file_size) return false;
    size_t chunk = std::min<uint64_t>(out.size() - done, segment.file_size - inside);
    // A segment that starts inside this one's bytes answers for its own
    // addresses, as it does for a read that starts there.
    if (it != segments_.end()) chunk = std::min<uint64_t>(chunk, it->vaddr - at);
    std::memcpy(out.data() + done, data_ + segment.offset + inside, chunk);
    done += chunk;
  }
  return true;
}

const Segment* CoreFile::SegmentAt(uint64_t address) const {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), address,
                             [](uint64_t value, const Segment& s) { return value < s.vaddr; });
  if (it == segments_.begin()) return nullptr;
  const Segment& segment = *std::prev(it);
  return address - segment.vaddr < segment.memory_size ? &segment : nullptr;
}

const FileMapping* CoreFile::FileAt(uint64_t address) const {
  auto it = std::upper_bound(files_.begin(), files_.end(), address,
                             [](uint64_t value, const FileMapping& f) { return value < f.start; });
  if (it == files_.begin()) return nullptr;
  const FileMapping& mapping = *std::prev(it);
  return address < mapping.end ? &mapping : nullptr;
}

}  // namespace pyhang::core
