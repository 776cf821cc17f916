// Discovers the Python interpreters installed on this machine, at test
// time: pyenv's versions ($PYENV_ROOT, else ~/.pyenv) and /usr/bin/python3.
#ifndef PYHANG_TESTS_COMMON_INTERPRETERS_H_
#define PYHANG_TESTS_COMMON_INTERPRETERS_H_

#include <string>
#include <vector>

namespace pyhang::testing {

struct Interpreter {
  std::string label;  // "pyenv-3.12.1", "debian-python3"
  std::string path;   // executable
  int minor = 0;      // 3.<minor>
};

// Supported interpreters (3.8-3.13) found on this machine.
std::vector<Interpreter> FindInterpreters();

// Runs `command` through /bin/sh and returns its stdout; sets *exit_code.
std::string RunCommand(const std::string& command, int* exit_code);

}  // namespace pyhang::testing

#endif  // PYHANG_TESTS_COMMON_INTERPRETERS_H_
