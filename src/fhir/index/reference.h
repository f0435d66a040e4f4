// Reading reference strings the way the index stores them; also for the search layer,
// which must read a query's reference value (`subject=Patient/123`) the same way.
//
//   "Patient/123"                        kRelative  type Patient, id 123
//   "Patient/123/_history/4"             kRelative  ... version "4"
//   "https://h/fhir/Patient/123"         kAbsolute  type, id, url = the reference
//   "https://h/fhir/Patient/1/_history/2" kAbsolute url without "/_history/2", version 2
//   "#med1"                              kContained id med1 (type: from the container)
//   "urn:uuid:...", "Patient?name=x",
//   "https://h/some/thing"               kOther     url only
//
// A Type/id pair needs a concrete R4 resource type and a valid id.
//
// Thread safety: pure functions.
#pragma once

#include <string_view>

#include "fhir/index/index_entries.h"

namespace crs::fhir::index {

// Views into the parsed text.
struct ParsedReference {
  ReferenceKind kind = ReferenceKind::kOther;
  std::string_view target_type;
  std::string_view target_id;
  std::string_view version;
  std::string_view url;  // kAbsolute, kCanonical, kOther
};

// A Reference.reference value (or a search value for a reference parameter).
ParsedReference ParseReference(std::string_view reference);

// A canonical ("http://x.org/fhir/ValueSet/abc|1.2"): kind kCanonical, url before
// the last '|', version after it; target type/id when the URL ends in Type/id.
ParsedReference ParseCanonical(std::string_view canonical);

}  // namespace crs::fhir::index
