// The GP summary a local practice node uploads to the national node
// (docs/federation.md "Summary flow"), built from its own records.
//
// Thread safety: pure functions over a thread-safe Store.
#pragma once

#include <string>
#include <string_view>

#include "access/sensitive.h"
#include "core/status.h"
#include "store/store.h"

namespace crs::federation {

// Whether a change to a resource of `type` changes the summary: allergies
// and adverse reactions, medication statements and requests.
bool IsSummaryType(std::string_view type);

// The patient's current General Practice Summary as a FHIR document Bundle
// (Composition SNOMED CT 196981000000101 first, then a Patient entry naming
// the NHS number, the practice's Organization, and the items), for
// POST /fhir/Bundle on the national node (docs/summary.md):
//   - AllergyIntolerance not entered in error (refuted ones left out);
//   - MedicationStatement active or intended, and MedicationRequest active,
//     on hold or completed: repeats (courseOfTherapyType continuous, and
//     statements) under RepeatMedsHeader, the others, when authored in the
//     last 12 months, under AcuteMedsHeader;
//   - no item with a sensitive code: those never leave the practice;
//   - references to anything but the patient are removed (the national
//     node holds the summary, not the practice's whole record).
// `now_ms` dates the document. Its identifier is derived from the patient
// and `version_tag`, so an upload retried for the same change is the same
// document.
Result<std::string> BuildGpSummary(store::Store& store, std::string_view nhs,
                                   std::string_view ods, const access::SensitiveCodes& sensitive,
                                   int64_t now_ms, std::string_view version_tag);

}  // namespace crs::federation
