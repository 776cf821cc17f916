// Everything about one target interpreter that the decoder needs and that
// is fixed for the life of the process: version, offsets, and addresses.
#ifndef PYHANG_USERSPACE_PYTHON_RUNTIME_INFO_H_
#define PYHANG_USERSPACE_PYTHON_RUNTIME_INFO_H_

#include <cstdint>

#include "userspace/python/objects.h"
#include "userspace/python/py_offsets.h"
#include "userspace/python/python_version.h"

namespace pyhang::python {

struct RuntimeInfo {
  PythonVersion version;
  PyOffsets offsets{};
  uint64_t runtime_address = 0;  // &_PyRuntime in the target
  // PyGILState_GetThisThreadState in the target (0 if not exported): its
  // code says where 3.15+ keeps each thread's tstate (thread-local).
  uint64_t gilstate_getter = 0;
  KnownTypes types;
};

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_RUNTIME_INFO_H_
