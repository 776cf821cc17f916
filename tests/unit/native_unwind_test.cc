// The native unwinder over stack copies as BPF takes them, here of this
// very test (its own registers via getcontext, its own stack), then spoiled
// the ways a real copy can be: cut mid-frame, garbage return addresses, a
// stack that points back into itself, code with no unwind info (a JIT's).
// Each must end that thread's native frames with the [unwind ended]
// marker, bounded, never the process.
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstring>

#include "gtest/gtest.h"
#include "userspace/native/unwinder.h"
#include "userspace/process/maps.h"
#include "userspace/target/live_process.h"
#include "userspace/target/stack_copies.h"

namespace pyhang {
namespace {

int64_t Gettid() { return static_cast<int64_t>(syscall(SYS_gettid)); }

constexpr size_t kCopyBytes = 16384;

// This thread's registers and the top of its stack, right here. Nothing
// that is written after getcontext() lives across it (it returns twice).
__attribute__((noinline)) target::StackCopy CopyOfThisStack() {
  // Where the stack's mapping ends, as BPF's page-by-page copy stops there.
  volatile uint64_t stack_end = 0;
  int here = 0;
  absl::StatusOr<std::vector<process::MemoryMap>> maps = process::ReadMaps(getpid());
  if (maps.ok()) {
    if (const process::MemoryMap* map = process::FindMap(*maps, reinterpret_cast<uint64_t>(&here))) {
      stack_end = map->end;
    }
  }
  ucontext_t context;
  getcontext(&context);
  const greg_t* g = context.uc_mcontext.gregs;
  target::StackCopy copy;
  copy.tid = Gettid();
  process::Registers& r = copy.registers;
  r.r15 = g[REG_R15], r.r14 = g[REG_R14], r.r13 = g[REG_R13], r.r12 = g[REG_R12];
  r.rbp = g[REG_RBP], r.rbx = g[REG_RBX], r.r11 = g[REG_R11], r.r10 = g[REG_R10];
  r.r9 = g[REG_R9], r.r8 = g[REG_R8], r.rax = g[REG_RAX], r.rcx = g[REG_RCX];
  r.rdx = g[REG_RDX], r.rsi = g[REG_RSI], r.rdi = g[REG_RDI], r.rip = g[REG_RIP];
  r.rsp = g[REG_RSP];
  size_t bytes = stack_end > r.rsp ? std::min<uint64_t>(kCopyBytes, stack_end - r.rsp) : 0;
  copy.stack.assign(reinterpret_cast<const char*>(r.rsp), bytes);
  return copy;
}

__attribute__((noinline)) target::StackCopy MarkedCaller() {
  target::StackCopy copy = CopyOfThisStack();
  asm volatile("" ::: "memory");  // not a tail call
  return copy;
}

// Machine code in an anonymous executable mapping, as a JIT makes it: no
// file, no CFI. It calls `callback` (in rdi) and returns:
//   sub rsp, 8; call rdi; add rsp, 8; ret
constexpr unsigned char kJitCode[] = {0x48, 0x83, 0xEC, 0x08, 0xFF, 0xD7, 0x48, 0x83, 0xC4, 0x08, 0xC3};
target::StackCopy g_copy_from_jit;

__attribute__((noinline)) void CopyFromInsideJit() {
  g_copy_from_jit = CopyOfThisStack();
  asm volatile("" ::: "memory");
}

bool EndsWithMarker(const std::vector<python::PyFrame>& frames) {
  return !frames.empty() && frames.back().function == native::kUnwindEnded && !frames.back().module.empty();
}

std::vector<std::string> Names(const std::vector<python::PyFrame>& frames) {
  std::vector<std::string> names;
  for (const python::PyFrame& frame : frames) names.push_back(frame.function);
  return names;
}

class NativeUnwindTest : public ::testing::Test {
 protected:
  std::vector<python::PyFrame> Unwind(target::StackCopy copy, size_t max_depth = 256) {
    absl::StatusOr<std::unique_ptr<target::LiveProcess>> self = target::LiveProcess::Open(getpid());
    EXPECT_TRUE(self.ok()) << self.status();
    if (!self.ok()) return {};
    // The copy is all the unwinder may read of the stack: the live stack
    // has moved on (and is not what a spoiled copy says).
    target::WithStackCopies copied(**self, {std::move(copy)});
    native::UnwindOptions options;
    options.max_depth = max_depth;
    absl::StatusOr<std::unique_ptr<native::Unwinder>> unwinder = native::Unwinder::Create(copied, options);
    EXPECT_TRUE(unwinder.ok()) << unwinder.status();
    if (!unwinder.ok()) return {};
    absl::StatusOr<std::vector<python::PyFrame>> frames = (*unwinder)->Unwind(Gettid());
    EXPECT_TRUE(frames.ok()) << frames.status();
    return frames.ok() ? *frames : std::vector<python::PyFrame>();
  }
};

TEST_F(NativeUnwindTest, OwnStackUnwindsThroughItsCallers) {
  std::vector<python::PyFrame> frames = Unwind(MarkedCaller());
  std::vector<std::string> names = Names(frames);
  ASSERT_GE(names.size(), 3u);
  // The innermost function (or a call inlined into it, such as a constructor).
  EXPECT_TRUE(names[0].find("CopyOfThisStack") != std::string::npos ||
              names[1].find("CopyOfThisStack") != std::string::npos)
      << ::testing::PrintToString(names);
  EXPECT_EQ(names.back(), "_start") << ::testing::PrintToString(names);  // down to the root
  EXPECT_NE(std::find_if(names.begin(), names.end(),
                         [](const std::string& n) { return n.find("MarkedCaller") != std::string::npos; }),
            names.end())
      << ::testing::PrintToString(names);
  for (const python::PyFrame& frame : frames) EXPECT_EQ(frame.kind, python::FrameKind::kNative);
}

TEST_F(NativeUnwindTest, CopyCutMidFrameEndsTheStack) {
  target::StackCopy whole = MarkedCaller();
  size_t full = Unwind(whole).size();
  target::StackCopy cut = whole;
  cut.stack.resize(24);  // not even the first frame's return address
  std::vector<python::PyFrame> frames = Unwind(cut);
  EXPECT_GE(frames.size(), 2u);  // the innermost frame comes from the registers
  EXPECT_LT(frames.size(), full);
  EXPECT_TRUE(EndsWithMarker(frames)) << ::testing::PrintToString(Names(frames));
}

TEST_F(NativeUnwindTest, GarbageReturnAddressesEndTheStack) {
  target::StackCopy copy = MarkedCaller();
  std::memset(copy.stack.data(), 0x41, copy.stack.size());
  std::vector<python::PyFrame> frames = Unwind(copy);
  EXPECT_LE(frames.size(), 4u) << ::testing::PrintToString(Names(frames));
  EXPECT_TRUE(EndsWithMarker(frames)) << ::testing::PrintToString(Names(frames));
}

TEST_F(NativeUnwindTest, StackThatLoopsIsBounded) {
  // Every slot holds the same return address into this test: a frame that
  // returns to itself forever, as far as the copy goes.
  target::StackCopy copy = MarkedCaller();
  uint64_t return_address = copy.registers.rip;
  for (size_t at = 0; at + 8 <= copy.stack.size(); at += 8) std::memcpy(&copy.stack[at], &return_address, 8);
  std::vector<python::PyFrame> frames = Unwind(copy, 64);
  EXPECT_LE(frames.size(), 64u + 1);  // the bound, and the marker saying so
  EXPECT_TRUE(EndsWithMarker(frames)) << ::testing::PrintToString(Names(frames));
}

TEST_F(NativeUnwindTest, CodeWithoutUnwindInfoEndsTheStack) {
  void* code = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(code, MAP_FAILED);
  std::memcpy(code, kJitCode, sizeof(kJitCode));
  ASSERT_EQ(mprotect(code, 4096, PROT_READ | PROT_EXEC), 0);
  reinterpret_cast<void (*)(void (*)())>(code)(&CopyFromInsideJit);
  std::vector<python::PyFrame> frames = Unwind(g_copy_from_jit);
  munmap(code, 4096);
  std::vector<std::string> names = Names(frames);
  // Up to the JIT's code, then the marker: nothing says where that code's caller is.
  EXPECT_NE(std::find_if(names.begin(), names.end(),
                         [](const std::string& n) { return n.find("CopyFromInsideJit") != std::string::npos; }),
            names.end())
      << ::testing::PrintToString(names);
  EXPECT_TRUE(EndsWithMarker(frames)) << ::testing::PrintToString(names);
  EXPECT_EQ(std::find(names.begin(), names.end(), "_start"), names.end()) << ::testing::PrintToString(names);
}

TEST_F(NativeUnwindTest, NoRegistersNoFrames) {
  target::StackCopy copy = MarkedCaller();
  copy.on_cpu = true;  // stale registers are never used
  absl::StatusOr<std::unique_ptr<target::LiveProcess>> self = target::LiveProcess::Open(getpid());
  ASSERT_TRUE(self.ok());
  target::WithStackCopies copied(**self, {copy});
  absl::StatusOr<std::unique_ptr<native::Unwinder>> unwinder = native::Unwinder::Create(copied, {});
  ASSERT_TRUE(unwinder.ok());
  EXPECT_EQ((*unwinder)->Unwind(Gettid()).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace pyhang
