// Once a command has opened what it needs with its privileges (the target,
// BPF programs and perf events, output files, the metrics socket), its loop
// parses memory the target controls. From there on it keeps only the
// capabilities that loop still uses (see common/privileges.h).
#ifndef PYHANG_USERSPACE_CLI_ATTACHED_H_
#define PYHANG_USERSPACE_CLI_ATTACHED_H_

namespace pyhang::cli {

enum class StillNeeded {
  // Reading the target: CAP_SYS_PTRACE (memory, /proc/PID/root), CAP_DAC_READ_SEARCH
  // (its source and ELF files, whoever owns them), CAP_CHECKPOINT_RESTORE
  // (/proc/PID/map_files), CAP_SYSLOG (kernel symbols), CAP_DAC_OVERRIDE
  // (renaming the output file into place where root may write).
  kReading,
  // And BPF and perf events opened later (watch copies native stacks when a
  // finding opens): CAP_BPF and CAP_PERFMON.
  kReadingAndBpf,
};

// Drops every other capability. A failure is a warning, not an error: the
// command still works, with the privileges it started with.
void KeepOnly(StillNeeded needed);

}  // namespace pyhang::cli

#endif  // PYHANG_USERSPACE_CLI_ATTACHED_H_
