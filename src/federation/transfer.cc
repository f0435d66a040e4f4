#include "federation/transfer.h"

#include <algorithm>
#include <boost/json.hpp>
#include <random>
#include <set>

#include "access/facts.h"
#include "core/ids.h"
#include "core/thread_name.h"
#include "federation/pointer.h"
#include "federation/transfer_format.h"
#include "fhir/json_util.h"
#include "nhs/nhs_number.h"
#include "spdlog/spdlog.h"

namespace crs::federation {

namespace json = boost::json;

namespace {

bool Transient(int status) {
  return status == 401 || status == 408 || status == 429 || status >= 500;
}

// The first issue's diagnostics of an OperationOutcome (bounded), else the
// status alone: what a refusal says, never a record's content.
std::string Refusal(const http::ClientResponse& r) {
  std::string why = "status " + std::to_string(r.status);
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return why;
  const auto* issues = v.as_object().if_contains("issue");
  if (issues && issues->is_array() && !issues->as_array().empty() &&
      issues->as_array()[0].is_object()) {
    std::string_view d = fhir::StringField(issues->as_array()[0].as_object(), "diagnostics");
    if (!d.empty()) why += ": " + std::string(d.substr(0, 300));
  }
  return why;
}

bool ValidOds(std::string_view ods) {
  if (ods.size() < 3 || ods.size() > 10) return false;
  return std::all_of(ods.begin(), ods.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

int64_t IntParameter(const json::object& params, std::string_view name) {
  if (const auto* list = params.if_contains("parameter"); list && list->is_array()) {
    for (const auto& p : list->as_array()) {
      if (!p.is_object() || fhir::StringField(p.as_object(), "name") != name) continue;
      if (const auto* v = p.as_object().if_contains("valueInteger"); v && v->is_int64()) {
        return v->as_int64();
      }
    }
  }
  return -1;
}

}  // namespace

Transfers::Transfers(store::Store& store, TransferLog& log, Outbox* outbox, PeerDirectory& peers,
                     const access::NodeKey& key, const Clock& clock, TransferOptions options,
                     Apply apply, std::unique_ptr<http::Client> national)
    : store_(store), log_(log), outbox_(outbox), peers_(peers), clock_(clock),
      options_(std::move(options)), apply_(std::move(apply)),
      token_(key, clock, options_.ods, options_.audience), national_(std::move(national)) {}

Result<std::unique_ptr<Transfers>> Transfers::Start(store::Store& store, TransferLog& log,
                                                    Outbox* outbox, PeerDirectory& peers,
                                                    const access::NodeKey& key,
                                                    const Clock& clock, TransferOptions options,
                                                    Apply apply) {
  if (options.ods.empty()) return Status::Invalid("a practice node needs its ODS code (--org)");
  CRS_ASSIGN_OR_RETURN(auto national, http::Client::Create(options.national_url));
  std::unique_ptr<Transfers> t(new Transfers(store, log, outbox, peers, key, clock,
                                             std::move(options), std::move(apply),
                                             std::move(national)));
  t->thread_ = std::thread([raw = t.get()] {
    SetThreadName("crs-transfer");
    raw->Run();
  });
  return t;
}

Transfers::~Transfers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<http::ClientResponse> Transfers::Call(const std::string& base, const std::string& method,
                                             const std::string& target,
                                             const std::string& body) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"authorization", "Bearer " + token_.Get()}, {"accept", "application/fhir+json"}};
  if (!body.empty()) headers.emplace_back("content-type", "application/fhir+json");
  if (base == options_.national_url && std::this_thread::get_id() == thread_.get_id()) {
    return national_->Send(method, target, headers, body, options_.call_timeout);
  }
  CRS_ASSIGN_OR_RETURN(auto client, http::Client::Create(base));
  return client->Send(method, target, headers, body, options_.call_timeout);
}

// ---- New practice -------------------------------------------------------

Result<Transfer> Transfers::Request(const std::string& nhs, const std::string& from) {
  if (!nhs::IsValidNhsNumber(nhs)) return Status::Invalid("not a valid NHS number");
  if (!ValidOds(from)) return Status::Invalid("'from' must be the old practice's ODS code");
  if (from == options_.ods) return Status::Invalid("a practice cannot transfer a record to itself");
  std::lock_guard<std::mutex> lock(release_mu_);
  CRS_ASSIGN_OR_RETURN(auto pending, log_.Pending());
  for (const Transfer& t : pending) {
    if (t.direction == "in" && t.nhs == nhs && t.peer == from && !TransferLog::Final(t.state)) {
      return Status::Conflict("a transfer of this record from " + from + " is under way: " + t.id);
    }
  }
  Transfer t;
  t.id = options_.ods + "-" + NewId();
  t.direction = "in";
  t.nhs = nhs;
  t.peer = from;
  t.state = "requested";
  t.created_ms = t.updated_ms = clock_.NowMs();
  CRS_RETURN_IF_ERROR(log_.Insert(t, {}));
  spdlog::info("gp2gp: transfer {} requested from {}", t.id, from);
  cv_.notify_all();
  return t;
}

