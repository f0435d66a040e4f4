#include "store/sqlite/index_writer.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "fhir/index/geo.h"
#include "store/sql/composite_rows.h"
#include "store/sql/covered_rows.h"
#include "store/sqlite/chunked_insert.h"
#include "store/sqlite/index_runs.h"
#include "store/sqlite/own_rows.h"

namespace crs::store::sqlite {

namespace ix = crs::fhir::index;

namespace {

// Rows keyed by rid first: deleted by rid.
constexpr const char* kDeletes[] = {
    "DELETE FROM ix_comp WHERE rid = ?1",
    // Also when the node keeps no full-text index: rows are then never
    // stale, only missing (which `crs reindex --fulltext` fills).
    "DELETE FROM ix_text WHERE rowid = ?1",
};

// How a row of a value table goes, found by its value (the tables have no
// (rid, pid) index; the resource's blob in ix_own lists its rows): ?1... the
// row's fields in OwnColumns order, then the rid. The rowid tables delete
// one of possibly equal rows.
constexpr const char* kRemove[kOwnTables] = {
    "DELETE FROM ix_string WHERE pid = ?1 AND norm = ?2 AND exact = ?3 AND rid = ?4",
    "DELETE FROM ix_token WHERE pid = ?1 AND code = ?2 AND system = ?3 AND text = ?4 AND "
    "type_system = ?5 AND type_code = ?6 AND rid = ?7",
    "DELETE FROM ix_date WHERE pid = ?1 AND lo = ?2 AND hi = ?3 AND rid = ?4",
    "DELETE FROM ix_number WHERE rowid = (SELECT rowid FROM ix_number WHERE pid = ?1 AND "
    "val IS ?2 AND rid = ?5 AND lo = ?3 AND hi = ?4 LIMIT 1)",
    "DELETE FROM ix_quantity WHERE rowid = (SELECT rowid FROM ix_quantity WHERE pid = ?1 AND "
    "val IS ?5 AND rid = ?8 AND system = ?2 AND code = ?3 AND unit = ?4 AND lo = ?6 AND "
    "hi = ?7 LIMIT 1)",
    "DELETE FROM ix_ref WHERE pid = ?1 AND tid = ?2 AND ttype = ?3 AND url = ?4 AND rid = ?5",
    "DELETE FROM ix_uri WHERE pid = ?1 AND uri = ?2 AND rid = ?3",
    "DELETE FROM ix_geo WHERE rowid = (SELECT rowid FROM ix_geo WHERE pid = ?1 AND lat = ?2 AND "
    "lon = ?3 AND rid = ?7 LIMIT 1)",
};

// A compared column's bytes: a tag, then 8 bytes for a number or a length
// and the bytes for a text. Equal keys are equal rows.
void EncodeInt(std::string* out, int64_t v) {
  out->push_back('i');
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}
void EncodeReal(std::string* out, std::optional<double> v) {
  if (!v) {
    out->push_back('n');
    return;
  }
  double d = *v + 0.0;  // -0.0 reads back from SQLite as 0.0
  out->push_back('d');
  out->append(reinterpret_cast<const char*>(&d), sizeof d);
}
void EncodeText(std::string* out, std::string_view v) {
  out->push_back('t');
  uint32_t n = static_cast<uint32_t>(v.size());
  out->append(reinterpret_cast<const char*>(&n), sizeof n);
  out->append(v);
}

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

// The first 8 bytes of `s` as a big-endian integer, zero-padded: two
// strings whose prefixes differ compare as their prefixes do under SQLite's
// BINARY collation (memcmp, then length). Sorting a bulk import's flush
// (~400k rows) by following each row's pointer was ~15% of the writer.
uint64_t PrefixKey(std::string_view s) {
  uint64_t k = 0;
  size_t n = std::min<size_t>(8, s.size());
  for (size_t i = 0; i < n; ++i) k |= uint64_t{static_cast<unsigned char>(s[i])} << (56 - 8 * i);
  return k;
}

// An int64's order as a uint64's.
uint64_t OrderKey(int64_t v) { return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63); }

// A double's order as a uint64's (SQLite sorts NULL first).
uint64_t OrderKey(const std::optional<double>& v) {
  if (!v) return 0;
  uint64_t bits;
  std::memcpy(&bits, &*v, sizeof bits);
  return (bits >> 63) ? ~bits : bits | (uint64_t{1} << 63);
}

}  // namespace

