#include "store/postgres/write_ops.h"

#include "store/postgres/schema.h"

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

Status PgWriteOps::Begin() {
  CRS_ASSIGN_OR_RETURN(tx_, conn_.Get());
  CRS_RETURN_IF_ERROR(tx_->Exec("BEGIN"));
  return Do("SELECT pg_advisory_xact_lock($1)", Params().Int(kWriterLock));
}

Status PgWriteOps::Commit() {
  if (!tx_) return Status::Internal("postgres writer: no open transaction");
  Status st = tx_->Exec("COMMIT");
  tx_ = nullptr;
  return st;
}

void PgWriteOps::Rollback() {
  if (tx_) (void)tx_->Exec("ROLLBACK");
  tx_ = nullptr;
}

Status PgWriteOps::Savepoint(const char* name) {
  if (!tx_) return Status::Internal("postgres writer: no open transaction");
  return tx_->Exec(std::string("SAVEPOINT ") + name);
}
Status PgWriteOps::RollbackTo(const char* name) {
  if (!tx_) return Status::Internal("postgres writer: no open transaction");
  return tx_->Exec(std::string("ROLLBACK TO SAVEPOINT ") + name);
}
Status PgWriteOps::Release(const char* name) {
  if (!tx_) return Status::Internal("postgres writer: no open transaction");
  return tx_->Exec(std::string("RELEASE SAVEPOINT ") + name);
}

Result<std::optional<std::string>> PgWriteOps::FindIdempotency(const std::string& key) {
  CRS_ASSIGN_OR_RETURN(Rows r, Q("SELECT result FROM idempotency WHERE key = $1",
                                 Params().Text(key)));
  if (r.size() == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r.Bytes(0, 0)));
}

Status PgWriteOps::InsertIdempotency(const std::string& key, int64_t created,
                                     const std::string& result) {
  return Do("INSERT INTO idempotency (key, created, result) VALUES ($1, $2, $3)",
            Params().Text(key).Int(created).Text(result));
}

Result<int64_t> PgWriteOps::AdvanceSequence(const std::string& name, int64_t count) {
  CRS_ASSIGN_OR_RETURN(Rows r, Q("INSERT INTO sequences (name, next) VALUES ($1, $2) "
                                 "ON CONFLICT (name) DO UPDATE SET next = sequences.next + $2 "
                                 "RETURNING next",
                                 Params().Text(name).Int(count)));
  if (r.size() == 0) return Status::Internal("sequence advance returned no row");
  return r.Int(0, 0);
}

Status PgWriteOps::FindResource(const std::string& type, const std::string& id, int64_t* rid,
                                int64_t* version) {
  CRS_ASSIGN_OR_RETURN(Rows r, Q("SELECT rid, version FROM resources WHERE type = $1 AND id = $2",
                                 Params().Text(type).Text(id)));
  *rid = r.size() ? r.Int(0, 0) : 0;
  *version = r.size() ? r.Int(0, 1) : 0;
  return Status::Ok();
}

Result<int64_t> PgWriteOps::InsertResource(const std::string& type, const std::string& id) {
  CRS_ASSIGN_OR_RETURN(Rows r, Q("INSERT INTO resources (type, id, version, cur_seq, deleted) "
                                 "VALUES ($1, $2, 0, 0, 0) RETURNING rid",
                                 Params().Text(type).Text(id)));
  if (r.size() == 0) return Status::Internal("resource insert returned no row");
  return r.Int(0, 0);
}

Result<int64_t> PgWriteOps::InsertVersion(int64_t rid, const std::string& type, int64_t version,
                                          int64_t last_updated_ms, Method method,
                                          const std::string* body) {
  Params p;
  p.Int(rid).Text(type).Int(version).Int(last_updated_ms).Int(static_cast<int64_t>(method));
  if (body) {
    p.Bytes(*body);
  } else {
    p.Null();
  }
  CRS_ASSIGN_OR_RETURN(Rows r, Q("INSERT INTO versions (rid, type, version, last_updated, "
                                 "method, body) VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq",
                                 p));
  if (r.size() == 0) return Status::Internal("version insert returned no row");
  return r.Int(0, 0);
}

Status PgWriteOps::SetCurrent(int64_t rid, int64_t version, int64_t seq, bool deleted) {
  return Do("UPDATE resources SET version = $1, cur_seq = $2, deleted = $3 WHERE rid = $4",
            Params().Int(version).Int(seq).Int(deleted ? 1 : 0).Int(rid));
}

Status PgWriteOps::SetFacts(int64_t rid, const AccessFacts& facts) {
  return Do("UPDATE resources SET patient = $1, labels = $2, "
            "author_org = CASE WHEN author_org = '' THEN $3 ELSE author_org END WHERE rid = $4",
            Params().Text(facts.patient).Int(facts.labels).Text(facts.author_org).Int(rid));
}

Status PgWriteOps::DeleteRelationships(int64_t rid) {
  return Do("DELETE FROM rel WHERE rid = $1", Params().Int(rid));
}

