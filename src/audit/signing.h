// The node's audit signing key (Ed25519), which signs chain checkpoints.
//
// The private key lives in DATA/keys/audit-ed25519.pem (PKCS#8 PEM, mode
// 0600, directory 0700), created atomically on first start; its public half
// is written beside it as audit-ed25519.pub so a verifier elsewhere needs no
// secret. A retired key stays verifiable when its .pub file is kept under
// another name matching keys/audit-ed25519*.pub.
//
// Thread safety: a SigningKey is immutable after loading; Sign() may be
// called concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace crs::audit {

inline constexpr std::string_view kAuditKeyFile = "keys/audit-ed25519.pem";
inline constexpr std::string_view kAuditPublicKeyFile = "keys/audit-ed25519.pub";

class SigningKey {
 public:
  // Loads DATA/keys/audit-ed25519.pem, creating the key (and keys/) when
  // absent. Two processes racing to create it end up with the same key.
  // Unavailable when the file cannot be read or written, Invalid when it
  // holds no Ed25519 private key. Shared: the store's checkpoint signer and
  // the caller both keep it.
  static Result<std::shared_ptr<const SigningKey>> LoadOrCreate(const std::string& data_dir);
  // Loads an existing PEM private key file.
  static Result<std::shared_ptr<const SigningKey>> Load(const std::string& pem_path);

  ~SigningKey();
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

  // The 64-byte Ed25519 signature of `message`; empty only if OpenSSL fails
  // (out of memory).
  std::string Sign(std::string_view message) const;
  const std::string& public_key() const { return public_key_; }  // 32 raw bytes
  const std::string& key_id() const { return key_id_; }
  // The public key as a PEM SubjectPublicKeyInfo.
  std::string PublicKeyPem() const;

 private:
  explicit SigningKey(void* pkey);
  void* pkey_;  // EVP_PKEY*, owned
  std::string public_key_;
  std::string key_id_;
};

// "ed25519:" + the first 16 hex digits of SHA-256(public key).
std::string KeyIdOf(std::string_view public_key);

// True when `signature` is a valid Ed25519 signature of `message` by the
// 32-byte `public_key`.
bool VerifySignature(std::string_view public_key, std::string_view message,
                     std::string_view signature);

// The public keys a verifier of DATA trusts (raw 32 bytes each): the current
// key's (from the .pem or .pub) and every keys/audit-ed25519*.pub. NotFound
// when there is none.
Result<std::vector<std::string>> LoadAuditPublicKeys(const std::string& data_dir);

}  // namespace crs::audit
