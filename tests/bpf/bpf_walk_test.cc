// The BPF frame walk (bpf/pyhang_walk.h, compiled here through walk_shim.h)
// over synthetic interpreters of every supported layout: what it copies,
// once interpreted by the sampler, must equal what python::FrameWalker
// walks itself; and finding the thread state through glibc's TSS slots must
// work and be validated. No kernel, no root.
#include <cstring>
#include <memory>
#include <optional>

#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/bpf/walk_shim.h"
#include "tests/unit/fake_python.h"
#include "userspace/python/decoder.h"
#include "userspace/python/py_offsets.h"
#include "userspace/sampler/proc_config.h"
#include "userspace/sampler/stack_frames.h"

namespace pyhang::testing {
namespace {

using sampler::TssLayout;
using ::testing::HasSubstr;

constexpr uint32_t kTid = 4242;

// A CPython image plus the glibc struct pthread its thread states point to.
class BpfWalkTest : public ::testing::TestWithParam<int> {
 protected:
  BpfWalkTest()
      : fake_(*python::PythonVersion::Parse("3." + std::to_string(GetParam()) + ".1")),
        decoder_(fake_.reader(), fake_.runtime()) {
    ShimTarget() = &fake_.reader();
  }
  ~BpfWalkTest() override { ShimTarget() = nullptr; }

  const python::PyOffsets& o() const { return fake_.offsets(); }
  bool interpreter_frames() const { return o().frame_model == PYHANG_FRAME_INTERPRETER; }

  // A struct pthread laid out like glibc's (`layout`), with specific[0]
  // pointing at specific_1stblock as glibc always sets it.
  uint64_t MakePthread(const TssLayout& layout = sampler::kGlibc236TssLayout) {
    uint64_t pthread = fake_.Allocate(0x1000);
    fake_.PutU64(pthread, pthread);         // tcbhead_t.tcb
    fake_.PutU64(pthread + 0x10, pthread);  // tcbhead_t.self
    fake_.PutU64(pthread + layout.specific, pthread + layout.specific_1stblock);
    return pthread;
  }

  // pthread_setspecific(key, value) in the thread at `pthread`.
  void SetSpecific(uint64_t pthread, int32_t key, uint64_t value,
                   const TssLayout& layout = sampler::kGlibc236TssLayout) {
    uint64_t entry;
    if (key < PYHANG_TSS_FIRST_BLOCK_KEYS) {
      entry = pthread + layout.specific_1stblock + 16 * key;
    } else {
      uint64_t pointer = pthread + layout.specific + 8 * (key / PYHANG_TSS_FIRST_BLOCK_KEYS);
      uint64_t block = memory::ReadPointer(fake_.reader(), pointer).value();
      if (block == 0) {
        block = fake_.Allocate(16 * PYHANG_TSS_FIRST_BLOCK_KEYS);
        fake_.PutU64(pointer, block);
      }
      entry = block + 16 * (key % PYHANG_TSS_FIRST_BLOCK_KEYS);
    }
    fake_.PutU64(entry, 1);  // seq
    fake_.PutU64(entry + 8, value);
  }

  void SetTssKey(int32_t key) {
    fake_.PutI32(fake_.runtime_address() + o().runtime_tss_key, 1);  // _is_initialized
    fake_.PutI32(fake_.runtime_address() + o().runtime_tss_key + 4, key);
  }

  // A Python thread bound through the TSS key, as CPython does.
  uint64_t AddThread(int32_t key, uint64_t* pthread_out = nullptr) {
    uint64_t pthread = MakePthread();
    uint64_t tstate = fake_.AddThread(pthread, kTid);
    SetSpecific(pthread, key, tstate);
    SetTssKey(key);
    if (pthread_out) *pthread_out = pthread;
    return tstate;
  }

