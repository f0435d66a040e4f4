// The Summary Care Record document (docs/summary.md): turning an uploaded
// FHIR document Bundle into the one the national node keeps, and rendering
// its human-readable narrative.
//
// Thread safety: pure functions.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "access/sensitive.h"
#include "core/status.h"

namespace crs::api {

// SNOMED CT "General Practice Summary": Composition.type and DocumentReference.type.
inline constexpr std::string_view kScrDocumentCode = "196981000000101";

// The id of a patient's summary document (Bundle) and of its Provenance.
std::string SummaryId(std::string_view nhs);

// The part of the summary an entry of `type` belongs to: the patient's
// identity and the people and organisations the document names (kSupport),
// the core summary (allergies, medication) or additional information
// (everything clinical else: problems, procedures, immunisations, care
// preferences, observations, encounters...).
enum class EntryPart { kSupport, kCore, kAdditional };
EntryPart EntryPartOf(std::string_view type);

struct SummaryRules {
  const access::SensitiveCodes* sensitive = nullptr;  // required
  bool additional = false;  // the patient has explicitly consented to additional information
  // Acute medication dated more than 12 months before this moment is left
  // out; 0 keeps it all.
  int64_t now_ms = 0;
};

struct BuiltSummary {
  boost::json::value document;  // the Bundle to store (id SummaryId(nhs))
  std::string nhs;              // the subject's NHS number
  int sensitive_dropped = 0;    // items (and sections) left out: sensitive codes
  int additional_dropped = 0;   // items (and sections) left out: no explicit consent
  int acute_expired_dropped = 0;  // acute medication more than 12 months old
  int kept = 0;                 // clinical items kept
};

// The subject's NHS number of an uploaded document Bundle: Invalid when the
// first entry is not a Composition ("Composition missing from payload") or
// the subject names no NHS number.
Result<std::string> SummarySubject(const boost::json::value& upload);

// Validates an uploaded document Bundle and builds the summary to keep:
//   - Invalid: not a document, no Composition first, a reference that does
//     not resolve within the Bundle, a clinical item without a code, a
//     subject without a valid NHS number;
//   - sensitive items and, without `rules.additional`, additional
//     information are left out (with the Composition sections that show
//     them), and references to what was left out are removed;
//   - the subject becomes Patient/<nhs> throughout; Composition.text gets a
//     generated narrative (SummaryNarrative).
Result<BuiltSummary> BuildSummary(const boost::json::value& upload, const SummaryRules& rules);

// Acute medication in a stored summary that is more than 12 months old at
// `now_ms` ("Type/id" of each): the view leaves it out. Acute: a
// MedicationRequest with courseOfTherapyType "acute", or an item of an
// AcuteMedsHeader section; dated by the latest of authoredOn,
// effective[x] and dateAsserted. Undated items are kept.
std::set<std::string> ExpiredAcuteItems(const boost::json::object& bundle, int64_t now_ms);

// Whether the stored summary text `body` may hold such items at `now_ms`,
// without parsing it: BuildSummary records the oldest acute item's date in
// a Composition extension (urn:opencrs:acute-medication-oldest).
bool MayHoldExpiredAcute(std::string_view body, int64_t now_ms);

// The narrative (an XHTML div) of a stored summary Bundle; entries for which
// `shown` answers false are left out. The allergy heading follows the NHS
// CUI wording: "Known allergies", "No known allergies" or "Allergies not
// recorded".
std::string SummaryNarrative(const boost::json::object& bundle,
                             const std::function<bool(const boost::json::object&)>& shown);

}  // namespace crs::api
