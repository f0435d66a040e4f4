#include "store/sqlite/index_writer.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "fhir/index/geo.h"
#include "store/sql/composite_rows.h"
#include "store/sql/covered_rows.h"
#include "store/sqlite/chunked_insert.h"
#include "store/sqlite/index_runs.h"

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

// The seven value tables in queue order: the columns an update compares (a
// resource's rows are those of `rid`), in the order Replace encodes a new
// row's key,
// and how a row that goes is deleted (`?1` the rid, then the columns; or
// by rowid for the tables without a primary key). Kinds: 'i' integer,
// 't' text, 'd' real, 'D' real or NULL.
struct ValueTable {
  const char* select;
  const char* kinds;
  const char* remove;
  bool by_rowid;
};
constexpr ValueTable kValueTables[] = {
    {"SELECT pid, norm, exact FROM ix_string WHERE rid = ?1", "itt",
     "DELETE FROM ix_string WHERE rid = ?1 AND pid = ?2 AND norm = ?3 AND exact = ?4", false},
    {"SELECT pid, code, system, text, type_system, type_code FROM ix_token WHERE rid = ?1",
     "ittttt",
     "DELETE FROM ix_token WHERE rid = ?1 AND pid = ?2 AND code = ?3 AND system = ?4 AND "
     "text = ?5 AND type_system = ?6 AND type_code = ?7",
     false},
    {"SELECT pid, lo, hi FROM ix_date WHERE rid = ?1", "iii",
     "DELETE FROM ix_date WHERE rid = ?1 AND pid = ?2 AND lo = ?3 AND hi = ?4", false},
    {"SELECT pid, val, lo, hi, rowid FROM ix_number WHERE rid = ?1", "iDdd",
     "DELETE FROM ix_number WHERE rowid = ?1", true},
    {"SELECT pid, system, code, unit, val, lo, hi, rowid FROM ix_quantity WHERE rid = ?1",
     "itttDdd", "DELETE FROM ix_quantity WHERE rowid = ?1", true},
    {"SELECT pid, ttype, tid, url FROM ix_ref WHERE rid = ?1", "ittt",
     "DELETE FROM ix_ref WHERE rid = ?1 AND pid = ?2 AND ttype = ?3 AND tid = ?4 AND url = ?5",
     false},
    {"SELECT pid, uri FROM ix_uri WHERE rid = ?1", "it",
     "DELETE FROM ix_uri WHERE rid = ?1 AND pid = ?2 AND uri = ?3", false},
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

Status IndexWriter::LoadStored(int table, int64_t rid) {
  const ValueTable& t = kValueTables[table];
  std::vector<Stored>& rows = stored_[table];
  rows.clear();
  CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(t.select));
  s->Bind(1, rid);
  CRS_RETURN_IF_ERROR(EachRow(s, [&](const Stmt& row) {
    Stored& r = rows.emplace_back();
    int col = 0;
    for (const char* k = t.kinds; *k != '\0'; ++k, ++col) {
      switch (*k) {
        case 'i':
          EncodeInt(&r.key, row.Int(col));
          break;
        case 't':
          EncodeText(&r.key, row.Text(col));
          break;
        case 'd':
          EncodeReal(&r.key, row.Double(col));
          break;
        default:  // 'D'
          EncodeReal(&r.key, row.IsNull(col) ? std::nullopt : std::optional(row.Double(col)));
      }
    }
    if (t.by_rowid) r.rowid = row.Int(col);
  }));
  // Keys by value, so that a resource with thousands of rows (a large
  // CodeSystem) is not compared row by row.
  auto& index = stored_keys_[table];
  index.clear();
  for (size_t i = 0; i < rows.size(); ++i) index.emplace(rows[i].key, i);
  return Status::Ok();
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
  const ValueTable& t = kValueTables[table];
  for (const Stored& r : stored_[table]) {
    if (r.kept) continue;
    CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(t.remove));
    if (t.by_rowid) {
      s->Bind(1, r.rowid);
    } else {
      s->Bind(1, rid);
      // The key's fields in column order: integers and texts only here.
      std::string_view k = r.key;
      for (int i = 2; !k.empty(); ++i) {
        char tag = k[0];
        k.remove_prefix(1);
        if (tag == 'i') {
          int64_t v;
          std::memcpy(&v, k.data(), sizeof v);
          s->Bind(i, v);
          k.remove_prefix(sizeof v);
        } else {
          uint32_t n;
          std::memcpy(&n, k.data(), sizeof n);
          k.remove_prefix(sizeof n);
          s->Bind(i, k.substr(0, n));
          k.remove_prefix(n);
        }
      }
    }
    CRS_RETURN_IF_ERROR(StepDone(s));
  }
  stored_keys_[table].clear();  // before the keys it points into
  stored_[table].clear();
  return Status::Ok();
}

