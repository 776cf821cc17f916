#include "userspace/sampler/tls_tstate.h"

#include <cstring>

namespace pyhang::sampler {
namespace {

// A cursor over the bytes of one function.
class Code {
 public:
  Code(uint64_t address, absl::string_view bytes) : address_(address), bytes_(bytes) {}

  bool Skip(absl::string_view prefix) {
    if (bytes_.substr(at_, prefix.size()) != prefix) return false;
    at_ += prefix.size();
    return true;
  }
  bool Byte(uint8_t* value) {
    if (at_ >= bytes_.size()) return false;
    *value = static_cast<uint8_t>(bytes_[at_++]);
    return true;
  }
  bool Int32(int32_t* value) {
    if (at_ + 4 > bytes_.size()) return false;
    std::memcpy(value, bytes_.data() + at_, 4);
    at_ += 4;
    return true;
  }
  // The target address of the next instruction.
  uint64_t Here() const { return address_ + at_; }

 private:
  uint64_t address_;
  absl::string_view bytes_;
  size_t at_ = 0;
};

constexpr absl::string_view kEndbr64("\xf3\x0f\x1e\xfa", 4);
constexpr absl::string_view kPushRbp("\x55", 1);
constexpr absl::string_view kMovRbpRsp("\x48\x89\xe5", 3);
constexpr absl::string_view kPopRbp("\x5d", 1);

void SkipPrologue(Code& code) {
  code.Skip(kEndbr64);
  if (code.Skip(kPushRbp)) code.Skip(kMovRbpRsp);
}

// mov %fs:disp32,%reg64 : 64 REX.W 8b modrm(mod 00, rm 100) sib(25) disp32
std::optional<TlsLocation> StaticLoad(Code code) {
  uint8_t rex, opcode, modrm, sib;
  int32_t disp;
  if (!code.Skip("\x64") || !code.Byte(&rex) || (rex & 0xf8) != 0x48 || !code.Byte(&opcode) ||
      opcode != 0x8b || !code.Byte(&modrm) || (modrm & 0xc7) != 0x04 || !code.Byte(&sib) ||
      sib != 0x25 || !code.Int32(&disp)) {
    return std::nullopt;
  }
  return TlsLocation{0, disp};
}

// The displacement of `mov disp(%rax),%rax` (or of a plain `mov (%rax),%rax`).
std::optional<int32_t> LoadFromRax(Code& code) {
  uint8_t rex, opcode, modrm;
  if (!code.Byte(&rex) || rex != 0x48 || !code.Byte(&opcode) || opcode != 0x8b ||
      !code.Byte(&modrm)) {
    return std::nullopt;
  }
  if (modrm == 0x00) return 0;
  if (modrm == 0x40) {
    uint8_t disp8;
    if (!code.Byte(&disp8)) return std::nullopt;
    return static_cast<int8_t>(disp8);
  }
  int32_t disp32;
  if (modrm == 0x80 && code.Int32(&disp32)) return disp32;
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::optional<TlsLocation>> DecodeTstateGetter(memory::MemoryReader& reader,
                                                              uint64_t code_address,
                                                              absl::string_view bytes) {
  Code code(code_address, bytes);
  SkipPrologue(code);
  if (std::optional<TlsLocation> location = StaticLoad(code)) return location;
  // lea GOT(%rip),%rdi (general-dynamic adds data16 prefixes).
  code.Skip("\x66");
  int32_t relative;
  if (!code.Skip("\x48\x8d\x3d") || !code.Int32(&relative)) return std::optional<TlsLocation>();
  uint64_t got = code.Here() + static_cast<int64_t>(relative);
  code.Skip("\x66");
  code.Skip("\x66");
  code.Skip("\x48");
  int32_t call;
  if (!code.Skip("\xe8") || !code.Int32(&call)) return std::optional<TlsLocation>();
  code.Skip(kPopRbp);
  std::optional<int32_t> displacement = LoadFromRax(code);
  if (!displacement) return std::optional<TlsLocation>();
  // glibc's tls_index, filled in by the dynamic loader.
  absl::StatusOr<uint64_t> module = memory::ReadValue<uint64_t>(reader, got);
  absl::StatusOr<uint64_t> offset = memory::ReadValue<uint64_t>(reader, got + 8);
  if (!module.ok() || !offset.ok()) {
    if (memory::IsTargetGone(module.status())) return module.status();
    return std::optional<TlsLocation>();
  }
  if (*module == 0 || *module > (1u << 20)) return std::optional<TlsLocation>();
  return std::optional<TlsLocation>(
      TlsLocation{static_cast<int32_t>(*module), static_cast<int64_t>(*offset) + *displacement});
}

std::optional<uint64_t> TlsSlot(memory::MemoryReader& reader, const TlsLocation& location,
                                uint64_t pthread) {
  if (location.module == 0) return pthread + location.offset;
  // x86_64 glibc: tcbhead_t.dtv at thread pointer + 8; dtv entries are 16
  // bytes ({void *val; void *to_free;}), indexed by module id.
  absl::StatusOr<uint64_t> dtv = memory::ReadPointer(reader, pthread + 8);
  if (!dtv.ok() || *dtv == 0) return std::nullopt;
  absl::StatusOr<uint64_t> block = memory::ReadPointer(reader, *dtv + 16 * location.module);
  if (!block.ok() || *block == 0 || *block == ~uint64_t{0}) return std::nullopt;
  return *block + location.offset;
}

}  // namespace pyhang::sampler
