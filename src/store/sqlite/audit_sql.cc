#include "store/sqlite/audit_sql.h"

#include <algorithm>
#include <functional>
#include <optional>

#include "store/audit_chain.h"
#include "store/sql/audit_query.h"
#include "store/sqlite/db.h"
#include "store/sqlite/search_sql.h"

namespace crs::store::sqlite {
namespace {

constexpr const char* kHead = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1";
constexpr const char* kLastCheckpoint =
    "SELECT seq FROM audit_checkpoint ORDER BY seq DESC LIMIT 1";
constexpr const char* kInsert = "INSERT INTO audit (seq, time, record, hash) VALUES (?1, ?2, ?3, ?4)";
// The patient index's runs (SqliteAuditOps).
constexpr const char* kNextRun = "SELECT coalesce(max(run), 0) + 1 FROM audit_run";
constexpr const char* kInsertRun =
    "INSERT INTO audit_run (run, level, state, first_seq, last_seq) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char* kSetCovered =
    "INSERT OR REPLACE INTO audit_meta (key, value) VALUES ('pidx_covered', ?1)";
constexpr const char* kCovered = "SELECT value FROM audit_meta WHERE key = 'pidx_covered'";
constexpr const char* kRecoverPatients =
    "SELECT a.seq, p.value FROM audit a, json_each(CASE WHEN json_valid(CAST(a.record AS TEXT)) "
    "THEN CAST(a.record AS TEXT) ELSE '{}' END, '$.patients') p "
    "WHERE a.seq > ?1 AND p.type = 'text' ORDER BY a.seq";
constexpr const char* kLastSeq = "SELECT coalesce(max(seq), 0) FROM audit";
constexpr const char* kBuildingRun =
    "SELECT run FROM audit_run WHERE state = 0 ORDER BY run LIMIT 1";
constexpr const char* kFullLevel =
    "SELECT level FROM audit_run WHERE state = 1 AND merged_into = 0 AND level < ?1 "
    "GROUP BY level HAVING count(*) >= ?2 ORDER BY level LIMIT 1";
constexpr const char* kMergeSources =
    "SELECT run, first_seq, last_seq FROM audit_run WHERE state = 1 AND merged_into = 0 "
    "AND level = ?1 ORDER BY run LIMIT ?2";
constexpr const char* kMarkSource = "UPDATE audit_run SET merged_into = ?1 WHERE run = ?2";
constexpr const char* kSourcesOf =
    "SELECT run FROM audit_run WHERE merged_into = ?1 AND state = 1 ORDER BY run";
constexpr const char* kLastRowOf =
    "SELECT last_patient, last_seq FROM audit_pblk WHERE run = ?1 "
    "ORDER BY last_patient DESC, last_seq DESC LIMIT 1";
// The blocks of a run that hold entries after (?2, ?3), at most ?4.
constexpr const char* kRunBlocksAfter =
    "SELECT entries FROM audit_pblk WHERE run = ?1 AND (last_patient, last_seq) > (?2, ?3) "
    "ORDER BY last_patient, last_seq LIMIT ?4";
constexpr const char* kInsertBlock =
    "INSERT INTO audit_pblk (run, last_patient, last_seq, n, entries) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char* kFinishMerge =
    "UPDATE audit_run SET state = CASE WHEN run = ?1 THEN 1 ELSE 2 END "
    "WHERE run = ?1 OR merged_into = ?1";
constexpr const char* kDeadRun = "SELECT run FROM audit_run WHERE state = 2 ORDER BY run LIMIT 1";
constexpr const char* kBlockAtOffset =
    "SELECT last_patient, last_seq FROM audit_pblk WHERE run = ?1 "
    "ORDER BY last_patient, last_seq LIMIT 1 OFFSET ?2";
constexpr const char* kDeleteBlocksBefore =
    "DELETE FROM audit_pblk WHERE run = ?1 AND (last_patient, last_seq) < (?2, ?3)";
constexpr const char* kDeleteRunBlocks = "DELETE FROM audit_pblk WHERE run = ?1";
constexpr const char* kDeleteRun = "DELETE FROM audit_run WHERE run = ?1";
constexpr const char* kInsertAlert =
    "INSERT INTO audit_alert (seq, org, codes, user_id, user_name) VALUES (?1, ?2, ?3, ?4, ?5)";
// The first review wins; a second review is still in the chain.
constexpr const char* kReview =
    "UPDATE audit_alert SET reviewed_by = ?1 WHERE seq = ?2 AND reviewed_by = 0";
constexpr const char* kInsertCheckpoint =
    "INSERT OR IGNORE INTO audit_checkpoint (seq, time, head, key_id, signature) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";

constexpr const char* kReadOne =
    "SELECT a.seq, a.time, a.record, a.hash, al.org, al.reviewed_by "
    "FROM audit a LEFT JOIN audit_alert al ON al.seq = a.seq WHERE a.seq = ?1";
// No alert join: the scan feeds verification at millions of rows per second.
constexpr const char* kScan =
    "SELECT seq, time, record, hash FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2";
// The streaming scan: no LIMIT, the caller stops by returning false.
constexpr const char* kScanRows =
    "SELECT seq, time, record, hash FROM audit WHERE seq > ?1 ORDER BY seq";
constexpr const char* kScanCheckpoints =
    "SELECT seq, time, head, key_id, signature FROM audit_checkpoint "
    "WHERE seq > ?1 ORDER BY seq LIMIT ?2";

// Runs a prepared statement that returns no rows.
Status Done(Stmt* s) {
  auto r = s->Step();
  s->Reset();
  return r.ok() ? Status::Ok() : r.status();
}

// The first column of the first row of `s` (nullopt: no row), then resets it.
Result<std::optional<int64_t>> FirstInt(Stmt* s) {
  std::optional<int64_t> value;
  auto row = s->Step();
  if (row.ok() && *row) value = s->Int(0);
  s->Reset();
  if (!row.ok()) return row.status();
  return value;
}

StoredAudit FromRow(const Stmt& s, bool with_alert) {
  StoredAudit a;
  a.seq = s.Int(0);
  a.time_ms = s.Int(1);
  a.record = std::string(s.Blob(2));
  a.hash = std::string(s.Blob(3));
  if (with_alert && !s.IsNull(4)) {
    a.alert_org = std::string(s.Text(4));
    a.reviewed_by = s.Int(5);
  }
  return a;
}

}  // namespace

Status SqliteAuditOps::Head(int64_t* seq, std::string* hash) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(kHead));
  CRS_ASSIGN_OR_RETURN(bool row, s->Step());
  *seq = row ? s->Int(0) : 0;
  *hash = row ? std::string(s->Blob(1)) : std::string();
  s->Reset();
  return Status::Ok();
}

