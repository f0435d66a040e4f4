// The node registry of the national node (docs/federation.md): which peer
// nodes exist, where they answer, and the keys their services sign with.
//
// Each node is an Endpoint resource "node-<ODS>" (status active, address =
// the node's FHIR base URL, managingOrganization = its ODS code) carrying
// the node's public JWKS in the extension kNodeJwksExtension. Writing one is
// an administrator's act (`crs node add`, or PUT by a system token of this
// node's own issuer); peer nodes can never write them.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/jwks.h"
#include "core/status.h"
#include "core/time.h"
#include "store/store.h"

namespace crs::federation {

inline constexpr std::string_view kNodeJwksExtension = "urn:opencrs:node-jwks";

// The registry entry of a node: Endpoint "node-<ods>" as JSON.
// Invalid when the JWKS has no usable signing key.
Result<std::string> NodeEndpoint(std::string_view ods, std::string_view base_url,
                                 std::string_view jwks);

struct Node {
  std::string ods;
  std::string base_url;
};

// An active registry entry: the node and its verification keys (issuer
// "urn:opencrs:node:<kid>", node_org its ODS code). nullopt for an entry
// that is not an active, well-formed node-<ODS> Endpoint with usable keys.
struct NodeEntry {
  Node node;
  std::vector<access::VerifyKey> keys;
};
std::optional<NodeEntry> ParseNodeEndpoint(std::string_view id, std::string_view body);

class NodeRegistry {
 public:
  // `store` and `clock` must outlive the registry.
  NodeRegistry(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // The verification key `kid` of an active registered node (issuer
  // "urn:opencrs:node:<kid>", node_org its ODS code). An unknown kid reloads
  // the registry from the store, at most once a second.
  std::optional<access::VerifyKey> Resolve(std::string_view kid);

  // The active node of organisation `ods`, if registered.
  std::optional<Node> Find(std::string_view ods);

 private:
  Status Reload();

  store::Store& store_;
  const Clock& clock_;
  std::mutex mu_;
  int64_t loaded_ms_ = -1;
  std::map<std::string, access::VerifyKey, std::less<>> keys_;  // by kid
  std::map<std::string, Node, std::less<>> nodes_;              // by ODS code
};

}  // namespace crs::federation
