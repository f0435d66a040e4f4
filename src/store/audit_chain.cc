#include "store/audit_chain.h"

#include <openssl/evp.h>

namespace crs::store {
namespace {

void PutBe64(int64_t v, unsigned char out[8]) {
  auto u = static_cast<uint64_t>(v);
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<unsigned char>(u & 0xff);
    u >>= 8;
  }
}

// Fetching the digest once and reusing one context per thread keeps
// OpenSSL's provider lookup off the per-record path (verify hashes
// millions of records per second).
struct Sha256 {
  Sha256() : md(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx(EVP_MD_CTX_new()) {}
  ~Sha256() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
  EVP_MD* md;
  EVP_MD_CTX* ctx;
};

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
  thread_local Sha256 sha;
  unsigned char be[8];
  PutBe64(seq, be);
  unsigned int len = 0;
  // The inputs are in memory and the digest is known: these calls cannot
  // fail short of memory exhaustion, which OpenSSL reports by aborting.
  EVP_DigestInit_ex2(sha.ctx, sha.md, nullptr);
  EVP_DigestUpdate(sha.ctx, prev.data(), prev.size());
  EVP_DigestUpdate(sha.ctx, be, sizeof be);
  EVP_DigestUpdate(sha.ctx, record.data(), record.size());
  EVP_DigestFinal_ex(sha.ctx, reinterpret_cast<unsigned char*>(out), &len);
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
