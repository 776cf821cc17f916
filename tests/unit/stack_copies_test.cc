// What the BPF task iterator hands userspace (pyhang_native_record), parsed
// and served as a Target: registers of threads that were off CPU, stack
// reads from the copy, everything else from the process underneath.
#include <cstring>

#include "bpf/pyhang_abi.h"
#include "gtest/gtest.h"
#include "userspace/memory/image_reader.h"
#include "userspace/sampler/native_snapshot.h"
#include "userspace/target/stack_copies.h"

namespace pyhang {
namespace {

std::string Record(uint32_t tid, uint32_t flags, uint64_t rsp, const std::string& stack) {
  pyhang_native_record record{};
  record.magic = PYHANG_NATIVE_MAGIC;
  record.tid = tid;
  record.flags = flags;
  record.stack_size = static_cast<uint32_t>(stack.size());
  record.regs[19] = rsp;        // user_regs_struct.rsp
  record.regs[16] = 0x401000;   // rip
  record.regs[21] = 0x7f0000;   // fs_base
  std::string out(reinterpret_cast<const char*>(&record), sizeof(record));
  return out + stack;
}

TEST(NativeRecords, ParsesRecordsAndStopsAtGarbage) {
  std::string bytes = Record(10, 0, 0x7ffe0000, std::string(64, 'x')) +
                      Record(11, PYHANG_NATIVE_ON_CPU, 0x7ffd0000, "abc") +
                      Record(12, PYHANG_NATIVE_NO_REGS, 0, "") + Record(13, 0, 0x1000, "");
  bytes[bytes.size() - sizeof(pyhang_native_record)] ^= 1;  // the last magic is broken
  std::vector<target::StackCopy> copies = sampler::ParseNativeRecords(bytes);
  ASSERT_EQ(copies.size(), 2u);  // 12 has no registers, 13 is garbage
  EXPECT_EQ(copies[0].tid, 10);
  EXPECT_EQ(copies[0].stack, std::string(64, 'x'));
  EXPECT_EQ(copies[0].registers.rsp, 0x7ffe0000u);
  EXPECT_EQ(copies[0].registers.rip, 0x401000u);
  EXPECT_FALSE(copies[0].on_cpu);
  EXPECT_TRUE(copies[1].on_cpu);
  // A stack size past the end of the bytes ends the parse too.
  std::string cut = Record(20, 0, 0x1000, std::string(100, 'y'));
  cut.resize(cut.size() - 1);
  EXPECT_TRUE(sampler::ParseNativeRecords(cut).empty());
}

// A stand-in for the live process: memory from an image, one thread.
class ImageTarget : public target::Target {
 public:
  ImageTarget() {
    info_.pid = info_.ns_pid = 42;
    memory_.AddRegion(0x7ffe0000, std::string(8192, 'L'));  // the live stack, moved on
  }
  const target::ProcessInfo& info() const override { return info_; }
  memory::MemoryReader& memory() override { return memory_; }
  absl::StatusOr<std::vector<process::MemoryMap>> Maps() override { return std::vector<process::MemoryMap>(); }
  absl::StatusOr<process::MappedFile> OpenMappedFile(const std::vector<process::MemoryMap>&,
                                                     const process::MemoryMap&) override {
    return absl::NotFoundError("none");
  }
  absl::StatusOr<std::vector<target::ThreadIds>> Threads() override {
    return std::vector<target::ThreadIds>{{10, 10, 0}, {11, 11, 0}};
  }
  bool Gone() override { return false; }
  absl::StatusOr<std::string> ReadFile(absl::string_view, size_t) override { return absl::NotFoundError("none"); }
  absl::StatusOr<threads::KernelThread> KernelThread(int64_t, const threads::KernelReadOptions&) override {
    return absl::NotFoundError("none");
  }
  std::string DescribeFd(int) override { return ""; }

 private:
  target::ProcessInfo info_;
  memory::ImageReader memory_;
};

TEST(WithStackCopies, CopiesAnswerForTheirStacksOnly) {
  ImageTarget live;
  std::vector<target::StackCopy> copies = sampler::ParseNativeRecords(
      Record(10, 0, 0x7ffe0100, std::string(256, 'C')) + Record(11, PYHANG_NATIVE_ON_CPU, 0x7ffe1000, "zz"));
  target::WithStackCopies copied(live, copies);
  char out[16];
  auto span = absl::MakeSpan(reinterpret_cast<std::byte*>(out), sizeof(out));
  ASSERT_TRUE(copied.memory().Read(0x7ffe0100, span).ok());
  EXPECT_EQ(std::string(out, 16), std::string(16, 'C'));  // the copy, not the live 'L's
  ASSERT_TRUE(copied.memory().Read(0x7ffe0000, span).ok());
  EXPECT_EQ(std::string(out, 16), std::string(16, 'L'));  // below sp: the process
  ASSERT_TRUE(copied.memory().Read(0x7ffe0100 + 250, span).ok());  // runs past the copy
  EXPECT_EQ(std::string(out, 16), std::string(16, 'L'));
  ASSERT_NE(copied.ThreadRegisters(10), nullptr);
  EXPECT_EQ(copied.ThreadRegisters(10)->rsp, 0x7ffe0100u);
  EXPECT_EQ(copied.ThreadRegisters(11), nullptr);  // was on CPU: stale registers
  EXPECT_EQ(copied.ThreadRegisters(12), nullptr);
  absl::StatusOr<std::vector<target::ThreadIds>> threads = copied.Threads();
  ASSERT_TRUE(threads.ok());
  EXPECT_EQ((*threads)[0].thread_pointer, 0x7f0000u);
}

}  // namespace
}  // namespace pyhang
