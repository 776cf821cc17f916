#include "userspace/analysis/lock_inspector.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "userspace/analysis/idle_patterns.h"

namespace pyhang::analysis {
namespace {

using memory::ReadPointer;
using python::Has;

constexpr int kCFunctionMethodDef = 16;  // PyCFunctionObject.m_ml (3.8-3.13)
constexpr int kMethodDefName = 0;        // PyMethodDef.ml_name
constexpr uint64_t kSemSize = 32;        // a futex inside [sem, sem + 32) is a wait on it
constexpr int kDescrType = 16;           // PyDescrObject.d_type (3.14+: LOAD_SPECIAL)
constexpr int kDescrName = 24;           // PyDescrObject.d_name
constexpr uint8_t kMutexLocked = 1;      // PyMutex _Py_LOCKED (3.13+)
constexpr uint8_t kMutexParked = 2;      // PyMutex _Py_HAS_PARKED: someone sleeps on it

std::string Where(const python::PyFrame& frame) {
  return absl::StrCat(frame.qualname, " (", frame.file, ":", frame.line, ")");
}

bool IsConditionWait(const python::PyFrame& frame) {
  return frame.function == "wait" && absl::EndsWith(frame.file, "threading.py");
}

bool IsJoin(const python::PyFrame& frame) {
  return (frame.function == "join" || frame.function == "_wait_for_tstate_lock") &&
         absl::EndsWith(frame.file, "threading.py");
}

}  // namespace

LockInspector::LockKind LockInspector::KindOf(uint64_t object) {
  if (object == 0 || object % 8 != 0) return LockKind::kNone;
  python::ObjectReader& objects = decoder_.objects();
  absl::StatusOr<uint64_t> type = objects.TypeOf(object);
  if (!type.ok() || *type == 0) return LockKind::kNone;
  if (auto it = kinds_by_type_.find(*type); it != kinds_by_type_.end()) return it->second;
  absl::StatusOr<std::string> name = objects.TypeName(object);
  LockKind kind = !name.ok() ? LockKind::kNone
                  : *name == "_thread.lock" ? LockKind::kLock
                  : *name == "_thread.RLock" ? LockKind::kRLock
                                              : LockKind::kNone;
  if (name.ok() && kinds_by_type_.size() < 4096) kinds_by_type_[*type] = kind;
  return kind;
}

LockRef LockInspector::Ref(uint64_t lock, LockKind kind) {
  LockRef ref;
  ref.address = lock;
  ref.type = kind == LockKind::kRLock ? "_thread.RLock" : "_thread.lock";
  const python::PyOffsets& o = decoder_.runtime().offsets;
  if (Has(o.lock_sem)) ref.futex = ReadPointer(decoder_.objects().reader(), lock + o.lock_sem).value_or(0);
  return ref;
}

bool LockInspector::IsHeld(uint64_t lock, LockKind kind) {
  const python::PyOffsets& o = decoder_.runtime().offsets;
  memory::MemoryReader& reader = decoder_.objects().reader();
  if (kind == LockKind::kRLock) return ReadPointer(reader, lock + o.rlock_owner).value_or(0) != 0;
  return (memory::ReadValue<uint8_t>(reader, lock + o.lock_locked).value_or(0) & kMutexLocked) != 0;
}

bool LockInspector::HasParkedWaiter(uint64_t lock) {
  const python::PyOffsets& o = decoder_.runtime().offsets;
  uint8_t state = memory::ReadValue<uint8_t>(decoder_.objects().reader(), lock + o.lock_locked).value_or(0);
  return (state & (kMutexLocked | kMutexParked)) == (kMutexLocked | kMutexParked);
}

bool LockInspector::OwnedBy(const LockSighting& sighting, const ThreadObservation& thread) {
  // Only an RLock records its owner; a thread never waits for an RLock it owns.
  if (sighting.kind != LockKind::kRLock) return false;
  const python::PyOffsets& o = decoder_.runtime().offsets;
  return ReadPointer(decoder_.objects().reader(), sighting.lock + o.rlock_owner).value_or(0) ==
         thread.thread_id;
}

bool LockInspector::IsExitDescriptorOf(uint64_t descriptor, uint64_t lock) {
  python::ObjectReader& objects = decoder_.objects();
  if (descriptor == 0 || descriptor % 8 != 0) return false;
  absl::StatusOr<std::string> type = objects.TypeName(descriptor);
  if (!type.ok() || *type != "method_descriptor") return false;
  memory::MemoryReader& reader = objects.reader();
  if (ReadPointer(reader, descriptor + kDescrType).value_or(0) != objects.TypeOf(lock).value_or(1)) return false;
  uint64_t name = ReadPointer(reader, descriptor + kDescrName).value_or(0);
  return name != 0 && objects.ReadString(name, 16).value_or("") == "__exit__";
}

std::vector<LockInspector::LockSighting> LockInspector::ScanFrame(const python::PyFrame& frame,
                                                                  bool locals_too) {
  std::vector<LockSighting> sightings;
  absl::StatusOr<const python::CodeInfo*> code = decoder_.codes().Get(frame.code_address);
  if (!code.ok() || frame.frame_address == 0) return sightings;
  const python::PyOffsets& o = decoder_.runtime().offsets;
  python::ObjectReader& objects = decoder_.objects();
  memory::MemoryReader& reader = objects.reader();
  const uint64_t locals = frame.frame_address + o.frame_localsplus;
  uint64_t stack = locals + static_cast<uint64_t>(std::max((*code)->nlocals, 0)) * 8;
  if (o.frame_model == PYHANG_FRAME_OBJECT) {
    stack = ReadPointer(reader, frame.frame_address + o.frame_valuestack).value_or(0);
  }
  size_t stack_slots = static_cast<size_t>(std::max((*code)->stacksize, 0));
  if (o.stacktop_format == PYHANG_STACKTOP_POINTER && o.frame_model == PYHANG_FRAME_INTERPRETER &&
      Has(o.frame_stacktop)) {
    // 3.14+: only the live part of the value stack, below stackpointer.
    uint64_t top = ReadPointer(reader, frame.frame_address + o.frame_stacktop).value_or(0);
    stack_slots = top > stack ? std::min<uint64_t>(stack_slots, (top - stack) / 8) : 0;
  }
  auto scan = [&](uint64_t base, size_t count, bool values_only) {
    if (base == 0 || count == 0) return;
    count = std::min(count, kMaxStackSlots);
    std::vector<uint64_t> slots(count);
    if (!reader.Read(base, absl::MakeSpan(reinterpret_cast<std::byte*>(slots.data()), count * 8)).ok()) return;
    if (o.tagged_frame_refs) {
      for (uint64_t& slot : slots) slot &= ~uint64_t{3};  // _PyStackRef tag bits
    }
    for (size_t i = 0; i < slots.size(); ++i) {
      uint64_t value = slots[i];
      if (LockKind kind = KindOf(value); kind != LockKind::kNone) {
        // 3.14+ `with lock:` keeps the unbound __exit__ descriptor and the
        // lock side by side (LOAD_SPECIAL), not a bound method.
        bool exit_pair = !values_only && i > 0 && IsExitDescriptorOf(slots[i - 1], value);
        sightings.push_back({value, kind, exit_pair, values_only});
        continue;
      }
      if (values_only || value == 0 || !objects.IsInstance(value, objects.types().cfunction).value_or(false)) continue;
      uint64_t self = ReadPointer(reader, value + o.cfunction_self).value_or(0);
      LockKind kind = KindOf(self);
      if (kind == LockKind::kNone) continue;
      uint64_t def = ReadPointer(reader, value + kCFunctionMethodDef).value_or(0);
      uint64_t name = def ? ReadPointer(reader, def + kMethodDefName).value_or(0) : 0;
      bool is_exit = name != 0 && memory::ReadCString(reader, name, 16).value_or("") == "__exit__";
      sightings.push_back({self, kind, is_exit, values_only});
    }
  };
  scan(stack, stack_slots, false);
  if (locals_too) scan(locals, static_cast<size_t>(std::max((*code)->nlocals, 0)), true);
  for (const LockSighting& sighting : sightings) seen_[sighting.lock] = sighting.kind;
  return sightings;
}

void LockInspector::FindWaitedLock(ThreadObservation& thread) {
  if (thread.verdict.state != threads::ThreadState::kLockWait || thread.frames.empty()) return;
  const uint64_t futex = thread.verdict.wait_address;
  thread.waits_for_notification = IsConditionWait(thread.frames.front());
  const bool has_sem = Has(decoder_.runtime().offsets.lock_sem);
  for (size_t i = 0; i < std::min<size_t>(2, thread.frames.size()); ++i) {
    std::vector<LockSighting> sightings = ScanFrame(thread.frames[i], /*locals_too=*/true);
    // The value stack from its top down, then the locals: the lock being
    // acquired is the `self` of the call in progress, the topmost one.
    // Locks held by the same frame (an outer `with`) sit below it.
    std::stable_partition(sightings.begin(), sightings.end(),
                          [](const LockSighting& s) { return !s.from_locals; });
    auto locals = std::find_if(sightings.begin(), sightings.end(),
                               [](const LockSighting& s) { return s.from_locals; });
    std::reverse(sightings.begin(), locals);
    for (const LockSighting& sighting : sightings) {
      LockRef ref = Ref(sighting.lock, sighting.kind);
      // <= 3.13 the kernel sleeps on the lock's own sem_t. 3.14+ PyMutex
      // waiters sleep on their own parking-lot semaphore; the lock they
      // wait for is the one marked "held, with a parked waiter".
      bool waited = has_sem ? ref.futex != 0 && futex >= ref.futex && futex < ref.futex + kSemSize
                            : HasParkedWaiter(sighting.lock) && !OwnedBy(sighting, thread);
      if (waited) {
        if (!has_sem) ref.futex = futex;
        thread.waiting_for = ref;
        return;
      }
    }
  }
  thread.waiting_for = LockRef{0, "", futex};
}

void LockInspector::AddWithBlockHolds(std::vector<ThreadObservation>& threads) {
  for (ThreadObservation& thread : threads) {
    absl::flat_hash_set<uint64_t> added;
    size_t scanned = 0;
    for (const python::PyFrame& frame : thread.frames) {
      if (++scanned > kMaxFramesScanned) break;
      for (const LockSighting& sighting : ScanFrame(frame, /*locals_too=*/false)) {
        if (!sighting.bound_exit || added.contains(sighting.lock)) continue;
        if (thread.waiting_for && thread.waiting_for->address == sighting.lock) continue;
        if (!IsHeld(sighting.lock, sighting.kind)) continue;
        added.insert(sighting.lock);
        thread.holds.push_back({Ref(sighting.lock, sighting.kind), OwnershipEvidence::kWithBlock,
                                absl::StrCat("inside a with block in ", Where(frame))});
      }
    }
  }
}

void LockInspector::AddRLockOwners(std::vector<ThreadObservation>& threads,
                                   const absl::flat_hash_set<uint64_t>& rlocks) {
  const python::PyOffsets& o = decoder_.runtime().offsets;
  for (uint64_t rlock : rlocks) {
    uint64_t owner = ReadPointer(decoder_.objects().reader(), rlock + o.rlock_owner).value_or(0);
    if (owner == 0) continue;
    for (ThreadObservation& thread : threads) {
      if (thread.thread_id != owner) continue;
      thread.holds.push_back({Ref(rlock, LockKind::kRLock), OwnershipEvidence::kRLockOwner,
                              "owner recorded in the RLock"});
    }
  }
}

void LockInspector::AddThreadLockOwners(std::vector<ThreadObservation>& threads) {
  // join() waits until the joined thread ends: that thread "holds" the wait.
  for (ThreadObservation& waiter : threads) {
    if (!waiter.waiting_for || waiter.frames.empty()) continue;
    for (size_t i = 0; i < std::min<size_t>(2, waiter.frames.size()); ++i) {
      const python::PyFrame& frame = waiter.frames[i];
      if (!IsJoin(frame)) continue;
      // `self`, the Thread being joined, is the first fast local.
      uint64_t self = ReadPointer(decoder_.objects().reader(),
                                  frame.frame_address + decoder_.runtime().offsets.frame_localsplus)
                          .value_or(0);
      uint64_t ident_object = self ? decoder_.objects().InstanceAttribute(self, "_ident").value_or(0) : 0;
      std::optional<int64_t> ident =
          ident_object ? decoder_.objects().ReadSmallInt(ident_object).value_or(std::nullopt) : std::nullopt;
      if (!ident) break;
      for (ThreadObservation& owner : threads) {
        if (owner.thread_id != static_cast<uint64_t>(*ident) || owner.tid == waiter.tid) continue;
        owner.holds.push_back({*waiter.waiting_for, OwnershipEvidence::kThreadStarted,
                               "thread still running: join() waits for it"});
      }
      break;
    }
  }
}

std::vector<std::string> LockInspector::Names(uint64_t code) {
  if (auto it = names_by_code_.find(code); it != names_by_code_.end()) return it->second;
  std::vector<std::string> names;
  uint64_t tuple = ReadPointer(decoder_.objects().reader(), code + decoder_.runtime().offsets.code_names).value_or(0);
  if (tuple != 0) {
    for (uint64_t item : decoder_.objects().ReadTupleItems(tuple, 1024).value_or(std::vector<uint64_t>{})) {
      names.push_back(decoder_.objects().ReadString(item, 256).value_or(""));
    }
  }
  if (names_by_code_.size() > 4096) names_by_code_.clear();
  names_by_code_[code] = names;
  return names;
}

bool LockInspector::CallsAcquire(uint64_t code) {
  std::vector<std::string> names = Names(code);
  return std::find(names.begin(), names.end(), "acquire") != names.end();
}

void LockInspector::AddInferredHolds(std::vector<ThreadObservation>& threads) {
  // Only locks that someone waits for and whose holder is still unknown.
  absl::flat_hash_set<uint64_t> wanted;
  for (const ThreadObservation& waiter : threads) {
    if (!waiter.waiting_for || waiter.waiting_for->address == 0 || waiter.waits_for_notification) continue;
    bool known = false;
    for (const ThreadObservation& other : threads) {
      for (const HeldLock& held : other.holds) known |= held.lock.address == waiter.waiting_for->address;
    }
    if (!known) wanted.insert(waiter.waiting_for->address);
  }
  if (wanted.empty()) return;
  const python::PyOffsets& o = decoder_.runtime().offsets;
  python::ObjectReader& objects = decoder_.objects();
  absl::flat_hash_map<uint64_t, absl::flat_hash_map<uint64_t, std::string>> wanted_names_by_globals;
  for (ThreadObservation& thread : threads) {
    absl::flat_hash_set<uint64_t> added;
    size_t scanned = 0;
    for (const python::PyFrame& frame : thread.frames) {
      if (++scanned > kMaxFramesScanned) break;
      if (!CallsAcquire(frame.code_address)) continue;
      std::vector<uint64_t> candidates;
      for (const LockSighting& sighting : ScanFrame(frame, /*locals_too=*/true)) candidates.push_back(sighting.lock);
      uint64_t globals = ReadPointer(objects.reader(), frame.frame_address + o.frame_globals).value_or(0);
      if (globals != 0 && !wanted_names_by_globals.contains(globals)) {
        auto& found = wanted_names_by_globals[globals];
        objects.ForEachDictEntry(globals, 1 << 14, [&](uint64_t key, uint64_t value) {
          if (wanted.contains(value)) found[value] = objects.ReadString(key, 256).value_or("");
          return true;
        }).IgnoreError();
      }
      std::vector<std::string> names = Names(frame.code_address);
      for (const auto& [lock, name] : wanted_names_by_globals[globals]) {
        if (std::find(names.begin(), names.end(), name) != names.end()) candidates.push_back(lock);
      }
      for (uint64_t lock : candidates) {
        if (!wanted.contains(lock) || added.contains(lock)) continue;
        if (thread.waiting_for && thread.waiting_for->address == lock) continue;
        LockKind kind = KindOf(lock);
        if (!IsHeld(lock, kind)) continue;
        added.insert(lock);
        thread.holds.push_back({Ref(lock, kind), OwnershipEvidence::kAcquireInCode,
                                absl::StrCat("acquire() called in ", Where(frame))});
      }
    }
  }
}

void LockInspector::Inspect(std::vector<ThreadObservation>& threads) {
  seen_.clear();
  for (ThreadObservation& thread : threads) FindWaitedLock(thread);
  // Holders only matter when someone waits for a lock (not a notification):
  // then scan every frame's value stack; otherwise skip that cost.
  bool someone_waits = false;
  for (const ThreadObservation& thread : threads) {
    someone_waits |= thread.waiting_for && !thread.waits_for_notification;
  }
  if (!someone_waits) return;
  AddWithBlockHolds(threads);
  absl::flat_hash_set<uint64_t> rlocks;
  for (const auto& [lock, kind] : seen_) {
    if (kind == LockKind::kRLock) rlocks.insert(lock);
  }
  AddRLockOwners(threads, rlocks);
  AddThreadLockOwners(threads);
  AddInferredHolds(threads);
}

}  // namespace pyhang::analysis
