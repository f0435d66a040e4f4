// The PostgreSQL backend of the Store contract (see store/store.h).
//
// Writes go through the shared group-commit writer (store/sql/group_writer.h)
// on one connection of their own: many batches per transaction, each group
// under an advisory lock so that several processes may share a database.
// Reads use a bounded pool of connections (StoreOptions::pool_size); a
// search runs in one REPEATABLE READ snapshot. The audit log lives in the
// same database, so a write and its audit record commit together.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace crs::store::postgres {

// Opens the database at options.url (a libpq URI, postgres://...),
// creating or migrating the schema when needed.
Result<std::unique_ptr<Store>> OpenPostgresStore(const StoreOptions& options);

// Brings the schema at `url` to the version this binary knows; returns
// the versions before and after. Unavailable when the database is newer.
Status MigratePostgres(const std::string& url, int* from, int* to);

}  // namespace crs::store::postgres