IndexWriter::Position IndexWriter::Now(int64_t rid) const {
  Position p;
  p.rid = rid;
  p.at[0] = strings_.size();
  p.at[1] = tokens_.size();
  p.at[2] = dates_.size();
  p.at[3] = numbers_.size();
  p.at[4] = quantities_.size();
  p.at[5] = references_.size();
  p.at[6] = uris_.size();
  p.kills = kills_.size();
  return p;
}

void IndexWriter::TruncateTo(const Position& p) {
  strings_.resize(p.at[0]);
  tokens_.resize(p.at[1]);
  dates_.resize(p.at[2]);
  numbers_.resize(p.at[3]);
  quantities_.resize(p.at[4]);
  references_.resize(p.at[5]);
  uris_.resize(p.at[6]);
  kills_.resize(p.kills);
}

void IndexWriter::Mark() { marks_.push_back(Now(0)); }

void IndexWriter::RollbackTo() {
  if (!marks_.empty()) TruncateTo(marks_.back());
}

void IndexWriter::Release() {
  if (!marks_.empty()) marks_.pop_back();
}

void IndexWriter::Discard() {
  TruncateTo(Position{});
  marks_.clear();
  queued_.clear();
}

// Each table's rows are sorted by (parameter, the first bytes of the value,
// resource), which is the order of its primary key (or, for the rowid
// tables, of its value index) up to ties in those first bytes, then
// inserted. The order is only for locality: a chunk's rows land on
// neighbouring B-tree pages. Breaking ties by resource rather than by the
// rest of the value keeps the sort within the queue's own array; following
// each tied row's pointer (a gender, a phonetic code, a postcode area) was
// a cache miss per comparison on a bulk import's flush.
Status IndexWriter::Flush() {
  static const ChunkedInsert kString("ix_string (pid, norm, exact, rid)", 4);
  static const ChunkedInsert kToken(
      "ix_token (pid, system, code, text, type_system, type_code, rid)", 7);
  static const ChunkedInsert kDate("ix_date (pid, lo, hi, rid)", 4);
  static const ChunkedInsert kNumber("ix_number (pid, val, lo, hi, rid)", 5);
  static const ChunkedInsert kQuantity("ix_quantity (pid, system, code, unit, val, lo, hi, rid)",
                                       8);
  static const ChunkedInsert kRef("ix_ref (pid, ttype, tid, url, rid)", 5);
  static const ChunkedInsert kUri("ix_uri (pid, uri, rid)", 3);
  // Superseded rows: for each resource, the queue positions before which
  // its rows are dead (the last Replace that superseded them).
  std::unordered_map<int64_t, const Position*> dead;
  for (const Position& k : kills_) dead[k.rid] = &k;
  Status st = Status::Ok();
  int queue = 0;
  auto less = [](const auto& a, const auto& b) {
    if (a.pid != b.pid) return a.pid < b.pid;
    if (a.key != b.key) return a.key < b.key;
    return a.rid < b.rid;
  };
  auto drop_dead = [&](auto& rows, int q) {
    if (dead.empty()) return;
    size_t kept = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      auto it = dead.find(rows[i].rid);
      if (it != dead.end() && i < it->second->at[q]) continue;
      rows[kept++] = rows[i];
    }
    rows.resize(kept);
  };
  auto run = [&](auto& rows, const ChunkedInsert& insert, auto bind) {
    int q = queue++;
    if (!st.ok() || rows.empty()) return;
    drop_dead(rows, q);
    std::sort(rows.begin(), rows.end(), less);
    st = insert.Run(db_, rows, bind);
  };
  // Deferred: the rows sorted in full key order (ties in the first bytes
  // follow the pointers now) and stored as one run. `fields` fills a row's
  // primary-key columns (index_runs.h).
  auto defer = [&](auto& rows, RunTable table, auto fields) {
    int q = queue++;
    if (!st.ok() || rows.empty()) return;
    drop_dead(rows, q);
    if (rows.empty()) return;
    std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
      if (a.pid != b.pid) return a.pid < b.pid;
      if (a.key != b.key) return a.key < b.key;
      RunField fa[kMaxRunFields], fb[kMaxRunFields];
      fields(a, fa);
      fields(b, fb);
      return CompareRunRows(table, fa, fb) < 0;
    });
    run_.clear();
    RunField f[kMaxRunFields];
    for (const auto& r : rows) {
      fields(r, f);
      EncodeRunRow(table, f, &run_);
    }
    st = StoreRun(db_, table, static_cast<int64_t>(rows.size()), run_);
  };
  if (defer_) {
    defer(strings_, kRunString, [](const auto& q, RunField* f) {
      f[0].i = q.pid;
      f[1].s = q.row->normalized;
      f[2].s = q.row->exact;
      f[3].i = q.rid;
    });
    defer(tokens_, kRunToken, [](const auto& q, RunField* f) {
      f[0].i = q.pid;
      f[1].s = q.row->code;
      f[2].s = q.row->system;
      f[3].i = q.rid;
      f[4].s = q.row->text;
      f[5].s = q.row->type_system;
      f[6].s = q.row->type_code;
    });
    defer(dates_, kRunDate, [](const auto& q, RunField* f) {
      f[0].i = q.pid;
      f[1].i = q.row->low_ms;
      f[2].i = q.row->high_ms;
      f[3].i = q.rid;
    });
    queue = 5;  // numbers and quantities are inserted below
    defer(references_, kRunRef, [](const auto& q, RunField* f) {
      f[0].i = q.pid;
      f[1].s = q.row->target_id;
      f[2].s = q.row->target_type;
      f[3].s = q.row->url;
      f[4].i = q.rid;
    });
    defer(uris_, kRunUri, [](const auto& q, RunField* f) {
      f[0].i = q.pid;
      f[1].s = q.row->uri;
      f[2].i = q.rid;
    });
    queue = 0;  // the inserts below find these queues empty
    strings_.clear();
    tokens_.clear();
    dates_.clear();
    references_.clear();
    uris_.clear();
  }
  run(strings_, kString,
      [](Stmt* s, int i, const auto& q) {
        s->Bind(i, q.pid);
        s->Bind(i + 1, q.row->normalized);
        s->Bind(i + 2, q.row->exact);
        s->Bind(i + 3, q.rid);
      });
  run(tokens_, kToken,
      [](Stmt* s, int i, const auto& q) {
        s->Bind(i, q.pid);
        s->Bind(i + 1, q.row->system);
        s->Bind(i + 2, q.row->code);
        s->Bind(i + 3, q.row->text);
        s->Bind(i + 4, q.row->type_system);
        s->Bind(i + 5, q.row->type_code);
        s->Bind(i + 6, q.rid);
      });
  run(dates_, kDate,
      [](Stmt* s, int i, const auto& q) {
        s->Bind(i, q.pid);
        s->Bind(i + 1, q.row->low_ms);
        s->Bind(i + 2, q.row->high_ms);
        s->Bind(i + 3, q.rid);
      });
  run(numbers_, kNumber,
      [](Stmt* s, int i, const auto& q) {
        s->Bind(i, q.pid);
        BindOpt(s, i + 1, q.row->value);
        s->BindDouble(i + 2, q.row->low);
        s->BindDouble(i + 3, q.row->high);
        s->Bind(i + 4, q.rid);
      });
  run(quantities_, kQuantity,
      [](Stmt* s, int i, const auto& q) {
        s->Bind(i, q.pid);
        s->Bind(i + 1, q.row->system);
        s->Bind(i + 2, q.row->code);
        s->Bind(i + 3, q.row->unit);
        BindOpt(s, i + 4, q.row->value);
        s->BindDouble(i + 5, q.row->low);
        s->BindDouble(i + 6, q.row->high);
        s->Bind(i + 7, q.rid);
      });
  run(references_, kRef,
      [](Stmt* s, int i, const auto& q) {
        s->Bind(i, q.pid);
        s->Bind(i + 1, q.row->target_type);
        s->Bind(i + 2, q.row->target_id);
        s->Bind(i + 3, q.row->url);
        s->Bind(i + 4, q.rid);
      });
  run(uris_, kUri,
      [](Stmt* s, int i, const auto& q) {
        s->Bind(i, q.pid);
        s->Bind(i + 1, q.row->uri);
        s->Bind(i + 2, q.rid);
      });
  Discard();
  return st;
}

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

