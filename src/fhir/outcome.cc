#include "fhir/outcome.h"

#include <boost/json.hpp>

namespace crs::fhir {

const char* SeverityCode(Severity severity) {
  switch (severity) {
    case Severity::kFatal:
      return "fatal";
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kInformation:
      return "information";
  }
  return "error";
}

const char* IssueTypeCode(IssueType code) {
  switch (code) {
    case IssueType::kInvalid:
      return "invalid";
    case IssueType::kStructure:
      return "structure";
    case IssueType::kRequired:
      return "required";
    case IssueType::kValue:
      return "value";
    case IssueType::kInvariant:
      return "invariant";
    case IssueType::kTooLong:
      return "too-long";
    case IssueType::kBusinessRule:
      return "business-rule";
    case IssueType::kNotSupported:
      return "not-supported";
    case IssueType::kProcessing:
      return "processing";
    case IssueType::kInformational:
      return "informational";
  }
  return "invalid";
}

bool HasErrors(const std::vector<Issue>& issues) {
  for (const Issue& issue : issues) {
    if (issue.severity == Severity::kError || issue.severity == Severity::kFatal) return true;
  }
  return false;
}

std::string ToString(const Issue& issue) {
  std::string out = SeverityCode(issue.severity);
  out += " [";
  out += IssueTypeCode(issue.code);
  out += "] ";
  if (!issue.location.empty()) {
    out += issue.location;
    out += ": ";
  }
  out += issue.message;
  return out;
}

boost::json::value MakeOperationOutcome(const std::vector<Issue>& issues) {
  boost::json::array out_issues;
  for (const Issue& issue : issues) {
    boost::json::object o;
    o["severity"] = SeverityCode(issue.severity);
    o["code"] = IssueTypeCode(issue.code);
    if (!issue.message.empty()) o["diagnostics"] = issue.message;
    if (!issue.location.empty()) o["expression"] = boost::json::array{issue.location.c_str()};
    out_issues.emplace_back(std::move(o));
  }
  if (out_issues.empty()) {
    out_issues.emplace_back(boost::json::object{
        {"severity", "information"}, {"code", "informational"}, {"diagnostics", "All OK"}});
  }
  return boost::json::object{{"resourceType", "OperationOutcome"},
                             {"issue", std::move(out_issues)}};
}

}  // namespace crs::fhir
