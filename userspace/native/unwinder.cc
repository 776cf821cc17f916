#include "userspace/native/unwinder.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include <cstdlib>
#include <optional>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "userspace/common/clock.h"
#include "userspace/common/log.h"
#include "userspace/process/maps.h"

namespace pyhang::native {

namespace {

constexpr size_t kMaxInlineDepth = 32;
constexpr size_t kMaxNameLength = 512;

std::string Demangle(const char* name) {
  if (name == nullptr) return "";
  if (name[0] == '_' && name[1] == 'Z') {
    int status = 0;
    char* demangled = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (status == 0 && demangled != nullptr) {
      std::string result(demangled);
      std::free(demangled);
      // gdb names a C++ function without its parameter list.
      if (size_t paren = result.find('('); paren != std::string::npos && paren > 0) result.resize(paren);
      return result.substr(0, kMaxNameLength);
    }
    std::free(demangled);
  }
  return std::string(name).substr(0, kMaxNameLength);
}

// A DIE's function name, following DW_AT_abstract_origin/specification.
std::string DieName(Dwarf_Die* die) {
  Dwarf_Attribute attribute;
  for (int name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
    if (dwarf_attr_integrate(die, name, &attribute) != nullptr) {
      if (const char* text = dwarf_formstring(&attribute)) return Demangle(text);
    }
  }
  if (dwarf_attr_integrate(die, DW_AT_name, &attribute) != nullptr) {
    if (const char* text = dwarf_formstring(&attribute)) return std::string(text).substr(0, kMaxNameLength);
  }
  return "";
}

}  // namespace

// A frame as the unwinder found it: the instruction and where to look it
// up (a return address points after its call, so the call is one before).
struct PhysicalFrame {
  Dwarf_Addr pc = 0;
  Dwarf_Addr lookup = 0;
  Dwfl_Module* module = nullptr;
};

// One call in a function's DWARF (DW_TAG_call_site, DWARF 5, or GCC's
// DW_TAG_GNU_call_site): where it returns to, what it calls, and whether it
// is a tail call (a jump: the caller's frame is gone from the stack).
struct CallSite {
  Dwarf_Addr return_pc = 0;  // in the target's addresses
  Dwarf_Addr target = 0;     // the callee's entry; 0 if unknown (indirect)
  bool tail = false;
};

// gdb shows functions that were left by a tail call ("tailcall frames"),
// found from the call sites DWARF records; the unwinder cannot see them.
// This finds them the same way: when a caller's call site targets another
// function than the callee found below it, a unique chain of tail calls
// from that target to the callee is what ran in between.
class TailCalls {
 public:
  explicit TailCalls(Dwfl*& dwfl) : dwfl_(dwfl) {}

  // The functions between `caller` and `callee` (a non-activation caller),
  // innermost first, as frames at their tail-call sites; empty if none or
  // not unique.
  std::vector<PhysicalFrame> Between(const PhysicalFrame& caller, const PhysicalFrame& callee);

 private:
  static constexpr size_t kMaxChain = 6;
  static constexpr size_t kMaxPaths = 16;
  static constexpr size_t kMaxFunctions = 4096;
  static constexpr size_t kMaxDies = 200000;

  struct Function {
    Dwfl_Module* module = nullptr;
    std::vector<CallSite> calls;
  };
  std::vector<PhysicalFrame> Find(const PhysicalFrame& caller, const PhysicalFrame& callee);
  // The function whose entry is `entry` (cached), or nullptr without DWARF.
  const Function* FunctionAt(Dwarf_Addr entry);
  Dwarf_Addr EntryOf(Dwfl_Module* module, Dwarf_Addr pc);
  Dwarf_Addr ResolveTarget(Dwfl_Module* module, Dwarf_Die* site, Dwarf_Addr bias);
  Dwarf_Addr SymbolAddress(const std::string& name, Dwfl_Module* preferred);
  void CollectCalls(Dwarf_Die* die, Dwfl_Module* module, Dwarf_Addr bias, Function* function,
                    size_t* budget);
  void Paths(Dwarf_Addr from, Dwarf_Addr to, std::vector<PhysicalFrame>& path,
             std::vector<std::vector<PhysicalFrame>>& paths);

