// OperationOutcome responses: every error the API returns goes through here,
// so the status code and the body always agree.
//
// Messages must never contain personal data: callers pass descriptions of
// what went wrong, not the values that were sent.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "http/request.h"

namespace crs::api {

// FHIR issue-type code ("invalid", "not-found", "conflict", ...) for a Status code.
const char* IssueTypeOf(Code code);

// CodeSystem of the NHS Spine error codes carried in issue.details.
inline constexpr std::string_view kSpineErrorSystem =
    "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode";

// A single-issue OperationOutcome as JSON text. A non-empty `spine_code`
// (e.g. "INVALID_RESOURCE_ID") goes into issue.details.coding with
// kSpineErrorSystem, as the NHS APIs answer.
std::string OperationOutcomeJson(std::string_view severity, std::string_view issue_code,
                                 std::string_view diagnostics,
                                 std::string_view expression = {},
                                 std::string_view spine_code = {});

// Fills `response` with the OperationOutcome for `status` (which must not be
// OK); status.detail(), when set, is reported as the Spine error code.
void SetError(const Status& status, http::Response* response);

// Fills `response` with a status and a ready-made OperationOutcome body.
void SetOutcome(int http_status, std::string body, http::Response* response);

inline constexpr std::string_view kFhirJson = "application/fhir+json; charset=utf-8";

}  // namespace crs::api
