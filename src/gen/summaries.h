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

}  // namespace crs::gen
