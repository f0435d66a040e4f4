// Appends to the hash-chained audit log (docs/audit.md) and writes signed
// checkpoints, inside a SQL backend's write transactions. The chain logic
// lives here once; each backend supplies its statements as AuditWriteOps.
//
// Thread safety: owned by a backend's writer thread; not shared.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace crs::store::sql {

// The statements the appender needs, run on the writer's connection.
class AuditWriteOps {
 public:
  virtual ~AuditWriteOps() = default;
  // The last record's seq and hash; seq 0 when the log is empty.
  virtual Status Head(int64_t* seq, std::string* hash) = 0;
  virtual Result<int64_t> LastCheckpointSeq() = 0;
  // Inserts record `seq` with its chain hash and its index rows (patients,
  // alert, review of an earlier alert: the first review wins).
  virtual Status Insert(int64_t seq, const AuditInput& in, std::string_view hash) = 0;
  // Inserts a checkpoint unless one exists for `seq`.
  virtual Status InsertCheckpoint(const AuditCheckpoint& checkpoint) = 0;
  // A transaction of its own, for checkpoints written while idle.
  virtual Status Begin() = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;

  // A backend that derives its query indexes lazily (SQLite's patient index
  // runs) gets these; the default derives everything in Insert.
  // Called once after migrations: re-derive what the last process left.
  virtual Status Recover() { return Status::Ok(); }
  // Records after `seq` were not committed (a rolled-back savepoint, or a
  // transaction that failed): forget what Insert kept of them.
  virtual void Forget(int64_t seq) { (void)seq; }
  // Inside the open transaction, just before it commits: write what is
  // due (`force`: everything kept so far, so a query sees it).
  virtual Status BeforeCommit(bool force) {
    (void)force;
    return Status::Ok();
  }
  // The transaction BeforeCommit wrote into committed (true) or failed.
  virtual void AfterCommit(bool committed) { (void)committed; }
  // Work left for an idle writer (BeforeCommit(true) in a transaction of
  // its own does it).
  virtual bool IdleWork() const { return false; }
};

class AuditAppender {
 public:
  // `ops` and `options` must outlive the appender.
  AuditAppender(AuditWriteOps& ops, const StoreOptions& options);

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

  // Just before the open transaction commits: the backend's deferred index
  // work (AuditWriteOps::BeforeCommit; `force_index`: all of it).
  Status BeforeCommit(bool force_index) { return ops_.BeforeCommit(force_index); }

  // The transaction holding the appends committed (true) or failed.
  void EndGroup(bool committed);

  // True when records this process appended are not yet covered by a checkpoint.
  bool CheckpointPending() const;

  // Writes a checkpoint of the head in a transaction of its own if one is
  // pending and (unless `force`) due by time, and the backend's deferred
  // index work if any: for an idle writer, and with `force` at a clean
  // shutdown.
  Status CheckpointIdle(bool force);

 private:
  int64_t Now() const;

  AuditWriteOps& ops_;
  const StoreOptions& options_;
  int64_t head_seq_ = 0;
  std::string head_hash_;
  int64_t checkpoint_seq_ = 0;      // last durable checkpoint
  int64_t checkpoint_time_ = 0;     // when it was written (this process's clock)
  int64_t pending_cp_seq_ = 0;      // written in the open transaction, 0 if none
  int64_t pending_cp_time_ = 0;
  int64_t appended_seq_ = 0;        // highest seq this process committed
};

}  // namespace crs::store::sql