Status PgWriteOps::InsertRelationship(const std::string& org, const std::string& patient,
                                      int64_t rid) {
  return Do("INSERT INTO rel (org, patient, rid) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            Params().Text(org).Text(patient).Int(rid));
}

Status PgWriteOps::DeleteResource(int64_t rid) {
  CRS_RETURN_IF_ERROR(Do("DELETE FROM versions WHERE rid = $1", Params().Int(rid)));
  return Do("DELETE FROM resources WHERE rid = $1", Params().Int(rid));
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

Status PgWriteOps::ReplaceIndex(int64_t rid, std::string_view type, const ix::IndexEntries* e,
                                bool had_rows) {
  if (had_rows) {
    for (const char* table : {"ix_string", "ix_token", "ix_date", "ix_number", "ix_quantity",
                              "ix_ref", "ix_uri"}) {
      CRS_RETURN_IF_ERROR(
          Do(std::string("DELETE FROM ") + table + " WHERE rid = $1", Params().Int(rid)));
    }
  }
  if (!e) return Status::Ok();
  type = e->resource_type;
  for (const auto& r : e->strings) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    CRS_RETURN_IF_ERROR(Do("INSERT INTO ix_string (pid, norm, exact, rid) VALUES ($1, $2, $3, $4)",
                           Params().Int(pid).Text(r.normalized).Text(r.exact).Int(rid)));
  }
  for (const auto& r : e->tokens) {
    if (Skipped(r.param)) continue;
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    CRS_RETURN_IF_ERROR(Do("INSERT INTO ix_token (pid, system, code, text, type_system, "
                           "type_code, rid) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                           Params().Int(pid).Text(r.system).Text(r.code).Text(r.text)
                               .Text(r.type_system).Text(r.type_code).Int(rid)));
  }
  for (const auto& r : e->dates) {
    if (Skipped(r.param)) continue;
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    CRS_RETURN_IF_ERROR(Do("INSERT INTO ix_date (pid, lo, hi, rid) VALUES ($1, $2, $3, $4)",
                           Params().Int(pid).Int(r.low_ms).Int(r.high_ms).Int(rid)));
  }
  for (const auto& r : e->numbers) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    Params p;
    p.Int(pid);
    Opt(p, r.value).Double(r.low).Double(r.high).Int(rid);
    CRS_RETURN_IF_ERROR(Do("INSERT INTO ix_number (pid, val, lo, hi, rid) "
                           "VALUES ($1, $2, $3, $4, $5)", p));
  }
  for (const auto& r : e->quantities) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    Params p;
    p.Int(pid).Text(r.system).Text(r.code).Text(r.unit);
    Opt(p, r.value).Double(r.low).Double(r.high).Int(rid);
    CRS_RETURN_IF_ERROR(Do("INSERT INTO ix_quantity (pid, system, code, unit, val, lo, hi, rid) "
                           "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", p));
  }
  for (const auto& r : e->references) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    CRS_RETURN_IF_ERROR(Do("INSERT INTO ix_ref (pid, ttype, tid, url, rid) "
                           "VALUES ($1, $2, $3, $4, $5)",
                           Params().Int(pid).Text(r.target_type).Text(r.target_id).Text(r.url)
                               .Int(rid)));
  }
  for (const auto& r : e->uris) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    CRS_RETURN_IF_ERROR(Do("INSERT INTO ix_uri (pid, uri, rid) VALUES ($1, $2, $3)",
                           Params().Int(pid).Text(r.uri).Int(rid)));
  }
  return Status::Ok();
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
  CRS_RETURN_IF_ERROR(writes_.Q("INSERT INTO audit (seq, time, record, hash) VALUES ($1, $2, $3, $4)",
                        Params().Int(seq).Int(in.time_ms).Bytes(in.record).Bytes(hash))
                          .status());
  for (const std::string& patient : in.patients) {
    CRS_RETURN_IF_ERROR(writes_.Q("INSERT INTO audit_patient (patient, seq) VALUES ($1, $2) "
                          "ON CONFLICT DO NOTHING",
                          Params().Text(patient).Int(seq))
                            .status());
  }
  if (!in.alert_org.empty()) {
    CRS_RETURN_IF_ERROR(writes_.Q("INSERT INTO audit_alert (seq, org) VALUES ($1, $2)",
                          Params().Int(seq).Text(in.alert_org))
                            .status());
  }
  if (in.reviews_alert > 0) {
    // The first review wins; a second review is still in the chain.
    CRS_RETURN_IF_ERROR(writes_.Q("UPDATE audit_alert SET reviewed_by = $1 "
                          "WHERE seq = $2 AND reviewed_by = 0",
                          Params().Int(seq).Int(in.reviews_alert))
                            .status());
  }
  return Status::Ok();
}

Status PgAuditOps::InsertCheckpoint(const AuditCheckpoint& cp) {
  return writes_.Q("INSERT INTO audit_checkpoint (seq, time, head, key_id, signature) "
           "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
           Params().Int(cp.seq).Int(cp.time_ms).Bytes(cp.head_hash).Text(cp.key_id)
               .Bytes(cp.signature))
      .status();
}

}  // namespace crs::store::postgres
