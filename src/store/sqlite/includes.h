// _include / _revinclude for a page of search matches (store/search_query.h).
#pragma once

#include "core/status.h"
#include "store/search_query.h"
#include "store/sqlite/db.h"

namespace crs::store::sqlite {

// Adds to result->included the resources that query.includes reach from
// result->matches (iterating where asked, at most 4 rounds), never more than
// query.include_limit; the number found beyond the limit goes to
// result->included_left_out. Runs on `db`, inside the caller's read
// transaction so matches and includes come from one snapshot.
Status LoadIncludes(Db& db, const SearchQuery& query, SearchResult* result);

}  // namespace crs::store::sqlite
