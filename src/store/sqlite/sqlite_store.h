// The embedded SQLite backend of the Store contract (see store/store.h).
//
// One writer thread owns the only write connection and commits queued
// batches in groups (many batches, one transaction, one fsync); each caller
// of Commit() is woken only after its group is durable. Readers use a pool of
// their own connections (WAL) and never wait for the writer. The audit log
// lives in a second file attached to every connection (AuditPathFor): the
// writer commits both in one group.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace crs::store::sqlite {

// The audit log's database file beside the main file `path`:
// DIR/crs.db -> DIR/crs-audit.db.
std::string AuditPathFor(const std::string& path);

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const StoreOptions& options);

}  // namespace crs::store::sqlite
