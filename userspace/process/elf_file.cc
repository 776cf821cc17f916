#include "absl/strings/string_view.h"
#include "userspace/process/elf_file.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace pyhang::process {
namespace {

// libelf handle that ends itself.
struct ElfCloser {
  void operator()(Elf* elf) const { elf_end(elf); }
};
using ElfHandle = std::unique_ptr<Elf, ElfCloser>;

absl::Status ElfError(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": ", what, ": ", elf_errmsg(elf_errno())));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ElfFile>> ElfFile::Open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int error = errno;
    std::string message = absl::StrCat("open ", path, ": ", std::strerror(error));
    if (error == ENOENT) return absl::NotFoundError(message);
    if (error == EACCES || error == EPERM) return absl::PermissionDeniedError(message);
    return absl::InternalError(message);
  }
  auto file = std::unique_ptr<ElfFile>(new ElfFile());
  file->path_ = path;
  absl::Status status = file->Load(fd.get());
  if (!status.ok()) return status;
  return file;
}

absl::Status ElfFile::Load(int fd) {
  if (elf_version(EV_CURRENT) == EV_NONE) return ElfError(path_, "elf_version");
  ElfHandle elf(elf_begin(fd, ELF_C_READ_MMAP, nullptr));
  if (elf == nullptr || elf_kind(elf.get()) != ELF_K_ELF) return ElfError(path_, "not an ELF file");
  GElf_Ehdr ehdr;
  if (gelf_getehdr(elf.get(), &ehdr) == nullptr) return ElfError(path_, "ELF header");
  is_shared_object_ = ehdr.e_type == ET_DYN;

  // First PT_LOAD: the file's offset-0 mapping corresponds to its vaddr.
  size_t phnum = 0;
  elf_getphdrnum(elf.get(), &phnum);
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr phdr;
    if (gelf_getphdr(elf.get(), static_cast<int>(i), &phdr) == nullptr) continue;
    if (phdr.p_type != PT_LOAD) continue;
    uint64_t align = phdr.p_align > 1 ? phdr.p_align : 1;
    first_load_address_ = phdr.p_vaddr & ~(align - 1);
    break;
  }

  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf.get(), &shstrndx) != 0) return ElfError(path_, "section names");
  // Two passes so .dynsym symbols come first and win name lookups.
  for (Elf64_Word wanted : {SHT_DYNSYM, SHT_SYMTAB}) {
    for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn; scn = elf_nextscn(elf.get(), scn)) {
      GElf_Shdr shdr;
      if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type != wanted) continue;
      if (wanted == SHT_SYMTAB) has_symtab_ = true;
      Elf_Data* data = elf_getdata(scn, nullptr);
      if (data == nullptr || shdr.sh_entsize == 0) continue;
      size_t count = shdr.sh_size / shdr.sh_entsize;
      for (size_t i = 0; i < count; ++i) {
        GElf_Sym sym;
        if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) continue;
        if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0) continue;
        const char* name = elf_strptr(elf.get(), shdr.sh_link, sym.st_name);
        if (name == nullptr || *name == '\0') continue;
        ElfSymbol symbol{name, sym.st_value, sym.st_size,
                         GELF_ST_TYPE(sym.st_info) == STT_FUNC};
        by_name_.try_emplace(symbol.name, symbols_.size());
        symbols_.push_back(std::move(symbol));
      }
    }
  }
  for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn; scn = elf_nextscn(elf.get(), scn)) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr) continue;
    const char* name = elf_strptr(elf.get(), shstrndx, shdr.sh_name);
    sections_.push_back(ElfSection{name ? name : "", shdr.sh_addr, shdr.sh_size, shdr.sh_offset,
                                   shdr.sh_type != SHT_NOBITS});
    if (shdr.sh_type == SHT_DYNAMIC) {
      Elf_Data* data = elf_getdata(scn, nullptr);
      size_t count = shdr.sh_entsize ? shdr.sh_size / shdr.sh_entsize : 0;
      for (size_t i = 0; data != nullptr && i < count; ++i) {
        GElf_Dyn dyn;
        if (gelf_getdyn(data, static_cast<int>(i), &dyn) == nullptr) continue;
        if (dyn.d_tag != DT_NEEDED) continue;
        const char* lib = elf_strptr(elf.get(), shdr.sh_link, dyn.d_un.d_val);
        if (lib != nullptr) needed_.emplace_back(lib);
      }
    }
  }

  for (size_t i = 0; i < symbols_.size(); ++i) {
    if (symbols_[i].is_function) functions_by_address_.push_back(i);
  }
  std::sort(functions_by_address_.begin(), functions_by_address_.end(),
            [this](size_t a, size_t b) { return symbols_[a].value < symbols_[b].value; });
  return absl::OkStatus();
}

std::optional<ElfSymbol> ElfFile::FindSymbol(absl::string_view name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return symbols_[it->second];
}

std::optional<ElfSection> ElfFile::FindSection(absl::string_view name) const {
  for (const ElfSection& section : sections_) {
    if (section.name == name) return section;
  }
  return std::nullopt;
}

const ElfSymbol* ElfFile::FunctionAt(uint64_t address) const {
  auto it = std::upper_bound(
      functions_by_address_.begin(), functions_by_address_.end(), address,
      [this](uint64_t value, size_t index) { return value < symbols_[index].value; });
  if (it == functions_by_address_.begin()) return nullptr;
  const ElfSymbol& symbol = symbols_[*std::prev(it)];
  // Size 0 symbols (hand-written asm) cover up to the next symbol.
  if (symbol.size != 0 && address >= symbol.value + symbol.size) return nullptr;
  return &symbol;
}

}  // namespace pyhang::process
