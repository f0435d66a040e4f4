#include "store/sqlite/audit_pblk.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace crs::store::sqlite {

void EncodeBlock(const PatientEntry* const* entries, size_t n, std::string* out) {
  char num[24];
  for (size_t i = 0; i < n; ++i) {
    const PatientEntry& e = *entries[i];
    auto len = std::to_chars(num, num + sizeof num, e.patient.size());
    out->append(num, len.ptr);
    out->push_back(':');
    out->append(e.patient);
    auto seq = std::to_chars(num, num + sizeof num, e.seq);
    out->append(num, seq.ptr);
    out->push_back(';');
  }
}

Status DecodeBlock(std::string_view block, std::vector<PatientEntry>* out) {
  const size_t start = out->size();
  const char* p = block.data();
  const char* end = p + block.size();
  auto bad = [&] {
    out->resize(start);
    return Status::Internal("audit patient index: a block does not parse");
  };
  while (p < end) {
    size_t len = 0;
    auto l = std::from_chars(p, end, len);
    if (l.ec != std::errc() || l.ptr == end || *l.ptr != ':') return bad();
    p = l.ptr + 1;
    if (static_cast<size_t>(end - p) < len) return bad();
    PatientEntry e;
    e.patient.assign(p, len);
    p += len;
    auto s = std::from_chars(p, end, e.seq);
    if (s.ec != std::errc() || s.ptr == end || *s.ptr != ';') return bad();
    p = s.ptr + 1;
    out->push_back(std::move(e));
  }
  if (!std::is_sorted(out->begin() + static_cast<std::ptrdiff_t>(start), out->end(), EntryLess)) {
    std::sort(out->begin() + static_cast<std::ptrdiff_t>(start), out->end(), EntryLess);
  }
  return Status::Ok();
}

namespace {

// The live runs' blocks from the first that can hold (patient, seq >= lo).
constexpr const char* kLiveRuns = "SELECT run FROM audit_run WHERE state = 1";
constexpr const char* kBlocksFrom =
    "SELECT last_patient, entries FROM audit_pblk WHERE run = ?1 "
    "AND (last_patient, last_seq) >= (?2, ?3) ORDER BY last_patient, last_seq";
constexpr const char* kAllBlocks =
    "SELECT b.entries FROM audit_run r JOIN audit_pblk b ON b.run = r.run WHERE r.state = 1";

// idxNum bits: which constraints xFilter's arguments carry, in this order,
// and the order the rows come out in.
enum : int {
  kPatientEq = 1,
  kSeqEq = 2,
  kSeqLt = 4,
  kSeqLe = 8,
  kSeqGt = 16,
  kSeqGe = 32,
  kDescending = 64,  // with kPatientEq: rows by seq, newest first (else oldest first)
};
constexpr int kArgBits[] = {kPatientEq, kSeqEq, kSeqLt, kSeqLe, kSeqGt, kSeqGe};

struct RawStmt {
  sqlite3_stmt* s = nullptr;
  ~RawStmt() { sqlite3_finalize(s); }
};

struct Table : sqlite3_vtab {
  sqlite3* db = nullptr;
};

struct Cursor : sqlite3_vtab_cursor {
  bool by_patient = false;
  std::string patient;
  int64_t lo = INT64_MIN, hi = INT64_MAX;  // seq bounds, inclusive
  std::vector<PatientEntry> rows;          // by_patient: all of them; else the block's
  size_t at = 0;
  RawStmt blocks;  // the full scan's block statement
  bool eof = true;
};

int Fail(sqlite3_vtab* tab, int rc, const char* what) {
  sqlite3_free(tab->zErrMsg);
  tab->zErrMsg = sqlite3_mprintf("audit_patient: %s", what);
  return rc;
}

int Prepare(sqlite3* db, const char* sql, RawStmt* out) {
  return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &out->s, nullptr);
}

int Connect(sqlite3* db, void*, int, const char* const*, sqlite3_vtab** out, char**) {
  int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(patient TEXT, seq INTEGER)");
  if (rc != SQLITE_OK) return rc;
  auto* t = new Table();
  t->db = db;
  *out = t;
  return SQLITE_OK;
}

int Disconnect(sqlite3_vtab* tab) {
  delete static_cast<Table*>(tab);
  return SQLITE_OK;
}

