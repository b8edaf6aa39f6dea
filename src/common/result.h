// Result<T>: a value or a non-OK Status (the StatusOr<T> design). A Result never
// holds an OK status without a value.
#ifndef KSDB_COMMON_RESULT_H_
#define KSDB_COMMON_RESULT_H_

#include <cstdlib>
#include <utility>
#include <variant>

#include "common/status.h"

namespace ksdb {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : state_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(state_).ok()) {
      state_ = Status::Internal("Result constructed from an OK status without a value");
    }
  }

  bool ok() const { return std::holds_alternative<T>(state_); }
  // The error; OK when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(state_); }

  // Precondition: ok(). Checked: a violation aborts rather than reading garbage.
  T& value() & { CheckOk(); return std::get<T>(state_); }
  const T& value() const& { CheckOk(); return std::get<T>(state_); }
  T&& value() && { CheckOk(); return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void CheckOk() const {
    if (!ok()) std::abort();
  }
  std::variant<Status, T> state_;
};

}  // namespace ksdb

#define KSDB_CONCAT_INNER_(a, b) a##b
#define KSDB_CONCAT_(a, b) KSDB_CONCAT_INNER_(a, b)

// `lhs = value of expr` when expr (a Result) is OK, otherwise returns its Status.
// Expands to several statements: always use inside braces.
#define KSDB_ASSIGN_OR_RETURN(lhs, expr) \
  KSDB_ASSIGN_OR_RETURN_IMPL_(KSDB_CONCAT_(ksdb_result_, __LINE__), lhs, expr)
#define KSDB_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#endif  // KSDB_COMMON_RESULT_H_
