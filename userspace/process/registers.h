// A thread's general-purpose registers on x86_64, in the order of the
// kernel's user_regs_struct (sys/user.h): what NT_PRSTATUS and ptrace hold.
#ifndef PYHANG_USERSPACE_PROCESS_REGISTERS_H_
#define PYHANG_USERSPACE_PROCESS_REGISTERS_H_

#include <cstdint>

namespace pyhang::process {

struct Registers {
  uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax,
      rip, cs, eflags, rsp, ss, fs_base, gs_base, ds, es, fs, gs;
};
static_assert(sizeof(Registers) == 27 * 8);

}  // namespace pyhang::process

#endif  // PYHANG_USERSPACE_PROCESS_REGISTERS_H_
