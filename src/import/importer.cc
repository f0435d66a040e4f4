#include "import/importer.h"

#include <boost/json.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <optional>
#include <vector>

#include "api/interactions.h"
#include "access/consent.h"
#include "api/resource_io.h"
#include "api/summary_doc.h"
#include "audit/record.h"
#include "core/thread_name.h"
#include "import/checkpoint.h"
#include "import/prepare.h"

namespace crs::import {

namespace json = boost::json;

namespace {

// What one WriteBatch carries, and what the checkpoint records once it is
// committed.
struct Batch {
  int64_t number = 0;
  store::WriteBatch batch;
  std::map<std::string, FileProgress> progress;  // per file, as of the batch's end
  ImportCounts counts;
  uint64_t bytes_done = 0;
  size_t body_bytes = 0;  // of the writes' JSON bodies
};

// Commits batches on two threads, so that one batch is compressed (in
// Store::Commit, on the caller's thread) while the store's writer applies
// the other, and records them in the checkpoint strictly in order. Batches
// in flight together never write the same resource (the Reader drains
// first), so their commit order does not matter. Shared between the reading
// thread (Push, Drain, committed, error, Finish) and its own threads.
class Committer {
 public:
  Committer(store::Store& store, Checkpoint& checkpoint, const ImportOptions& options,
            ImportObserver& observer, ImportProgress start)
      : store_(store),
        options_(options),
        observer_(observer),
        checkpoint_(checkpoint),
        progress_(start) {
    for (int i = 0; i < kThreads; ++i) {
      threads_.emplace_back([this] {
        SetThreadName("crs-import");
        Run();
      });
    }
  }

  ~Committer() { Finish(); }

  // Queues a batch, waiting while two are already queued. False once a
  // commit has failed (the batch is dropped).
  bool Push(std::unique_ptr<Batch> batch) {
    std::unique_lock<std::mutex> lock(mu_);
    space_cv_.wait(lock, [this] { return queue_.size() < 2 || !error_.ok(); });
    if (!error_.ok()) return false;
    pushed_ = batch->number;
    queue_.push_back(std::move(batch));
    work_cv_.notify_one();
    return true;
  }

  // Waits until every pushed batch is committed (or one failed).
  void Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    space_cv_.wait(lock, [this] { return committed_ == pushed_ || !error_.ok(); });
  }

  // The number of the last batch that it and all before it are committed.
  int64_t committed() {
    std::lock_guard<std::mutex> lock(mu_);
    return committed_;
  }

  Status error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

  // Commits what is queued and stops the threads; returns the final progress.
  ImportProgress Finish() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      finishing_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    std::lock_guard<std::mutex> lock(mu_);
    return progress_;
  }

 private:
  static constexpr int kThreads = 2;

  void Run() {
    while (true) {
      std::unique_ptr<Batch> b;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_cv_.wait(lock, [this] { return !queue_.empty() || finishing_; });
        if (queue_.empty()) return;
        b = std::move(queue_.front());
        queue_.pop_front();
        space_cv_.notify_all();
        if (!error_.ok()) continue;  // after a failure, later batches are not applied
      }
      Status st = CommitOne(*b);
      std::lock_guard<std::mutex> lock(mu_);
      if (!st.ok()) {
        if (error_.ok()) error_ = st;
      } else {
        done_[b->number] = std::move(b);
        // Record, in order, every batch whose predecessors are all committed.
        while (error_.ok() && done_.count(committed_ + 1) > 0) {
          auto next = done_.extract(committed_ + 1);
          Status recorded = Record(*next.mapped());
          if (!recorded.ok())
            error_ = recorded;
          else
            committed_ = next.key();
        }
      }
      space_cv_.notify_all();
    }
  }

  Status CommitOne(Batch& b) {
    if (b.batch.writes.empty()) return Status::Ok();
    auto r = store_.Commit(b.batch);
    if (r.ok()) return Status::Ok();
    if (r.status().code() == Code::kConflict) {
      return Status::Conflict("the store changed under the import (" + r.status().message() +
                              "); run the import again to continue");
    }
    return r.status();
  }

  // Writes a committed batch's progress to the checkpoint. Under mu_.
  Status Record(const Batch& b) {
    if (options_.after_commit) options_.after_commit(b.number);
    for (const auto& [file, p] : b.progress) checkpoint_.Set(file, p);
    if (!options_.checkpoint_path.empty()) CRS_RETURN_IF_ERROR(checkpoint_.Save());
    progress_.counts.written += b.counts.written;
    progress_.counts.unchanged += b.counts.unchanged;
    progress_.counts.patients += b.counts.patients;
    progress_.counts.rejected += b.counts.rejected;
    progress_.batches += 1;
    progress_.bytes_done = b.bytes_done;
    observer_.Committed(progress_);
    return Status::Ok();
  }

  store::Store& store_;
  const ImportOptions& options_;
  ImportObserver& observer_;

  // Lock order: mu_ is a leaf (observer_.Committed runs under it and takes
  // only its own lock).
  std::mutex mu_;
  std::condition_variable work_cv_, space_cv_;
  Checkpoint& checkpoint_;                          // GUARDED_BY(mu_) once started
  ImportProgress progress_;                         // GUARDED_BY(mu_)
  std::deque<std::unique_ptr<Batch>> queue_;        // GUARDED_BY(mu_)
  std::map<int64_t, std::unique_ptr<Batch>> done_;  // committed, not yet recorded; GUARDED_BY(mu_)
  int64_t pushed_ = 0, committed_ = 0;              // GUARDED_BY(mu_)
  bool finishing_ = false;                          // GUARDED_BY(mu_)
  Status error_;                                    // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

