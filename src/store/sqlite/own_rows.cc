#include "store/sqlite/own_rows.h"

#include <sqlite3.h>

#include <cstring>
#include <vector>

namespace crs::store::sqlite {
namespace {

constexpr char kVersion = 1;

constexpr const char* kKinds[kOwnTables] = {"itt", "ittttt", "iii",  "iDdd",
                                            "itttDdd", "ittt", "it", "iddddd"};
constexpr const char* kNames[kOwnTables] = {"ix_string", "ix_token", "ix_date", "ix_number",
                                            "ix_quantity", "ix_ref", "ix_uri", "ix_geo"};
constexpr const char* kString[] = {"pid", "norm", "exact"};
constexpr const char* kToken[] = {"pid", "code", "system", "text", "type_system", "type_code"};
constexpr const char* kDate[] = {"pid", "lo", "hi"};
constexpr const char* kNumber[] = {"pid", "val", "lo", "hi"};
constexpr const char* kQuantity[] = {"pid", "system", "code", "unit", "val", "lo", "hi"};
constexpr const char* kRef[] = {"pid", "tid", "ttype", "url"};
constexpr const char* kUri[] = {"pid", "uri"};
constexpr const char* kGeo[] = {"pid", "lat", "lon", "ux", "uy", "uz"};
constexpr const char* const* kColumns[kOwnTables] = {kString, kToken, kDate, kNumber,
                                                     kQuantity, kRef, kUri, kGeo};

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// 1 read, -1 malformed or past the end.
int GetVarint(std::string_view in, size_t* at, uint64_t* v) {
  uint64_t x = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*at >= in.size()) return -1;
    auto b = static_cast<unsigned char>(in[(*at)++]);
    x |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) {
      *v = x;
      return 1;
    }
  }
  return -1;
}

void PutReal(double d, std::string* out) {
  char b[8];
  std::memcpy(b, &d, 8);  // little-endian hosts only (x86-64, arm64)
  out->append(b, 8);
}

bool GetReal(std::string_view in, size_t* at, double* d) {
  if (in.size() - *at < 8) return false;
  std::memcpy(d, in.data() + *at, 8);
  *at += 8;
  return true;
}

}  // namespace

const char* OwnKinds(OwnTable t) { return kKinds[t]; }
const char* const* OwnColumns(OwnTable t) { return kColumns[t]; }
const char* OwnTableName(OwnTable t) { return kNames[t]; }

void OwnRowsBuilder::Add(OwnTable t, const OwnField* fields) {
  std::string* out = &parts_[t];
  out->push_back(static_cast<char>(t));
  const char* kinds = kKinds[t];
  for (int i = 0; kinds[i] != '\0'; ++i) {
    const OwnField& f = fields[i];
    switch (kinds[i]) {
      case 'i':
        PutVarint((static_cast<uint64_t>(f.i) << 1) ^ (f.i < 0 ? ~uint64_t{0} : 0), out);
        break;
      case 't':
        PutVarint(f.s.size(), out);
        out->append(f.s);
        break;
      case 'd':
        PutReal(f.d, out);
        break;
      default:  // 'D'
        if (f.kind == OwnField::kNull) {
          out->push_back(0);
        } else {
          out->push_back(1);
          PutReal(f.d, out);
        }
    }
  }
  ++counts_[t];
}

bool OwnRowsBuilder::empty() const {
  for (uint64_t n : counts_) {
    if (n > 0) return false;
  }
  return true;
}

std::string OwnRowsBuilder::Finish() {
  std::string blob;
  if (!empty()) {
    size_t n = 1;
    for (const std::string& p : parts_) n += p.size();
    blob.reserve(n);
    blob.push_back(kVersion);
    for (std::string& p : parts_) blob += p;
  }
  for (int t = 0; t < kOwnTables; ++t) {
    parts_[t].clear();
    counts_[t] = 0;
  }
  return blob;
}

