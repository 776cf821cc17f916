#include "userspace/process/build_id.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "userspace/common/unique_fd.h"

namespace pyhang::process {
namespace {

constexpr size_t kMaxNoteBytes = 64 << 10;
constexpr size_t kMaxProgramHeaders = 64;

struct ElfDeleter {
  void operator()(Elf* elf) const { elf_end(elf); }
};

// The NT_GNU_BUILD_ID descriptor in a block of notes, or "".
std::string BuildIdInNotes(absl::string_view notes) {
  size_t at = 0;
  while (at + 12 <= notes.size()) {
    uint32_t namesz, descsz, type;
    memcpy(&namesz, notes.data() + at, 4);
    memcpy(&descsz, notes.data() + at + 4, 4);
    memcpy(&type, notes.data() + at + 8, 4);
    size_t name_at = at + 12;
    size_t desc_at = name_at + ((size_t{namesz} + 3) & ~size_t{3});
    if (desc_at > notes.size() || descsz > notes.size() - desc_at) return "";
    if (type == NT_GNU_BUILD_ID && namesz == 4 && notes.substr(name_at, 4) == absl::string_view("GNU\0", 4)) {
      return BuildIdHex(notes.substr(desc_at, descsz));
    }
    at = desc_at + ((size_t{descsz} + 3) & ~size_t{3});
  }
  return "";
}

}  // namespace

std::string BuildIdHex(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : bytes) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 15]);
  }
  return hex;
}

absl::StatusOr<std::string> FileBuildId(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) {
    return errno == ENOENT ? absl::NotFoundError(absl::StrCat(path, ": no such file"))
                           : absl::InvalidArgumentError(absl::StrCat(path, ": ", strerror(errno)));
  }
  elf_version(EV_CURRENT);
  std::unique_ptr<Elf, ElfDeleter> elf(elf_begin(fd.get(), ELF_C_READ_MMAP, nullptr));
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not an ELF file"));
  }
  for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn; scn = elf_nextscn(elf.get(), scn)) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type != SHT_NOTE) continue;
    Elf_Data* data = elf_rawdata(scn, nullptr);
    if (data == nullptr || data->d_buf == nullptr) continue;
    std::string id = BuildIdInNotes(absl::string_view(static_cast<const char*>(data->d_buf), data->d_size));
    if (!id.empty()) return id;
  }
  size_t count = 0;
  if (elf_getphdrnum(elf.get(), &count) != 0) return std::string();
  for (size_t i = 0; i < count && i < kMaxProgramHeaders; ++i) {
    GElf_Phdr phdr;
    if (gelf_getphdr(elf.get(), static_cast<int>(i), &phdr) == nullptr || phdr.p_type != PT_NOTE) continue;
    Elf_Data* data = elf_getdata_rawchunk(elf.get(), phdr.p_offset, std::min<uint64_t>(phdr.p_filesz, kMaxNoteBytes), ELF_T_BYTE);
    if (data == nullptr || data->d_buf == nullptr) continue;
    std::string id = BuildIdInNotes(absl::string_view(static_cast<const char*>(data->d_buf), data->d_size));
    if (!id.empty()) return id;
  }
  return std::string();
}

std::string MappedBuildId(memory::MemoryReader& reader, uint64_t image_start) {
  absl::StatusOr<Elf64_Ehdr> ehdr = memory::ReadValue<Elf64_Ehdr>(reader, image_start);
  if (!ehdr.ok() || memcmp(ehdr->e_ident, ELFMAG, SELFMAG) != 0 ||
      ehdr->e_ident[EI_CLASS] != ELFCLASS64 || ehdr->e_phentsize != sizeof(Elf64_Phdr)) {
    return "";
  }
  size_t count = std::min<size_t>(ehdr->e_phnum, kMaxProgramHeaders);
  std::vector<Elf64_Phdr> phdrs(count);
  if (!reader.Read(image_start + ehdr->e_phoff,
                   absl::MakeSpan(reinterpret_cast<std::byte*>(phdrs.data()), count * sizeof(Elf64_Phdr))).ok()) {
    return "";
  }
  // Addresses in the image are link-time addresses plus the load bias;
  // the first PT_LOAD (at file offset 0) sits at image_start.
  uint64_t bias = 0;
  for (const Elf64_Phdr& phdr : phdrs) {
    if (phdr.p_type != PT_LOAD) continue;
    uint64_t align = phdr.p_align > 1 ? phdr.p_align : 1;
    bias = image_start - (phdr.p_vaddr & ~(align - 1));
    break;
  }
  for (const Elf64_Phdr& phdr : phdrs) {
    if (phdr.p_type != PT_NOTE || phdr.p_filesz == 0 || phdr.p_filesz > kMaxNoteBytes) continue;
    absl::StatusOr<std::string> notes = memory::ReadBytes(reader, phdr.p_vaddr + bias, phdr.p_filesz);
    if (!notes.ok()) continue;
    std::string id = BuildIdInNotes(*notes);
    if (!id.empty()) return id;
  }
  return "";
}

std::string BuildIdPath(absl::string_view root, absl::string_view build_id,
                        absl::string_view suffix) {
  if (build_id.size() < 3) return "";
  return absl::StrCat(root, "/.build-id/", build_id.substr(0, 2), "/", build_id.substr(2), suffix);
}

}  // namespace pyhang::process
