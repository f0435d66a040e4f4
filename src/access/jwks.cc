#include "access/jwks.h"

#include <openssl/evp.h>

#include <boost/json.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "access/crypto.h"

namespace crs::access {
namespace {

constexpr size_t kMaxJwksBytes = 1 << 20;
constexpr int kMinRsaBits = 2048;

// The base64url-decoded string member `name`, or nullopt when missing or not
// base64url.
std::optional<std::string> Member(const boost::json::object& jwk, std::string_view name) {
  const boost::json::value* v = jwk.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return crypto::Base64UrlDecode(v->get_string());
}

std::string_view StringMember(const boost::json::object& jwk, std::string_view name) {
  const boost::json::value* v = jwk.if_contains(name);
  if (v == nullptr || !v->is_string()) return {};
  return v->get_string();
}

Result<VerifyKey> ParseKey(const boost::json::object& jwk, std::string_view kty,
                           const std::string& issuer) {
  VerifyKey out;
  out.issuer = issuer;
  out.kid = std::string(StringMember(jwk, "kid"));
  if (out.kid.empty()) return Status::Invalid("JWKS key without kid");
  std::string_view alg = StringMember(jwk, "alg");
  crypto::PkeyPtr key;
  if (kty == "EC") {
    if (StringMember(jwk, "crv") != "P-256") return Status::Invalid("JWKS EC key is not P-256");
    auto x = Member(jwk, "x"), y = Member(jwk, "y");
    if (!x || !y) return Status::Invalid("JWKS EC key without x/y");
    CRS_ASSIGN_OR_RETURN(key, crypto::P256FromXY(*x, *y));
    out.alg = "ES256";
  } else {
    auto n = Member(jwk, "n"), e = Member(jwk, "e");
    if (!n || !e) return Status::Invalid("JWKS RSA key without n/e");
    CRS_ASSIGN_OR_RETURN(key, crypto::RsaFromNE(*n, *e));
    if (crypto::RsaBits(key.get()) < kMinRsaBits) {
      return Status::Invalid("JWKS RSA key shorter than 2048 bits");
    }
    out.alg = "RS256";
  }
  if (!alg.empty() && alg != out.alg)
    return Status::Invalid("JWKS key alg does not match its type");
  out.key = std::shared_ptr<evp_pkey_st>(key.release(), EVP_PKEY_free);
  return out;
}

}  // namespace

VerifyKey NodeVerifyKey(const NodeKey& node_key) {
  EVP_PKEY_up_ref(node_key.pkey());
  return VerifyKey{node_key.kid(), "ES256", node_key.issuer(),
                   std::shared_ptr<evp_pkey_st>(node_key.pkey(), EVP_PKEY_free)};
}

Result<std::vector<VerifyKey>> ParseJwks(std::string_view json, const std::string& issuer) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 8;
  boost::json::value doc = boost::json::parse(json, ec, {}, options);
  if (ec || !doc.is_object()) return Status::Invalid("JWKS is not a JSON object");
  const boost::json::value* keys = doc.get_object().if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return Status::Invalid("JWKS has no keys array");
  std::vector<VerifyKey> out;
  std::set<std::string> kids;
  for (const boost::json::value& v : keys->get_array()) {
    if (!v.is_object()) return Status::Invalid("JWKS key is not an object");
    const boost::json::object& jwk = v.get_object();
    std::string_view kty = StringMember(jwk, "kty");
    if ((kty != "EC" && kty != "RSA") || StringMember(jwk, "use") == "enc") continue;
    CRS_ASSIGN_OR_RETURN(VerifyKey key, ParseKey(jwk, kty, issuer));
    if (!kids.insert(key.kid).second) return Status::Invalid("JWKS kid repeats");
    out.push_back(std::move(key));
  }
  return out;
}

Result<std::vector<VerifyKey>> LoadJwksFile(const std::string& path, const std::string& issuer) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Unavailable("cannot read JWKS file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMaxJwksBytes) return Status::Invalid("JWKS file too large");
  Result<std::vector<VerifyKey>> keys = ParseJwks(text.str(), issuer);
  if (!keys.ok()) return Status::Invalid(path + ": " + keys.status().message());
  return keys;
}

}  // namespace crs::access
