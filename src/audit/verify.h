// Verification of a store's audit log (docs/audit.md): recomputes every
// chain hash, checks that seqs run 1, 2, ... without gaps, and checks every
// checkpoint's signature and that its head matches the chain at its seq.
//
// What it catches: a record edited, deleted, inserted or moved (its hash or
// the seq sequence breaks); a chain rewritten with recomputed hashes (the
// signed checkpoints no longer match); records removed from the tail up to
// the last checkpoint (the checkpoint names a seq that is missing).
// What it cannot catch on its own: removing the records after the last
// checkpoint together with any later checkpoints — the log then looks like
// one that stopped earlier. Checkpoints are written every second (and every
// N records) while records flow, when the writer idles and at a clean stop,
// so that window is the last second or so before a crash; the report's
// `uncovered` count and VerifyOptions::max_uncovered make it visible, and an
// externally kept copy of a recent checkpoint closes it.
//
// Thread safety: stateless; safe to run concurrently with appends (it
// checks the prefix that exists when each page is read). It reads the log
// on a second thread (audit/read_ahead.h) while it hashes on the caller's.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace crs::audit {

struct VerifyOptions {
  // Trusted Ed25519 public keys (32 raw bytes each); a checkpoint signed by
  // any other key fails. Empty: checkpoints cannot be trusted, so any
  // checkpoint fails verification.
  std::vector<std::string> public_keys;
  // Fail when more than this many records follow the last checkpoint
  // (-1: only report them).
  int64_t max_uncovered = -1;
  // Records read per scan (one read snapshot each); the scan stops and
  // resumes after this many, so a live store's WAL is not held back long.
  int page_size = 65536;
  // Called after each page with the number of records checked so far.
  std::function<void(int64_t records)> progress;
};

struct VerifyReport {
  bool intact = false;
  int64_t records = 0;              // records whose hash was checked
  int64_t checkpoints = 0;          // checkpoints whose signature was checked
  int64_t last_seq = 0;             // the last record checked
  int64_t last_checkpoint_seq = 0;  // the last good checkpoint
  int64_t uncovered = 0;            // records after the last good checkpoint
  int64_t first_bad_seq = 0;        // 0 when intact: the first record that fails
  std::string reason;               // why it fails; empty when intact
  double seconds = 0;
  double RecordsPerSecond() const { return seconds > 0 ? records / seconds : 0; }
};

// Checks the whole log of `store`. The report says whether it is intact;
// a non-OK Status means the store could not be read (the log's state is
// then unknown).
Result<VerifyReport> VerifyAuditLog(store::Store& store, const VerifyOptions& options);

}  // namespace crs::audit
