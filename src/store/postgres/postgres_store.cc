#include "store/postgres/postgres_store.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/thread_name.h"
#include "store/body_codec.h"
#include "store/postgres/audit_reads.h"
#include "store/postgres/pg.h"
#include "store/postgres/pool.h"
#include "store/postgres/replicas.h"
#include "store/postgres/schema.h"
#include "store/postgres/write_ops.h"
#include "store/sql/group_writer.h"
#include "store/sql/includes.h"
#include "store/sql/search_sql.h"

namespace crs::store::postgres {
namespace {

using sql::CompiledSql;

constexpr const char* kReadCurrent =
    "SELECT r.version, r.deleted, v.last_updated, v.method, v.body, v.seq, "
    "r.patient, r.labels, r.author_org "
    "FROM resources r JOIN versions v ON v.seq = r.cur_seq WHERE r.type = $1 AND r.id = $2";
constexpr const char* kReadVersion =
    "SELECT v.version, CASE WHEN v.body IS NULL THEN 1 ELSE 0 END, v.last_updated, v.method, "
    "v.body, v.seq, r.patient, r.labels, r.author_org "
    "FROM resources r JOIN versions v ON v.rid = r.rid "
    "WHERE r.type = $1 AND r.id = $2 AND v.version = $3";

// Fills the columns shared by the read queries (version, deleted,
// last_updated, method, body, seq, patient, labels, author_org).
Status FillVersion(const Rows& r, int i, ResourceVersion* out) {
  out->version = r.Int(i, 0);
  out->deleted = r.Int(i, 1) != 0;
  out->last_updated_ms = r.Int(i, 2);
  out->method = static_cast<Method>(r.Int(i, 3));
  out->seq = r.Int(i, 5);
  out->access.patient = r.Bytes(i, 6);
  out->access.labels = static_cast<uint32_t>(r.Int(i, 7));
  out->access.author_org = r.Bytes(i, 8);
  if (!out->deleted) {
    CRS_ASSIGN_OR_RETURN(out->body, DecompressBody(r.Bytes(i, 4)));
  }
  return Status::Ok();
}

// Up to `max` rows of the history columns (FillVersion's, then type and id).
Result<std::vector<ResourceVersion>> VersionsOf(const Rows& r, int max) {
  std::vector<ResourceVersion> out;
  for (int i = 0; i < r.size() && i < max; ++i) {
    ResourceVersion v;
    CRS_RETURN_IF_ERROR(FillVersion(r, i, &v));
    v.type = r.Bytes(i, 9);
    v.id = r.Bytes(i, 10);
    out.push_back(std::move(v));
  }
  return out;
}

// A row of the match columns (store/sql/search_sql.h); `type_col` >= 0
// names the column holding the type.
Result<SearchMatch> MatchFromRow(const Rows& r, int i, int type_col) {
  SearchMatch m;
  m.rid = r.Int(i, 0);
  m.id = r.Bytes(i, 1);
  m.version = r.Int(i, 2);
  m.last_updated_ms = r.Int(i, 3);
  m.patient = r.Bytes(i, 5);
  m.labels = static_cast<uint32_t>(r.Int(i, 6));
  m.author_org = r.Bytes(i, 7);
  if (type_col >= 0) m.type = r.Bytes(i, type_col);
  CRS_ASSIGN_OR_RETURN(m.body, DecompressBody(r.Bytes(i, 4)));
  return m;
}

// Runs `sql` and decodes every row (match columns, then the type).
Result<std::vector<SearchMatch>> RunMatches(Conn& c, const CompiledSql& sql) {
  CRS_ASSIGN_OR_RETURN(Rows rows, c.Query(sql.sql, Params(sql.args)));
  std::vector<SearchMatch> out;
  out.reserve(rows.size());
  for (int i = 0; i < rows.size(); ++i) {
    CRS_ASSIGN_OR_RETURN(SearchMatch m, MatchFromRow(rows, i, sql::kMatchTypeColumn));
    out.push_back(std::move(m));
  }
  return out;
}

SortValue SortValueAt(const Rows& r, int i, int col) {
  if (r.IsNull(i, col)) return std::monostate();
  if (r.IsIntColumn(col)) return r.Int(i, col);
  if (r.IsDoubleColumn(col)) return r.Double(i, col);
  return std::string(r.Bytes(i, col));
}

// Migration 3 (schema.h) indexes left(column, 256); the search SQL must test the same expression.
static_assert(sql::kPostgres.index_key_chars == 256);

Status Migrate(Conn& c, int* from, int* to) {
  CRS_RETURN_IF_ERROR(c.Exec("BEGIN"));
  Status st = [&]() -> Status {
    // One migrating process at a time; the others find the work done.
    CRS_RETURN_IF_ERROR(c.QueryOnce("SELECT pg_advisory_xact_lock($1)",
                                    Params().Int(kMigrateLock)).status());
    CRS_RETURN_IF_ERROR(c.Exec("CREATE TABLE IF NOT EXISTS schema_meta "
                               "(key text PRIMARY KEY, value bigint NOT NULL)"));
    CRS_ASSIGN_OR_RETURN(Rows r, c.QueryOnce("SELECT value FROM schema_meta WHERE key = 'version'",
                                             Params()));
    int64_t current = r.size() ? r.Int(0, 0) : 0;
    *from = static_cast<int>(current);
    if (current > kSchemaVersion) {
      return Status::Unavailable("database schema version " + std::to_string(current) +
                                 " is newer than this binary supports (" +
                                 std::to_string(kSchemaVersion) + ")");
    }
    for (int64_t v = current + 1; v <= kSchemaVersion; ++v) {
      CRS_RETURN_IF_ERROR(c.Exec(kMigrations[v - 1]));
      CRS_RETURN_IF_ERROR(c.QueryOnce("INSERT INTO schema_meta VALUES ('version', $1) "
                                      "ON CONFLICT (key) DO UPDATE SET value = $1",
                                      Params().Int(v)).status());
    }
    *to = kSchemaVersion;
    return Status::Ok();
  }();
  if (!st.ok()) {
    (void)c.Exec("ROLLBACK");
    return st;
  }
  return c.Exec("COMMIT");
}

class PostgresStore final : public Store {
 public:
  explicit PostgresStore(const StoreOptions& options)
      : options_(options),
        pool_(options.url, options.pool_size),
        replicas_(options.replicas, options.pool_size, options.replica_max_lag_ms),
        writer_conn_(options.url) {}

