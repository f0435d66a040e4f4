#include "api/outcome.h"

#include <boost/json.hpp>

namespace crs::api {

const char* IssueTypeOf(Code code) {
  switch (code) {
    case Code::kInvalid: return "invalid";
    case Code::kUnauthenticated: return "login";
    case Code::kForbidden: return "forbidden";
    case Code::kNotFound: return "not-found";
    case Code::kMethodNotAllowed: return "not-supported";
    case Code::kNotAcceptable: return "not-supported";
    case Code::kConflict: return "conflict";
    case Code::kGone: return "deleted";
    case Code::kPreconditionFailed: return "conflict";
    case Code::kTooLarge: return "too-costly";
    case Code::kUnsupportedMedia: return "not-supported";
    case Code::kUnprocessable: return "processing";
    case Code::kPreconditionRequired: return "required";
    case Code::kRetryable: return "transient";
    case Code::kUnavailable: return "transient";
    case Code::kInternal: return "exception";
    case Code::kOk: return "informational";
  }
  return "exception";
}

namespace {

// The display texts the NHS APIs use (shared/nhs/pds/karate-stubs/errorResponses).
std::string_view SpineDisplay(std::string_view code) {
  if (code == "INVALID_RESOURCE_ID") return "Resource Id is invalid";
  if (code == "RESOURCE_VERSION_MISMATCH") {
    return "Resource version supplied does not match actual version";
  }
  if (code == "PRECONDITION_FAILED") return "Required condition was not fulfilled";
  if (code == "PRECONDITION_REQUIRED") return "Required condition was not supplied";
  if (code == "INVALID_VALUE") return "Provided value is invalid";
  if (code == "INVALID_IDENTIFIER_VALUE") return "Provided value is invalid";
  if (code == "DUPLICATE_REJECTED") return "Create would lead to creation of a duplicate resource";
  return code;
}

}  // namespace

std::string OperationOutcomeJson(std::string_view severity, std::string_view issue_code,
                                 std::string_view diagnostics, std::string_view expression,
                                 std::string_view spine_code) {
  boost::json::object issue;
  issue["severity"] = severity;
  issue["code"] = issue_code;
  if (!spine_code.empty()) {
    boost::json::object coding{{"system", kSpineErrorSystem},
                               {"version", "1"},
                               {"code", spine_code},
                               {"display", SpineDisplay(spine_code)}};
    issue["details"] = boost::json::object{{"coding", boost::json::array{std::move(coding)}}};
  }
  if (!diagnostics.empty()) issue["diagnostics"] = diagnostics;
  if (!expression.empty()) issue["expression"] = boost::json::array{boost::json::string(expression)};
  boost::json::object oo;
  oo["resourceType"] = "OperationOutcome";
  oo["issue"] = boost::json::array{std::move(issue)};
  return boost::json::serialize(oo);
}

void SetOutcome(int http_status, std::string body, http::Response* response) {
  response->status = http_status;
  response->SetHeader("Content-Type", std::string(kFhirJson));
  response->body = std::move(body);
}

void SetError(const Status& status, http::Response* response) {
  const char* severity = status.code() == Code::kInternal ? "fatal" : "error";
  SetOutcome(HttpStatusOf(status.code()),
             OperationOutcomeJson(severity, IssueTypeOf(status.code()), status.message(), {},
                                  status.detail()),
             response);
}

}  // namespace crs::api
