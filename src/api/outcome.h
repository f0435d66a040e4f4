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

// A single-issue OperationOutcome as JSON text.
std::string OperationOutcomeJson(std::string_view severity, std::string_view issue_code,
                                 std::string_view diagnostics,
                                 std::string_view expression = {});

// Fills `response` with the OperationOutcome for `status` (which must not be OK).
void SetError(const Status& status, http::Response* response);

// Fills `response` with a status and a ready-made OperationOutcome body.
void SetOutcome(int http_status, std::string body, http::Response* response);

inline constexpr std::string_view kFhirJson = "application/fhir+json; charset=utf-8";

}  // namespace crs::api
