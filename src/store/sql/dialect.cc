#include "store/sql/dialect.h"

#include <set>

namespace crs::store::sql {
namespace {

// Characters (code points) in UTF-8 text: the bytes that are not continuation bytes.
size_t Chars(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The first `n` characters of UTF-8 text, as PostgreSQL's left(s, n).
std::string LeftChars(std::string_view s, size_t n) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && chars++ == n) {
      return std::string(s.substr(0, i));
    }
  }
  return std::string(s);
}

}  // namespace

std::string OwnRowsFrom(const std::string& table, const std::string& rid_test, const Dialect& d) {
  static const std::set<std::string> kOwn = {"ix_string", "ix_token", "ix_date", "ix_number",
                                             "ix_quantity", "ix_ref",   "ix_uri",  "ix_geo"};
  if (!d.own_rows || !kOwn.contains(table)) return table + " x WHERE x.rid " + rid_test;
  return "ix_own o, crs_" + table + "(o.rows) x WHERE o.rid " + rid_test;
}

std::string IndexKey(const std::string& col, const Dialect& d) {
  if (d.index_key_chars <= 0) return col;
  return "left(" + col + ", " + std::to_string(d.index_key_chars) + ")";
}

std::string TextEq(const std::string& col, const std::string& v, ArgList& args) {
  const Dialect& d = args.dialect();
  size_t n = static_cast<size_t>(d.index_key_chars);
  // A value shorter than the key equals the key only when it equals the column.
  if (n == 0 || Chars(v) < n) return IndexKey(col, d) + " = " + args.Add(v);
  return IndexKey(col, d) + " = " + args.Add(LeftChars(v, n)) + " AND " + col + " = " +
         args.Add(v);
}

std::string TextPrefix(const std::string& col, const std::string& p, ArgList& args) {
  const Dialect& d = args.dialect();
  size_t n = static_cast<size_t>(d.index_key_chars);
  std::string end = p + std::string(d.prefix_end);
  // A prefix no longer than the key starts the key exactly when it starts the column.
  if (n == 0 || Chars(p) <= n) {
    std::string key = IndexKey(col, d);
    return key + " >= " + args.Add(p) + " AND " + key + " < " + args.Add(std::move(end));
  }
  return IndexKey(col, d) + " = " + args.Add(LeftChars(p, n)) + " AND " + col + " >= " +
         args.Add(p) + " AND " + col + " < " + args.Add(std::move(end));
}

}  // namespace crs::store::sql
