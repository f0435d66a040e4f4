// FHIR search: parsing a search URL's parameters into a store::SearchQuery
// (using the official SearchParameter definitions) and rendering searchset
// Bundles. Shared by type-level search and the conditional interactions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/subset.h"
#include "core/status.h"
#include "store/search_query.h"

namespace crs::api {

struct ParsedSearch {
  store::SearchQuery query;
  std::vector<std::string> warnings;  // parameters ignored (lenient handling)
  // The parameters that shaped the result, re-encoded, for self/next links.
  std::string canonical_params;
  bool summary_count = false;          // _summary=count
  bool total_requested = false;        // _total=accurate (or estimate)
  Subsetting subset;                   // _summary=true|text|data, _elements
};

// Parses `params` for a search on `type`. Unknown or unsupported parameters
// become warnings, or Invalid when `strict`. Malformed values, unknown
// modifiers and modifiers a parameter type does not have are Invalid.
// `fulltext`: the store keeps a full-text index (store::Store::KeepsFullText),
// so _text and _content are searched; otherwise they are unsupported.
Result<ParsedSearch> ParseSearch(std::string_view type,
                                 const std::vector<std::pair<std::string, std::string>>& params,
                                 bool strict, int default_count, int max_count,
                                 bool fulltext = false);

// Parses `params` for a system-level search (GET /fhir?...) spanning
// `types` (every resource type when empty; `_type` already taken out). A
// parameter counts as known only when every spanned type defines it with one
// parameter type; chains and _has are not supported there.
Result<ParsedSearch> ParseSystemSearch(
    const std::vector<std::string>& types,
    const std::vector<std::pair<std::string, std::string>>& params, bool strict, int default_count,
    int max_count, bool fulltext = false);

// The _cursor token for the page after a row with sort keys `keys` and
// position `rid` (a JSON array; plain `rid` when unsorted).
std::string SearchCursor(const std::vector<store::SortValue>& keys, int64_t rid);

// Percent-encodes a query-string component.
std::string QueryEscape(std::string_view s);

}  // namespace crs::api
