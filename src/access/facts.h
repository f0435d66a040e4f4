// Access facts: what the access layer needs to know about a resource to decide
// who may see it (store::AccessFacts), computed from the resource when it is
// written and stored beside it, so that searches can apply the decision
// inside the query.
//
// Thread safety: pure functions.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fhir/index/index_entries.h"
#include "store/store.h"

namespace crs::access {

inline constexpr std::string_view kNhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number";
inline constexpr std::string_view kOdsSystem = "https://fhir.nhs.uk/Id/ods-organization-code";
inline constexpr std::string_view kConfidentialitySystem =
    "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
inline constexpr std::string_view kActCodeSystem = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

// (resource type, reference parameter code) pairs linking a resource to a
// Patient, from the official CompartmentDefinition/patient.
const std::vector<std::pair<std::string, std::string>>& PatientCompartmentLinks();

// The patient-compartment reference parameters of `type` (empty when the
// type is not in the compartment).
std::vector<std::string_view> PatientLinkParams(std::string_view type);

// Facts of `resource` (of `type`, with id `id`) whose search-index rows are
// `entries` (may be null), written by organisation `author_org`:
//   - patient: the id for a Patient; otherwise the one patient named by the
//     type's patient-compartment references (by reference, or by
//     Reference.identifier with an NHS number); for a document Bundle (a
//     Summary Care Record), its Composition's subject ("?" when that cannot
//     be resolved to a patient); for another type outside the compartment
//     (Bundle, Binary...), any Patient reference, bundled Patient or
//     NHS-number identifier anywhere in it; "" when none, "*" when several;
//   - labels from meta.security (R, V, CEL, EMP);
//   - relationship_orgs: ODS codes of a registration (Patient.generalPractitioner),
//     an active EpisodeOfCare or CareTeam (managingOrganization), an open
//     Encounter (serviceProvider) or an active ServiceRequest (performer).
store::AccessFacts ComputeFacts(std::string_view type, std::string_view id,
                                const boost::json::value& resource,
                                const fhir::index::IndexEntries* entries,
                                std::string_view author_org);

}  // namespace crs::access