Result<int64_t> SqliteAuditOps::LastCheckpointSeq() {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(kLastCheckpoint));
  CRS_ASSIGN_OR_RETURN(bool row, s->Step());
  int64_t seq = row ? s->Int(0) : 0;
  s->Reset();
  return seq;
}

Status SqliteAuditOps::Insert(int64_t seq, const AuditInput& in, std::string_view hash) {
  CRS_ASSIGN_OR_RETURN(Stmt * ins, db_.Prepare(kInsert));
  ins->Bind(1, seq);
  ins->Bind(2, in.time_ms);
  ins->BindBlob(3, in.record);
  ins->BindBlob(4, hash);
  CRS_RETURN_IF_ERROR(Done(ins));
  // The patient index rows wait in memory for the run (BeforeCommit).
  for (const std::string& patient : in.patients) kept_.push_back({patient, seq});
  merge_debt_ += static_cast<int64_t>(in.patients.size()) * kMergeRowsPerEntry;
  last_seq_ = seq;
  if (!in.alert_org.empty()) {
    CRS_ASSIGN_OR_RETURN(Stmt * a, db_.Prepare(kInsertAlert));
    a->Bind(1, seq);
    a->Bind(2, in.alert_org);
    a->Bind(3, in.alert_codes);
    a->Bind(4, in.alert_user);
    std::string user_name = sql::FoldUserName(in.alert_user_name);  // bound without a copy
    a->Bind(5, user_name);
    CRS_RETURN_IF_ERROR(Done(a));
  }
  if (in.reviews_alert > 0) {
    CRS_ASSIGN_OR_RETURN(Stmt * r, db_.Prepare(kReview));
    r->Bind(1, seq);
    r->Bind(2, in.reviews_alert);
    CRS_RETURN_IF_ERROR(Done(r));
  }
  return Status::Ok();
}

