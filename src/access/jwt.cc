#include "access/jwt.h"

#include <openssl/rand.h>

#include <boost/json.hpp>
#include <cmath>

#include "access/crypto.h"
#include "access/jwks.h"
#include "access/rbac.h"
#include "access/token_cache.h"
#include "nhs/nhs_number.h"

namespace crs::access {
namespace {

namespace json = boost::json;

constexpr size_t kMaxTokenBytes = 8 * 1024;
constexpr int kMaxJsonDepth = 4;
constexpr size_t kMaxActivities = 64;
constexpr size_t kMaxIdLength = 256;
constexpr int64_t kMaxTtlSeconds = 30 * 24 * 3600;
// exp/nbf/iat beyond this (year ~5138) are refused rather than overflowing ms.
constexpr int64_t kMaxEpochSeconds = 100'000'000'000;

Status Unauthenticated(const char* message) { return Status(Code::kUnauthenticated, message); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Result<std::string_view> BearerToken(std::string_view header) {
  header = Trim(header);
  size_t space = header.find_first_of(" \t");
  if (space == std::string_view::npos || !EqualsIgnoreCase(header.substr(0, space), "Bearer")) {
    return Unauthenticated("bearer token required");
  }
  std::string_view token = Trim(header.substr(space));
  if (token.empty()) return Unauthenticated("bearer token required");
  if (token.size() > kMaxTokenBytes) return Unauthenticated("token too large");
  return token;
}

// A JSON object from a base64url segment, or nullopt.
std::optional<json::object> DecodeObject(std::string_view segment) {
  std::optional<std::string> text = crypto::Base64UrlDecode(segment);
  if (!text) return std::nullopt;
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec, {}, options);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

// A NumericDate claim in whole seconds; nullopt when missing; error when not
// a number in range.
Result<std::optional<int64_t>> NumericDate(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return std::optional<int64_t>();
  double d;
  if (v->is_int64()) {
    d = static_cast<double>(v->get_int64());
  } else if (v->is_uint64()) {
    d = static_cast<double>(v->get_uint64());
  } else if (v->is_double()) {
    d = v->get_double();
  } else {
    return Unauthenticated("malformed time claim");
  }
  if (!std::isfinite(d) || d < 0 || d > static_cast<double>(kMaxEpochSeconds)) {
    return Unauthenticated("malformed time claim");
  }
  return std::optional<int64_t>(static_cast<int64_t>(d));
}

// The string claim `name`: empty when absent, error when not a string or too long.
Result<std::string> StringClaim(const json::object& claims, std::string_view name,
                                size_t max_length = kMaxIdLength) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return std::string();
  if (!v->is_string() || v->get_string().size() > max_length) {
    return Unauthenticated("malformed claim");
  }
  return std::string(v->get_string());
}

bool AudienceMatches(const json::value* aud, std::string_view audience) {
  if (aud == nullptr) return false;
  if (aud->is_string()) return aud->get_string() == audience;
  if (!aud->is_array()) return false;
  for (const json::value& a : aud->get_array()) {
    if (a.is_string() && a.get_string() == audience) return true;
  }
  return false;
}

Result<std::vector<std::string>> ActivitiesClaim(const json::value& v) {
  if (!v.is_array() || v.get_array().size() > kMaxActivities) {
    return Unauthenticated("malformed activities claim");
  }
  std::vector<std::string> out;
  for (const json::value& a : v.get_array()) {
    if (!a.is_string() || !rbac::IsWellFormedActivity(a.get_string())) {
      return Unauthenticated("malformed activities claim");
    }
    out.emplace_back(a.get_string());
  }
  return out;
}

std::string RandomJti() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  return crypto::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
}

}  // namespace

