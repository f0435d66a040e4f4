#include "federation/registry.h"

#include <boost/json.hpp>

#include "access/facts.h"
#include "access/keys.h"
#include "fhir/json_util.h"
#include "spdlog/spdlog.h"

namespace crs::federation {

namespace json = boost::json;

Result<std::string> NodeEndpoint(std::string_view ods, std::string_view base_url,
                                 std::string_view jwks) {
  auto keys = access::ParseJwks(jwks, "check");
  if (!keys.ok()) return keys.status();
  if (keys->empty()) return Status::Invalid("the node's JWKS has no signing key");
  json::object endpoint{
      {"resourceType", "Endpoint"},
      {"id", "node-" + std::string(ods)},
      {"extension", json::array{json::object{{"url", kNodeJwksExtension},
                                             {"valueString", jwks}}}},
      {"status", "active"},
      {"connectionType",
       json::object{{"system", "http://terminology.hl7.org/CodeSystem/endpoint-connection-type"},
                    {"code", "hl7-fhir-rest"}}},
      {"name", "OpenCRS node " + std::string(ods)},
      {"managingOrganization",
       json::object{{"identifier", json::object{{"system", access::kOdsSystem}, {"value", ods}}}}},
      {"payloadType",
       json::array{json::object{
           {"coding", json::array{json::object{
                          {"system", "http://terminology.hl7.org/CodeSystem/endpoint-payload-type"},
                          {"code", "any"}}}}}}},
      {"address", base_url}};
  return json::serialize(endpoint);
}

std::optional<NodeEntry> ParseNodeEndpoint(std::string_view id, std::string_view body) {
  if (!id.starts_with("node-")) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.as_object();
  if (fhir::StringField(o, "status") != "active") return std::nullopt;
  std::string ods;
  if (const auto* org = o.if_contains("managingOrganization"); org && org->is_object()) {
    if (const auto* i = org->as_object().if_contains("identifier"); i && i->is_object()) {
      ods = std::string(fhir::StringField(i->as_object(), "value"));
    }
  }
  if (ods.empty() || id != "node-" + ods) return std::nullopt;
  std::string jwks;
  if (const auto* ext = o.if_contains("extension"); ext && ext->is_array()) {
    for (const auto& e : ext->as_array()) {
      if (e.is_object() && fhir::StringField(e.as_object(), "url") == kNodeJwksExtension) {
        jwks = std::string(fhir::StringField(e.as_object(), "valueString"));
      }
    }
  }
  auto parsed = access::ParseJwks(jwks, "pending");
  if (!parsed.ok()) {
    spdlog::warn("node registry: the registered key of node {} is unusable", ods);
    return std::nullopt;
  }
  NodeEntry entry;
  for (auto& k : *parsed) {
    k.issuer = std::string(access::kNodeIssuerPrefix) + k.kid;
    k.node_org = ods;
    entry.keys.push_back(std::move(k));
  }
  entry.node = Node{ods, std::string(fhir::StringField(o, "address"))};
  return entry;
}

Status NodeRegistry::Reload() {
  std::map<std::string, access::VerifyKey, std::less<>> keys;
  std::map<std::string, Node, std::less<>> nodes;
  store::SearchQuery q;
  q.type = "Endpoint";
  q.count = 1000;
  while (true) {
    CRS_ASSIGN_OR_RETURN(store::SearchResult page, store_.Search(q));
    for (const auto& m : page.matches) {
      auto entry = ParseNodeEndpoint(m.id, m.body);
      if (!entry) continue;
      for (auto& k : entry->keys) keys.emplace(k.kid, std::move(k));
      nodes[entry->node.ods] = entry->node;
    }
    if (page.next_after_rid == 0) break;
    q.after_rid = page.next_after_rid;
  }
  keys_ = std::move(keys);
  nodes_ = std::move(nodes);
  return Status::Ok();
}

std::optional<access::VerifyKey> NodeRegistry::Resolve(std::string_view kid) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = clock_.NowMs();
  auto it = keys_.find(kid);
  // A hit is served from memory for up to 10 s, so a node taken out of the
  // registry loses its trust within that (plus its tokens' cached life).
  if (it != keys_.end() && now - loaded_ms_ < 10000) return it->second;
  if (it == keys_.end() && loaded_ms_ >= 0 && now - loaded_ms_ < 1000) return std::nullopt;
  loaded_ms_ = now;
  if (Status st = Reload(); !st.ok()) {
    spdlog::warn("node registry: cannot load: {}", st.message());
    return std::nullopt;
  }
  it = keys_.find(kid);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

std::optional<Node> NodeRegistry::Find(std::string_view ods) {
  std::lock_guard<std::mutex> lock(mu_);
  if (loaded_ms_ < 0 || clock_.NowMs() - loaded_ms_ >= 1000) {
    loaded_ms_ = clock_.NowMs();
    (void)Reload();
  }
  auto it = nodes_.find(ods);
  if (it == nodes_.end()) return std::nullopt;
  return it->second;
}

}  // namespace crs::federation