Status SqliteAuditOps::InsertCheckpoint(const AuditCheckpoint& cp) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(kInsertCheckpoint));
  s->Bind(1, cp.seq);
  s->Bind(2, cp.time_ms);
  s->BindBlob(3, cp.head_hash);
  s->Bind(4, cp.key_id);
  s->BindBlob(5, cp.signature);
  return Done(s);
}

// --- The patient index in runs -------------------------------------------

Status SqliteAuditOps::Recover() {
  CRS_ASSIGN_OR_RETURN(Stmt * covered, db_.Prepare(kCovered));
  CRS_ASSIGN_OR_RETURN(auto covered_seq, FirstInt(covered));
  covered_ = covered_seq.value_or(0);
  if (!owner_) {
    last_seq_ = covered_;
    return Status::Ok();
  }
  CRS_ASSIGN_OR_RETURN(Stmt * last, db_.Prepare(kLastSeq));
  CRS_ASSIGN_OR_RETURN(auto last_seq, FirstInt(last));
  last_seq_ = last_seq.value_or(0);
  // The records a stopped (or killed) process appended after its last run.
  kept_.clear();
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(kRecoverPatients));
  s->Bind(1, covered_);
  CRS_RETURN_IF_ERROR(EachRow(s, [this](const Stmt& row) {
    kept_.push_back({std::string(row.Text(1)), row.Int(0)});
  }));
  merge_work_ = true;
  return Status::Ok();
}

void SqliteAuditOps::Forget(int64_t seq) {
  while (!kept_.empty() && kept_.back().seq > seq) kept_.pop_back();
  last_seq_ = std::min(last_seq_, seq);
}

bool SqliteAuditOps::IdleWork() const {
  return !kept_.empty() || last_seq_ > covered_ || merge_work_;
}

Result<int64_t> SqliteAuditOps::NextRun() {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(kNextRun));
  CRS_ASSIGN_OR_RETURN(auto run, FirstInt(s));
  return run.value_or(1);
}

// The kept entries as a new level-0 run, in key order, and the covered mark.
Status SqliteAuditOps::WriteRun() {
  if (!kept_.empty()) {
    std::vector<const Entry*> sorted;
    sorted.reserve(kept_.size());
    for (const Entry& e : kept_) sorted.push_back(&e);
    std::sort(sorted.begin(), sorted.end(),
              [](const Entry* a, const Entry* b) { return EntryLess(*a, *b); });
    // A record naming a patient twice has one entry.
    sorted.erase(std::unique(sorted.begin(), sorted.end(),
                             [](const Entry* a, const Entry* b) {
                               return a->seq == b->seq && a->patient == b->patient;
                             }),
                 sorted.end());
    CRS_ASSIGN_OR_RETURN(int64_t run, NextRun());
    CRS_RETURN_IF_ERROR(InsertRunRows(run, sorted));
    CRS_ASSIGN_OR_RETURN(Stmt * r, db_.Prepare(kInsertRun));
    r->Bind(1, run);
    r->Bind(2, int64_t{0});
    r->Bind(3, int64_t{1});
    r->Bind(4, kept_.front().seq);
    r->Bind(5, kept_.back().seq);
    CRS_RETURN_IF_ERROR(Done(r));
    merge_work_ = true;
  }
  CRS_ASSIGN_OR_RETURN(Stmt * c, db_.Prepare(kSetCovered));
  // Never backwards (a tool that is not the owner appends after the node).
  writing_covered_ = std::max(covered_, last_seq_);
  c->Bind(1, writing_covered_);
  CRS_RETURN_IF_ERROR(Done(c));
  return Status::Ok();
}