  // A chain with the frames every version has to skip: 3.12 shims, 3.13
  // None entry frames, 3.11+ incomplete frames, plus a generator frame.
  void PushMixedChain(uint64_t tstate) {
    fake_.PushFrame(tstate, fake_.Code("<module>", "/app/main.py", 30));
    if (interpreter_frames() && o().owner_cstack != PYHANG_NO_OWNER) {
      uint64_t shim = fake_.PushFrame(tstate, fake_.Code("<shim>", "<shim>", 1));
      fake_.PutU8(shim + o().frame_owner, o().owner_cstack);
      if (GetParam() >= 13) fake_.PutU64(shim + o().frame_code, fake_.runtime().types.none_object);
    }
    fake_.PushFrame(tstate, fake_.Code("serve", "/app/server.py", 12));
    if (interpreter_frames()) {
      uint64_t generator = fake_.PushFrame(tstate, fake_.Code("produce", "/app/gen.py", 5));
      fake_.PutU8(generator + o().frame_owner, o().owner_generator);
      uint64_t code = fake_.Code("prologue", "/app/p.py", 9);
      fake_.PutI32(code + o().code_firsttraceable, 4);  // instruction 1 is still prologue
      fake_.PushFrame(tstate, code);
    }
    fake_.PushFrame(tstate, fake_.Code("handle", "/app/handler.py", 77));
  }

  absl::StatusOr<pyhang_proc_config> Config() {
    absl::StatusOr<sampler::ProcessConfig> config = sampler::ComputeProcessConfig(decoder_);
    if (!config.ok()) return config.status();
    return config->record;
  }

  // What BPF would put in an event for the thread (fsbase, tid).
  std::unique_ptr<pyhang_stack> BpfWalk(const pyhang_proc_config& config, uint64_t fsbase,
                                        uint32_t tid = kTid) {
    auto stack = std::make_unique<pyhang_stack>();
    __u8 buffer[PYHANG_FRAME_BUF_SIZE] = {};
    __u32 error = pyhang_read_stack(&config, fsbase, tid, stack.get(), buffer);
    EXPECT_EQ(error, stack->error);
    return stack;
  }

  // The same stack as the sampler would hand it on.
  absl::StatusOr<python::RawWalk> Interpret(const pyhang_stack& stack) {
    return sampler::InterpretStack(decoder_.walker(),
                                   sampler::DecodeStack(stack, stack.frame_count));
  }

  python::RawWalk Reference(uint64_t tstate) {
    uint64_t top = decoder_.walker().TopFrame(tstate).value();
    return decoder_.walker().WalkRaw(top, {}).value();
  }

  static void ExpectSameFrames(const python::RawWalk& bpf, const python::RawWalk& reference,
                               size_t count) {
    ASSERT_GE(bpf.frames.size(), count);
    ASSERT_GE(reference.frames.size(), count);
    for (size_t i = 0; i < count; ++i) {
      SCOPED_TRACE(i);
      EXPECT_EQ(bpf.frames[i].frame_address, reference.frames[i].frame_address);
      EXPECT_EQ(bpf.frames[i].code_address, reference.frames[i].code_address);
      EXPECT_EQ(bpf.frames[i].instruction, reference.frames[i].instruction);
      EXPECT_EQ(bpf.frames[i].is_generator, reference.frames[i].is_generator);
    }
  }

