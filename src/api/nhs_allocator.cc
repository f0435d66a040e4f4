#include "api/nhs_allocator.h"

#include <cstdio>
#include <optional>
#include <string>

namespace crs::api {

NhsNumberAllocator::NhsNumberAllocator(store::Store& store, nhs::NhsNumberRange range,
                                       int64_t block)
    : store_(store), range_(range), sequence_(SequenceName(range)), block_(block < 1 ? 1 : block) {}

std::string NhsNumberAllocator::SequenceName(const nhs::NhsNumberRange& range) {
  return "nhs-number:" + std::to_string(range.first) + "-" + std::to_string(range.last);
}

Result<uint64_t> NhsNumberAllocator::NextSerial() {
  std::lock_guard<std::mutex> lock(mu_);
  if (next_ == end_) {
    // Holding the lock across the reservation: the other callers need its
    // block anyway, and one reservation serves the next `block_` of them.
    CRS_ASSIGN_OR_RETURN(int64_t first, store_.ReserveSequence(sequence_, block_));
    next_ = first;
    end_ = first + block_;
  }
  return static_cast<uint64_t>(next_++);
}

// Moves the counter past the greatest number of the range a Patient already
// has: reserving the gap consumes it, so the next block starts above.
Status NhsNumberAllocator::SkipTaken() {
  char lo[16], hi[16];
  std::snprintf(lo, sizeof(lo), "%010llu", static_cast<unsigned long long>(range_.first));
  std::snprintf(hi, sizeof(hi), "%010llu", static_cast<unsigned long long>(range_.last));
  CRS_ASSIGN_OR_RETURN(std::optional<std::string> last, store_.LastIdBetween("Patient", lo, hi));
  if (!last || last->size() != 10) return Status::Ok();
  CRS_ASSIGN_OR_RETURN(uint64_t taken, nhs::SerialOfNhsNumber(std::stoull(*last), range_));
  std::lock_guard<std::mutex> lock(mu_);
  int64_t past = static_cast<int64_t>(taken) + 1;  // the first serial above `last`
  if (next_ >= past) return Status::Ok();
  if (end_ >= past) {  // within the current block
    next_ = past;
    return Status::Ok();
  }
  // The counter stands at end_ or above (other processes reserve too): a
  // reservation of past - end_ values ends at `past` or above, where the
  // next block starts.
  CRS_ASSIGN_OR_RETURN(int64_t first, store_.ReserveSequence(sequence_, past - end_));
  (void)first;
  next_ = end_;  // the rest of the current block lies below `past`
  return Status::Ok();
}

Result<std::string> NhsNumberAllocator::Next() {
  // Skips are rare once the counter has jumped past the numbers an import
  // or a PUT took (SkipTaken, on the first collision); a long run of them
  // means something fills the range from elsewhere, and the caller should
  // hear.
  constexpr int kMaxSkips = 100000;
  bool jumped = false;
  for (int skipped = 0; skipped < kMaxSkips; ++skipped) {
    CRS_ASSIGN_OR_RETURN(uint64_t serial, NextSerial());
    CRS_ASSIGN_OR_RETURN(std::string number, nhs::NhsNumberFromSerial(serial, range_));
    auto existing = store_.Read("Patient", number);
    if (!existing.ok() && existing.status().code() == Code::kNotFound) return number;
    if (!existing.ok()) return existing.status();
    if (!jumped) {
      CRS_RETURN_IF_ERROR(SkipTaken());
      jumped = true;
    }
  }
  return Status::Unavailable("no free NHS number found in the configured range");
}

}  // namespace crs::api
