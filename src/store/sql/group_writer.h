// The write path of a SQL backend: one writer thread that commits queued
// batches (and AppendAudit records) in groups, many batches per transaction,
// each batch inside its own savepoint. The Store contract's write semantics
// (optimistic concurrency, idempotency keys, kPurge, access facts and
// relationships, audit records riding in the batch's transaction, named
// counters) live here once; a backend supplies its statements as WriteOps.
//
// Thread safety: Commit, ReserveSequence and AppendAudit may be called from
// any thread; the WriteOps are used only by the writer thread once Start()
// returns.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "fhir/index/index_entries.h"
#include "store/sql/audit_appender.h"
#include "store/store.h"

namespace crs::store::sql {

// A backend's statements on its writer connection.
class WriteOps {
 public:
  virtual ~WriteOps() = default;
  // The group's transaction.
  virtual Status Begin() = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;
  // Savepoints inside it (one per batch).
  virtual Status Savepoint(const char* name) = 0;
  virtual Status RollbackTo(const char* name) = 0;
  virtual Status Release(const char* name) = 0;

  // The recorded result of idempotency key `key`, if it was committed.
  virtual Result<std::optional<std::string>> FindIdempotency(const std::string& key) = 0;
  virtual Status InsertIdempotency(const std::string& key, int64_t created,
                                   const std::string& result) = 0;
  // Advances counter `name` (created at 0) by `count`; returns the new value.
  virtual Result<int64_t> AdvanceSequence(const std::string& name, int64_t count) = 0;

  // The resource's rid and current version; rid 0 when it does not exist.
  virtual Status FindResource(const std::string& type, const std::string& id, int64_t* rid,
                              int64_t* version) = 0;
  // A new resource row with its access facts (version 0, not yet pointing
  // at a version); its rid. The row is born with its patient, labels and
  // author_org so that its first version rewrites no index entry.
  virtual Result<int64_t> InsertResource(const std::string& type, const std::string& id,
                                         const AccessFacts& facts) = 0;
  // Inserts version `version` of resource `rid` (`body` null: a delete
  // marker) and makes it the current one; with `facts`, also sets the
  // resource's patient and labels, and its author_org unless one is
  // recorded. Version 1 always follows InsertResource in the same
  // transaction, whose row already has its facts: the caller passes none,
  // and a backend may then set only the version columns. Returns the
  // version's seq.
  virtual Status AppendVersion(int64_t rid, const std::string& type, int64_t version,
                               int64_t last_updated_ms, Method method, const std::string* body,
                               const AccessFacts* facts) = 0;
  // Sets the resource's patient and labels, and its author_org unless one
  // is recorded (as AppendVersion does with facts), without a new version.
  virtual Status SetFacts(int64_t rid, const AccessFacts& facts) = 0;
  virtual Status DeleteRelationships(int64_t rid) = 0;
  virtual Status InsertRelationship(const std::string& org, const std::string& patient,
                                    int64_t rid) = 0;
  // Replaces the search-index rows of `rid` (see sqlite/index_writer.h).
  // `rebuild` (crs reindex): the stored rows are not trusted to match, so
  // none is kept as unchanged; all are deleted and all new ones written.
  virtual Status ReplaceIndex(int64_t rid, std::string_view type,
                              const fhir::index::IndexEntries* entries, bool had_rows,
                              bool rebuild = false) = 0;
  // Deletes the versions and the resource row of `rid` (after its index and
  // relationship rows).
  virtual Status DeleteResource(int64_t rid) = 0;
  // A backend may queue statements whose results it need not wait for
  // (PostgreSQL pipelines them); this runs them and returns the first
  // error. Called at the end of each batch, so that an error is the batch's.
  virtual Status Flush() { return Status::Ok(); }
  // A rolled-back transaction may have created cached ids: forget them.
  virtual void ForgetCache() = 0;
  // Called when the writer idles (the audit tail got its checkpoint).
  virtual void Idle() {}
};

class GroupWriter {
 public:
  // `ops`, `audit_ops` and `options` must outlive the writer.
  GroupWriter(WriteOps& ops, AuditWriteOps& audit_ops, const StoreOptions& options);
  // Drains the queue, stops the thread, checkpoints the audit tail.
  ~GroupWriter();

  // Reads the audit checkpoint state and starts the writer thread.
  Status Start();

