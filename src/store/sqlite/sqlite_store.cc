#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <thread>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <unistd.h>

#include "core/thread_name.h"
#include "store/body_codec.h"
#include "store/relationship_cache.h"
#include "store/sqlite/audit_sql.h"
#include "store/sqlite/db.h"
#include "store/sqlite/index_runs.h"
#include "store/sqlite/index_writer.h"
#include "store/sqlite/write_ops.h"
#include "store/sql/group_writer.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/search_sql.h"
#include "store/sql/includes.h"
#include "store/sql/search_sql.h"

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

// Reads up to `max` rows of the history columns (those of FillVersion, then
// type and id) into `out`.
Status ReadVersions(Stmt* s, int max, std::vector<ResourceVersion>* out) {
  while (static_cast<int>(out->size()) < max) {
    CRS_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    ResourceVersion v;
    CRS_RETURN_IF_ERROR(FillVersion(*s, &v));
    v.type = s->Text(9);
    v.id = s->Text(10);
    out->push_back(std::move(v));
  }
  return Status::Ok();
}

}  // namespace

std::string AuditPathFor(const std::string& path) {
  std::filesystem::path p(path);
  return (p.parent_path() / (p.stem().string() + "-audit.db")).string();
}

namespace {

// The audit log's page size, for a new file. When every audited request
// inserted one patient-index row at a random place (its patient), 1 KB pages
// wrote less per read than 4 KB (~4.3 KB against ~11) and were the default.
// The index is now appended in sorted runs (audit_sql.h) and groups of ~30
// records commit together, so 4 KB pages take fewer WAL frames per record:
// 3-7% more audited reads (bench/RESULTS.md, issue 5, session 14). A file
// keeps the page size it was created with.
constexpr int kAuditPageSize = 4096;

// WAL pages between checkpoints: the audit log's and the resource file's.
// Once past the mark every commit asks for a checkpoint until one restarts
// the WAL: at 300 a checkpoint (two fsyncs) came every few groups. 4,096
// (16 MB with the 4 KB pages of new audit files, 4 MB with 1 KB pages)
// against 1,024: 3-5% more audited reads at 64 connections once groups
// stopped gathering every client, the checkpointer's CPU per read 1.1 us
// against 2.0, p99 ~5 ms against ~3.7 (docs/storage.md; bench/RESULTS.md,
// issue 5, session 14).
constexpr int kAuditCheckpointPages = 4096;
constexpr int kDataCheckpointPages = 10000;
// A bulk writer's (StoreOptions::bulk_load): ~1 GB. Its transactions touch
// index pages all over the file; a longer WAL lets a checkpoint copy each
// page once for many of them. With the larger cache below, `crs import` of
// 1,000,000 patients ran at 9,179 patients/s against 6,738 (bench/RESULTS.md).
constexpr int kBulkDataCheckpointPages = 262144;

// The writer's page cache for the resource file, in KiB: 512 MB, or for a
// bulk writer a quarter of the machine's memory, at most 4 GB.
int64_t WriterCacheKib(bool bulk) {
  constexpr int64_t kNormal = 512 * 1024, kBulkMax = 4 * 1024 * 1024;
  if (!bulk) return kNormal;
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return kNormal;
  int64_t quarter = static_cast<int64_t>(pages) * page / 4 / 1024;
  return std::clamp(quarter, kNormal, kBulkMax);
}

// Run after each commit on the writer connection, with the pages now in the
// WAL of the database `name`. The resource file ("data") lets its WAL grow
// to ~40 MB between checkpoints, taken right there, so that checkpoints
// (which fsync the file) stay rare under writes. The audit log ("main")
// grows by every request of an audited read workload; a checkpoint on the
// writer holds every response waiting for its audit record for the time of
// its fsync (~25 ms at 40 MB: that was the audited read's p99), so past
// 4,096 pages (16 MB; 4 MB in a file with 1 KB pages) the audit checkpoint
// is handed to a thread of its own
// with its own connection (AuditCheckpointer below); bench/RESULTS.md,
// "Summary Care Record", has the measurements.
int CheckpointHook(void* store, sqlite3* db, const char* name, int pages);

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, const StoreOptions& options)
      : path_(std::move(path)), audit_path_(AuditPathFor(path_)), options_(options) {}

  ~SqliteStore() override {
    writer_.reset();  // drains the queue and checkpoints the audit tail
    StopCheckpointer();
    // Fold the WAL into the main file so the data dir is tidy after a clean stop.
    if (write_db_) {
      (void)write_db_->Exec(
          "PRAGMA data.wal_checkpoint(TRUNCATE); PRAGMA main.wal_checkpoint(TRUNCATE);");
    }
  }

  Status Init() {
    {
      // Migrations run on the resource file alone.
      CRS_ASSIGN_OR_RETURN(auto db, Db::Open(path_, /*create=*/true));
      CRS_RETURN_IF_ERROR(Migrate(*db));
      CRS_RETURN_IF_ERROR(CheckFullText(*db));
      CRS_RETURN_IF_ERROR(CheckTraceKeys(*db));
    }
    CRS_ASSIGN_OR_RETURN(write_db_, Connect(/*create=*/true));
    // The writer touches index B-trees all over the file: give it a large
    // page cache, and let the WAL grow to ~40 MB between checkpoints so
    // checkpoints (which fsync the file) stay rare.
    CRS_RETURN_IF_ERROR(write_db_->Exec("PRAGMA data.cache_size=-" +
                                        std::to_string(WriterCacheKib(options_.bulk_load)) + ";"));
    data_checkpoint_pages_ = options_.bulk_load ? kBulkDataCheckpointPages : kDataCheckpointPages;
    // The audit log's cache on the writer stays small (2 MB): the writer
    // only appends to it (records, and patient-index runs). It was made
    // small because SQLite walked the whole page cache of this file at the
    // end of every commit (half of the writer's CPU under audited reads with
    // the 32 MB default; bench/RESULTS.md, issue 5); page_cache.h now skips
    // that walk for every file.
    CRS_RETURN_IF_ERROR(write_db_->Exec("PRAGMA main.cache_size=-2000;"));
    // Checkpoints per file (this replaces SQLite's automatic checkpoint,
    // which counts the same for every file of the connection).
    CRS_RETURN_IF_ERROR(StartCheckpointer());
    sqlite3_wal_hook(write_db_->raw(), &CheckpointHook, this);
    write_ops_ = std::make_unique<SqliteWriteOps>(*write_db_);
    defer_index_ = options_.bulk_load && options_.defer_index;
    write_ops_->set_defer_index(defer_index_);
    // Runs an interrupted bulk import left: merged before anyone searches
    // (a bulk importer goes on adding to them; a tool that may open a live
    // node's store without its lock writes nothing).
    if (!defer_index_ && options_.audit_index_owner) {
      CRS_ASSIGN_OR_RETURN(bool runs, HasRuns(*write_db_));
      if (runs) {
        std::fprintf(stderr,
                     "crs: completing the search index that an interrupted import left\n");
        CRS_RETURN_IF_ERROR(MergeOutsideWal(nullptr));
      }
    }
    audit_ops_ = std::make_unique<SqliteAuditOps>(*write_db_, options_.audit_index_owner);
    writer_ = std::make_unique<sql::GroupWriter>(*write_ops_, *audit_ops_, options_);
    return writer_->Start();
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
      CompiledSql history = sql::CompileHistory(q, sql::kSqlite);
      CRS_ASSIGN_OR_RETURN(Stmt * s, conn->PrepareDynamic(history.sql));
      BindArgs(s, history.args);
      // One row beyond the page tells whether another page follows.
      Status read = ReadVersions(s, q.count + 1, &page.versions);
      s->Reset();
      CRS_RETURN_IF_ERROR(read);
      if (static_cast<int>(page.versions.size()) > q.count) {
        page.versions.pop_back();
        page.next_before_seq = page.versions.empty() ? 0 : page.versions.back().seq;
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return page;
  }

  Result<std::vector<ResourceVersion>> Changes(int64_t after_seq, int limit) override {
    std::vector<ResourceVersion> out;
    Status st = WithReader([&](Db* conn) -> Status {
      CompiledSql changes = sql::CompileChanges(after_seq, limit, sql::kSqlite);
      CRS_ASSIGN_OR_RETURN(Stmt * s, conn->PrepareDynamic(changes.sql));
      BindArgs(s, changes.args);
      Status read = ReadVersions(s, limit, &out);
      s->Reset();
      return read;
    });
    if (!st.ok()) return st;
    return out;
  }

  Result<CommitResult> Commit(const WriteBatch& batch) override { return writer_->Commit(batch); }
  void CommitAsync(WriteBatch batch, std::function<void(Result<CommitResult>)> done) override {
    writer_->CommitAsync(std::move(batch), std::move(done));
  }

  Result<int64_t> ReserveSequence(std::string_view name, int64_t count) override {
    return writer_->ReserveSequence(name, count);
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
        CompiledSql page = sql::CompilePage(q, sql::kSqlite);
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
        CompiledSql count = sql::CompileCount(q, sql::kSqlite);
        CRS_ASSIGN_OR_RETURN(Stmt * s, conn->PrepareDynamic(count.sql));
        BindArgs(s, count.args);
        CRS_ASSIGN_OR_RETURN(bool row, s->Step());
        result.total = row ? s->Int(0) : 0;
        s->Reset();
      }
      if (q.count <= 0) return Status::Ok();
      CompiledSql page = sql::CompilePage(q, sql::kSqlite);
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
            int col = sql::kSortKeyColumn + static_cast<int>(k);
            if (s->IsNull(col)) {
              result.next_after_sort.emplace_back(std::monostate());
            } else if (s->IsInt(col)) {
              result.next_after_sort.emplace_back(s->Int(col));
            } else if (s->IsReal(col)) {
              result.next_after_sort.emplace_back(s->Double(col));
            } else if (s->Text(col) == sql::kNoSortValue) {
              result.next_after_sort.emplace_back(std::monostate());
            } else {
              result.next_after_sort.emplace_back(std::string(s->Text(col)));
            }
          }
        }
        auto m = MatchFromRow(*s, sql::kMatchTypeColumn);
        if (!m.ok()) {
          inner = m.status();
          break;
        }
        result.matches.push_back(std::move(*m));
      }
      s->Reset();
      CRS_RETURN_IF_ERROR(inner);
      return sql::LoadIncludes(
          q, sql::kSqlite, [conn](const CompiledSql& c) { return RunMatches(*conn, c); }, &result);
    }
  }

  Result<SearchResult> Compartment(const CompartmentQuery& q) override {
    SearchResult result;
    Status st = WithReader([&](Db* conn) -> Status {
      CompiledSql members = sql::CompileCompartment(q, sql::kSqlite);
      CRS_ASSIGN_OR_RETURN(result.matches, RunMatches(*conn, members));
      result.next_after_rid = sql::TrimPage(&result.matches, q.count);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return result;
  }

  Result<std::vector<std::string>> IdsBetween(std::string_view type, std::string_view lo,
                                              std::string_view hi, int limit) override {
    std::vector<std::string> ids;
    Status st = WithReader([&](Db* conn) -> Status {
      CRS_ASSIGN_OR_RETURN(Stmt * s, conn->Prepare(
          "SELECT id FROM resources WHERE type = ?1 AND id >= ?2 AND id <= ?3 "
          "ORDER BY id LIMIT ?4"));
      s->Bind(1, type);
      s->Bind(2, lo);
      s->Bind(3, hi);
      s->Bind(4, static_cast<int64_t>(limit));
      return EachRow(s, [&](const Stmt& row) { ids.emplace_back(row.Text(0)); });
    });
    if (!st.ok()) return st;
    return ids;
  }

  // Answers are cached (one query per clinical read otherwise), each tagged
  // with the writer's relationship generation read before its query: a
  // transaction that changes `rel` bumps the generation once it has ended,
  // before its writes are acknowledged, so a tagged answer is current while
  // the generation is unchanged (store/relationship_cache.h).
  Result<bool> HasRelationship(std::string_view org, std::string_view patient) override {
    const uint64_t generation = write_ops_->rel_generation().load(std::memory_order_acquire);
    if (std::optional<bool> known = rel_cache_.Find(generation, org, patient)) return *known;
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
    rel_cache_.Put(generation, org, patient, found);
    return found;
  }

  void AppendAudit(std::vector<AuditInput> records, std::function<void(Status)> done) override {
    writer_->AppendAudit(std::move(records), std::move(done));
  }

  Result<AuditPage> QueryAudit(const AuditQuery& q) override {
    // The newest records' patient entries may still be in the writer's
    // memory (docs/audit.md, "The patient index").
    if (!q.patient.empty()) CRS_RETURN_IF_ERROR(writer_->SyncAuditIndex());
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

  // schema_meta 'fulltext' is 1 while every current resource has its
  // full-text rows (docs/storage.md, "Full-text index").
  Status CheckFullText(Db& db) {
    CRS_ASSIGN_OR_RETURN(Stmt * get, db.Prepare("SELECT value FROM schema_meta WHERE key = 'fulltext'"));
    CRS_ASSIGN_OR_RETURN(bool row, get->Step());
    bool complete = row && get->Int(0) == 1;
    get->Reset();
    if (options_.fulltext == FullTextMode::kUntouched) return Status::Ok();
    if (options_.fulltext == FullTextMode::kOff) {
      // Writes from now on keep no rows: the index stops being complete.
      return complete ? db.Exec("UPDATE schema_meta SET value = 0 WHERE key = 'fulltext'")
                      : Status::Ok();
    }
    if (complete || options_.fulltext == FullTextMode::kRebuild) return Status::Ok();
    CRS_ASSIGN_OR_RETURN(Stmt * any, db.Prepare("SELECT 1 FROM resources WHERE deleted = 0 LIMIT 1"));
    CRS_ASSIGN_OR_RETURN(bool has, any->Step());
    any->Reset();
    if (has) return Status::Unavailable(std::string(kFullTextIncomplete));
    return db.Exec("INSERT OR REPLACE INTO schema_meta VALUES ('fulltext', 1)");
  }

  bool KeepsFullText() const override {
    return options_.fulltext == FullTextMode::kOn || options_.fulltext == FullTextMode::kRebuild;
  }

  Status FinishBulkLoad(const std::function<void(std::string_view, int64_t, int64_t)>& progress)
      override {
    if (!defer_index_) return Status::Ok();
    return writer_->RunExclusive([&] {
      return MergeOutsideWal([&](const MergeProgress& p) {
        if (progress) progress(p.table, p.done, p.total);
      });
    });
  }

  // MergeRuns with the resource file out of WAL mode (docs/storage.md
  // "Index runs"): a table built in one transaction went through the WAL
  // and was copied again by the checkpoint, and the WAL grew as large as
  // the table. With a rollback journal, pages appended past the file's old
  // end are written once and need no journal; a crash leaves a hot journal
  // that the next open rolls back, and the runs are merged again. Leaving
  // WAL needs the store's other connections to the file closed: the idle
  // readers and the audit checkpointer's (an import has no other users, and
  // at open there are none yet). On the writer's thread, or before it starts.
  Status MergeOutsideWal(const std::function<void(const MergeProgress&)>& progress) {
    StopCheckpointer();
    checkpoint_db_.reset();
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      pool_.clear();
    }
    // Another process reading the file (say `crs audit verify`, which
    // takes no lock) makes the switch fail: then, after a second, the merge
    // goes through the WAL as it used to.
    write_db_->SetBusyTimeout(1000);
    auto mode = SetDataJournalMode("DELETE");
    write_db_->SetBusyTimeout(Db::kBusyTimeoutMs);
    if (!mode.ok() || *mode != "delete") {
      std::fprintf(stderr,
                   "crs: another connection has the store open; building the search index "
                   "through the WAL (slower)\n");
    }
    Status merged = MergeRuns(*write_db_, "data", progress);
    auto back = SetDataJournalMode("WAL");
    Status restarted = StartCheckpointer();
    if (!merged.ok()) return merged;
    if (!back.ok()) return back.status();
    if (*back != "wal") return Status::Internal("the resource file did not return to WAL mode");
    return restarted;
  }

  // PRAGMA data.journal_mode on the writer; the mode in force after it.
  Result<std::string> SetDataJournalMode(std::string_view mode) {
    CRS_ASSIGN_OR_RETURN(Stmt * s,
                         write_db_->PrepareDynamic("PRAGMA data.journal_mode = " + std::string(mode)));
    auto row = s->Step();
    std::string now = row.ok() && *row ? std::string(s->Text(0)) : "";
    s->Reset();
    if (!row.ok()) return row.status();
    return now;
  }

  Status MarkFullTextComplete() override {
    if (!KeepsFullText()) return Status::Invalid("this store does not keep a full-text index");
    CRS_ASSIGN_OR_RETURN(auto db, Db::Open(path_, /*create=*/false));
    return db->Exec("INSERT OR REPLACE INTO schema_meta VALUES ('fulltext', 1)");
  }

  // schema_meta 'trace_keys' is 1 while every Patient has its trace keys
  // (docs/storage.md, "Trace keys").
  Status CheckTraceKeys(Db& db) {
    CRS_ASSIGN_OR_RETURN(Stmt * get,
                         db.Prepare("SELECT value FROM schema_meta WHERE key = 'trace_keys'"));
    CRS_ASSIGN_OR_RETURN(bool row, get->Step());
    bool complete = row && get->Int(0) == 1;
    get->Reset();
    trace_keys_ = complete;
    if (options_.trace_keys == TraceKeysMode::kOff && complete) {
      // Patients written from now on have none.
      trace_keys_ = false;
      return db.Exec("UPDATE schema_meta SET value = 0 WHERE key = 'trace_keys'");
    }
    if (options_.trace_keys != TraceKeysMode::kOn || complete) return Status::Ok();
    CRS_ASSIGN_OR_RETURN(Stmt * any,
                         db.Prepare("SELECT 1 FROM resources WHERE type = 'Patient' LIMIT 1"));
    CRS_ASSIGN_OR_RETURN(bool has, any->Step());
    any->Reset();
    if (has) return Status::Ok();  // until crs reindex --trace-keys
    trace_keys_ = true;
    return db.Exec("INSERT OR REPLACE INTO schema_meta VALUES ('trace_keys', 1)");
  }

  bool KeepsTraceKeys() const override { return options_.trace_keys == TraceKeysMode::kOn; }
  // Only this process writes the file (crs.lock): the value read at open.
  bool TraceKeysComplete() override { return KeepsTraceKeys() && trace_keys_; }

  Status MarkTraceKeysComplete() override {
    if (!KeepsTraceKeys()) return Status::Invalid("this store does not keep trace keys");
    CRS_ASSIGN_OR_RETURN(auto db, Db::Open(path_, /*create=*/false));
    CRS_RETURN_IF_ERROR(db->Exec("INSERT OR REPLACE INTO schema_meta VALUES ('trace_keys', 1)"));
    trace_keys_ = true;
    return Status::Ok();
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
    if (current > 0 && current < kSchemaVersion) {
      // A migration may build an index over a large table (version 13):
      // SQLite sorts in pieces the size of the main cache, on files rather
      // than in memory, with helper threads. The connection is the
      // migration's own (Init closes it after), so nothing is restored.
      CRS_RETURN_IF_ERROR(db.Exec("PRAGMA temp_store = FILE; PRAGMA cache_size = -524288; "
                                  "PRAGMA threads = 2"));
    }
    for (int64_t v = current + 1; v <= kSchemaVersion; ++v) {
      CRS_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
      Status st = db.Exec(kMigrations[v - 1]);
      if (st.ok() && v == 13) st = TraceKeysVersion2(db);
      if (st.ok() && v == 14) st = OwnRowsVersion(db);
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

  // Schema version 13 (schema.h): version 1's trace keys `_trace-sound`
  // ("1980-03-07 s530") become `_trace-phonetic` ("s530 1980-03-07"), in
  // key order, with `ix_string_by_rid` dropped and built again around it
  // (inserted row by row at random places it made a 10,000,000-patient
  // store's upgrade take hours; `crs reindex` of its Patients too). A
  // complete flag stays up unless a Patient has a partial birth date: those
  // had no version 1 keys and need a reindex for their phonetic ones.
  static Status TraceKeysVersion2(Db& db) {
    CRS_ASSIGN_OR_RETURN(Stmt * any,
                         db.PrepareDynamic("SELECT 1 FROM ix_string WHERE pid = (SELECT pid FROM sp "
                                           "WHERE type = 'Patient' AND code = '_trace-sound') "
                                           "LIMIT 1"));
    auto old_rows = any->Step();
    any->Reset();
    if (!old_rows.ok()) return old_rows.status();
    if (*old_rows) {
      CRS_ASSIGN_OR_RETURN(Stmt * q, db.PrepareDynamic("SELECT sql FROM sqlite_schema WHERE "
                                                       "type = 'index' AND name = "
                                                       "'ix_string_by_rid'"));
      auto row = q->Step();
      std::string index = row.ok() && *row ? std::string(q->Text(0)) : "";
      q->Reset();
      if (!row.ok()) return row.status();
      if (!index.empty()) CRS_RETURN_IF_ERROR(db.Exec("DROP INDEX ix_string_by_rid"));
      CRS_RETURN_IF_ERROR(db.Exec(
          "INSERT OR IGNORE INTO sp (type, code) VALUES ('Patient', '_trace-phonetic');"
          "INSERT OR IGNORE INTO ix_string (pid, norm, exact, rid) "
          "  SELECT (SELECT pid FROM sp WHERE type = 'Patient' AND code = '_trace-phonetic'), "
          "         substr(norm, 12) || ' ' || substr(norm, 1, 10), '', rid "
          "  FROM ix_string WHERE pid = (SELECT pid FROM sp WHERE type = 'Patient' "
          "                              AND code = '_trace-sound') "
          "  ORDER BY 2, 4;"
          "DELETE FROM ix_string WHERE pid = (SELECT pid FROM sp WHERE type = 'Patient' "
          "                                   AND code = '_trace-sound');"));
      if (!index.empty()) CRS_RETURN_IF_ERROR(db.Exec(index));
    }
    return db.Exec(
        "UPDATE schema_meta SET value = 0 WHERE key = 'trace_keys' AND value = 1 AND EXISTS "
        "(SELECT 1 FROM ix_date WHERE pid = (SELECT pid FROM sp WHERE type = 'Patient' "
        "AND code = 'birthdate') AND hi - lo > 86400000)");
  }

  // Schema version 14 (schema.h): the blobs from the value tables' rows,
  // read in rid order through the (rid, pid) indexes that then go.
  static Status OwnRowsVersion(Db& db) {
    CRS_RETURN_IF_ERROR(BuildOwnRows(db));
    return db.Exec(
        "DROP INDEX IF EXISTS ix_string_by_rid; DROP INDEX IF EXISTS ix_token_by_rid;"
        "DROP INDEX IF EXISTS ix_date_by_rid; DROP INDEX IF EXISTS ix_number_by_rid;"
        "DROP INDEX IF EXISTS ix_quantity_by_rid; DROP INDEX IF EXISTS ix_ref_by_rid;"
        "DROP INDEX IF EXISTS ix_uri_by_rid; DROP INDEX IF EXISTS ix_geo_by_rid;");
  }

  // The audit file's own versions (schema.h kAuditMigrations), in one
  // transaction that reads the version too, so a second process opening the
  // file meanwhile finds the work done. Version 1's schema is applied only
  // at version 0 (a new file): its `audit_patient` table would hide the
  // virtual table of that name from version 4 on.
  static Status MigrateAudit(Db& db) {
    CRS_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    Status st = [&]() -> Status {
      CRS_ASSIGN_OR_RETURN(Stmt * get, db.Prepare("PRAGMA main.user_version"));
      CRS_ASSIGN_OR_RETURN(bool row, get->Step());
      int64_t version = row ? get->Int(0) : 0;
      get->Reset();
      // Version 0: new, or from before versioning (its tables completed).
      if (version == 0) CRS_RETURN_IF_ERROR(db.Exec(kAuditSchema));
      int64_t current = std::max<int64_t>(version, 1);
      if (current > kAuditSchemaVersion) {
        return Status::Unavailable("audit log schema version " + std::to_string(current) +
                                   " is newer than this binary supports (" +
                                   std::to_string(kAuditSchemaVersion) + ")");
      }
      for (int64_t v = current + 1; v <= kAuditSchemaVersion; ++v) {
        CRS_RETURN_IF_ERROR(db.Exec(kAuditMigrations[v - 2]));
        // user_version lives in the file's header, written by this transaction.
        CRS_RETURN_IF_ERROR(db.Exec("PRAGMA main.user_version = " + std::to_string(v)));
      }
      return Status::Ok();
    }();
    if (!st.ok()) {
      (void)db.Exec("ROLLBACK");
      return st;
    }
    return db.Exec("COMMIT");
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
    CRS_ASSIGN_OR_RETURN(auto db, Db::Open(audit_path_, create, create ? kAuditPageSize : 0));
    if (create) CRS_RETURN_IF_ERROR(MigrateAudit(*db));
    CRS_RETURN_IF_ERROR(db->Attach(path_, "data"));
    return db;
  }

  void Release(std::unique_ptr<Db> db) {
    std::lock_guard<std::mutex> lock(pool_mu_);
    pool_.push_back(std::move(db));
  }

  // AuditCheckpointer: PASSIVE checkpoints of the audit log on their own
  // connection, so the writer never waits for their fsync.
  void RequestAuditCheckpoint() {
    {
      std::lock_guard<std::mutex> lock(checkpoint_mu_);
      checkpoint_wanted_ = true;
    }
    checkpoint_cv_.notify_one();
  }

  void CheckpointLoop() {
    std::unique_lock<std::mutex> lock(checkpoint_mu_);
    while (true) {
      checkpoint_cv_.wait(lock, [this] { return checkpoint_wanted_ || checkpoint_stop_; });
      if (checkpoint_stop_) return;
      checkpoint_wanted_ = false;
      lock.unlock();
      sqlite3_wal_checkpoint_v2(checkpoint_db_->raw(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr);
      lock.lock();
    }
  }

  Status StartCheckpointer() {
    CRS_ASSIGN_OR_RETURN(checkpoint_db_, Connect(/*create=*/false));
    {
      std::lock_guard<std::mutex> lock(checkpoint_mu_);
      checkpoint_stop_ = false;
    }
    checkpointer_ = std::thread([this] {
      SetThreadName("crs-checkpoint");
      CheckpointLoop();
    });
    return Status::Ok();
  }

  void StopCheckpointer() {
    {
      std::lock_guard<std::mutex> lock(checkpoint_mu_);
      checkpoint_stop_ = true;
    }
    checkpoint_cv_.notify_one();
    if (checkpointer_.joinable()) checkpointer_.join();
  }

  friend int CheckpointHook(void* store, sqlite3* db, const char* name, int pages);
  int data_checkpoint_pages_ = kDataCheckpointPages;  // set in Init, read by the writer's hook

  const std::string path_;
  const std::string audit_path_;  // the audit log's file (the connections' main database)
  const StoreOptions options_;
  // The writer connection and its statements, used only by writer_'s thread
  // once Init() returns; declared first so that they outlive writer_.
  std::unique_ptr<Db> write_db_;
  std::unique_ptr<SqliteWriteOps> write_ops_;
  bool defer_index_ = false;  // StoreOptions::defer_index, with bulk_load
  std::atomic<bool> trace_keys_{false};  // schema_meta 'trace_keys'
  std::unique_ptr<SqliteAuditOps> audit_ops_;
  std::unique_ptr<sql::GroupWriter> writer_;
  std::unique_ptr<Db> checkpoint_db_;  // used by checkpointer_ only
  std::thread checkpointer_;
  // Lock order: checkpoint_mu_ is a leaf.
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;  // GUARDED_BY(checkpoint_mu_)
  bool checkpoint_stop_ = false;    // GUARDED_BY(checkpoint_mu_)

  RelationshipCache rel_cache_;  // HasRelationship's answers (see there)

  // Lock order: pool_mu_ is a leaf.
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Db>> pool_;  // GUARDED_BY(pool_mu_)
};

int CheckpointHook(void* store, sqlite3* db, const char* name, int pages) {
  if (std::strcmp(name, "main") == 0) {
    if (pages >= kAuditCheckpointPages) static_cast<SqliteStore*>(store)->RequestAuditCheckpoint();
  } else if (pages >= static_cast<SqliteStore*>(store)->data_checkpoint_pages_) {
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }
  return SQLITE_OK;
}

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
