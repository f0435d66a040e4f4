// Status and Result<T>: how every layer reports failure.
//
// The codes form a closed set that maps one-to-one onto HTTP statuses and
// OperationOutcome issue codes (see api/outcome.h). Exceptions never cross a
// layer boundary; a library that throws is caught in the file that wraps it.
//
// Thread safety: value types; safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace crs {

enum class Code {
  kOk = 0,
  kInvalid,             // 400: malformed or semantically wrong input
  kUnauthenticated,     // 401
  kForbidden,           // 403
  kNotFound,            // 404
  kMethodNotAllowed,    // 405
  kNotAcceptable,       // 406
  kConflict,            // 409: version conflict, duplicate
  kGone,                // 410: deleted
  kPreconditionFailed,  // 412: If-Match / conditional failed
  kTooLarge,            // 413
  kUnsupportedMedia,    // 415
  kUnprocessable,       // 422: valid JSON, invalid resource
  kPreconditionRequired,// 428
  kRetryable,           // transient backend condition (busy, serialisation); callers may retry
  kUnavailable,         // 503
  kInternal,            // 500
};

// Returns the HTTP status that represents `code`.
int HttpStatusOf(Code code);
// Returns a short stable name ("not-found", ...), for logs.
const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status Invalid(std::string m) { return {Code::kInvalid, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status Gone(std::string m) { return {Code::kGone, std::move(m)}; }
  static Status Forbidden(std::string m) { return {Code::kForbidden, std::move(m)}; }
  static Status PreconditionFailed(std::string m) {
    return {Code::kPreconditionFailed, std::move(m)};
  }
  static Status Unprocessable(std::string m) { return {Code::kUnprocessable, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

  // An optional machine-readable reason, finer than the code: the API reports
  // it as a Spine-ErrorOrWarningCode in OperationOutcome.issue.details (e.g.
  // "INVALID_RESOURCE_ID"). Empty when there is none.
  const std::string& detail() const { return detail_; }
  Status WithDetail(std::string detail) const {
    Status s = *this;
    s.detail_ = std::move(detail);
    return s;
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string detail_;
};

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                              // NOLINT
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace crs

#define CRS_CONCAT_INNER(a, b) a##b
#define CRS_CONCAT(a, b) CRS_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define CRS_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::crs::Status crs_status_ = (expr);        \
    if (!crs_status_.ok()) return crs_status_; \
  } while (0)

// Declares `lhs` from a Result expression, returning its Status on failure.
#define CRS_ASSIGN_OR_RETURN(lhs, expr) \
  CRS_ASSIGN_OR_RETURN_IMPL(CRS_CONCAT(crs_result_, __LINE__), lhs, expr)
#define CRS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