  ~PostgresStore() override {
    {
      std::lock_guard<std::mutex> lock(analyze_mu_);
      closing_ = true;
    }
    analyze_cv_.notify_all();
    if (analyzer_.joinable()) analyzer_.join();
    writer_.reset();
  }

  Status Init() {
    {
      CRS_ASSIGN_OR_RETURN(auto conn, Conn::Open(options_.url));
      int from = 0, to = 0;
      CRS_RETURN_IF_ERROR(Migrate(*conn, &from, &to));
      CRS_RETURN_IF_ERROR(CheckFullText(*conn));
      CRS_RETURN_IF_ERROR(CheckTraceKeys(*conn));
    }
    write_ops_ = std::make_unique<PgWriteOps>(
        writer_conn_, replicas_.empty() ? nullptr : &replicas_.last_write_lsn());
    audit_ops_ = std::make_unique<PgAuditOps>(writer_conn_, *write_ops_);
    writer_ = std::make_unique<sql::GroupWriter>(*write_ops_, *audit_ops_, options_);
    CRS_RETURN_IF_ERROR(writer_->Start());
    analyzer_ = std::thread([this] {
      SetThreadName("crs-analyze");
      AnalyzeLoop();
    });
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
    CompiledSql history = sql::CompileHistory(q, sql::kPostgres);
    return ReadReplica<HistoryPage>([&](Conn& c) -> Result<HistoryPage> {
      CRS_ASSIGN_OR_RETURN(Rows r, c.Query(history.sql, Params(history.args)));
      HistoryPage page;
      // One row beyond the page tells whether another page follows.
      CRS_ASSIGN_OR_RETURN(page.versions, VersionsOf(r, q.count));
      if (r.size() > q.count && !page.versions.empty()) {
        page.next_before_seq = page.versions.back().seq;
      }
      return page;
    });
  }