// Reads the inputs, prepares each resource and groups them into batches.
// Runs on the calling thread.
class Reader {
 public:
  Reader(store::Store& store, const Clock& clock, const ImportOptions& options,
         ImportObserver& observer, Committer& committer, const std::atomic<bool>* stop)
      : clock_(clock),
        options_(options),
        observer_(observer),
        committer_(committer),
        stop_(stop),
        env_{store, clock, options.max_json_depth, options.author_org, nullptr} {
    summary_rules_.sensitive = &options.sensitive_codes;
    summary_rules_.model = options.consent_model;
    summary_rules_.national = true;
    summary_rules_.org = options.author_org;
    summary_rules_.user = "crs-import";
  }

  // Imports one file from `from` (its checkpointed progress, if any).
  Status ReadFile(const InputFile& file, const FileProgress& from, uint64_t bytes_before) {
    file_ = &file;
    at_ = from;
    at_.size = file.size;
    at_.mtime_ns = file.mtime_ns;
    bytes_base_ = bytes_before;
    Status st = file.format == InputFormat::kJson ? ReadJsonFile() : ReadNdjsonFile();
    CRS_RETURN_IF_ERROR(st);
    if (Stopped()) return Status::Ok();
    at_.done = true;
    at_.position = Position{file.size, at_.position.line, 0};
    MarkProgress(file.size);
    return Status::Ok();
  }

  // Sends the last, partial batch.
  Status Flush() {
    if (!current_) return committer_.error();
    // One audit record per batch, committed in the batch's transaction.
    if (!current_->batch.writes.empty()) {
      current_->batch.audit.push_back(audit::ToAuditInput(AuditRecordFor(*current_)));
    }
    current_->counts.rejected = rejected_in_batch_;
    rejected_in_batch_ = 0;
    recent_.emplace_back(current_->number, std::move(keys_));
    keys_.clear();
    ForgetCommitted();
    resources_.clear();
    patients_.clear();
    if (!committer_.Push(std::move(current_))) return committer_.error();
    return Status::Ok();
  }

  bool Stopped() const { return (stop_ != nullptr && stop_->load()) || !committer_.error().ok(); }

 private:
  Status ReadNdjsonFile() {
    CRS_ASSIGN_OR_RETURN(auto reader, LineReader::Open(file_->path, at_.position.offset));
    std::string_view line;
    uint64_t start = 0;
    int64_t line_no = at_.position.line - 1;
    int64_t skip = at_.position.entry;
    while (!Stopped()) {
      CRS_ASSIGN_OR_RETURN(bool more, reader->Next(&line, &start));
      if (!more) break;
      ++line_no;
      CRS_RETURN_IF_ERROR(ReadValue(line, line_no, start, reader->offset(), skip));
      skip = 0;
    }
    return Status::Ok();
  }

