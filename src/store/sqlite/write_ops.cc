#include "store/sqlite/write_ops.h"

namespace crs::store::sqlite {
namespace {

// Steps a statement that returns no rows and resets it.
Status Done(Stmt* s) {
  auto r = s->Step();
  s->Reset();
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace

Status SqliteWriteOps::Control(std::string sql) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.PrepareDynamic(sql));
  return Done(s);
}

Status SqliteWriteOps::Commit() {
  // A failed flush leaves the transaction to the caller's Rollback.
  CRS_RETURN_IF_ERROR(index_.Flush());
  Status st = Control("COMMIT");
  // A failed COMMIT is followed by Rollback(), which bumps.
  if (st.ok()) EndRelChanges();
  return st;
}

Status SqliteWriteOps::Savepoint(const char* name) {
  CRS_RETURN_IF_ERROR(Control(std::string("SAVEPOINT ") + name));
  index_.Mark();
  return Status::Ok();
}
Status SqliteWriteOps::RollbackTo(const char* name) {
  index_.RollbackTo();
  return Control(std::string("ROLLBACK TO ") + name);
}
Status SqliteWriteOps::Release(const char* name) {
  index_.Release();
  return Control(std::string("RELEASE ") + name);
}

Result<std::optional<std::string>> SqliteWriteOps::FindIdempotency(const std::string& key) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare("SELECT result FROM idempotency WHERE key = ?1"));
  s->Bind(1, key);
  auto row = s->Step();
  std::optional<std::string> out;
  if (row.ok() && *row) out = std::string(s->Text(0));
  s->Reset();
  if (!row.ok()) return row.status();
  return out;
}

Status SqliteWriteOps::InsertIdempotency(const std::string& key, int64_t created,
                                         const std::string& result) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(
      "INSERT INTO idempotency (key, created, result) VALUES (?1, ?2, ?3)"));
  s->Bind(1, key);
  s->Bind(2, created);
  s->Bind(3, result);
  return Done(s);
}

Result<int64_t> SqliteWriteOps::AdvanceSequence(const std::string& name, int64_t count) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(
      "INSERT INTO sequences (name, next) VALUES (?1, ?2) "
      "ON CONFLICT (name) DO UPDATE SET next = next + ?2 RETURNING next"));
  s->Bind(1, name);
  s->Bind(2, count);
  auto row = s->Step();
  int64_t next = row.ok() && *row ? s->Int(0) : 0;
  s->Reset();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Internal("sequence advance returned no row");
  return next;
}

Status SqliteWriteOps::FindResource(const std::string& type, const std::string& id,
                                    int64_t* rid, int64_t* version) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare("SELECT rid, version FROM resources "
                                             "WHERE type = ?1 AND id = ?2"));
  s->Bind(1, type);
  s->Bind(2, id);
  CRS_ASSIGN_OR_RETURN(bool exists, s->Step());
  *rid = exists ? s->Int(0) : 0;
  *version = exists ? s->Int(1) : 0;
  s->Reset();
  return Status::Ok();
}

Result<int64_t> SqliteWriteOps::InsertResource(const std::string& type, const std::string& id,
                                               const AccessFacts& facts) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(
      "INSERT INTO resources (type, id, version, cur_seq, deleted, patient, labels, author_org) "
      "VALUES (?1, ?2, 0, 0, 0, ?3, ?4, ?5)"));
  s->Bind(1, type);
  s->Bind(2, id);
  s->Bind(3, facts.patient);
  s->Bind(4, static_cast<int64_t>(facts.labels));
  s->Bind(5, facts.author_org);
  CRS_RETURN_IF_ERROR(Done(s));
  return db_.LastInsertRowid();
}

Result<int64_t> SqliteWriteOps::InsertVersion(int64_t rid, const std::string& type,
                                              int64_t version, int64_t last_updated_ms,
                                              Method method, const std::string* body) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(
      "INSERT INTO versions (rid, type, version, last_updated, method, body) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  s->Bind(1, rid);
  s->Bind(2, type);
  s->Bind(3, version);
  s->Bind(4, last_updated_ms);
  s->Bind(5, static_cast<int64_t>(method));
  if (body) {
    s->BindBlob(6, *body);
  } else {
    s->BindNull(6);
  }
  CRS_RETURN_IF_ERROR(Done(s));
  return db_.LastInsertRowid();
}