bool Transfers::StepIn(Transfer& t) {
  int64_t now = clock_.NowMs();
  if (!TransferLog::Final(t.state) &&
      now - t.created_ms > std::chrono::milliseconds(options_.transfer_timeout).count()) {
    Finish(t, "failed",
           "not complete within " + std::to_string(options_.transfer_timeout.count()) + " s" +
               (t.last_error.empty() ? "" : "; last error: " + t.last_error));
    return true;
  }
  if (TransferLog::Final(t.state)) return Notify(t);
  if (t.state == "requested") {
    auto r = Call(options_.national_url, "POST", "/Patient/" + t.nhs + "/$register", "");
    if (!r.ok() || Transient(r->status)) {
      Later(t, r.ok() ? "national node: " + Refusal(*r) : r.status().message());
      return false;
    }
    if (r->status >= 300) {
      Finish(t, "failed", "the national node refused the registration (" + Refusal(*r) + ")");
      return true;
    }
    t.state = "receiving";
    t.updated_ms = now;
    (void)log_.Update(t);
    return true;
  }
  auto node = peers_.Find(t.peer);
  if (!node.ok()) {
    Later(t, node.status().message());
    return false;
  }
  int64_t k = t.next_chunk;
  auto r = Call(node->base_url, "GET",
                "/Patient/" + t.nhs + "/$gp2gp-release?transfer=" + t.id + "&chunk=" +
                    std::to_string(k),
                "");
  if (!r.ok() || Transient(r->status)) {
    Later(t, r.ok() ? "practice " + t.peer + ": " + Refusal(*r) : r.status().message());
    return false;
  }
  if (r->status != 200) {
    Finish(t, "failed", "practice " + t.peer + " refused the release (" + Refusal(*r) + ")");
    return true;
  }
  boost::system::error_code ec;
  json::value answer = json::parse(r->body, ec);
  const json::value* bundle = nullptr;
  if (!ec && answer.is_object()) {
    if (const auto* list = answer.as_object().if_contains("parameter"); list && list->is_array()) {
      for (const auto& p : list->as_array()) {
        if (p.is_object() && fhir::StringField(p.as_object(), "name") == "bundle") {
          bundle = p.as_object().if_contains("resource");
        }
      }
    }
  }
  if (bundle == nullptr || !bundle->is_object()) {
    Later(t, "practice " + t.peer + " sent an unreadable chunk");
    return false;
  }
  const json::object& params = answer.as_object();
  int64_t total = IntParameter(params, "total"), chunks = IntParameter(params, "chunks");
  if (total < 0 || chunks < 1) {
    Later(t, "practice " + t.peer + " sent a chunk without its counts");
    return false;
  }
  t.total = total;
  t.chunks = chunks;
  t.withheld = std::max<int64_t>(0, IntParameter(params, "withheld"));
  int64_t n = 0;
  if (const auto* e = bundle->as_object().if_contains("entry"); e && e->is_array()) {
    n = static_cast<int64_t>(e->as_array().size());
  }
  if (Status st = NoCollision(*bundle, t.peer); !st.ok()) {
    Finish(t, "rejected", st.message());
    return true;
  }
  if (n > 0) {
    Status st = apply_(json::serialize(*bundle), t.id + "-chunk-" + std::to_string(k));
    if (st.code() == Code::kUnavailable) {
      Later(t, "storing chunk " + std::to_string(k) + ": " + st.message());
      return false;
    }
    if (!st.ok()) {
      Finish(t, "rejected", "chunk " + std::to_string(k) + " could not be stored: " +
                                st.message().substr(0, 300));
      return true;
    }
  }
  // Recorded only once the chunk is committed: a crash in between applies
  // it again under the same key, which writes nothing twice.
  t.received += n;
  t.next_chunk = k + 1;
  t.updated_ms = clock_.NowMs();
  retry_at_.erase(t.id);
  failures_.erase(t.id);
  if (t.next_chunk < t.chunks) {
    (void)log_.Update(t);
    return true;
  }
  if (t.received != t.total) {
    Finish(t, "rejected", "received " + std::to_string(t.received) + " of " +
                              std::to_string(t.total) + " records");
  } else {
    Finish(t, "accepted",
           t.withheld > 0 ? std::to_string(t.withheld) + " record(s) sealed and locked by their "
                            "author stayed with practice " + t.peer
                          : "");
  }
  return true;
}

