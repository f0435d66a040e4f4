// Writes a resource's search-index rows (fhir/index/index_entries.h) into the
// ix_* tables, replacing its previous rows. Used only by the writer thread,
// inside the transaction that stores the version.
//
// Each resource's rows are also kept together, as one blob in `ix_own`
// (store/sqlite/own_rows.h): what needs a resource's rows by rid reads that,
// and the value tables need no (rid, pid) index.
//
// An update (new rows for a resource that had rows) does not delete and
// re-insert the rows that stay: Replace reads the resource's stored rows
// from its blob, queues only the new rows not among them and deletes only
// the stored rows not among the new ones (by value: the tables' keys). A PUT that changes one element
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
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/status.h"
#include "fhir/index/index_entries.h"
#include "store/sqlite/db.h"
#include "store/sqlite/own_rows.h"

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
  // `rebuild`: keep no stored row as unchanged (crs reindex: the tables
  // may have lost rows the blob lists).
  Status Replace(int64_t rid, std::string_view type, const fhir::index::IndexEntries* entries,
                 bool had_rows, bool rebuild = false);

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

  // A resource's stored row in one of the value tables (OwnTable order),
  // from its blob, read before an update so that rows it keeps are left
  // alone (Replace).
  struct Stored {
    OwnField fields[kMaxOwnFields];  // views into stored_blob_
    std::string key;                 // Encode*()s of the columns compared
    bool kept = false;
  };
  // Reads `rid`'s blob into stored_blob_ and its rows into stored_. A blob
  // that does not decode is an error, unless `repair` (its rows up to the
  // damage are then read).
  Status LoadOwn(int64_t rid, bool repair);
  // Builds stored_[table]'s keys and their index.
  void IndexStored(int table);
  // True when a stored row of `table` equals the new row `key` and is not
  // yet kept by another new row: it is kept and nothing is queued.
  bool Keep(int table, const std::string& key);
  // Deletes the stored rows of `table` not kept, and forgets them.
  Status DeleteUnkept(int table, int64_t rid);
  Status WriteOwn(int64_t rid, bool had_rows);
  Status DeleteOwn(int64_t rid);

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
  std::string stored_blob_;  // the blob of the resource being replaced
  std::vector<Stored> stored_[kOwnTables];
  // stored_'s keys (views into them) to their positions, not yet kept.
  std::unordered_multimap<std::string_view, size_t> stored_keys_[kOwnTables];
  OwnRowsBuilder own_;  // the new blob
  // The keys of the new rows of the keyed tables so far (Replace).
  std::unordered_set<std::string> seen_[kOwnTables];
  // Resources with rows queued since the last Flush (or Discard).
  std::unordered_set<int64_t> queued_;
  std::string key_;  // a new row's key being encoded (reused)
  std::vector<Position> kills_;  // superseded rows, in queue order
  std::vector<Position> marks_;  // one per open savepoint
};

// Writes every resource's blob in `ix_own` (empty) from the value tables'
// rows: an upgrade from schema version 13, and a copy from PostgreSQL. In
// the caller's transaction.
Status BuildOwnRows(Db& db);

}  // namespace crs::store::sqlite
