// The audit log's queries on PostgreSQL (docs/audit.md), run on pooled
// reader connections. See Store for the contracts.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/status.h"
#include "store/postgres/pg.h"
#include "store/store.h"

namespace crs::store::postgres {

Result<AuditPage> QueryAuditIn(Conn& c, const AuditQuery& query);
Result<StoredAudit> ReadAuditIn(Conn& c, int64_t seq);
Result<std::vector<StoredAudit>> ScanAuditIn(Conn& c, int64_t after_seq, int limit);
// Reads in chunks inside one REPEATABLE READ snapshot, so memory stays
// bounded however long the log.
Status ScanAuditRowsIn(Conn& c, int64_t after_seq,
                       const std::function<bool(const AuditRowView&)>& fn);
Result<std::vector<AuditCheckpoint>> ScanAuditCheckpointsIn(Conn& c, int64_t after_seq, int limit);

}  // namespace crs::store::postgres
