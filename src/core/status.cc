#include "core/status.h"

namespace crs {

int HttpStatusOf(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalid: return 400;
    case Code::kUnauthenticated: return 401;
    case Code::kForbidden: return 403;
    case Code::kNotFound: return 404;
    case Code::kMethodNotAllowed: return 405;
    case Code::kNotAcceptable: return 406;
    case Code::kConflict: return 409;
    case Code::kGone: return 410;
    case Code::kPreconditionFailed: return 412;
    case Code::kTooLarge: return 413;
    case Code::kUnsupportedMedia: return 415;
    case Code::kUnprocessable: return 422;
    case Code::kPreconditionRequired: return 428;
    case Code::kRetryable: return 503;
    case Code::kUnavailable: return 503;
    case Code::kInternal: return 500;
  }
  return 500;
}

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalid: return "invalid";
    case Code::kUnauthenticated: return "unauthenticated";
    case Code::kForbidden: return "forbidden";
    case Code::kNotFound: return "not-found";
    case Code::kMethodNotAllowed: return "method-not-allowed";
    case Code::kNotAcceptable: return "not-acceptable";
    case Code::kConflict: return "conflict";
    case Code::kGone: return "gone";
    case Code::kPreconditionFailed: return "precondition-failed";
    case Code::kTooLarge: return "too-large";
    case Code::kUnsupportedMedia: return "unsupported-media-type";
    case Code::kUnprocessable: return "unprocessable";
    case Code::kPreconditionRequired: return "precondition-required";
    case Code::kRetryable: return "retryable";
    case Code::kUnavailable: return "unavailable";
    case Code::kInternal: return "internal";
  }
  return "internal";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace crs
