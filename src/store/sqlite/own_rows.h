// A resource's own search-index rows, in one blob per resource (table
// `ix_own`, rid -> rows; docs/search-index.md, "A resource's own rows").
//
// The value tables (ix_string, ix_token, ...) are keyed by value, for
// search. What reads a resource's rows by rid — an update's difference, a
// delete, a search condition checked per candidate, `_sort`, `:missing`,
// `_include` — reads its blob instead of a (rid, pid) index on every value
// table: one row appended per create, rather than a second B-tree entry per
// index row (12-15% of create throughput and a third of the file,
// bench/RESULTS.md, session 24).
//
// The blob holds exactly the rows of the value tables for that rid (after
// store::sql::Covered and the skipped parameters), grouped by table in
// OwnTable order. Format: a version byte (1), then each row as its table's
// OwnTable number (one byte) and its fields in the column order below:
// 'i' a zigzag varint, 't' a varint length and the bytes, 'd' 8 bytes of
// IEEE double little-endian, 'D' a byte 0 (NULL) or 1 and then 8 bytes.
//
// SQL reads a blob through eponymous table-valued functions, one per value
// table, named as the table with a `crs_` prefix and with the table's
// columns except rid:
//
//   crs_ix_string(rows)   pid, norm, exact
//   crs_ix_token(rows)    pid, code, system, text, type_system, type_code
//   crs_ix_date(rows)     pid, lo, hi
//   crs_ix_number(rows)   pid, val, lo, hi            (val may be NULL)
//   crs_ix_quantity(rows) pid, system, code, unit, val, lo, hi
//   crs_ix_ref(rows)      pid, tid, ttype, url
//   crs_ix_uri(rows)      pid, uri
//   crs_ix_geo(rows)      pid, lat, lon, ux, uy, uz
//
// e.g. "EXISTS (SELECT 1 FROM ix_own o, crs_ix_token(o.rows) x
//               WHERE o.rid = d.rid AND x.pid = ?1 AND x.code = ?2)".
// A NULL or empty `rows` yields no rows; a blob that does not decode is an
// error (SQLITE_CORRUPT), never a silent empty answer.
//
// Thread safety: the functions are pure; the virtual tables are registered
// per connection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;

namespace crs::store::sqlite {

enum OwnTable : uint8_t {
  kOwnString = 0,
  kOwnToken,
  kOwnDate,
  kOwnNumber,
  kOwnQuantity,
  kOwnRef,
  kOwnUri,
  kOwnGeo,
  kOwnTables
};

// One field of a row.
struct OwnField {
  enum Kind : uint8_t { kInt, kReal, kNull, kText };
  Kind kind = kInt;
  int64_t i = 0;
  double d = 0;
  std::string_view s;  // into the blob (decoded) or the caller's row (encoded)

  static OwnField Int(int64_t v) { OwnField f; f.kind = kInt; f.i = v; return f; }
  static OwnField Real(double v) { OwnField f; f.kind = kReal; f.d = v; return f; }
  static OwnField Null() { OwnField f; f.kind = kNull; return f; }
  static OwnField Text(std::string_view v) { OwnField f; f.kind = kText; f.s = v; return f; }
};

inline constexpr int kMaxOwnFields = 7;

// The number of fields of a row of `t` (pid included) and their kinds, as
// characters: 'i' integer, 't' text, 'd' real, 'D' real or NULL:
//   string "itt", token "ittttt", date "iii", number "iDdd",
//   quantity "itttDdd", ref "ittt", uri "it", geo "iddddd".
const char* OwnKinds(OwnTable t);

// The SQL column names of `t`'s fields, in order (see above), and the
// table's name ("ix_string", ...).
const char* const* OwnColumns(OwnTable t);
const char* OwnTableName(OwnTable t);

// Builds a blob. Rows may be added in any order; Finish groups them by
// table (stable within a table).
class OwnRowsBuilder {
 public:
  // `fields` has OwnKinds(t)'s length; an 'i' field is kInt, 't' kText,
  // 'd' kReal, 'D' kReal or kNull.
  void Add(OwnTable t, const OwnField* fields);
  // The blob ("" when no row was added); the builder is empty after.
  std::string Finish();
  bool empty() const;

 private:
  std::string parts_[kOwnTables];
  uint64_t counts_[kOwnTables] = {};
};

// Calls each(table, fields) for every row of `blob`, in blob order. Returns
// false (after calling each for the rows before it) when the blob does not
// decode. `fields` point into `blob`.
template <typename F>
bool ForEachOwnRow(std::string_view blob, F&& each);

// Implementation detail of ForEachOwnRow: decodes the row at blob[*at].
// Returns 1 and advances *at, 0 at the end, -1 when malformed.
int NextOwnRow(std::string_view blob, size_t* at, OwnTable* table, OwnField* fields);

template <typename F>
bool ForEachOwnRow(std::string_view blob, F&& each) {
  size_t at = 0;
  OwnTable t;
  OwnField f[kMaxOwnFields];
  for (;;) {
    int r = NextOwnRow(blob, &at, &t, f);
    if (r == 0) return true;
    if (r < 0) return false;
    each(t, static_cast<const OwnField*>(f));
  }
}

// Registers crs_ix_string ... crs_ix_geo on `db`. Returns an SQLite result
// code.
int RegisterOwnRowFunctions(sqlite3* db);

}  // namespace crs::store::sqlite
