// What the SQL backends (store/sqlite/, store/postgres/) differ in when the
// shared builders in store/sql/ write a query: placeholders, a substring
// function, where NULLs sort. Everything else about search SQL is shared, so
// the FHIR search semantics exist once.
//
// Thread safety: plain values; ArgList is used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace crs::store::sql {

struct Dialect {
  // Placeholders are this character followed by the 1-based position:
  // '?' for SQLite (?1), '$' for PostgreSQL ($1).
  char placeholder = '?';
  // instr(haystack, needle) > 0 in SQLite, strpos(haystack, needle) > 0 in PostgreSQL.
  const char* find_fn = "instr";
  // Appended to a prefix p, an upper bound of every text starting with p in
  // the backend's byte-wise ordering ("\xff" in SQLite BLOB/BINARY order;
  // U+10FFFF for PostgreSQL, whose text must be valid UTF-8).
  std::string_view prefix_end = "\xff";
  // True when ascending ORDER BY puts NULLs last (PostgreSQL); false when a
  // sentinel text must stand in for "no value" (SQLite sorts NULLs first).
  bool nulls_last = false;
  // 0 when text columns are indexed whole (SQLite). Otherwise the indexes on
  // text a client writes (search values, uris, references) hold only
  // left(column, index_key_chars): PostgreSQL's btree refuses an entry over
  // ~2.7 KB (store/postgres/schema.h, migration 3), and conditions on those
  // columns are written against that expression (TextEq, TextPrefix) so the
  // index serves them.
  int index_key_chars = 0;
  // Full-text conditions (sql/fulltext_sql.h): an FTS5 table matched with
  // MATCH (SQLite, false), or tsvector columns matched with @@ (PostgreSQL).
  bool tsvector = false;
  // Where a resource's own index rows are read by rid: its blob in
  // `ix_own` through the crs_ix_* table-valued functions (SQLite,
  // store/sqlite/own_rows.h: the value tables have no (rid, pid) index), or
  // the value table itself through its (rid, pid) index (PostgreSQL).
  bool own_rows = false;
};

inline constexpr Dialect kSqlite = [] {
  Dialect d;
  d.own_rows = true;
  return d;
}();
// 256 characters are at most 1 KB in UTF-8: two such keys and the bigints
// stay under the btree limit.
inline constexpr Dialect kPostgres{'$', "strpos", "\xf4\x8f\xbf\xbf", true, 256, true, false};

using SqlArg = std::variant<int64_t, double, std::string>;

struct CompiledSql {
  std::string sql;
  std::vector<SqlArg> args;  // bound to placeholders 1, 2, ... in order
};

// Collects bound values and hands out their placeholders.
class ArgList {
 public:
  explicit ArgList(const Dialect& dialect) : dialect_(dialect) {}
  std::string Add(SqlArg v) {
    values_.push_back(std::move(v));
    return dialect_.placeholder + std::to_string(values_.size());
  }
  size_t size() const { return values_.size(); }
  std::vector<SqlArg> Take() { return std::move(values_); }
  const Dialect& dialect() const { return dialect_; }

 private:
  const Dialect& dialect_;
  std::vector<SqlArg> values_;
};

// The rows (alias x, the value table's columns but rid) of value table
// `table` ("ix_token", ...) that belong to the resources whose rid passes
// `rid_test` ("= d.rid", "IN (?1, ?2)"): a FROM list and the start of its
// WHERE clause, to be followed by " AND ..." conditions on x.
//   "ix_token x WHERE x.rid = d.rid"
//   "ix_own o, crs_ix_token(o.rows) x WHERE o.rid = d.rid"   (own_rows)
std::string OwnRowsFrom(const std::string& table, const std::string& rid_test, const Dialect& d);

// The rows (alias x, the value table's columns but rid) of value table
// `table` ("ix_token", ...) that belong to the resources whose rid passes
// `rid_test` ("= d.rid", "IN (?1, ?2)"): a FROM list and the start of its
// WHERE clause, to be followed by " AND ..." conditions on x.
//   "ix_token x WHERE x.rid = d.rid"
//   "ix_own o, crs_ix_token(o.rows) x WHERE o.rid = d.rid"   (own_rows)
std::string OwnRowsFrom(const std::string& table, const std::string& rid_test, const Dialect& d);

// Text column `col` as its index holds it: `col`, or "left(col, N)".
std::string IndexKey(const std::string& col, const Dialect& d);

// "col equals v", in a form the column's index serves: on a bounded key,
// the key against v's first N characters, and the whole column as well only
// when v is long enough for the key to be ambiguous.
std::string TextEq(const std::string& col, const std::string& v, ArgList& args);

// "col starts with p" as a range (Dialect::prefix_end), likewise.
std::string TextPrefix(const std::string& col, const std::string& p, ArgList& args);

}  // namespace crs::store::sql
