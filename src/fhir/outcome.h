// Validation and processing issues, and the FHIR OperationOutcome that reports them.
//
// An Issue is what the validator (and later other checks) find wrong with a request;
// MakeOperationOutcome() turns a list of them into the OperationOutcome resource the
// server returns. Messages are written for the client that sent the content: they may
// quote (a bounded prefix of) the offending value, never other stored data.
//
// Thread safety: plain values and a pure function.
#pragma once

#include <boost/json/fwd.hpp>
#include <string>
#include <vector>

namespace crs::fhir {

// OperationOutcome.issue.severity.
enum class Severity { kFatal, kError, kWarning, kInformation };

// OperationOutcome.issue.code (value set issue-type), the subset we produce.
enum class IssueType {
  kInvalid,        // "invalid": content invalid against the specification
  kStructure,      // "structure": structural issue (unknown element, JSON shape, syntax)
  kRequired,       // "required": a required element is missing
  kValue,          // "value": an element value is invalid for its type
  kInvariant,      // "invariant": a validation rule (constraint) failed
  kTooLong,        // "too-long": content too long
  kBusinessRule,   // "business-rule": a rule of the server or the specification
  kNotSupported,   // "not-supported"
  kProcessing,     // "processing"
  kInformational,  // "informational"
};

struct Issue {
  Severity severity = Severity::kError;
  IssueType code = IssueType::kInvalid;
  std::string message;   // human-readable; goes to issue.diagnostics
  std::string location;  // FHIRPath expression, e.g. "Patient.name[0].given[1]";
                         // empty when the issue concerns the whole document
};

// "fatal", "error", "warning", "information".
const char* SeverityCode(Severity severity);
// "invalid", "structure", "required", ...
const char* IssueTypeCode(IssueType code);

// True when any issue is an error or fatal.
bool HasErrors(const std::vector<Issue>& issues);

// Formats an issue as "error [structure] Patient.name[0]: message", for logs and tests.
std::string ToString(const Issue& issue);

// An OperationOutcome with one issue per entry (severity, code, diagnostics, and
// expression when the location is known). With no issues, a single informational
// "All OK" issue, since OperationOutcome.issue is 1..*.
boost::json::value MakeOperationOutcome(const std::vector<Issue>& issues);

}  // namespace crs::fhir
