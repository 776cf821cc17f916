// Once a command has opened what it needs with its privileges (BPF programs
// and perf events, output files), its loop parses memory the target
// controls. From there on it keeps only the capabilities that loop still
// uses (see common/privileges.h), before it starts any thread: capabilities
// are per thread.
#ifndef PYHANG_USERSPACE_CLI_ATTACHED_H_
#define PYHANG_USERSPACE_CLI_ATTACHED_H_

namespace pyhang::cli {

enum class StillNeeded {
  // Reading the target: CAP_SYS_PTRACE (memory, /proc/PID/root), CAP_DAC_READ_SEARCH
  // (its source and ELF files, whoever owns them), CAP_CHECKPOINT_RESTORE
  // (/proc/PID/map_files), CAP_SYSLOG (kernel symbols), CAP_DAC_OVERRIDE
  // (renaming the output file into place where root may write).
  kReading,
  // And BPF: the loop reads and updates its maps (record's kernel stacks,
  // off-CPU tails, error counts) and opens programs and perf events later
  // (watch copies native stacks when a finding opens): CAP_BPF and
  // CAP_PERFMON.
  kReadingAndBpf,
};

// Drops every other capability (and keeps CAP_NET_BIND_SERVICE when a
// metrics port below 1024 is still to be bound). A failure is a warning,
// not an error: the command still works, with the privileges it started with.
void DropUnneededPrivileges(StillNeeded needed, bool binds_low_port = false);

}  // namespace pyhang::cli

#endif  // PYHANG_USERSPACE_CLI_ATTACHED_H_
