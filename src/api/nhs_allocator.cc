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

Status NhsNumberAllocator::CheckBlock(Block* block) {
  // Until the query answers, the block's numbers are read one by one (a
  // failed check leaves it so, and the next call checks again).
  block->taken.clear();
  block->checked = false;
  block->checked_ms = 0;
  auto lo = nhs::NhsNumberFromSerial(static_cast<uint64_t>(block->next), range_);
  if (!lo.ok()) {  // past the range: Next says so
    block->checked = true;
    block->checked_ms = NowMs();
    return Status::Ok();
  }
  // The block's last number inside the range.
  std::string hi;
  for (int64_t s = block->end - 1; s >= block->next && hi.empty(); --s) {
    auto n = nhs::NhsNumberFromSerial(static_cast<uint64_t>(s), range_);
    if (n.ok()) hi = *n;
  }
  // At most end - next valid numbers lie in [lo, hi]; more ids than that
  // means ids that are not numbers of the range (none a create would make):
  // then this block falls back to a read per number.
  const int limit = static_cast<int>(block->end - block->next) + 1;
  const int64_t now = NowMs();
  CRS_ASSIGN_OR_RETURN(std::vector<std::string> ids, store_.IdsBetween("Patient", *lo, hi, limit));
  block->checked_ms = now;
  if (static_cast<int>(ids.size()) >= limit) return Status::Ok();
  for (const std::string& id : ids) {
    uint64_t number = 0;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), number);
    if (ec != std::errc() || end != id.data() + id.size()) continue;
    auto serial = nhs::SerialOfNhsNumber(number, range_);
    if (serial.ok()) block->taken.push_back(*serial);
  }
  std::sort(block->taken.begin(), block->taken.end());
  block->checked = true;
  return Status::Ok();
}

Result<NhsNumberAllocator::Block> NhsNumberAllocator::ReserveBlock() {
  CRS_ASSIGN_OR_RETURN(int64_t first, store_.ReserveSequence(sequence_, block_));
  Block block;
  block.next = first;
  block.end = first + block_;
  // A failed check is not the reservation's failure: the block's numbers
  // are then read one by one.
  (void)CheckBlock(&block);
  return block;
}

void NhsNumberAllocator::AwaitRefill() {
  std::lock_guard<std::mutex> lock(refill_mu_);
  if (refill_.valid()) refill_.wait();
}

void NhsNumberAllocator::Refill() {
  auto block = ReserveBlock();
  std::lock_guard<std::mutex> lock(mu_);
  refilling_ = false;
  // A failed reservation leaves no spare: the call that empties the current
  // block then reserves itself and reports the store's error.
  if (block.ok() && !spare_) spare_ = std::move(*block);
}

Result<uint64_t> NhsNumberAllocator::NextSerial(Check* check) {
  uint64_t serial = 0;
  bool refill = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (current_.next == current_.end) {
      if (spare_) {
        current_ = std::move(*spare_);
        spare_.reset();
      } else {
        // Nothing reserved ahead (the first call, or the spare is late):
        // reserve here, holding the lock, since every caller needs a block.
        CRS_ASSIGN_OR_RETURN(current_, ReserveBlock());
      }
    }
    if (NowMs() - current_.checked_ms >= recheck_ms_) {
      (void)CheckBlock(&current_);  // the block's rest, again (or a failed check)
    }
    serial = static_cast<uint64_t>(current_.next++);
    if (!current_.checked) {
      *check = Check::kUnknown;
    } else {
      *check = std::binary_search(current_.taken.begin(), current_.taken.end(), serial)
                   ? Check::kTaken
                   : Check::kFree;
    }
    if (!spare_ && !refilling_ && current_.end - current_.next <= block_ / 2) {
      refilling_ = true;
      refill = true;
    }
  }
  if (refill) {
    // On a thread of its own: the caller may be an I/O thread (a create
    // that runs inline), which must not wait for the reservation's commit.
    std::lock_guard<std::mutex> lock(refill_mu_);
    refill_ = std::async(std::launch::async, [this] { Refill(); });
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
  if (current_.next >= target) return Status::Ok();
  if (current_.end >= target) {  // within the current block
    current_.next = target;
    return Status::Ok();
  }
  current_.next = current_.end;  // the rest of the current block lies below `target`
  int64_t reserved_to = current_.end;
  if (spare_) {
    if (spare_->end >= target) {  // within the spare
      spare_->next = std::max(spare_->next, target);
      return Status::Ok();
    }
    reserved_to = spare_->end;
    spare_.reset();  // all of it below `target`
  }
  // The counter stands at reserved_to or above (other processes reserve
  // too, and so may a refill under way, whose block's check then finds its
  // numbers taken): a reservation of target - reserved_to values ends at
  // `target` or above, where the next block starts.
  CRS_ASSIGN_OR_RETURN(int64_t first, store_.ReserveSequence(sequence_, target - reserved_to));
  (void)first;
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
