// Deferred search-index rows for a bulk import (StoreOptions::defer_index;
// docs/storage.md, "Index runs").
//
// Inserted as they come, a bulk import's index rows land all over B-trees
// far larger than one transaction: every transaction dirties a page per row
// and writes it to the WAL, and the checkpoint writes it again (306 GB
// written for the 16 GB store of 10,000,000 patients). Deferred, each
// transaction instead stores the rows of the five large tables (string,
// token, date, reference, uri) as one run per table: the rows sorted by the
// table's primary key and encoded into one blob of `ix_runs`, written
// sequentially and committed with the resources they index. MergeRuns
// later merges all of a table's runs in key order into the table in one
// transaction, so each B-tree page is written once; into an empty table it
// also drops the table's secondary indexes first and builds them after,
// from a sort, rather than maintaining them row by row.
//
// A resource written again after its rows were deferred (an update, a
// delete, a purge) gets a kill in `ix_run_kills`: the merge drops its rows
// from the runs stored up to then. Its rows already in the table are
// deleted at once, as without runs.
//
// Until the runs are merged the index is incomplete: only a bulk importer
// may use the store meanwhile; any other opener merges first (SqliteStore).
//
// Thread safety: functions of the writer connection, on the writer thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/sqlite/db.h"

namespace crs::store::sqlite {

// The deferred tables.
enum RunTable : int { kRunString = 0, kRunToken, kRunDate, kRunRef, kRunUri, kRunTables };

// One column of a run row: an integer or a text (a view into the row's
// owner). The columns of a row are those of its table's primary key, in
// key order:
//   string: pid, norm, exact, rid
//   token:  pid, code, system, rid, text, type_system, type_code
//   date:   pid, lo, hi, rid
//   ref:    pid, tid, ttype, url, rid
//   uri:    pid, uri, rid
struct RunField {
  int64_t i = 0;
  std::string_view s;
};
constexpr int kMaxRunFields = 7;

// Compares two rows of `table` as SQLite orders the primary key (integers
// by value, texts as BINARY: memcmp, then length).
int CompareRunRows(RunTable table, const RunField* a, const RunField* b);

// Appends a row of `table` to a run's body.
void EncodeRunRow(RunTable table, const RunField* fields, std::string* out);

// Decodes the row at the start of `in` into `fields`: the bytes it took,
// 0 when `in` ends before the row does, -1 when the bytes are not a row.
int64_t DecodeRunRow(RunTable table, std::string_view in, RunField* fields);

// Stores `body` (`rows` rows, sorted) as a run of `table` in the open
// transaction.
Status StoreRun(Db& db, RunTable table, int64_t rows, std::string_view body);

// Marks the rows of resource `rid` in every run stored so far as dead.
Status KillRunRows(Db& db, int64_t rid);

// Whether any run waits to be merged.
Result<bool> HasRuns(Db& db);

struct MergeProgress {
  std::string_view table;  // "ix_string", ...
  int64_t done = 0;        // rows of this table's runs merged so far
  int64_t total = 0;       // rows in this table's runs
};

// Merges every run into its table (one transaction per table, on `db`,
// which must have no transaction open), then forgets the kills. `schema` is
// the name of the resource file on `db` ("main" or "data"). `progress` is
// called now and then. An interrupted merge loses nothing: the table's
// transaction rolls back and its runs stay for the next.
Status MergeRuns(Db& db, const std::string& schema,
                 const std::function<void(const MergeProgress&)>& progress);

}  // namespace crs::store::sqlite
