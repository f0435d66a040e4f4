// A patient's summary items for `crs gen --summaries`: allergies (or "no
// known allergies"), long-term conditions by age-dependent prevalence, and
// the medications usually prescribed for them.
//
// Thread safety: stateless apart from the caller's Rng and buffer.
#pragma once

#include <string>
#include <string_view>

#include "gen/names.h"
#include "gen/population.h"
#include "gen/random.h"

namespace crs::gen {

struct SummarySubject {
  std::string_view nhs_number;
  Sex sex = Sex::kFemale;
  int age = 0;          // in whole years on kPopulationDate
  int birth_days = 0;   // day numbers (days since 1970-01-01)
  int today_days = 0;
};

// Emits zero or more AllergyIntolerance, Condition and MedicationStatement
// resources for `subject` through `sink`, using `buffer` as scratch space.
// Resource ids are "<nhs>-a1", "<nhs>-c1", "<nhs>-m1", ...
void EmitSummaries(Rng& rng, const SummarySubject& subject, std::string& buffer,
                   const ResourceSink& sink);

// The practice that writes a patient's Summary Care Record.
struct SummaryAuthor {
  std::string_view ods;   // ODS code
  std::string_view name;
};

// Emits what a patient's GP practice sends the national node: usually one
// Summary Care Record upload (a FHIR `document` Bundle, id "<nhs>-scr":
// a "General Practice Summary" Composition with the sections
// AllergiesHeader, RepeatMedsHeader and ProblemsHeader, the patient's
// NHS-number stub, the practice, and the items EmitSummaries draws with the
// same `rng`, entries named `urn:uuid:<item id>`), and the patient's
// consent decisions as `Consent` resources ("<nhs>-consent-scr",
// "<nhs>-consent-add"), emitted before the document:
//   - 1.5% dissent from the Summary Care Record: a `deny`, and no document;
//   - 10% of the rest explicitly agree to additional information: a
//     `permit` for urn:opencrs:consent:scr-additional, so their problems
//     (Conditions, additional information) are kept by the national node.
void EmitSummaryDocument(Rng& rng, const SummarySubject& subject, const SummaryAuthor& author,
                         std::string& buffer, const ResourceSink& sink);

}  // namespace crs::gen