  Dwfl*& dwfl_;
  // By entry. A node map: Paths() holds a Function* while its recursion
  // adds others (a flat map would move them; that crashed record --native).
  absl::node_hash_map<Dwarf_Addr, std::optional<Function>> functions_;
  absl::flat_hash_map<Dwarf_Addr, Dwarf_Addr> entries_;  // pc -> its function's entry
  // (caller pc, callee pc) -> Between's answer: a pool's threads share them.
  absl::flat_hash_map<std::pair<Dwarf_Addr, Dwarf_Addr>, std::vector<PhysicalFrame>> between_;
  absl::flat_hash_map<Dwfl_Module*, absl::flat_hash_map<std::string, Dwarf_Addr>> symbols_;
};

// Per instruction address: the module's name and the function names there.
using NameCache = absl::flat_hash_map<Dwarf_Addr, std::pair<std::string, std::vector<std::string>>>;
constexpr size_t kMaxCachedNames = 1 << 16;

// What libdwfl's thread callbacks are handed: the unwinder and one thread.
struct ThreadArg {
  Unwinder::State* state = nullptr;
  size_t index = 0;
};

struct Unwinder::State {
  target::Target* target = nullptr;
  Dwfl* dwfl = nullptr;
  std::string debuginfo_path;
  char* debuginfo_path_storage = nullptr;  // Dwfl_Callbacks wants a char**
  Dwfl_Callbacks callbacks{};
  std::vector<int64_t> tids;
  std::vector<ThreadArg> thread_args;  // one per tid
  size_t max_depth = 512;
  std::vector<PhysicalFrame>* frames = nullptr;  // the walk in progress
  TailCalls tail_calls;
  NameCache names;
  // Executable mappings of no file (JIT code, the vDSO), re-read at most
  // once a second when an address outside every module is not in them.
  std::vector<process::MemoryMap> unnamed_code;
  uint64_t unnamed_code_read_ns = 0;

