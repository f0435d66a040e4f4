// The synthetic population of England behind `crs gen`: GP practices
// (Organization) and registered patients (Patient), optionally with each
// patient's summary items (AllergyIntolerance, MedicationStatement,
// Condition), as one FHIR R4 JSON resource per call of a sink.
//
// Output is a pure function of (patients, seed, summaries): no clock, no
// global state, and a portable random generator, so the same options give
// byte-identical output on every run and machine. Memory is O(practices):
// every patient is built, emitted and forgotten. See docs/gen.md for what is
// modelled and how closely.
//
// Thread safety: Generate may run on several threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "nhs/nhs_number.h"

namespace crs::gen {

struct GenOptions {
  std::uint64_t patients = 0;
  std::uint64_t seed = 1;
  // Each patient's Summary Care Record as the document (and consents) their
  // practice uploads to a national node (EmitSummaryDocument).
  bool summaries = false;
  // Each patient's allergies, medications and conditions as separate
  // resources, as a GP practice's own (local) node holds them (EmitSummaries).
  bool records = false;
  // Vital-sign Observations per patient, as loose resources
  // (EmitObservations): for search benchmarks over clinical data.
  int observations = 0;
};

// Receives one resource as compact JSON (no trailing newline). The view is
// valid only during the call.
using ResourceSink = std::function<void(std::string_view resource)>;

// Number of GP practices generated for `patients` patients (about one per
// 8,800 patients, as in England; at least one).
std::uint64_t PracticeCount(std::uint64_t patients);

// The rest of the 9-prefixed numbers, never issued to patients (PDS sandbox
// numbers such as 9000000009 are here too): used once the 999 range, which
// holds only 909,091 valid numbers, is exhausted.
inline constexpr nhs::NhsNumberRange kOverflowNhsNumberRange{9000000000ULL, 9989999999ULL};

// The NHS number of the `serial`-th patient (0-based): the test range
// 999 000 0000 - 999 999 9999 in increasing order, then
// kOverflowNhsNumberRange. Distinct for distinct serials; always valid.
// Errors: Unavailable past the end of both ranges.
Result<std::string> PatientNhsNumber(std::uint64_t serial);

// Emits all practices, then each patient followed by their summary items.
// Patient i gets PatientNhsNumber(i). Errors: Invalid when `patients` is
// more than the two ranges hold (about 91 million).
Status Generate(const GenOptions& options, const ResourceSink& sink);

// The date every age and period is relative to ("today" of the population).
inline constexpr std::string_view kPopulationDate = "2025-01-01";

}  // namespace crs::gen
