#include "store/sql/group_writer.h"

#include <algorithm>
#include <chrono>

#include "core/thread_name.h"
#include "store/body_codec.h"

namespace crs::store::sql {
namespace {

// "type/id/version\n" per write.
std::string EncodeRefs(const std::vector<VersionRef>& refs) {
  std::string out;
  for (const auto& r : refs) {
    out += r.type + "/" + r.id + "/" + std::to_string(r.version) + "\n";
  }
  return out;
}

std::vector<VersionRef> DecodeRefs(std::string_view text) {
  std::vector<VersionRef> refs;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    size_t a = line.find('/'), b = line.rfind('/');
    if (a == std::string_view::npos || a == b) continue;
    refs.push_back({std::string(line.substr(0, a)), std::string(line.substr(a + 1, b - a - 1)),
                    std::stoll(std::string(line.substr(b + 1)))});
  }
  return refs;
}

}  // namespace

GroupWriter::GroupWriter(WriteOps& ops, AuditWriteOps& audit_ops, const StoreOptions& options)
    : ops_(ops), options_(options), audit_(audit_ops, options) {}

GroupWriter::~GroupWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    (void)audit_.CheckpointIdle(/*force=*/true);  // cover the tail at a clean stop
  }
}

Status GroupWriter::Start() {
  CRS_RETURN_IF_ERROR(audit_.Init());
  // What the last process left for the audit index (entries it kept in
  // memory when it died) goes in now, so the index is whole from the start.
  CRS_RETURN_IF_ERROR(audit_.CheckpointIdle(/*force=*/false));
  thread_ = std::thread([this] {
    SetThreadName("crs-writer");
    Loop();
  });
  return Status::Ok();
}

std::vector<std::string> GroupWriter::CompressBodies(const WriteBatch& batch, int level) {
  std::vector<std::string> out;
  out.reserve(batch.writes.size());
  for (const Write& w : batch.writes) {
    out.push_back(w.method == Method::kDelete || w.method == Method::kPurge ||
                          w.method == Method::kReindex
                      ? std::string()
                      : CompressBody(w.body, level));
  }
  return out;
}

Result<CommitResult> GroupWriter::Commit(const WriteBatch& batch) {
  Pending pending;
  pending.batch = &batch;
  pending.compressed = CompressBodies(batch, options_.compression_level);
  return Enqueue(&pending);
}

// As Commit, but the caller's thread does not wait: the writer runs `done`
// once the batch's group is durable (or failed). The Pending lives on the
// heap until Resolve hands its result to `done`.
void GroupWriter::CommitAsync(WriteBatch batch, std::function<void(Result<CommitResult>)> done) {
  auto pending = std::make_unique<Pending>();
  pending->owned = std::make_unique<WriteBatch>(std::move(batch));
  pending->batch = pending->owned.get();
  pending->compressed = CompressBodies(*pending->batch, options_.compression_level);
  pending->done = std::move(done);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closing_) {
      queue_.push_back(pending.release());
      pending = nullptr;
    }
  }
  if (pending != nullptr) return pending->done(Status::Unavailable("store is closing"));
  cv_.notify_one();
}

void GroupWriter::Resolve(Pending* pending, Result<CommitResult> result) {
  if (!pending->done) return pending->promise.set_value(std::move(result));
  std::unique_ptr<Pending> owned(pending);
  owned->done(std::move(result));
}

// Through the writer like a batch, so the advance shares a group's commit.
Result<int64_t> GroupWriter::ReserveSequence(std::string_view name, int64_t count) {
  if (count < 1 || name.empty()) {
    return Status::Invalid("a sequence reservation needs a name and a positive count");
  }
  WriteBatch none;
  Pending pending;
  pending.batch = &none;
  pending.sequence = std::string(name);
  pending.sequence_count = count;
  CRS_RETURN_IF_ERROR(Enqueue(&pending).status());
  return pending.sequence_first;
}

Status GroupWriter::RunExclusive(std::function<Status()> job) {
  WriteBatch none;
  Pending pending;
  pending.batch = &none;
  pending.job = std::move(job);
  return Enqueue(&pending).status();
}

Status GroupWriter::SyncAuditIndex() {
  WriteBatch none;
  Pending pending;
  pending.batch = &none;
  pending.sync_audit_index = true;
  return Enqueue(&pending).status();
}

