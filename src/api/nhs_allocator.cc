#include "api/nhs_allocator.h"

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

Result<std::string> NhsNumberAllocator::Next() {
  // Skips are rare (numbers written by others); a long run of them means
  // something fills the range from elsewhere, and the caller should hear.
  constexpr int kMaxSkips = 100000;
  for (int skipped = 0; skipped < kMaxSkips; ++skipped) {
    CRS_ASSIGN_OR_RETURN(uint64_t serial, NextSerial());
    CRS_ASSIGN_OR_RETURN(std::string number, nhs::NhsNumberFromSerial(serial, range_));
    auto existing = store_.Read("Patient", number);
    if (!existing.ok() && existing.status().code() == Code::kNotFound) return number;
    if (!existing.ok()) return existing.status();
  }
  return Status::Unavailable("no free NHS number found in the configured range");
}

}  // namespace crs::api
