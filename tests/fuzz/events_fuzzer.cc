// events_fuzzer: the input is one BPF ring-buffer record (bpf/pyhang_abi.h:
// a sample, an off-CPU interval, a thread exit, a native stack) as
// sampler::DecodeEvent receives it, and at the same time the output of
// the native-snapshot task iterator (ParseNativeRecords). A decoded
// Python stack is then interpreted and symbolized (InterpretStack,
// SymbolizeStack) against a fake interpreter of the layout the record's
// pid picks (tests/unit/fake_python: one per supported 3.x, built once).
//
// Invariants: a record is accepted only if it is as long as its frame
// count says, the frames are the record's own bytes, a native stack is
// within PYHANG_NATIVE_STACK_MAX and inside the record; symbolizing never
// gives more frames than the record had; and where the record's frames
// are exactly the fake thread's chain in memory, the BPF-side
// interpretation gives the frames the userspace walk (WalkRaw) gives,
// which is what stack_frames.h promises.
//
// Seeds (--make-seeds=DIR): for each layout a sample and an off-CPU event
// whose frames are the fake thread's real chain (read from the image as
// the BPF walker copies them), one cut short and one with a frame count
// past its length; a thread exit, a native stack record, an unknown type.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/unit/fake_python.h"
#include "userspace/python/frame_walker.h"
#include "userspace/sampler/events.h"
#include "userspace/sampler/native_snapshot.h"
#include "userspace/sampler/stack_frames.h"