  Result<std::vector<ResourceVersion>> Changes(int64_t after_seq, int limit) override {
    // From the primary: a replica may not have replayed the newest versions
    // yet, and a consumer's cursor must never skip one.
    CompiledSql changes = sql::CompileChanges(after_seq, limit, sql::kPostgres);
    return WithConn<std::vector<ResourceVersion>>(
        [&](Conn& c) -> Result<std::vector<ResourceVersion>> {
          CRS_ASSIGN_OR_RETURN(Rows r, c.Query(changes.sql, Params(changes.args)));
          return VersionsOf(r, limit);
        });
  }

  Result<CommitResult> Commit(const WriteBatch& batch) override {
    Result<CommitResult> out = writer_->Commit(batch);
    if (out.ok()) replicas_.NoteClientWrite();
    return out;
  }

  void CommitAsync(WriteBatch batch, std::function<void(Result<CommitResult>)> done) override {
    writer_->CommitAsync(std::move(batch), [this, client = ClientScope::Current(),
                                            done = std::move(done)](Result<CommitResult> r) {
      if (r.ok()) replicas_.NoteClientWrite(client);
      done(std::move(r));
    });
  }

  Result<int64_t> ReserveSequence(std::string_view name, int64_t count) override {
    return writer_->ReserveSequence(name, count);
  }

  Result<SearchResult> Search(const SearchQuery& q) override {
    // One snapshot for the total, the page and its includes; a lone page
    // query is one already.
    bool several = q.want_total || !q.includes.empty();
    return ReadReplica<SearchResult>([&](Conn& c) -> Result<SearchResult> {
      // BEGIN travels with the first query (Conn::Defer): no round trip of its own.
      if (several) c.Defer("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", Params(), false);
      SearchResult result;
      Status st = SearchIn(c, q, &result);
      if (several) {
        c.DiscardDeferred();  // a BEGIN no query carried (explain, or nothing to run)
        (void)c.Exec(st.ok() ? "COMMIT" : "ROLLBACK");
      }
      if (!st.ok()) return st;
      return result;
    });
  }

  Result<SearchResult> Compartment(const CompartmentQuery& q) override {
    CompiledSql members = sql::CompileCompartment(q, sql::kPostgres);
    return ReadReplica<SearchResult>([&](Conn& c) -> Result<SearchResult> {
      SearchResult result;
      CRS_ASSIGN_OR_RETURN(result.matches, RunMatches(c, members));
      result.next_after_rid = sql::TrimPage(&result.matches, q.count);
      return result;
    });
  }

  Result<std::vector<std::string>> IdsBetween(std::string_view type, std::string_view lo,
                                              std::string_view hi, int limit) override {
    return WithConn<std::vector<std::string>>([&](Conn& c) -> Result<std::vector<std::string>> {
      CRS_ASSIGN_OR_RETURN(
          Rows r, c.Query("SELECT id FROM resources WHERE type = $1 AND id >= $2 AND id <= $3 "
                          "ORDER BY id LIMIT $4",
                          Params().Text(type).Text(lo).Text(hi).Int(limit)));
      std::vector<std::string> ids;
      for (int i = 0; i < r.size(); ++i) ids.emplace_back(r.Bytes(i, 0));
      return ids;
    });
  }

  Result<bool> HasRelationship(std::string_view org, std::string_view patient) override {
    return ReadReplica<bool>([&](Conn& c) -> Result<bool> {
      CRS_ASSIGN_OR_RETURN(Rows r, c.Query("SELECT 1 FROM rel WHERE org = $1 AND patient = $2 LIMIT 1",
                                           Params().Text(org).Text(patient)));
      return r.size() > 0;
    });
  }

  void AppendAudit(std::vector<AuditInput> records, std::function<void(Status)> done) override {
    writer_->AppendAudit(std::move(records), std::move(done));
  }

