#include "federation/publisher.h"

#include <algorithm>
#include <boost/json.hpp>
#include <random>
#include <set>
#include <unordered_map>

#include "access/jwt.h"
#include "audit/record.h"
#include "core/thread_name.h"
#include "fhir/json_util.h"
#include "federation/gp_summary.h"
#include "federation/pointer.h"
#include "nhs/nhs_number.h"
#include "spdlog/spdlog.h"

namespace crs::federation {

namespace json = boost::json;

namespace {

constexpr const char* kFeed = "pointers";
constexpr const char* kInflight = "pointers.inflight";
constexpr const char* kAuditFeed = "audit";
constexpr const char* kSummaryFeed = "summaries";

// Worth retrying as is: the receiver is busy or failing, or does not (yet)
// trust this node (401: not registered yet, or its key was rotated); an
// operator fixes those without losing what waits.
bool Transient(int status) {
  return status == 401 || status == 408 || status == 429 || status >= 500;
}

}  // namespace

struct Publisher::Op {
  PointerOp pointer;
  std::string Method() const { return pointer.remove ? "DELETE" : "PUT"; }
  std::string Path() const { return "DocumentReference/" + pointer.id; }
};

Publisher::Publisher(store::Store& store, Outbox& outbox, const access::NodeKey& key,
                     const Clock& clock, PublisherOptions options,
                     std::unique_ptr<http::Client> client)
    : store_(store), outbox_(outbox), clock_(clock), options_(std::move(options)),
      client_(std::move(client)), token_(key, clock, options_.ods, options_.audience) {}

Result<std::unique_ptr<Publisher>> Publisher::Start(store::Store& store, Outbox& outbox,
                                                    const access::NodeKey& key,
                                                    const Clock& clock, PublisherOptions options) {
  if (options.ods.empty()) return Status::Invalid("a publishing node needs its ODS code (--org)");
  if (options.local_base.empty()) {
    return Status::Invalid("a publishing node needs its public base URL (--base-url)");
  }
  CRS_ASSIGN_OR_RETURN(auto client, http::Client::Create(options.national_url));
  std::unique_ptr<Publisher> p(
      new Publisher(store, outbox, key, clock, std::move(options), std::move(client)));
  CRS_ASSIGN_OR_RETURN(p->stats_.cursor, outbox.Cursor(kFeed));
  p->thread_ = std::thread([raw = p.get()] {
    SetThreadName("crs-publish");
    raw->Run();
  });
  return p;
}

Publisher::~Publisher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

PublisherStats Publisher::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool Publisher::Sleep(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopping_; });
  return !stopping_;
}

int64_t Publisher::BackoffMs(int attempt) const {
  // 100 ms doubling to max_backoff, with "equal jitter": half fixed, half random.
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  int64_t cap = std::min<int64_t>(options_.max_backoff.count(),
                                  int64_t{100} << std::min(attempt, 20));
  return std::uniform_int_distribution<int64_t>(cap / 2, cap)(rng);
}

void Publisher::Backoff(int attempt) { Sleep(std::chrono::milliseconds(BackoffMs(attempt))); }

std::string Publisher::Token() { return token_.Get(); }

Status Publisher::Classify(const Result<http::ClientResponse>& r) {
  if (!r.ok()) return Status::Unavailable(r.status().message());
  if (r->status >= 200 && r->status < 300) return Status::Ok();
  std::string detail = "national node answered " + std::to_string(r->status) + ": " +
                       r->body.substr(0, 400);
  if (Transient(r->status)) return Status::Unavailable(detail);
  return Status::Invalid(detail);
}

