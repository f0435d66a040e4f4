#include "api/nhs_allocator.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace crs::api {

NhsNumberAllocator::NhsNumberAllocator(store::Store& store, nhs::NhsNumberRange range,
                                       int64_t block, int64_t recheck_ms)
    : store_(store),
      range_(range),
      sequence_(SequenceName(range)),
      block_(block < 1 ? 1 : block),
      recheck_ms_(recheck_ms) {}

std::string NhsNumberAllocator::SequenceName(const nhs::NhsNumberRange& range) {
  return "nhs-number:" + std::to_string(range.first) + "-" + std::to_string(range.last);
}

namespace {

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Status NhsNumberAllocator::CheckBlock() {
  // Until the query answers, the block's numbers are read one by one (a
  // failed check leaves it so, and the next call checks again).
  taken_.clear();
  block_checked_ = false;
  checked_ms_ = 0;
  auto lo = nhs::NhsNumberFromSerial(static_cast<uint64_t>(next_), range_);
  if (!lo.ok()) {  // past the range: Next says so
    block_checked_ = true;
    checked_ms_ = NowMs();
    return Status::Ok();
  }
  // The block's last number inside the range.
  std::string hi;
  for (int64_t s = end_ - 1; s >= next_ && hi.empty(); --s) {
    auto n = nhs::NhsNumberFromSerial(static_cast<uint64_t>(s), range_);
    if (n.ok()) hi = *n;
  }
  // At most end_ - next_ valid numbers lie in [lo, hi]; more ids than that
  // means ids that are not numbers of the range (none a create would make):
  // then this block falls back to a read per number.
  const int limit = static_cast<int>(end_ - next_) + 1;
  const int64_t now = NowMs();
  CRS_ASSIGN_OR_RETURN(std::vector<std::string> ids, store_.IdsBetween("Patient", *lo, hi, limit));
  checked_ms_ = now;
  if (static_cast<int>(ids.size()) >= limit) return Status::Ok();
  for (const std::string& id : ids) {
    uint64_t number = 0;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), number);
    if (ec != std::errc() || end != id.data() + id.size()) continue;
    auto serial = nhs::SerialOfNhsNumber(number, range_);
    if (serial.ok()) taken_.push_back(*serial);
  }
  std::sort(taken_.begin(), taken_.end());
  block_checked_ = true;
  return Status::Ok();
}

Result<uint64_t> NhsNumberAllocator::NextSerial(Check* check) {
  std::lock_guard<std::mutex> lock(mu_);
  if (next_ == end_) {
    // Holding the lock across the reservation and its check: the other
    // callers need its block anyway, and one reservation serves the next
    // `block_` of them.
    CRS_ASSIGN_OR_RETURN(int64_t first, store_.ReserveSequence(sequence_, block_));
    next_ = first;
    end_ = first + block_;
    CRS_RETURN_IF_ERROR(CheckBlock());
  } else if (NowMs() - checked_ms_ >= recheck_ms_) {
    CRS_RETURN_IF_ERROR(CheckBlock());  // the block's rest, again
  }
  uint64_t serial = static_cast<uint64_t>(next_++);
  if (!block_checked_) {
    *check = Check::kUnknown;
  } else {
    *check = std::binary_search(taken_.begin(), taken_.end(), serial) ? Check::kTaken
                                                                       : Check::kFree;
  }
  return serial;
}

// Moves the counter to the first free number at or after `serial` (taken:
// a Patient has it), walking the taken ones 1,000 per index query rather
// than one read each; reserving the gap consumes it, so the next block
// starts there.
Status NhsNumberAllocator::SkipTaken(uint64_t serial) {
  // One walk at a time: the requests that collided meanwhile find the
  // counter moved already.
  std::lock_guard<std::mutex> walking(walk_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (walked_to_ > serial) return Status::Ok();
  }
  char hi[16];
  std::snprintf(hi, sizeof(hi), "%010llu", static_cast<unsigned long long>(range_.last));
  constexpr int kChunk = 1000;
  // `free` ends at the first free serial, or one past the range's last
  // (every later call then hears at once that the range is exhausted).
  uint64_t free = serial;
  bool exhausted = false;
  while (!exhausted) {
    auto number = nhs::NhsNumberFromSerial(free, range_);
    if (!number.ok()) break;
    CRS_ASSIGN_OR_RETURN(std::vector<std::string> taken,
                         store_.IdsBetween("Patient", *number, hi, kChunk));
    bool found = false;  // *number is free
    for (const std::string& id : taken) {
      if (id < *number) continue;  // not a number of the range (ids sort as text)
      if (id != *number) {
        found = true;
        break;
      }
      auto next = nhs::NhsNumberFromSerial(++free, range_);
      if (!next.ok()) {
        exhausted = true;
        break;
      }
      *number = *next;
    }
    if (found || static_cast<int>(taken.size()) < kChunk) break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  walked_to_ = std::max(walked_to_, free);
  int64_t target = static_cast<int64_t>(free);
  if (next_ >= target) return Status::Ok();
  if (end_ >= target) {  // within the current block
    next_ = target;
    return Status::Ok();
  }
  // The counter stands at end_ or above (other processes reserve too): a
  // reservation of target - end_ values ends at `target` or above, where
  // the next block starts.
  CRS_ASSIGN_OR_RETURN(int64_t first, store_.ReserveSequence(sequence_, target - end_));
  (void)first;
  next_ = end_;  // the rest of the current block lies below `target`
  return Status::Ok();
}

Result<std::string> NhsNumberAllocator::Next() {
  // Skips are rare once the counter has moved past the run of numbers an
  // import or PUTs took (SkipTaken, on the first collision); a long run of
  // them means something fills the range from elsewhere, and the caller
  // should hear.
  constexpr int kMaxSkips = 100000;
  bool jumped = false;
  for (int skipped = 0; skipped < kMaxSkips; ++skipped) {
    Check check = Check::kUnknown;
    CRS_ASSIGN_OR_RETURN(uint64_t serial, NextSerial(&check));
    CRS_ASSIGN_OR_RETURN(std::string number, nhs::NhsNumberFromSerial(serial, range_));
    if (check == Check::kFree) return number;
    if (check == Check::kUnknown) {
      auto existing = store_.Read("Patient", number);
      if (!existing.ok() && existing.status().code() == Code::kNotFound) return number;
      if (!existing.ok()) return existing.status();
    }
    if (!jumped) {
      CRS_RETURN_IF_ERROR(SkipTaken(serial + 1));
      jumped = true;
    }
  }
  return Status::Unavailable("no free NHS number found in the configured range");
}

}  // namespace crs::api