namespace {

// A row's compared bytes (Encode*), from its fields: pid, then the columns
// in the order Replace compared them before the blobs (references: type
// before id).
void KeyOf(int table, const OwnField* f, std::string* out) {
  out->clear();
  EncodeInt(out, f[0].i);
  const char* kinds = OwnKinds(static_cast<OwnTable>(table));
  auto put = [&](int i) {
    switch (kinds[i]) {
      case 'i': EncodeInt(out, f[i].i); break;
      case 't': EncodeText(out, f[i].s); break;
      default:
        EncodeReal(out, f[i].kind == OwnField::kNull ? std::nullopt : std::optional(f[i].d));
    }
  };
  if (table == kOwnRef) {
    put(2);  // ttype
    put(1);  // tid
    put(3);
    return;
  }
  for (int i = 1; kinds[i] != '\0'; ++i) put(i);
}

void BindField(Stmt* s, int i, const OwnField& f) {
  switch (f.kind) {
    case OwnField::kInt: s->Bind(i, f.i); break;
    case OwnField::kReal: s->BindDouble(i, f.d); break;
    case OwnField::kNull: s->BindNull(i); break;
    case OwnField::kText: s->Bind(i, f.s); break;
  }
}

}  // namespace

Status IndexWriter::LoadOwn(int64_t rid, bool repair) {
  for (auto& rows : stored_) rows.clear();
  for (auto& keys : stored_keys_) keys.clear();
  stored_blob_.clear();
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare("SELECT rows FROM ix_own WHERE rid = ?1"));
  s->Bind(1, rid);
  CRS_ASSIGN_OR_RETURN(bool row, s->Step());
  if (row) stored_blob_ = std::string(s->Blob(0));
  s->Reset();
  bool ok = ForEachOwnRow(stored_blob_, [&](OwnTable t, const OwnField* f) {
    Stored& r = stored_[t].emplace_back();
    std::copy(f, f + kMaxOwnFields, r.fields);
  });
  if (!ok && repair) {
    // A reindex writes the blob again: the rows it lists up to the damage
    // are deleted below, and the rest can no longer be found.
    return Status::Ok();
  }
  if (!ok) {
    return Status::Internal("the index rows of resource " + std::to_string(rid) +
                            " (ix_own) do not decode");
  }
  return Status::Ok();
}