namespace {

using pyhang::python::FrameFields;
using pyhang::python::Has;
using pyhang::sampler::PythonStack;
using pyhang::testing::FakePython;

// A fake interpreter with one thread whose chain events may copy.
struct Target {
  std::unique_ptr<FakePython> fake;
  std::vector<FrameFields> chain;  // innermost first, as BPF copies it
};

uint64_t ReadU64(FakePython& fake, uint64_t address) {
  uint64_t value = 0;
  (void)fake.reader().Read(address, absl::MakeSpan(reinterpret_cast<std::byte*>(&value), 8));
  return value;
}

// The fields of the frame at `address`, as the BPF walker copies them.
FrameFields FieldsAt(FakePython& fake, uint64_t address) {
  const pyhang::python::PyOffsets& o = fake.offsets();
  FrameFields fields;
  fields.frame_address = address;
  fields.code = ReadU64(fake, address + o.frame_code);
  fields.instr_field = Has(o.frame_instr) ? ReadU64(fake, address + o.frame_instr) : 0;
  fields.owner = Has(o.frame_owner) ? static_cast<uint8_t>(ReadU64(fake, address + o.frame_owner)) : 0;
  return fields;
}

Target MakeTarget(int minor) {
  Target target;
  target.fake = std::make_unique<FakePython>(*pyhang::python::PythonVersion::Parse(absl::StrCat("3.", minor, ".1")));
  FakePython& fake = *target.fake;
  uint64_t tstate = fake.AddThread(0x7f0000001000, 42);
  const char* names[] = {"<module>", "main", "serve", "handle", "parse"};
  uint64_t frame = 0;
  for (int i = 0; i < 5; ++i) frame = fake.PushFrame(tstate, fake.Code(names[i], "/srv/app.py", 10 * (i + 1)));
  for (uint64_t at = frame; at != 0; at = ReadU64(fake, at + fake.offsets().frame_previous)) {
    target.chain.push_back(FieldsAt(fake, at));
  }
  return target;
}

std::vector<Target>& Targets() {
  static std::vector<Target>* targets = [] {
    auto* made = new std::vector<Target>;
    for (int minor : pyhang::testing::SupportedMinors()) made->push_back(MakeTarget(minor));
    return made;
  }();
  return *targets;
}

// True if `stack` is exactly a chain of frames in the image, ending
// where the image's chain ends.
bool MatchesMemory(FakePython& fake, const PythonStack& stack) {
  if (stack.frames.empty() || stack.truncated) return false;
  for (size_t i = 0; i < stack.frames.size(); ++i) {
    const FrameFields& copied = stack.frames[i];
    FrameFields real = FieldsAt(fake, copied.frame_address);
    if (copied.code != real.code || copied.instr_field != real.instr_field || copied.owner != real.owner) {
      return false;
    }
    uint64_t previous = ReadU64(fake, copied.frame_address + fake.offsets().frame_previous);
    uint64_t next = i + 1 < stack.frames.size() ? stack.frames[i + 1].frame_address : 0;
    if (previous != next) return false;
  }
  return true;
}

void CheckStack(const PythonStack& stack, uint32_t pid) {
  FUZZ_CHECK(stack.frames.size() <= PYHANG_MAX_FRAMES);
  (void)pyhang::sampler::ErrorName(stack.error);
  Target& target = Targets()[pid % Targets().size()];
  FakePython& fake = *target.fake;
  pyhang::python::ObjectReader objects(fake.reader(), fake.offsets(), fake.runtime().types);
  pyhang::python::CodeCache codes(objects, fake.runtime());
  pyhang::python::FrameWalker walker(objects, codes, fake.runtime());
  absl::StatusOr<pyhang::sampler::SymbolizedStack> symbolized = pyhang::sampler::SymbolizeStack(walker, stack);
  FUZZ_CHECK(symbolized.ok());  // an image never vanishes
  FUZZ_CHECK(symbolized->frames.size() <= stack.frames.size());
  if (!MatchesMemory(fake, stack)) return;
  absl::StatusOr<pyhang::python::RawWalk> interpreted = pyhang::sampler::InterpretStack(walker, stack);
  absl::StatusOr<pyhang::python::RawWalk> walked =
      walker.WalkRaw(stack.frames.front().frame_address, {PYHANG_MAX_FRAMES});
  FUZZ_CHECK(interpreted.ok() && walked.ok());
  FUZZ_CHECK(interpreted->frames.size() == walked->frames.size());
  for (size_t i = 0; i < walked->frames.size(); ++i) {
    const pyhang::python::RawFrame& a = interpreted->frames[i];
    const pyhang::python::RawFrame& b = walked->frames[i];
    FUZZ_CHECK(a.frame_address == b.frame_address && a.code_address == b.code_address &&
               a.instruction == b.instruction && a.is_generator == b.is_generator);
  }
}

// The frames a record holds at `frames_at`, as DecodeEvent must give them.
void CheckFrames(absl::string_view record, size_t frames_at, const PythonStack& stack) {
  FUZZ_CHECK(record.size() >= frames_at + stack.frames.size() * sizeof(pyhang_frame));
  for (size_t i = 0; i < stack.frames.size(); ++i) {
    pyhang_frame raw;
    std::memcpy(&raw, record.data() + frames_at + i * sizeof(raw), sizeof(raw));
    const FrameFields& frame = stack.frames[i];
    FUZZ_CHECK(frame.frame_address == raw.frame_address && frame.code == raw.code &&
               frame.instr_field == raw.instr && frame.owner == raw.owner);
  }
}

void CheckEvent(absl::string_view record, const pyhang::sampler::Event& event) {
  if (const auto* sample = std::get_if<pyhang::sampler::Sample>(&event)) {
    CheckFrames(record, offsetof(pyhang_sample_event, stack.frames), sample->stack);
    CheckStack(sample->stack, sample->pid);
  } else if (const auto* off = std::get_if<pyhang::sampler::OffCpuEvent>(&event)) {
    CheckFrames(record, offsetof(pyhang_offcpu_event, stack.frames), off->stack);
    FUZZ_CHECK(off->DurationNs(off->start_ns) <= (off->end_ns > off->start_ns ? off->end_ns - off->start_ns : 0));
    CheckStack(off->stack, off->pid);
  } else if (const auto* native = std::get_if<pyhang::sampler::NativeStack>(&event)) {
    FUZZ_CHECK(native->copy.stack.size() <= PYHANG_NATIVE_STACK_MAX);
    FUZZ_CHECK(record.size() >= sizeof(pyhang_native_stack_event) + native->copy.stack.size());
  } else {
    FUZZ_CHECK(record.size() >= sizeof(pyhang_exit_event));
  }
}

std::string Raw(const void* data, size_t size) { return std::string(static_cast<const char*>(data), size); }

// A sample or off-CPU event of the pid-th layout's real chain.
template <typename T>
std::string EventOf(uint32_t type, uint32_t pid, size_t frames) {
  auto raw = std::make_unique<T>();
  raw->type = type;
  raw->pid = pid;
  raw->tid = 42;
  raw->stack.tstate = 0x10000100;
  const std::vector<FrameFields>& chain = Targets()[pid].chain;
  size_t count = std::min(frames, chain.size());
  raw->stack.frame_count = static_cast<uint16_t>(count);
  for (size_t i = 0; i < count; ++i) {
    raw->stack.frames[i] = {chain[i].frame_address, chain[i].code, chain[i].instr_field, chain[i].owner, {}};
  }
  return Raw(raw.get(), offsetof(T, stack.frames) + count * sizeof(pyhang_frame));
}

pyhang::fuzz::Seeds MakeSeeds() {
  pyhang::fuzz::Seeds seeds;
  for (uint32_t pid = 0; pid < Targets().size(); ++pid) {
    std::string name = absl::StrCat("3.", pyhang::testing::SupportedMinors()[pid], "-");
    std::string sample = EventOf<pyhang_sample_event>(PYHANG_EVENT_SAMPLE, pid, PYHANG_MAX_FRAMES);
    seeds[name + "sample"] = sample;
    seeds[name + "sample-cut"] = sample.substr(0, sample.size() - 8);
    seeds[name + "sample-top2"] = EventOf<pyhang_sample_event>(PYHANG_EVENT_SAMPLE, pid, 2);
    auto offcpu = std::make_unique<pyhang_offcpu_event>();
    std::string off = EventOf<pyhang_offcpu_event>(PYHANG_EVENT_OFFCPU, pid, PYHANG_MAX_FRAMES);
    std::memcpy(offcpu.get(), off.data(), off.size());
    offcpu->start_ns = 1000;
    offcpu->end_ns = 5000;
    offcpu->syscall_nr = 202;
    seeds[name + "offcpu"] = Raw(offcpu.get(), off.size());
  }
  pyhang_exit_event exit_event{PYHANG_EVENT_THREAD_EXIT, 7, 8, PYHANG_EXIT_PROCESS, 99};
  seeds["exit"] = Raw(&exit_event, sizeof(exit_event));
  pyhang_native_stack_event native{};
  native.type = PYHANG_EVENT_NATIVE_STACK;
  native.pid = 7;
  native.record.magic = PYHANG_NATIVE_MAGIC;
  native.record.tid = 8;
  native.record.stack_size = 64;
  native.record.regs[19] = 0x7ffd0000;  // rsp
  seeds["native"] = Raw(&native, sizeof(native)) + std::string(64, '\x11');
  native.record.stack_size = 1 << 20;
  seeds["native-too-big"] = Raw(&native, sizeof(native)) + std::string(64, '\x11');
  uint32_t unknown = 99;
  seeds["unknown"] = Raw(&unknown, sizeof(unknown));
  auto lying = std::make_unique<pyhang_sample_event>();
  lying->type = PYHANG_EVENT_SAMPLE;
  lying->stack.frame_count = PYHANG_MAX_FRAMES + 1;
  seeds["frame-count-too-big"] = Raw(lying.get(), sizeof(*lying));
  return seeds;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  pyhang::fuzz::MakeSeedsIfAsked(*argc, *argv, MakeSeeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  absl::string_view record(reinterpret_cast<const char*>(bytes), size);
  size_t copied = 0;
  for (const pyhang::target::StackCopy& copy : pyhang::sampler::ParseNativeRecords(record)) {
    FUZZ_CHECK(copy.stack.size() <= PYHANG_NATIVE_STACK_MAX);
    copied += sizeof(pyhang_native_record) + copy.stack.size();
  }
  FUZZ_CHECK(copied <= size);
  absl::StatusOr<pyhang::sampler::Event> event =
      pyhang::sampler::DecodeEvent(absl::MakeConstSpan(bytes, size));
  if (event.ok()) CheckEvent(record, *event);
  return 0;
}
