#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "store/body_codec.h"
#include "store/sqlite/audit_sql.h"
#include "store/sqlite/db.h"
#include "store/sqlite/includes.h"
#include "store/sqlite/index_writer.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/search_sql.h"

namespace crs::store::sqlite {
namespace {

constexpr const char* kReadCurrent =
    "SELECT r.version, r.deleted, v.last_updated, v.method, v.body, v.seq, "
    "r.patient, r.labels, r.author_org "
    "FROM resources r JOIN versions v ON v.seq = r.cur_seq WHERE r.type = ?1 AND r.id = ?2";
constexpr const char* kReadVersion =
    "SELECT v.version, v.body IS NULL, v.last_updated, v.method, v.body, v.seq, "
    "r.patient, r.labels, r.author_org "
    "FROM resources r JOIN versions v ON v.rid = r.rid "
    "WHERE r.type = ?1 AND r.id = ?2 AND v.version = ?3";
constexpr const char* kHistoryInstance =
    "SELECT v.version, v.body IS NULL, v.last_updated, v.method, v.body, v.seq, "
    "r.patient, r.labels, r.author_org, r.type, r.id "
    "FROM resources r JOIN versions v ON v.rid = r.rid "
    "WHERE r.type = ?1 AND r.id = ?2 AND v.seq < ?3 AND v.last_updated >= ?4 "
    "ORDER BY v.seq DESC LIMIT ?5";
constexpr const char* kHistoryType =
    "SELECT v.version, v.body IS NULL, v.last_updated, v.method, v.body, v.seq, "
    "r.patient, r.labels, r.author_org, r.type, r.id "
    "FROM versions v JOIN resources r ON r.rid = v.rid "
    "WHERE v.type = ?1 AND v.seq < ?3 AND v.last_updated >= ?4 ORDER BY v.seq DESC LIMIT ?5";
constexpr const char* kHistorySystem =
    "SELECT v.version, v.body IS NULL, v.last_updated, v.method, v.body, v.seq, "
    "r.patient, r.labels, r.author_org, r.type, r.id "
    "FROM versions v JOIN resources r ON r.rid = v.rid "
    "WHERE v.seq < ?3 AND v.last_updated >= ?4 ORDER BY v.seq DESC LIMIT ?5";
constexpr const char* kChanges =
    "SELECT v.version, v.body IS NULL, v.last_updated, v.method, v.body, v.seq, "
    "r.patient, r.labels, r.author_org, r.type, r.id "
    "FROM versions v JOIN resources r ON r.rid = v.rid "
    "WHERE v.seq > ?1 ORDER BY v.seq LIMIT ?2";

// Fills the columns shared by the read queries (version, deleted,
// last_updated, method, body, seq, patient, labels, author_org).
Status FillVersion(const Stmt& s, ResourceVersion* out) {
  out->version = s.Int(0);
  out->deleted = s.Int(1) != 0;
  out->last_updated_ms = s.Int(2);
  out->method = static_cast<Method>(s.Int(3));
  out->seq = s.Int(5);
  out->access.patient = s.Text(6);
  out->access.labels = static_cast<uint32_t>(s.Int(7));
  out->access.author_org = s.Text(8);
  if (!out->deleted) {
    CRS_ASSIGN_OR_RETURN(out->body, DecompressBody(s.Blob(4)));
  }
  return Status::Ok();
}

}  // namespace

std::string AuditPathFor(const std::string& path) {
  std::filesystem::path p(path);
  return (p.parent_path() / (p.stem().string() + "-audit.db")).string();
}

namespace {

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, const StoreOptions& options)
      : path_(std::move(path)), audit_path_(AuditPathFor(path_)), options_(options) {}