  Result<AuditPage> QueryAudit(const AuditQuery& q) override {
    return WithConn<AuditPage>([&](Conn& c) { return QueryAuditIn(c, q); });
  }
  Result<StoredAudit> ReadAudit(int64_t seq) override {
    return WithConn<StoredAudit>([&](Conn& c) { return ReadAuditIn(c, seq); });
  }
  Result<std::vector<StoredAudit>> ScanAudit(int64_t after_seq, int limit) override {
    return WithConn<std::vector<StoredAudit>>([&](Conn& c) { return ScanAuditIn(c, after_seq, limit); });
  }
  Status ScanAuditRows(int64_t after_seq,
                       const std::function<bool(const AuditRowView&)>& fn) override {
    return WithConn<bool>(
               [&](Conn& c) -> Result<bool> {
                 CRS_RETURN_IF_ERROR(ScanAuditRowsIn(c, after_seq, fn));
                 return true;
               },
               /*retry=*/false)
        .status();
  }
  Result<std::vector<AuditCheckpoint>> ScanAuditCheckpoints(int64_t after_seq,
                                                            int limit) override {
    return WithConn<std::vector<AuditCheckpoint>>(
        [&](Conn& c) { return ScanAuditCheckpointsIn(c, after_seq, limit); });
  }

  // schema_meta 'fulltext' is 1 while every current resource has its
  // full-text rows (docs/storage.md, "Full-text index"), as on SQLite.
  Status CheckFullText(Conn& c) {
    CRS_ASSIGN_OR_RETURN(Rows r, c.QueryOnce("SELECT value FROM schema_meta WHERE key = 'fulltext'",
                                             Params()));
    bool complete = r.size() && r.Int(0, 0) == 1;
    if (options_.fulltext == FullTextMode::kUntouched) return Status::Ok();
    if (options_.fulltext == FullTextMode::kOff) {
      if (!complete) return Status::Ok();
      // Writes from now on keep no rows: the index stops being complete.
      return c.QueryOnce("UPDATE schema_meta SET value = 0 WHERE key = 'fulltext'", Params())
          .status();
    }
    if (complete || options_.fulltext == FullTextMode::kRebuild) return Status::Ok();
    CRS_ASSIGN_OR_RETURN(Rows any, c.QueryOnce("SELECT 1 FROM resources WHERE deleted = 0 LIMIT 1",
                                               Params()));
    if (any.size()) return Status::Unavailable(std::string(kFullTextIncomplete));
    return MarkComplete(c);
  }

  static Status MarkComplete(Conn& c) {
    return c.QueryOnce("INSERT INTO schema_meta VALUES ('fulltext', 1) "
                       "ON CONFLICT (key) DO UPDATE SET value = 1", Params())
        .status();
  }

  bool KeepsFullText() const override {
    return options_.fulltext == FullTextMode::kOn || options_.fulltext == FullTextMode::kRebuild;
  }

  Status MarkFullTextComplete() override {
    if (!KeepsFullText()) return Status::Invalid("this store does not keep a full-text index");
    CRS_ASSIGN_OR_RETURN(auto conn, Conn::Open(options_.url));
    return MarkComplete(*conn);
  }

  // schema_meta 'trace_keys' is 1 while every Patient has its trace keys
  // (docs/storage.md, "Trace keys").
  Status CheckTraceKeys(Conn& c) {
    CRS_ASSIGN_OR_RETURN(
        Rows r, c.QueryOnce("SELECT value FROM schema_meta WHERE key = 'trace_keys'", Params()));
    bool complete = r.size() == 1 && r.Int(0, 0) == 1;
    trace_keys_ = complete;
    if (options_.trace_keys == TraceKeysMode::kOff && complete) {
      trace_keys_ = false;
      return c.QueryOnce("UPDATE schema_meta SET value = 0 WHERE key = 'trace_keys'", Params())
          .status();
    }
    if (options_.trace_keys != TraceKeysMode::kOn || complete) return Status::Ok();
    CRS_ASSIGN_OR_RETURN(
        Rows any, c.QueryOnce("SELECT 1 FROM resources WHERE type = 'Patient' LIMIT 1", Params()));
    if (any.size() > 0) return Status::Ok();  // until crs reindex --trace-keys
    trace_keys_ = true;
    return c.QueryOnce("INSERT INTO schema_meta VALUES ('trace_keys', 1) "
                       "ON CONFLICT (key) DO UPDATE SET value = 1", Params())
        .status();
  }

