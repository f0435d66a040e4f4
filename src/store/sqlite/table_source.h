// Reads a SQLite node's tables for `crs copy` (store/sql/table_copy.h).
#pragma once

#include <memory>
#include <string>

#include "store/sql/table_copy.h"

namespace crs::store::sqlite {

// The store at `path` (crs.db, with its audit log beside it), read in one
// snapshot that lasts as long as the source.
Result<std::unique_ptr<sql::TableSource>> OpenSqliteTableSource(const std::string& path);

}  // namespace crs::store::sqlite
