// The SQLite statements of the shared write path (store/sql/group_writer.h),
// on the writer connection.
//
// Thread safety: owned by the writer thread; not shared.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "store/sql/group_writer.h"
#include "store/sqlite/db.h"
#include "store/sqlite/index_writer.h"

namespace crs::store::sqlite {

class SqliteWriteOps final : public sql::WriteOps {
 public:
  // `db` is the writer connection and must outlive the ops.
  explicit SqliteWriteOps(Db& db) : db_(db), index_(db) {}

  // StoreOptions::defer_index (IndexWriter::set_defer).
  void set_defer_index(bool defer) { index_.set_defer(defer); }

  // Bumped after every transaction that changed a `rel` row has ended
  // (committed or not): readers cache relationship answers tagged with the
  // value they read before their query (SqliteStore::HasRelationship).
  const std::atomic<uint64_t>& rel_generation() const { return rel_generation_; }

  // Transaction control through cached prepared statements: every group
  // and every batch in it runs these, and sqlite3_exec would parse them
  // each time.
  Status Begin() override { return Control("BEGIN IMMEDIATE"); }
  // Inserts the queued index rows (IndexWriter), then commits.
  Status Commit() override;
  void Rollback() override {
    index_.Discard();
    (void)Control("ROLLBACK");
    EndRelChanges();
  }
  Status Savepoint(const char* name) override;
  Status RollbackTo(const char* name) override;
  Status Release(const char* name) override;
  Result<std::optional<std::string>> FindIdempotency(const std::string& key) override;
  Status InsertIdempotency(const std::string& key, int64_t created,
                           const std::string& result) override;
  Result<int64_t> AdvanceSequence(const std::string& name, int64_t count) override;
  Status FindResource(const std::string& type, const std::string& id, int64_t* rid,
                      int64_t* version) override;
  Result<int64_t> InsertResource(const std::string& type, const std::string& id,
                                 const AccessFacts& facts) override;
  Status AppendVersion(int64_t rid, const std::string& type, int64_t version,
                       int64_t last_updated_ms, Method method, const std::string* body,
                       const AccessFacts* facts) override;
  Status SetFacts(int64_t rid, const AccessFacts& facts) override;
  Status DeleteRelationships(int64_t rid) override;
  Status InsertRelationship(const std::string& org, const std::string& patient,
                            int64_t rid) override;
  Status ReplaceIndex(int64_t rid, std::string_view type, const fhir::index::IndexEntries* entries,
                      bool had_rows, bool rebuild = false) override {
    return index_.Replace(rid, type, entries, had_rows, rebuild);
  }
  Status DeleteResource(int64_t rid) override;
  void ForgetCache() override { index_.ForgetCache(); }

 private:
  Status Control(std::string sql);
  void EndRelChanges() {
    if (rel_changed_) rel_generation_.fetch_add(1, std::memory_order_release);
    rel_changed_ = false;
  }
  Result<int64_t> InsertVersion(int64_t rid, const std::string& type, int64_t version,
                                int64_t last_updated_ms, Method method, const std::string* body);
  Status SetCurrent(int64_t rid, int64_t version, int64_t seq, bool deleted);

  Db& db_;
  IndexWriter index_;
  bool rel_changed_ = false;  // a rel row changed in the open transaction
  std::atomic<uint64_t> rel_generation_{0};
};

}  // namespace crs::store::sqlite
