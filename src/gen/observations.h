// A patient's vital-sign Observations for `crs gen --observations N`: the
// measurements a practice records at appointments (weight, height, blood
// pressure, heart rate, temperature, BMI), coded in LOINC with UCUM
// quantities, so that searches over Observations (dates, quantities,
// composites such as code-value-quantity and component-code-value-quantity)
// can be benchmarked on a realistic population.
//
// Thread safety: stateless apart from the caller's Rng and buffer.
#pragma once

#include <string>

#include "gen/population.h"
#include "gen/random.h"
#include "gen/summaries.h"

namespace crs::gen {

// Emits `count` Observation resources for `subject` through `sink`, ids
// "<nhs>-o1" ... "<nhs>-o<count>", dated in the five years before
// subject.today_days (never before birth), values plausible for the
// subject's age and sex.
void EmitObservations(Rng& rng, const SummarySubject& subject, int count, std::string& buffer,
                      const ResourceSink& sink);

}  // namespace crs::gen
