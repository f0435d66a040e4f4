// Multi-row INSERT statements for the SQLite writer: one statement step per
// row costs more than the B-tree insert itself, so rows go in 64 at a time.
//
// Thread safety: a ChunkedInsert is immutable once built; Run uses the
// caller's connection.
#pragma once

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/sqlite/db.h"

namespace crs::store::sqlite {

// Multi-row INSERT OR IGNORE statements for one table: the same column list
// with 1, 4, 16 or 64 value tuples. The texts live for the process, so the
// statement cache (keyed by the text's address) keeps one statement each.
class ChunkedInsert {
 public:
  static constexpr size_t kSizes[] = {64, 16, 4, 1};

  ChunkedInsert(const char* head, int columns) : columns_(columns) {
    std::string tuple = "(";
    for (int c = 0; c < columns; ++c) tuple += c == 0 ? "?" : ",?";
    tuple += ")";
    for (size_t i = 0; i < std::size(kSizes); ++i) {
      std::string sql = std::string("INSERT OR IGNORE INTO ") + head + " VALUES ";
      for (size_t n = 0; n < kSizes[i]; ++n) sql += (n == 0 ? "" : ",") + tuple;
      sql_[i] = std::move(sql);
    }
  }

  // Inserts rows[0..n) in chunks; bind(stmt, first_parameter, row) binds
  // one row's columns. Rows that point to their values (a `row` member, as
  // IndexWriter's queue) have the next chunk's values prefetched while this
  // one is bound: sorted by value, they lie all over memory, and waiting for
  // each was most of the binding's time on a bulk import's flush (perf).
  template <typename Row, typename BindRow>
  Status Run(Db& db, const std::vector<Row>& rows, BindRow bind) const {
    size_t at = 0;
    Prefetch(rows, 0, kSizes[0]);
    while (at < rows.size()) {
      size_t left = rows.size() - at;
      size_t k = 0;
      while (kSizes[k] > left) ++k;
      Prefetch(rows, at + kSizes[k], kSizes[0]);
      CRS_ASSIGN_OR_RETURN(Stmt * s, db.Prepare(sql_[k].c_str()));
      for (size_t n = 0; n < kSizes[k]; ++n) {
        bind(s, static_cast<int>(n) * columns_ + 1, rows[at + n]);
      }
      auto stepped = s->Step();
      s->Reset();
      if (!stepped.ok()) return stepped.status();
      at += kSizes[k];
    }
    return Status::Ok();
  }

 private:
  template <typename Row>
  static void Prefetch(const std::vector<Row>& rows, size_t from, size_t count) {
    if constexpr (requires(const Row& r) { r.row; }) {
      size_t end = std::min(rows.size(), from + count);
      for (size_t i = from; i < end; ++i) {
        const char* p = reinterpret_cast<const char*>(rows[i].row);
        __builtin_prefetch(p);
        __builtin_prefetch(p + 64);  // a row's strings span two cache lines
      }
    }
  }

  int columns_;
  std::string sql_[std::size(kSizes)];
};

}  // namespace crs::store::sqlite