Status Publisher::SendBatch(const std::vector<Op>& ops, const std::string& key) {
  json::array entries;
  for (const Op& op : ops) {
    json::object e{{"request", json::object{{"method", op.Method()}, {"url", op.Path()}}}};
    if (!op.pointer.remove) {
      e["fullUrl"] = client_->base_url() + "/" + op.Path();
      e["resource"] = json::parse(op.pointer.body);
    }
    entries.push_back(std::move(e));
  }
  json::object bundle{{"resourceType", "Bundle"}, {"type", "transaction"},
                      {"entry", std::move(entries)}};
  auto r = client_->Send("POST", "",
                         {{"authorization", "Bearer " + Token()},
                          {"content-type", "application/fhir+json"},
                          {"x-request-id", key},
                          {"prefer", "return=minimal"}},
                         json::serialize(bundle), options_.timeout);
  return Classify(r);
}

Status Publisher::SendOne(const Op& op) {
  auto r = client_->Send(op.Method(), "/" + op.Path(),
                         {{"authorization", "Bearer " + Token()},
                          {"content-type", "application/fhir+json"},
                          {"prefer", "return=minimal"}},
                         op.pointer.remove ? std::string() : op.pointer.body, options_.timeout);
  return Classify(r);
}

void Publisher::DrainReplays() {
  auto letters = outbox_.TakeReplays();
  if (!letters.ok() || letters->empty()) return;
  for (const DeadLetter& d : *letters) {
    auto r = client_->Send(d.method, "/" + d.target,
                           {{"authorization", "Bearer " + Token()},
                            {"content-type", "application/fhir+json"},
                            {"prefer", "return=minimal"}},
                           d.body, options_.timeout);
    Status st = Classify(r);
    if (st.ok()) {
      (void)outbox_.RemoveDead(d.id);
    } else if (st.code() == Code::kUnavailable) {
      return;  // still marked for replay; tried again on the next round
    } else {
      (void)outbox_.FailedAgain(d.id, st.message());
    }
  }
}

bool Publisher::ForwardAudit() {
  if (clock_.NowMs() < audit_retry_at_ms_) return false;
  auto cursor = outbox_.Cursor(kAuditFeed);
  if (!cursor.ok()) return false;
  auto records = store_.ScanAudit(*cursor, options_.batch);
  if (!records.ok() || records->empty()) return false;
  json::array list;
  for (const auto& r : *records) {
    auto parsed = audit::FromJson(r.record);
    // Only what concerns patients belongs in their access log; records
    // forwarded from elsewhere are never sent on.
    if (!parsed.ok() || parsed->patients.empty() || !parsed->node.empty()) continue;
    static const char* kHex = "0123456789abcdef";
    std::string hex;
    for (unsigned char c : r.hash) {
      hex.push_back(kHex[c >> 4]);
      hex.push_back(kHex[c & 15]);
    }
    list.push_back(json::object{{"seq", r.seq}, {"hash", hex}, {"record", r.record}});
  }
  int64_t last = records->back().seq;
  Status st = Status::Ok();
  size_t sent = list.size();
  if (!list.empty()) {
    json::object body{{"records", std::move(list)}};
    auto r = client_->Send("POST", "/AuditEvent/$forward",
                           {{"authorization", "Bearer " + Token()},
                            {"content-type", "application/json"},
                            {"x-request-id", options_.ods + "-audit-" + std::to_string(last)}},
                           json::serialize(body), options_.timeout);
    st = Classify(r);
    if (!st.ok() && st.code() != Code::kUnavailable) {
      DeadLetter d;
      d.created_ms = clock_.NowMs();
      d.feed = kAuditFeed;
      d.method = "POST";
      d.target = "AuditEvent/$forward";
      d.body = json::serialize(body);
      d.error = st.message();
      d.attempts = 1;
      (void)outbox_.AddDead(d);
      spdlog::warn("publisher: audit records were refused and set aside (crs outbox list)");
      st = Status::Ok();
    }
  }
  if (!st.ok()) {
    Later(&audit_failures_, &audit_retry_at_ms_);
    return false;
  }
  audit_failures_ = 0;
  (void)outbox_.SetCursor(kAuditFeed, last);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.audit_cursor = last;
  stats_.audit_forwarded += static_cast<int64_t>(sent);
  return true;
}

