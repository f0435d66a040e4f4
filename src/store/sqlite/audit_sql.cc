#include "store/sqlite/audit_sql.h"

#include <algorithm>

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
constexpr const char* kInsertPatient =
    "INSERT OR IGNORE INTO audit_patient (patient, seq) VALUES (?1, ?2)";
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
  for (const std::string& patient : in.patients) {
    CRS_ASSIGN_OR_RETURN(Stmt * p, db_.Prepare(kInsertPatient));
    p->Bind(1, patient);
    p->Bind(2, seq);
    CRS_RETURN_IF_ERROR(Done(p));
  }
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