  State() : tail_calls(dwfl) {}
  ~State() {
    if (dwfl != nullptr) dwfl_end(dwfl);
  }
};

namespace {

using State = Unwinder::State;

pid_t NextThread(Dwfl*, void* arg, void** thread_arg) {
  State* state = static_cast<State*>(arg);
  size_t next = *thread_arg == nullptr ? 0 : static_cast<ThreadArg*>(*thread_arg)->index + 1;
  if (next >= state->tids.size()) return 0;
  *thread_arg = &state->thread_args[next];
  return static_cast<pid_t>(state->tids[next]);
}

bool GetThread(Dwfl*, pid_t tid, void* arg, void** thread_arg) {
  State* state = static_cast<State*>(arg);
  for (size_t i = 0; i < state->tids.size(); ++i) {
    if (state->tids[i] == tid) {
      *thread_arg = &state->thread_args[i];
      return true;
    }
  }
  return false;
}

bool MemoryRead(Dwfl*, Dwarf_Addr address, Dwarf_Word* result, void* arg) {
  State* state = static_cast<State*>(arg);
  absl::StatusOr<uint64_t> value = memory::ReadValue<uint64_t>(state->target->memory(), address);
  if (!value.ok()) return false;
  *result = *value;
  return true;
}

bool SetInitialRegisters(Dwfl_Thread* thread, void* thread_arg) {
  ThreadArg* arg = static_cast<ThreadArg*>(thread_arg);
  const process::Registers* r = arg->state->target->ThreadRegisters(arg->state->tids[arg->index]);
  if (r == nullptr) return false;
  // DWARF's x86_64 numbering: rax rdx rcx rbx rsi rdi rbp rsp r8-r15, rip.
  Dwarf_Word dwarf[17] = {r->rax, r->rdx, r->rcx, r->rbx, r->rsi, r->rdi, r->rbp, r->rsp, r->r8,
                          r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rip};
  return dwfl_thread_state_registers(thread, 0, 17, dwarf);
}

const Dwfl_Thread_Callbacks kThreadCallbacks = {
    NextThread, GetThread, MemoryRead, SetInitialRegisters, nullptr, nullptr,
};

// The functions containing `pc` in a compilation unit, outermost first:
// the subprogram, then each call inlined into it down to the innermost.
// (dwarf_getscopes would do this, but elfutils 0.188 finds nothing in
// LTO builds, whose inlined calls point across units: Debian's python3.)
std::vector<Dwarf_Die> FunctionChain(Dwarf_Die* cu, Dwarf_Addr pc) {
  constexpr size_t kMaxNesting = 64, kMaxSiblings = 1 << 20;
  std::vector<Dwarf_Die> chain;
  Dwarf_Die scope = *cu;
  size_t budget = kMaxSiblings;
  for (size_t depth = 0; depth < kMaxNesting; ++depth) {
    Dwarf_Die child;
    if (dwarf_child(&scope, &child) != 0) break;
    bool descended = false;
    do {
      if (budget-- == 0) return chain;
      int tag = dwarf_tag(&child);
      if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine && tag != DW_TAG_lexical_block) continue;
      if (dwarf_haspc(&child, pc) <= 0) continue;
      if (tag != DW_TAG_lexical_block) chain.push_back(child);
      scope = child;
      descended = true;
      break;
    } while (dwarf_siblingof(&child, &child) == 0);
    if (!descended) break;
  }
  return chain;
}

// The function names at `pc` in `module`, innermost first: the inlined
// calls DWARF records there, then the function itself.
std::vector<std::string> FunctionsAt(Dwfl_Module* module, Dwarf_Addr pc) {
  std::vector<std::string> names;
  Dwarf_Addr bias = 0;
  if (Dwarf_Die* cu = dwfl_module_addrdie(module, pc, &bias)) {
    std::vector<Dwarf_Die> chain = FunctionChain(cu, pc - bias);
    for (auto it = chain.rbegin(); it != chain.rend() && names.size() < kMaxInlineDepth; ++it) {
      std::string name = DieName(&*it);
      if (!name.empty()) names.push_back(std::move(name));
    }
  }
  if (names.empty()) {
    GElf_Off offset = 0;
    GElf_Sym symbol;
    // Only code is a function: an address in data (a garbage return
    // address) is not named after the variable next to it.
    const char* name = dwfl_module_addrinfo(module, pc, &offset, &symbol, nullptr, nullptr, nullptr);
    const int type = GELF_ST_TYPE(symbol.st_info);
    if (name != nullptr && (type == STT_FUNC || type == STT_GNU_IFUNC)) names.push_back(Demangle(name));
  }
  return names;
}

int OnFrame(Dwfl_Frame* frame, void* arg) {
  State* state = static_cast<State*>(arg);
  PhysicalFrame physical;
  bool activation = false;
  if (!dwfl_frame_pc(frame, &physical.pc, &activation)) return DWARF_CB_ABORT;
  physical.lookup = activation ? physical.pc : physical.pc - 1;
  physical.module = dwfl_addrmodule(state->dwfl, physical.lookup);
  state->frames->push_back(physical);
  return state->frames->size() >= state->max_depth ? DWARF_CB_ABORT : DWARF_CB_OK;
}

// The frames of one physical frame: its inlined calls, then its function.
// Names are remembered per address: the threads of a pool share them, and
// a symbol lookup in a large debug file is the expensive part.
void AppendNamed(const PhysicalFrame& physical, NameCache& cache, size_t max_depth,
                 std::vector<python::PyFrame>* out) {
  python::PyFrame native;
  native.kind = python::FrameKind::kNative;
  native.pc = physical.pc;
  auto cached = cache.find(physical.lookup);
  if (cached == cache.end()) {
    if (cache.size() >= kMaxCachedNames) cache.clear();
    std::vector<std::string> names;
    std::string module;
    if (physical.module != nullptr) {
      const char* name = dwfl_module_info(physical.module, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
      module = name ? name : "";
      names = FunctionsAt(physical.module, physical.lookup);
    }
    if (names.empty()) names.push_back("");
    cached = cache.emplace(physical.lookup, std::make_pair(std::move(module), std::move(names))).first;
  }
  native.module = cached->second.first;
  for (const std::string& name : cached->second.second) {
    if (out->size() >= max_depth) return;
    python::PyFrame entry = native;
    entry.function = name;
    out->push_back(std::move(entry));
  }
}

}  // namespace

Dwarf_Addr TailCalls::EntryOf(Dwfl_Module* module, Dwarf_Addr pc) {
  // dwfl_module_addrinfo scans the symbol table: remember its answers.
  if (auto it = entries_.find(pc); it != entries_.end()) return it->second;
  GElf_Off offset = 0;
  GElf_Sym symbol;
  Dwarf_Addr entry = 0;
  if (dwfl_module_addrinfo(module, pc, &offset, &symbol, nullptr, nullptr, nullptr) != nullptr) entry = pc - offset;
  if (entries_.size() >= kMaxFunctions * 4) entries_.clear();
  entries_.emplace(pc, entry);
  return entry;
}

Dwarf_Addr TailCalls::SymbolAddress(const std::string& name, Dwfl_Module* preferred) {
  auto lookup = [&](Dwfl_Module* module) -> Dwarf_Addr {
    auto [it, inserted] = symbols_.try_emplace(module);
    if (inserted) {
      int count = dwfl_module_getsymtab(module);
      for (int i = 1; i < count; ++i) {
        GElf_Sym symbol;
        GElf_Addr address = 0;
        const char* symbol_name = dwfl_module_getsym_info(module, i, &symbol, &address, nullptr, nullptr, nullptr);
        if (symbol_name == nullptr || GELF_ST_TYPE(symbol.st_info) != STT_FUNC || symbol.st_shndx == SHN_UNDEF) continue;
        // .symtab spells versioned definitions "sem_wait@@GLIBC_2.34".
        absl::string_view bare(symbol_name);
        bare = bare.substr(0, bare.find('@'));
        it->second.try_emplace(std::string(bare), address);
      }
    }
    auto found = it->second.find(name);
    return found == it->second.end() ? 0 : found->second;
  };
  if (preferred != nullptr) {
    if (Dwarf_Addr address = lookup(preferred)) return address;
  }
  // A call into another object (through the PLT) names a declaration.
  std::vector<Dwfl_Module*> modules;
  dwfl_getmodules(dwfl_, [](Dwfl_Module* module, void**, const char*, Dwarf_Addr, void* arg) -> int {
    static_cast<std::vector<Dwfl_Module*>*>(arg)->push_back(module);
    return DWARF_CB_OK;
  }, &modules, 0);
  for (Dwfl_Module* module : modules) {
    if (module == preferred) continue;
    if (Dwarf_Addr address = lookup(module)) return address;
  }
  return 0;
}

Dwarf_Addr TailCalls::ResolveTarget(Dwfl_Module* module, Dwarf_Die* site, Dwarf_Addr bias) {
  Dwarf_Attribute attribute;
  Dwarf_Die target;
  if ((dwarf_attr(site, DW_AT_call_origin, &attribute) == nullptr &&
       dwarf_attr(site, DW_AT_abstract_origin, &attribute) == nullptr) ||
      dwarf_formref_die(&attribute, &target) == nullptr) {
    return 0;  // an indirect call
  }
  Dwarf_Addr low = 0;
  if (dwarf_lowpc(&target, &low) == 0) return low + bias;
  std::string name = DieName(&target);
  if (name.empty()) return 0;
  // The declaration's linkage name ("foo") or a C++ name: look it up as a symbol.
  Dwarf_Attribute linkage;
  if (dwarf_attr_integrate(&target, DW_AT_linkage_name, &linkage) != nullptr) {
    if (const char* raw = dwarf_formstring(&linkage)) name = raw;
  }
  return SymbolAddress(name, module);
}

void TailCalls::CollectCalls(Dwarf_Die* die, Dwfl_Module* module, Dwarf_Addr bias, Function* function,
                             size_t* budget) {
  Dwarf_Die child;
  if (dwarf_child(die, &child) != 0) return;
  do {
    if ((*budget)-- == 0) return;
    int tag = dwarf_tag(&child);
    if (tag == DW_TAG_call_site || tag == DW_TAG_GNU_call_site) {
      CallSite site;
      Dwarf_Attribute attribute;
      Dwarf_Addr return_pc = 0;
      if (dwarf_attr(&child, DW_AT_call_return_pc, &attribute) != nullptr) {
        dwarf_formaddr(&attribute, &return_pc);
      } else {
        dwarf_lowpc(&child, &return_pc);  // GNU: the return address
      }
      site.return_pc = return_pc + bias;
      bool flag = false;
      if (dwarf_attr(&child, DW_AT_call_tail_call, &attribute) != nullptr ||
          dwarf_attr(&child, DW_AT_GNU_tail_call, &attribute) != nullptr) {
        site.tail = dwarf_formflag(&attribute, &flag) == 0 && flag;
      }
      site.target = ResolveTarget(module, &child, bias);
      if (return_pc != 0) function->calls.push_back(site);
    } else if (tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine) {
      CollectCalls(&child, module, bias, function, budget);
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

const TailCalls::Function* TailCalls::FunctionAt(Dwarf_Addr entry) {
  if (auto it = functions_.find(entry); it != functions_.end()) return it->second ? &*it->second : nullptr;
  if (functions_.size() >= kMaxFunctions) return nullptr;
  std::optional<Function> function;
  Dwfl_Module* module = dwfl_addrmodule(dwfl_, entry);
  Dwarf_Addr bias = 0;
  Dwarf_Die* cu = module ? dwfl_module_addrdie(module, entry, &bias) : nullptr;
  std::vector<Dwarf_Die> chain = cu ? FunctionChain(cu, entry - bias) : std::vector<Dwarf_Die>();
  if (!chain.empty() && dwarf_tag(&chain.front()) == DW_TAG_subprogram) {
    function.emplace();
    function->module = module;
    size_t budget = kMaxDies;
    CollectCalls(&chain.front(), module, bias, &*function, &budget);
  }
  auto& slot = functions_[entry];
  slot = std::move(function);
  return slot ? &*slot : nullptr;
}

void TailCalls::Paths(Dwarf_Addr from, Dwarf_Addr to, std::vector<PhysicalFrame>& path,
                      std::vector<std::vector<PhysicalFrame>>& paths) {
  if (paths.size() > kMaxPaths || path.size() >= kMaxChain) return;
  const Function* function = FunctionAt(from);
  if (function == nullptr) return;
  for (const CallSite& site : function->calls) {
    if (!site.tail || site.target == 0) continue;
    path.push_back(PhysicalFrame{site.return_pc, site.return_pc - 1, function->module});
    if (site.target == to) {
      paths.push_back(path);
    } else {
      Paths(site.target, to, path, paths);
    }
    path.pop_back();
  }
}

std::vector<PhysicalFrame> TailCalls::Between(const PhysicalFrame& caller, const PhysicalFrame& callee) {
  auto key = std::make_pair(caller.pc, callee.lookup);
  if (auto it = between_.find(key); it != between_.end()) return it->second;
  std::vector<PhysicalFrame> chain = Find(caller, callee);
  if (between_.size() >= kMaxFunctions * 4) between_.clear();
  between_.emplace(key, chain);
  return chain;
}

std::vector<PhysicalFrame> TailCalls::Find(const PhysicalFrame& caller, const PhysicalFrame& callee) {
  if (caller.module == nullptr || callee.module == nullptr || caller.lookup == caller.pc) return {};
  Dwarf_Addr callee_entry = EntryOf(callee.module, callee.lookup);
  Dwarf_Addr caller_entry = EntryOf(caller.module, caller.lookup);
  const Function* function = caller_entry ? FunctionAt(caller_entry) : nullptr;
  if (function == nullptr || callee_entry == 0) return {};
  Dwarf_Addr target = 0;
  for (const CallSite& site : function->calls) {
    if (site.return_pc == caller.pc) target = site.target;
  }
  if (target == 0 || target == callee_entry) return {};
  std::vector<PhysicalFrame> path;
  std::vector<std::vector<PhysicalFrame>> paths;
  Paths(target, callee_entry, path, paths);
  // Only a chain that is certain: gdb shows none either when several fit.
  if (paths.empty() || paths.size() > kMaxPaths) return {};
  for (const auto& other : paths) {
    if (other.size() != paths.front().size()) return {};
    for (size_t i = 0; i < other.size(); ++i) {
      if (other[i].pc != paths.front()[i].pc) return {};
    }
  }
  // path[0] is in the call site's target, the last one jumped to the
  // callee; innermost first is the reverse.
  return std::vector<PhysicalFrame>(paths.front().rbegin(), paths.front().rend());
}

bool IsEvalLoop(const std::string& function) {
  return function == "_PyEval_EvalFrameDefault";
}

bool CallsEvalLoop(const std::string& function) {
  return function == "_PyEval_EvalFrame" || function == "_PyEval_Vector" || function == "gen_send_ex2" ||
         function == "gen_send_ex" || function == "PyEval_EvalCode";
}

namespace {

// JIT code has no unwind info: libdwfl steps out of it with frame
// pointers, which lands on its caller when the JIT code keeps them (the
// eval loop, or the eval loop's caller when it stepped over the eval
// loop's frame) and on garbage when it does not. A caller of JIT code
// that is no known function is garbage: the stack is cut there; true if
// it cut.
bool CutAfterJitCode(std::vector<python::PyFrame>& frames) {
  for (size_t i = 0; i + 1 < frames.size(); ++i) {
    if (frames[i].function != kJitCode || !frames[i + 1].function.empty()) continue;
    frames.resize(i + 1);
    return true;
  }
  return false;
}

}  // namespace

bool ReachesThreadRoot(const std::vector<python::PyFrame>& frames) {
  for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
    if (it->kind != python::FrameKind::kNative) continue;
    const std::string& f = it->function;
    return f == "_start" || f == "clone" || f == "clone3" || f == "__clone3" || f == "__clone" ||
           f == "start_thread";
  }
  return false;
}

bool Unwinder::Covers(uint64_t pc) { return dwfl_addrmodule(state_->dwfl, pc) != nullptr; }

absl::StatusOr<std::unique_ptr<Unwinder>> Unwinder::Create(target::Target& target,
                                                         const UnwindOptions& options) {
  auto state = std::make_unique<State>();
  state->target = &target;
  state->max_depth = options.max_depth;
  std::vector<std::string> roots = options.debug_roots;
  roots.push_back("/usr/lib/debug");
  // "-": no CRC check of .gnu_debuglink files (build ids are checked).
  state->debuginfo_path = absl::StrCat("-:.debug:", absl::StrJoin(roots, ":"));
  state->debuginfo_path_storage = state->debuginfo_path.data();
  state->callbacks.find_elf = dwfl_build_id_find_elf;
  state->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
  state->callbacks.debuginfo_path = &state->debuginfo_path_storage;
  state->dwfl = dwfl_begin(&state->callbacks);
  if (state->dwfl == nullptr) return absl::FailedPreconditionError(absl::StrCat("libdwfl: ", dwfl_errmsg(-1)));

  absl::StatusOr<std::vector<process::MemoryMap>> maps = target.Maps();
  if (!maps.ok()) return maps.status();
  dwfl_report_begin(state->dwfl);
  absl::flat_hash_set<std::string> reported;
  for (const process::MemoryMap& map : *maps) {
    if (!map.IsFile() || map.offset != 0 || !reported.insert(map.path).second) continue;
    absl::StatusOr<process::MappedFile> file = target.OpenMappedFile(*maps, map);
    if (!file.ok()) {
      LOG_DEBUG("no native symbols for ", map.path, ": ", file.status().message());
      continue;
    }
    std::string name(process::Basename(map.path));
    if (dwfl_report_elf(state->dwfl, name.c_str(), file->opened_path.c_str(), -1, file->load_bias, false) == nullptr) {
      LOG_DEBUG("libdwfl cannot use ", file->opened_path, ": ", dwfl_errmsg(-1));
    }
  }
  dwfl_report_end(state->dwfl, nullptr, nullptr);

  absl::StatusOr<std::vector<target::ThreadIds>> threads = target.Threads();
  if (!threads.ok()) return threads.status();
  for (const target::ThreadIds& thread : *threads) state->tids.push_back(thread.tid);
  state->thread_args.resize(state->tids.size());
  for (size_t i = 0; i < state->tids.size(); ++i) state->thread_args[i] = ThreadArg{state.get(), i};
  if (!dwfl_attach_state(state->dwfl, nullptr, target.pid(), &kThreadCallbacks, state.get())) {
    return absl::FailedPreconditionError(absl::StrCat("libdwfl cannot unwind this target: ", dwfl_errmsg(-1)));
  }
  return std::unique_ptr<Unwinder>(new Unwinder(std::move(state)));
}

std::string Unwinder::Describe(uint64_t pc) {
  PhysicalFrame frame{pc, pc, dwfl_addrmodule(state_->dwfl, pc)};
  if (frame.module == nullptr) return "";
  std::vector<python::PyFrame> named;
  AppendNamed(frame, state_->names, 1, &named);
  if (named.empty()) return "";
  std::string name = named.front().function.empty() ? absl::StrFormat("0x%x", pc) : named.front().function;
  return absl::StrCat(name, " (", named.front().module, ")");
}

std::optional<python::PyFrame> Unwinder::UnnamedCode(uint64_t pc) {
  auto find = [&]() -> const process::MemoryMap* {
    for (const process::MemoryMap& map : state_->unnamed_code) {
      if (map.Contains(pc)) return &map;
    }
    return nullptr;
  };
  const process::MemoryMap* map = find();
  if (map == nullptr && MonotonicNowNs() - state_->unnamed_code_read_ns >= 1'000'000'000) {
    state_->unnamed_code_read_ns = MonotonicNowNs();
    state_->unnamed_code.clear();
    if (absl::StatusOr<std::vector<process::MemoryMap>> maps = state_->target->Maps(); maps.ok()) {
      for (process::MemoryMap& candidate : *maps) {
        if (candidate.executable && !candidate.IsFile()) state_->unnamed_code.push_back(std::move(candidate));
      }
    }
    map = find();
  }
  if (map == nullptr) return std::nullopt;
  python::PyFrame frame;
  frame.kind = python::FrameKind::kNative;
  frame.pc = pc;
  if (map->path == "[vdso]") {
    frame.module = "[vdso]";
  } else {
    frame.function = kJitCode;
    frame.module = "[anonymous]";
  }
  return frame;
}

Unwinder::Unwinder(std::unique_ptr<State> state) : state_(std::move(state)) {}
Unwinder::~Unwinder() = default;

absl::StatusOr<std::vector<python::PyFrame>> Unwinder::Unwind(int64_t tid) {
  if (state_->target->ThreadRegisters(tid) == nullptr) {
    return absl::NotFoundError(absl::StrCat("no registers for thread ", tid));
  }
  std::vector<PhysicalFrame> physical;
  state_->frames = &physical;
  // Returns -1 where the unwind stops early (no CFI, unreadable stack),
  // 1 where OnFrame stopped it (the depth bound): the frames found so far
  // are the answer, and a marker says why it ends there.
  std::string ended;
  int result = dwfl_getthread_frames(state_->dwfl, static_cast<pid_t>(tid), OnFrame, state_.get());
  if (result == -1) {
    ended = dwfl_errmsg(-1);
  } else if (result != 0) {
    ended = absl::StrCat("deeper than ", state_->max_depth, " frames");
  }
  state_->frames = nullptr;
  std::vector<python::PyFrame> frames;
  for (size_t i = 0; i < physical.size(); ++i) {
    if (physical[i].module == nullptr) {
      if (std::optional<python::PyFrame> unnamed = UnnamedCode(physical[i].pc)) {
        if (frames.size() < state_->max_depth) frames.push_back(*std::move(unnamed));
        continue;
      }
    }
    AppendNamed(physical[i], state_->names, state_->max_depth, &frames);
    if (i + 1 == physical.size()) break;
    for (const PhysicalFrame& jumped : state_->tail_calls.Between(physical[i + 1], physical[i])) {
      AppendNamed(jumped, state_->names, state_->max_depth, &frames);
    }
  }
  if (CutAfterJitCode(frames)) ended = "no unwind information for JIT code";
  // An unwind that "ends" elsewhere than a thread's first function ran
  // into something it took for the end (a zero return address, a frame
  // whose caller it cannot compute): say so too.
  if (ended.empty() && !frames.empty() && !ReachesThreadRoot(frames)) {
    ended = "no caller found before the thread's first function";
  }
  if (!ended.empty()) {
    LOG_DEBUG("thread ", tid, ": unwinding ended: ", ended);
    python::PyFrame marker;
    marker.kind = python::FrameKind::kNative;
    marker.function = kUnwindEnded;
    marker.module = ended;
    frames.push_back(std::move(marker));
  }
  return frames;
}

}  // namespace pyhang::native