Status ValidateTokenClaims(const TokenClaims& c) {
  if (c.user.empty() || c.user.size() > kMaxIdLength) return Status::Invalid("user is required");
  if (!rbac::IsKnownRole(c.role)) return Status::Invalid("unknown role '" + c.role + "'");
  bool patient_role = c.role == rbac::kPatient;
  if (!patient_role && c.org.empty()) return Status::Invalid("org (ODS code) is required");
  if (c.org.size() > kMaxIdLength || c.name.size() > kMaxIdLength) {
    return Status::Invalid("org or name too long");
  }
  if (patient_role) {
    if (!nhs::IsValidNhsNumber(c.patient)) {
      return Status::Invalid("a patient token needs a valid NHS number");
    }
    if (!c.activities.empty()) return Status::Invalid("patient tokens carry no activities");
  } else if (!c.patient.empty()) {
    return Status::Invalid("only patient tokens carry a patient NHS number");
  }
  for (const std::string& a : c.activities) {
    if (!rbac::IsWellFormedActivity(a))
      return Status::Invalid("malformed activity code '" + a + "'");
  }
  if (c.activities.size() > kMaxActivities) return Status::Invalid("too many activities");
  for (const std::string& s : c.scopes) {
    if (s.empty() || s.find(' ') != std::string::npos) return Status::Invalid("malformed scope");
    Result<Scopes> parsed = Scopes::Parse(s);
    if (!parsed.ok()) return Status::Invalid("scope '" + s + "': " + parsed.status().message());
  }
  if (c.ttl_seconds < 1 || c.ttl_seconds > kMaxTtlSeconds) {
    return Status::Invalid("ttl must be between 1 second and 30 days");
  }
  return Status::Ok();
}

Result<std::string> MintToken(const NodeKey& key, const TokenClaims& c, int64_t now_seconds) {
  CRS_RETURN_IF_ERROR(ValidateTokenClaims(c));
  json::object header;
  header["alg"] = "ES256";
  header["typ"] = "JWT";
  header["kid"] = key.kid();
  std::string scope;
  for (const std::string& s : c.scopes) scope += (scope.empty() ? "" : " ") + s;
  std::string jti = RandomJti();
  if (jti.empty()) return Status::Internal("no randomness for jti");
  json::object claims;
  claims["iss"] = key.issuer();
  claims["aud"] = c.audience.empty() ? std::string(kDefaultAudience) : c.audience;
  claims["sub"] = c.user;
  claims["iat"] = now_seconds;
  claims["exp"] = now_seconds + c.ttl_seconds;
  claims["jti"] = jti;
  if (!c.name.empty()) claims["name"] = c.name;
  claims["role"] = c.role;
  if (!c.org.empty()) claims["org"] = c.org;
  claims["scope"] = scope;
  if (!c.activities.empty()) {
    json::array activities;
    for (const std::string& a : c.activities) activities.emplace_back(a);
    claims["activities"] = std::move(activities);
  }
  if (!c.patient.empty()) claims["patient"] = c.patient;
  std::string signing_input = crypto::Base64UrlEncode(json::serialize(header)) + "." +
                              crypto::Base64UrlEncode(json::serialize(claims));
  CRS_ASSIGN_OR_RETURN(std::string signature, key.Sign(signing_input));
  return signing_input + "." + crypto::Base64UrlEncode(signature);
}

struct Authenticator::Impl {
  AuthOptions options;
  const Clock* clock = nullptr;
  std::vector<VerifyKey> keys;
  mutable TokenCache cache;

  explicit Impl(const AuthOptions& o) : options(o), cache(o.cache_entries) {}

  Result<std::shared_ptr<const Principal>> Verify(std::string_view token, int64_t now_ms) const;
  Status CheckSignature(std::string_view token, VerifyKey* key) const;
  Status CheckTimes(const json::object& claims, int64_t now_ms, int64_t* exp_ms) const;
  Status FillIdentity(const json::object& claims, Principal* p) const;
};

