#include "store/postgres/write_ops.h"

#include <algorithm>

#include "fhir/index/geo.h"
#include "store/postgres/schema.h"
#include "store/sql/audit_query.h"
#include "store/sql/composite_rows.h"
#include "store/sql/covered_rows.h"

namespace crs::store::postgres {

namespace ix = crs::fhir::index;

namespace {

// _id and _lastUpdated are answered from the resource and version rows.
bool Skipped(std::string_view param) { return param == "_id" || param == "_lastUpdated"; }

Params& Opt(Params& p, const std::optional<double>& v) {
  return v ? p.Double(*v) : p.NullDouble();
}

}  // namespace

Result<Conn*> WriterConn::Get() {
  if (conn_ && !conn_->Healthy()) conn_.reset();
  if (!conn_) {
    CRS_ASSIGN_OR_RETURN(conn_, Conn::Open(url_));
  }
  return conn_.get();
}

Result<Rows> PgWriteOps::Q(const std::string& sql, const Params& params) {
  if (!tx_) return Status::Internal("postgres writer: no open transaction");
  return tx_->Query(sql, params);
}

Status PgWriteOps::Later(const std::string& sql, Params params, bool prepare) {
  if (!tx_) return Status::Internal("postgres writer: no open transaction");
  tx_->Defer(sql, std::move(params), prepare);
  return Status::Ok();
}

Status PgWriteOps::Flush() {
  if (!tx_) return Status::Internal("postgres writer: no open transaction");
  return tx_->Flush();
}

Status PgWriteOps::Begin() {
  tx_ = nullptr;
  CRS_ASSIGN_OR_RETURN(Conn * conn, conn_.Get());
  Status begun = conn->Exec("BEGIN");
  if (!begun.ok() && !conn->Healthy()) {
    // Lost since the last group (a restart, a failover): reconnect once.
    CRS_ASSIGN_OR_RETURN(conn, conn_.Get());
    begun = conn->Exec("BEGIN");
  }
  CRS_RETURN_IF_ERROR(begun);
  tx_ = conn;
  // Taken with the group's first statement that is waited for (the audit
  // chain head), in the same round trip.
  return Later("SELECT pg_advisory_xact_lock($1)", Params().Int(kWriterLock));
}

Status PgWriteOps::Commit() {
  if (!tx_) return Status::Internal("postgres writer: no open transaction");
  Status st = tx_->Exec("COMMIT");
  if (st.ok() && wrote_data_ && last_write_lsn_) {
    // After the commit record: a replica that replayed this far shows it.
    auto lsn = tx_->Query("SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint", Params());
    if (lsn.ok() && lsn->size()) {
      // Only this (the writer) thread stores it.
      uint64_t v = static_cast<uint64_t>(lsn->Int(0, 0));
      uint64_t seen = last_write_lsn_->load();
      if (seen == UINT64_MAX || v > seen) last_write_lsn_->store(v);
    } else {
      // Unknown: no replica may answer until a later write records one.
      last_write_lsn_->store(UINT64_MAX);
    }
  }
  wrote_data_ = false;
  tx_ = nullptr;
  return st;
}

void PgWriteOps::Rollback() {
  if (tx_) {
    tx_->DiscardDeferred();
    (void)tx_->Exec("ROLLBACK");
  }
  wrote_data_ = false;
  tx_ = nullptr;
}

Status PgWriteOps::Savepoint(const char* name) {
  return Later(std::string("SAVEPOINT ") + name, Params(), /*prepare=*/false);
}
Status PgWriteOps::RollbackTo(const char* name) {
  if (!tx_) return Status::Internal("postgres writer: no open transaction");
  return tx_->Exec(std::string("ROLLBACK TO SAVEPOINT ") + name);
}
Status PgWriteOps::Release(const char* name) {
  return Later(std::string("RELEASE SAVEPOINT ") + name, Params(), /*prepare=*/false);
}

Result<std::optional<std::string>> PgWriteOps::FindIdempotency(const std::string& key) {
  CRS_ASSIGN_OR_RETURN(Rows r, Q("SELECT result FROM idempotency WHERE key = $1",
                                 Params().Text(key)));
  if (r.size() == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r.Bytes(0, 0)));
}

