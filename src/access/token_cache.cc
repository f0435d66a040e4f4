#include "access/token_cache.h"

#include <cstring>

namespace crs::access {

TokenCache::TokenCache(size_t capacity)
    : per_shard_(capacity == 0 ? 0 : (capacity + kShards - 1) / kShards) {}

size_t TokenCache::DigestHash::operator()(const crypto::Sha256Digest& d) const {
  size_t h;
  std::memcpy(&h, d.data(), sizeof h);  // a SHA-256 prefix is already uniform
  return h;
}

TokenCache::Shard& TokenCache::ShardOf(const crypto::Sha256Digest& digest) const {
  // A byte the map hash does not use, so shards do not skew bucket use.
  return shards_[digest[31] % kShards];
}

std::shared_ptr<const Principal> TokenCache::Find(const crypto::Sha256Digest& digest,
                                                  int64_t now_ms) const {
  if (per_shard_ == 0) return nullptr;
  Shard& shard = ShardOf(digest);
  std::lock_guard lock(shard.mu);
  auto it = shard.entries.find(digest);
  if (it == shard.entries.end()) return nullptr;
  if (now_ms >= it->second->expires_ms) {
    // Left for the ring to reclaim: erasing here would free a slot the ring
    // still counts, and an expired token is never served either way.
    return nullptr;
  }
  return it->second;
}

void TokenCache::Insert(const crypto::Sha256Digest& digest,
                        std::shared_ptr<const Principal> principal) {
  if (per_shard_ == 0) return;
  Shard& shard = ShardOf(digest);
  std::lock_guard lock(shard.mu);
  auto [it, inserted] = shard.entries.try_emplace(digest, principal);
  if (!inserted) {
    it->second = std::move(principal);  // same token verified twice concurrently
    return;
  }
  if (shard.fifo.size() < per_shard_) {
    shard.fifo.push_back(digest);
    return;
  }
  // Full: the oldest insertion gives up its slot. Every entry owns exactly
  // one ring slot, so the map never outgrows the ring.
  shard.entries.erase(shard.fifo[shard.next]);
  shard.fifo[shard.next] = digest;
  shard.next = (shard.next + 1) % per_shard_;
}

size_t TokenCache::size() const {
  size_t total = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    total += s.entries.size();
  }
  return total;
}

}  // namespace crs::access
