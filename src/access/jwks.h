// Verification keys: the node's own key and the keys of a JWKS document
// (RFC 7517) from a trusted identity provider.
//
// Thread safety: VerifyKey is immutable after loading; share freely.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "access/keys.h"
#include "core/status.h"

namespace crs::access {

struct VerifyKey {
  std::string kid;
  std::string alg;     // "ES256" (EC P-256) or "RS256" (RSA); a token must use exactly this
  std::string issuer;  // the `iss` tokens signed by this key must carry
  // shared_ptr: the node key is shared with NodeKey; JWKS keys are owned here.
  std::shared_ptr<evp_pkey_st> key;
  // Non-empty for a peer node's key (docs/federation.md): its tokens may
  // only act as that node's service, role `system` with `org` == node_org.
  std::string node_org;
};

// The node key as a verification key (ES256, issuer NodeKey::issuer()).
VerifyKey NodeVerifyKey(const NodeKey& node_key);

// Parses a JWKS document. EC P-256 keys (`x`, `y`) become ES256 keys and RSA
// keys (`n`, `e`, at least 2048 bits) RS256 keys, all with issuer `issuer`.
// Keys marked "use":"enc" and other key types are skipped. Invalid when the
// document is malformed, a signature key lacks a kid or its numbers, a kid
// repeats, or a key's "alg" contradicts its type.
Result<std::vector<VerifyKey>> ParseJwks(std::string_view json, const std::string& issuer);

// Reads and parses a JWKS file; Unavailable when it cannot be read.
Result<std::vector<VerifyKey>> LoadJwksFile(const std::string& path, const std::string& issuer);

}  // namespace crs::access
