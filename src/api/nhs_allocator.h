// Allocation of new NHS numbers for Patients created without one (POST).
//
// Numbers come from a configured range (nhs::NhsNumberRange) in serial order
// (nhs::NhsNumberFromSerial). The serial is a store counter
// (Store::ReserveSequence), reserved in blocks so that most allocations cost
// no write: a block is never handed out twice, by this process or another
// node sharing the store, so no number is ever issued twice. A number that
// already names a Patient (written by another node, an import or a PUT) is
// skipped. Each block is checked with one index query (Store::IdsBetween)
// when it is reserved, and again for its unused rest once the check is
// older than kRecheckMs, instead of one store read per number: that read
// was ~5% of a create's CPU (bench/RESULTS.md). A number taken between the
// check and the create's commit makes that commit a Conflict, which the
// caller retries with a new number (api/fhir_handler.cc, CommitOne). On
// the first collision of a call the counter moves to the
// first free number after it, found by walking the taken numbers in index
// order (Store::IdsBetween, 1,000 per query), so that a population imported
// into the range (crs gen and crs import use the test range too) costs a
// few queries once, not one read per number per create. Numbers of a block
// left unused when the process stops are never issued; the range is large.
// The next block is reserved and checked ahead, on a thread started by the
// call that finds the current one half used, so that no caller waits on the
// reservation's commit: when they did, every create of a busy node stalled
// once per block (bench/RESULTS.md, session 15), and a create running on an
// I/O thread would stall that thread's other connections.
//
// Thread safety: Next() may be called from any thread.
#pragma once

#include <cstdint>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "nhs/nhs_number.h"
#include "store/store.h"

namespace crs::api {

class NhsNumberAllocator {
 public:
  static constexpr int64_t kDefaultBlock = 256;
  // A block's check is trusted this long; then its rest is checked again.
  static constexpr int64_t kRecheckMs = 1000;

  // `store` must outlive the allocator. The counter is named after the range,
  // so a node moved to another range starts at that range's beginning.
  NhsNumberAllocator(store::Store& store, nhs::NhsNumberRange range,
                     int64_t block = kDefaultBlock, int64_t recheck_ms = kRecheckMs);

  // A valid NHS number from the range that no Patient (current or deleted)
  // has and that was never handed out before. Unavailable when the range is
  // exhausted; the store's errors as they come.
  Result<std::string> Next();

  // Returns once the reservation ahead that a Next() started, if any, is
  // done (tests; the destructor waits for it too).
  void AwaitRefill();

  // The name of the store counter for `range`.
  static std::string SequenceName(const nhs::NhsNumberRange& range);

 private:
  // What the block's check says of a serial's number.
  enum class Check { kFree, kTaken, kUnknown };
  // A reserved run of serials [next, end) and what its check found.
  struct Block {
    int64_t next = 0;
    int64_t end = 0;
    std::vector<uint64_t> taken;  // sorted; serials of the block found taken
    int64_t checked_ms = 0;       // when the block was last checked
    bool checked = false;         // false: read each number instead
  };
  // The next serial of the reserved block and what its check said.
  Result<uint64_t> NextSerial(Check* check);
  // Reserves the next block of the counter and checks it. Needs no lock.
  Result<Block> ReserveBlock();
  // Fills block->taken with the serials in [next, end) that name a Patient.
  // A store read; `block` is either not shared yet or guarded by mu_.
  Status CheckBlock(Block* block);
  // Reserves and checks the spare block, then offers it (outside mu_).
  void Refill();
  Status SkipTaken(uint64_t serial);

  store::Store& store_;
  const nhs::NhsNumberRange range_;
  const std::string sequence_;
  const int64_t block_;
  const int64_t recheck_ms_;
  std::mutex mu_;
  Block current_;               // GUARDED_BY(mu_): the block numbers come from
  std::optional<Block> spare_;  // GUARDED_BY(mu_): reserved ahead, next in line
  bool refilling_ = false;      // GUARDED_BY(mu_): a call is reserving the spare
  std::mutex walk_mu_;          // held by SkipTaken
  uint64_t walked_to_ = 0;      // GUARDED_BY(mu_): the highest serial a walk reached
  // Last, so that it is destroyed first: its destructor waits for the Refill.
  std::mutex refill_mu_;
  std::future<void> refill_;    // GUARDED_BY(refill_mu_): the last Refill, run apart
};

}  // namespace crs::api