void Publisher::Later(int* failures, int64_t* retry_at_ms) {
  *retry_at_ms = clock_.NowMs() + BackoffMs((*failures)++);
}

Result<access::ConsentState> Publisher::NationalConsent(const std::string& nhs) {
  auto r = client_->Send("GET", "/Consent?patient=" + nhs + "&_count=1000",
                         {{"authorization", "Bearer " + Token()}}, "", options_.timeout);
  CRS_RETURN_IF_ERROR(Classify(r));
  boost::system::error_code ec;
  json::value bundle = json::parse(r->body, ec);
  if (ec || !bundle.is_object()) return Status::Unavailable("consent answer is not JSON");
  std::vector<std::pair<access::ConsentDecision, int64_t>> decisions;
  if (const auto* entries = bundle.as_object().if_contains("entry"); entries && entries->is_array()) {
    for (const auto& e : entries->as_array()) {
      const json::value* res = e.is_object() ? e.as_object().if_contains("resource") : nullptr;
      if (res == nullptr) continue;
      auto d = access::ParseConsent(*res);
      if (!d || d->patient != nhs) continue;
      int64_t updated = 0;
      if (const auto* meta = res->as_object().if_contains("meta"); meta && meta->is_object()) {
        updated = ParseFhirDateTime(fhir::StringField(meta->as_object(), "lastUpdated")).value_or(0);
      }
      decisions.emplace_back(*d, updated);
    }
  }
  return access::Decide(decisions);
}