void GroupWriter::AppendAudit(std::vector<AuditInput> records, std::function<void(Status)> done) {
  Status refused;
  bool wake = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) {
      refused = Status::Unavailable("store is closing");
    } else if (audit_queued_ + records.size() > kMaxQueuedAudit) {
      refused = Status::Unavailable("audit queue is full");
    } else {
      audit_queued_ += records.size();
      audit_queue_.push_back({std::move(records), std::move(done)});
      // A gathering writer needs waking only once its target is reached.
      wake = gather_target_ == 0 || audit_queued_ >= gather_target_;
    }
  }
  if (!refused.ok()) {
    if (done) done(refused);
    return;
  }
  if (wake) cv_.notify_one();
}

bool GroupWriter::GatherAudit() const {
  return options_.audit_commit_delay_us > 0 && !closing_ && queue_.empty() &&
         audit_queued_ >= 2 && audit_queued_ < options_.audit_commit_group;
}

// Waits for more audit records while they keep coming: up to twice the last
// audit group (so groups grow while requests keep arriving), checking every
// kGatherSlice that some arrived, for at most audit_commit_delay_us in all.
// When the requests in flight have all queued their records, the next slice
// brings none and the group commits: few concurrent clients lose at most
// one slice, many gain a commit shared by up to audit_commit_group reads.
//
// Nor more than half the reads in flight (`in_flight`, at least
// kGatherFloor): a group that gathers every client leaves the request
// threads with nothing to do while it commits, and its clients then all
// come back at once (a convoy). Two halves take turns instead: one commits
// while the other's requests are served (docs/storage.md, "Write path").
void GroupWriter::GatherAuditLocked(std::unique_lock<std::mutex>& lock, size_t in_flight) {
  constexpr auto kGatherSlice = std::chrono::microseconds(100);
  const size_t target =
      std::min({options_.audit_commit_group, std::max<size_t>(2, 2 * last_audit_group_),
                std::max(kGatherFloor, in_flight / 2)});
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::microseconds(options_.audit_commit_delay_us);
  gather_target_ = target;
  auto reached = [&] { return closing_ || !queue_.empty() || audit_queued_ >= target; };
  while (!reached()) {
    size_t before = audit_queued_;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    cv_.wait_until(lock, std::min(deadline, now + kGatherSlice), reached);
    if (audit_queued_ == before) break;  // none came within the slice
  }
  gather_target_ = 0;
}

// Queues `pending` for the writer and waits until its group is durable.
Result<CommitResult> GroupWriter::Enqueue(Pending* pending) {
  auto done = pending->promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return Status::Unavailable("store is closing");
    queue_.push_back(pending);
  }
  cv_.notify_one();
  return done.get();
}

void GroupWriter::Loop() {
  std::vector<Pending*> group;
  std::vector<PendingAudit> audit;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      // Wake now and then while idle so the audit tail gets its checkpoint.
      auto idle = std::chrono::milliseconds(
          std::clamp<int64_t>(options_.audit_checkpoint_interval_ms, 10, 1000));
      bool work = cv_.wait_for(lock, idle, [this] {
        return closing_ || !queue_.empty() || !audit_queue_.empty();
      });
      if (!work) {
        lock.unlock();
        (void)audit_.CheckpointIdle(/*force=*/false);  // failure: retried at the next wake-up
        ops_.Idle();
        continue;
      }
      if (queue_.empty() && audit_queue_.empty()) return;  // closing and drained
      // The reads in flight, as far as the writer can tell: the last group's
      // (their clients are back or coming back) and those queued since.
      if (GatherAudit()) GatherAuditLocked(lock, last_audit_group_ + audit_queued_);
      while (!queue_.empty() && static_cast<int>(group.size()) < options_.max_group) {
        if (queue_.front()->job && !group.empty()) break;  // a job runs alone
        group.push_back(queue_.front());
        queue_.pop_front();
        if (group.back()->job) break;
      }
      size_t taken = 0;
      while (!audit_queue_.empty() && taken < kMaxGroupAudit) {
        taken += audit_queue_.front().records.size();
        audit.push_back(std::move(audit_queue_.front()));
        audit_queue_.pop_front();
      }
      audit_queued_ -= taken;
      if (group.empty()) last_audit_group_ = taken;
    }
    if (group.size() == 1 && group[0]->job) {
      Status done = group[0]->job();
      ops_.ForgetCache();  // the job may have rolled back what it created
      if (done.ok()) {
        Resolve(group[0], CommitResult{});
      } else {
        Resolve(group[0], done);
      }
      group.clear();
    }
    if (!group.empty() || !audit.empty()) CommitGroup(group, audit);
    group.clear();
    audit.clear();
  }
}