Status Authenticator::Impl::CheckSignature(std::string_view token, VerifyKey* key) const {
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Unauthenticated("malformed token");
  }
  std::optional<json::object> header = DecodeObject(token.substr(0, dot1));
  if (!header) return Unauthenticated("malformed token");
  const json::value* alg = header->if_contains("alg");
  const json::value* kid = header->if_contains("kid");
  const json::value* typ = header->if_contains("typ");
  if (alg == nullptr || !alg->is_string()) return Unauthenticated("malformed token");
  if (alg->get_string() != "ES256" && alg->get_string() != "RS256") {
    return Unauthenticated("unsupported token algorithm");
  }
  if (header->contains("crit")) return Unauthenticated("unsupported token header");
  if (typ != nullptr && (!typ->is_string() || (!EqualsIgnoreCase(typ->get_string(), "JWT") &&
                                               !EqualsIgnoreCase(typ->get_string(), "at+jwt")))) {
    return Unauthenticated("unsupported token type");
  }
  if (kid == nullptr || !kid->is_string()) return Unauthenticated("unknown signing key");
  const VerifyKey* found = nullptr;
  for (const VerifyKey& k : keys) {
    if (k.kid == kid->get_string()) found = &k;
  }
  std::optional<VerifyKey> resolved;
  if (found == nullptr && options.resolve_key) {
    resolved = options.resolve_key(kid->get_string());
    if (resolved) found = &*resolved;
  }
  if (found == nullptr) return Unauthenticated("unknown signing key");
  // The key decides the algorithm: a token cannot pick a weaker or
  // different verification than the key was registered for.
  if (found->alg != alg->get_string()) return Unauthenticated("token algorithm does not match key");
  std::optional<std::string> signature = crypto::Base64UrlDecode(token.substr(dot2 + 1));
  if (!signature) return Unauthenticated("malformed token");
  std::string_view signing_input = token.substr(0, dot2);
  bool valid = found->alg == "ES256"
                   ? crypto::VerifyEs256(found->key.get(), signing_input, *signature)
                   : crypto::VerifyRs256(found->key.get(), signing_input, *signature);
  *key = *found;
  if (!valid) return Unauthenticated("invalid token signature");
  return Status::Ok();
}

Status Authenticator::Impl::CheckTimes(const json::object& claims, int64_t now_ms,
                                       int64_t* exp_ms) const {
  int64_t skew_ms = options.clock_skew_seconds * 1000;
  CRS_ASSIGN_OR_RETURN(std::optional<int64_t> exp, NumericDate(claims, "exp"));
  CRS_ASSIGN_OR_RETURN(std::optional<int64_t> nbf, NumericDate(claims, "nbf"));
  CRS_ASSIGN_OR_RETURN(std::optional<int64_t> iat, NumericDate(claims, "iat"));
  if (!exp) return Unauthenticated("token has no expiry");
  *exp_ms = *exp * 1000;
  if (now_ms >= *exp_ms + skew_ms) return Unauthenticated("token expired");
  if ((nbf && *nbf * 1000 > now_ms + skew_ms) || (iat && *iat * 1000 > now_ms + skew_ms)) {
    return Unauthenticated("token not yet valid");
  }
  return Status::Ok();
}

Status Authenticator::Impl::FillIdentity(const json::object& claims, Principal* p) const {
  CRS_ASSIGN_OR_RETURN(p->user, StringClaim(claims, "sub"));
  CRS_ASSIGN_OR_RETURN(p->role, StringClaim(claims, "role"));
  CRS_ASSIGN_OR_RETURN(p->org, StringClaim(claims, "org"));
  CRS_ASSIGN_OR_RETURN(p->patient, StringClaim(claims, "patient"));
  CRS_ASSIGN_OR_RETURN(p->name, StringClaim(claims, "name"));
  CRS_ASSIGN_OR_RETURN(p->jti, StringClaim(claims, "jti"));
  CRS_ASSIGN_OR_RETURN(std::string scope, StringClaim(claims, "scope", 16 * 1024));
  if (p->user.empty()) return Unauthenticated("token has no subject");
  if (p->role.empty()) return Unauthenticated("token has no role");
  if (!rbac::IsKnownRole(p->role)) return Unauthenticated("unknown role");
  if (p->is_patient()) {
    if (!nhs::IsValidNhsNumber(p->patient)) return Unauthenticated("invalid patient NHS number");
  } else {
    if (p->org.empty()) return Unauthenticated("token has no organisation");
    if (!p->patient.empty()) return Unauthenticated("patient claim only allowed for patients");
  }
  Result<Scopes> scopes = Scopes::Parse(scope);
  if (!scopes.ok()) return Unauthenticated("malformed scope");
  p->scopes = std::move(scopes).value();

  const json::value* activities = claims.if_contains("activities");
  if (activities == nullptr) {
    p->activities = rbac::Expand(rbac::DefaultActivities(p->role));
    return Status::Ok();
  }
  if (p->is_patient()) return Unauthenticated("activities not allowed for patients");
  CRS_ASSIGN_OR_RETURN(std::vector<std::string> list, ActivitiesClaim(*activities));
  p->activities = rbac::Expand(list);
  return Status::Ok();
}

