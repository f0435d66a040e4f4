// SQLite's side of the shared query builders (store/sql/): binding their
// arguments and decoding their rows.
#pragma once

#include <vector>

#include "core/status.h"
#include "store/search_query.h"
#include "store/sql/dialect.h"
#include "store/sqlite/db.h"

namespace crs::store::sqlite {

using sql::CompiledSql;
using sql::SqlArg;

// Decodes a result row whose first columns are rid, id, version,
// last_updated, body (compressed), patient, labels, author_org; `type_col` >= 0 names the column holding
// the resource type.
Result<SearchMatch> MatchFromRow(const Stmt& row, int type_col);

// Binds `args` to ?1, ?2, ... of `stmt`.
void BindArgs(Stmt* stmt, const std::vector<SqlArg>& args);

// Runs `sql` and decodes every row (match columns, then the type).
Result<std::vector<SearchMatch>> RunMatches(Db& db, const CompiledSql& sql);

}  // namespace crs::store::sqlite
