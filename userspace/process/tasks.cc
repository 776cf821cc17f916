#include "userspace/process/tasks.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace pyhang::process {

absl::StatusOr<std::vector<int64_t>> ListTasks(pid_t pid) {
  std::string path = absl::StrCat("/proc/", pid, "/task");
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return absl::NotFoundError(absl::StrCat("no process with pid ", pid));
  std::vector<int64_t> tids;
  while (struct dirent* entry = ::readdir(dir)) {
    int64_t tid = 0;
    if (absl::SimpleAtoi(entry->d_name, &tid)) tids.push_back(tid);
  }
  ::closedir(dir);
  std::sort(tids.begin(), tids.end());
  return tids;
}

bool ProcessGone(pid_t pid) {
  struct stat st;
  return ::stat(absl::StrCat("/proc/", pid, "/task").c_str(), &st) != 0;
}

}  // namespace pyhang::process