int BestIndex(sqlite3_vtab*, sqlite3_index_info* info) {
  int slot[6] = {-1, -1, -1, -1, -1, -1};
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (!c.usable) continue;
    int which = -1;
    if (c.iColumn == 0 && c.op == SQLITE_INDEX_CONSTRAINT_EQ) which = 0;
    if (c.iColumn == 1) {
      switch (c.op) {
        case SQLITE_INDEX_CONSTRAINT_EQ:
          which = 1;
          break;
        case SQLITE_INDEX_CONSTRAINT_LT:
          which = 2;
          break;
        case SQLITE_INDEX_CONSTRAINT_LE:
          which = 3;
          break;
        case SQLITE_INDEX_CONSTRAINT_GT:
          which = 4;
          break;
        case SQLITE_INDEX_CONSTRAINT_GE:
          which = 5;
          break;
        default:
          break;
      }
    }
    if (which >= 0 && slot[which] < 0) slot[which] = i;
  }
  int idx = 0, arg = 0;
  for (int b = 0; b < 6; ++b) {
    if (slot[b] < 0) continue;
    idx |= kArgBits[b];
    info->aConstraintUsage[slot[b]].argvIndex = ++arg;
    info->aConstraintUsage[slot[b]].omit = 1;
  }
  if (idx & kPatientEq) {
    info->estimatedCost = (idx & kSeqEq) ? 20 : 100;
    info->estimatedRows = (idx & kSeqEq) ? 1 : 100;
    if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == 1) {
      info->orderByConsumed = 1;
      if (info->aOrderBy[0].desc) idx |= kDescending;
    }
  } else {
    info->estimatedCost = 1e12;
    info->estimatedRows = 1000000000;
  }
  info->idxNum = idx;
  return SQLITE_OK;
}

int OpenCursor(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  *out = new Cursor();
  return SQLITE_OK;
}

int CloseCursor(sqlite3_vtab_cursor* cur) {
  delete static_cast<Cursor*>(cur);
  return SQLITE_OK;
}

// The full scan's next block with a row in the seq bounds; eof after the last.
int NextBlock(Cursor* c) {
  auto* tab = c->pVtab;
  while (true) {
    int rc = sqlite3_step(c->blocks.s);
    if (rc == SQLITE_DONE) {
      c->eof = true;
      return SQLITE_OK;
    }
    if (rc != SQLITE_ROW) return Fail(tab, rc, "reading blocks");
    std::string_view block(static_cast<const char*>(sqlite3_column_blob(c->blocks.s, 0)),
                           static_cast<size_t>(sqlite3_column_bytes(c->blocks.s, 0)));
    c->rows.clear();
    if (!DecodeBlock(block, &c->rows).ok()) return Fail(tab, SQLITE_CORRUPT, "a bad block");
    std::erase_if(c->rows, [c](const PatientEntry& e) { return e.seq < c->lo || e.seq > c->hi; });
    c->at = 0;
    if (!c->rows.empty()) return SQLITE_OK;
  }
}