  // Store::Commit, CommitAsync, ReserveSequence, AppendAudit (see store.h).
  Result<CommitResult> Commit(const WriteBatch& batch);
  void CommitAsync(WriteBatch batch, std::function<void(Result<CommitResult>)> done);
  Result<int64_t> ReserveSequence(std::string_view name, int64_t count);
  void AppendAudit(std::vector<AuditInput> records, std::function<void(Status)> done);
  // Returns once the audit query indexes hold every record committed before
  // the call (AuditWriteOps::BeforeCommit(true) in the next group).
  Status SyncAuditIndex();
  // Runs `job` on the writer thread between groups, alone (no transaction
  // is open; the job opens its own), and returns its status. For work that
  // needs the write connection to itself, e.g. merging a bulk import's
  // index runs (store/sqlite/index_runs.h).
  Status RunExclusive(std::function<Status()> job);

 private:
  struct Pending {
    const WriteBatch* batch = nullptr;
    // Bodies compressed by the caller's thread, one per write (empty for
    // deletes), so the single writer thread spends its time on the database.
    std::vector<std::string> compressed;
    std::promise<Result<CommitResult>> promise;
    // CommitAsync: the batch, owned, and the callback that answers instead
    // of `promise`; such a Pending is on the heap and Resolve deletes it.
    std::unique_ptr<WriteBatch> owned;
    std::function<void(Result<CommitResult>)> done;
    // ReserveSequence: the counter to advance instead of applying `batch`,
    // and the first value reserved (set by the writer before `promise`).
    std::string sequence;
    int64_t sequence_count = 0;
    int64_t sequence_first = 0;
    // SyncAuditIndex: no batch; the group writes all deferred index rows.
    bool sync_audit_index = false;
    // RunExclusive: no batch; runs alone.
    std::function<Status()> job;
  };
  struct PendingAudit {
    std::vector<AuditInput> records;
    std::function<void(Status)> done;
  };
  // AppendAudit refuses records beyond this many queued (memory bound);
  // one transaction takes at most kMaxGroupAudit of them.
  static constexpr size_t kMaxQueuedAudit = 1 << 20;
  static constexpr size_t kMaxGroupAudit = 1 << 16;
  // The smallest group a gathering writer waits for, however few reads are
  // in flight: below it, commits cost more than the turns gain.
  static constexpr size_t kGatherFloor = 8;

  Result<CommitResult> Enqueue(Pending* pending);
  // Answers `pending` with `result`: its promise, or its callback (after
  // which the Pending is gone).
  static void Resolve(Pending* pending, Result<CommitResult> result);
  static std::vector<std::string> CompressBodies(const WriteBatch& batch, int level);
  void Loop();
  // Whether the writer, woken with mu_ held, should wait for more audit
  // records before committing (StoreOptions::audit_commit_delay_us).
  bool GatherAudit() const;
  void GatherAuditLocked(std::unique_lock<std::mutex>& lock, size_t in_flight);
  void CommitGroup(const std::vector<Pending*>& group, std::vector<PendingAudit>& audit);
  static void Answer(std::vector<PendingAudit>& audit, const Status& status);
  Status AppendQueuedAudit(const std::vector<PendingAudit>& audit);
  Result<CommitResult> ApplyBatch(Pending& pending);
  Result<VersionRef> ApplyWrite(const Write& w, const std::string& compressed);
  Status WriteRelationships(int64_t rid, bool existed, const AccessFacts* facts);

  WriteOps& ops_;
  const StoreOptions& options_;
  AuditAppender audit_;  // used by the writer thread only
  std::thread thread_;

  // Lock order: mu_ is a leaf.
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending*> queue_;            // GUARDED_BY(mu_)
  std::deque<PendingAudit> audit_queue_;  // GUARDED_BY(mu_)
  size_t audit_queued_ = 0;               // records in audit_queue_; GUARDED_BY(mu_)
  bool closing_ = false;                  // GUARDED_BY(mu_)
  // While the writer gathers audit records: how many it waits for (0: it
  // does not gather, every record wakes it). GUARDED_BY(mu_)
  size_t gather_target_ = 0;
  size_t last_audit_group_ = 0;  // records of the last audit-only group; GUARDED_BY(mu_)
};

}  // namespace crs::store::sql