// Commits every batch of `group` in one transaction; a batch whose writes
// fail is rolled back to its savepoint and answered on its own.
// Audit records ride along: a batch's own records inside its savepoint,
// the AppendAudit records in one savepoint after the batches.
void GroupWriter::CommitGroup(const std::vector<Pending*>& group,
                              std::vector<PendingAudit>& audit) {
  std::vector<Result<CommitResult>> results;
  results.reserve(group.size());
  Status begin = ops_.Begin();
  if (begin.ok()) begin = audit_.BeginGroup();
  if (!begin.ok()) {
    ops_.Rollback();
    for (Pending* p : group) Resolve(p, begin);
    Answer(audit, Status::Unavailable(begin.message()));
    return;
  }
  for (Pending* p : group) {
    Status saved = ops_.Savepoint("batch");
    AuditAppender::Mark mark = audit_.mark();
    Result<CommitResult> r = saved.ok() ? ApplyBatch(*p) : Result<CommitResult>(saved);
    if (r.ok()) {
      Status appended = audit_.Append(p->batch->audit);
      if (!appended.ok()) r = appended;
    }
    if (r.ok()) {
      Status flushed = ops_.Flush();
      if (!flushed.ok()) r = flushed;
    }
    if (!r.ok() && saved.ok()) {
      (void)ops_.RollbackTo("batch");
      ops_.ForgetCache();
      audit_.Restore(std::move(mark));
    }
    if (saved.ok()) (void)ops_.Release("batch");
    results.push_back(std::move(r));
  }
  Status audit_status = AppendQueuedAudit(audit);
  (void)audit_.MaybeCheckpoint(/*force=*/false);  // failure: the next group retries
  bool sync_index = std::any_of(group.begin(), group.end(),
                                [](const Pending* p) { return p->sync_audit_index; });
  // The deferred audit index rows. A failure leaves them kept for the next
  // group; a caller waiting on SyncAuditIndex hears of it.
  Status indexed = audit_.BeforeCommit(sync_index);
  Status commit = ops_.Commit();
  audit_.EndGroup(commit.ok());
  if (!commit.ok()) {
    ops_.Rollback();
    ops_.ForgetCache();
    for (Pending* p : group) Resolve(p, Status::Unavailable(commit.message()));
    Answer(audit, Status::Unavailable(commit.message()));
    return;
  }
  for (size_t i = 0; i < group.size(); ++i) {
    if (group[i]->sync_audit_index && !indexed.ok()) {
      results[i] = Status::Unavailable("audit index: " + indexed.message());
    }
    Resolve(group[i], std::move(results[i]));
  }
  Answer(audit, audit_status);
}

void GroupWriter::Answer(std::vector<PendingAudit>& audit, const Status& status) {
  for (PendingAudit& a : audit) {
    if (a.done) a.done(status);
  }
}

// Appends the AppendAudit records of a group, all or none.
Status GroupWriter::AppendQueuedAudit(const std::vector<PendingAudit>& audit) {
  if (audit.empty()) return Status::Ok();
  CRS_RETURN_IF_ERROR(ops_.Savepoint("audit"));
  AuditAppender::Mark mark = audit_.mark();
  Status st = Status::Ok();
  for (const PendingAudit& a : audit) {
    st = audit_.Append(a.records);
    if (!st.ok()) break;
  }
  if (st.ok()) st = ops_.Flush();
  if (!st.ok()) {
    (void)ops_.RollbackTo("audit");
    audit_.Restore(std::move(mark));
    st = Status::Unavailable("audit append failed: " + st.message());
  }
  (void)ops_.Release("audit");
  return st;
}

