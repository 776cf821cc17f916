// python_fuzzer: the decoder over a fake interpreter's memory
// (tests/unit/fake_python) that the fuzz bytes first shape and then
// corrupt. The first bytes pick the layout (every supported 3.x), the
// number of threads and frames, and hostile names (any code point, lone
// surrogates included); the image then holds thread states, frames, code
// objects with line tables, fast locals and co_names, a globals dict, and
// locals of every kind the value reader knows (str of each kind, bytes,
// int, float, tuple, list, dict, a list inside itself, locks, RLocks).
// The rest of the input is a list of patches, each writing a value (raw,
// a pointer into another object, a small number, 0, one byte) at one of
// the layout's own field offsets (or a word offset) inside one of the
// image's objects: garbage lands where the decoder looks.
//
// Then Decoder::ReadThreads runs (thread list, GIL, pthread tids, frame
// walker, code cache, line tables, locals and globals through the value
// reader, thread names) twice, the second time after BeginEpoch() (the
// code cache re-checks what it holds). Invariants: no crash or leak, the
// caps (threads, depth, name lengths, repr lengths) hold, every name and
// repr is valid UTF-8, and the second look says exactly what the first
// said (same memory, same answer).
//
// Seeds (--make-seeds=DIR): each layout with a few shapes and no patch,
// and a few with patches that make cycles and cut chains.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/unit/fake_python.h"
#include "userspace/python/code_cache.h"
#include "userspace/python/decoder.h"
#include "userspace/python/exception_reader.h"
#include "userspace/python/value_reader.h"