Status PgWriteOps::InsertIdempotency(const std::string& key, int64_t created,
                                     const std::string& result) {
  return Later("INSERT INTO idempotency (key, created, result) VALUES ($1, $2, $3)",
               Params().Text(key).Int(created).Text(result));
}

Result<int64_t> PgWriteOps::AdvanceSequence(const std::string& name, int64_t count) {
  wrote_data_ = true;
  CRS_ASSIGN_OR_RETURN(Rows r, Q("INSERT INTO sequences (name, next) VALUES ($1, $2) "
                                 "ON CONFLICT (name) DO UPDATE SET next = sequences.next + $2 "
                                 "RETURNING next",
                                 Params().Text(name).Int(count)));
  if (r.size() == 0) return Status::Internal("sequence advance returned no row");
  return r.Int(0, 0);
}

Status PgWriteOps::FindResource(const std::string& type, const std::string& id, int64_t* rid,
                                int64_t* version) {
  wrote_data_ = true;  // every write of a batch starts here
  CRS_ASSIGN_OR_RETURN(Rows r, Q("SELECT rid, version FROM resources WHERE type = $1 AND id = $2",
                                 Params().Text(type).Text(id)));
  *rid = r.size() ? r.Int(0, 0) : 0;
  *version = r.size() ? r.Int(0, 1) : 0;
  return Status::Ok();
}

Result<int64_t> PgWriteOps::InsertResource(const std::string& type, const std::string& id,
                                           const AccessFacts& facts) {
  CRS_ASSIGN_OR_RETURN(Rows r, Q("INSERT INTO resources (type, id, version, cur_seq, deleted, "
                                 "patient, labels, author_org) "
                                 "VALUES ($1, $2, 0, 0, 0, $3, $4, $5) RETURNING rid",
                                 Params().Text(type).Text(id).Text(facts.patient)
                                     .Int(facts.labels).Text(facts.author_org)));
  if (r.size() == 0) return Status::Internal("resource insert returned no row");
  return r.Int(0, 0);
}

// One statement: the version row, then the resource row pointing at it
// (and its access facts).
Status PgWriteOps::AppendVersion(int64_t rid, const std::string& type, int64_t version,
                                 int64_t last_updated_ms, Method method, const std::string* body,
                                 const AccessFacts* facts) {
  Params p;
  p.Int(rid).Text(type).Int(version).Int(last_updated_ms).Int(static_cast<int64_t>(method));
  if (body) {
    p.Bytes(*body);
  } else {
    p.Null();
  }
  p.Int(body ? 0 : 1);
  std::string sql =
      "WITH v AS (INSERT INTO versions (rid, type, version, last_updated, method, body) "
      "VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq) "
      "UPDATE resources SET version = $3, cur_seq = (SELECT seq FROM v), deleted = $7";
  if (facts) {
    p.Text(facts->patient).Int(facts->labels).Text(facts->author_org);
    sql += ", patient = $8, labels = $9, "
           "author_org = CASE WHEN author_org = '' THEN $10 ELSE author_org END";
  }
  sql += " WHERE rid = $1";
  return Later(sql, std::move(p));
}

Status PgWriteOps::SetFacts(int64_t rid, const AccessFacts& facts) {
  return Later("UPDATE resources SET patient = $2, labels = $3, "
               "author_org = CASE WHEN author_org = '' THEN $4 ELSE author_org END WHERE rid = $1",
               Params().Int(rid).Text(facts.patient).Int(facts.labels).Text(facts.author_org));
}

Status PgWriteOps::DeleteRelationships(int64_t rid) {
  return Later("DELETE FROM rel WHERE rid = $1", Params().Int(rid));
}

Status PgWriteOps::InsertRelationship(const std::string& org, const std::string& patient,
                                      int64_t rid) {
  return Later("INSERT INTO rel (org, patient, rid) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
               Params().Text(org).Text(patient).Int(rid));
}