  bool KeepsTraceKeys() const override { return options_.trace_keys == TraceKeysMode::kOn; }
  bool TraceKeysComplete() override {
    if (!KeepsTraceKeys() || !trace_keys_) return false;
    // A node sharing the database without --trace-keys lowers the flag when
    // it opens, before it can write a Patient without keys: read it for
    // every trace (docs/storage.md, "Trace keys").
    auto r = WithConn<bool>([](Conn& c) -> Result<bool> {
      CRS_ASSIGN_OR_RETURN(
          Rows rows, c.Query("SELECT value FROM schema_meta WHERE key = 'trace_keys'", Params()));
      return rows.size() == 1 && rows.Int(0, 0) == 1;
    });
    return r.ok() && *r;
  }

  Status MarkTraceKeysComplete() override {
    if (!KeepsTraceKeys()) return Status::Invalid("this store does not keep trace keys");
    CRS_ASSIGN_OR_RETURN(auto conn, Conn::Open(options_.url));
    CRS_RETURN_IF_ERROR(conn->QueryOnce("INSERT INTO schema_meta VALUES ('trace_keys', 1) "
                                        "ON CONFLICT (key) DO UPDATE SET value = 1",
                                        Params())
                            .status());
    trace_keys_ = true;
    return Status::Ok();
  }

  Status Ping() override {
    return WithConn<bool>([&](Conn& c) -> Result<bool> {
      CRS_ASSIGN_OR_RETURN(Rows r, c.Query("SELECT 1", Params()));
      if (r.size() != 1) return Status::Unavailable("store did not answer");
      return true;
    }).status();
  }

  Result<StoreStats> Stats() override {
    return WithConn<StoreStats>([&](Conn& c) -> Result<StoreStats> {
      CRS_ASSIGN_OR_RETURN(Rows r, c.Query("SELECT (SELECT count(*) FROM resources WHERE deleted = 0), "
                                           "(SELECT coalesce(max(seq), 0) FROM versions)",
                                           Params()));
      StoreStats stats;
      if (r.size()) {
        stats.resources = r.Int(0, 0);
        stats.versions = r.Int(0, 1);
      }
      stats.replica_reads = replicas_.reads();
      return stats;
    });
  }

 private:
  // Keeps the planner's statistics fresh after bulk writes. Autovacuum
  // does the same, but only at its next round (a minute by default), and
  // until then a search right after `crs import` into a young database is
  // planned from the empty tables' statistics (a scan per match instead of
  // an index lookup). Every two seconds: ANALYZE when the rows changed
  // since the last analysis (by any process) reach a fifth of the live rows
  // (and at least kAnalyzeMin).
  void AnalyzeLoop() {
    static constexpr int64_t kAnalyzeMin = 5000;
    std::unique_lock<std::mutex> lock(analyze_mu_);
    while (!closing_) {
      analyze_cv_.wait_for(lock, std::chrono::seconds(2));
      if (closing_) break;
      lock.unlock();
      // Failures (a lost server) are retried at the next round.
      (void)WithConn<bool>([](Conn& c) -> Result<bool> {
        CRS_ASSIGN_OR_RETURN(Rows r, c.Query(
            "SELECT coalesce(sum(n_mod_since_analyze), 0)::bigint, "
            "coalesce(sum(n_live_tup), 0)::bigint FROM pg_stat_user_tables",
            Params()));
        if (r.size() == 0) return false;
        int64_t changed = r.Int(0, 0), live = r.Int(0, 1);
        if (changed < std::max(kAnalyzeMin, live / 5)) return false;
        CRS_RETURN_IF_ERROR(c.Exec("ANALYZE"));
        return true;
      });
      lock.lock();
    }
  }

  // Runs `fn` (Conn& -> Result<T>) on a pooled connection. When the
  // connection turns out lost (the server restarted, or failed over), the
  // pool's idle connections are dropped and `fn` runs once more on a new
  // one, unless `retry` is false (a streaming scan whose callback already
  // saw rows).
  template <typename T, typename Fn>
  Result<T> WithConn(Fn fn, bool retry = true) {
    for (int attempt = 0;; ++attempt) {
      CRS_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
      Result<T> out = fn(*conn);
      bool lost = !out.ok() && !conn->Healthy();
      pool_.Release(std::move(conn));
      if (!lost || !retry || attempt > 0) return out;
      pool_.DropIdle();
    }
  }

