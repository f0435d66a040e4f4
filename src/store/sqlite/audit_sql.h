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
#include "store/sqlite/audit_pblk.h"
#include "store/store.h"

namespace crs::store::sqlite {

class Db;

// The audit appender's statements on the SQLite writer connection.
//
// The patient index (docs/audit.md, "The patient index") is written in
// runs: Insert keeps each record's (patient, seq) entries in memory, and
// BeforeCommit writes them, sorted, as one run of blocks of kBlockEntries
// (store/sqlite/audit_pblk.h) once kRunEntries are kept (or when forced: a query's
// SyncAuditIndex, an idle writer, a clean stop), so a run costs a few
// rows on consecutive pages instead of a random page per record. Each
// BeforeCommit also does a bounded step of merging: kFanIn runs of one
// level become one run of the next, up to kMaxLevel, so a patient's lookup
// probes a few dozen runs at most. After a crash the entries kept in memory
// are re-read from the records (Recover).
//
// Thread safety: owned by the writer thread; not shared.
class SqliteAuditOps final : public sql::AuditWriteOps {
 public:
  // Entries kept before they are written as a run; runs merged per level;
  // the level whose runs are never merged.
  static constexpr size_t kRunEntries = 4096;
  static constexpr int kFanIn = 16;
  static constexpr int kMaxLevel = 3;
  // Index entries merged (and as many deleted) per commit, in whole blocks:
  // at least this many under load, and forced (idle writer or query); more while entries
  // arrive faster than that (a bulk import's records name 20,000 patients
  // each), up to kMergeStepMax, so merging keeps pace with writing. Small,
  // because a group that merges makes every reader in it wait; a step
  // continues where the last one stopped reading (read_sources_), so small
  // steps read no more than large ones.
  static constexpr int kMergeStep = 256;
  // Entries read from a merge source at a time (more for a larger step).
  static constexpr int kMergeSlice = 256;
  static constexpr int kMergeStepForced = 16384;
  static constexpr int kMergeStepMax = 65536;
  // Merge work each entry brings: a copy per level it climbs.
  static constexpr int kMergeRowsPerEntry = kMaxLevel;

  // `db` is the writer connection and must outlive the ops. Not `owner`
  // (StoreOptions::audit_index_owner): runs hold only the entries of
  // records this process appends, and nothing is re-derived at open.
  SqliteAuditOps(Db& db, bool owner) : db_(db), owner_(owner), merge_work_(owner) {}
  Status Head(int64_t* seq, std::string* hash) override;
  Result<int64_t> LastCheckpointSeq() override;
  Status Insert(int64_t seq, const AuditInput& in, std::string_view hash) override;
  Status InsertCheckpoint(const AuditCheckpoint& checkpoint) override;
  Status Begin() override;
  Status Commit() override;
  void Rollback() override;
  Status Recover() override;
  void Forget(int64_t seq) override;
  Status BeforeCommit(bool force) override;
  void AfterCommit(bool committed) override;
  bool IdleWork() const override;

  // For tests: entries kept in memory, not yet in a run.
  size_t kept() const { return kept_.size(); }

 private:
  using Entry = PatientEntry;
  // A merge source's rows read but not yet copied (CopyMerged).
  struct Source {
    int64_t run = 0;
    std::vector<Entry> rows;
    size_t next = 0;
    bool exhausted = false;
  };
  Status WriteRun();
  // Appends `rows` (in key order) to run `run` as blocks.
  Status InsertRunRows(int64_t run, const std::vector<const Entry*>& rows);
  // One bounded step of merging and of deleting merged runs; *more: work is left.
  Status MergeStep(int budget, bool* more);
  Status StartMerge(bool* started);
  Status CopyMerged(int64_t target, int budget, bool* done);
  Status DeleteMerged(int budget, bool* more);
  Result<int64_t> NextRun();

  Db& db_;
  const bool owner_;
  std::vector<Entry> kept_;       // seq order
  int64_t last_seq_ = 0;          // last record Insert saw (with or without patients)
  int64_t covered_ = 0;           // every record up to here is in a run (committed)
  int64_t writing_covered_ = 0;   // covered once the open transaction commits; 0: none
  bool merge_work_;               // a merge may be due (checked in MergeStep)
  int64_t merge_debt_ = 0;        // merge rows owed for the entries written
  // Where the merge into run `read_target_` stands after the last committed
  // step: each source's rows read past the target's last row, so the next
  // step reads no row twice. 0: not known (read afresh from the runs). The
  // open transaction's step leaves its position in pending_*; AfterCommit
  // keeps it if the transaction committed.
  int64_t read_target_ = 0;
  std::vector<Source> read_sources_;
  int64_t pending_target_ = 0;
  std::vector<Source> pending_sources_;
};

// Reader-side queries (any connection). See Store for the contracts.
Result<AuditPage> QueryAuditIn(Db& db, const AuditQuery& query);
Result<StoredAudit> ReadAuditIn(Db& db, int64_t seq);
Result<std::vector<StoredAudit>> ScanAuditIn(Db& db, int64_t after_seq, int limit);
Status ScanAuditRowsIn(Db& db, int64_t after_seq,
                       const std::function<bool(const AuditRowView&)>& fn);
Result<std::vector<AuditCheckpoint>> ScanAuditCheckpointsIn(Db& db, int64_t after_seq, int limit);

}  // namespace crs::store::sqlite