Status SqliteAuditOps::InsertRunRows(int64_t run, const std::vector<const Entry*>& rows) {
  std::string block;
  for (size_t at = 0; at < rows.size(); at += kBlockEntries) {
    size_t n = std::min(kBlockEntries, rows.size() - at);
    block.clear();
    EncodeBlock(rows.data() + at, n, &block);
    const Entry& last = *rows[at + n - 1];
    CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(kInsertBlock));
    s->Bind(1, run);
    s->Bind(2, last.patient);
    s->Bind(3, last.seq);
    s->Bind(4, static_cast<int64_t>(n));
    s->BindBlob(5, block);
    CRS_RETURN_IF_ERROR(Done(s));
  }
  return Status::Ok();
}

Status SqliteAuditOps::BeforeCommit(bool force) {
  writing_covered_ = 0;
  bool write_run = kept_.size() >= kRunEntries || (force && last_seq_ > covered_);
  if (!owner_) merge_work_ = false;  // merging is the node's
  if (!write_run && !merge_work_) return Status::Ok();
  // All or nothing: a failure leaves no half run (the entries stay kept).
  CRS_RETURN_IF_ERROR(db_.Exec("SAVEPOINT audit_index"));
  Status st = write_run ? WriteRun() : Status::Ok();
  bool more = false;
  if (st.ok() && merge_work_) {
    int64_t budget = std::clamp<int64_t>(merge_debt_, force ? kMergeStepForced : kMergeStep,
                                         kMergeStepMax);
    st = MergeStep(static_cast<int>(budget), &more);
    if (st.ok()) merge_debt_ = std::max<int64_t>(0, merge_debt_ - budget);
  }
  if (!st.ok()) {
    (void)db_.Exec("ROLLBACK TO audit_index");
    writing_covered_ = 0;
    pending_target_ = 0;  // the step's copies are undone
    pending_sources_.clear();
    merge_work_ = owner_;
  } else {
    merge_work_ = more && owner_;
  }
  (void)db_.Exec("RELEASE audit_index");
  return st;
}

void SqliteAuditOps::AfterCommit(bool committed) {
  read_target_ = committed ? pending_target_ : 0;
  read_sources_ = committed ? std::move(pending_sources_) : std::vector<Source>();
  pending_target_ = 0;
  pending_sources_.clear();
  if (committed && writing_covered_ > 0) {
    // Everything kept up to the run's last record is in it now.
    int64_t upto = writing_covered_;
    kept_.erase(kept_.begin(),
                std::find_if(kept_.begin(), kept_.end(),
                             [upto](const Entry& e) { return e.seq > upto; }));
    covered_ = std::max(covered_, upto);
  }
  if (!committed && owner_) merge_work_ = true;  // the step's progress was rolled back
  writing_covered_ = 0;
}

Status SqliteAuditOps::MergeStep(int budget, bool* more) {
  *more = false;
  CRS_ASSIGN_OR_RETURN(Stmt * b, db_.Prepare(kBuildingRun));
  CRS_ASSIGN_OR_RETURN(auto building, FirstInt(b));
  if (!building) {
    bool started = false;
    CRS_RETURN_IF_ERROR(StartMerge(&started));
    if (started) {
      *more = true;  // copied from the next step on
      return Status::Ok();
    }
  } else {
    bool done = false;
    CRS_RETURN_IF_ERROR(CopyMerged(*building, budget, &done));
    *more = true;  // done or not: the sources' rows are still to delete
  }
  bool deleting = false;
  CRS_RETURN_IF_ERROR(DeleteMerged(budget, &deleting));
  *more = *more || deleting;
  return Status::Ok();
}