int NextOwnRow(std::string_view blob, size_t* at, OwnTable* table, OwnField* fields) {
  if (blob.empty()) return 0;
  if (*at == 0) {
    if (blob[0] != kVersion) return -1;
    *at = 1;
  }
  if (*at >= blob.size()) return 0;
  auto t = static_cast<unsigned char>(blob[(*at)++]);
  if (t >= kOwnTables) return -1;
  *table = static_cast<OwnTable>(t);
  const char* kinds = kKinds[t];
  for (int i = 0; kinds[i] != '\0'; ++i) {
    OwnField& f = fields[i];
    uint64_t v;
    switch (kinds[i]) {
      case 'i':
        if (GetVarint(blob, at, &v) < 0) return -1;
        f = OwnField::Int(static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)));
        break;
      case 't':
        if (GetVarint(blob, at, &v) < 0 || v > blob.size() - *at) return -1;
        f = OwnField::Text(blob.substr(*at, v));
        *at += v;
        break;
      case 'd': {
        double d;
        if (!GetReal(blob, at, &d)) return -1;
        f = OwnField::Real(d);
        break;
      }
      default: {  // 'D'
        if (*at >= blob.size()) return -1;
        char tag = blob[(*at)++];
        if (tag == 0) {
          f = OwnField::Null();
        } else if (tag == 1) {
          double d;
          if (!GetReal(blob, at, &d)) return -1;
          f = OwnField::Real(d);
        } else {
          return -1;
        }
      }
    }
  }
  return 1;
}

// --- The table-valued functions ---------------------------------------------

namespace {

struct Table {
  sqlite3_vtab base;
  OwnTable table;
};

struct Row {
  OwnField f[kMaxOwnFields];
};

struct Cursor {
  sqlite3_vtab_cursor base;
  std::string blob;  // the argument's bytes, which the rows point into
  std::vector<Row> rows;
  size_t at = 0;
};

int Connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char**) {
  auto t = static_cast<OwnTable>(*static_cast<const uint8_t*>(aux));
  std::string decl = "CREATE TABLE x(";
  for (size_t i = 0; kKinds[t][i] != '\0'; ++i) decl += std::string(kColumns[t][i]) + ", ";
  decl += "rows HIDDEN)";
  int rc = sqlite3_declare_vtab(db, decl.c_str());
  if (rc != SQLITE_OK) return rc;
  auto* v = new Table{};
  v->table = t;
  *out = &v->base;
  return SQLITE_OK;
}

int Disconnect(sqlite3_vtab* v) {
  delete reinterpret_cast<Table*>(v);
  return SQLITE_OK;
}

// Usable only with the blob given (an equality on the hidden column): that
// puts the table supplying it first in a join, as with json_each. An
// equality on pid is applied here too (idxNum 1), so a search condition
// sees only the parameter's rows of the resource, not all ~25 of them.
int BestIndex(sqlite3_vtab* v, sqlite3_index_info* info) {
  int rows_col = static_cast<int>(std::strlen(kKinds[reinterpret_cast<Table*>(v)->table]));
  int rows = -1, pid = -1;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (c.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (c.iColumn == rows_col) {
      if (!c.usable) return SQLITE_CONSTRAINT;
      rows = i;
    } else if (c.iColumn == 0 && c.usable && pid < 0) {
      pid = i;
    }
  }
  if (rows < 0) return SQLITE_CONSTRAINT;
  info->aConstraintUsage[rows].argvIndex = 1;
  info->aConstraintUsage[rows].omit = 1;
  info->estimatedCost = 10;
  info->estimatedRows = 20;
  if (pid >= 0) {
    info->aConstraintUsage[pid].argvIndex = 2;
    info->aConstraintUsage[pid].omit = 1;
    info->idxNum = 1;
    info->estimatedCost = 5;
    info->estimatedRows = 2;
  }
  return SQLITE_OK;
}

int Open(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  auto* c = new Cursor();
  *out = &c->base;
  return SQLITE_OK;
}

int Close(sqlite3_vtab_cursor* cur) {
  delete reinterpret_cast<Cursor*>(cur);
  return SQLITE_OK;
}

