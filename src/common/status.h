// Status: the result of a fallible operation, an error code plus a message.
//
// Codes are few on purpose; server/ maps each one to exactly one HTTP status and
// Chroma error name. No exception crosses a layer boundary: third-party code that
// throws is caught at the call site and turned into a Status.
#ifndef KSDB_COMMON_STATUS_H_
#define KSDB_COMMON_STATUS_H_

#include <string>
#include <string_view>
#include <utility>

namespace ksdb {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // semantically invalid input (HTTP 400)
  kInvalidShape,      // well-formed JSON of the wrong shape (HTTP 422)
  kDuplicateId,       // duplicate ids inside one add (HTTP 400 DuplicateID)
  kNotFound,          // tenant/database/collection missing (HTTP 404)
  kAlreadyExists,     // name taken (HTTP 409)
  kForbidden,         // e.g. reset disabled (HTTP 403)
  kUnimplemented,     // route/feature not supported (HTTP 501)
  kPayloadTooLarge,   // request body over the limit (HTTP 413)
  kUnavailable,       // transient: store busy or unreachable (HTTP 503)
  kIoError,           // disk or database failure (HTTP 500)
  kCorruption,        // stored data failed its checks (HTTP 500)
  kInternal,          // broken invariant (HTTP 500)
};

// Returns a stable name for `code`, e.g. "InvalidArgument". Never null.
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status InvalidShape(std::string msg) { return {StatusCode::kInvalidShape, std::move(msg)}; }
  static Status DuplicateId(std::string msg) { return {StatusCode::kDuplicateId, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status Forbidden(std::string msg) { return {StatusCode::kForbidden, std::move(msg)}; }
  static Status Unimplemented(std::string msg) { return {StatusCode::kUnimplemented, std::move(msg)}; }
  static Status PayloadTooLarge(std::string msg) { return {StatusCode::kPayloadTooLarge, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status IoError(std::string msg) { return {StatusCode::kIoError, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: message", or "OK".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace ksdb

// Evaluates `expr` (a Status); returns it from the enclosing function if not OK.
#define KSDB_RETURN_IF_ERROR(expr)            \
  do {                                        \
    ::ksdb::Status ksdb_status_ = (expr);     \
    if (!ksdb_status_.ok()) return ksdb_status_; \
  } while (0)

#endif  // KSDB_COMMON_STATUS_H_
