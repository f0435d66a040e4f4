// A local node's view of the national node registry (docs/federation.md,
// "GP2GP"): where other local nodes answer and which keys their services
// sign with, so two practices can speak to each other directly.
//
// The registry is read from the national node (GET Endpoint?_count=1000,
// paged, with this node's peer token; peer nodes may read it) and kept in
// memory: an entry is trusted for up to 10 s before it is looked up again,
// and an unknown kid or ODS code reloads it at most once a second, so a node
// removed from the registry loses its trust here within about 10 s, as on
// the national node. Only keys of registered nodes are returned, each bound
// to its node's ODS code (VerifyKey::node_org), so such a token can only act
// as that node's service.
//
// Lookups that need a reload call the national node (bounded by `timeout`);
// they run on the caller's thread, which for token verification may be an
// I/O thread — at most once a second, for an unknown key.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "access/jwks.h"
#include "access/keys.h"
#include "core/status.h"
#include "core/time.h"
#include "federation/node_token.h"
#include "federation/registry.h"
#include "http/client.h"

namespace crs::federation {

class PeerDirectory {
 public:
  // Invalid when `national_url` is not an http URL. `clock` must outlive it.
  static Result<std::unique_ptr<PeerDirectory>> Create(const access::NodeKey& key,
                                                       const Clock& clock, std::string ods,
                                                       std::string national_url,
                                                       std::string audience,
                                                       std::chrono::milliseconds timeout);

  // The verification key `kid` of another active registered node.
  std::optional<access::VerifyKey> Resolve(std::string_view kid);
  // The active node of organisation `ods`; Unavailable when the national
  // node cannot be asked, NotFound when `ods` is not registered.
  Result<Node> Find(std::string_view ods);

 private:
  PeerDirectory(const access::NodeKey& key, const Clock& clock, std::string ods,
                std::unique_ptr<http::Client> client, std::string audience,
                std::chrono::milliseconds timeout);
  Status Reload();  // requires mu_

  const Clock& clock_;
  const std::string ods_;
  NodeToken token_;
  const std::chrono::milliseconds timeout_;
  std::mutex mu_;
  std::unique_ptr<http::Client> client_;                        // GUARDED_BY(mu_)
  int64_t loaded_ms_ = -1;                                      // GUARDED_BY(mu_)
  std::map<std::string, access::VerifyKey, std::less<>> keys_;  // GUARDED_BY(mu_), by kid
  std::map<std::string, Node, std::less<>> nodes_;              // GUARDED_BY(mu_), by ODS
};

}  // namespace crs::federation