Result<std::shared_ptr<const Principal>> Authenticator::Impl::Verify(std::string_view token,
                                                                     int64_t now_ms) const {
  VerifyKey key;
  CRS_RETURN_IF_ERROR(CheckSignature(token, &key));
  // Claims are read only once the signature holds, so nothing an attacker
  // wrote is interpreted.
  size_t dot1 = token.find('.');
  size_t dot2 = token.find('.', dot1 + 1);
  std::optional<json::object> claims = DecodeObject(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!claims) return Unauthenticated("malformed token");
  const json::value* iss = claims->if_contains("iss");
  if (iss == nullptr || !iss->is_string() || iss->get_string() != key.issuer) {
    return Unauthenticated("wrong token issuer");
  }
  if (!AudienceMatches(claims->if_contains("aud"), options.audience)) {
    return Unauthenticated("wrong token audience");
  }
  auto principal = std::make_shared<Principal>();
  CRS_RETURN_IF_ERROR(CheckTimes(*claims, now_ms, &principal->expires_ms));
  CRS_RETURN_IF_ERROR(FillIdentity(*claims, principal.get()));
  principal->issuer = key.issuer;
  if (!key.node_org.empty()) {
    // A peer node speaks only for itself, as a service.
    if (!principal->is_system() || principal->org != key.node_org) {
      return Unauthenticated("a peer node's token may only act as that node");
    }
    principal->node_org = key.node_org;
  }
  return std::shared_ptr<const Principal>(std::move(principal));
}

Authenticator::Authenticator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Authenticator::~Authenticator() = default;

Result<std::unique_ptr<Authenticator>> Authenticator::Create(const NodeKey& node_key,
                                                             const AuthOptions& options,
                                                             const Clock& clock) {
  if (options.audience.empty()) return Status::Invalid("audience is required");
  if (options.clock_skew_seconds < 0 || options.clock_skew_seconds > 3600) {
    return Status::Invalid("clock skew must be 0..3600 seconds");
  }
  auto impl = std::make_unique<Impl>(options);
  impl->clock = &clock;
  impl->keys.push_back(NodeVerifyKey(node_key));
  if (!options.jwks_file.empty()) {
    if (options.jwks_issuer.empty()) return Status::Invalid("a JWKS file needs jwks_issuer");
    if (options.jwks_issuer == node_key.issuer()) {
      return Status::Invalid("jwks_issuer must differ from the node issuer");
    }
    CRS_ASSIGN_OR_RETURN(std::vector<VerifyKey> jwks,
                         LoadJwksFile(options.jwks_file, options.jwks_issuer));
    for (VerifyKey& k : jwks) {
      if (k.kid == node_key.kid()) return Status::Invalid("a JWKS kid clashes with the node kid");
      impl->keys.push_back(std::move(k));
    }
  }
  return std::unique_ptr<Authenticator>(new Authenticator(std::move(impl)));
}

Result<std::shared_ptr<const Principal>> Authenticator::Authenticate(
    std::string_view authorization) const {
  CRS_ASSIGN_OR_RETURN(std::string_view token, BearerToken(authorization));
  int64_t now_ms = impl_->clock->NowMs();
  if (std::shared_ptr<const Principal> hit = impl_->cache.Find(token, now_ms)) return hit;
  CRS_ASSIGN_OR_RETURN(std::shared_ptr<const Principal> principal, impl_->Verify(token, now_ms));
  if (now_ms < principal->expires_ms) impl_->cache.Insert(token, principal);
  return principal;
}

size_t Authenticator::CachedTokens() const { return impl_->cache.size(); }

}  // namespace crs::access
