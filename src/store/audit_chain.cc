// The chain hash uses OpenSSL's low-level SHA256_* functions, deprecated
// since 3.0 in favour of EVP: on OpenSSL 3.0, EVP_DigestInit_ex2 frees and
// reallocates the provider's context on every call (even on a reused
// EVP_MD_CTX), about 8% of verify's CPU. The low-level functions hash on
// the stack, with the same SHA-NI block function.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "store/audit_chain.h"

#include <openssl/sha.h>

namespace crs::store {
namespace {

void PutBe64(int64_t v, unsigned char out[8]) {
  auto u = static_cast<uint64_t>(v);
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<unsigned char>(u & 0xff);
    u >>= 8;
  }
}

}  // namespace

const std::string& AuditZeroHash() {
  static const std::string zero(kAuditHashSize, '\0');
  return zero;
}

std::string AuditChainHash(std::string_view prev, int64_t seq, std::string_view record) {
  std::string out(kAuditHashSize, '\0');
  AuditChainHash(prev, seq, record, out.data());
  return out;
}

void AuditChainHash(std::string_view prev, int64_t seq, std::string_view record, char* out) {
  unsigned char be[8];
  PutBe64(seq, be);
  // The inputs are in memory: these calls cannot fail.
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, prev.data(), prev.size());
  SHA256_Update(&c, be, sizeof be);
  SHA256_Update(&c, record.data(), record.size());
  SHA256_Final(reinterpret_cast<unsigned char*>(out), &c);
}

std::string AuditCheckpointMessage(int64_t seq, int64_t time_ms, std::string_view head_hash) {
  static constexpr std::string_view kDomain = "opencrs-audit-checkpoint-v1\n";
  std::string msg(kDomain);
  unsigned char be[8];
  PutBe64(seq, be);
  msg.append(reinterpret_cast<const char*>(be), sizeof be);
  PutBe64(time_ms, be);
  msg.append(reinterpret_cast<const char*>(be), sizeof be);
  msg.append(head_hash);
  return msg;
}

std::string AuditHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace crs::store
