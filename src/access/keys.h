// The node's token-signing key: an EC P-256 key pair kept in
// DATA/keys/node-es256.pem (PKCS#8 PEM, mode 0600, directory 0700).
//
// Identity derived from it:
//   kid    = first 16 characters of base64url(SHA-256(SubjectPublicKeyInfo DER))
//   issuer = "urn:opencrs:node:" + kid
//
// Thread safety: a NodeKey is immutable after construction; copies share the
// key and may be used from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace crs::access {

inline constexpr std::string_view kNodeKeyFile = "keys/node-es256.pem";
inline constexpr std::string_view kNodeIssuerPrefix = "urn:opencrs:node:";

class NodeKey {
 public:
  // Builds a key from a PKCS#8 (or traditional) PEM private key. Invalid when
  // the text is not a P-256 private key.
  static Result<NodeKey> FromPem(std::string_view pem);
  // A fresh in-memory key (tests, tools); never written anywhere.
  static Result<NodeKey> Generate();

  const std::string& kid() const { return kid_; }
  const std::string& issuer() const { return issuer_; }

  // ES256 signature of `data` in JWS form (raw R||S, 64 bytes).
  Result<std::string> Sign(std::string_view data) const;

  // The public key as a JWK object, e.g.
  // {"kty":"EC","crv":"P-256","x":"...","y":"...","kid":"...","alg":"ES256","use":"sig"}.
  const std::string& PublicJwk() const { return jwk_; }

  // The private key as PKCS#8 PEM.
  Result<std::string> ToPem() const;

  // The OpenSSL key, for the access layer's verifier. Not owned by the caller.
  evp_pkey_st* pkey() const { return key_.get(); }

 private:
  NodeKey() = default;
  static Result<NodeKey> FromKey(std::shared_ptr<evp_pkey_st> key);

  // shared_ptr: copies of a NodeKey (the CLI, the Authenticator) share one
  // immutable key.
  std::shared_ptr<evp_pkey_st> key_;
  std::string kid_;
  std::string issuer_;
  std::string jwk_;
};

// Loads DATA/keys/node-es256.pem, creating it (and DATA/keys) on first use.
// Creation is atomic and race-safe: the key is written to a private temporary
// file and link()ed into place, so processes starting together agree on one
// key. Errors: Unavailable for I/O failures (unwritable dir, full disk);
// Internal when the file exists but is not a P-256 private key or is
// readable by group/others.
Result<NodeKey> LoadOrCreateNodeKey(const std::string& data_dir);

}  // namespace crs::access
