// Search-index extraction: the rows a resource contributes to the index tables,
// computed in the same transaction as its write (DESIGN.md, "What a write stores").
//
//   CRS_ASSIGN_OR_RETURN(IndexEntries rows, ExtractIndex(resource));
//   // insert rows.strings into the string table, rows.tokens into the token table...
//
// Every search parameter of the resource's type is evaluated (IndexRegistry:
// the official R4 definitions, FHIRPath compiled once per type, typed by the R4
// model), including the common _id, _lastUpdated, _tag, _profile, _security and
// _source. Not extracted: _text, _content and _query (no expression; left to the
// server), and the one special parameter (Location near). The row types, their
// columns and the normalisation and precision rules are in index_entries.h and
// docs/search-index.md.
//
// A parameter whose expression fails on this resource (a singleton expected, a
// value of the wrong type) is skipped with an IndexWarning: extraction never fails
// a write over index data. The same holds for values no row can hold (a Quantity
// under a token parameter), which are only counted in ExtractStats.
//
// Thread safety: pure; call from any number of threads.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "core/status.h"
#include "fhir/index/index_entries.h"

namespace boost::json {
class value;
}

namespace crs::fhir::index {

class IndexRegistry;

// Counters of one or more extractions (accumulated across calls).
struct ExtractStats {
  size_t resources = 0;
  size_t evaluations = 0;  // (parameter, resource) expression evaluations
  size_t warnings = 0;
  // Values of a kind the parameter type has no row for, by
  // "<parameter type>:<FHIR type> (<resource type>.<code>)", e.g.
  // "reference:Attachment (Consent.source-reference)"; System.X for computed values.
  std::map<std::string, size_t> unindexed;
};

// The index rows of `resource`, whose resourceType names the type. Invalid when
// `resource` is not a JSON object with a string resourceType naming a concrete R4
// resource type. `stats`, when given, is added to.
Result<IndexEntries> ExtractIndex(const boost::json::value& resource);
Result<IndexEntries> ExtractIndex(const boost::json::value& resource, ExtractStats* stats);

// As above, with the parameters of `registry` instead of IndexRegistry::Get() (tests,
// custom parameters). The rows' `param` views then point into `registry`, which must
// outlive them. `stats` may be null.
Result<IndexEntries> ExtractIndex(const IndexRegistry& registry, const boost::json::value& resource,
                                  ExtractStats* stats);

}  // namespace crs::fhir::index
