#include "audit/read_ahead.h"

#include "core/thread_name.h"

namespace crs::audit {

AuditReadAhead::AuditReadAhead(store::Store& store, int64_t after_seq, int64_t snapshot_rows)
    : store_(store) {
  filling_ = &batches_[0];
  for (int i = 1; i < kBatches; ++i) free_.push_back(&batches_[i]);
  reader_ = std::thread([this, after_seq, snapshot_rows] {
    SetThreadName("crs-audit-read");
    ReadLoop(after_seq, snapshot_rows);
  });
}

AuditReadAhead::~AuditReadAhead() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  reader_.join();
}

Result<const AuditReadAhead::Batch*> AuditReadAhead::Next() {
  std::unique_lock<std::mutex> lock(mu_);
  if (consuming_ != nullptr) {
    free_.push_back(consuming_);
    consuming_ = nullptr;
    cv_.notify_all();
  }
  cv_.wait(lock, [this] { return !ready_.empty() || failed_; });
  if (ready_.empty()) return error_;  // batches read before the failure come first
  consuming_ = ready_.front();
  ready_.pop_front();
  return static_cast<const Batch*>(consuming_);
}

void AuditReadAhead::ReadLoop(int64_t after_seq, int64_t snapshot_rows) {
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    int64_t seen = 0;
    bool gone = false;
    Status st = store_.ScanAuditRows(after_seq, [&](const store::AuditRowView& row) {
      Add(row);
      after_seq = row.seq;
      ++seen;
      if (filling_->places.size() >= kBatchRows || filling_->bytes.size() >= kBatchBytes) {
        gone = !Publish(/*end=*/false);
        if (gone) return false;
      }
      return seen < snapshot_rows;
    });
    if (gone) return;
    if (!st.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        error_ = std::move(st);
        failed_ = true;
      }
      cv_.notify_all();
      return;
    }
    // A short snapshot: the log ended when it was read.
    if (seen < snapshot_rows) {
      Publish(/*end=*/true);
      return;
    }
  }
}

void AuditReadAhead::Add(const store::AuditRowView& row) {
  Batch& b = *filling_;
  b.places.push_back({b.bytes.size(), row.record.size(), row.hash.size()});
  b.bytes.append(row.record);
  b.bytes.append(row.hash);
  b.rows.push_back({row.seq, row.time_ms, {}, {}});
}

bool AuditReadAhead::Publish(bool end) {
  // The arena no longer moves: point the views into it.
  Batch* b = filling_;
  const char* base = b->bytes.data();
  for (size_t i = 0; i < b->rows.size(); ++i) {
    const Batch::Place& p = b->places[i];
    b->rows[i].record = std::string_view(base + p.offset, p.record_size);
    b->rows[i].hash = std::string_view(base + p.offset + p.record_size, p.hash_size);
  }
  b->end = end;
  std::unique_lock<std::mutex> lock(mu_);
  ready_.push_back(b);
  filling_ = nullptr;
  cv_.notify_all();
  if (end) return true;
  cv_.wait(lock, [this] { return !free_.empty() || stop_; });
  if (stop_) return false;
  filling_ = free_.front();
  free_.pop_front();
  lock.unlock();
  filling_->rows.clear();
  filling_->places.clear();
  filling_->bytes.clear();
  filling_->end = false;
  return true;
}

}  // namespace crs::audit
