#include "store/sql/audit_appender.h"

#include <algorithm>

#include "core/time.h"
#include "store/audit_chain.h"

namespace crs::store::sql {

AuditAppender::AuditAppender(AuditWriteOps& ops, const StoreOptions& options)
    : ops_(ops), options_(options), head_hash_(AuditZeroHash()) {}

int64_t AuditAppender::Now() const {
  return options_.now_ms ? options_.now_ms() : SystemClock::Get().NowMs();
}

Status AuditAppender::Init() {
  CRS_ASSIGN_OR_RETURN(checkpoint_seq_, ops_.LastCheckpointSeq());
  return ops_.Recover();
}

Status AuditAppender::BeginGroup() {
  pending_cp_seq_ = 0;
  CRS_RETURN_IF_ERROR(ops_.Head(&head_seq_, &head_hash_));
  if (head_seq_ == 0) head_hash_ = AuditZeroHash();
  ops_.Forget(head_seq_);  // kept from a transaction that did not commit
  return Status::Ok();
}

void AuditAppender::Restore(Mark mark) {
  head_seq_ = mark.seq;
  head_hash_ = std::move(mark.hash);
  if (pending_cp_seq_ > head_seq_) pending_cp_seq_ = 0;
  ops_.Forget(head_seq_);
}

Status AuditAppender::Append(const std::vector<AuditInput>& records) {
  for (const AuditInput& in : records) {
    int64_t seq = head_seq_ + 1;
    std::string hash = AuditChainHash(head_hash_, seq, in.record);
    CRS_RETURN_IF_ERROR(ops_.Insert(seq, in, hash));
    head_seq_ = seq;
    head_hash_ = std::move(hash);
  }
  return Status::Ok();
}

Status AuditAppender::MaybeCheckpoint(bool force) {
  if (!options_.audit_sign) return Status::Ok();
  int64_t covered = std::max(checkpoint_seq_, pending_cp_seq_);
  if (head_seq_ <= covered) return Status::Ok();
  int64_t now = Now();
  bool due = force || now - checkpoint_time_ >= options_.audit_checkpoint_interval_ms ||
             head_seq_ - covered >= options_.audit_checkpoint_records;
  if (!due) return Status::Ok();
  AuditCheckpoint cp;
  cp.seq = head_seq_;
  cp.time_ms = now;
  cp.head_hash = head_hash_;
  cp.key_id = options_.audit_key_id;
  cp.signature = options_.audit_sign(AuditCheckpointMessage(head_seq_, now, head_hash_));
  if (cp.signature.size() != 64) return Status::Internal("the audit signer failed");
  CRS_RETURN_IF_ERROR(ops_.InsertCheckpoint(cp));
  pending_cp_seq_ = head_seq_;
  pending_cp_time_ = now;
  return Status::Ok();
}

void AuditAppender::EndGroup(bool committed) {
  ops_.AfterCommit(committed);
  if (committed) {
    appended_seq_ = std::max(appended_seq_, head_seq_);
    if (pending_cp_seq_ > 0) {
      checkpoint_seq_ = pending_cp_seq_;
      checkpoint_time_ = pending_cp_time_;
    }
  }
  pending_cp_seq_ = 0;
}

bool AuditAppender::CheckpointPending() const {
  return options_.audit_sign && appended_seq_ > checkpoint_seq_;
}

Status AuditAppender::CheckpointIdle(bool force) {
  bool checkpoint = CheckpointPending() &&
                    (force || Now() - checkpoint_time_ >= options_.audit_checkpoint_interval_ms);
  if (!checkpoint && !ops_.IdleWork()) return Status::Ok();
  CRS_RETURN_IF_ERROR(ops_.Begin());
  Status st = BeginGroup();
  if (st.ok() && checkpoint) st = MaybeCheckpoint(/*force=*/true);
  if (st.ok()) st = ops_.BeforeCommit(/*force=*/true);
  if (st.ok()) st = ops_.Commit();
  if (!st.ok()) ops_.Rollback();
  EndGroup(st.ok());
  return st;
}

}  // namespace crs::store::sql
