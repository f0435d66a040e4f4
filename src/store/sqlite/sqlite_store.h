// The embedded SQLite backend of the Store contract (see store/store.h).
//
// One writer thread owns the only write connection and commits queued
// batches in groups (many batches, one transaction, one fsync); each caller
// of Commit() is woken only after its group is durable. Readers use a pool of
// their own connections (WAL) and never wait for the writer.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace crs::store::sqlite {

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const StoreOptions& options);

}  // namespace crs::store::sqlite
