// Compiles the backend-neutral queries of the Store contract (a SearchQuery,
// a CompartmentQuery, a HistoryQuery; store/search_query.h, store/store.h)
// into SQL over the shared table layout (resources, versions, sp, ix_*, rel;
// docs/storage.md), for any backend through its Dialect. Every value is a
// bound argument.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "store/search_query.h"
#include "store/sql/dialect.h"
#include "store/store.h"

namespace crs::store::sql {

// The columns of every query that returns matches, in this order:
// rid, id, version, last_updated, body (compressed), patient, labels,
// author_org, type; then (pages) the sort keys.
inline constexpr int kMatchTypeColumn = 8;
inline constexpr int kSortKeyColumn = 9;

// The page query: the match columns and the type (then the sort keys sk0, sk1, ... when
// sorted), in (sort keys..., rid) order, at most query.count + 1 rows.
CompiledSql CompilePage(const SearchQuery& query, const Dialect& dialect);

// SELECT count(*) of every match (paging ignored).
CompiledSql CompileCount(const SearchQuery& query, const Dialect& dialect);

// The members of a compartment: the match columns then the type, in rid
// order, at most query.count + 1 rows.
CompiledSql CompileCompartment(const CompartmentQuery& query, const Dialect& dialect);

// History newest first, at most query.count + 1 rows: version, deleted
// (0/1), last_updated, method, body, seq, patient, labels, author_org,
// type, id.
CompiledSql CompileHistory(const HistoryQuery& query, const Dialect& dialect);

// The change feed (Store::Changes): every version with seq > after_seq,
// oldest first, at most `limit`; the history columns.
CompiledSql CompileChanges(int64_t after_seq, int limit, const Dialect& dialect);

// The conditions (no leading AND) under which the resource row aliased
// `alias` is visible through `filter`; values are added to `args`.
std::string AccessSql(const AccessFilter& filter, const std::string& alias, ArgList& args);

// Cuts a page fetched with one row beyond `count` back to `count` rows;
// returns the keyset cursor of the next page (the last kept rid), or 0 when
// there is none.
int64_t TrimPage(std::vector<SearchMatch>* rows, int count);

// The text standing in for "no value" of an ascending sort key where the
// dialect has no native NULLS LAST (it sorts after every number and text).
inline constexpr std::string_view kNoSortValue = "\xff\xff";

}  // namespace crs::store::sql