int Filter(sqlite3_vtab_cursor* cur, int idx, const char*, int argc, sqlite3_value** argv) {
  auto* c = reinterpret_cast<Cursor*>(cur);
  auto* v = reinterpret_cast<Table*>(cur->pVtab);
  c->rows.clear();
  c->at = 0;
  c->blob.clear();
  if (argc < 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) return SQLITE_OK;
  const void* bytes = sqlite3_value_blob(argv[0]);
  int n = sqlite3_value_bytes(argv[0]);
  if (bytes != nullptr && n > 0) c->blob.assign(static_cast<const char*>(bytes), n);
  // pid = NULL, or a number that is not an integer, matches no row.
  const bool by_pid = idx == 1 && argc >= 2;
  int64_t pid = 0;
  if (by_pid) {
    int type = sqlite3_value_numeric_type(argv[1]);
    double d = type == SQLITE_FLOAT ? sqlite3_value_double(argv[1]) : 0;
    if (type == SQLITE_INTEGER) {
      pid = sqlite3_value_int64(argv[1]);
    } else if (type == SQLITE_FLOAT && d >= -9e18 && d <= 9e18 &&
               d == static_cast<double>(static_cast<int64_t>(d))) {
      pid = static_cast<int64_t>(d);
    } else {
      return SQLITE_OK;
    }
  }
  size_t at = 0;
  OwnTable t;
  Row row;
  for (;;) {
    int r = NextOwnRow(c->blob, &at, &t, row.f);
    if (r == 0) break;
    if (r < 0) {
      sqlite3_free(v->base.zErrMsg);
      v->base.zErrMsg = sqlite3_mprintf("the index rows of a resource (ix_own) do not decode");
      c->rows.clear();
      return SQLITE_CORRUPT;
    }
    if (t == v->table && (!by_pid || row.f[0].i == pid)) c->rows.push_back(row);
  }
  return SQLITE_OK;
}

int Next(sqlite3_vtab_cursor* cur) {
  ++reinterpret_cast<Cursor*>(cur)->at;
  return SQLITE_OK;
}

int Eof(sqlite3_vtab_cursor* cur) {
  auto* c = reinterpret_cast<Cursor*>(cur);
  return c->at >= c->rows.size() ? 1 : 0;
}

int Column(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int col) {
  auto* c = reinterpret_cast<Cursor*>(cur);
  auto* v = reinterpret_cast<Table*>(cur->pVtab);
  if (col < 0 || static_cast<size_t>(col) >= std::strlen(kKinds[v->table])) {
    sqlite3_result_null(ctx);  // the hidden argument
    return SQLITE_OK;
  }
  const OwnField& f = c->rows[c->at].f[col];
  switch (f.kind) {
    case OwnField::kInt: sqlite3_result_int64(ctx, f.i); break;
    case OwnField::kReal: sqlite3_result_double(ctx, f.d); break;
    case OwnField::kNull: sqlite3_result_null(ctx); break;
    case OwnField::kText:
      // Copied: SQLite keeps a static text as it is (min() holds on to it),
      // and the cursor's blob changes with the next Filter.
      sqlite3_result_text(ctx, f.s.data(), static_cast<int>(f.s.size()), SQLITE_TRANSIENT);
      break;
  }
  return SQLITE_OK;
}

int Rowid(sqlite3_vtab_cursor* cur, sqlite3_int64* rowid) {
  *rowid = static_cast<sqlite3_int64>(reinterpret_cast<Cursor*>(cur)->at);
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
  m.xOpen = Open;
  m.xClose = Close;
  m.xFilter = Filter;
  m.xNext = Next;
  m.xEof = Eof;
  m.xColumn = Column;
  m.xRowid = Rowid;
  return m;
}

const sqlite3_module kModule = MakeModule();
constexpr uint8_t kTableIds[kOwnTables] = {0, 1, 2, 3, 4, 5, 6, 7};

}  // namespace

int RegisterOwnRowFunctions(sqlite3* db) {
  for (int t = 0; t < kOwnTables; ++t) {
    std::string name = std::string("crs_") + kNames[t];
    int rc = sqlite3_create_module_v2(db, name.c_str(), &kModule,
                                      const_cast<uint8_t*>(&kTableIds[t]), nullptr);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

}  // namespace crs::store::sqlite