bool Publisher::UploadSummaries() {
  if (!options_.upload_summaries || clock_.NowMs() < summary_retry_at_ms_) return false;
  auto cursor = outbox_.Cursor(kSummaryFeed);
  if (!cursor.ok()) return false;
  auto changes = store_.Changes(*cursor, options_.batch);
  if (!changes.ok() || changes->empty()) return false;
  int64_t last = changes->back().seq;
  std::set<std::string> patients;
  for (const auto& v : *changes) {
    if (IsSummaryType(v.type) && nhs::IsValidNhsNumber(v.access.patient)) {
      patients.insert(v.access.patient);
    }
  }
  for (const std::string& nhs : patients) {
    auto consent = NationalConsent(nhs);
    if (!consent.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.failed_attempts;
      stats_.last_error = consent.status().message();
      Later(&summary_failures_, &summary_retry_at_ms_);
      return false;
    }
    if (!consent->ScrAllowed(options_.consent_model)) {
      // Under dissent nothing leaves the practice; the national node has
      // purged what it held.
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.summaries_withheld;
      continue;
    }
    auto doc = BuildGpSummary(store_, nhs, options_.ods, options_.sensitive, clock_.NowMs(),
                              std::to_string(last));
    if (!doc.ok()) {
      spdlog::warn("publisher: cannot build a summary: {}", doc.status().message());
      Later(&summary_failures_, &summary_retry_at_ms_);
      return false;
    }
    auto r = client_->Send("POST", "/Bundle",
                           {{"authorization", "Bearer " + Token()},
                            {"content-type", "application/fhir+json"},
                            {"x-request-id", options_.ods + "-scr-" + nhs + "-" +
                                                 std::to_string(last)},
                            {"prefer", "return=minimal"}},
                           *doc, options_.timeout);
    Status st = Classify(r);
    if (st.code() == Code::kUnavailable) {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.failed_attempts;
      stats_.last_error = st.message();
      Later(&summary_failures_, &summary_retry_at_ms_);
      return false;
    }
    if (!st.ok()) {
      DeadLetter d;
      d.created_ms = clock_.NowMs();
      d.feed = kSummaryFeed;
      d.method = "POST";
      d.target = "Bundle";
      d.body = *doc;
      d.error = st.message();
      d.attempts = 1;
      (void)outbox_.AddDead(d);
      spdlog::warn("publisher: a summary upload was refused and set aside (crs outbox list)");
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.summaries_uploaded;
  }
  summary_failures_ = 0;
  (void)outbox_.SetCursor(kSummaryFeed, last);
  return true;
}

void Publisher::Run() {
  int failures = 0;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    DrainReplays();
    bool progress = ForwardAudit();
    progress = UploadSummaries() || progress;
    auto cursor = outbox_.Cursor(kFeed);
    auto inflight = outbox_.Cursor(kInflight);
    auto changes = cursor.ok() ? store_.Changes(*cursor, options_.batch)
                               : Result<std::vector<store::ResourceVersion>>(cursor.status());
    if (!changes.ok() || !inflight.ok()) {
      spdlog::warn("publisher: cannot read the change feed: {}",
                   changes.ok() ? inflight.status().message() : changes.status().message());
      if (!Sleep(std::chrono::seconds(1))) return;
      continue;
    }
    // A batch sent before a restart is rebuilt with the same extent, so a
    // retry carries the same X-Request-ID.
    if (*inflight > *cursor) {
      while (!changes->empty() && changes->back().seq > *inflight) changes->pop_back();
    }
    if (changes->empty()) {
      if (!progress && !Sleep(options_.poll)) return;
      continue;
    }
    int64_t first = changes->front().seq;
    int64_t last = changes->back().seq;
    // One operation per pointer, the latest version winning.
    std::vector<Op> ops;
    std::unordered_map<std::string, size_t> at;
    for (const auto& v : *changes) {
      auto op = PointerFor(v, options_.ods, options_.local_base);
      if (!op) continue;
      auto [it, fresh] = at.emplace(op->id, ops.size());
      if (fresh) {
        ops.push_back(Op{std::move(*op)});
      } else {
        ops[it->second] = Op{std::move(*op)};
      }
    }
    Status st = Status::Ok();
    if (!ops.empty()) {
      if (*inflight != last) {
        if (Status s = outbox_.SetCursor(kInflight, last); !s.ok()) {
          spdlog::error("publisher: cannot record the batch: {}", s.message());
          if (!Sleep(std::chrono::seconds(1))) return;
          continue;
        }
      }
      std::string key = options_.ods + "-pointers-" + std::to_string(first) + "-" +
                        std::to_string(last);
      st = SendBatch(ops, key);
      if (!st.ok() && st.code() != Code::kUnavailable) {
        // Refused as a whole: find the entries at fault, one by one.
        st = Status::Ok();
        for (const Op& op : ops) {
          Status one = SendOne(op);
          int tries = 0;
          while (one.code() == Code::kUnavailable) {
            {
              std::lock_guard<std::mutex> lock(mu_);
              ++stats_.failed_attempts;
              stats_.last_error = one.message();
            }
            Backoff(tries++);
            {
              std::lock_guard<std::mutex> lock(mu_);
              if (stopping_) return;
            }
            one = SendOne(op);
          }
          if (!one.ok()) {
            DeadLetter d;
            d.created_ms = clock_.NowMs();
            d.feed = kFeed;
            d.method = op.Method();
            d.target = op.Path();
            d.body = op.pointer.remove ? std::string() : op.pointer.body;
            d.error = one.message();
            d.attempts = 1;
            (void)outbox_.AddDead(d);
            spdlog::warn("publisher: a pointer was refused and set aside (crs outbox list)");
            std::lock_guard<std::mutex> lock(mu_);
            ++stats_.dead;
          }
        }
      }
    }
    if (st.ok()) {
      if (Status s = outbox_.SetCursor(kFeed, last); !s.ok()) {
        spdlog::error("publisher: cannot advance the cursor: {}", s.message());
      }
      failures = 0;
      std::lock_guard<std::mutex> lock(mu_);
      stats_.cursor = last;
      stats_.published += static_cast<int64_t>(ops.size());
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.failed_attempts;
      stats_.last_error = st.message();
    }
    // The reason stays in stats and dead letters: an answer's body may name
    // records, and logs carry no personal data.
    if (failures == 0) spdlog::warn("publisher: the national node is unavailable; retrying");
    Backoff(failures++);
  }
}

}  // namespace crs::federation