  ~SqliteStore() override {
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      closing_ = true;
    }
    queue_cv_.notify_all();
    if (writer_thread_.joinable()) writer_thread_.join();
    if (audit_) (void)audit_->CheckpointIdle(/*force=*/true);  // cover the tail at a clean stop
    // Fold the WAL into the main file so the data dir is tidy after a clean stop.
    if (writer_) (void)writer_->Exec("PRAGMA data.wal_checkpoint(TRUNCATE); PRAGMA main.wal_checkpoint(TRUNCATE);");
  }

  Status Init() {
    {
      // Migrations run on the resource file alone.
      CRS_ASSIGN_OR_RETURN(auto db, Db::Open(path_, /*create=*/true));
      CRS_RETURN_IF_ERROR(Migrate(*db));
    }
    CRS_ASSIGN_OR_RETURN(writer_, Connect(/*create=*/true));
    // The writer touches index B-trees all over the file: give it a large
    // page cache, and let the WAL grow to ~40 MB between checkpoints so
    // checkpoints (which fsync the file) stay rare.
    CRS_RETURN_IF_ERROR(
        writer_->Exec("PRAGMA data.cache_size=-524288; PRAGMA wal_autocheckpoint=10000;"));
    index_writer_ = std::make_unique<IndexWriter>(*writer_);
    audit_ = std::make_unique<AuditAppender>(*writer_, options_);
    CRS_RETURN_IF_ERROR(audit_->Init());
    writer_thread_ = std::thread([this] { WriterLoop(); });
    return Status::Ok();
  }

  Result<ResourceVersion> Read(std::string_view type, std::string_view id) override {
    return ReadOne(kReadCurrent, type, id, 0);
  }

  Result<ResourceVersion> ReadVersion(std::string_view type, std::string_view id,
                                      int64_t version) override {
    return ReadOne(kReadVersion, type, id, version);
  }

  Result<HistoryPage> History(const HistoryQuery& q) override {
    HistoryPage page;
    Status st = WithReader([&](Db* conn) -> Status {
      const char* sql = q.id ? kHistoryInstance : q.type ? kHistoryType : kHistorySystem;
      Stmt* s = nullptr;
      std::vector<SqlArg> extra;
      if (q.access) {
        // Only versions of resources the caller may see (by their current facts).
        std::string dyn = sql;
        size_t order = dyn.find(" ORDER BY");
        dyn.insert(order, " AND " + AccessSql(*q.access, "r", [&extra](SqlArg v) {
                            extra.push_back(std::move(v));
                            return "?" + std::to_string(5 + extra.size());
                          }));
        CRS_ASSIGN_OR_RETURN(s, conn->PrepareDynamic(dyn));
      } else {
        CRS_ASSIGN_OR_RETURN(s, conn->Prepare(sql));
      }
      for (size_t i = 0; i < extra.size(); ++i) {
        int pos = static_cast<int>(6 + i);
        if (auto* n = std::get_if<int64_t>(&extra[i])) s->Bind(pos, *n);
        else if (auto* t = std::get_if<std::string>(&extra[i])) s->Bind(pos, *t);
      }
      if (q.type) s->Bind(1, *q.type);
      if (q.id) s->Bind(2, *q.id);
      s->Bind(3, q.before_seq > 0 ? q.before_seq : INT64_MAX);
      s->Bind(4, q.since_ms.value_or(INT64_MIN));
      s->Bind(5, static_cast<int64_t>(q.count) + 1);  // one extra row tells whether more exist
      while (true) {
        CRS_ASSIGN_OR_RETURN(bool row, s->Step());
        if (!row) break;
        if (static_cast<int>(page.versions.size()) == q.count) {
          page.next_before_seq = page.versions.back().seq;
          break;
        }
        ResourceVersion v;
        CRS_RETURN_IF_ERROR(FillVersion(*s, &v));
        v.type = s->Text(9);
        v.id = s->Text(10);
        page.versions.push_back(std::move(v));
      }
      s->Reset();
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return page;
  }

  Result<std::vector<ResourceVersion>> Changes(int64_t after_seq, int limit) override {
    std::vector<ResourceVersion> out;
    Status st = WithReader([&](Db* conn) -> Status {
      CRS_ASSIGN_OR_RETURN(Stmt * s, conn->Prepare(kChanges));
      s->Bind(1, after_seq);
      s->Bind(2, static_cast<int64_t>(limit));
      while (true) {
        CRS_ASSIGN_OR_RETURN(bool row, s->Step());
        if (!row) break;
        ResourceVersion v;
        CRS_RETURN_IF_ERROR(FillVersion(*s, &v));
        v.type = s->Text(9);
        v.id = s->Text(10);
        out.push_back(std::move(v));
      }
      s->Reset();
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  Result<CommitResult> Commit(const WriteBatch& batch) override {
    Pending pending{&batch, {}, {}};
    pending.compressed.reserve(batch.writes.size());
    for (const Write& w : batch.writes) {
      pending.compressed.push_back(w.method == Method::kDelete || w.method == Method::kPurge
                                       ? std::string()
                                       : CompressBody(w.body, options_.compression_level));
    }
    return Enqueue(&pending);
  }

  // Through the writer like a batch, so the advance shares a group's fsync.
  Result<int64_t> ReserveSequence(std::string_view name, int64_t count) override {
    if (count < 1 || name.empty()) {
      return Status::Invalid("a sequence reservation needs a name and a positive count");
    }
    WriteBatch none;
    Pending pending{&none, {}, {}};
    pending.sequence = std::string(name);
    pending.sequence_count = count;
    CRS_RETURN_IF_ERROR(Enqueue(&pending).status());
    return pending.sequence_first;
  }

  Result<SearchResult> Search(const SearchQuery& q) override {
    SearchResult result;
    Status st = WithReader([&](Db* conn) -> Status {
      // One snapshot for the total, the page and its includes.
      CRS_RETURN_IF_ERROR(conn->Exec("BEGIN"));
      Status body = SearchIn(conn, q, &result);
      (void)conn->Exec(body.ok() ? "COMMIT" : "ROLLBACK");
      return body;
    });
    if (!st.ok()) return st;
    return result;
  }

  Status SearchIn(Db* conn, const SearchQuery& q, SearchResult* out) {
    SearchResult& result = *out;
    {
      if (q.explain) {
        CompiledSql page = CompilePage(q);
        CRS_ASSIGN_OR_RETURN(Stmt * s, conn->PrepareDynamic("EXPLAIN QUERY PLAN " + page.sql));
        BindArgs(s, page.args);
        while (true) {
          CRS_ASSIGN_OR_RETURN(bool row, s->Step());
          if (!row) break;
          result.plan += std::string(s->Text(3)) + "\n";
        }
        s->Reset();
        result.plan += page.sql;
        return Status::Ok();
      }
      if (q.want_total) {
        CompiledSql count = CompileCount(q);
        CRS_ASSIGN_OR_RETURN(Stmt * s, conn->PrepareDynamic(count.sql));
        BindArgs(s, count.args);
        CRS_ASSIGN_OR_RETURN(bool row, s->Step());
        result.total = row ? s->Int(0) : 0;
        s->Reset();
      }
      if (q.count <= 0) return Status::Ok();
      CompiledSql page = CompilePage(q);
      CRS_ASSIGN_OR_RETURN(Stmt * s, conn->PrepareDynamic(page.sql));
      BindArgs(s, page.args);
      Status inner = Status::Ok();
      while (inner.ok()) {
        auto row = s->Step();
        if (!row.ok()) {
          inner = row.status();
          break;
        }
        if (!*row) break;
        if (static_cast<int>(result.matches.size()) == q.count) {
          result.next_after_rid = result.matches.back().rid;
          break;
        }
        if (!q.sort.empty()) {
          // Remember this row's keys: if the next row exists, they are the cursor.
          result.next_after_sort.clear();
          for (size_t k = 0; k < q.sort.size(); ++k) {
            int col = 8 + static_cast<int>(k);
            if (s->IsNull(col)) {
              result.next_after_sort.emplace_back(std::monostate());
            } else if (s->IsInt(col)) {
              result.next_after_sort.emplace_back(s->Int(col));
            } else if (s->IsReal(col)) {
              result.next_after_sort.emplace_back(s->Double(col));
            } else if (s->Text(col) == "\xff\xff") {
              result.next_after_sort.emplace_back(std::monostate());
            } else {
              result.next_after_sort.emplace_back(std::string(s->Text(col)));
            }
          }
        }
        auto m = MatchFromRow(*s, -1);
        if (!m.ok()) {
          inner = m.status();
          break;
        }
        result.matches.push_back(std::move(*m));
      }
      s->Reset();
      CRS_RETURN_IF_ERROR(inner);
      return LoadIncludes(*conn, q, &result);
    }
  }

  Result<SearchResult> Compartment(const CompartmentQuery& q) override {
    SearchResult result;
    Status st = WithReader([&](Db* conn) -> Status {
      std::vector<SqlArg> args;
      auto arg = [&](SqlArg v) {
        args.push_back(std::move(v));
        return "?" + std::to_string(args.size());
      };
      std::string owner_type = arg(q.type), owner_id = arg(q.id);
      std::string links;
      for (const auto& [type, code] : q.links) {
        if (!links.empty()) links += ", ";
        links += "(" + arg(type) + ", " + arg(code) + ")";
      }
      std::string sql =
          "SELECT r.rid, r.id, r.version, v.last_updated, v.body, r.patient, r.labels, r.author_org, "
          "r.type FROM resources r "
          "JOIN versions v ON v.seq = r.cur_seq WHERE r.deleted = 0 AND r.rid > " +
          arg(q.after_rid) + " AND ((r.type = " + owner_type + " AND r.id = " + owner_id + ")";
      if (!links.empty()) {
        sql += " OR r.rid IN (SELECT x.rid FROM ix_ref x WHERE x.tid = " + owner_id +
               " AND x.ttype = " + owner_type +
               " AND x.pid IN (SELECT pid FROM sp WHERE (type, code) IN (VALUES " + links + ")))";
      }
      sql += ")";
      if (!q.types.empty()) {
        sql += " AND r.type IN (";
        for (size_t i = 0; i < q.types.size(); ++i) sql += (i ? ", " : "") + arg(q.types[i]);
        sql += ")";
      }
      if (q.access) sql += " AND " + AccessSql(*q.access, "r", arg);
      sql += " ORDER BY r.rid LIMIT " + arg(static_cast<int64_t>(q.count) + 1);
      CRS_ASSIGN_OR_RETURN(Stmt * s, conn->PrepareDynamic(sql));
      BindArgs(s, args);
      Status inner = Status::Ok();
      while (inner.ok()) {
        auto row = s->Step();
        if (!row.ok()) {
          inner = row.status();
          break;
        }
        if (!*row) break;
        if (static_cast<int>(result.matches.size()) == q.count) {
          result.next_after_rid = result.matches.back().rid;
          break;
        }
        auto m = MatchFromRow(*s, 8);
        if (!m.ok()) {
          inner = m.status();
          break;
        }
        result.matches.push_back(std::move(*m));
      }
      s->Reset();
      return inner;
    });
    if (!st.ok()) return st;
    return result;
  }

  Result<bool> HasRelationship(std::string_view org, std::string_view patient) override {
    bool found = false;
    Status st = WithReader([&](Db* conn) -> Status {
      CRS_ASSIGN_OR_RETURN(Stmt * s, conn->Prepare(
          "SELECT 1 FROM rel WHERE org = ?1 AND patient = ?2 LIMIT 1"));
      s->Bind(1, org);
      s->Bind(2, patient);
      CRS_ASSIGN_OR_RETURN(found, s->Step());
      s->Reset();
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return found;
  }

  void AppendAudit(std::vector<AuditInput> records, std::function<void(Status)> done) override {
    Status refused;
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      if (closing_) {
        refused = Status::Unavailable("store is closing");
      } else if (audit_queued_ + records.size() > kMaxQueuedAudit) {
        refused = Status::Unavailable("audit queue is full");
      } else {
        audit_queued_ += records.size();
        audit_queue_.push_back({std::move(records), std::move(done)});
      }
    }
    if (!refused.ok()) {
      if (done) done(refused);
      return;
    }
    queue_cv_.notify_one();
  }

  Result<AuditPage> QueryAudit(const AuditQuery& q) override {
    return ReadWith([&](Db* conn) { return QueryAuditIn(*conn, q); });
  }
  Result<StoredAudit> ReadAudit(int64_t seq) override {
    return ReadWith([&](Db* conn) { return ReadAuditIn(*conn, seq); });
  }
  Result<std::vector<StoredAudit>> ScanAudit(int64_t after_seq, int limit) override {
    return ReadWith([&](Db* conn) { return ScanAuditIn(*conn, after_seq, limit); });
  }
  Status ScanAuditRows(int64_t after_seq,
                       const std::function<bool(const AuditRowView&)>& fn) override {
    return WithReader([&](Db* conn) { return ScanAuditRowsIn(*conn, after_seq, fn); });
  }
  Result<std::vector<AuditCheckpoint>> ScanAuditCheckpoints(int64_t after_seq,
                                                            int limit) override {
    return ReadWith([&](Db* conn) { return ScanAuditCheckpointsIn(*conn, after_seq, limit); });
  }

  Status Ping() override {
    return WithReader([&](Db* conn) -> Status {
      CRS_ASSIGN_OR_RETURN(Stmt * s, conn->Prepare("SELECT 1"));
      CRS_ASSIGN_OR_RETURN(bool row, s->Step());
      s->Reset();
      return row ? Status::Ok() : Status::Unavailable("store did not answer");
    });
  }

  Result<StoreStats> Stats() override {
    StoreStats stats;
    Status st = WithReader([&](Db* conn) -> Status {
      CRS_ASSIGN_OR_RETURN(Stmt * s, conn->Prepare(
          "SELECT (SELECT count(*) FROM resources WHERE deleted = 0), "
          "(SELECT coalesce(max(seq), 0) FROM versions)"));
      CRS_ASSIGN_OR_RETURN(bool row, s->Step());
      if (row) {
        stats.resources = s->Int(0);
        stats.versions = s->Int(1);
      }
      s->Reset();
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return stats;
  }

 private:
  struct Pending {
    const WriteBatch* batch;
    // Bodies compressed by the caller's thread, one per write (empty for
    // deletes), so the single writer thread spends its time on B-trees only.
    std::vector<std::string> compressed;
    std::promise<Result<CommitResult>> promise;
    // ReserveSequence: the counter to advance instead of applying `batch`,
    // and the first value reserved (set by the writer before `promise`).
    std::string sequence;
    int64_t sequence_count = 0;
    int64_t sequence_first = 0;
  };

  // Queues `pending` for the writer and waits until its group is durable.
  Result<CommitResult> Enqueue(Pending* pending) {
    auto done = pending->promise.get_future();
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      if (closing_) return Status::Unavailable("store is closing");
      queue_.push_back(pending);
    }
    queue_cv_.notify_one();
    return done.get();
  }
  struct PendingAudit {
    std::vector<AuditInput> records;
    std::function<void(Status)> done;
  };
  // AppendAudit refuses records beyond this many queued (memory bound);
  // one transaction takes at most kMaxGroupAudit of them.
  static constexpr size_t kMaxQueuedAudit = 1 << 20;
  static constexpr size_t kMaxGroupAudit = 1 << 16;

  // Runs `fn` with a reader connection from the pool.
  template <typename Fn>
  Status WithReader(Fn fn) {
    CRS_ASSIGN_OR_RETURN(auto conn, Acquire());
    Status st = fn(conn.get());
    Release(std::move(conn));
    return st;
  }

  // Runs `fn` (returning Result<T>) with a reader connection from the pool.
  template <typename Fn>
  auto ReadWith(Fn fn) -> decltype(fn(nullptr)) {
    CRS_ASSIGN_OR_RETURN(auto conn, Acquire());
    auto result = fn(conn.get());
    Release(std::move(conn));
    return result;
  }

  // One version by (type, id) and, for kReadVersion, a version number.
  Result<ResourceVersion> ReadOne(const char* sql, std::string_view type, std::string_view id,
                                  int64_t version) {
    ResourceVersion out;
    Status st = WithReader([&](Db* conn) -> Status {
      CRS_ASSIGN_OR_RETURN(Stmt * s, conn->Prepare(sql));
      s->Bind(1, type);
      s->Bind(2, id);
      if (version > 0) s->Bind(3, version);
      CRS_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) {
        s->Reset();
        return Status::NotFound(version > 0 ? "version not found" : "resource not found");
      }
      Status filled = FillVersion(*s, &out);
      s->Reset();
      return filled;
    });
    if (!st.ok()) return st;
    out.type = type;
    out.id = id;
    return out;
  }

  static Status Migrate(Db& db) {
    CRS_RETURN_IF_ERROR(db.Exec("CREATE TABLE IF NOT EXISTS schema_meta "
                                      "(key TEXT PRIMARY KEY, value INTEGER NOT NULL)"));
    CRS_ASSIGN_OR_RETURN(Stmt * get,
                         db.Prepare("SELECT value FROM schema_meta WHERE key = 'version'"));
    CRS_ASSIGN_OR_RETURN(bool row, get->Step());
    int64_t current = row ? get->Int(0) : 0;
    get->Reset();
    if (current > kSchemaVersion) {
      return Status::Unavailable("database schema version " + std::to_string(current) +
                                 " is newer than this binary supports (" +
                                 std::to_string(kSchemaVersion) + ")");
    }
    for (int64_t v = current + 1; v <= kSchemaVersion; ++v) {
      CRS_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
      Status st = db.Exec(kMigrations[v - 1]);
      if (st.ok()) {
        st = db.Exec("INSERT OR REPLACE INTO schema_meta VALUES ('version', " +
                           std::to_string(v) + ")");
      }
      if (!st.ok()) {
        (void)db.Exec("ROLLBACK");
        return st;
      }
      CRS_RETURN_IF_ERROR(db.Exec("COMMIT"));
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<Db>> Acquire() {
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      if (!pool_.empty()) {
        auto db = std::move(pool_.back());
        pool_.pop_back();
        return db;
      }
    }
    return Connect(/*create=*/false);
  }

  // A connection whose main database is the audit log, with the resource
  // file attached as `data`. The audit log comes first on purpose: SQLite
  // commits a transaction's databases in order (main first), so a crash in
  // between can leave an audit record of a write that did not land, never a
  // landed write without its audit record. Resource tables are named
  // unqualified and resolve to `data` (the audit file has none of them); the
  // audit log has its own file so that appending to it on every read does not
  // invalidate the resource readers' page caches (SQLite drops a
  // connection's cache for a file whenever that file changes).
  Result<std::unique_ptr<Db>> Connect(bool create) {
    CRS_ASSIGN_OR_RETURN(auto db, Db::Open(audit_path_, create));
    if (create) CRS_RETURN_IF_ERROR(db->Exec(kAuditSchema));
    CRS_RETURN_IF_ERROR(db->Attach(path_, "data"));
    return db;
  }

  void Release(std::unique_ptr<Db> db) {
    std::lock_guard<std::mutex> lock(pool_mu_);
    pool_.push_back(std::move(db));
  }

  void WriterLoop() {
    std::vector<Pending*> group;
    std::vector<PendingAudit> audit;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(queue_mu_);
        // Wake now and then while idle so the audit tail gets its checkpoint.
        auto idle = std::chrono::milliseconds(
            std::clamp<int64_t>(options_.audit_checkpoint_interval_ms, 10, 1000));
        bool work = queue_cv_.wait_for(lock, idle, [this] {
          return closing_ || !queue_.empty() || !audit_queue_.empty();
        });
        if (!work) {
          lock.unlock();
          (void)audit_->CheckpointIdle(/*force=*/false);  // failure: retried at the next wake-up
          continue;
        }
        if (queue_.empty() && audit_queue_.empty()) return;  // closing and drained
        while (!queue_.empty() && static_cast<int>(group.size()) < options_.max_group) {
          group.push_back(queue_.front());
          queue_.pop_front();
        }
        size_t taken = 0;
        while (!audit_queue_.empty() && taken < kMaxGroupAudit) {
          taken += audit_queue_.front().records.size();
          audit.push_back(std::move(audit_queue_.front()));
          audit_queue_.pop_front();
        }
        audit_queued_ -= taken;
      }
      CommitGroup(group, audit);
      group.clear();
      audit.clear();
    }
  }

  // Runs a statement without results through the statement cache.
  Status Run(const char* sql) {
    CRS_ASSIGN_OR_RETURN(Stmt * s, writer_->Prepare(sql));
    auto r = s->Step();
    s->Reset();
    return r.ok() ? Status::Ok() : r.status();
  }

  // Commits every batch of `group` in one transaction; a batch whose writes
  // fail is rolled back to its savepoint and answered on its own.
  // Audit records ride along: a batch's own records inside its savepoint,
  // the AppendAudit records in one savepoint after the batches.
  void CommitGroup(const std::vector<Pending*>& group, std::vector<PendingAudit>& audit) {
    std::vector<Result<CommitResult>> results;
    results.reserve(group.size());
    Status begin = writer_->Exec("BEGIN IMMEDIATE");
    if (begin.ok()) begin = audit_->BeginGroup();
    if (!begin.ok()) {
      (void)writer_->Exec("ROLLBACK");
      for (Pending* p : group) p->promise.set_value(begin);
      Answer(audit, Status::Unavailable(begin.message()));
      return;
    }
    for (Pending* p : group) {
      (void)Run("SAVEPOINT batch");
      AuditAppender::Mark mark = audit_->mark();
      Result<CommitResult> r = ApplyBatch(*p);
      if (r.ok()) {
        Status appended = audit_->Append(p->batch->audit);
        if (!appended.ok()) r = appended;
      }
      if (!r.ok()) {
        (void)Run("ROLLBACK TO batch");
        index_writer_->ForgetCache();
        audit_->Restore(std::move(mark));
      }
      (void)Run("RELEASE batch");
      results.push_back(std::move(r));
    }
    Status audit_status = AppendQueuedAudit(audit);
    (void)audit_->MaybeCheckpoint(/*force=*/false);  // failure: the next group retries
    Status commit = writer_->Exec("COMMIT");
    audit_->EndGroup(commit.ok());
    if (!commit.ok()) {
      (void)writer_->Exec("ROLLBACK");
      index_writer_->ForgetCache();
      for (Pending* p : group) p->promise.set_value(Status::Unavailable(commit.message()));
      Answer(audit, Status::Unavailable(commit.message()));
      return;
    }
    for (size_t i = 0; i < group.size(); ++i) group[i]->promise.set_value(std::move(results[i]));
    Answer(audit, audit_status);
  }

  static void Answer(std::vector<PendingAudit>& audit, const Status& status) {
    for (PendingAudit& a : audit) {
      if (a.done) a.done(status);
    }
  }

  // Appends the AppendAudit records of a group, all or none.
  Status AppendQueuedAudit(const std::vector<PendingAudit>& audit) {
    if (audit.empty()) return Status::Ok();
    (void)Run("SAVEPOINT audit");
    AuditAppender::Mark mark = audit_->mark();
    Status st = Status::Ok();
    for (const PendingAudit& a : audit) {
      st = audit_->Append(a.records);
      if (!st.ok()) break;
    }
    if (!st.ok()) {
      (void)Run("ROLLBACK TO audit");
      audit_->Restore(std::move(mark));
      st = Status::Unavailable("audit append failed: " + st.message());
    }
    (void)Run("RELEASE audit");
    return st;
  }

  Result<CommitResult> ApplyBatch(Pending& pending) {
    if (!pending.sequence.empty()) return AdvanceSequence(pending);
    const WriteBatch& batch = *pending.batch;
    CommitResult result;
    if (!batch.idempotency_key.empty()) {
      CRS_ASSIGN_OR_RETURN(Stmt * s,
                           writer_->Prepare("SELECT result FROM idempotency WHERE key = ?1"));
      s->Bind(1, batch.idempotency_key);
      CRS_ASSIGN_OR_RETURN(bool row, s->Step());
      if (row) {
        result.already_applied = true;
        result.applied = DecodeRefs(s->Text(0));
        s->Reset();
        return result;
      }
      s->Reset();
    }
    for (size_t i = 0; i < batch.writes.size(); ++i) {
      CRS_ASSIGN_OR_RETURN(VersionRef ref, ApplyWrite(batch.writes[i], pending.compressed[i]));
      result.applied.push_back(std::move(ref));
    }
    if (!batch.idempotency_key.empty()) {
      CRS_ASSIGN_OR_RETURN(Stmt * s, writer_->Prepare(
          "INSERT INTO idempotency (key, created, result) VALUES (?1, ?2, ?3)"));
      std::string refs = EncodeRefs(result.applied);
      s->Bind(1, batch.idempotency_key);
      s->Bind(2, batch.writes.empty() ? 0 : batch.writes.front().last_updated_ms);
      s->Bind(3, refs);
      CRS_ASSIGN_OR_RETURN(bool unused, s->Step());
      (void)unused;
      s->Reset();
    }
    return result;
  }

  Result<CommitResult> AdvanceSequence(Pending& pending) {
    CRS_ASSIGN_OR_RETURN(Stmt * s, writer_->Prepare(
        "INSERT INTO sequences (name, next) VALUES (?1, ?2) "
        "ON CONFLICT (name) DO UPDATE SET next = next + ?2 RETURNING next"));
    s->Bind(1, pending.sequence);
    s->Bind(2, pending.sequence_count);
    auto row = s->Step();
    if (row.ok() && *row) pending.sequence_first = s->Int(0) - pending.sequence_count;
    s->Reset();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Internal("sequence advance returned no row");
    return CommitResult{};
  }

  Result<VersionRef> ApplyWrite(const Write& w, const std::string& compressed) {
    CRS_ASSIGN_OR_RETURN(Stmt * find,
                         writer_->Prepare("SELECT rid, version FROM resources "
                                          "WHERE type = ?1 AND id = ?2"));
    find->Bind(1, w.type);
    find->Bind(2, w.id);
    CRS_ASSIGN_OR_RETURN(bool exists, find->Step());
    int64_t rid = exists ? find->Int(0) : 0;
    int64_t current = exists ? find->Int(1) : 0;
    find->Reset();
    if (w.method == Method::kPurge) return Purge(w, rid, exists);
    if (current != w.expected_version) {
      return Status::Conflict("version conflict on " + w.type + ": expected " +
                              std::to_string(w.expected_version) + ", found " +
                              std::to_string(current));
    }
    bool is_delete = w.method == Method::kDelete;
    int64_t version = current + 1;
    if (!exists) {
      CRS_ASSIGN_OR_RETURN(Stmt * ins, writer_->Prepare(
          "INSERT INTO resources (type, id, version, cur_seq, deleted) VALUES (?1, ?2, 0, 0, 0)"));
      ins->Bind(1, w.type);
      ins->Bind(2, w.id);
      CRS_ASSIGN_OR_RETURN(bool unused, ins->Step());
      (void)unused;
      ins->Reset();
      rid = writer_->LastInsertRowid();
    }
    CRS_ASSIGN_OR_RETURN(Stmt * ver, writer_->Prepare(
        "INSERT INTO versions (rid, type, version, last_updated, method, body) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    ver->Bind(1, rid);
    ver->Bind(2, w.type);
    ver->Bind(3, version);
    ver->Bind(4, w.last_updated_ms);
    ver->Bind(5, static_cast<int64_t>(w.method));
    if (is_delete) {
      ver->BindNull(6);
    } else {
      ver->BindBlob(6, compressed);
    }
    CRS_ASSIGN_OR_RETURN(bool unused, ver->Step());
    (void)unused;
    ver->Reset();
    int64_t seq = writer_->LastInsertRowid();
    CRS_ASSIGN_OR_RETURN(Stmt * upd, writer_->Prepare(
        "UPDATE resources SET version = ?1, cur_seq = ?2, deleted = ?3 WHERE rid = ?4"));
    upd->Bind(1, version);
    upd->Bind(2, seq);
    upd->Bind(3, static_cast<int64_t>(is_delete));
    upd->Bind(4, rid);
    CRS_ASSIGN_OR_RETURN(bool unused2, upd->Step());
    (void)unused2;
    upd->Reset();
    CRS_RETURN_IF_ERROR(WriteAccessFacts(rid, exists, is_delete ? nullptr : w.access.get()));
    CRS_RETURN_IF_ERROR(index_writer_->Replace(rid, w.type, is_delete ? nullptr : w.index.get(),
                                               /*had_rows=*/exists));
    return VersionRef{w.type, w.id, version};
  }

  // Erases every trace of a resource: versions, index rows, relationships,
  // the resource row itself.
  Result<VersionRef> Purge(const Write& w, int64_t rid, bool exists) {
    if (!exists) return VersionRef{w.type, w.id, 0};
    CRS_RETURN_IF_ERROR(index_writer_->Replace(rid, w.type, nullptr, /*had_rows=*/true));
    for (const char* sql : {"DELETE FROM rel WHERE rid = ?1", "DELETE FROM versions WHERE rid = ?1",
                            "DELETE FROM resources WHERE rid = ?1"}) {
      CRS_ASSIGN_OR_RETURN(Stmt * del, writer_->Prepare(sql));
      del->Bind(1, rid);
      CRS_ASSIGN_OR_RETURN(bool unused, del->Step());
      (void)unused;
      del->Reset();
    }
    return VersionRef{w.type, w.id, 0};
  }

  // The resource's access facts and the relationships it establishes. A
  // delete keeps the last facts (its history stays governed by them) and
  // drops its relationships; the first author is kept.
  Status WriteAccessFacts(int64_t rid, bool existed, const AccessFacts* facts) {
    if (existed) {
      CRS_ASSIGN_OR_RETURN(Stmt * del, writer_->Prepare("DELETE FROM rel WHERE rid = ?1"));
      del->Bind(1, rid);
      CRS_ASSIGN_OR_RETURN(bool unused, del->Step());
      (void)unused;
      del->Reset();
    }
    if (facts == nullptr) {
      if (existed) return Status::Ok();
      static const AccessFacts kUnknown{"?", 0, "", {}};
      facts = &kUnknown;
    }
    CRS_ASSIGN_OR_RETURN(Stmt * upd, writer_->Prepare(
        "UPDATE resources SET patient = ?1, labels = ?2, "
        "author_org = CASE WHEN author_org = '' THEN ?3 ELSE author_org END WHERE rid = ?4"));
    upd->Bind(1, facts->patient);
    upd->Bind(2, static_cast<int64_t>(facts->labels));
    upd->Bind(3, facts->author_org);
    upd->Bind(4, rid);
    CRS_ASSIGN_OR_RETURN(bool unused, upd->Step());
    (void)unused;
    upd->Reset();
    if (facts->patient.empty() || facts->patient == "*" || facts->patient == "?") {
      return Status::Ok();
    }
    for (const std::string& org : facts->relationship_orgs) {
      CRS_ASSIGN_OR_RETURN(Stmt * ins, writer_->Prepare(
          "INSERT OR IGNORE INTO rel (org, patient, rid) VALUES (?1, ?2, ?3)"));
      ins->Bind(1, org);
      ins->Bind(2, facts->patient);
      ins->Bind(3, rid);
      CRS_ASSIGN_OR_RETURN(bool unused3, ins->Step());
      (void)unused3;
      ins->Reset();
    }
    return Status::Ok();
  }

  // "type/id/version\n" per write.
  static std::string EncodeRefs(const std::vector<VersionRef>& refs) {
    std::string out;
    for (const auto& r : refs) {
      out += r.type + "/" + r.id + "/" + std::to_string(r.version) + "\n";
    }
    return out;
  }
  static std::vector<VersionRef> DecodeRefs(std::string_view text) {
    std::vector<VersionRef> refs;
    while (!text.empty()) {
      size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
      size_t a = line.find('/'), b = line.rfind('/');
      if (a == std::string_view::npos || a == b) continue;
      refs.push_back({std::string(line.substr(0, a)), std::string(line.substr(a + 1, b - a - 1)),
                      std::stoll(std::string(line.substr(b + 1)))});
    }
    return refs;
  }

  const std::string path_;
  const std::string audit_path_;  // the audit log's file (schema `log`)
  const StoreOptions options_;
  std::unique_ptr<Db> writer_;  // used only by writer_thread_ once Init() returns
  std::unique_ptr<IndexWriter> index_writer_;  // writes through writer_
  std::unique_ptr<AuditAppender> audit_;       // appends through writer_
  std::thread writer_thread_;

  // Lock order: queue_mu_ and pool_mu_ are leaves, never held together.
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Pending*> queue_;  // GUARDED_BY(queue_mu_)
  std::deque<PendingAudit> audit_queue_;  // GUARDED_BY(queue_mu_)
  size_t audit_queued_ = 0;               // records in audit_queue_; GUARDED_BY(queue_mu_)
  bool closing_ = false;        // GUARDED_BY(queue_mu_)

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Db>> pool_;  // GUARDED_BY(pool_mu_)
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const StoreOptions& options) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return Status::Unavailable("cannot create " + parent.string() + ": " + ec.message());
  auto store = std::make_unique<SqliteStore>(path, options);
  CRS_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace crs::store::sqlite