Status SqliteWriteOps::AppendVersion(int64_t rid, const std::string& type, int64_t version,
                                     int64_t last_updated_ms, Method method,
                                     const std::string* body, const AccessFacts* facts) {
  CRS_ASSIGN_OR_RETURN(int64_t seq, InsertVersion(rid, type, version, last_updated_ms, method, body));
  if (!facts && version == 1 && body) {
    // The row InsertResource has just made, with its facts and deleted = 0:
    // only columns no index covers change, so SQLite rewrites no index
    // entry (it updates every index on a column in the SET list).
    CRS_ASSIGN_OR_RETURN(Stmt * s,
                         db_.Prepare("UPDATE resources SET version = 1, cur_seq = ?1 WHERE rid = ?2"));
    s->Bind(1, seq);
    s->Bind(2, rid);
    return Done(s);
  }
  if (!facts) return SetCurrent(rid, version, seq, body == nullptr);
  // One UPDATE for the version and the facts: the row is found and
  // rewritten once, not twice, on every write.
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(
      "UPDATE resources SET version = ?1, cur_seq = ?2, deleted = ?3, patient = ?4, "
      "labels = ?5, author_org = CASE WHEN author_org = '' THEN ?6 ELSE author_org END "
      "WHERE rid = ?7"));
  s->Bind(1, version);
  s->Bind(2, seq);
  s->Bind(3, static_cast<int64_t>(body == nullptr));
  s->Bind(4, facts->patient);
  s->Bind(5, static_cast<int64_t>(facts->labels));
  s->Bind(6, facts->author_org);
  s->Bind(7, rid);
  return Done(s);
}

Status SqliteWriteOps::SetCurrent(int64_t rid, int64_t version, int64_t seq, bool deleted) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(
      "UPDATE resources SET version = ?1, cur_seq = ?2, deleted = ?3 WHERE rid = ?4"));
  s->Bind(1, version);
  s->Bind(2, seq);
  s->Bind(3, static_cast<int64_t>(deleted));
  s->Bind(4, rid);
  return Done(s);
}

Status SqliteWriteOps::SetFacts(int64_t rid, const AccessFacts& facts) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(
      "UPDATE resources SET patient = ?1, labels = ?2, "
      "author_org = CASE WHEN author_org = '' THEN ?3 ELSE author_org END WHERE rid = ?4"));
  s->Bind(1, facts.patient);
  s->Bind(2, static_cast<int64_t>(facts.labels));
  s->Bind(3, facts.author_org);
  s->Bind(4, rid);
  return Done(s);
}

Status SqliteWriteOps::DeleteRelationships(int64_t rid) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare("DELETE FROM rel WHERE rid = ?1"));
  s->Bind(1, rid);
  CRS_RETURN_IF_ERROR(Done(s));
  if (db_.Changes() > 0) rel_changed_ = true;
  return Status::Ok();
}

Status SqliteWriteOps::InsertRelationship(const std::string& org, const std::string& patient,
                                          int64_t rid) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(
      "INSERT OR IGNORE INTO rel (org, patient, rid) VALUES (?1, ?2, ?3)"));
  s->Bind(1, org);
  s->Bind(2, patient);
  s->Bind(3, rid);
  CRS_RETURN_IF_ERROR(Done(s));
  if (db_.Changes() > 0) rel_changed_ = true;
  return Status::Ok();
}

Status SqliteWriteOps::DeleteResource(int64_t rid) {
  for (const char* sql : {"DELETE FROM versions WHERE rid = ?1",
                          "DELETE FROM resources WHERE rid = ?1"}) {
    CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(sql));
    s->Bind(1, rid);
    CRS_RETURN_IF_ERROR(Done(s));
  }
  return Status::Ok();
}

}  // namespace crs::store::sqlite
