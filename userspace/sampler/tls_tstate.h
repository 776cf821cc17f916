// Where CPython 3.15+ keeps each thread's PyThreadState: the thread-local
// _Py_tss_gilstate, a local symbol stripped from release builds. Its place
// is read off the code of the exported PyGILState_GetThisThreadState(),
// which is a plain load of it:
//   static TLS (non-PIE python with libpython linked in):
//     mov %fs:OFFSET,%rax
//   a shared libpython (local-dynamic TLS):
//     lea GOT(%rip),%rdi; call __tls_get_addr; mov OFFSET(%rax),%rax
//   where GOT holds glibc's tls_index {module id, offset}.
// Offsets differ per build, so they are derived per binary, never assumed.
#ifndef PYHANG_USERSPACE_SAMPLER_TLS_TSTATE_H_
#define PYHANG_USERSPACE_SAMPLER_TLS_TSTATE_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "userspace/memory/memory_reader.h"

namespace pyhang::sampler {

struct TlsLocation {
  int32_t module = 0;  // 0: static TLS (fsbase-relative); > 0: DTV module id
  int64_t offset = 0;  // from fsbase (static) or from the module's TLS block
  bool operator==(const TlsLocation&) const = default;
};

// What the machine code at `code_address` (its first bytes in `code`)
// loads, with the tls_index it names read from `reader`. nullopt if the
// code is not one of the shapes above; an error only if the target is gone.
absl::StatusOr<std::optional<TlsLocation>> DecodeTstateGetter(memory::MemoryReader& reader,
                                                              uint64_t code_address,
                                                              absl::string_view code);

// The address of the thread-local in the thread whose thread pointer
// (struct pthread, fsbase) is `pthread`; nullopt if unreadable.
std::optional<uint64_t> TlsSlot(memory::MemoryReader& reader, const TlsLocation& location,
                                uint64_t pthread);

}  // namespace pyhang::sampler

#endif  // PYHANG_USERSPACE_SAMPLER_TLS_TSTATE_H_