Result<CommitResult> GroupWriter::ApplyBatch(Pending& pending) {
  if (!pending.sequence.empty()) {
    CRS_ASSIGN_OR_RETURN(int64_t next,
                         ops_.AdvanceSequence(pending.sequence, pending.sequence_count));
    pending.sequence_first = next - pending.sequence_count;
    return CommitResult{};
  }
  const WriteBatch& batch = *pending.batch;
  CommitResult result;
  if (!batch.idempotency_key.empty()) {
    CRS_ASSIGN_OR_RETURN(auto recorded, ops_.FindIdempotency(batch.idempotency_key));
    if (recorded) {
      result.already_applied = true;
      result.applied = DecodeRefs(*recorded);
      return result;
    }
  }
  for (size_t i = 0; i < batch.writes.size(); ++i) {
    CRS_ASSIGN_OR_RETURN(VersionRef ref, ApplyWrite(batch.writes[i], pending.compressed[i]));
    result.applied.push_back(std::move(ref));
  }
  if (!batch.idempotency_key.empty()) {
    CRS_RETURN_IF_ERROR(ops_.InsertIdempotency(
        batch.idempotency_key, batch.writes.empty() ? 0 : batch.writes.front().last_updated_ms,
        EncodeRefs(result.applied)));
  }
  return result;
}

Result<VersionRef> GroupWriter::ApplyWrite(const Write& w, const std::string& compressed) {
  int64_t rid = 0, current = 0;
  CRS_RETURN_IF_ERROR(ops_.FindResource(w.type, w.id, &rid, &current));
  bool exists = rid != 0;
  if (w.method == Method::kPurge) {
    // Erases every trace of the resource: index rows, relationships,
    // versions, the resource row itself.
    if (exists) {
      CRS_RETURN_IF_ERROR(ops_.ReplaceIndex(rid, w.type, nullptr, /*had_rows=*/true));
      CRS_RETURN_IF_ERROR(ops_.DeleteRelationships(rid));
      CRS_RETURN_IF_ERROR(ops_.DeleteResource(rid));
    }
    return VersionRef{w.type, w.id, 0};
  }
  if (w.method == Method::kReindex) {
    // The rows derived from the current version, replaced in place; a
    // version no longer current has been superseded by a write that
    // derived its own.
    if (!exists || current != w.expected_version) return VersionRef{w.type, w.id, current};
    if (w.access) CRS_RETURN_IF_ERROR(ops_.SetFacts(rid, *w.access));
    CRS_RETURN_IF_ERROR(WriteRelationships(rid, /*existed=*/true, w.access.get()));
    CRS_RETURN_IF_ERROR(
        ops_.ReplaceIndex(rid, w.type, w.index.get(), /*had_rows=*/true, /*rebuild=*/true));
    return VersionRef{w.type, w.id, current};
  }
  if (current != w.expected_version) {
    return Status::Conflict("version conflict on " + w.type + ": expected " +
                            std::to_string(w.expected_version) + ", found " +
                            std::to_string(current));
  }
  bool is_delete = w.method == Method::kDelete;
  int64_t version = current + 1;
  // The access facts: a delete keeps the last ones (its history stays
  // governed by them); a new resource without any is visible to no caller
  // restricted to patients (patient "?").
  static const AccessFacts kUnknown{"?", 0, "", {}};
  const AccessFacts* facts = is_delete ? nullptr : w.access.get();
  if (facts == nullptr && !exists) facts = &kUnknown;
  if (!exists) {
    // Born with its facts: the version below leaves them (and their index
    // entries) alone.
    CRS_ASSIGN_OR_RETURN(rid, ops_.InsertResource(w.type, w.id, *facts));
  }
  CRS_RETURN_IF_ERROR(ops_.AppendVersion(rid, w.type, version, w.last_updated_ms, w.method,
                                         is_delete ? nullptr : &compressed,
                                         exists ? facts : nullptr));
  CRS_RETURN_IF_ERROR(WriteRelationships(rid, exists, facts));
  CRS_RETURN_IF_ERROR(ops_.ReplaceIndex(rid, w.type, is_delete ? nullptr : w.index.get(),
                                        /*had_rows=*/exists));
  return VersionRef{w.type, w.id, version};
}

// The legitimate relationships the resource establishes (AccessFacts::
// relationship_orgs), replacing those of its previous version; a delete
// drops them.
Status GroupWriter::WriteRelationships(int64_t rid, bool existed, const AccessFacts* facts) {
  if (existed) CRS_RETURN_IF_ERROR(ops_.DeleteRelationships(rid));
  if (facts == nullptr || facts->patient.empty() || facts->patient == "*" ||
      facts->patient == "?") {
    return Status::Ok();
  }
  for (const std::string& org : facts->relationship_orgs) {
    CRS_RETURN_IF_ERROR(ops_.InsertRelationship(org, facts->patient, rid));
  }
  return Status::Ok();
}

}  // namespace crs::store::sql