Status Transfers::NoCollision(const json::value& bundle, const std::string& from) {
  // A record may only replace one that came from the same practice (an
  // earlier or retried transfer), never one this practice wrote itself.
  const auto* entries = bundle.as_object().if_contains("entry");
  if (entries == nullptr || !entries->is_array()) return Status::Ok();
  for (const auto& e : entries->as_array()) {
    const json::value* req = e.is_object() ? e.as_object().if_contains("request") : nullptr;
    std::string_view url = req && req->is_object() ? fhir::StringField(req->as_object(), "url") : "";
    size_t slash = url.find('/');
    if (slash == std::string_view::npos) return Status::Invalid("a chunk entry has no Type/id");
    auto existing = store_.Read(url.substr(0, slash), url.substr(slash + 1));
    if (!existing.ok() || existing->deleted) continue;
    auto origin = TransferredFrom(existing->body);
    if (!origin || origin->first != from) {
      return Status::Conflict(std::string(url) + " already exists here and did not come from "
                              "practice " + from);
    }
  }
  return Status::Ok();
}

bool Transfers::Notify(Transfer& t) {
  auto node = peers_.Find(t.peer);
  if (!node.ok()) {
    Later(t, node.status().message());
    return false;
  }
  json::object body{{"transfer", t.id}, {"outcome", t.state}, {"reason", t.reason}};
  auto r = Call(node->base_url, "POST", "/Patient/" + t.nhs + "/$gp2gp-ack",
                json::serialize(body));
  if (!r.ok() || Transient(r->status)) {
    Later(t, r.ok() ? "practice " + t.peer + ": " + Refusal(*r) : r.status().message());
    return false;
  }
  // Acknowledged; or refused for good (e.g. 404: the old practice never
  // began this transfer), when there is nothing more to tell it.
  if (r->status >= 300) t.last_error = "acknowledgement refused: " + Refusal(*r);
  t.notified = true;
  t.updated_ms = clock_.NowMs();
  retry_at_.erase(t.id);
  failures_.erase(t.id);
  (void)log_.Update(t);
  return true;
}

// ---- Old practice -------------------------------------------------------

Status Transfers::CheckRegistered(const std::string& nhs, const std::string& to) {
  auto r = Call(options_.national_url, "GET", "/Patient/" + nhs + "/$register", "");
  if (!r.ok()) return Status::Unavailable("the national node cannot be asked: " + r.status().message());
  if (Transient(r->status)) return Status::Unavailable("the national node answered " + Refusal(*r));
  if (r->status != 200) {
    return Status::Forbidden("the national node does not record this patient's registration");
  }
  boost::system::error_code ec;
  json::value doc = json::parse(r->body, ec);
  const json::value* list = !ec && doc.is_object() ? doc.as_object().if_contains("parameter") : nullptr;
  if (list && list->is_array()) {
    for (const auto& p : list->as_array()) {
      if (p.is_object() && fhir::StringField(p.as_object(), "name") == "practice" &&
          fhir::StringField(p.as_object(), "valueString") == to) {
        return Status::Ok();
      }
    }
  }
  return Status::Forbidden("the patient is not registered with practice " + to +
                           " at the national node");
}

Status Transfers::PointersPublished(const std::string& nhs) {
  if (outbox_ == nullptr) return Status::Ok();
  CRS_ASSIGN_OR_RETURN(int64_t cursor, outbox_->Cursor("pointers"));
  constexpr int kLook = 1000;
  CRS_ASSIGN_OR_RETURN(auto changes, store_.Changes(cursor, kLook));
  if (changes.size() == kLook) return Status::Unavailable("pointers are still being published");
  for (const auto& v : changes) {
    if (v.access.patient == nhs && IsRecordType(v.type)) {
      return Status::Unavailable("the patient's pointers are still being published");
    }
  }
  return Status::Ok();
}