// Picks the oldest kFanIn live runs of the lowest full level and makes
// them the sources of a new run one level up, not yet live.
Status SqliteAuditOps::StartMerge(bool* started) {
  *started = false;
  CRS_ASSIGN_OR_RETURN(Stmt * f, db_.Prepare(kFullLevel));
  f->Bind(1, static_cast<int64_t>(kMaxLevel));
  f->Bind(2, static_cast<int64_t>(kFanIn));
  CRS_ASSIGN_OR_RETURN(auto full, FirstInt(f));
  if (!full) return Status::Ok();
  int64_t level = *full;
  std::vector<int64_t> sources;
  int64_t first = INT64_MAX, last = 0;
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(kMergeSources));
  s->Bind(1, level);
  s->Bind(2, static_cast<int64_t>(kFanIn));
  CRS_RETURN_IF_ERROR(EachRow(s, [&](const Stmt& row) {
    sources.push_back(row.Int(0));
    first = std::min(first, row.Int(1));
    last = std::max(last, row.Int(2));
  }));
  CRS_ASSIGN_OR_RETURN(int64_t target, NextRun());
  CRS_ASSIGN_OR_RETURN(Stmt * r, db_.Prepare(kInsertRun));
  r->Bind(1, target);
  r->Bind(2, level + 1);
  r->Bind(3, int64_t{0});
  r->Bind(4, first);
  r->Bind(5, last);
  CRS_RETURN_IF_ERROR(Done(r));
  for (int64_t run : sources) {
    CRS_ASSIGN_OR_RETURN(Stmt * m, db_.Prepare(kMarkSource));
    m->Bind(1, target);
    m->Bind(2, run);
    CRS_RETURN_IF_ERROR(Done(m));
  }
  *started = true;
  return Status::Ok();
}

