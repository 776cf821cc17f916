// A child process running a Python workload, spoken to line by line over
// its stdin/stdout. Killed (SIGKILL) and reaped on destruction.
#ifndef PYHANG_TESTS_BPF_WORKLOAD_PROCESS_H_
#define PYHANG_TESTS_BPF_WORKLOAD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "userspace/common/unique_fd.h"

namespace pyhang::testing {

class WorkloadProcess {
 public:
  static absl::StatusOr<std::unique_ptr<WorkloadProcess>> Start(
      const std::vector<std::string>& argv);
  ~WorkloadProcess();

  pid_t pid() const { return pid_; }
  // The next line of its stdout, without the newline.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);
  absl::Status WriteLine(const std::string& line);
  // Waits for it to exit; its exit status (as from waitpid).
  absl::StatusOr<int> Wait(absl::Duration timeout);

 private:
  WorkloadProcess(pid_t pid, UniqueFd in, UniqueFd out)
      : pid_(pid), stdin_(std::move(in)), stdout_(std::move(out)) {}

  pid_t pid_;
  bool reaped_ = false;
  UniqueFd stdin_;
  UniqueFd stdout_;
  std::string buffered_;
};

}  // namespace pyhang::testing

#endif  // PYHANG_TESTS_BPF_WORKLOAD_PROCESS_H_
