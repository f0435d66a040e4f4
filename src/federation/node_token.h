// The token a node's service presents to other nodes: role `system`, `org`
// its ODS code, signed by the node key, five minutes long, minted again a
// minute before it expires (docs/federation.md "Trust").
//
// Thread safety: Get may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "access/keys.h"
#include "core/time.h"

namespace crs::federation {

class NodeToken {
 public:
  // `clock` must outlive the NodeToken.
  NodeToken(const access::NodeKey& key, const Clock& clock, std::string ods, std::string audience)
      : key_(key), clock_(clock), ods_(std::move(ods)), audience_(std::move(audience)) {}

  // A current token ("" if minting failed, which only a broken key causes).
  std::string Get();

 private:
  access::NodeKey key_;
  const Clock& clock_;
  const std::string ods_;
  const std::string audience_;
  std::mutex mu_;
  std::string token_;       // GUARDED_BY(mu_)
  int64_t expires_s_ = 0;   // GUARDED_BY(mu_)
};

}  // namespace crs::federation
