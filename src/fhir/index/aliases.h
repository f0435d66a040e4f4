// Search parameters whose rows would duplicate another parameter's rows.
//
// R4 defines `phonetic` on Patient, Person, Practitioner and RelatedPerson
// with the same expression as `name`. Until a real phonetic key exists its
// rows would be copies of name's, so they are not stored and a phonetic
// search reads name's rows. Only parameters whose expression for the type is
// identical to the stand-in's are aliased (Organization's phonetic is not:
// its name parameter also covers alias).
//
// Thread safety: pure functions over the immutable registry.
#pragma once

#include <string_view>

namespace crs::fhir::index {

// The parameter code whose index rows answer `code` on `type`: `code` itself,
// or the parameter it duplicates.
std::string_view StoredParamFor(std::string_view type, std::string_view code);

}  // namespace crs::fhir::index
