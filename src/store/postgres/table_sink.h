// Writes a node's tables into a PostgreSQL database for `crs copy`
// (store/sql/table_copy.h): one transaction, under the writer lock, into a
// database whose schema is current and which holds no data yet.
#pragma once

#include <memory>
#include <string>

#include "store/sql/table_copy.h"

namespace crs::store::postgres {

Result<std::unique_ptr<sql::TableSink>> OpenPostgresTableSink(const std::string& url);

}  // namespace crs::store::postgres
