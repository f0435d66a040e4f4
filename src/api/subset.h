// Subsetting a resource for _summary=true|text|data and _elements
// (https://hl7.org/fhir/R4/search.html#summary, #elements), on search, read
// and vread. Which elements are "summary" comes from the official
// StructureDefinitions' isSummary flags, carried in the generated model
// (tools/gen_fhir_model.py, fhir/model.h ElementDef::summary); mandatory
// elements (min >= 1) are always kept. A subsetted resource is tagged
// SUBSETTED so that it is never mistaken for the whole.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace crs::api {

struct Subsetting {
  enum class Summary { kFalse, kTrue, kText, kData };
  Summary summary = Summary::kFalse;
  // _elements: element names ("name", "birthDate"), possibly "Type.name"
  // for one type of a multi-type search; empty = not requested.
  std::vector<std::string> elements;

  bool active() const { return summary != Summary::kFalse || !elements.empty(); }
};

// Reads _summary (true, text, data, false; count is the search's business and
// is skipped here) and _elements from `params`. Invalid for another _summary
// value or an empty _elements.
Result<Subsetting> ParseSubsetting(const std::vector<std::pair<std::string, std::string>>& params);

// The resource JSON `body` of `type` subsetted as `s` asks (with the
// SUBSETTED tag); `body` itself when nothing is asked or it cannot be parsed.
// `apply_elements` false leaves _elements out (included resources).
std::string SubsetResource(std::string_view type, const std::string& body, const Subsetting& s,
                           bool apply_elements = true);

inline constexpr std::string_view kSubsettedSystem =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

}  // namespace crs::api