namespace {

using pyhang::fuzz::Bytes;
using pyhang::python::PyFrame;
using pyhang::python::PyThread;
using pyhang::testing::FakePython;

constexpr size_t kMaxDepth = 64;
constexpr size_t kMaxPatches = 64;
constexpr size_t kPatchBytes = 11;  // object, where, kind, 8 bytes of value

pyhang::python::PythonVersion VersionOf(uint8_t byte) {
  std::vector<int> minors = pyhang::testing::SupportedMinors();
  return *pyhang::python::PythonVersion::Parse(absl::StrCat("3.", minors[byte % minors.size()], ".1"));
}

// Text of code points taken from the input: Latin-1, UCS-2, astral or
// surrogate ones, as the input's `kind` byte says.
std::u32string HostileText(Bytes& input) {
  uint8_t kind = input.U8();
  std::string raw = input.String(24);
  std::u32string text;
  for (unsigned char c : raw) {
    switch (kind % 4) {
      case 0: text += static_cast<char32_t>(c); break;
      case 1: text += static_cast<char32_t>(c * 257); break;            // UCS-2, some surrogates
      case 2: text += static_cast<char32_t>(0x10000 + c * 0x100f); break;  // astral
      default: text += static_cast<char32_t>(0xd800 + c * 4); break;    // lone surrogates
    }
  }
  return text;
}

// The image the patches then corrupt, and the objects patches aim at.
struct Image {
  explicit Image(pyhang::python::PythonVersion version) : fake(version) {}
  FakePython fake;
  std::vector<uint64_t> objects;
  pyhang::python::TaskIds tasks;
};

uint64_t ReadU64(FakePython& fake, uint64_t address) {
  uint64_t value = 0;
  (void)fake.reader().Read(address, absl::MakeSpan(reinterpret_cast<std::byte*>(&value), 8));
  return value;
}

std::vector<uint64_t> Values(FakePython& fake, Bytes& input) {
  const pyhang::python::KnownTypes& types = fake.runtime().types;
  std::vector<uint64_t> values = {
      fake.Str(HostileText(input)),
      fake.Bytes(input.String(16)),
      fake.Int(input.Value<int64_t>()),
      fake.Float(input.Value<double>()),
      types.none_object,
      types.true_object,
      fake.Lock(input.U8() & 1),
      fake.RLock(0x1000, input.U8() % 3),
  };
  values.push_back(fake.Tuple({values[0], values[2], values[3]}));
  values.push_back(fake.Dict({{fake.Str(U"key"), values[1]}, {values[0], values[6]}}));
  uint64_t list = fake.List({values[2], values[8], 0});
  fake.PutU64(ReadU64(fake, list + fake.offsets().list_items) + 16, list);  // a list inside itself
  values.push_back(list);
  return values;
}

// Code, file and local names; the first function's name and file come
// from the input.
std::vector<uint64_t> Codes(FakePython& fake, Bytes& input) {
  std::u32string name = HostileText(input);
  std::u32string file = HostileText(input);
  std::string narrow_name, narrow_file;
  for (char32_t c : name) narrow_name += static_cast<char>(c & 0x7f);
  for (char32_t c : file) narrow_file += static_cast<char>(c & 0x7f);
  std::vector<uint64_t> codes;
  const std::vector<std::string> locals = {"self", "item", "count", "ratio", "lock", "rlock", "row", "table",
                                           "items"};
  for (int i = 0; i < 4; ++i) {
    uint64_t code = fake.Code(i == 0 ? narrow_name : absl::StrCat("function_", i),
                              i == 0 ? narrow_file : "/srv/app/module.py", 10 + 7 * i + input.U8() % 4,
                              locals, i, {"CONFIG", "table", "missing"});
    codes.push_back(code);
  }
  // The hostile code points themselves, as co_name of the first code.
  fake.PutU64(codes[0] + fake.offsets().code_name, fake.Str(name));
  fake.PutU64(codes[0] + fake.offsets().code_filename, fake.Str(file));
  return codes;
}

// The strings, tuples and tables a code object points to.
void AddInner(FakePython& fake, uint64_t code, std::vector<uint64_t>* objects) {
  const pyhang::python::PyOffsets& o = fake.offsets();
  for (int32_t offset : {o.code_name, o.code_filename, o.code_qualname, o.code_linetable, o.code_varnames,
                         o.code_localspluskinds, o.code_names}) {
    if (!pyhang::python::Has(offset)) continue;
    uint64_t inner = ReadU64(fake, code + offset);
    if (inner >= FakePython::kBase && inner < FakePython::kBase + FakePython::kSize) objects->push_back(inner);
  }
}

void Build(Image& image, Bytes& input) {
  FakePython& fake = image.fake;
  const pyhang::python::PyOffsets& o = fake.offsets();
  size_t thread_count = 1 + input.U8() % 4;
  size_t depth = input.U8() % 24;
  std::vector<uint64_t> values = Values(fake, input);
  std::vector<uint64_t> codes = Codes(fake, input);
  uint64_t globals = fake.Dict({{fake.Str(U"CONFIG"), values[9]}, {fake.Str(U"table"), values[10]}});
  image.objects = {fake.runtime_address(), fake.interp()};
  for (size_t t = 0; t < thread_count; ++t) {
    // thread_id is pthread_self(): a struct pthread holding the tid (the
    // pre-3.11 tid lookup scans it).
    uint64_t pthread = fake.Allocate(2048);
    int32_t tid = static_cast<int32_t>(100 + t);
    fake.PutI32(pthread + 0x2d0, tid);
    uint64_t tstate = fake.AddThread(pthread, tid);
    image.tasks.host_tid_of[tid] = 5000 + tid;
    image.objects.push_back(tstate);
    image.objects.push_back(pthread);
    for (size_t d = 0; d < depth; ++d) {
      uint64_t frame = fake.PushFrame(tstate, codes[(d + t) % codes.size()], 9);
      fake.SetLocals(frame, {values[(d + 0) % values.size()], values[(d + 2) % values.size()], values[2],
                             values[3], values[6], values[7], values[8], values[9], values[10]});
      fake.SetGlobals(frame, globals);
      image.objects.push_back(frame);
    }
  }
  for (uint64_t code : codes) {
    image.objects.push_back(code);
    AddInner(fake, code, &image.objects);
  }
  image.objects.insert(image.objects.end(), values.begin(), values.end());
  image.objects.push_back(globals);
  if (o.gil_location == PYHANG_GIL_INTERP_POINTER) {
    if (uint64_t gil = ReadU64(fake, fake.interp() + o.interp_gil)) image.objects.push_back(gil);
  }
}

// Every offset of the layout: where patches write, more often than not.
std::vector<int32_t> FieldOffsets(const pyhang::python::PyOffsets& o) {
  constexpr size_t first = offsetof(pyhang::python::PyOffsets, runtime_interpreters_head);
  std::vector<int32_t> all((sizeof(o) - first) / 4);
  std::memcpy(all.data(), reinterpret_cast<const char*>(&o) + first, all.size() * 4);
  std::vector<int32_t> offsets;
  for (int32_t offset : all) {
    if (offset >= 0) offsets.push_back(offset);
  }
  return offsets;
}

void Patch(Image& image, Bytes& input) {
  FakePython& fake = image.fake;
  std::vector<int32_t> fields = FieldOffsets(fake.offsets());
  for (size_t i = 0; i < kMaxPatches && input.size() >= kPatchBytes; ++i) {
    uint64_t object = image.objects[input.U8() % image.objects.size()];
    uint8_t where = input.U8();
    uint8_t kind = input.U8();
    uint64_t value = input.Value<uint64_t>();
    uint64_t at = object + ((where & 1) ? fields[(where >> 1) % fields.size()] : (where >> 1) * 8);
    switch (kind % 6) {
      case 0: fake.PutU64(at, value); break;
      case 1: fake.PutU64(at, image.objects[value % image.objects.size()] + ((value >> 32) % 64)); break;
      case 2: fake.PutU64(at, value & 0xffff); break;
      case 3: fake.PutU64(at, 0); break;
      case 4: fake.PutU8(at, static_cast<uint8_t>(value)); break;
      default: fake.PutI32(at, static_cast<int32_t>(value)); break;
    }
  }
}

bool IsUtf8(const std::string& text) {
  for (size_t i = 0; i < text.size();) {
    unsigned char c = text[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > text.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}

void CheckFrame(const PyFrame& frame, const pyhang::python::ReprLimits& limits) {
  using pyhang::python::CodeCache;
  FUZZ_CHECK(frame.function.size() <= 4 * CodeCache::kMaxNameChars);
  FUZZ_CHECK(frame.qualname.size() <= 4 * CodeCache::kMaxNameChars);
  FUZZ_CHECK(frame.file.size() <= 4 * CodeCache::kMaxFilenameChars);
  FUZZ_CHECK(IsUtf8(frame.function) && IsUtf8(frame.qualname) && IsUtf8(frame.file));
  for (const auto* list : {&frame.locals, &frame.globals}) {
    for (const pyhang::python::LocalVariable& local : *list) {
      FUZZ_CHECK(local.value != nullptr);
      FUZZ_CHECK(pyhang::python::CodePoints(local.value->repr) <= limits.max_repr + 3);
      FUZZ_CHECK(IsUtf8(local.name));
    }
  }
  FUZZ_CHECK(frame.globals.size() <= pyhang::python::FrameWalker::kMaxGlobalsPerFrame);
}

// What a look said, as text: two looks must give the same.
std::string Describe(const std::vector<PyThread>& threads) {
  std::string text;
  for (const PyThread& thread : threads) {
    absl::StrAppend(&text, thread.tstate_address, " ", thread.tid, " ", thread.ns_tid, " ", thread.name, " ",
                    int{thread.holds_gil}, " ", int{thread.truncated}, " ", thread.walk_error, "\n");
    for (const PyFrame& frame : thread.frames) {
      absl::StrAppend(&text, "  ", frame.qualname, " ", frame.file, ":", frame.line, " ", int{frame.entry}, "\n");
      for (const auto& local : frame.locals) absl::StrAppend(&text, "    ", local.name, "=", local.value->repr, "\n");
      for (const auto& global : frame.globals) absl::StrAppend(&text, "    g ", global.name, "=", global.value->repr, "\n");
    }
  }
  return text;
}

void Decode(Image& image) {
  pyhang::python::Decoder decoder(image.fake.reader(), image.fake.runtime());
  pyhang::python::DecodeOptions options;
  options.walk.max_depth = kMaxDepth;
  options.locals = true;
  options.globals = true;
  options.exceptions = true;
  absl::StatusOr<std::vector<PyThread>> threads = decoder.ReadThreads(options, image.tasks);
  if (!threads.ok()) return;
  FUZZ_CHECK(threads->size() <= pyhang::python::ThreadList::kMaxThreads);
  for (const PyThread& thread : *threads) {
    FUZZ_CHECK(thread.frames.size() <= kMaxDepth);
    FUZZ_CHECK(IsUtf8(thread.name));
    for (const PyFrame& frame : thread.frames) CheckFrame(frame, options.repr);
    if (thread.handling) {
      FUZZ_CHECK(thread.handling->chain.size() <= pyhang::python::ExceptionReader::kMaxChain);
      for (const auto& link : thread.handling->chain) {
        FUZZ_CHECK(pyhang::python::CodePoints(link.message) <= options.repr.max_repr + 3);
        FUZZ_CHECK(link.type.size() <= 5 * options.repr.max_string + 1);  // tp_name, and __module__ in UTF-8
      }
    }
  }
  decoder.codes().BeginEpoch();
  absl::StatusOr<std::vector<PyThread>> again = decoder.ReadThreads(options, image.tasks);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(Describe(*threads) == Describe(*again));
}

// A seed's first bytes, in the order Build() takes them: minor, thread
// count, depth; Values' str (kind, length, text), bytes, int, float, lock
// bits; Codes' name and file (kind, length, text) and four line offsets.
std::string Header(uint8_t minor, uint8_t threads, uint8_t depth, uint8_t text_kind = 0) {
  std::string header{static_cast<char>(minor), static_cast<char>(threads), static_cast<char>(depth)};
  header += std::string{static_cast<char>(text_kind), 5} + "h\xe9llo";
  header += std::string("\x04b\0yt", 5);
  int64_t number = 42;
  double ratio = 1.5;
  header.append(reinterpret_cast<const char*>(&number), 8);
  header.append(reinterpret_cast<const char*>(&ratio), 8);
  header += "\x01\x02";
  header += std::string("\x00\x07", 2) + "handler" + std::string("\x00\x0b", 2) + "/srv/app.py";
  return header + std::string("\x01\x02\x03\x00", 4);
}

std::string PatchBytes(uint8_t object, uint8_t where, uint8_t kind, uint64_t value) {
  std::string patch{static_cast<char>(object), static_cast<char>(where), static_cast<char>(kind)};
  patch.append(reinterpret_cast<const char*>(&value), 8);
  return patch;
}

pyhang::fuzz::Seeds MakeSeeds() {
  pyhang::fuzz::Seeds seeds;
  size_t minors = pyhang::testing::SupportedMinors().size();
  for (uint8_t m = 0; m < minors; ++m) {
    std::string name = absl::StrCat("3.", pyhang::testing::SupportedMinors()[m], "-");
    seeds[name + "one-thread"] = Header(m, 0, 3);
    seeds[name + "four-threads"] = Header(m, 3, 12);
    seeds[name + "surrogates"] = Header(m, 1, 5, 3);
    seeds[name + "astral"] = Header(m, 2, 2, 2);
    // Patches: a frame's previous pointer at an earlier frame (a cycle),
    // a code pointer cut, a length made huge, a word of garbage.
    std::string patched = Header(m, 1, 6);
    patched += PatchBytes(5, 1, 1, 3);
    patched += PatchBytes(7, 3, 3, 0);
    patched += PatchBytes(30, 9, 0, ~uint64_t{0});
    patched += PatchBytes(40, 4, 2, 0xfff);
    seeds[name + "patched"] = patched;
  }
  return seeds;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  pyhang::fuzz::MakeSeedsIfAsked(*argc, *argv, MakeSeeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  Bytes input(absl::string_view(reinterpret_cast<const char*>(bytes), size));
  Image image(VersionOf(input.U8()));
  Build(image, input);
  Patch(image, input);
  Decode(image);
  return 0;
}