  FakePython fake_;
  python::Decoder decoder_;
};

TEST_P(BpfWalkTest, AgreesWithFrameWalker) {
  uint64_t pthread = 0;
  uint64_t tstate = AddThread(/*key=*/1, &pthread);
  PushMixedChain(tstate);
  absl::StatusOr<pyhang_proc_config> config = Config();
  ASSERT_TRUE(config.ok()) << config.status();

  std::unique_ptr<pyhang_stack> stack = BpfWalk(*config, pthread);
  EXPECT_EQ(stack->error, PYHANG_OK) << sampler::ErrorName(stack->error);
  EXPECT_EQ(stack->tstate, tstate);
  EXPECT_EQ(stack->flags, 0);
  absl::StatusOr<python::RawWalk> bpf = Interpret(*stack);
  ASSERT_TRUE(bpf.ok()) << bpf.status();
  python::RawWalk reference = Reference(tstate);
  EXPECT_EQ(bpf->frames.size(), reference.frames.size());
  ExpectSameFrames(*bpf, reference, reference.frames.size());
  EXPECT_EQ(bpf->error, reference.error);
  EXPECT_FALSE(bpf->truncated);

  // The user-visible frames, innermost first.
  std::vector<std::string> names;
  for (const python::RawFrame& raw : bpf->frames) {
    names.push_back(decoder_.walker().Symbolize(raw).value().function);
  }
  std::vector<std::string> expected = {"handle", "serve", "<module>"};
  if (interpreter_frames()) expected = {"handle", "produce", "serve", "<module>"};
  EXPECT_EQ(names, expected);
}

TEST_P(BpfWalkTest, ThreadWithoutPythonFrames) {
  uint64_t pthread = 0;
  uint64_t tstate = AddThread(/*key=*/0, &pthread);
  pyhang_proc_config config = Config().value();
  std::unique_ptr<pyhang_stack> stack = BpfWalk(config, pthread);
  EXPECT_EQ(stack->error, PYHANG_OK);
  EXPECT_EQ(stack->tstate, tstate);
  EXPECT_EQ(stack->frame_count, 0);
}

TEST_P(BpfWalkTest, KeysBeyondTheFirstBlockGoThroughSpecific) {
  uint64_t pthread = 0;
  uint64_t tstate = AddThread(/*key=*/45, &pthread);
  PushMixedChain(tstate);
  absl::StatusOr<sampler::ProcessConfig> config = sampler::ComputeProcessConfig(decoder_);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->tss_layout_derived);
  EXPECT_EQ(config->record.tss_key, 45);
  std::unique_ptr<pyhang_stack> stack = BpfWalk(config->record, pthread);
  EXPECT_EQ(stack->error, PYHANG_OK) << sampler::ErrorName(stack->error);
  EXPECT_EQ(stack->tstate, tstate);
  ExpectSameFrames(Interpret(*stack).value(), Reference(tstate), Reference(tstate).frames.size());
}

TEST_P(BpfWalkTest, RejectsAThreadStateOfAnotherThread) {
  uint64_t pthread = 0;
  AddThread(/*key=*/2, &pthread);
  pyhang_proc_config config = Config().value();
  uint64_t other = fake_.AddThread(0x7f00deadb000, kTid);
  SetSpecific(pthread, 2, other);  // stale slot: names a tstate of another pthread
  std::unique_ptr<pyhang_stack> stack = BpfWalk(config, pthread);
  EXPECT_EQ(stack->error, PYHANG_ERR_TSTATE_THREAD_ID);
  EXPECT_EQ(stack->tstate, 0u);
  EXPECT_EQ(stack->frame_count, 0);
}

TEST_P(BpfWalkTest, ChecksTheNativeThreadIdWhereItExists) {
  uint64_t pthread = 0;
  AddThread(/*key=*/2, &pthread);
  pyhang_proc_config config = Config().value();
  std::unique_ptr<pyhang_stack> stack = BpfWalk(config, pthread, kTid + 1);
  EXPECT_EQ(stack->error, python::Has(o().tstate_native_thread_id)
                              ? static_cast<uint32_t>(PYHANG_ERR_TSTATE_NATIVE_ID)
                              : static_cast<uint32_t>(PYHANG_OK));
}

TEST_P(BpfWalkTest, ThreadWithoutThreadState) {
  uint64_t pthread = 0;
  AddThread(/*key=*/3, &pthread);
  pyhang_proc_config config = Config().value();
  uint64_t c_thread = MakePthread();  // a thread Python never bound
  EXPECT_EQ(BpfWalk(config, c_thread)->error, PYHANG_ERR_NO_TSTATE);
  EXPECT_EQ(BpfWalk(config, 0x10)->error, PYHANG_ERR_TSS_READ);  // unmapped thread pointer

  config.tss_key = PYHANG_ABSENT;
  EXPECT_EQ(BpfWalk(config, pthread)->error, PYHANG_ERR_TSS_KEY);
}

TEST_P(BpfWalkTest, TruncatesDeepChainsAtTheCap) {
  uint64_t pthread = 0;
  uint64_t tstate = AddThread(/*key=*/1, &pthread);
  uint64_t code = fake_.Code("recurse", "/app/r.py", 3);
  for (int i = 0; i < PYHANG_MAX_FRAMES + 20; ++i) fake_.PushFrame(tstate, code);
  pyhang_proc_config config = Config().value();
  std::unique_ptr<pyhang_stack> stack = BpfWalk(config, pthread);
  EXPECT_EQ(stack->error, PYHANG_ERR_TRUNCATED);
  EXPECT_EQ(stack->flags & PYHANG_STACK_TRUNCATED, PYHANG_STACK_TRUNCATED);
  EXPECT_EQ(stack->frame_count, PYHANG_MAX_FRAMES);
  python::RawWalk bpf = Interpret(*stack).value();
  EXPECT_TRUE(bpf.truncated);
  EXPECT_TRUE(bpf.error.empty());
  ExpectSameFrames(bpf, Reference(tstate), PYHANG_MAX_FRAMES);
}

TEST_P(BpfWalkTest, UnreadableFrameCutsTheChainKeepingWhatWasRead) {
  uint64_t pthread = 0;
  uint64_t tstate = AddThread(/*key=*/1, &pthread);
  uint64_t bottom = fake_.PushFrame(tstate, fake_.Code("a", "a.py", 5));
  fake_.PushFrame(tstate, fake_.Code("b", "b.py", 6));
  fake_.SetPrevious(bottom, 0xdead0000);
  pyhang_proc_config config = Config().value();
  std::unique_ptr<pyhang_stack> stack = BpfWalk(config, pthread);
  EXPECT_EQ(stack->error, PYHANG_ERR_FRAME_READ);
  EXPECT_EQ(stack->frame_count, 2);
  python::RawWalk bpf = Interpret(*stack).value();
  python::RawWalk reference = Reference(tstate);
  EXPECT_FALSE(reference.error.empty());
  EXPECT_THAT(bpf.error, HasSubstr("frame_read"));
  EXPECT_EQ(bpf.frames.size(), reference.frames.size());
  ExpectSameFrames(bpf, reference, reference.frames.size());
}

TEST_P(BpfWalkTest, LoopingChainIsCutWhereFrameWalkerCutsIt) {
  uint64_t pthread = 0;
  uint64_t tstate = AddThread(/*key=*/1, &pthread);
  uint64_t bottom = fake_.PushFrame(tstate, fake_.Code("a", "a.py", 5));
  fake_.PushFrame(tstate, fake_.Code("b", "b.py", 6));
  uint64_t top = fake_.PushFrame(tstate, fake_.Code("c", "c.py", 7));
  fake_.SetPrevious(bottom, top);
  pyhang_proc_config config = Config().value();
  std::unique_ptr<pyhang_stack> stack = BpfWalk(config, pthread);
  EXPECT_EQ(stack->error, PYHANG_ERR_TRUNCATED);  // BPF keeps no visited set
  python::RawWalk bpf = Interpret(*stack).value();
  python::RawWalk reference = Reference(tstate);
  EXPECT_THAT(bpf.error, HasSubstr("loops"));
  EXPECT_EQ(bpf.error, reference.error);
  EXPECT_FALSE(bpf.truncated);
  ASSERT_EQ(bpf.frames.size(), 3u);
  ExpectSameFrames(bpf, reference, 3);
}

TEST_P(BpfWalkTest, GarbageCodePointerEndsTheChainLikeFrameWalker) {
  uint64_t pthread = 0;
  uint64_t tstate = AddThread(/*key=*/1, &pthread);
  fake_.PushFrame(tstate, fake_.Code("a", "a.py", 5));
  uint64_t broken = fake_.PushFrame(tstate, fake_.Code("b", "b.py", 6));
  fake_.PushFrame(tstate, fake_.Code("c", "c.py", 7));
  fake_.PutU64(broken + o().frame_code, fake_.Allocate(64));  // not a code object
  pyhang_proc_config config = Config().value();
  python::RawWalk bpf = Interpret(*BpfWalk(config, pthread)).value();
  python::RawWalk reference = Reference(tstate);
  EXPECT_FALSE(reference.error.empty());
  EXPECT_EQ(bpf.error, reference.error);
  ASSERT_EQ(bpf.frames.size(), 1u);
  ExpectSameFrames(bpf, reference, 1);
}

TEST_P(BpfWalkTest, RejectsACopyPlanThatMissesAField) {
  uint64_t pthread = 0;
  AddThread(/*key=*/1, &pthread);
  pyhang_proc_config config = Config().value();
  config.frame_read_size = 8;
  EXPECT_EQ(BpfWalk(config, pthread)->error, PYHANG_ERR_BAD_CONFIG);
  config.frame_read_size = PYHANG_FRAME_READ_MAX + 8;
  EXPECT_EQ(BpfWalk(config, pthread)->error, PYHANG_ERR_BAD_CONFIG);
}

TEST_P(BpfWalkTest, DerivesAnotherGlibcLayout) {
  const TssLayout other{0x300, 0x500};
  uint64_t pthread = MakePthread(other);
  uint64_t tstate = fake_.AddThread(pthread, kTid);
  SetSpecific(pthread, 5, tstate, other);
  SetTssKey(5);
  absl::StatusOr<sampler::ProcessConfig> config = sampler::ComputeProcessConfig(decoder_);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->tss_layout_derived);
  EXPECT_EQ(config->record.tls_specific_1stblock, 0x300);
  EXPECT_EQ(config->record.tls_specific, 0x500);
  EXPECT_TRUE(config->warnings.empty());
  EXPECT_EQ(BpfWalk(config->record, pthread)->tstate, tstate);
}

