// The Linux capabilities pyhang uses, checked by name before it needs them
// and given up once it is attached.
//
// Reading another user's Python process needs CAP_SYS_PTRACE (process_vm_readv
// and /proc/PID/{root,mem,map_files} are ptrace-checked); the BPF sampler
// needs CAP_BPF and CAP_PERFMON as well (CAP_SYS_ADMIN implies both). Root
// has all of them, and far more: once a command has opened its target, its
// BPF programs and its output, it keeps only what its loop still uses
// (KeepOnly), so a bug while parsing a hostile target's memory cannot load a
// kernel module, reconfigure the network or the system, or read and write
// what only other capabilities allow; nor can an exec win them back (the
// bounding set is lowered and no_new_privs set). Capabilities are per
// thread: KeepOnly must run before a command starts its threads (the
// metrics server's). pyhang stays uid 0 when run as root, so files root
// owns stay writable: dropping limits a bug, it does not make root nobody.
#ifndef PYHANG_USERSPACE_COMMON_PRIVILEGES_H_
#define PYHANG_USERSPACE_COMMON_PRIVILEGES_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace pyhang::privileges {

// Capability numbers (linux/capability.h), named here so callers need not
// include the kernel header.
enum Capability : int {
  kDacOverride = 1,         // write output files where root may
  kDacReadSearch = 2,       // read source and ELF files of any owner
  kNetBindService = 10,     // a metrics port below 1024
  kSysPtrace = 19,          // read another process's memory and /proc entries
  kSysAdmin = 21,           // stands in for kBpf and kPerfmon on old kernels
  kSyslog = 34,             // kernel symbols' addresses in /proc/kallsyms
  kPerfmon = 38,            // perf events and BPF tracing programs
  kBpf = 39,                // load BPF programs and maps
  kCheckpointRestore = 40,  // /proc/PID/map_files (mapped files of a container)
};

// "CAP_SYS_PTRACE".
std::string Name(Capability capability);

// Whether the effective set holds `capability` (CAP_BPF and CAP_PERFMON are
// also held through CAP_SYS_ADMIN, as the kernel allows).
bool Has(Capability capability);

// The ones of `needed` that are not effective, in order.
std::vector<Capability> Missing(std::initializer_list<Capability> needed);

// "CAP_BPF and CAP_PERFMON".
std::string Names(const std::vector<Capability>& capabilities);

// Lowers the calling thread's effective, permitted and inheritable sets to
// `keep` (those of them it has), clears the ambient set, lowers the bounding
// set where it may (CAP_SETPCAP) and sets no_new_privs, so no exec regains
// the rest. Threads started later inherit this; threads already running
// keep theirs. Irreversible; the error says why capset refused.
absl::Status KeepOnly(std::initializer_list<Capability> keep);

// The effective set as a bit mask (bit N = capability N), for tests and logs.
uint64_t EffectiveMask();

}  // namespace pyhang::privileges

#endif  // PYHANG_USERSPACE_COMMON_PRIVILEGES_H_
