// Allocation of new NHS numbers for Patients created without one (POST).
//
// Numbers come from a configured range (nhs::NhsNumberRange) in serial order
// (nhs::NhsNumberFromSerial). The serial is a store counter
// (Store::ReserveSequence), reserved in blocks so that most allocations cost
// no write: a block is never handed out twice, by this process or another
// node sharing the store, so no number is ever issued twice. A number that
// already names a Patient (written by another node, an import or a PUT) is
// skipped; on the first such collision of a call the counter moves to the
// first free number after it, found by walking the taken numbers in index
// order (Store::IdsBetween, 1,000 per query), so that a population imported
// into the range (crs gen and crs import use the test range too) costs a
// few queries once, not one read per number per create. Numbers of a block
// left unused when the process stops are never issued; the range is large.
//
// Thread safety: Next() may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "core/status.h"
#include "nhs/nhs_number.h"
#include "store/store.h"

namespace crs::api {

class NhsNumberAllocator {
 public:
  static constexpr int64_t kDefaultBlock = 64;

  // `store` must outlive the allocator. The counter is named after the range,
  // so a node moved to another range starts at that range's beginning.
  NhsNumberAllocator(store::Store& store, nhs::NhsNumberRange range,
                     int64_t block = kDefaultBlock);

  // A valid NHS number from the range that no Patient (current or deleted)
  // has and that was never handed out before. Unavailable when the range is
  // exhausted; the store's errors as they come.
  Result<std::string> Next();

  // The name of the store counter for `range`.
  static std::string SequenceName(const nhs::NhsNumberRange& range);

 private:
  Result<uint64_t> NextSerial();
  Status SkipTaken(uint64_t serial);

  store::Store& store_;
  const nhs::NhsNumberRange range_;
  const std::string sequence_;
  const int64_t block_;
  std::mutex mu_;
  int64_t next_ = 0;  // GUARDED_BY(mu_): next serial of the reserved block
  int64_t end_ = 0;   // GUARDED_BY(mu_): one past the block's last serial
  std::mutex walk_mu_;       // held by SkipTaken
  uint64_t walked_to_ = 0;   // GUARDED_BY(mu_): the highest serial a walk reached
};

}  // namespace crs::api