Result<std::vector<TransferItem>> Transfers::Manifest(const std::string& nhs, int64_t* withheld) {
  std::vector<TransferItem> items;
  *withheld = 0;
  store::CompartmentQuery q;
  q.type = "Patient";
  q.id = nhs;
  q.links = access::PatientCompartmentLinks();
  q.count = 1000;
  while (true) {
    CRS_ASSIGN_OR_RETURN(store::SearchResult page, store_.Compartment(q));
    for (const auto& m : page.matches) {
      if (m.type == "Patient") continue;  // demographics come from the registration
      if (m.labels & store::AccessFacts::kLocked) {
        ++*withheld;  // sealed and locked: only its author may ever see it
        continue;
      }
      items.push_back({m.type, m.id, m.version});
    }
    if (page.next_after_rid == 0) break;
    q.after_rid = page.next_after_rid;
  }
  return items;
}

Result<std::string> Transfers::Release(const std::string& to, const std::string& nhs,
                                       const std::string& id, int64_t chunk) {
  Result<Transfer> t = Status::Internal("unset");
  {
    std::lock_guard<std::mutex> lock(release_mu_);
    t = log_.Get(id);
    if (!t.ok() && t.status().code() == Code::kNotFound) {
      if (chunk != 0) return Status::NotFound("no such transfer");
      if (!id.starts_with(to + "-") || id.size() > 100) {
        return Status::Forbidden("a transfer id starts with the requesting practice's ODS code");
      }
      CRS_RETURN_IF_ERROR(CheckRegistered(nhs, to));
      CRS_RETURN_IF_ERROR(PointersPublished(nhs));
      Transfer fresh;
      CRS_ASSIGN_OR_RETURN(auto items, Manifest(nhs, &fresh.withheld));
      fresh.id = id;
      fresh.direction = "out";
      fresh.nhs = nhs;
      fresh.peer = to;
      fresh.state = "sending";
      fresh.created_ms = fresh.updated_ms = clock_.NowMs();
      fresh.total = static_cast<int64_t>(items.size());
      int64_t per = std::max(1, options_.chunk);
      fresh.chunks = std::max<int64_t>(1, (fresh.total + per - 1) / per);
      CRS_RETURN_IF_ERROR(log_.Insert(fresh, items));
      spdlog::info("gp2gp: transfer {} to {}: releasing {} record(s)", id, to, fresh.total);
      t = fresh;
    }
  }
  if (!t.ok()) return t.status();
  if (t->direction != "out" || t->peer != to || t->nhs != nhs) {
    return Status::Forbidden("this transfer belongs to another practice or patient");
  }
  if (t->state == "failed" || t->state == "rejected") {
    return Status::Gone("the transfer has " + t->state + " at the sending practice: " + t->reason);
  }
  if (chunk < 0 || chunk >= t->chunks) return Status::Invalid("chunk out of range");
  int64_t per = t->total == 0 ? 1 : (t->total + t->chunks - 1) / t->chunks;
  CRS_ASSIGN_OR_RETURN(auto all, log_.Items(id, 0, t->total));
  if (static_cast<int64_t>(all.size()) != t->total) {
    return Status::Internal("the transfer's manifest is incomplete");
  }
  std::set<std::pair<std::string, std::string>> manifest;
  for (const auto& i : all) manifest.emplace(i.type, i.id);
  json::array entries;
  for (int64_t n = chunk * per; n < std::min(t->total, (chunk + 1) * per); ++n) {
    const TransferItem& item = all[static_cast<size_t>(n)];
    CRS_ASSIGN_OR_RETURN(auto v, store_.ReadVersion(item.type, item.id, item.version));
    CRS_ASSIGN_OR_RETURN(std::string body, ForTransfer(v.body, options_.ods, item.type, manifest));
    entries.push_back(json::object{
        {"resource", json::parse(body)},
        {"request", json::object{{"method", "PUT"},
                                 {"url", item.type + "/" + TransferredId(options_.ods, item.id)}}}});
  }
  json::object bundle{{"resourceType", "Bundle"}, {"type", "transaction"},
                      {"entry", std::move(entries)}};
  json::object params{
      {"resourceType", "Parameters"},
      {"parameter",
       json::array{json::object{{"name", "transfer"}, {"valueString", id}},
                   json::object{{"name", "total"}, {"valueInteger", t->total}},
                   json::object{{"name", "chunks"}, {"valueInteger", t->chunks}},
                   json::object{{"name", "chunk"}, {"valueInteger", chunk}},
                   json::object{{"name", "withheld"}, {"valueInteger", t->withheld}},
                   json::object{{"name", "bundle"}, {"resource", std::move(bundle)}}}}};
  {
    // Progress as the sender saw it; the final word is the receiver's.
    std::lock_guard<std::mutex> lock(release_mu_);
    auto now = log_.Get(id);
    if (now.ok() && !TransferLog::Final(now->state)) {
      now->next_chunk = std::max(now->next_chunk, chunk + 1);
      if (now->next_chunk >= now->chunks) now->state = "sent";
      now->updated_ms = clock_.NowMs();
      (void)log_.Update(*now);
    }
  }
  return json::serialize(params);
}

