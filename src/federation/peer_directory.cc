#include "federation/peer_directory.h"

#include <boost/json.hpp>

#include "fhir/json_util.h"
#include "spdlog/spdlog.h"

namespace crs::federation {

namespace json = boost::json;

namespace {
constexpr int64_t kFreshMs = 10000;   // a known entry is reused this long
constexpr int64_t kReloadMs = 1000;   // an unknown one reloads at most this often
}  // namespace

PeerDirectory::PeerDirectory(const access::NodeKey& key, const Clock& clock, std::string ods,
                             std::unique_ptr<http::Client> client, std::string audience,
                             std::chrono::milliseconds timeout)
    : clock_(clock), ods_(ods), token_(key, clock, std::move(ods), std::move(audience)),
      timeout_(timeout), client_(std::move(client)) {}

Result<std::unique_ptr<PeerDirectory>> PeerDirectory::Create(
    const access::NodeKey& key, const Clock& clock, std::string ods, std::string national_url,
    std::string audience, std::chrono::milliseconds timeout) {
  CRS_ASSIGN_OR_RETURN(auto client, http::Client::Create(national_url));
  return std::unique_ptr<PeerDirectory>(new PeerDirectory(
      key, clock, std::move(ods), std::move(client), std::move(audience), timeout));
}

Status PeerDirectory::Reload() {
  std::map<std::string, access::VerifyKey, std::less<>> keys;
  std::map<std::string, Node, std::less<>> nodes;
  std::string target = "/Endpoint?_count=1000";
  for (int page = 0; page < 100 && !target.empty(); ++page) {
    auto r = client_->Send("GET", target, {{"authorization", "Bearer " + token_.Get()}}, "",
                           timeout_);
    if (!r.ok()) return r.status();
    if (r->status != 200) {
      return Status::Unavailable("the national node answered " + std::to_string(r->status) +
                                 " to a registry look-up");
    }
    boost::system::error_code ec;
    json::value bundle = json::parse(r->body, ec);
    if (ec || !bundle.is_object()) return Status::Unavailable("the registry is not JSON");
    target.clear();
    const json::object& b = bundle.as_object();
    if (const auto* entries = b.if_contains("entry"); entries && entries->is_array()) {
      for (const auto& e : entries->as_array()) {
        const json::value* res = e.is_object() ? e.as_object().if_contains("resource") : nullptr;
        if (res == nullptr || !res->is_object()) continue;
        std::string id(fhir::StringField(res->as_object(), "id"));
        auto entry = ParseNodeEndpoint(id, json::serialize(*res));
        if (!entry || entry->node.ods == ods_) continue;  // this node's own key is trusted already
        for (auto& k : entry->keys) keys.emplace(k.kid, std::move(k));
        nodes[entry->node.ods] = entry->node;
      }
    }
    if (const auto* links = b.if_contains("link"); links && links->is_array()) {
      for (const auto& l : links->as_array()) {
        if (!l.is_object() || fhir::StringField(l.as_object(), "relation") != "next") continue;
        std::string_view url = fhir::StringField(l.as_object(), "url");
        size_t q = url.find('?');
        if (q != std::string_view::npos) target = "/Endpoint" + std::string(url.substr(q));
      }
    }
  }
  keys_ = std::move(keys);
  nodes_ = std::move(nodes);
  return Status::Ok();
}

std::optional<access::VerifyKey> PeerDirectory::Resolve(std::string_view kid) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = clock_.NowMs();
  auto it = keys_.find(kid);
  if (it != keys_.end() && now - loaded_ms_ < kFreshMs) return it->second;
  if (it == keys_.end() && loaded_ms_ >= 0 && now - loaded_ms_ < kReloadMs) return std::nullopt;
  loaded_ms_ = now;
  if (Status st = Reload(); !st.ok()) {
    spdlog::warn("peer directory: cannot read the node registry: {}", st.message());
    return std::nullopt;
  }
  it = keys_.find(kid);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

Result<Node> PeerDirectory::Find(std::string_view ods) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = clock_.NowMs();
  auto it = nodes_.find(ods);
  bool fresh = loaded_ms_ >= 0 && now - loaded_ms_ < (it != nodes_.end() ? kFreshMs : kReloadMs);
  if (!fresh) {
    if (Status st = Reload(); !st.ok()) {
      loaded_ms_ = -1;  // not a fresh answer: ask again next time
      return st;
    }
    loaded_ms_ = now;
    it = nodes_.find(ods);
  }
  if (it == nodes_.end()) {
    return Status::NotFound("practice " + std::string(ods) + " has no active node in the registry");
  }
  return it->second;
}

}  // namespace crs::federation