  // A read a replica may answer (read-your-writes: see replicas.h), else
  // the primary.
  template <typename T, typename Fn>
  Result<T> ReadReplica(Fn fn) {
    if (!replicas_.empty()) {
      bool served = false;
      Result<T> out = replicas_.Read<T>(fn, &served);
      if (served) return out;
    }
    return WithConn<T>(fn);
  }

  Result<ResourceVersion> ReadOne(const char* sql, std::string_view type, std::string_view id,
                                  int64_t version) {
    Params p;
    p.Text(type).Text(id);
    if (version > 0) p.Int(version);
    return ReadReplica<ResourceVersion>([&](Conn& c) -> Result<ResourceVersion> {
      CRS_ASSIGN_OR_RETURN(Rows r, c.Query(sql, p));
      if (r.size() == 0) {
        return Status::NotFound(version > 0 ? "version not found" : "resource not found");
      }
      ResourceVersion out;
      CRS_RETURN_IF_ERROR(FillVersion(r, 0, &out));
      out.type = type;
      out.id = id;
      return out;
    });
  }

  Status SearchIn(Conn& c, const SearchQuery& q, SearchResult* result) {
    if (q.explain) {
      CompiledSql page = sql::CompilePage(q, sql::kPostgres);
      CRS_ASSIGN_OR_RETURN(Rows r, c.QueryOnce("EXPLAIN " + page.sql, Params(page.args)));
      for (int i = 0; i < r.size(); ++i) result->plan += std::string(r.Bytes(i, 0)) + "\n";
      result->plan += page.sql;
      return Status::Ok();
    }
    if (q.want_total) {
      CompiledSql count = sql::CompileCount(q, sql::kPostgres);
      CRS_ASSIGN_OR_RETURN(Rows r, c.Query(count.sql, Params(count.args)));
      result->total = r.size() ? r.Int(0, 0) : 0;
    }
    if (q.count <= 0) return Status::Ok();
    CompiledSql page = sql::CompilePage(q, sql::kPostgres);
    CRS_ASSIGN_OR_RETURN(Rows r, c.Query(page.sql, Params(page.args)));
    for (int i = 0; i < r.size(); ++i) {
      if (static_cast<int>(result->matches.size()) == q.count) {
        result->next_after_rid = result->matches.back().rid;
        break;
      }
      if (!q.sort.empty()) {
        // This row's keys: if a next row exists, they are the cursor.
        result->next_after_sort.clear();
        for (size_t k = 0; k < q.sort.size(); ++k) {
          result->next_after_sort.push_back(
              SortValueAt(r, i, sql::kSortKeyColumn + static_cast<int>(k)));
        }
      }
      CRS_ASSIGN_OR_RETURN(SearchMatch m, MatchFromRow(r, i, sql::kMatchTypeColumn));
      result->matches.push_back(std::move(m));
    }
    return sql::LoadIncludes(
        q, sql::kPostgres, [&c](const CompiledSql& inc) { return RunMatches(c, inc); },
        result);
  }

  const StoreOptions options_;
  Pool pool_;
  ReplicaSet replicas_;
  // The writer's connection and statements, used only by writer_'s thread
  // once Init() returns; declared first so that they outlive writer_.
  WriterConn writer_conn_;
  std::unique_ptr<PgWriteOps> write_ops_;
  std::unique_ptr<PgAuditOps> audit_ops_;
  std::unique_ptr<sql::GroupWriter> writer_;
  std::atomic<bool> trace_keys_{false};  // schema_meta 'trace_keys'

  std::thread analyzer_;  // AnalyzeLoop
  // Lock order: analyze_mu_ is a leaf.
  std::mutex analyze_mu_;
  std::condition_variable analyze_cv_;
  bool closing_ = false;  // GUARDED_BY(analyze_mu_)
};

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgresStore(const StoreOptions& options) {
  auto store = std::make_unique<PostgresStore>(options);
  CRS_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

Status MigratePostgres(const std::string& url, int* from, int* to) {
  CRS_ASSIGN_OR_RETURN(auto conn, Conn::Open(url));
  return Migrate(*conn, from, to);
}

}  // namespace crs::store::postgres
