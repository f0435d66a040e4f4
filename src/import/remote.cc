#include "import/remote.h"

#include <boost/json.hpp>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include "access/consent.h"
#include "api/resource_io.h"
#include "core/ids.h"
#include "import/checkpoint.h"
#include "import/prepare.h"

namespace crs::import {

namespace json = boost::json;

namespace {

// Where a request entry came from, for the report.
struct Origin {
  std::string file;
  int64_t line = 0;
  int64_t entry = 0;
};

// What one round of requests carries: resources for a transaction, then
// summary documents for a batch, and the checkpoint as of its end.
struct Round {
  std::vector<std::string> resources;  // transaction entries (JSON text)
  std::vector<Origin> resource_origins;
  std::set<std::string> keys;  // "Type/id" of `resources`
  int64_t patients = 0;        // Patients among `resources`
  std::vector<std::string> documents;  // batch entries: POST Bundle
  std::vector<Origin> document_origins;
  std::set<std::string> document_patients;  // whose summaries `documents` holds
  std::map<std::string, Position> positions;  // per file, as of the round's end
  std::set<std::string> finished;             // files read to their end
  uint64_t bytes_done = 0;
  int64_t number = 0;

  size_t size() const { return resources.size() + documents.size(); }
};

int StatusCodeOf(const json::value& entry) {
  const json::object* o = entry.if_object();
  const json::value* response = o ? o->if_contains("response") : nullptr;
  const json::value* status = response && response->is_object()
                                  ? response->get_object().if_contains("status")
                                  : nullptr;
  if (status == nullptr || !status->is_string()) return 0;
  std::string_view s = status->get_string();
  int code = 0;
  for (char c : s.substr(0, 3)) {
    if (c < '0' || c > '9') return 0;
    code = code * 10 + (c - '0');
  }
  return code;
}

// The diagnostics of an OperationOutcome (the first issue's), or "".
std::string Diagnostics(const json::value& outcome) {
  const json::object* o = outcome.if_object();
  const json::value* issues = o ? o->if_contains("issue") : nullptr;
  if (issues == nullptr || !issues->is_array() || issues->get_array().empty()) return "";
  const json::object* issue = issues->get_array()[0].if_object();
  if (issue == nullptr) return "";
  if (const json::value* d = issue->if_contains("diagnostics"); d && d->is_string()) {
    return std::string(d->get_string());
  }
  if (const json::value* c = issue->if_contains("code"); c && c->is_string()) {
    return std::string(c->get_string());
  }
  return "";
}

std::string EntryReason(const json::value& entry, int status) {
  std::string reason;
  if (const json::object* o = entry.if_object()) {
    if (const json::value* r = o->if_contains("response"); r && r->is_object()) {
      if (const json::value* oc = r->get_object().if_contains("outcome")) reason = Diagnostics(*oc);
    }
  }
  std::string prefix = "HTTP " + std::to_string(status);
  return reason.empty() ? prefix : prefix + ": " + reason;
}

class RemoteImporter {
 public:
  RemoteImporter(http::Client& client, const RemoteOptions& options, ImportObserver& observer,
                 const std::atomic<bool>* stop, Checkpoint& checkpoint, ImportProgress start)
      : client_(client),
        options_(options),
        observer_(observer),
        stop_(stop),
        checkpoint_(checkpoint),
        progress_(start) {}

  bool Stopped() const { return stop_ != nullptr && stop_->load(); }

