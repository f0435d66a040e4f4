// A bounded cache of verified tokens: token text → Principal, so a repeated
// token costs a hash and a lookup instead of a signature check.
//
// The full token is the key and lookups compare it byte for byte, so no
// other string can ever be served a cached principal; the hash only picks
// the bucket (a fast non-cryptographic one: only verified tokens are ever
// inserted, so nobody can fill a bucket with chosen strings). Entries are
// served only while the token is unexpired (now < exp). Each shard evicts
// its oldest insertion when full.
//
// Thread safety: safe for concurrent use. Each shard has its own mutex;
// no call holds more than one.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "access/principal.h"

namespace crs::access {

class TokenCache {
 public:
  // Holds at most `capacity` entries in total (0 disables the cache).
  explicit TokenCache(size_t capacity);

  // The principal cached for `token` if it has not expired at `now_ms`.
  std::shared_ptr<const Principal> Find(std::string_view token, int64_t now_ms) const;
  // Caches `principal` (whose expires_ms bounds its life) under `token`.
  void Insert(std::string_view token, std::shared_ptr<const Principal> principal);

  size_t size() const;

 private:
  static constexpr size_t kShards = 16;

  // Transparent, so Find looks a string_view up without copying it.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::shared_ptr<const Principal>, Hash, std::equal_to<>>
        entries;                      // GUARDED_BY(mu)
    std::vector<std::string> fifo;    // GUARDED_BY(mu): insertion ring
    size_t next = 0;                  // GUARDED_BY(mu): next ring slot to reuse
  };

  Shard& ShardOf(size_t hash) const;

  size_t per_shard_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace crs::access
