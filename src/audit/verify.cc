#include "audit/verify.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>

#include "audit/read_ahead.h"
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
    int64_t snapshot_rows = std::max(1, options_.page_size);
    int64_t since_rewind = 0;
    while (true) {
      {
        AuditReadAhead reader(store_, report_.last_seq, snapshot_rows);
        while (true) {
          CRS_ASSIGN_OR_RETURN(const AuditReadAhead::Batch* batch, reader.Next());
          if (since_rewind >= snapshot_rows) {
            since_rewind = 0;
            if (options_.progress) options_.progress(report_.records);
            RewindCheckpoints();
          }
          for (const store::AuditRowView& rec : batch->rows) {
            // Stopped: a failure is in the report, a store error in error_.
            if (!CheckRecord(rec)) return error_;
          }
          since_rewind += static_cast<int64_t>(batch->rows.size());
          if (batch->end) break;
        }
      }
      if (options_.progress) options_.progress(report_.records);
      // The end of the log: a checkpoint beyond it names missing records,
      // unless records were appended after the last snapshot was read.
      RewindCheckpoints();
      CRS_ASSIGN_OR_RETURN(const store::AuditCheckpoint* cp, checkpoints_.Peek());
      // A checkpoint of records already passed was written while they
      // were being read; their heads are no longer at hand.
      while (cp != nullptr && cp->seq <= report_.last_seq) {
        checkpoints_.Pop();
        CRS_ASSIGN_OR_RETURN(cp, checkpoints_.Peek());
      }
      if (cp == nullptr) return Status::Ok();
      bool more = false;
      CRS_RETURN_IF_ERROR(store_.ScanAuditRows(report_.last_seq, [&](const store::AuditRowView&) {
        more = true;
        return false;
      }));
      if (more) continue;
      Fail(report_.last_seq + 1,
           "record missing: the log ends at seq " + std::to_string(report_.last_seq) +
               " but a checkpoint covers seq " + std::to_string(cp->seq) +
               " (records removed from the end)");
      return Status::Ok();
    }
  }

  // Picks up checkpoints written since the cursor last looked.
  void RewindCheckpoints() {
    checkpoints_.Rewind();
    next_checkpoint_seq_ = 0;
  }

  // Checks one record; false stops the scan (a failure, or error_ is set).
  bool CheckRecord(const store::AuditRowView& rec) {
    int64_t expect = report_.last_seq + 1;
    if (rec.seq != expect) {
      Fail(expect, "record missing: seq " + std::to_string(report_.last_seq) +
                       " is followed by seq " + std::to_string(rec.seq) + " (record deleted)");
      return false;
    }
    char hash[store::kAuditHashSize];
    store::AuditChainHash(std::string_view(head_, sizeof head_), rec.seq, rec.record, hash);
    if (rec.hash.size() != sizeof hash || std::memcmp(hash, rec.hash.data(), sizeof hash) != 0) {
      Fail(rec.seq, "hash mismatch: the stored hash is not SHA-256(previous hash, seq, record) "
                    "(record edited, inserted or moved)");
      return false;
    }
    std::memcpy(head_, hash, sizeof hash);
    report_.last_seq = rec.seq;
    ++report_.records;
    if (rec.seq < next_checkpoint_seq_) return true;
    while (true) {
      auto cp = checkpoints_.Peek();
      if (!cp.ok()) {
        error_ = cp.status();
        return false;
      }
      if (*cp == nullptr) {
        next_checkpoint_seq_ = INT64_MAX;  // until RewindCheckpoints()
        break;
      }
      if ((*cp)->seq > rec.seq) {
        next_checkpoint_seq_ = (*cp)->seq;
        break;
      }
      CheckCheckpoint(**cp, rec.seq);
      checkpoints_.Pop();
      if (!report_.reason.empty()) return false;
    }
    return true;
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
    if (cp.head_hash != std::string_view(head_, sizeof head_)) {
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
  Status error_;                         // a store error met inside a scan callback
  char head_[store::kAuditHashSize] = {};  // the chain head: hash(0) is 32 zero bytes
  int64_t next_checkpoint_seq_ = 0;      // no checkpoint to check below this seq
};

}  // namespace

Result<VerifyReport> VerifyAuditLog(store::Store& store, const VerifyOptions& options) {
  return Verifier(store, options).Run();
}

}  // namespace crs::audit