TEST_P(BpfWalkTest, FallsBackToGlibc236WithAWarning) {
  uint64_t pthread = fake_.Allocate(0x1000);  // no specific[0] self-pointer: not glibc
  uint64_t tstate = fake_.AddThread(pthread, kTid);
  fake_.PutU64(pthread + 0x318, tstate);
  SetTssKey(0);
  absl::StatusOr<sampler::ProcessConfig> config = sampler::ComputeProcessConfig(decoder_);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->tss_layout_derived);
  EXPECT_EQ(config->record.tls_specific_1stblock, 0x310);
  ASSERT_EQ(config->warnings.size(), 1u);
  EXPECT_THAT(config->warnings[0], HasSubstr("glibc 2.36"));
}

TEST_P(BpfWalkTest, UninitializedTssKeyIsReported) {
  fake_.AddThread(MakePthread(), kTid);
  absl::StatusOr<sampler::ProcessConfig> config = sampler::ComputeProcessConfig(decoder_);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->record.tss_key, PYHANG_ABSENT);
  ASSERT_FALSE(config->warnings.empty());
  EXPECT_THAT(config->warnings[0], HasSubstr("TSS key"));
}

// Every supported version (python/versions.h) whose thread states BPF
// finds through CPython's pthread TSS key. 3.15+ keep them in a thread-local
// instead, which the fake image has no code or TLS block for; only the live
// sampler test (sampler_integration_test.cc, sid-3.15) covers that path.
std::vector<int> MinorsWithTssKey() {
  std::vector<int> minors;
  for (int minor : SupportedMinors()) {
    std::optional<python::PyOffsets> offsets = python::BuiltinOffsets({3, minor, 0});
    if (offsets && python::Has(offsets->runtime_tss_key)) minors.push_back(minor);
  }
  return minors;
}

