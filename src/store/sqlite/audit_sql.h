// The audit log on SQLite (schema version 4, docs/audit.md): the chain
// appender used by the writer thread, and the queries run on reader
// connections. Keeps sqlite_store.cc down to a few hooks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace crs::store::sqlite {

class Db;

// Appends records to the hash chain and writes signed checkpoints, inside
// the writer's transactions.
//
// Thread safety: owned by the writer thread; not shared.
class AuditAppender {
 public:
  // `db` is the writer connection and must outlive the appender.
  AuditAppender(Db& db, const StoreOptions& options);

  // Reads the last checkpoint; call once after migrations.
  Status Init();

  // Loads the chain head from the database. Call inside each write
  // transaction before appending: the head is then exactly what this
  // transaction extends, even if another process appended meanwhile.
  Status BeginGroup();

  // The head, to undo appends made inside a savepoint that is rolled back.
  struct Mark {
    int64_t seq = 0;
    std::string hash;
  };
  Mark mark() const { return {head_seq_, head_hash_}; }
  void Restore(Mark mark);

  // Appends `records` after the head, in order, with their index rows.
  Status Append(const std::vector<AuditInput>& records);

  // Writes a checkpoint of the head (inside the open transaction) when one
  // is due by time or record count, or when `force` and the head is not
  // yet covered. No-op without a signer.
  Status MaybeCheckpoint(bool force);

  // The transaction holding the appends committed (true) or failed.
  void EndGroup(bool committed);

  // True when records this process appended are not yet covered by a checkpoint.
  bool CheckpointPending() const;

  // Writes a checkpoint of the head in a transaction of its own if one is
  // pending and (unless `force`) due by time: for an idle writer, and with
  // `force` at a clean shutdown.
  Status CheckpointIdle(bool force);

 private:
  int64_t Now() const;

  Db& db_;
  const StoreOptions& options_;
  int64_t head_seq_ = 0;
  std::string head_hash_;
  int64_t checkpoint_seq_ = 0;      // last durable checkpoint
  int64_t checkpoint_time_ = 0;     // when it was written (this process's clock)
  int64_t pending_cp_seq_ = 0;      // written in the open transaction, 0 if none
  int64_t pending_cp_time_ = 0;
  int64_t appended_seq_ = 0;        // highest seq this process committed
};

// Reader-side queries (any connection). See Store for the contracts.
Result<AuditPage> QueryAuditIn(Db& db, const AuditQuery& query);
Result<StoredAudit> ReadAuditIn(Db& db, int64_t seq);
Result<std::vector<StoredAudit>> ScanAuditIn(Db& db, int64_t after_seq, int limit);
Status ScanAuditRowsIn(Db& db, int64_t after_seq,
                       const std::function<bool(const AuditRowView&)>& fn);
Result<std::vector<AuditCheckpoint>> ScanAuditCheckpointsIn(Db& db, int64_t after_seq, int limit);

}  // namespace crs::store::sqlite
