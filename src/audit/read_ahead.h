// Reads the audit log ahead on a thread of its own, so that verification
// hashes one batch of records while the store reads the next: both halves
// cost CPU (the B-tree walk and SHA-256), and on two cores they overlap.
// Records are copied once into a reused arena per batch (no allocation per
// record); a few batches circulate between the two threads.
//
// Thread safety: one consumer thread calls Next(); the reader thread is
// internal. The store must be safe to read from another thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace crs::audit {

class AuditReadAhead {
 public:
  struct Batch {
    // Views into `bytes`: valid until the next call to Next().
    std::vector<store::AuditRowView> rows;
    // The log ended after these rows (as of the snapshot that read them);
    // Next() must not be called again.
    bool end = false;

   private:
    friend class AuditReadAhead;
    struct Place {
      size_t offset, record_size, hash_size;  // the record, then its hash
    };
    std::string bytes;          // records and hashes back to back
    std::vector<Place> places;  // per row, while the batch is being filled
  };

  // Starts reading records with seq > after_seq, `snapshot_rows` per call
  // of Store::ScanAuditRows (so no read snapshot stays open for long).
  AuditReadAhead(store::Store& store, int64_t after_seq, int64_t snapshot_rows);
  // Stops the reader (it may be blocked waiting for a free batch) and joins it.
  ~AuditReadAhead();
  AuditReadAhead(const AuditReadAhead&) = delete;
  AuditReadAhead& operator=(const AuditReadAhead&) = delete;

  // The next batch, oldest records first; the store's error if it could
  // not be read. The batch stays valid until the next call.
  Result<const Batch*> Next();

 private:
  // A batch is handed over at this many rows or bytes, whichever comes
  // first: small enough to stay in cache, large enough that the hand-over
  // is rare.
  static constexpr size_t kBatchRows = 1024;
  static constexpr size_t kBatchBytes = 1 << 20;
  static constexpr int kBatches = 3;  // one being read, one being hashed, one spare

  void ReadLoop(int64_t after_seq, int64_t snapshot_rows);
  void Add(const store::AuditRowView& row);
  // Hands the filled batch to the consumer and, unless `end`, takes a free
  // one; false when the consumer has gone.
  bool Publish(bool end);

  store::Store& store_;
  Batch batches_[kBatches];
  Batch* filling_ = nullptr;  // owned by the reader thread

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch*> ready_;    // GUARDED_BY(mu_): filled, oldest first
  std::deque<Batch*> free_;     // GUARDED_BY(mu_)
  Batch* consuming_ = nullptr;  // GUARDED_BY(mu_): returned by the last Next()
  Status error_;                // GUARDED_BY(mu_): the reader failed
  bool failed_ = false;         // GUARDED_BY(mu_)
  bool stop_ = false;           // GUARDED_BY(mu_): the consumer has gone

  std::thread reader_;  // last: starts after the members it uses exist
};

}  // namespace crs::audit
