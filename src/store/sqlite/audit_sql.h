// The audit log on SQLite (docs/audit.md): the statements of the chain
// appender (store/sql/audit_appender.h) used by the writer thread, and the
// queries run on reader connections. Keeps sqlite_store.cc down to a few hooks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/sql/audit_appender.h"
#include "store/store.h"

namespace crs::store::sqlite {

class Db;

// The audit appender's statements on the SQLite writer connection.
//
// Thread safety: owned by the writer thread; not shared.
class SqliteAuditOps final : public sql::AuditWriteOps {
 public:
  // `db` is the writer connection and must outlive the ops.
  explicit SqliteAuditOps(Db& db) : db_(db) {}
  Status Head(int64_t* seq, std::string* hash) override;
  Result<int64_t> LastCheckpointSeq() override;
  Status Insert(int64_t seq, const AuditInput& in, std::string_view hash) override;
  Status InsertCheckpoint(const AuditCheckpoint& checkpoint) override;
  Status Begin() override;
  Status Commit() override;
  void Rollback() override;

 private:
  Db& db_;
};

// Reader-side queries (any connection). See Store for the contracts.
Result<AuditPage> QueryAuditIn(Db& db, const AuditQuery& query);
Result<StoredAudit> ReadAuditIn(Db& db, int64_t seq);
Result<std::vector<StoredAudit>> ScanAuditIn(Db& db, int64_t after_seq, int limit);
Status ScanAuditRowsIn(Db& db, int64_t after_seq,
                       const std::function<bool(const AuditRowView&)>& fn);
Result<std::vector<AuditCheckpoint>> ScanAuditCheckpointsIn(Db& db, int64_t after_seq, int limit);

}  // namespace crs::store::sqlite
