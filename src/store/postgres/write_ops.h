// The PostgreSQL statements of the shared write path
// (store/sql/group_writer.h, store/sql/audit_appender.h), on the writer's
// connection. Each group transaction first takes the writer advisory lock
// (schema.h), so writers in several processes commit one at a time.
//
// Thread safety: owned by the writer thread; not shared.
#pragma once

#include <atomic>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/postgres/pg.h"
#include "store/sql/audit_appender.h"
#include "store/sql/group_writer.h"

namespace crs::store::postgres {

// The writer's connection, reopened after it is lost (a restarted or
// promoted server) at the start of the next group.
class WriterConn {
 public:
  explicit WriterConn(std::string url) : url_(std::move(url)) {}
  // The connection, reconnecting if it was lost.
  Result<Conn*> Get();

 private:
  std::string url_;
  std::unique_ptr<Conn> conn_;
};

class PgWriteOps final : public sql::WriteOps {
 public:
  // `last_write_lsn` (optional): where to record the primary's WAL insert
  // position after each transaction that wrote data (read replicas wait
  // for it; store/postgres/replicas.h).
  PgWriteOps(WriterConn& conn, std::atomic<uint64_t>* last_write_lsn)
      : conn_(conn), last_write_lsn_(last_write_lsn) {}

  Status Begin() override;
  Status Commit() override;
  void Rollback() override;
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
  // PostgreSQL deletes every stored row and writes the new ones: `rebuild`
  // changes nothing.
  Status ReplaceIndex(int64_t rid, std::string_view type, const fhir::index::IndexEntries* entries,
                      bool had_rows, bool rebuild = false) override;
  Status DeleteResource(int64_t rid) override;
  Status Flush() override;
  void ForgetCache() override { pids_.clear(); }

 // Runs fixed SQL inside the open transaction (Internal when none is open).
  Result<Rows> Q(const std::string& sql, const Params& params);
  // Queues a statement of the open transaction whose result nobody waits
  // for (Conn::Defer: it runs with the next one waited for, or at Flush).
  Status Later(const std::string& sql, Params params, bool prepare = true);

 private:
  Status Do(const std::string& sql, const Params& params) { return Q(sql, params).status(); }
  Result<int64_t> Pid(std::string_view type, std::string_view code);
  Status RunParts(std::vector<std::string>* parts, Params* params, int64_t rid);
  static constexpr int kFlushParams = 30000;

  WriterConn& conn_;
  std::atomic<uint64_t>* last_write_lsn_;
  Conn* tx_ = nullptr;  // the connection of the open transaction
  bool wrote_data_ = false;  // the open transaction changed resources or counters
  std::unordered_map<std::string, int64_t> pids_;  // "type\0code" -> pid
};

class PgAuditOps final : public sql::AuditWriteOps {
 public:
  PgAuditOps(WriterConn& conn, PgWriteOps& writes) : conn_(conn), writes_(writes) {}
  Status Head(int64_t* seq, std::string* hash) override;
  Result<int64_t> LastCheckpointSeq() override;
  Status Insert(int64_t seq, const AuditInput& in, std::string_view hash) override;
  Status InsertCheckpoint(const AuditCheckpoint& checkpoint) override;
  Status Begin() override { return writes_.Begin(); }
  Status Commit() override { return writes_.Commit(); }
  void Rollback() override { writes_.Rollback(); }

 private:
  WriterConn& conn_;
  PgWriteOps& writes_;
};

}  // namespace crs::store::postgres