// Every entry of c->patient in the seq bounds, from each live run.
int CollectPatient(Cursor* c, sqlite3* db, bool one) {
  auto* tab = c->pVtab;
  RawStmt runs, blocks;
  if (Prepare(db, kLiveRuns, &runs) != SQLITE_OK ||
      Prepare(db, kBlocksFrom, &blocks) != SQLITE_OK) {
    return Fail(tab, SQLITE_ERROR, sqlite3_errmsg(db));
  }
  std::vector<PatientEntry> decoded;
  int rc;
  while ((rc = sqlite3_step(runs.s)) == SQLITE_ROW) {
    sqlite3_bind_int64(blocks.s, 1, sqlite3_column_int64(runs.s, 0));
    sqlite3_bind_text(blocks.s, 2, c->patient.data(), static_cast<int>(c->patient.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(blocks.s, 3, c->lo);
    while ((rc = sqlite3_step(blocks.s)) == SQLITE_ROW) {
      std::string_view block(static_cast<const char*>(sqlite3_column_blob(blocks.s, 1)),
                             static_cast<size_t>(sqlite3_column_bytes(blocks.s, 1)));
      decoded.clear();
      if (!DecodeBlock(block, &decoded).ok()) {
        sqlite3_reset(blocks.s);
        return Fail(tab, SQLITE_CORRUPT, "a bad block");
      }
      bool past = false;  // an entry after the patient's last: no later block has any
      for (PatientEntry& e : decoded) {
        if (e.patient == c->patient) {
          if (e.seq > c->hi)
            past = true;
          else if (e.seq >= c->lo)
            c->rows.push_back(std::move(e));
        } else if (e.patient > c->patient) {
          past = true;
        }
      }
      if (past || one) break;
    }
    sqlite3_reset(blocks.s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Fail(tab, rc, "reading blocks");
  }
  if (rc != SQLITE_DONE) return Fail(tab, rc, "reading runs");
  return SQLITE_OK;
}

int Filter(sqlite3_vtab_cursor* cur, int idx, const char*, int argc, sqlite3_value** argv) {
  auto* c = static_cast<Cursor*>(cur);
  auto* tab = static_cast<Table*>(cur->pVtab);
  c->rows.clear();
  c->at = 0;
  c->eof = false;
  c->lo = INT64_MIN;
  c->hi = INT64_MAX;
  c->by_patient = (idx & kPatientEq) != 0;
  int arg = 0;
  bool none = false;  // a bound that no row can meet (NULL, text, out of range)
  for (int bit : kArgBits) {
    if (!(idx & bit) || arg >= argc) continue;
    sqlite3_value* v = argv[arg++];
    if (bit == kPatientEq) {
      // TEXT affinity: a number compares as its text; a blob equals no text.
      int type = sqlite3_value_type(v);
      if (type == SQLITE_NULL || type == SQLITE_BLOB) none = true;
      const unsigned char* text = sqlite3_value_text(v);
      c->patient.assign(text ? reinterpret_cast<const char*>(text) : "",
                        static_cast<size_t>(sqlite3_value_bytes(v)));
      continue;
    }
    // INTEGER affinity: text that reads as a number is that number; other
    // text and blobs sort after every integer.
    int type = sqlite3_value_numeric_type(v);
    if (type == SQLITE_NULL) none = true;
    if (type != SQLITE_INTEGER && type != SQLITE_FLOAT) {
      if (bit != kSeqLt && bit != kSeqLe) none = true;
      continue;
    }
    double d = sqlite3_value_double(v);
    int64_t n = sqlite3_value_int64(v);
    bool whole = type == SQLITE_INTEGER || static_cast<double>(n) == d;
    switch (bit) {
      case kSeqEq:
        if (!whole) none = true;
        c->lo = std::max(c->lo, n);
        c->hi = std::min(c->hi, n);
        break;
      case kSeqLt:
        c->hi = std::min(c->hi, whole ? n - 1 : n);
        break;
      case kSeqLe:
        c->hi = std::min(c->hi, n);
        break;
      case kSeqGt:
        c->lo = std::max(c->lo, n + 1);
        break;
      case kSeqGe:
        c->lo = std::max(c->lo, whole ? n : n + 1);
        break;
      default:
        break;
    }
  }
  if (none || c->lo > c->hi) {
    c->eof = true;
    return SQLITE_OK;
  }
  if (c->by_patient) {
    int rc = CollectPatient(c, tab->db, (idx & kSeqEq) != 0);
    if (rc != SQLITE_OK) return rc;
    if (idx & kDescending) {
      std::sort(c->rows.begin(), c->rows.end(),
                [](const PatientEntry& a, const PatientEntry& b) { return a.seq > b.seq; });
    } else {
      std::sort(c->rows.begin(), c->rows.end(),
                [](const PatientEntry& a, const PatientEntry& b) { return a.seq < b.seq; });
    }
    c->eof = c->rows.empty();
    return SQLITE_OK;
  }
  if (c->blocks.s == nullptr && Prepare(tab->db, kAllBlocks, &c->blocks) != SQLITE_OK) {
    return Fail(tab, SQLITE_ERROR, sqlite3_errmsg(tab->db));
  }
  sqlite3_reset(c->blocks.s);
  return NextBlock(c);
}

int Next(sqlite3_vtab_cursor* cur) {
  auto* c = static_cast<Cursor*>(cur);
  if (++c->at < c->rows.size()) return SQLITE_OK;
  if (c->by_patient) {
    c->eof = true;
    return SQLITE_OK;
  }
  return NextBlock(c);
}

int Eof(sqlite3_vtab_cursor* cur) { return static_cast<Cursor*>(cur)->eof ? 1 : 0; }

int Column(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int col) {
  auto* c = static_cast<Cursor*>(cur);
  const PatientEntry& e = c->rows[c->at];
  if (col == 0) {
    sqlite3_result_text(ctx, e.patient.data(), static_cast<int>(e.patient.size()),
                        SQLITE_TRANSIENT);
  } else {
    sqlite3_result_int64(ctx, e.seq);
  }
  return SQLITE_OK;
}

int Rowid(sqlite3_vtab_cursor* cur, sqlite3_int64* rowid) {
  auto* c = static_cast<Cursor*>(cur);
  *rowid = c->rows[c->at].seq;
  return SQLITE_OK;
}

sqlite3_module MakeModule() {
  sqlite3_module m{};
  m.iVersion = 0;
  m.xCreate = nullptr;  // eponymous only: no CREATE VIRTUAL TABLE
  m.xConnect = Connect;
  m.xBestIndex = BestIndex;
  m.xDisconnect = Disconnect;
  m.xDestroy = Disconnect;
  m.xOpen = OpenCursor;
  m.xClose = CloseCursor;
  m.xFilter = Filter;
  m.xNext = Next;
  m.xEof = Eof;
  m.xColumn = Column;
  m.xRowid = Rowid;
  return m;
}

const sqlite3_module kModule = MakeModule();

}  // namespace

int RegisterAuditPatientTable(sqlite3* db) {
  return sqlite3_create_module_v2(db, "audit_patient", &kModule, nullptr, nullptr);
}

}  // namespace crs::store::sqlite
