// Full-text conditions (_text, _content; store::TextCond) in each backend's
// own query language: an FTS5 MATCH expression for SQLite, a tsquery for
// PostgreSQL (docs/storage.md, "Full-text index"). Words reach both as
// quoted strings, so no word is ever read as an operator.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "store/search_query.h"
#include "store/sql/dialect.h"

namespace crs::store::sql {

// `alternatives` (OR) as an FTS5 query on one column:
// {content} : (("heart" AND "att" *) OR ("blood pressure")).
std::string Fts5Query(const std::vector<const TextCond*>& alternatives, const std::string& column);

// `alternatives` (OR) as tsquery text: ('heart' & 'att':*) | ('blood' <-> 'pressure').
std::string TsQuery(const std::vector<const TextCond*>& alternatives);

// The rids matching full-text predicate `p` (table kText; "_text" searches
// the narrative, anything else the content): "SELECT ... AS rid FROM
// ix_text WHERE ...", with the query bound through `args`.
std::string TextRidsSql(const Predicate& p, ArgList& args);

}  // namespace crs::store::sql