void IndexWriter::IndexStored(int table) {
  // Keys by value, so that a resource with thousands of rows (a large
  // CodeSystem) is not compared row by row.
  auto& index = stored_keys_[table];
  index.clear();
  for (size_t i = 0; i < stored_[table].size(); ++i) {
    Stored& r = stored_[table][i];
    KeyOf(table, r.fields, &r.key);
  }
  for (size_t i = 0; i < stored_[table].size(); ++i) index.emplace(stored_[table][i].key, i);
}

bool IndexWriter::Keep(int table, const std::string& key) {
  auto& index = stored_keys_[table];
  auto it = index.find(key);
  if (it == index.end()) return false;
  stored_[table][it->second].kept = true;
  index.erase(it);  // a second equal new row finds the next equal stored row, if any
  return true;
}

Status IndexWriter::DeleteUnkept(int table, int64_t rid) {
  const int n = static_cast<int>(std::strlen(OwnKinds(static_cast<OwnTable>(table))));
  for (const Stored& r : stored_[table]) {
    if (r.kept) continue;
    CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(kRemove[table]));
    for (int i = 0; i < n; ++i) BindField(s, i + 1, r.fields[i]);
    s->Bind(n + 1, rid);
    CRS_RETURN_IF_ERROR(StepDone(s));
  }
  stored_keys_[table].clear();  // before the keys it points into
  stored_[table].clear();
  return Status::Ok();
}

