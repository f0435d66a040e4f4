// Writes a resource's search-index rows (fhir/index/index_entries.h) into the
// ix_* tables, replacing its previous rows. Used only by the writer thread,
// inside the transaction that stores the version.
//
// An update (new rows for a resource that had rows) does not delete and
// re-insert the rows that stay: Replace reads the resource's stored rows of the seven
// value tables, queues only the new rows not among them and deletes only
// the stored rows not among the new ones. A PUT that changes one element
// then rewrites one row, and in a large store each row rewritten at its
// own place dirties its own B-tree page.
//
// Rows are not inserted one statement each: Replace queues them and Flush
// (called once per group commit, just before COMMIT) sorts each table's
// rows by its key and inserts them with multi-row statements. Opening the
// table's cursors, the statement's setup and its halt are then paid once per
// chunk rather than once per row, and neighbouring keys land on the same
// B-tree pages; a group of creates or a bulk import writes a few thousand to
// tens of thousands of rows per flush.
//
// The queue follows the transaction: Mark at each SAVEPOINT, RollbackTo
// drops what was queued after it, Release forgets the mark, Discard drops
// everything (ROLLBACK). A Replace of a resource with rows (an update, a
// delete) deletes its stored rows at once and supersedes its rows still
// queued by earlier writes of the group, undone with the savepoint like the
// rest.
//
// Thread safety: not thread-safe; owned by the SQLite store's writer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.h"
#include "fhir/index/index_entries.h"
#include "store/sqlite/db.h"

namespace crs::store::sqlite {

class IndexWriter {
 public:
  explicit IndexWriter(Db& db) : db_(db) {}

  // Deferred (a bulk import; store/sqlite/index_runs.h): Flush stores the
  // string, token, date, reference and uri rows as sorted runs instead of
  // inserting them, and Replace of a resource with rows also kills its rows
  // in the runs stored before.
  void set_defer(bool defer) { defer_ = defer; }

  // Makes resource `rid`'s rows those of `entries` (null: none): when
  // `had_rows` (a new resource has none, which saves the lookups) deletes
  // its stored rows, or with `entries` and not deferring only those the
  // entries do not repeat (see above), and queues the rest of `entries` for
  // the next Flush. `entries` must stay alive and unchanged until then.
  Status Replace(int64_t rid, std::string_view type, const fhir::index::IndexEntries* entries,
                 bool had_rows);

  // Inserts the queued rows. Must run before the transaction commits and
  // before anything reads the index on this connection; an error fails the
  // whole transaction (the caller rolls it back).
  Status Flush();

  // The queue's savepoints (see above).
  void Mark();
  void RollbackTo();
  void Release();
  void Discard();

  // Drops the cached parameter ids; call when a transaction or savepoint
  // that may have created some is rolled back.
  void ForgetCache() { pids_.clear(); }

 private:
  // A queued row: its parameter and resource, its value's sort key (the
  // first bytes of a string as a big-endian integer, a date's lower bound, a
  // number's order; Flush sorts by pid, key and rid without following
  // `row`), and the row itself.
  template <typename R>
  struct Queued {
    int64_t pid;
    int64_t rid;
    uint64_t key;
    const R* row;
  };
  static constexpr int kQueues = 7;
  // The queue lengths at one moment: a savepoint, or a Replace that
  // superseded `rid`'s earlier queued rows (those before `at`).
  struct Position {
    int64_t rid = 0;
    size_t at[kQueues] = {};
    size_t kills = 0;
  };

  // A resource's stored rows in one of the seven value tables, read before
  // an update so that rows it keeps are left alone (Replace).
  struct Stored {
    std::string key;    // EncodeField()s of the columns compared
    int64_t rowid = 0;  // the rowid tables' (number, quantity) row
    bool kept = false;
  };
  Status LoadStored(int table, int64_t rid);
  // True when a stored row of `table` equals the new row `key` and is not
  // yet kept by another new row: it is kept and nothing is queued.
  bool Keep(int table, const std::string& key);
  Status DeleteUnkept(int table, int64_t rid);

  Result<int64_t> Pid(std::string_view type, std::string_view code);
  Position Now(int64_t rid) const;
  void TruncateTo(const Position& p);

  Db& db_;
  bool defer_ = false;
  std::string run_;  // a run's body being encoded (reused)
  struct PairHash {
    size_t operator()(const std::pair<const char*, const char*>& p) const {
      return std::hash<const void*>()(p.first) * 31 + std::hash<const void*>()(p.second);
    }
  };
  // Keyed by the addresses of the type and code strings, which IndexEntries
  // takes from the process-wide registry (stable for the process).
  std::unordered_map<std::pair<const char*, const char*>, int64_t, PairHash> pids_;

  std::vector<Queued<fhir::index::StringRow>> strings_;
  std::vector<Queued<fhir::index::TokenRow>> tokens_;
  std::vector<Queued<fhir::index::DateRow>> dates_;
  std::vector<Queued<fhir::index::NumberRow>> numbers_;
  std::vector<Queued<fhir::index::QuantityRow>> quantities_;
  std::vector<Queued<fhir::index::ReferenceRow>> references_;
  std::vector<Queued<fhir::index::UriRow>> uris_;
  std::vector<Stored> stored_[kQueues];
  // stored_'s keys (views into them) to their positions, not yet kept.
  std::unordered_multimap<std::string_view, size_t> stored_keys_[kQueues];
  std::string key_;  // a new row's key being encoded (reused)
  std::vector<Position> kills_;  // superseded rows, in queue order
  std::vector<Position> marks_;  // one per open savepoint
};

}  // namespace crs::store::sqlite