INSTANTIATE_TEST_SUITE_P(AllLayouts, BpfWalkTest, ::testing::ValuesIn(MinorsWithTssKey()),
                         [](const auto& info) { return "py3" + std::to_string(info.param); });

// 3.15+: no TSS key; each thread's tstate is the thread-local
// _Py_tss_gilstate. ComputeProcessConfig reads its place off the code of
// PyGILState_GetThisThreadState (the exact bytes of Debian's builds), and
// the BPF walk must then find every thread's tstate through it.
class BpfWalkTlsTest : public BpfWalkTest {
 protected:
  // A struct pthread with room below it for the static TLS block, as glibc
  // lays out the initial thread's TLS on x86_64 (variant II).
  uint64_t MakeTlsPthread() { return fake_.Allocate(0x2000) + 0x1000; }

  // The getter's code in the target; `bytes` its machine code.
  void PlaceGetter(const std::string& bytes) {
    uint64_t code = fake_.Allocate(bytes.size() + 16);
    fake_.reader().Poke(code, bytes.data(), bytes.size());
    fake_.runtime().gilstate_getter = code;
  }
};

TEST_P(BpfWalkTlsTest, StaticTlsOfTheInterpreterBinary) {
  // python3.15: endbr64; mov %fs:0xffffffffffffffd8,%rax; ret
  PlaceGetter(std::string("\xf3\x0f\x1e\xfa\x64\x48\x8b\x04\x25\xd8\xff\xff\xff\xc3", 14));
  uint64_t pthread = MakeTlsPthread();
  uint64_t tstate = fake_.AddThread(pthread, kTid);
  fake_.PutU64(pthread - 0x28, tstate);
  PushMixedChain(tstate);
  absl::StatusOr<sampler::ProcessConfig> config = sampler::ComputeProcessConfig(decoder_);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->tls_derived);
  EXPECT_EQ(config->record.tls_module, 0);
  EXPECT_EQ(config->record.tls_offset, -0x28);
  std::unique_ptr<pyhang_stack> stack = BpfWalk(config->record, pthread);
  EXPECT_EQ(stack->error, PYHANG_OK) << sampler::ErrorName(stack->error);
  EXPECT_EQ(stack->tstate, tstate);
  ExpectSameFrames(Interpret(*stack).value(), Reference(tstate), Reference(tstate).frames.size());
}