Status PgWriteOps::DeleteResource(int64_t rid) {
  CRS_RETURN_IF_ERROR(Later("DELETE FROM versions WHERE rid = $1", Params().Int(rid)));
  return Later("DELETE FROM resources WHERE rid = $1", Params().Int(rid));
}

Result<int64_t> PgWriteOps::Pid(std::string_view type, std::string_view code) {
  std::string key = std::string(type) + '\0' + std::string(code);
  if (auto it = pids_.find(key); it != pids_.end()) return it->second;
  CRS_RETURN_IF_ERROR(Do("INSERT INTO sp (type, code) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                         Params().Text(type).Text(code)));
  CRS_ASSIGN_OR_RETURN(Rows r, Q("SELECT pid FROM sp WHERE type = $1 AND code = $2",
                                 Params().Text(type).Text(code)));
  if (r.size() == 0) return Status::Internal("search parameter id vanished");
  int64_t pid = r.Int(0, 0);
  pids_.emplace(std::move(key), pid);
  return pid;
}

namespace {

// tsvector input text for space-separated full-text words
// (fhir/index/fulltext.h): each word quoted, with its position, so that
// PostgreSQL stores exactly these words (no text search parser or
// dictionary runs) and phrases can match adjacent positions.
std::string TsVectorText(std::string_view words) {
  std::string out;
  out.reserve(words.size() * 2);
  size_t pos = 0, i = 0;
  while (i < words.size()) {
    size_t end = words.find(' ', i);
    if (end == std::string_view::npos) end = words.size();
    if (end > i) {
      if (!out.empty()) out.push_back(' ');
      out.push_back('\'');
      for (char c : words.substr(i, end - i)) {
        if (c == '\'' || c == '\\') out.push_back(c);
        out.push_back(c);
      }
      out += "':" + std::to_string(std::min<size_t>(++pos, 16383));
    }
    i = end + 1;
  }
  return out;
}

}  // namespace

// Queues `parts` as one statement of data-modifying CTEs with `params` ($1
// is the rid), then starts afresh.
Status PgWriteOps::RunParts(std::vector<std::string>* parts, Params* params, int64_t rid) {
  if (parts->empty()) return Status::Ok();
  if (!tx_) return Status::Internal("postgres writer: no open transaction");
  std::string sql = "WITH ";
  for (size_t i = 0; i < parts->size(); ++i) {
    sql += (i ? ", w" : "w") + std::to_string(i) + " AS (" + (*parts)[i] + ")";
  }
  sql += " SELECT 1";
  tx_->Defer(sql, std::move(*params), /*prepare=*/false);
  parts->clear();
  *params = Params();
  params->Int(rid);
  return Status::Ok();
}

// One statement replaces every index row of the resource: a round trip per
// write instead of one per row. Its CTEs all run on the statement's
// snapshot, so the deletes never see the rows being inserted.
Status PgWriteOps::ReplaceIndex(int64_t rid, std::string_view type, const ix::IndexEntries* e,
                                bool had_rows, bool /*rebuild*/) {
  Params p;
  p.Int(rid);  // $1
  std::vector<std::string> parts;
  if (had_rows) {
    for (const char* table : {"ix_string", "ix_token", "ix_date", "ix_number", "ix_quantity",
                              "ix_ref", "ix_uri", "ix_comp", "ix_geo",
                              // also when the node keeps no full-text index:
                              // rows are then never stale, only missing
                              "ix_text"}) {
      parts.push_back(std::string("DELETE FROM ") + table + " WHERE rid = $1");
    }
  }
  if (!e) return RunParts(&parts, &p, rid);
  type = e->resource_type;
  // "INSERT INTO head VALUES (...), (...)" over `rows`; `bind` binds a
  // row's values (all but the rid) and returns false to skip the row.
  auto insert = [&](const char* head, const auto& rows, auto bind) -> Status {
    std::string values;
    for (const auto& r : rows) {
      int first = p.size() + 1;
      CRS_ASSIGN_OR_RETURN(bool bound, bind(r));
      if (!bound) continue;
      values += values.empty() ? "(" : ", (";
      for (int i = first; i <= p.size(); ++i) values += "$" + std::to_string(i) + ", ";
      values += "$1)";
      if (p.size() > kFlushParams) {
        // PostgreSQL binds at most 65535 values per statement.
        parts.push_back(std::string(head) + " VALUES " + values);
        values.clear();
        CRS_RETURN_IF_ERROR(RunParts(&parts, &p, rid));
      }
    }
    if (!values.empty()) parts.push_back(std::string(head) + " VALUES " + values);
    return Status::Ok();
  };
  auto pid_of = [&](std::string_view param) { return Pid(type, param); };
  CRS_RETURN_IF_ERROR(insert("INSERT INTO ix_string (pid, norm, exact, rid)", e->strings,
                             [&](const auto& r) -> Result<bool> {
                               if (sql::Covered(type, *e, r)) return false;
                               CRS_ASSIGN_OR_RETURN(int64_t pid, pid_of(r.param));
                               p.Int(pid).Text(r.normalized).Text(r.exact);
                               return true;
                             }));
  CRS_RETURN_IF_ERROR(insert(
      "INSERT INTO ix_token (pid, system, code, text, type_system, type_code, rid)", e->tokens,
      [&](const auto& r) -> Result<bool> {
        if (Skipped(r.param) || sql::Covered(type, *e, r)) return false;
        CRS_ASSIGN_OR_RETURN(int64_t pid, pid_of(r.param));
        p.Int(pid).Text(r.system).Text(r.code).Text(r.text).Text(r.type_system).Text(r.type_code);
        return true;
      }));
  CRS_RETURN_IF_ERROR(insert("INSERT INTO ix_date (pid, lo, hi, rid)", e->dates,
                             [&](const auto& r) -> Result<bool> {
                               if (Skipped(r.param)) return false;
                               CRS_ASSIGN_OR_RETURN(int64_t pid, pid_of(r.param));
                               p.Int(pid).Int(r.low_ms).Int(r.high_ms);
                               return true;
                             }));
  CRS_RETURN_IF_ERROR(insert("INSERT INTO ix_number (pid, val, lo, hi, rid)", e->numbers,
                             [&](const auto& r) -> Result<bool> {
                               CRS_ASSIGN_OR_RETURN(int64_t pid, pid_of(r.param));
                               p.Int(pid);
                               Opt(p, r.value).Double(r.low).Double(r.high);
                               return true;
                             }));
  CRS_RETURN_IF_ERROR(insert("INSERT INTO ix_quantity (pid, system, code, unit, val, lo, hi, rid)",
                             e->quantities, [&](const auto& r) -> Result<bool> {
                               CRS_ASSIGN_OR_RETURN(int64_t pid, pid_of(r.param));
                               p.Int(pid).Text(r.system).Text(r.code).Text(r.unit);
                               Opt(p, r.value).Double(r.low).Double(r.high);
                               return true;
                             }));
  CRS_RETURN_IF_ERROR(insert("INSERT INTO ix_ref (pid, ttype, tid, url, rid)", e->references,
                             [&](const auto& r) -> Result<bool> {
                               CRS_ASSIGN_OR_RETURN(int64_t pid, pid_of(r.param));
                               p.Int(pid).Text(r.target_type).Text(r.target_id).Text(r.url);
                               return true;
                             }));
  CRS_RETURN_IF_ERROR(insert("INSERT INTO ix_uri (pid, uri, rid)", e->uris,
                             [&](const auto& r) -> Result<bool> {
                               CRS_ASSIGN_OR_RETURN(int64_t pid, pid_of(r.param));
                               p.Int(pid).Text(r.uri);
                               return true;
                             }));
  CRS_RETURN_IF_ERROR(insert(
      "INSERT INTO ix_comp (pid, tup, comp, system, code, norm, exact, val, unit, lo, hi, ttype, "
      "tid, url, uri, rid)",
      sql::ComponentRows(e->composites), [&](const auto& c) -> Result<bool> {
        CRS_ASSIGN_OR_RETURN(int64_t pid, pid_of(c.param));
        p.Int(pid).Int(c.tup).Int(c.comp).Text(c.system).Text(c.code).Text(c.norm).Text(c.exact);
        Opt(p, c.val).Text(c.unit).Int(c.lo).Int(c.hi).Text(c.ttype).Text(c.tid).Text(c.url).Text(
            c.uri);
        return true;
      }));
  CRS_RETURN_IF_ERROR(insert("INSERT INTO ix_geo (pid, lat, lon, ux, uy, uz, rid)", e->geo,
                             [&](const auto& r) -> Result<bool> {
                               CRS_ASSIGN_OR_RETURN(int64_t pid, pid_of(r.param));
                               ix::UnitVector u = ix::ToUnitVector(r.latitude, r.longitude);
                               p.Int(pid).Double(r.latitude).Double(r.longitude).Double(u.x)
                                   .Double(u.y).Double(u.z);
                               return true;
                             }));
  if (e->fulltext) {
    int n = p.size();
    p.Text(TsVectorText(e->fulltext->narrative)).Text(TsVectorText(e->fulltext->content));
    parts.push_back("INSERT INTO ix_text (rid, narrative, content) VALUES ($1, CAST($" +
                    std::to_string(n + 1) + " AS tsvector), CAST($" + std::to_string(n + 2) +
                    " AS tsvector))");
  }
  return RunParts(&parts, &p, rid);
}

Status PgAuditOps::Head(int64_t* seq, std::string* hash) {
  CRS_ASSIGN_OR_RETURN(Rows r, writes_.Q("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                                         Params()));
  *seq = r.size() ? r.Int(0, 0) : 0;
  *hash = r.size() ? std::string(r.Bytes(0, 1)) : std::string();
  return Status::Ok();
}

Result<int64_t> PgAuditOps::LastCheckpointSeq() {
  // At start-up, outside any transaction.
  CRS_ASSIGN_OR_RETURN(Conn * c, conn_.Get());
  CRS_ASSIGN_OR_RETURN(Rows r, c->Query("SELECT seq FROM audit_checkpoint ORDER BY seq DESC LIMIT 1",
                                        Params()));
  return r.size() ? r.Int(0, 0) : 0;
}

Status PgAuditOps::Insert(int64_t seq, const AuditInput& in, std::string_view hash) {
  CRS_RETURN_IF_ERROR(writes_.Later("INSERT INTO audit (seq, time, record, hash) VALUES ($1, $2, $3, $4)",
                        Params().Int(seq).Int(in.time_ms).Bytes(in.record).Bytes(hash)));
  for (const std::string& patient : in.patients) {
    CRS_RETURN_IF_ERROR(writes_.Later("INSERT INTO audit_patient (patient, seq) VALUES ($1, $2) "
                                      "ON CONFLICT DO NOTHING",
                                      Params().Text(patient).Int(seq)));
  }
  if (!in.alert_org.empty()) {
    CRS_RETURN_IF_ERROR(writes_.Later("INSERT INTO audit_alert (seq, org, codes, user_id, user_name) "
                                      "VALUES ($1, $2, $3, $4, $5)",
                                      Params().Int(seq).Text(in.alert_org).Int(in.alert_codes)
                                          .Text(in.alert_user)
                                          .Text(sql::FoldUserName(in.alert_user_name))));
  }
  if (in.reviews_alert > 0) {
    // The first review wins; a second review is still in the chain.
    CRS_RETURN_IF_ERROR(writes_.Later("UPDATE audit_alert SET reviewed_by = $1 "
                                      "WHERE seq = $2 AND reviewed_by = 0",
                                      Params().Int(seq).Int(in.reviews_alert)));
  }
  return Status::Ok();
}

Status PgAuditOps::InsertCheckpoint(const AuditCheckpoint& cp) {
  return writes_.Later("INSERT INTO audit_checkpoint (seq, time, head, key_id, signature) "
                       "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                       Params().Int(cp.seq).Int(cp.time_ms).Bytes(cp.head_hash).Text(cp.key_id)
                           .Bytes(cp.signature));
}

}  // namespace crs::store::postgres
