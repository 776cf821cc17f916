// Pieces of the Target seam that need no live process: namespace ids from
// /proc status text, and the thread-local tstate read off machine code.
#include "gtest/gtest.h"
#include "userspace/memory/image_reader.h"
#include "userspace/sampler/tls_tstate.h"
#include "userspace/target/live_process.h"

namespace pyhang {
namespace {

TEST(NamespaceIds, InnermostIdOfNSpid) {
  EXPECT_EQ(target::InnermostNamespaceId("Name:\tpython3\nNSpid:\t24856\t1\nNSsid:\t1\n"), 1);
  EXPECT_EQ(target::InnermostNamespaceId("NSpid:\t4242\n"), 4242);
  EXPECT_EQ(target::InnermostNamespaceId("NSpid:\t100\t20\t3\n"), 3);
  EXPECT_FALSE(target::InnermostNamespaceId("Name:\tx\nPid:\t5\n").has_value());
  EXPECT_FALSE(target::InnermostNamespaceId("NSpid:\t\n").has_value());
}

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

// The exact code of PyGILState_GetThisThreadState in Debian's builds.
TEST(TlsTstate, StaticTlsOfANonPieInterpreter) {
  memory::ImageReader reader;
  // python3.15: endbr64; mov %fs:0xffffffffffffffd8,%rax; ret
  std::string code = Bytes({0xf3, 0x0f, 0x1e, 0xfa, 0x64, 0x48, 0x8b, 0x04, 0x25, 0xd8, 0xff,
                            0xff, 0xff, 0xc3});
  absl::StatusOr<std::optional<sampler::TlsLocation>> found =
      sampler::DecodeTstateGetter(reader, 0x42fa7d, code);
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, (sampler::TlsLocation{0, -0x28}));
}

TEST(TlsTstate, DynamicTlsOfASharedLibpython) {
  // libpython3.15.so: endbr64; push %rbp; mov %rsp,%rbp;
  // lea 0x4aa661(%rip),%rdi; call __tls_get_addr; pop %rbp; mov 0x28(%rax),%rax; ret
  constexpr uint64_t kCode = 0x7f0000000000 + 0x3cf120;
  std::string code = Bytes({0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5, 0x48, 0x8d, 0x3d,
                            0x61, 0xa6, 0x4a, 0x00, 0xe8, 0x5c, 0x9d, 0xcf, 0xff, 0x5d, 0x48,
                            0x8b, 0x80, 0x28, 0x00, 0x00, 0x00, 0xc3});
  const uint64_t got = kCode + 15 + 0x4aa661;  // after the lea
  memory::ImageReader reader;
  std::string tls_index(16, '\0');
  uint64_t module = 2, offset = 0;
  std::memcpy(tls_index.data(), &module, 8);
  std::memcpy(tls_index.data() + 8, &offset, 8);
  reader.AddRegion(got, tls_index);
  absl::StatusOr<std::optional<sampler::TlsLocation>> found =
      sampler::DecodeTstateGetter(reader, kCode, code);
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, (sampler::TlsLocation{2, 0x28}));

  // The slot of a thread: *(*(fsbase + 8) + 16 * module) + offset.
  constexpr uint64_t kPthread = 0x10000, kDtv = 0x20000, kBlock = 0x30000;
  std::string tcb(16, '\0');
  std::memcpy(tcb.data() + 8, &kDtv, 8);
  reader.AddRegion(kPthread, tcb);
  std::string dtv(64, '\0');
  std::memcpy(dtv.data() + 32, &kBlock, 8);
  reader.AddRegion(kDtv, dtv);
  EXPECT_EQ(sampler::TlsSlot(reader, **found, kPthread), kBlock + 0x28);
}

TEST(TlsTstate, OtherCodeIsNotGuessedAt) {
  memory::ImageReader reader;
  // python3.14's getter calls PyThread_tss_get: not a TLS load.
  std::string code = Bytes({0xf3, 0x0f, 0x1e, 0xfa, 0x83, 0x3d, 0x3b, 0x49, 0x77, 0x00, 0x00,
                            0x74, 0x0a, 0xbf, 0xe0, 0x10, 0xba, 0x00, 0xe9, 0x7f, 0x2e, 0x11, 0x00});
  absl::StatusOr<std::optional<sampler::TlsLocation>> found =
      sampler::DecodeTstateGetter(reader, 0x42c79a, code);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
  EXPECT_FALSE(sampler::DecodeTstateGetter(reader, 0x1000, "").value().has_value());
  EXPECT_FALSE(sampler::DecodeTstateGetter(reader, 0x1000, std::string(64, '\xff')).value().has_value());
}

}  // namespace
}  // namespace pyhang
