// Patient demographics rules, PDS-style (docs/demographics.md): a Patient's
// id is its NHS number, updates need If-Match, old names and addresses are
// kept, restricted patients' contact details are withheld, and a superseded
// record leads to the surviving one.
//
// Thread safety: pure functions over values.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "access/policy.h"
#include "core/status.h"

namespace crs::api {

// Invalid with Spine code INVALID_RESOURCE_ID unless `id` is a valid NHS number.
Status CheckPatientId(std::string_view id);

// The NHS number a Patient's identifier carries (system
// https://fhir.nhs.uk/Id/nhs-number), or "" when it carries none. Invalid
// (INVALID_IDENTIFIER_VALUE) when a value is missing or not a valid NHS
// number, or two such identifiers differ.
Result<std::string> NhsNumberOf(const boost::json::value& patient);

// Makes a Patient's NHS-number identifier agree with its id: Invalid
// (INVALID_IDENTIFIER_VALUE) when the body names another number (or an
// invalid one); appends {system, value: id} when it names none.
Status BindNhsNumber(boost::json::value& patient, std::string_view id);

// An update of an existing Patient without If-Match: PreconditionFailed
// (412) with Spine code PRECONDITION_REQUIRED.
Status PatientIfMatchRequired();
// An update of a Patient whose If-Match names another version: Conflict
// (409) with Spine code RESOURCE_VERSION_MISMATCH.
Status PatientVersionMismatch(std::string message);

// Keeps name and address history: every entry of `before`'s `name` and
// `address` that `after` no longer holds unchanged is appended to `after`
// with period.end set to the date of `now_ms` (UTC) when it had no end.
// Entries already ended are kept as they are. Both must be Patient objects.
void KeepDemographicHistory(const boost::json::value& before, boost::json::value& after,
                            int64_t now_ms);

// Whether `caller` sees the contact details of a restricted Patient
// `patient`: the system role and the patient themselves (and everyone when
// access control is off: caller null).
bool SeesRestrictedDemographics(const access::Caller* caller, std::string_view patient);

// Whether a Patient body carries confidentiality R in meta.security.
bool IsRestrictedPatientBody(std::string_view body);

// Whether `caller` gets a resource of `type` belonging to `patient` with
// access-fact `labels` without its contact details: a restricted Patient
// (kRestricted) the caller may not see in full.
bool WithholdsContactDetails(const access::Caller* caller, std::string_view type,
                             std::string_view patient, uint32_t labels);

// A Patient body without address, telecom and generalPractitioner.
std::string WithoutContactDetails(std::string_view body);

// The id of the Patient that supersedes this one (a link of type
// "replaced-by" to Patient/<id>), or nullopt.
std::optional<std::string> ReplacedBy(std::string_view patient_body);

}  // namespace crs::api
