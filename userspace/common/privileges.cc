#include "userspace/common/privileges.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace pyhang::privileges {
namespace {

struct Sets {
  uint64_t effective = 0, permitted = 0, inheritable = 0;
};

// capget/capset directly (libcap is one more dependency for two syscalls).
bool Get(Sets* sets) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  sets->effective = data[0].effective | (uint64_t{data[1].effective} << 32);
  sets->permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
  sets->inheritable = data[0].inheritable | (uint64_t{data[1].inheritable} << 32);
  return true;
}

uint64_t Bit(Capability capability) { return uint64_t{1} << capability; }

}  // namespace

std::string Name(Capability capability) {
  switch (capability) {
    case kDacOverride: return "CAP_DAC_OVERRIDE";
    case kDacReadSearch: return "CAP_DAC_READ_SEARCH";
    case kNetBindService: return "CAP_NET_BIND_SERVICE";
    case kSysPtrace: return "CAP_SYS_PTRACE";
    case kSysAdmin: return "CAP_SYS_ADMIN";
    case kSyslog: return "CAP_SYSLOG";
    case kPerfmon: return "CAP_PERFMON";
    case kBpf: return "CAP_BPF";
    case kCheckpointRestore: return "CAP_CHECKPOINT_RESTORE";
  }
  return absl::StrCat("capability ", static_cast<int>(capability));
}

uint64_t EffectiveMask() {
  Sets sets;
  return Get(&sets) ? sets.effective : 0;
}

bool Has(Capability capability) {
  uint64_t effective = EffectiveMask();
  if (effective & Bit(capability)) return true;
  return (capability == kBpf || capability == kPerfmon) && (effective & Bit(kSysAdmin));
}

std::vector<Capability> Missing(std::initializer_list<Capability> needed) {
  std::vector<Capability> missing;
  for (Capability capability : needed) {
    if (!Has(capability)) missing.push_back(capability);
  }
  return missing;
}

std::string Names(const std::vector<Capability>& capabilities) {
  std::vector<std::string> names;
  for (Capability capability : capabilities) names.push_back(Name(capability));
  if (names.size() <= 1) return absl::StrJoin(names, "");
  std::string last = names.back();
  names.pop_back();
  return absl::StrCat(absl::StrJoin(names, ", "), " and ", last);
}

absl::Status KeepOnly(std::initializer_list<Capability> keep) {
  Sets sets;
  if (!Get(&sets)) return absl::InternalError(absl::StrCat("capget: ", std::strerror(errno)));
  uint64_t mask = 0;
  for (Capability capability : keep) mask |= Bit(capability);
  // Ambient capabilities would survive an exec of a helper program; the
  // bounding set and no_new_privs keep an exec (of anything, as uid 0) from
  // granting the rest again. Lowering the bounding set needs CAP_SETPCAP,
  // so it goes first; without it (not root) there is nothing to win back.
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (int capability = 0; capability < 64; ++capability) {
    if ((mask & (uint64_t{1} << capability)) == 0 && ::prctl(PR_CAPBSET_READ, capability, 0, 0, 0) == 1) {
      ::prctl(PR_CAPBSET_DROP, capability, 0, 0, 0);
    }
  }
  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  uint64_t effective = sets.effective & mask, permitted = sets.permitted & mask,
           inheritable = sets.inheritable & mask;
  data[0] = {static_cast<uint32_t>(effective), static_cast<uint32_t>(permitted),
             static_cast<uint32_t>(inheritable)};
  data[1] = {static_cast<uint32_t>(effective >> 32), static_cast<uint32_t>(permitted >> 32),
             static_cast<uint32_t>(inheritable >> 32)};
  if (::syscall(SYS_capset, &header, data) != 0) {
    return absl::InternalError(absl::StrCat("cannot drop capabilities: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace pyhang::privileges
