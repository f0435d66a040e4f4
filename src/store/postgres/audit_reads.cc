#include "store/postgres/audit_reads.h"

#include <algorithm>

#include "store/sql/audit_query.h"

namespace crs::store::postgres {
namespace {

constexpr const char* kReadOne =
    "SELECT a.seq, a.time, a.record, a.hash, al.org, al.reviewed_by "
    "FROM audit a LEFT JOIN audit_alert al ON al.seq = a.seq WHERE a.seq = $1";
constexpr const char* kScan =
    "SELECT seq, time, record, hash FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2";
constexpr const char* kScanCheckpoints =
    "SELECT seq, time, head, key_id, signature FROM audit_checkpoint "
    "WHERE seq > $1 ORDER BY seq LIMIT $2";
constexpr int kScanChunk = 8192;

StoredAudit FromRow(const Rows& r, int i, bool with_alert) {
  StoredAudit a;
  a.seq = r.Int(i, 0);
  a.time_ms = r.Int(i, 1);
  a.record = std::string(r.Bytes(i, 2));
  a.hash = std::string(r.Bytes(i, 3));
  if (with_alert && !r.IsNull(i, 4)) {
    a.alert_org = std::string(r.Bytes(i, 4));
    a.reviewed_by = r.Int(i, 5);
  }
  return a;
}

}  // namespace

Result<AuditPage> QueryAuditIn(Conn& c, const AuditQuery& q) {
  CRS_ASSIGN_OR_RETURN(sql::CompiledSql query, sql::CompileAuditQuery(q, sql::kPostgres));
  CRS_ASSIGN_OR_RETURN(Rows r, c.Query(query.sql, Params(query.args)));
  AuditPage page;
  for (int i = 0; i < r.size(); ++i) {
    if (static_cast<int>(page.records.size()) == q.count) {
      page.next_before_seq = page.records.back().seq;
      break;
    }
    page.records.push_back(FromRow(r, i, /*with_alert=*/true));
  }
  return page;
}

Result<StoredAudit> ReadAuditIn(Conn& c, int64_t seq) {
  CRS_ASSIGN_OR_RETURN(Rows r, c.Query(kReadOne, Params().Int(seq)));
  if (r.size() == 0) return Status::NotFound("no audit record " + std::to_string(seq));
  return FromRow(r, 0, /*with_alert=*/true);
}

Result<std::vector<StoredAudit>> ScanAuditIn(Conn& c, int64_t after_seq, int limit) {
  CRS_ASSIGN_OR_RETURN(Rows r, c.Query(kScan, Params().Int(after_seq).Int(std::max(limit, 0))));
  std::vector<StoredAudit> out;
  out.reserve(r.size());
  for (int i = 0; i < r.size(); ++i) out.push_back(FromRow(r, i, /*with_alert=*/false));
  return out;
}

Status ScanAuditRowsIn(Conn& c, int64_t after_seq,
                       const std::function<bool(const AuditRowView&)>& fn) {
  CRS_RETURN_IF_ERROR(c.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  Status st = Status::Ok();
  bool more = true;
  while (more) {
    auto r = c.Query(kScan, Params().Int(after_seq).Int(kScanChunk));
    if (!r.ok()) {
      st = r.status();
      break;
    }
    AuditRowView row;
    for (int i = 0; i < r->size() && more; ++i) {
      row.seq = r->Int(i, 0);
      row.time_ms = r->Int(i, 1);
      row.record = r->Bytes(i, 2);
      row.hash = r->Bytes(i, 3);
      after_seq = row.seq;
      more = fn(row);
    }
    if (r->size() < kScanChunk) more = false;
  }
  (void)c.Exec(st.ok() ? "COMMIT" : "ROLLBACK");
  return st;
}

Result<std::vector<AuditCheckpoint>> ScanAuditCheckpointsIn(Conn& c, int64_t after_seq,
                                                            int limit) {
  CRS_ASSIGN_OR_RETURN(Rows r, c.Query(kScanCheckpoints,
                                       Params().Int(after_seq).Int(std::max(limit, 0))));
  std::vector<AuditCheckpoint> out;
  for (int i = 0; i < r.size(); ++i) {
    AuditCheckpoint cp;
    cp.seq = r.Int(i, 0);
    cp.time_ms = r.Int(i, 1);
    cp.head_hash = std::string(r.Bytes(i, 2));
    cp.key_id = std::string(r.Bytes(i, 3));
    cp.signature = std::string(r.Bytes(i, 4));
    out.push_back(std::move(cp));
  }
  return out;
}

}  // namespace crs::store::postgres