// Copies up to `budget` entries (rounded up to whole blocks) of the sources
// of `target` into it, in key order after the last entry it holds (a k-way
// merge, each source read a slice at a time, from where the last committed
// step stopped); when the sources are exhausted the target goes live and the
// sources are marked for deletion in the same transaction.
Status SqliteAuditOps::CopyMerged(int64_t target, int budget, bool* done) {
  // Whole blocks, so the target's blocks are full but for the last.
  budget = static_cast<int>((budget + kBlockEntries - 1) / kBlockEntries * kBlockEntries);
  const int slice_blocks =
      std::clamp(budget / kFanIn + 16, kMergeSlice, 4096) / static_cast<int>(kBlockEntries) + 1;
  std::vector<Source> sources;
  Entry cursor{"", INT64_MIN};
  // Reads the next slice of `src`'s entries after `after`.
  auto refill = [&](Source& src, const Entry& after) -> Status {
    src.rows.clear();
    src.next = 0;
    CRS_ASSIGN_OR_RETURN(Stmt * q, db_.Prepare(kRunBlocksAfter));
    q->Bind(1, src.run);
    q->Bind(2, after.patient);
    q->Bind(3, after.seq);
    q->Bind(4, static_cast<int64_t>(slice_blocks));
    int blocks = 0;
    Status decoded = Status::Ok();
    CRS_RETURN_IF_ERROR(EachRow(q, [&](const Stmt& row) {
      ++blocks;
      if (decoded.ok()) decoded = DecodeBlock(row.Blob(0), &src.rows);
    }));
    CRS_RETURN_IF_ERROR(decoded);
    // The first block may hold entries up to `after`, copied already.
    auto first = std::find_if(src.rows.begin(), src.rows.end(),
                              [&](const Entry& e) { return EntryLess(after, e); });
    src.rows.erase(src.rows.begin(), first);
    src.exhausted = blocks < slice_blocks;
    return Status::Ok();
  };
  if (read_target_ == target) {
    sources = std::move(read_sources_);  // where the last committed step stopped
  } else {
    CRS_ASSIGN_OR_RETURN(Stmt * l, db_.Prepare(kLastRowOf));
    l->Bind(1, target);
    CRS_ASSIGN_OR_RETURN(bool row, l->Step());
    if (row) cursor = {std::string(l->Text(0)), l->Int(1)};
    l->Reset();
    CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(kSourcesOf));
    s->Bind(1, target);
    CRS_RETURN_IF_ERROR(
        EachRow(s, [&](const Stmt& row) { sources.push_back({row.Int(0), {}, 0, false}); }));
    for (Source& src : sources) CRS_RETURN_IF_ERROR(refill(src, cursor));
  }
  read_target_ = 0;
  read_sources_.clear();
  auto less = EntryLess;
  std::vector<Entry> merged;
  merged.reserve(static_cast<size_t>(budget));
  int copied = 0;
  while (copied < budget) {
    Source* best = nullptr;
    for (Source& src : sources) {
      if (src.next < src.rows.size() && (best == nullptr ||
                                          less(src.rows[src.next], best->rows[best->next]))) {
        best = &src;
      }
    }
    if (best == nullptr) break;  // every source is exhausted
    Entry& e = best->rows[best->next++];
    if (merged.empty() || EntryLess(merged.back(), e)) {
      merged.push_back(std::move(e));
      ++copied;
    }
    if (best->next == best->rows.size() && !best->exhausted) {
      CRS_RETURN_IF_ERROR(refill(*best, merged.back()));
    }
  }
  std::vector<const Entry*> rows;
  rows.reserve(merged.size());
  for (const Entry& e : merged) rows.push_back(&e);
  CRS_RETURN_IF_ERROR(InsertRunRows(target, rows));
  *done = std::all_of(sources.begin(), sources.end(), [](const Source& src) {
    return src.exhausted && src.next == src.rows.size();
  });
  if (!*done) {
    pending_target_ = target;  // kept if this transaction commits
    pending_sources_ = std::move(sources);
    return Status::Ok();
  }
  pending_target_ = 0;
  pending_sources_.clear();
  CRS_ASSIGN_OR_RETURN(Stmt * fin, db_.Prepare(kFinishMerge));
  fin->Bind(1, target);
  return Done(fin);
}

// Deletes the blocks of up to about `budget` entries of a merged run; its
// run row goes with its last block.
Status SqliteAuditOps::DeleteMerged(int budget, bool* more) {
  *more = false;
  CRS_ASSIGN_OR_RETURN(Stmt * d, db_.Prepare(kDeadRun));
  CRS_ASSIGN_OR_RETURN(auto dead, FirstInt(d));
  if (!dead) return Status::Ok();
  int64_t run = *dead;
  *more = true;
  CRS_ASSIGN_OR_RETURN(Stmt * at, db_.Prepare(kBlockAtOffset));
  at->Bind(1, run);
  at->Bind(2, std::max<int64_t>(1, budget / static_cast<int64_t>(kBlockEntries)));
  CRS_ASSIGN_OR_RETURN(bool row, at->Step());
  Entry bound = row ? Entry{std::string(at->Text(0)), at->Int(1)} : Entry{};
  at->Reset();
  if (row) {
    CRS_ASSIGN_OR_RETURN(Stmt * del, db_.Prepare(kDeleteBlocksBefore));
    del->Bind(1, run);
    del->Bind(2, bound.patient);
    del->Bind(3, bound.seq);
    return Done(del);
  }
  CRS_ASSIGN_OR_RETURN(Stmt * all, db_.Prepare(kDeleteRunBlocks));
  all->Bind(1, run);
  CRS_RETURN_IF_ERROR(Done(all));
  CRS_ASSIGN_OR_RETURN(Stmt * gone, db_.Prepare(kDeleteRun));
  gone->Bind(1, run);
  return Done(gone);
}

