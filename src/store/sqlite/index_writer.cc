#include "store/sqlite/index_writer.h"

#include "fhir/index/geo.h"
#include "store/sql/composite_rows.h"

namespace crs::store::sqlite {

namespace ix = crs::fhir::index;

namespace {

constexpr const char* kDeletes[] = {
    "DELETE FROM ix_string WHERE rid = ?1",   "DELETE FROM ix_token WHERE rid = ?1",
    "DELETE FROM ix_date WHERE rid = ?1",     "DELETE FROM ix_number WHERE rid = ?1",
    "DELETE FROM ix_quantity WHERE rid = ?1", "DELETE FROM ix_ref WHERE rid = ?1",
    "DELETE FROM ix_uri WHERE rid = ?1",      "DELETE FROM ix_comp WHERE rid = ?1",
    "DELETE FROM ix_geo WHERE rid = ?1",
    // Also when the node keeps no full-text index: rows are then never
    // stale, only missing (which `crs reindex --fulltext` fills).
    "DELETE FROM ix_text WHERE rowid = ?1",
};

// _id and _lastUpdated are answered from the resource and version rows.
bool Skipped(std::string_view param) { return param == "_id" || param == "_lastUpdated"; }

Status StepDone(Stmt* s) {
  auto r = s->Step();
  s->Reset();
  return r.ok() ? Status::Ok() : r.status();
}

// Binds an optional double (NULL when absent).
void BindOpt(Stmt* s, int i, const std::optional<double>& v) {
  if (v) {
    s->BindDouble(i, *v);
  } else {
    s->BindNull(i);
  }
}

}  // namespace

Result<int64_t> IndexWriter::Pid(std::string_view type, std::string_view code) {
  std::pair<const char*, const char*> key(type.data(), code.data());
  if (auto it = pids_.find(key); it != pids_.end()) return it->second;
  CRS_ASSIGN_OR_RETURN(Stmt * ins, db_.Prepare("INSERT OR IGNORE INTO sp (type, code) VALUES (?1, ?2)"));
  ins->Bind(1, type);
  ins->Bind(2, code);
  CRS_RETURN_IF_ERROR(StepDone(ins));
  CRS_ASSIGN_OR_RETURN(Stmt * get, db_.Prepare("SELECT pid FROM sp WHERE type = ?1 AND code = ?2"));
  get->Bind(1, type);
  get->Bind(2, code);
  CRS_ASSIGN_OR_RETURN(bool row, get->Step());
  if (!row) {
    get->Reset();
    return Status::Internal("search parameter id vanished");
  }
  int64_t pid = get->Int(0);
  get->Reset();
  pids_.emplace(key, pid);
  return pid;
}

Status IndexWriter::Replace(int64_t rid, std::string_view type, const ix::IndexEntries* e,
                            bool had_rows) {
  if (had_rows) {
    for (const char* sql : kDeletes) {
      CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(sql));
      s->Bind(1, rid);
      CRS_RETURN_IF_ERROR(StepDone(s));
    }
  }
  if (!e) return Status::Ok();
  type = e->resource_type;  // the registry's copy: a stable address for the pid cache
  for (const auto& r : e->strings) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(
        "INSERT OR IGNORE INTO ix_string (pid, norm, exact, rid) VALUES (?1, ?2, ?3, ?4)"));
    s->Bind(1, pid);
    s->Bind(2, r.normalized);
    s->Bind(3, r.exact);
    s->Bind(4, rid);
    CRS_RETURN_IF_ERROR(StepDone(s));
  }
  for (const auto& r : e->tokens) {
    if (Skipped(r.param)) continue;
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(
        "INSERT OR IGNORE INTO ix_token (pid, system, code, text, type_system, type_code, rid) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    s->Bind(1, pid);
    s->Bind(2, r.system);
    s->Bind(3, r.code);
    s->Bind(4, r.text);
    s->Bind(5, r.type_system);
    s->Bind(6, r.type_code);
    s->Bind(7, rid);
    CRS_RETURN_IF_ERROR(StepDone(s));
  }
  for (const auto& r : e->dates) {
    if (Skipped(r.param)) continue;
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(
        "INSERT OR IGNORE INTO ix_date (pid, lo, hi, rid) VALUES (?1, ?2, ?3, ?4)"));
    s->Bind(1, pid);
    s->Bind(2, r.low_ms);
    s->Bind(3, r.high_ms);
    s->Bind(4, rid);
    CRS_RETURN_IF_ERROR(StepDone(s));
  }
  for (const auto& r : e->numbers) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(
        "INSERT OR IGNORE INTO ix_number (pid, val, lo, hi, rid) VALUES (?1, ?2, ?3, ?4, ?5)"));
    s->Bind(1, pid);
    BindOpt(s, 2, r.value);
    s->BindDouble(3, r.low);
    s->BindDouble(4, r.high);
    s->Bind(5, rid);
    CRS_RETURN_IF_ERROR(StepDone(s));
  }
  for (const auto& r : e->quantities) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(
        "INSERT OR IGNORE INTO ix_quantity (pid, system, code, unit, val, lo, hi, rid) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    s->Bind(1, pid);
    s->Bind(2, r.system);
    s->Bind(3, r.code);
    s->Bind(4, r.unit);
    BindOpt(s, 5, r.value);
    s->BindDouble(6, r.low);
    s->BindDouble(7, r.high);
    s->Bind(8, rid);
    CRS_RETURN_IF_ERROR(StepDone(s));
  }
  for (const auto& r : e->references) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(
        "INSERT OR IGNORE INTO ix_ref (pid, ttype, tid, url, rid) VALUES (?1, ?2, ?3, ?4, ?5)"));
    s->Bind(1, pid);
    s->Bind(2, r.target_type);
    s->Bind(3, r.target_id);
    s->Bind(4, r.url);
    s->Bind(5, rid);
    CRS_RETURN_IF_ERROR(StepDone(s));
  }
  for (const auto& r : e->uris) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    CRS_ASSIGN_OR_RETURN(Stmt * s,
                         db_.Prepare("INSERT OR IGNORE INTO ix_uri (pid, uri, rid) VALUES (?1, ?2, ?3)"));
    s->Bind(1, pid);
    s->Bind(2, r.uri);
    s->Bind(3, rid);
    CRS_RETURN_IF_ERROR(StepDone(s));
  }
  for (const auto& c : sql::ComponentRows(e->composites)) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, c.param));
    CRS_ASSIGN_OR_RETURN(
        Stmt * s,
        db_.Prepare(
            "INSERT OR IGNORE INTO ix_comp (pid, rid, tup, comp, system, code, norm, exact, val, "
            "unit, lo, hi, ttype, tid, url, uri) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"));
    s->Bind(1, pid);
    s->Bind(2, rid);
    s->Bind(3, c.tup);
    s->Bind(4, c.comp);
    s->Bind(5, c.system);
    s->Bind(6, c.code);
    s->Bind(7, c.norm);
    s->Bind(8, c.exact);
    BindOpt(s, 9, c.val);
    s->Bind(10, c.unit);
    s->Bind(11, c.lo);
    s->Bind(12, c.hi);
    s->Bind(13, c.ttype);
    s->Bind(14, c.tid);
    s->Bind(15, c.url);
    s->Bind(16, c.uri);
    CRS_RETURN_IF_ERROR(StepDone(s));
  }
  for (const auto& r : e->geo) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(
        "INSERT INTO ix_geo (pid, lat, lon, ux, uy, uz, rid) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    fhir::index::UnitVector u = fhir::index::ToUnitVector(r.latitude, r.longitude);
    s->Bind(1, pid);
    s->BindDouble(2, r.latitude);
    s->BindDouble(3, r.longitude);
    s->BindDouble(4, u.x);
    s->BindDouble(5, u.y);
    s->BindDouble(6, u.z);
    s->Bind(7, rid);
    CRS_RETURN_IF_ERROR(StepDone(s));
  }
  if (e->fulltext) {
    CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(
        "INSERT INTO ix_text (rowid, narrative, content) VALUES (?1, ?2, ?3)"));
    s->Bind(1, rid);
    s->Bind(2, e->fulltext->narrative);
    s->Bind(3, e->fulltext->content);
    CRS_RETURN_IF_ERROR(StepDone(s));
  }
  return Status::Ok();
}

}  // namespace crs::store::sqlite
