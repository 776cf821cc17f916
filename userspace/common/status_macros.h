// The two Status helpers Abseil 20220623 does not ship.
#ifndef PYHANG_USERSPACE_COMMON_STATUS_MACROS_H_
#define PYHANG_USERSPACE_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PYHANG_CONCAT_INNER_(a, b) a##b
#define PYHANG_CONCAT_(a, b) PYHANG_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                        \
  do {                                               \
    ::absl::Status pyhang_status_ = (expr);          \
    if (!pyhang_status_.ok()) return pyhang_status_; \
  } while (0)

// `lhs = value of expr`, or return its status if `expr` (an absl::StatusOr)
// failed. `lhs` may declare a variable: ASSIGN_OR_RETURN(auto x, F());
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(PYHANG_CONCAT_(pyhang_statusor_, __LINE__), lhs, expr)

#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                           \
  if (!statusor.ok()) return statusor.status();     \
  lhs = std::move(statusor).value()

#endif  // PYHANG_USERSPACE_COMMON_STATUS_MACROS_H_
