// Internal to crs_fhir_index: turning one FHIRPath result item into index rows for
// a parameter of a given type. extract.cc drives it; tests reach it through
// ExtractIndex().
//
// Which parts of a datatype each parameter type indexes follows the FHIR R4 search
// specification (docs/search-index.md has the table). Values of a kind a parameter
// type cannot hold (a Quantity under a token parameter) yield nothing and are
// counted in ExtractStats.
//
// Thread safety: pure functions.
#pragma once

#include <string_view>

#include "fhir/fhirpath/value.h"
#include "fhir/index/index_entries.h"
#include "fhir/search_params.h"

namespace boost::json {
class value;
}

namespace crs::fhir::index {

struct ExtractStats;

namespace internal {

struct RowContext {
  const boost::json::value* resource = nullptr;  // for contained references
  std::string_view resource_type;                // for ExtractStats keys
  ExtractStats* stats = nullptr;                 // optional
};

// Appends the rows `item` yields as a value of parameter `param` of `type` (not
// composite or special) to the matching table of `out`.
void AppendRows(SearchParamType type, std::string_view param, const fhirpath::Item& item,
                const RowContext& ctx, IndexEntries* out);

}  // namespace internal
}  // namespace crs::fhir::index