  Status ReadFile(const InputFile& file, const FileProgress& from, uint64_t bytes_before) {
    file_ = &file;
    at_ = from.position;
    rejected_[file.path] = from.rejected;
    bytes_base_ = bytes_before;
    if (file.format == InputFormat::kJson) {
      CRS_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(file.path));
      CRS_RETURN_IF_ERROR(ReadValue(text, 0, 0, file.size, at_.entry));
    } else {
      CRS_ASSIGN_OR_RETURN(auto reader, LineReader::Open(file.path, at_.offset));
      std::string_view line;
      uint64_t start = 0;
      int64_t line_no = at_.line - 1;
      int64_t skip = at_.entry;
      while (!Stopped()) {
        CRS_ASSIGN_OR_RETURN(bool more, reader->Next(&line, &start));
        if (!more) break;
        ++line_no;
        CRS_RETURN_IF_ERROR(ReadValue(line, line_no, start, reader->offset(), skip));
        skip = 0;
      }
    }
    if (Stopped()) return Status::Ok();
    at_ = Position{file.size, at_.line, 0};
    Mark(file.size);
    round_.finished.insert(file.path);
    return Status::Ok();
  }

  // Sends what is pending (also the progress of rejected-only rounds).
  Status Flush() {
    if (round_.size() == 0 && round_.positions.empty()) return Status::Ok();
    round_.number = ++rounds_;
    Round r = std::move(round_);
    round_ = Round{};
    rejected_in_round_ = 0;
    CRS_RETURN_IF_ERROR(Send(r));
    return Record(r);
  }

  ImportProgress progress() const { return progress_; }

 private:
  Status ReadValue(std::string_view text, int64_t line_no, uint64_t start, uint64_t next,
                   int64_t skip) {
    Position done_line{next, line_no + 1, 0};
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) return Advance(done_line, next);
    auto value = api::ParseJsonBody(text, options_.max_json_depth);
    if (!value.ok()) {
      Reject({file_->path, line_no, 0}, value.status().message());
      return Advance(done_line, next);
    }
    bool bundle = false;
    std::vector<Result<Entry>> entries = EntriesOf(std::move(*value), &bundle);
    for (size_t k = static_cast<size_t>(std::max<int64_t>(skip, 0)); k < entries.size(); ++k) {
      if (k > 0 && Stopped()) return Status::Ok();
      int64_t entry_no = bundle ? static_cast<int64_t>(k) + 1 : 0;
      Origin origin{file_->path, line_no, entry_no};
      if (entries[k].ok()) {
        CRS_RETURN_IF_ERROR(Add(std::move(*entries[k]), origin));
      } else {
        Reject(origin, entries[k].status().message());
      }
      bool last = k + 1 == entries.size();
      CRS_RETURN_IF_ERROR(
          Advance(last ? done_line : Position{start, line_no, entry_no}, last ? next : start));
    }
    if (entries.empty()) return Advance(done_line, next);
    return Status::Ok();
  }

  Status Add(Entry entry, const Origin& origin) {
    if (std::optional<std::string> patient = SummaryPatient(entry)) {
      json::object e;
      e["fullUrl"] = "urn:uuid:" + NewId();
      e["resource"] = std::move(entry.resource);
      e["request"] = json::object{{"method", "POST"}, {"url", "Bundle"}};
      round_.documents.push_back(json::serialize(e));
      round_.document_origins.push_back(origin);
      round_.document_patients.insert(*patient);
      return Status::Ok();
    }
    std::string key = entry.type + "/" + entry.id;
    // A transaction names each resource once, and a summary document is
    // checked against the patient and consents committed before it.
    bool touches_document = false;
    if (entry.type == "Patient") {
      touches_document = round_.document_patients.count(entry.id) > 0;
    } else if (entry.type == "Consent" && !round_.documents.empty()) {
      auto consent = access::ParseConsent(entry.resource);
      touches_document = !consent || round_.document_patients.count(consent->patient) > 0;
    }
    if (round_.keys.count(key) > 0 || touches_document) CRS_RETURN_IF_ERROR(Flush());
    json::object e;
    e["fullUrl"] = "urn:uuid:" + NewId();
    e["resource"] = std::move(entry.resource);
    e["request"] = json::object{{"method", "PUT"}, {"url", key}};
    round_.resources.push_back(json::serialize(e));
    round_.resource_origins.push_back(origin);
    round_.keys.insert(std::move(key));
    if (entry.type == "Patient") ++round_.patients;
    return Status::Ok();
  }