TEST_P(BpfWalkTlsTest, DynamicTlsOfASharedLibpython) {
  // libpython3.15.so: lea tls_index(%rip),%rdi; call __tls_get_addr;
  // mov 0x28(%rax),%rax, with tls_index = {module 2, offset 0} at GOT.
  const uint64_t got = fake_.Allocate(16);
  fake_.PutU64(got, 2);
  fake_.PutU64(got + 8, 0);
  std::string code("\xf3\x0f\x1e\xfa\x55\x48\x89\xe5\x48\x8d\x3d\0\0\0\0"
                   "\xe8\0\0\0\0\x5d\x48\x8b\x80\x28\0\0\0\xc3", 29);
  uint64_t code_address = fake_.Allocate(64);
  int32_t relative = static_cast<int32_t>(got - (code_address + 15));  // after the lea
  std::memcpy(code.data() + 11, &relative, 4);
  fake_.reader().Poke(code_address, code.data(), code.size());
  fake_.runtime().gilstate_getter = code_address;
  uint64_t pthread = MakeTlsPthread();
  uint64_t tstate = fake_.AddThread(pthread, kTid);
  // dtv = *(tp + 8); libpython's block = dtv[2].val; the variable at +0x28.
  uint64_t dtv = fake_.Allocate(64);
  uint64_t block = fake_.Allocate(0x100);
  fake_.PutU64(pthread + 8, dtv);
  fake_.PutU64(dtv + 16 * 2, block);
  fake_.PutU64(block + 0x28, tstate);
  PushMixedChain(tstate);
  absl::StatusOr<sampler::ProcessConfig> config = sampler::ComputeProcessConfig(decoder_);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->record.tls_module, 2);
  EXPECT_EQ(config->record.tls_offset, 0x28);
  std::unique_ptr<pyhang_stack> stack = BpfWalk(config->record, pthread);
  EXPECT_EQ(stack->error, PYHANG_OK) << sampler::ErrorName(stack->error);
  EXPECT_EQ(stack->tstate, tstate);
  ExpectSameFrames(Interpret(*stack).value(), Reference(tstate), Reference(tstate).frames.size());

  // A thread whose libpython TLS block is not allocated yet (glibc: -1).
  uint64_t other = MakeTlsPthread();
  uint64_t other_dtv = fake_.Allocate(64);
  fake_.PutU64(other + 8, other_dtv);
  fake_.PutU64(other_dtv + 16 * 2, ~uint64_t{0});
  EXPECT_EQ(BpfWalk(config->record, other)->error, PYHANG_ERR_NO_TSTATE);
}

TEST_P(BpfWalkTlsTest, UnknownGetterCodeRefusesToSample) {
  PlaceGetter(std::string(32, '\x90'));  // nops: no TLS load to be found
  uint64_t pthread = MakeTlsPthread();
  fake_.AddThread(pthread, kTid);
  absl::StatusOr<sampler::ProcessConfig> config = sampler::ComputeProcessConfig(decoder_);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("BPF sampling is not possible"));
}

std::vector<int> MinorsWithThreadLocalTstate() {
  std::vector<int> minors;
  for (int minor : SupportedMinors()) {
    std::optional<python::PyOffsets> offsets = python::BuiltinOffsets({3, minor, 0});
    if (offsets && !python::Has(offsets->runtime_tss_key)) minors.push_back(minor);
  }
  return minors;
}

INSTANTIATE_TEST_SUITE_P(ThreadLocalTstate, BpfWalkTlsTest,
                         ::testing::ValuesIn(MinorsWithThreadLocalTstate()),
                         [](const auto& info) { return "py3" + std::to_string(info.param); });

}  // namespace
}  // namespace pyhang::testing
