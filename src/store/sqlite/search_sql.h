// Compiles a backend-neutral SearchQuery (store/search_query.h) into SQLite
// SQL over the ix_* tables (schema.h). Every value is a bound parameter.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "core/status.h"
#include "store/search_query.h"
#include "store/sqlite/db.h"

namespace crs::store::sqlite {

using SqlArg = std::variant<int64_t, double, std::string>;

struct CompiledSql {
  std::string sql;
  std::vector<SqlArg> args;  // bound as ?1, ?2, ... in order
};

// The page query: columns rid, id, version, last_updated, body (compressed),
// patient, labels, author_org (then the sort keys, when sorted), ordered by rid, at most query.count + 1 rows.
CompiledSql CompilePage(const SearchQuery& query);

// SELECT count(*) of every match (paging ignored).
CompiledSql CompileCount(const SearchQuery& query);

// The conditions (no leading AND) under which the resource row aliased `alias`
// is visible through `filter`; `arg` binds a value and returns its placeholder.
std::string AccessSql(const AccessFilter& filter, const std::string& alias,
                      const std::function<std::string(SqlArg)>& arg);

// Decodes a result row whose first columns are rid, id, version,
// last_updated, body (compressed), patient, labels, author_org; `type_col` >= 0 names the column holding
// the resource type.
Result<SearchMatch> MatchFromRow(const Stmt& row, int type_col);

// Binds `args` to ?1, ?2, ... of `stmt`.
void BindArgs(Stmt* stmt, const std::vector<SqlArg>& args);

}  // namespace crs::store::sqlite
