// The OpenSSL primitives the access layer needs: base64url, SHA-256, ES256
// and RS256 signatures, and public keys built from JWK members. OpenSSL
// appears only in access/*.cc and this internal header; the public headers of
// the layer speak in strings.
//
// Thread safety: all functions may be called concurrently. An EVP_PKEY is
// only read after construction, which OpenSSL allows from many threads.
#pragma once

#include <openssl/types.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace crs::access::crypto {

// RFC 4648 section 5 without padding (as JWS uses it).
std::string Base64UrlEncode(std::string_view in);
// Strict inverse of Base64UrlEncode: no padding, no whitespace, no other
// alphabet, and unused trailing bits must be zero (one text per byte string).
std::optional<std::string> Base64UrlDecode(std::string_view in);

using Sha256Digest = std::array<unsigned char, 32>;
// SHA-256 of `data`; nullopt only if libcrypto fails. Fast path: a
// per-thread context and a pre-fetched algorithm, so hashing a token costs
// well under a microsecond.
std::optional<Sha256Digest> Sha256(std::string_view data);

struct PkeyFree {
  void operator()(EVP_PKEY* key) const;
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// A fresh EC P-256 key pair; Internal on failure.
Result<PkeyPtr> GenerateP256();
// True when `key` is an EC key on P-256.
bool IsP256(EVP_PKEY* key);
// The modulus size of an RSA key in bits, 0 for any other key.
int RsaBits(EVP_PKEY* key);

// ECDSA P-256 over SHA-256; the JWS form of the signature (R||S, 64 bytes).
Result<std::string> SignEs256(EVP_PKEY* key, std::string_view data);
// RSASSA-PKCS1-v1_5 over SHA-256.
Result<std::string> SignRs256(EVP_PKEY* key, std::string_view data);
// Verifies a JWS ES256 signature (R||S); false for any malformed input.
bool VerifyEs256(EVP_PKEY* key, std::string_view data, std::string_view raw_signature);
// Verifies an RS256 signature; false for any malformed input.
bool VerifyRs256(EVP_PKEY* key, std::string_view data, std::string_view signature);

// DER SubjectPublicKeyInfo of `key`.
Result<std::string> SubjectPublicKeyInfo(EVP_PKEY* key);
// The affine coordinates of a P-256 public key, 32 big-endian bytes each.
Result<std::pair<std::string, std::string>> P256PublicXY(EVP_PKEY* key);

// Public keys from JWK members (already base64url-decoded). Invalid when the
// numbers do not make a key (point not on the curve, wrong lengths).
Result<PkeyPtr> P256FromXY(std::string_view x, std::string_view y);
Result<PkeyPtr> RsaFromNE(std::string_view n, std::string_view e);

}  // namespace crs::access::crypto
