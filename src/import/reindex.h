// Re-deriving what the store keeps beside each resource (search-index rows,
// access facts, legitimate relationships) from the stored current versions,
// for `crs reindex`: after an upgrade whose extraction rules changed (a new
// index table, phonetic keys, new search parameters), rows of resources
// written before it are missing or stale until each is next written.
//
// Versions are untouched: each resource is rewritten in place through a
// store::Method::kReindex write, which a concurrent write of the same
// resource simply supersedes. Every batch commits with one audit record
// (action `reindex`).
//
// Thread safety: one Reindex() at a time per store.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/time.h"
#include "core/status.h"
#include "store/store.h"

namespace crs::import {

struct ReindexOptions {
  std::vector<std::string> types;  // resource types to reindex; empty: every type
  int batch_size = 1000;           // resources per commit
  std::string run_id;              // prefix of the audit records' request ids
};

struct ReindexProgress {
  int64_t resources = 0;  // current versions re-derived
  int64_t unindexed = 0;  // of which the extraction refused (stored without index rows)
  int64_t batches = 0;
  int64_t last_rid = 0;   // the scan's position
};

// Reindexes every current resource of `options.types`, in storage order.
// `progress` (optional) is called after each committed batch; `stop`
// (optional) ends the run after the batch in hand. A body that no longer
// parses is an error (Internal), naming the resource.
Result<ReindexProgress> Reindex(store::Store& store, const Clock& clock,
                                const ReindexOptions& options,
                                const std::function<void(const ReindexProgress&)>& progress = {},
                                const std::atomic<bool>* stop = nullptr);

}  // namespace crs::import
