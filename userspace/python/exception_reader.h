// The exception a thread is handling, read from the outside: what
// sys.exc_info() returns inside that thread, with the chain traceback
// would print under it (__cause__, else __context__ unless suppressed).
//
// The message is str() of the exception as memory shows it, without
// running any code: OSError and its subclasses as "[Errno N] strerror"
// (with their file names), KeyError as the repr of its key, any other
// exception from its args (none: "", one: str() of it, more: the tuple's
// repr). A class that overrides __str__ gets the same text as if it did
// not. Everything is bounded: the exception stack (kMaxStackItems), the
// chain (kMaxChain links, then `cut`), each message (ReprLimits::max_repr);
// a chain that leads back into itself is reported as a cycle.
#ifndef PYHANG_USERSPACE_PYTHON_EXCEPTION_READER_H_
#define PYHANG_USERSPACE_PYTHON_EXCEPTION_READER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "userspace/python/objects.h"
#include "userspace/python/stack.h"

namespace pyhang::python {

class ExceptionReader {
 public:
  static constexpr size_t kMaxStackItems = 256;  // nested generators/except blocks
  static constexpr size_t kMaxChain = 16;

  ExceptionReader(ObjectReader& objects, const ReprLimits& limits) : objects_(objects), limits_(limits) {}

  // Whether this build's offsets allow reading exceptions at all.
  bool Supported() const;
  // The exception the thread whose PyThreadState is at `tstate` handles;
  // nullopt if none. An unreadable thread state is an error; unreadable
  // links further down end the chain.
  absl::StatusOr<std::optional<HandledException>> Read(uint64_t tstate);

 private:
  absl::StatusOr<uint64_t> TopmostException(uint64_t tstate);
  absl::StatusOr<bool> IsException(uint64_t object);
  // The exception `exception` came from (0 if none), and how.
  uint64_t Origin(uint64_t exception, ExceptionRelation* relation);
  PyExceptionLink Describe(uint64_t exception);
  std::string Message(uint64_t exception, uint64_t type);
  std::optional<std::string> OsErrorMessage(uint64_t exception);
  bool DerivesFrom(uint64_t type, const char* builtin_name);
  // str() of a value: a str's own text, anything else its repr.
  std::string Str(uint64_t object);
  std::string Repr(uint64_t object);

  ObjectReader& objects_;
  const ReprLimits& limits_;
};

// "handling ConnectionRefusedError: [Errno 111] Connection refused": the
// line traceback's last line would be ("Type: message", or "Type").
std::string ExceptionLine(const PyExceptionLink& link);

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_EXCEPTION_READER_H_