Status SqliteAuditOps::Begin() { return db_.Exec("BEGIN IMMEDIATE"); }
Status SqliteAuditOps::Commit() { return db_.Exec("COMMIT"); }
void SqliteAuditOps::Rollback() { (void)db_.Exec("ROLLBACK"); }

Result<AuditPage> QueryAuditIn(Db& db, const AuditQuery& q) {
  CRS_ASSIGN_OR_RETURN(CompiledSql query, sql::CompileAuditQuery(q, sql::kSqlite));
  CRS_ASSIGN_OR_RETURN(Stmt * s, db.PrepareDynamic(query.sql));
  BindArgs(s, query.args);
  AuditPage page;
  while (true) {
    auto row = s->Step();
    if (!row.ok()) {
      s->Reset();
      return row.status();
    }
    if (!*row) break;
    if (static_cast<int>(page.records.size()) == q.count) {
      page.next_before_seq = page.records.back().seq;
      break;
    }
    page.records.push_back(FromRow(*s, /*with_alert=*/true));
  }
  s->Reset();
  return page;
}

Result<StoredAudit> ReadAuditIn(Db& db, int64_t seq) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kReadOne));
  s->Bind(1, seq);
  auto row = s->Step();
  if (!row.ok() || !*row) {
    s->Reset();
    if (!row.ok()) return row.status();
    return Status::NotFound("no audit record " + std::to_string(seq));
  }
  StoredAudit a = FromRow(*s, /*with_alert=*/true);
  s->Reset();
  return a;
}

Result<std::vector<StoredAudit>> ScanAuditIn(Db& db, int64_t after_seq, int limit) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kScan));
  s->Bind(1, after_seq);
  s->Bind(2, static_cast<int64_t>(std::max(limit, 0)));
  std::vector<StoredAudit> out;
  out.reserve(std::clamp(limit, 0, 65536));
  while (true) {
    auto row = s->Step();
    if (!row.ok()) {
      s->Reset();
      return row.status();
    }
    if (!*row) break;
    out.push_back(FromRow(*s, /*with_alert=*/false));
  }
  s->Reset();
  return out;
}

Status ScanAuditRowsIn(Db& db, int64_t after_seq,
                       const std::function<bool(const AuditRowView&)>& fn) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kScanRows));
  s->Bind(1, after_seq);
  AuditRowView row;
  while (true) {
    auto more = s->Step();
    if (!more.ok()) {
      s->Reset();
      return more.status();
    }
    if (!*more) break;
    row.seq = s->Int(0);
    row.time_ms = s->Int(1);
    row.record = s->Blob(2);
    row.hash = s->Blob(3);
    if (!fn(row)) break;
  }
  s->Reset();
  return Status::Ok();
}

Result<std::vector<AuditCheckpoint>> ScanAuditCheckpointsIn(Db& db, int64_t after_seq,
                                                            int limit) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(kScanCheckpoints));
  s->Bind(1, after_seq);
  s->Bind(2, static_cast<int64_t>(std::max(limit, 0)));
  std::vector<AuditCheckpoint> out;
  while (true) {
    auto row = s->Step();
    if (!row.ok()) {
      s->Reset();
      return row.status();
    }
    if (!*row) break;
    AuditCheckpoint c;
    c.seq = s->Int(0);
    c.time_ms = s->Int(1);
    c.head_hash = std::string(s->Blob(2));
    c.key_id = std::string(s->Text(3));
    c.signature = std::string(s->Blob(4));
    out.push_back(std::move(c));
  }
  s->Reset();
  return out;
}

}  // namespace crs::store::sqlite