Status IndexWriter::Replace(int64_t rid, std::string_view type, const ix::IndexEntries* e,
                            bool had_rows, bool rebuild) {
  // An update keeps the value-table rows that stay (see the header); a
  // delete, or a deferred writer, drops them all. So does a second write of
  // a resource in one group: its blob then lists rows still queued, which
  // the kill below drops from the queue, so none may count as kept.
  const bool diff = had_rows && e != nullptr && !defer_ && !rebuild && !queued_.contains(rid);
  (void)own_.Finish();  // rows left by a Replace that failed
  if (had_rows) {
    // Rows of this resource still queued by an earlier write of the group
    // are superseded; its stored rows go now (or, when diffing, those of
    // the value tables that the new rows do not repeat, below).
    kills_.push_back(Now(rid));
    if (defer_) CRS_RETURN_IF_ERROR(KillRunRows(db_, rid));
    for (const char* sql : kDeletes) {
      CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(sql));
      s->Bind(1, rid);
      CRS_RETURN_IF_ERROR(StepDone(s));
    }
    CRS_RETURN_IF_ERROR(LoadOwn(rid, /*repair=*/rebuild));
    for (int t = 0; t < kOwnTables; ++t) {
      if (diff && t != kOwnGeo) {
        IndexStored(t);
      } else {
        CRS_RETURN_IF_ERROR(DeleteUnkept(t, rid));
      }
    }
  }
  if (!e) {
    if (had_rows && !stored_blob_.empty()) return DeleteOwn(rid);
    return Status::Ok();
  }
  type = e->resource_type;  // the registry's copy: a stable address for the pid cache
  queued_.insert(rid);
  OwnField f[kMaxOwnFields];
  for (auto& seen : seen_) seen.clear();
  // Adds the row in f to the blob and queues it unless a stored row equals
  // it. A row equal to an earlier one of the resource is dropped from the
  // tables with a primary key (which would hold it once): the blob lists
  // each of their rows once, or an update keeping one copy would delete
  // the row for the other. The rowid tables hold every copy.
  auto queue = [&](int table, auto& q, uint64_t key, const auto& row) {
    const bool keyed = table != kOwnNumber && table != kOwnQuantity;
    if (diff || keyed) KeyOf(table, f, &key_);
    if (keyed && !seen_[table].insert(key_).second) return;
    own_.Add(static_cast<OwnTable>(table), f);
    if (diff && Keep(table, key_)) return;
    q.push_back({f[0].i, rid, key, &row});
  };
  auto real = [](const std::optional<double>& v) {
    return v ? OwnField::Real(*v) : OwnField::Null();
  };
  for (const auto& r : e->strings) {
    if (sql::Covered(type, *e, r)) continue;
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    f[0] = OwnField::Int(pid);
    f[1] = OwnField::Text(r.normalized);
    f[2] = OwnField::Text(r.exact);
    queue(kOwnString, strings_, PrefixKey(r.normalized), r);
  }
  for (const auto& r : e->tokens) {
    if (Skipped(r.param) || sql::Covered(type, *e, r)) continue;
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    f[0] = OwnField::Int(pid);
    f[1] = OwnField::Text(r.code);
    f[2] = OwnField::Text(r.system);
    f[3] = OwnField::Text(r.text);
    f[4] = OwnField::Text(r.type_system);
    f[5] = OwnField::Text(r.type_code);
    queue(kOwnToken, tokens_, PrefixKey(r.code), r);
  }
  for (const auto& r : e->dates) {
    if (Skipped(r.param)) continue;
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    f[0] = OwnField::Int(pid);
    f[1] = OwnField::Int(r.low_ms);
    f[2] = OwnField::Int(r.high_ms);
    queue(kOwnDate, dates_, OrderKey(r.low_ms), r);
  }
  for (const auto& r : e->numbers) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    f[0] = OwnField::Int(pid);
    f[1] = real(r.value);
    f[2] = OwnField::Real(r.low);
    f[3] = OwnField::Real(r.high);
    queue(kOwnNumber, numbers_, OrderKey(r.value), r);
  }
  for (const auto& r : e->quantities) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    f[0] = OwnField::Int(pid);
    f[1] = OwnField::Text(r.system);
    f[2] = OwnField::Text(r.code);
    f[3] = OwnField::Text(r.unit);
    f[4] = real(r.value);
    f[5] = OwnField::Real(r.low);
    f[6] = OwnField::Real(r.high);
    queue(kOwnQuantity, quantities_, OrderKey(r.value), r);
  }
  for (const auto& r : e->references) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    f[0] = OwnField::Int(pid);
    f[1] = OwnField::Text(r.target_id);
    f[2] = OwnField::Text(r.target_type);
    f[3] = OwnField::Text(r.url);
    queue(kOwnRef, references_, PrefixKey(r.target_id), r);
  }
  for (const auto& r : e->uris) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    f[0] = OwnField::Int(pid);
    f[1] = OwnField::Text(r.uri);
    queue(kOwnUri, uris_, PrefixKey(r.uri), r);
  }
  if (diff) {
    for (int t = 0; t < kOwnGeo; ++t) CRS_RETURN_IF_ERROR(DeleteUnkept(t, rid));
  }
  // Composite, position and full-text rows are few per resource and keyed
  // by rid first: inserted at once.
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
    f[0] = OwnField::Int(pid);
    f[1] = OwnField::Real(r.latitude);
    f[2] = OwnField::Real(r.longitude);
    f[3] = OwnField::Real(u.x);
    f[4] = OwnField::Real(u.y);
    f[5] = OwnField::Real(u.z);
    own_.Add(kOwnGeo, f);
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
  return WriteOwn(rid, had_rows);
}

