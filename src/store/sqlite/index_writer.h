// Writes a resource's search-index rows (fhir/index/index_entries.h) into the
// ix_* tables, replacing its previous rows. Used only by the writer thread,
// inside the transaction that stores the version.
//
// Thread safety: not thread-safe; owned by the SQLite store's writer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/status.h"
#include "fhir/index/index_entries.h"
#include "store/sqlite/db.h"

namespace crs::store::sqlite {

class IndexWriter {
 public:
  explicit IndexWriter(Db& db) : db_(db) {}

  // Deletes every row of resource `rid` (when `had_rows`: a new resource has
  // none, which saves the lookups), then inserts `entries` (null: none).
  Status Replace(int64_t rid, std::string_view type, const fhir::index::IndexEntries* entries,
                 bool had_rows);

  // Drops cached parameter ids; call when a transaction that may have
  // created some is rolled back.
  void ForgetCache() { pids_.clear(); }

 private:
  Result<int64_t> Pid(std::string_view type, std::string_view code);

  Db& db_;
  struct PairHash {
    size_t operator()(const std::pair<const char*, const char*>& p) const {
      return std::hash<const void*>()(p.first) * 31 + std::hash<const void*>()(p.second);
    }
  };
  // Keyed by the addresses of the type and code strings, which IndexEntries
  // takes from the process-wide registry (stable for the process).
  std::unordered_map<std::pair<const char*, const char*>, int64_t, PairHash> pids_;
};

}  // namespace crs::store::sqlite
