// A bounded cache of verified tokens: SHA-256(token) → Principal, so a
// repeated token costs a hash and a lookup instead of a signature check.
//
// Entries are served only while the token is unexpired (now < exp). Each
// shard evicts its oldest insertion when full. Only successfully verified
// tokens are inserted.
//
// Thread safety: safe for concurrent use. Each shard has its own mutex;
// no call holds more than one.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "access/crypto.h"
#include "access/principal.h"

namespace crs::access {

class TokenCache {
 public:
  // Holds at most `capacity` entries in total (0 disables the cache).
  explicit TokenCache(size_t capacity);

  // The principal cached for `digest` if its token has not expired at `now_ms`.
  std::shared_ptr<const Principal> Find(const crypto::Sha256Digest& digest, int64_t now_ms) const;
  // Caches `principal` (whose expires_ms bounds its life) under `digest`.
  void Insert(const crypto::Sha256Digest& digest, std::shared_ptr<const Principal> principal);

  size_t size() const;

 private:
  static constexpr size_t kShards = 16;

  struct DigestHash {
    size_t operator()(const crypto::Sha256Digest& d) const;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<crypto::Sha256Digest, std::shared_ptr<const Principal>, DigestHash>
        entries;                             // GUARDED_BY(mu)
    std::vector<crypto::Sha256Digest> fifo;  // GUARDED_BY(mu): insertion ring
    size_t next = 0;                         // GUARDED_BY(mu): next ring slot to reuse
  };

  Shard& ShardOf(const crypto::Sha256Digest& digest) const;

  size_t per_shard_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace crs::access