  Status ReadJsonFile() {
    if (at_.done) return Status::Ok();
    CRS_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(file_->path));
    return ReadValue(text, 0, 0, file_->size, at_.position.entry);
  }

  // One line (or a .json file's whole text) starting at byte `start` and
  // ending before `next`; its first `skip` entries are already committed.
  Status ReadValue(std::string_view text, int64_t line_no, uint64_t start, uint64_t next,
                   int64_t skip) {
    Position done_line{next, line_no + 1, 0};
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) {
      return Advance(done_line, next);  // a blank line
    }
    auto value = api::ParseJsonBody(text, options_.max_json_depth);
    if (!value.ok()) {
      Reject(line_no, 0, value.status());
      return Advance(done_line, next);
    }
    bool bundle = false;
    std::vector<Result<Entry>> entries = EntriesOf(std::move(*value), &bundle);
    for (size_t k = static_cast<size_t>(std::max<int64_t>(skip, 0)); k < entries.size(); ++k) {
      if (k > 0 && Stopped()) return Status::Ok();
      int64_t entry_no = bundle ? static_cast<int64_t>(k) + 1 : 0;
      if (entries[k].ok()) {
        CRS_RETURN_IF_ERROR(Import(std::move(*entries[k]), line_no, entry_no));
      } else {
        Reject(line_no, entry_no, entries[k].status());
      }
      bool last = k + 1 == entries.size();
      CRS_RETURN_IF_ERROR(
          Advance(last ? done_line : Position{start, line_no, entry_no}, last ? next : start));
    }
    if (entries.empty()) return Advance(done_line, next);
    return Status::Ok();
  }

  Status Import(Entry entry, int64_t line_no, int64_t entry_no) {
    std::optional<std::string> summary_of = SummaryPatient(entry);
    // A summary is kept as Bundle/scr-<nhs> (docs/summary.md).
    std::string key = summary_of ? "Bundle/" + api::SummaryId(*summary_of)
                                 : entry.type + "/" + entry.id;
    // A resource written by a batch not yet committed would be prepared
    // against stale state: commit those first.
    if (keys_.count(key) > 0) {
      CRS_RETURN_IF_ERROR(Flush());
      committer_.Drain();
    } else if (InFlight(key)) {
      committer_.Drain();
    }
    std::optional<access::ConsentDecision> consent;
    if (entry.type == "Consent") consent = access::ParseConsent(entry.resource);
    api::SummaryPending pending;
    if (summary_of) pending = Pending(*summary_of);
    auto prepared = PrepareImport(env_, summary_rules_, std::move(entry),
                                  summary_of ? &pending : nullptr);
    if (!prepared.ok()) {
      if (prepared.status().code() == Code::kUnavailable) return prepared.status();
      Reject(line_no, entry_no, prepared.status());
      return Status::Ok();
    }
    Batch& b = Current();
    if (prepared->writes.empty()) {
      ++b.counts.unchanged;
      return Status::Ok();
    }
    const std::string& patient = prepared->patient;
    if (!patient.empty() && patient != "*" && patient != "?") patients_.insert(patient);
    if (prepared->type == "Patient") {
      ++b.counts.patients;
      pending_patients_[prepared->id] = b.number;
    }
    if (consent) pending_consents_[consent->patient].emplace_back(*consent, b.number);
    for (store::Write& w : prepared->writes) {
      keys_.insert(w.type + "/" + w.id);
      resources_.push_back(w.type + "/" + w.id + "/_history/" +
                           std::to_string(w.expected_version + 1));
      ++b.counts.written;
      b.body_bytes += w.body.size();
      b.batch.writes.push_back(std::move(w));
    }
    return Status::Ok();
  }

  // What batches not yet committed hold for `patient`: its Patient, and
  // Consents (as the newest decisions).
  api::SummaryPending Pending(const std::string& patient) {
    int64_t committed = committer_.committed();
    api::SummaryPending p;
    if (auto it = pending_patients_.find(patient); it != pending_patients_.end()) {
      p.patient = it->second > committed;
    }
    if (auto it = pending_consents_.find(patient); it != pending_consents_.end()) {
      int64_t order = clock_.NowMs();  // later in the input: later decision
      for (const auto& [decision, batch] : it->second) {
        if (batch > committed) p.consents.emplace_back(decision, order++);
      }
    }
    return p;
  }

  // Forgets the pending Patients and Consents of committed batches.
  void ForgetCommitted() {
    int64_t committed = committer_.committed();
    std::erase_if(pending_patients_, [&](const auto& kv) { return kv.second <= committed; });
    for (auto it = pending_consents_.begin(); it != pending_consents_.end();) {
      std::erase_if(it->second, [&](const auto& d) { return d.second <= committed; });
      it = it->second.empty() ? pending_consents_.erase(it) : std::next(it);
    }
  }

  // Records that everything before `position` is handled, closing the batch
  // when it is full.
  Status Advance(Position position, uint64_t offset) {
    at_.position = position;
    MarkProgress(offset);
    Batch& b = Current();
    int64_t items = b.counts.written + b.counts.unchanged + rejected_in_batch_;
    if (items >= options_.batch_size || b.body_bytes >= options_.batch_bytes) return Flush();
    return Status::Ok();
  }

  void MarkProgress(uint64_t offset) {
    Batch& b = Current();
    b.progress[file_->path] = at_;
    b.bytes_done = bytes_base_ + offset;
  }

  void Reject(int64_t line_no, int64_t entry_no, const Status& why) {
    ++at_.rejected;
    ++rejected_in_batch_;
    std::string reason = why.message();
    if (!why.detail().empty()) reason = why.detail() + ": " + reason;
    observer_.Rejected(Rejection{file_->path, line_no, entry_no, std::move(reason)});
  }

  bool InFlight(const std::string& key) {
    int64_t committed = committer_.committed();
    while (!recent_.empty() && recent_.front().first <= committed) recent_.pop_front();
    for (const auto& [number, keys] : recent_) {
      if (keys.count(key) > 0) return true;
    }
    return false;
  }

  Batch& Current() {
    if (!current_) {
      current_ = std::make_unique<Batch>();
      current_->number = ++batches_;
      current_->batch.writes.reserve(static_cast<size_t>(std::min(options_.batch_size, 4096)));
    }
    return *current_;
  }

  audit::AuditRecord AuditRecordFor(const Batch& b) {
    audit::AuditRecord r;
    r.time_ms = clock_.NowMs();
    r.request_id = options_.run_id + "-" + std::to_string(b.number);
    r.user = "crs-import";
    r.user_name = "crs import";
    r.role = "system";
    r.org = options_.author_org;
    r.action = "import";
    r.status = 200;
    r.patients.assign(patients_.begin(), patients_.end());
    r.resources = std::move(resources_);
    return r;
  }

  const Clock& clock_;
  const ImportOptions& options_;
  ImportObserver& observer_;
  Committer& committer_;
  const std::atomic<bool>* stop_;
  api::Env env_;

  const InputFile* file_ = nullptr;
  FileProgress at_;          // the current file's progress so far
  uint64_t bytes_base_ = 0;  // input bytes in the files before this one

  std::unique_ptr<Batch> current_;
  int64_t batches_ = 0;
  int64_t rejected_in_batch_ = 0;
  std::unordered_set<std::string> keys_;  // "Type/id" written by current_
  std::vector<std::string> resources_;    // the audit record's resources
  std::set<std::string> patients_;        // the audit record's patients
  // Keys of batches pushed but perhaps not committed yet.
  std::deque<std::pair<int64_t, std::unordered_set<std::string>>> recent_;
  // For summaries prepared before the batches they depend on commit: the
  // batch that writes each Patient and each patient's Consents.
  api::SummaryUploadRules summary_rules_;
  std::unordered_map<std::string, int64_t> pending_patients_;
  std::unordered_map<std::string, std::vector<std::pair<access::ConsentDecision, int64_t>>>
      pending_consents_;
};

}  // namespace

