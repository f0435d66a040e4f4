// _include / _revinclude for a page of search matches (store/search_query.h),
// over the shared table layout, for any SQL backend.
#pragma once

#include <functional>
#include <vector>

#include "core/status.h"
#include "store/search_query.h"
#include "store/sql/dialect.h"

namespace crs::store::sql {

// Runs a query whose columns are the match columns then the type
// (search_sql.h) and returns its rows decoded, with SearchMatch::type set.
using RunMatches = std::function<Result<std::vector<SearchMatch>>(const CompiledSql& sql)>;

// Adds to result->included the resources that query.includes reach from
// result->matches (iterating where asked, at most 4 rounds), never more than
// query.include_limit; the number found beyond the limit goes to
// result->included_left_out. `run` executes inside the caller's read
// transaction so matches and includes come from one snapshot.
Status LoadIncludes(const SearchQuery& query, const Dialect& dialect, const RunMatches& run,
                    SearchResult* result);

}  // namespace crs::store::sql
