#include "userspace/python/exception_reader.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "userspace/common/status_macros.h"
#include "userspace/python/value_reader.h"

namespace pyhang::python {
namespace {

using memory::ReadPointer;
using memory::ReadValue;

constexpr uint64_t kTpFlagsBaseExcSubclass = 1ull << 30;
constexpr int kMaxBaseClasses = 64;  // tp_base links followed looking for OSError

}  // namespace

bool ExceptionReader::Supported() const {
  const PyOffsets& o = objects_.offsets();
  return Has(o.tstate_exc_info) && Has(o.stackitem_exc_value) && Has(o.stackitem_previous) &&
         Has(o.exception_args) && Has(o.exception_context) && Has(o.exception_cause);
}

absl::StatusOr<std::optional<HandledException>> ExceptionReader::Read(uint64_t tstate) {
  if (!Supported()) return std::nullopt;
  ASSIGN_OR_RETURN(uint64_t exception, TopmostException(tstate));
  if (exception == 0) return std::nullopt;
  HandledException handled;
  std::vector<uint64_t> seen;
  ExceptionRelation relation = ExceptionRelation::kHandled;
  while (exception != 0) {
    for (size_t i = 0; i < seen.size(); ++i) {
      if (seen[i] == exception) {
        handled.cycle = true;
        handled.cycle_to = i;
        return handled;
      }
    }
    if (handled.chain.size() == kMaxChain) {
      handled.cut = true;
      break;
    }
    seen.push_back(exception);
    PyExceptionLink link = Describe(exception);
    link.relation = relation;
    handled.chain.push_back(std::move(link));
    exception = Origin(exception, &relation);
  }
  return handled;
}

// As CPython's _PyErr_GetTopmostException: the innermost item of the
// thread's exception stack that holds an exception (generators push items
// of their own while they run).
absl::StatusOr<uint64_t> ExceptionReader::TopmostException(uint64_t tstate) {
  const PyOffsets& o = objects_.offsets();
  memory::MemoryReader& reader = objects_.reader();
  ASSIGN_OR_RETURN(uint64_t item, ReadPointer(reader, tstate + o.tstate_exc_info));
  for (size_t i = 0; i < kMaxStackItems && item != 0; ++i) {
    absl::StatusOr<uint64_t> value = ReadPointer(reader, item + o.stackitem_exc_value);
    if (!value.ok()) return 0;
    if (*value != 0 && *value != objects_.types().none_object) {
      absl::StatusOr<bool> exception = IsException(*value);
      return exception.ok() && *exception ? *value : 0;
    }
    absl::StatusOr<uint64_t> previous = ReadPointer(reader, item + o.stackitem_previous);
    if (!previous.ok()) return 0;
    item = *previous;
  }
  return 0;
}

absl::StatusOr<bool> ExceptionReader::IsException(uint64_t object) {
  ASSIGN_OR_RETURN(uint64_t type, objects_.TypeOf(object));
  ASSIGN_OR_RETURN(uint64_t flags, ReadValue<uint64_t>(objects_.reader(), type + objects_.offsets().type_flags));
  return (flags & kTpFlagsBaseExcSubclass) != 0;
}

// Traceback's order: the explicit cause, else the implicit context unless
// `raise ... from` suppressed it.
uint64_t ExceptionReader::Origin(uint64_t exception, ExceptionRelation* relation) {
  const PyOffsets& o = objects_.offsets();
  memory::MemoryReader& reader = objects_.reader();
  auto exception_at = [&](int32_t offset) -> uint64_t {
    absl::StatusOr<uint64_t> next = ReadPointer(reader, exception + offset);
    if (!next.ok() || *next == 0 || *next == objects_.types().none_object) return 0;
    absl::StatusOr<bool> is_exception = IsException(*next);
    return is_exception.ok() && *is_exception ? *next : 0;
  };
  if (uint64_t cause = exception_at(o.exception_cause)) {
    *relation = ExceptionRelation::kCause;
    return cause;
  }
  if (Has(o.exception_suppress_context)) {
    absl::StatusOr<uint8_t> suppress = ReadValue<uint8_t>(reader, exception + o.exception_suppress_context);
    if (!suppress.ok() || *suppress != 0) return 0;
  }
  *relation = ExceptionRelation::kContext;
  return exception_at(o.exception_context);
}

PyExceptionLink ExceptionReader::Describe(uint64_t exception) {
  PyExceptionLink link;
  link.address = exception;
  absl::StatusOr<uint64_t> type = objects_.TypeOf(exception);
  if (!type.ok()) {
    link.type = "<unreadable exception>";
    return link;
  }
  ReprLimits limits = limits_;
  limits.structure = false;
  ValueReader values(objects_, limits);
  absl::StatusOr<std::string> name = values.QualifiedTypeName(*type);
  link.type = name.ok() ? *name : "<unreadable type>";
  // traceback leaves out the module of classes defined in __main__.
  if (absl::StartsWith(link.type, "__main__.")) link.type = link.type.substr(9);
  link.message = Message(exception, *type);
  if (CodePoints(link.message) > limits_.max_repr) {
    link.message = FirstCodePoints(link.message, limits_.max_repr) + "...";
  }
  return link;
}

std::string ExceptionReader::Message(uint64_t exception, uint64_t type) {
  if (DerivesFrom(type, "OSError")) {
    if (std::optional<std::string> text = OsErrorMessage(exception)) return *text;
  }
  absl::StatusOr<uint64_t> args = ReadPointer(objects_.reader(), exception + objects_.offsets().exception_args);
  if (!args.ok() || *args == 0) return "";
  absl::StatusOr<bool> tuple = objects_.IsInstance(*args, objects_.types().tuple);
  if (!tuple.ok() || !*tuple) return "";
  absl::StatusOr<int64_t> size = objects_.ReadVarSize(*args);
  if (!size.ok() || *size <= 0) return "";
  if (*size > 1) return Repr(*args);
  absl::StatusOr<std::vector<uint64_t>> items = objects_.ReadTupleItems(*args, 1);
  if (!items.ok() || items->empty()) return "";
  // KeyError shows its key as a repr (KeyError_str).
  if (DerivesFrom(type, "KeyError")) return Repr(items->front());
  return Str(items->front());
}

// OSError_str: "[Errno N] text", then ": 'file'" or ": 'file' -> 'file2'".
std::optional<std::string> ExceptionReader::OsErrorMessage(uint64_t exception) {
  const PyOffsets& o = objects_.offsets();
  if (!Has(o.oserror_errno) || !Has(o.oserror_strerror)) return std::nullopt;
  memory::MemoryReader& reader = objects_.reader();
  auto field = [&](int32_t offset) -> uint64_t {
    if (!Has(offset)) return 0;
    absl::StatusOr<uint64_t> value = ReadPointer(reader, exception + offset);
    return value.ok() && *value != objects_.types().none_object ? *value : 0;
  };
  uint64_t number = field(o.oserror_errno);
  uint64_t text = field(o.oserror_strerror);
  uint64_t filename = field(o.oserror_filename);
  uint64_t filename2 = field(o.oserror_filename2);
  if (filename != 0) {
    std::string head = absl::StrCat("[Errno ", Str(number), "] ", Str(text), ": ", Repr(filename));
    return filename2 != 0 ? absl::StrCat(head, " -> ", Repr(filename2)) : head;
  }
  if (number == 0 || text == 0) return std::nullopt;
  return absl::StrCat("[Errno ", Str(number), "] ", Str(text));
}

// Whether `type` is the builtin class `builtin_name` or inherits from it
// (followed through tp_base, the first base, which is where builtin
// exception classes sit in any class deriving from them).
bool ExceptionReader::DerivesFrom(uint64_t type, const char* builtin_name) {
  const PyOffsets& o = objects_.offsets();
  if (!Has(o.type_base)) return false;
  for (int i = 0; i < kMaxBaseClasses && type != 0; ++i) {
    absl::StatusOr<std::string> name = objects_.NameOfType(type);
    if (name.ok() && *name == builtin_name) return true;
    absl::StatusOr<uint64_t> base = ReadPointer(objects_.reader(), type + o.type_base);
    if (!base.ok()) return false;
    type = *base;
  }
  return false;
}

std::string ExceptionReader::Str(uint64_t object) {
  if (object == 0) return "";
  absl::StatusOr<bool> is_str = objects_.IsInstance(object, objects_.types().unicode);
  if (is_str.ok() && *is_str) {
    bool truncated = false;
    absl::StatusOr<std::string> text = objects_.ReadString(object, limits_.max_string, &truncated);
    if (text.ok()) return truncated ? *text + "..." : *text;
  }
  return Repr(object);
}

std::string ExceptionReader::Repr(uint64_t object) {
  ReprLimits limits = limits_;
  limits.structure = false;
  return ValueReader(objects_, limits).Read(object).repr;
}

std::string ExceptionLine(const PyExceptionLink& link) {
  return link.message.empty() ? link.type : absl::StrCat(link.type, ": ", link.message);
}

}  // namespace pyhang::python