Status IndexWriter::Replace(int64_t rid, std::string_view type, const ix::IndexEntries* e,
                            bool had_rows) {
  // An update keeps the value-table rows that stay (see the header); a
  // delete, or a deferred writer, drops them all.
  const bool diff = had_rows && e != nullptr && !defer_;
  if (had_rows) {
    // Rows of this resource still queued by an earlier write of the group
    // are superseded; its stored rows go now (or, when diffing, those of
    // the value tables that the new rows do not repeat, below).
    kills_.push_back(Now(rid));
    if (defer_) CRS_RETURN_IF_ERROR(KillRunRows(db_, rid));
    for (size_t i = 0; i < std::size(kDeletes); ++i) {
      if (diff && i < std::size(kValueTables)) {
        CRS_RETURN_IF_ERROR(LoadStored(static_cast<int>(i), rid));
        continue;
      }
      CRS_ASSIGN_OR_RETURN(Stmt * s, db_.Prepare(kDeletes[i]));
      s->Bind(1, rid);
      CRS_RETURN_IF_ERROR(StepDone(s));
    }
  }
  if (!e) return Status::Ok();
  type = e->resource_type;  // the registry's copy: a stable address for the pid cache
  // Queues `row` unless a stored row equals it (`encode` writes its key).
  auto queue = [&](int table, auto& q, int64_t pid, uint64_t key, const auto& row, auto encode) {
    if (diff) {
      key_.clear();
      EncodeInt(&key_, pid);
      encode(row);
      if (Keep(table, key_)) return;
    }
    q.push_back({pid, rid, key, &row});
  };
  for (const auto& r : e->strings) {
    if (sql::Covered(type, *e, r)) continue;
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    queue(0, strings_, pid, PrefixKey(r.normalized), r, [&](const ix::StringRow& x) {
      EncodeText(&key_, x.normalized);
      EncodeText(&key_, x.exact);
    });
  }
  for (const auto& r : e->tokens) {
    if (Skipped(r.param) || sql::Covered(type, *e, r)) continue;
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    queue(1, tokens_, pid, PrefixKey(r.code), r, [&](const ix::TokenRow& x) {
      EncodeText(&key_, x.code);
      EncodeText(&key_, x.system);
      EncodeText(&key_, x.text);
      EncodeText(&key_, x.type_system);
      EncodeText(&key_, x.type_code);
    });
  }
  for (const auto& r : e->dates) {
    if (Skipped(r.param)) continue;
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    queue(2, dates_, pid, OrderKey(r.low_ms), r, [&](const ix::DateRow& x) {
      EncodeInt(&key_, x.low_ms);
      EncodeInt(&key_, x.high_ms);
    });
  }
  for (const auto& r : e->numbers) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    queue(3, numbers_, pid, OrderKey(r.value), r, [&](const ix::NumberRow& x) {
      EncodeReal(&key_, x.value);
      EncodeReal(&key_, x.low);
      EncodeReal(&key_, x.high);
    });
  }
  for (const auto& r : e->quantities) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    queue(4, quantities_, pid, OrderKey(r.value), r, [&](const ix::QuantityRow& x) {
      EncodeText(&key_, x.system);
      EncodeText(&key_, x.code);
      EncodeText(&key_, x.unit);
      EncodeReal(&key_, x.value);
      EncodeReal(&key_, x.low);
      EncodeReal(&key_, x.high);
    });
  }
  for (const auto& r : e->references) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    queue(5, references_, pid, PrefixKey(r.target_id), r, [&](const ix::ReferenceRow& x) {
      EncodeText(&key_, x.target_type);
      EncodeText(&key_, x.target_id);
      EncodeText(&key_, x.url);
    });
  }
  for (const auto& r : e->uris) {
    CRS_ASSIGN_OR_RETURN(int64_t pid, Pid(type, r.param));
    queue(6, uris_, pid, PrefixKey(r.uri), r,
          [&](const ix::UriRow& x) { EncodeText(&key_, x.uri); });
  }
  if (diff) {
    for (int t = 0; t < static_cast<int>(std::size(kValueTables)); ++t) {
      CRS_RETURN_IF_ERROR(DeleteUnkept(t, rid));
    }
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
