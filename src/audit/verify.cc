#include "audit/verify.h"

#include <chrono>
#include <cstring>
#include <deque>
#include <future>

#include "audit/signing.h"
#include "store/audit_chain.h"

namespace crs::audit {
namespace {

// Reads checkpoints in pages, oldest first.
class CheckpointCursor {
 public:
  CheckpointCursor(store::Store& store, int page) : store_(store), page_(page) {}

  // The next checkpoint, or null at the end (for now: more may be written).
  Result<const store::AuditCheckpoint*> Peek() {
    if (buffer_.empty() && !exhausted_) {
      CRS_ASSIGN_OR_RETURN(auto next, store_.ScanAuditCheckpoints(after_, page_));
      if (next.empty()) exhausted_ = true;
      for (auto& c : next) buffer_.push_back(std::move(c));
    }
    if (buffer_.empty()) return static_cast<const store::AuditCheckpoint*>(nullptr);
    return &buffer_.front();
  }
  void Pop() {
    after_ = buffer_.front().seq;
    buffer_.pop_front();
  }
  void Rewind() { exhausted_ = false; }

 private:
  store::Store& store_;
  int page_;
  int64_t after_ = 0;
  bool exhausted_ = false;
  std::deque<store::AuditCheckpoint> buffer_;
};

class Verifier {
 public:
  Verifier(store::Store& store, const VerifyOptions& options)
      : store_(store), options_(options), checkpoints_(store, 1024) {}

  Result<VerifyReport> Run() {
    auto start = std::chrono::steady_clock::now();
    Status st = Walk();
    report_.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!st.ok()) return st;
    report_.uncovered = report_.last_seq - report_.last_checkpoint_seq;
    if (report_.reason.empty() && options_.max_uncovered >= 0 &&
        report_.uncovered > options_.max_uncovered) {
      Fail(report_.last_checkpoint_seq + 1,
           std::to_string(report_.uncovered) + " records after the last checkpoint (seq " +
               std::to_string(report_.last_checkpoint_seq) + ") are covered by no signature");
    }
    report_.intact = report_.reason.empty();
    return report_;
  }

 private:
  Status Walk() {
    int page = std::max(1, options_.page_size);
    // The next page is read on another thread while this one is hashed.
    auto fetch = [this, page](int64_t after) { return store_.ScanAudit(after, page); };
    std::future<Result<std::vector<store::StoredAudit>>> ahead;
    while (true) {
      auto fetched = ahead.valid() ? ahead.get() : fetch(report_.last_seq);
      if (!fetched.ok()) return fetched.status();
      std::vector<store::StoredAudit> records = std::move(fetched).value();
      if (!records.empty()) ahead = std::async(std::launch::async, fetch, records.back().seq);
      checkpoints_.Rewind();  // pick up checkpoints written while we read
      if (records.empty()) {
        // The end of the log: a checkpoint beyond it names missing records,
        // unless records were appended after this page was read.
        CRS_ASSIGN_OR_RETURN(const store::AuditCheckpoint* cp, checkpoints_.Peek());
        // A checkpoint of records already passed was written while they
        // were being read; their heads are no longer at hand.
        while (cp != nullptr && cp->seq <= report_.last_seq) {
          checkpoints_.Pop();
          CRS_ASSIGN_OR_RETURN(cp, checkpoints_.Peek());
        }
        if (cp == nullptr) return Status::Ok();
        CRS_ASSIGN_OR_RETURN(auto more, store_.ScanAudit(report_.last_seq, 1));
        if (!more.empty()) continue;
        Fail(report_.last_seq + 1,
             "record missing: the log ends at seq " + std::to_string(report_.last_seq) +
                 " but a checkpoint covers seq " + std::to_string(cp->seq) +
                 " (records removed from the end)");
        return Status::Ok();
      }
      for (const store::StoredAudit& rec : records) {
        CRS_RETURN_IF_ERROR(CheckRecord(rec));
        if (!report_.reason.empty()) return Status::Ok();
      }
      if (options_.progress) options_.progress(report_.records);
    }
  }

  Status CheckRecord(const store::StoredAudit& rec) {
    int64_t expect = report_.last_seq + 1;
    if (rec.seq != expect) {
      Fail(expect, "record missing: seq " + std::to_string(report_.last_seq) +
                       " is followed by seq " + std::to_string(rec.seq) + " (record deleted)");
      return Status::Ok();
    }
    char hash[store::kAuditHashSize];
    store::AuditChainHash(head_, rec.seq, rec.record, hash);
    if (rec.hash.size() != sizeof hash || std::memcmp(hash, rec.hash.data(), sizeof hash) != 0) {
      Fail(rec.seq, "hash mismatch: the stored hash is not SHA-256(previous hash, seq, record) "
                    "(record edited, inserted or moved)");
      return Status::Ok();
    }
    head_.assign(hash, sizeof hash);
    report_.last_seq = rec.seq;
    ++report_.records;
    while (true) {
      CRS_ASSIGN_OR_RETURN(const store::AuditCheckpoint* cp, checkpoints_.Peek());
      if (cp == nullptr || cp->seq > rec.seq) break;
      CheckCheckpoint(*cp, rec.seq);
      checkpoints_.Pop();
      if (!report_.reason.empty()) break;
    }
    return Status::Ok();
  }

  // `cp` covers a seq <= `seq`, the record just checked; seqs are gapless,
  // so a checkpoint below it was already met unless it names no record.
  void CheckCheckpoint(const store::AuditCheckpoint& cp, int64_t seq) {
    std::string where = "checkpoint at seq " + std::to_string(cp.seq);
    if (cp.seq != seq) {
      Fail(cp.seq, where + " names no record");
      return;
    }
    std::string message = store::AuditCheckpointMessage(cp.seq, cp.time_ms, cp.head_hash);
    bool signed_ok = false;
    for (const std::string& key : options_.public_keys) {
      if (KeyIdOf(key) == cp.key_id && VerifySignature(key, message, cp.signature)) {
        signed_ok = true;
        break;
      }
    }
    if (!signed_ok) {
      Fail(cp.seq, where + ": signature invalid or by an untrusted key (" + cp.key_id + ")");
      return;
    }
    if (cp.head_hash != head_) {
      Fail(report_.last_checkpoint_seq + 1,
           where + " signs a different chain head: records " +
               std::to_string(report_.last_checkpoint_seq + 1) + ".." + std::to_string(cp.seq) +
               " were altered and the chain rehashed");
      return;
    }
    ++report_.checkpoints;
    report_.last_checkpoint_seq = cp.seq;
  }

  // Records the first failure; later ones are consequences.
  void Fail(int64_t seq, std::string reason) {
    if (report_.reason.empty()) {
      report_.first_bad_seq = seq;
      report_.reason = std::move(reason);
    }
  }

  store::Store& store_;
  const VerifyOptions& options_;
  CheckpointCursor checkpoints_;
  VerifyReport report_;
  std::string head_ = store::AuditZeroHash();
};

}  // namespace

Result<VerifyReport> VerifyAuditLog(store::Store& store, const VerifyOptions& options) {
  return Verifier(store, options).Run();
}

}  // namespace crs::audit