Result<Resume> ResumeFrom(const std::string& checkpoint_path, const std::vector<InputFile>& files,
                          ImportObserver& observer) {
  Resume r;
  if (!checkpoint_path.empty()) {
    CRS_ASSIGN_OR_RETURN(r.checkpoint, Checkpoint::Load(checkpoint_path));
  }
  for (const InputFile& f : files) {
    FileProgress start;
    const FileProgress* saved = r.checkpoint.Find(f.path);
    if (saved != nullptr && saved->size == f.size && saved->mtime_ns == f.mtime_ns) {
      start = *saved;
      r.rejected_earlier += saved->rejected;
      r.before += saved->done ? f.size : saved->position.offset;
    } else if (saved != nullptr) {
      observer.Note(f.path + " changed since the last import: reading it from the start");
    }
    r.starts.push_back(start);
    r.total += f.size;
  }
  return r;
}

Result<ImportSummary> Import(store::Store& store, const Clock& clock, const ImportOptions& options,
                             ImportObserver& observer, const std::atomic<bool>* stop) {
  CRS_ASSIGN_OR_RETURN(Resume resume, ResumeFrom(options.checkpoint_path, options.files, observer));
  ImportSummary summary;
  summary.rejected_earlier = resume.rejected_earlier;
  const std::vector<FileProgress>& starts = resume.starts;
  Committer committer(store, resume.checkpoint, options, observer, resume.Start());
  Reader reader(store, clock, options, observer, committer, stop);
  Status st = Status::Ok();
  uint64_t bytes_before = 0;
  for (size_t i = 0; i < options.files.size() && st.ok() && !reader.Stopped(); ++i) {
    if (!starts[i].done) st = reader.ReadFile(options.files[i], starts[i], bytes_before);
    bytes_before += options.files[i].size;
  }
  if (st.ok()) st = reader.Flush();
  summary.progress = committer.Finish();
  if (!st.ok()) return st;
  CRS_RETURN_IF_ERROR(committer.error());
  summary.interrupted = stop != nullptr && stop->load();
  return summary;
}

}  // namespace crs::import