  Status Advance(Position position, uint64_t offset) {
    at_ = position;
    Mark(offset);
    if (static_cast<int64_t>(round_.size()) + rejected_in_round_ >= options_.batch_size) {
      return Flush();
    }
    return Status::Ok();
  }

  void Mark(uint64_t offset) {
    round_.positions[file_->path] = at_;
    round_.bytes_done = bytes_base_ + offset;
  }

  void Reject(const Origin& origin, std::string reason) {
    ++rejected_[origin.file];
    ++progress_.counts.rejected;
    ++rejected_in_round_;
    observer_.Rejected(Rejection{origin.file, origin.line, origin.entry, std::move(reason)});
  }

  static std::string BundleOf(const char* type, const std::vector<std::string>& entries) {
    std::string body = R"({"resourceType":"Bundle","type":")";
    body += type;
    body += R"(","entry":[)";
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) body += ',';
      body += entries[i];
    }
    body += "]}";
    return body;
  }

  // POSTs `body` to the base, retrying transport failures, 429 and 503
  // with back-off, under one X-Request-ID.
  Result<http::ClientResponse> Post(const std::string& body, const std::string& request_id) {
    auto delay = std::chrono::milliseconds(500);
    for (int attempt = 0;; ++attempt) {
      CRS_ASSIGN_OR_RETURN(std::string token, options_.token());
      auto r = client_.Send("POST", "",
                            {{"Content-Type", "application/fhir+json"},
                             {"Authorization", "Bearer " + token},
                             {"Prefer", "return=minimal"},
                             {"X-Request-ID", request_id}},
                            body, options_.timeout);
      bool retry = !r.ok() || r->status == 429 || r->status == 503;
      if (!retry) return r;
      if (attempt >= options_.retries || Stopped()) {
        if (!r.ok()) return r.status();
        return Status::Unavailable("the server answered " + std::to_string(r->status) +
                                   " after " + std::to_string(attempt + 1) + " attempts");
      }
      observer_.Note(std::string("server busy or unreachable (") +
                     (r.ok() ? "HTTP " + std::to_string(r->status) : r.status().message()) +
                     "); retrying");
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, std::chrono::milliseconds(16000));
    }
  }

  // The answer's entries, checked to match `count` requests.
  static Result<json::array> Entries(const http::ClientResponse& r, size_t count) {
    std::error_code ec;
    json::value v = json::parse(r.body, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    const json::value* entries = o ? o->if_contains("entry") : nullptr;
    if (count == 0) return json::array();
    if (entries == nullptr || !entries->is_array() || entries->get_array().size() != count) {
      return Status::Internal("the server's answer to a Bundle of " + std::to_string(count) +
                              " entries does not list them");
    }
    return entries->get_array();
  }

  // The batch answer's outcomes: counts written entries, reports the others.
  Status Outcomes(const json::array& entries, const std::vector<Origin>& origins,
                  const std::vector<std::string>& sent, int64_t* written, int64_t* patients) {
    for (size_t i = 0; i < entries.size(); ++i) {
      int status = StatusCodeOf(entries[i]);
      if (status >= 200 && status < 300) {
        ++*written;
        if (patients && sent[i].find(R"("url":"Patient/)") != std::string::npos) ++*patients;
        continue;
      }
      if (status == 401 || status == 429 || status >= 500 || status == 0) {
        return Status::Unavailable("the server could not take an entry (" +
                                   EntryReason(entries[i], status) + ")");
      }
      Reject(origins[i], EntryReason(entries[i], status));
    }
    return Status::Ok();
  }

  static Status Refused(const http::ClientResponse& r) {
    std::error_code ec;
    json::value v = json::parse(r.body, ec);
    std::string why = ec ? "" : Diagnostics(v);
    return Status::Unavailable("the server refused the import (HTTP " + std::to_string(r.status) +
                               (why.empty() ? "" : ": " + why) + ")");
  }

  Status Send(Round& r) {
    std::string id = options_.run_id + "-" + std::to_string(r.number);
    int64_t written = 0, patients = 0;
    if (!r.resources.empty()) {
      CRS_ASSIGN_OR_RETURN(auto answer, Post(BundleOf("transaction", r.resources), id + "-t"));
      if (answer.status == 200) {
        CRS_RETURN_IF_ERROR(Entries(answer, r.resources.size()).status());
        written += static_cast<int64_t>(r.resources.size());
        patients += r.patients;
      } else if (answer.status >= 400 && answer.status < 500 && answer.status != 401 &&
                 answer.status != 413) {
        // An entry is bad: the batch form tells which, and keeps the rest.
        CRS_ASSIGN_OR_RETURN(auto each, Post(BundleOf("batch", r.resources), id + "-b"));
        if (each.status != 200) return Refused(each);
        CRS_ASSIGN_OR_RETURN(json::array entries, Entries(each, r.resources.size()));
        CRS_RETURN_IF_ERROR(Outcomes(entries, r.resource_origins, r.resources, &written, &patients));
      } else {
        return Refused(answer);
      }
    }
    if (!r.documents.empty()) {
      CRS_ASSIGN_OR_RETURN(auto answer, Post(BundleOf("batch", r.documents), id + "-d"));
      if (answer.status != 200) return Refused(answer);
      CRS_ASSIGN_OR_RETURN(json::array entries, Entries(answer, r.documents.size()));
      CRS_RETURN_IF_ERROR(Outcomes(entries, r.document_origins, r.documents, &written, nullptr));
    }
    progress_.counts.written += written;
    progress_.counts.patients += patients;
    return Status::Ok();
  }

  Status Record(const Round& r) {
    for (const auto& [file, position] : r.positions) {
      FileProgress p;
      p.position = position;
      p.rejected = rejected_[file];
      for (const InputFile& f : options_.files) {
        if (f.path == file) {
          p.size = f.size;
          p.mtime_ns = f.mtime_ns;
        }
      }
      p.done = r.finished.count(file) > 0;
      checkpoint_.Set(file, p);
    }
    if (!options_.checkpoint_path.empty()) CRS_RETURN_IF_ERROR(checkpoint_.Save());
    progress_.batches += 1;
    progress_.bytes_done = r.bytes_done;
    observer_.Committed(progress_);
    return Status::Ok();
  }

  http::Client& client_;
  const RemoteOptions& options_;
  ImportObserver& observer_;
  const std::atomic<bool>* stop_;
  Checkpoint& checkpoint_;
  ImportProgress progress_;

  const InputFile* file_ = nullptr;
  Position at_;
  uint64_t bytes_base_ = 0;
  std::map<std::string, int64_t> rejected_;  // per file, including earlier runs
  Round round_;
  int64_t rounds_ = 0;
  int64_t rejected_in_round_ = 0;
};

}  // namespace

Result<ImportSummary> ImportRemote(http::Client& client, const RemoteOptions& options,
                                   ImportObserver& observer, const std::atomic<bool>* stop) {
  if (!options.token) return Status::Invalid("a remote import needs a token");
  CRS_ASSIGN_OR_RETURN(Resume resume, ResumeFrom(options.checkpoint_path, options.files, observer));
  ImportSummary summary;
  summary.rejected_earlier = resume.rejected_earlier;
  RemoteImporter importer(client, options, observer, stop, resume.checkpoint, resume.Start());
  Status st = Status::Ok();
  uint64_t bytes_before = 0;
  for (size_t i = 0; i < options.files.size() && st.ok() && !importer.Stopped(); ++i) {
    if (!resume.starts[i].done) {
      st = importer.ReadFile(options.files[i], resume.starts[i], bytes_before);
    }
    bytes_before += options.files[i].size;
  }
  if (st.ok()) st = importer.Flush();
  summary.progress = importer.progress();
  if (!st.ok()) return st;
  summary.interrupted = stop != nullptr && stop->load();
  return summary;
}

}  // namespace crs::import