Status Transfers::Acknowledge(const std::string& from, const std::string& nhs,
                              const std::string& id, const std::string& outcome,
                              const std::string& reason) {
  if (outcome != "accepted" && outcome != "rejected" && outcome != "failed") {
    return Status::Invalid("outcome must be accepted, rejected or failed");
  }
  std::lock_guard<std::mutex> lock(release_mu_);
  CRS_ASSIGN_OR_RETURN(Transfer t, log_.Get(id));
  if (t.direction != "out" || t.peer != from || t.nhs != nhs) {
    return Status::Forbidden("this transfer belongs to another practice or patient");
  }
  std::string why = reason.substr(0, 500);
  if (t.state == outcome && t.reason == why) return Status::Ok();  // a retried acknowledgement
  // The receiver's outcome is the transfer's: it overrides this side's own
  // time-out (the record may have arrived after all).
  t.state = outcome;
  t.reason = why;
  t.updated_ms = clock_.NowMs();
  CRS_RETURN_IF_ERROR(log_.Update(t));
  spdlog::info("gp2gp: transfer {} {} by {}", id, outcome, from);
  return Status::Ok();
}

Result<std::vector<Transfer>> Transfers::Of(const std::string& nhs) {
  CRS_ASSIGN_OR_RETURN(auto all, log_.List());
  std::vector<Transfer> out;
  for (auto& t : all) {
    if (t.nhs == nhs) out.push_back(std::move(t));
  }
  return out;
}

bool Transfers::StepOut(Transfer& t) {
  if (TransferLog::Final(t.state)) return false;
  int64_t limit = std::chrono::milliseconds(options_.transfer_timeout).count();
  if (clock_.NowMs() - t.updated_ms <= limit) return false;
  std::lock_guard<std::mutex> lock(release_mu_);
  auto now = log_.Get(t.id);  // an acknowledgement may have just arrived
  if (!now.ok() || TransferLog::Final(now->state) || clock_.NowMs() - now->updated_ms <= limit) {
    return false;
  }
  Finish(*now, "failed", "no acknowledgement from practice " + t.peer + " within " +
                             std::to_string(options_.transfer_timeout.count()) + " s");
  return true;
}

// ---- The thread ---------------------------------------------------------

void Transfers::Finish(Transfer& t, const std::string& state, const std::string& reason) {
  t.state = state;
  t.reason = reason;
  t.updated_ms = clock_.NowMs();
  t.notified = t.direction == "out";
  retry_at_.erase(t.id);
  failures_.erase(t.id);
  (void)log_.Update(t);
  spdlog::info("gp2gp: transfer {} {}", t.id, state);
}

void Transfers::Later(Transfer& t, const std::string& error) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  ++t.attempts;
  t.last_error = error.substr(0, 300);
  (void)log_.Update(t);
  int failures = failures_[t.id]++;
  int64_t cap = std::min<int64_t>(options_.max_backoff.count(),
                                  int64_t{100} << std::min(failures, 20));
  retry_at_[t.id] = clock_.NowMs() + std::uniform_int_distribution<int64_t>(cap / 2, cap)(rng);
  if (t.attempts == 1) spdlog::warn("gp2gp: transfer {}: retrying", t.id);
}

bool Transfers::Step(Transfer& t) {
  auto at = retry_at_.find(t.id);
  if (at != retry_at_.end() && clock_.NowMs() < at->second) {
    // Waiting out a back-off; the time-out still applies meanwhile.
    if (t.direction != "in" || TransferLog::Final(t.state) ||
        clock_.NowMs() - t.created_ms <=
            std::chrono::milliseconds(options_.transfer_timeout).count()) {
      return false;
    }
  }
  return t.direction == "in" ? StepIn(t) : StepOut(t);
}

void Transfers::Run() {
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    bool progress = false;
    auto pending = log_.Pending();
    if (pending.ok()) {
      for (Transfer& t : *pending) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (stopping_) return;
        }
        progress = Step(t) || progress;
      }
    }
    if (!progress) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, options_.poll, [this] { return stopping_; });
    }
  }
}

}  // namespace crs::federation
