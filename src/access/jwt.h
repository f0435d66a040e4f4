// Bearer tokens: minting node-signed JWTs and authenticating requests.
//
// A token is a compact JWS (RFC 7515/7519) signed ES256 (node key, or EC
// P-256 keys of a JWKS file) or RS256 (RSA keys of a JWKS file). Claims are
// listed in /work/shared/API.md "Tokens (JWT claims)"; docs/access.md
// describes the checks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/jwks.h"
#include "access/keys.h"
#include "access/principal.h"
#include "core/status.h"
#include "core/time.h"

namespace crs::access {

// The audience OpenCRS tokens are minted for and checked against by default.
inline constexpr std::string_view kDefaultAudience = "urn:opencrs:fhir";

struct TokenClaims {
  std::string user;     // sub (required)
  std::string name;     // display name (optional)
  std::string role;     // RBAC role code, `patient` or `system` (required, known)
  std::string org;      // ODS code (required except for patients)
  std::string patient;  // NHS number (required for, and only allowed with, role patient)
  std::vector<std::string> scopes;      // SMART scopes, joined with spaces into `scope`
  std::vector<std::string> activities;  // optional; omitted from the token when empty
  std::string audience;                 // empty: kDefaultAudience
  int64_t ttl_seconds = 8 * 3600;       // 1 s .. 30 days
};

// Invalid, with a message for a human (it may quote the offending value),
// when `claims` would not pass Authenticate: unknown role, missing user or
// org, bad or misplaced NHS number, malformed scope or activity, ttl outside
// 1 s .. 30 days.
Status ValidateTokenClaims(const TokenClaims& claims);

// Signs `claims` with the node key: header {"alg":"ES256","typ":"JWT","kid"},
// claims iss aud sub iat exp jti [name] role [org] scope [activities]
// [patient] (bracketed ones only when non-empty).
// `jti` is 128 random bits, base64url. Invalid as ValidateTokenClaims.
Result<std::string> MintToken(const NodeKey& key, const TokenClaims& claims, int64_t now_seconds);

struct AuthOptions {
  std::string audience = std::string(kDefaultAudience);
  // Optional JWKS file ({"keys":[...]}, EC P-256 and RSA >= 2048-bit
  // signature keys) of a trusted identity provider, whose tokens must carry
  // `iss` == jwks_issuer.
  std::string jwks_file;
  std::string jwks_issuer;
  // Keys known elsewhere (the national node's key on a local node; the
  // registered peer nodes' keys on the national node), asked for a kid that
  // is neither the node key nor a JWKS key. May be called concurrently.
  std::function<std::optional<VerifyKey>(std::string_view kid)> resolve_key;
  int64_t clock_skew_seconds = 60;
  size_t cache_entries = 100000;  // 0 disables the verified-token cache
};

// Verifies bearer tokens and turns them into Principals.
//
// Thread safety: Authenticate may be called concurrently from any thread.
class Authenticator {
 public:
  // `clock` must outlive the Authenticator. Errors: Invalid for inconsistent
  // options (JWKS file without issuer, duplicate or clashing kids); Unavailable
  // when the JWKS file cannot be read; Invalid when it is malformed.
  static Result<std::unique_ptr<Authenticator>> Create(const NodeKey& node_key,
                                                       const AuthOptions& options,
                                                       const Clock& clock);
  ~Authenticator();

  // Authenticates an Authorization header value, "Bearer <jwt>" (scheme
  // case-insensitive). Every failure is Code::kUnauthenticated with a short
  // fixed message (e.g. "token expired", "invalid token signature") that
  // never echoes token contents. Verified principals are cached until the
  // token's exp; failures are never cached.
  Result<std::shared_ptr<const Principal>> Authenticate(std::string_view authorization) const;

  // Number of cached verified tokens (for metrics and tests).
  size_t CachedTokens() const;

 private:
  struct Impl;
  explicit Authenticator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace crs::access
