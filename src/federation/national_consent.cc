#include "federation/national_consent.h"

#include <boost/json.hpp>
#include <cctype>

#include "access/jwt.h"
#include "core/thread_name.h"
#include "fhir/json_util.h"
#include "spdlog/spdlog.h"

namespace crs::federation {

namespace json = boost::json;

namespace {

// A query parameter's value, percent-encoded (a patient id comes from a
// request or a stored resource and must not add parameters of its own).
std::string Escaped(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Changes are looked for from this long before the previous look, so a
// Consent whose commit became visible after a later one is not missed.
constexpr int64_t kOverlapMs = 5000;

bool HasNextPage(const json::object& bundle) {
  const json::value* links = bundle.if_contains("link");
  if (!links || !links->is_array()) return false;
  for (const auto& l : links->get_array()) {
    if (l.is_object() && fhir::StringField(l.get_object(), "relation") == "next") return true;
  }
  return false;
}

// The resources of a searchset Bundle's entries.
std::vector<const json::object*> Resources(const json::object& bundle) {
  std::vector<const json::object*> out;
  const json::value* entries = bundle.if_contains("entry");
  if (!entries || !entries->is_array()) return out;
  for (const auto& e : entries->get_array()) {
    const json::value* r = e.is_object() ? e.get_object().if_contains("resource") : nullptr;
    if (r && r->is_object()) out.push_back(&r->get_object());
  }
  return out;
}

Result<json::object> ParseBundle(const http::ClientResponse& r) {
  if (r.status != 200) {
    return Status::Unavailable("national node answered " + std::to_string(r.status));
  }
  json::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return Status::Unavailable("national node sent no Bundle");
  return std::move(v.get_object());
}

}  // namespace

NationalConsent::NationalConsent(const access::NodeKey& key, const Clock& clock,
                                 NationalConsentOptions options)
    : clock_(clock), options_(std::move(options)),
      token_(key, clock, options_.ods, options_.audience) {}

Result<std::unique_ptr<NationalConsent>> NationalConsent::Start(const access::NodeKey& key,
                                                                const Clock& clock,
                                                                NationalConsentOptions options) {
  CRS_ASSIGN_OR_RETURN(auto probe, http::Client::Create(options.national_url));
  std::unique_ptr<NationalConsent> n(new NationalConsent(key, clock, std::move(options)));
  n->pool_.push_back(std::move(probe));
  // Any entry cached from now on is younger than the TTL, so the first look
  // for changes needs to go back no further.
  n->watermark_ = FormatInstant(clock.NowMs() - n->options_.ttl.count() * 1000 - kOverlapMs);
  n->poller_ = std::thread([p = n.get()] {
    SetThreadName("crs-consent");
    p->PollLoop();
  });
  return n;
}

NationalConsent::~NationalConsent() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (poller_.joinable()) poller_.join();
}

NationalConsentStats NationalConsent::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Result<access::ConsentState> NationalConsent::Get(std::string_view patient) {
  uint64_t epoch = 0;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(patient);
    if (it != cache_.end() &&
        clock_.NowMs() - it->second.fetched_ms < options_.ttl.count() * 1000) {
      ++stats_.hits;
      return it->second.state;
    }
    epoch = epoch_;
    if (clock_.NowMs() < down_until_ms_) {
      ++stats_.failures;
      return Status::Unavailable("the national node did not answer a moment ago");
    }
  }
  auto state = Fetch(std::string(patient));
  std::lock_guard lock(mu_);
  if (!state.ok()) {
    ++stats_.failures;
    down_until_ms_ = clock_.NowMs() + options_.retry_after.count();
    return state.status();
  }
  ++stats_.fetches;
  down_until_ms_ = 0;
  // A state fetched while decisions were being forgotten may predate the
  // change: it answers this request but is not kept.
  if (epoch == epoch_ && options_.ttl.count() > 0) {
    cache_[std::string(patient)] = Entry{*state, clock_.NowMs()};
  }
  return state;
}

Result<access::ConsentState> NationalConsent::Fetch(const std::string& patient) {
  CRS_ASSIGN_OR_RETURN(http::ClientResponse r,
                       Ask("/Consent?patient=" + Escaped(patient) + "&_count=1000"));
  CRS_ASSIGN_OR_RETURN(json::object bundle, ParseBundle(r));
  if (HasNextPage(bundle)) {
    return Status::Unavailable("too many Consent resources for one patient to decide on");
  }
  std::vector<std::pair<access::ConsentDecision, int64_t>> decisions;
  for (const json::object* res : Resources(bundle)) {
    auto d = access::ParseConsent(json::value(*res));
    if (!d || d->patient != patient) continue;
    int64_t updated = 0;
    if (const json::value* meta = res->if_contains("meta"); meta && meta->is_object()) {
      updated = ParseFhirDateTime(fhir::StringField(meta->get_object(), "lastUpdated")).value_or(0);
    }
    decisions.emplace_back(*d, updated);
  }
  return access::Decide(decisions);
}

Result<http::ClientResponse> NationalConsent::Ask(const std::string& target) {
  std::unique_ptr<http::Client> client;
  {
    std::lock_guard lock(pool_mu_);
    if (!pool_.empty()) {
      client = std::move(pool_.back());
      pool_.pop_back();
    }
  }
  if (!client) {
    CRS_ASSIGN_OR_RETURN(client, http::Client::Create(options_.national_url));
  }
  auto r = client->Send(
      "GET", target, {{"authorization", "Bearer " + Token()}, {"accept", "application/fhir+json"}},
      "", options_.timeout);
  std::lock_guard lock(pool_mu_);
  if (pool_.size() < 16) pool_.push_back(std::move(client));
  return r;
}

std::string NationalConsent::Token() { return token_.Get(); }

void NationalConsent::PollLoop() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.poll, [this] { return stopping_; });
      if (stopping_) return;
    }
    // A failed look is retried from the same watermark; meanwhile the TTL
    // bounds how long a cached state is served.
    if (Status st = PollOnce(); !st.ok()) {
      spdlog::debug("consent change poll failed: {}", st.message());
    }
  }
}

Status NationalConsent::PollOnce() {
  CRS_ASSIGN_OR_RETURN(http::ClientResponse r,
                       Ask("/Consent?_lastUpdated=ge" + watermark_ + "&_count=1000"));
  CRS_ASSIGN_OR_RETURN(json::object bundle, ParseBundle(r));
  // The national node's own clock dates the next look.
  std::string_view now_text;
  if (const json::value* meta = bundle.if_contains("meta"); meta && meta->is_object()) {
    now_text = fhir::StringField(meta->get_object(), "lastUpdated");
  }
  auto national_now = ParseFhirDateTime(now_text);
  if (!national_now) return Status::Unavailable("national node's Bundle has no lastUpdated");
  std::vector<std::string> changed;
  for (const json::object* res : Resources(bundle)) {
    if (auto d = access::ParseConsent(json::value(*res))) changed.push_back(d->patient);
  }
  std::lock_guard lock(mu_);
  down_until_ms_ = 0;
  if (HasNextPage(bundle)) {
    stats_.refreshed += static_cast<int64_t>(cache_.size());
    cache_.clear();  // more changes than one page: forget everything
    ++epoch_;
  } else if (!changed.empty()) {
    for (const auto& p : changed) stats_.refreshed += static_cast<int64_t>(cache_.erase(p));
    ++epoch_;
  }
  watermark_ = FormatInstant(*national_now - kOverlapMs);
  return Status::Ok();
}

}  // namespace crs::federation