// The new blob, unless it is the stored one (an update that changes no
// index row writes nothing here).
Status IndexWriter::WriteOwn(int64_t rid, bool had_rows) {
  std::string blob = own_.Finish();
  if (had_rows && blob == stored_blob_ && !blob.empty()) return Status::Ok();
  if (blob.empty()) return had_rows ? DeleteOwn(rid) : Status::Ok();
  CRS_ASSIGN_OR_RETURN(Stmt * s,
                       db_.Prepare("INSERT OR REPLACE INTO ix_own (rid, rows) VALUES (?1, ?2)"));
  s->Bind(1, rid);
  s->BindBlob(2, blob);
  return StepDone(s);
}

Status IndexWriter::DeleteOwn(int64_t rid) {
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare("DELETE FROM ix_own WHERE rid = ?1"));
  s->Bind(1, rid);
  return StepDone(s);
}

}  // namespace crs::store::sqlite

namespace crs::store::sqlite {

Status BuildOwnRows(Db& db) {
  // One cursor per value table in rid order, merged: each resource's rows
  // become its blob, appended in rid order.
  Stmt* src[kOwnTables];
  bool more[kOwnTables];
  for (int t = 0; t < kOwnTables; ++t) {
    std::string sql = "SELECT rid";
    const char* const* columns = OwnColumns(static_cast<OwnTable>(t));
    for (size_t c = 0; c < std::strlen(OwnKinds(static_cast<OwnTable>(t))); ++c) {
      sql += std::string(", ") + columns[c];
    }
    sql += std::string(" FROM ") + OwnTableName(static_cast<OwnTable>(t)) + " ORDER BY rid";
    CRS_ASSIGN_OR_RETURN(src[t], db.PrepareDynamic(sql));
    CRS_ASSIGN_OR_RETURN(more[t], src[t]->Step());
  }
  CRS_ASSIGN_OR_RETURN(Stmt * ins, db.Prepare("INSERT INTO ix_own (rid, rows) VALUES (?1, ?2)"));
  OwnRowsBuilder own;
  OwnField f[kMaxOwnFields];
  Status st = Status::Ok();
  for (;;) {
    int64_t rid = 0;
    bool any = false;
    for (int t = 0; t < kOwnTables; ++t) {
      if (more[t] && (!any || src[t]->Int(0) < rid)) rid = src[t]->Int(0);
      any = any || more[t];
    }
    if (!any) break;
    for (int t = 0; t < kOwnTables && st.ok(); ++t) {
      const char* kinds = OwnKinds(static_cast<OwnTable>(t));
      while (more[t] && src[t]->Int(0) == rid) {
        for (int i = 0; kinds[i] != '\0'; ++i) {
          const Stmt& s = *src[t];
          switch (kinds[i]) {
            case 'i': f[i] = OwnField::Int(s.Int(i + 1)); break;
            case 't': f[i] = OwnField::Text(s.Text(i + 1)); break;
            case 'd': f[i] = OwnField::Real(s.Double(i + 1)); break;
            default:
              f[i] = s.IsNull(i + 1) ? OwnField::Null() : OwnField::Real(s.Double(i + 1));
          }
        }
        own.Add(static_cast<OwnTable>(t), f);
        auto next = src[t]->Step();
        if (!next.ok()) {
          st = next.status();
          break;
        }
        more[t] = *next;
      }
    }
    if (!st.ok()) break;
    ins->Bind(1, rid);
    std::string blob = own.Finish();
    ins->BindBlob(2, blob);
    st = StepDone(ins);
    if (!st.ok()) break;
  }
  for (Stmt* s : src) s->Reset();
  return st;
}

}  // namespace crs::store::sqlite
