#include "access/token_cache.h"

namespace crs::access {

TokenCache::TokenCache(size_t capacity)
    : per_shard_(capacity == 0 ? 0 : (capacity + kShards - 1) / kShards) {}

TokenCache::Shard& TokenCache::ShardOf(size_t hash) const {
  // High bits: the map's buckets use the low ones, so shards do not skew them.
  return shards_[(hash >> 56) % kShards];
}

std::shared_ptr<const Principal> TokenCache::Find(std::string_view token, int64_t now_ms) const {
  if (per_shard_ == 0) return nullptr;
  Shard& shard = ShardOf(Hash()(token));
  std::lock_guard lock(shard.mu);
  auto it = shard.entries.find(token);
  if (it == shard.entries.end()) return nullptr;
  if (now_ms >= it->second->expires_ms) {
    // Left for the ring to reclaim: erasing here would free a slot the ring
    // still counts, and an expired token is never served either way.
    return nullptr;
  }
  return it->second;
}

void TokenCache::Insert(std::string_view token, std::shared_ptr<const Principal> principal) {
  if (per_shard_ == 0) return;
  Shard& shard = ShardOf(Hash()(token));
  std::lock_guard lock(shard.mu);
  auto [it, inserted] = shard.entries.try_emplace(std::string(token), principal);
  if (!inserted) {
    it->second = std::move(principal);  // same token verified twice concurrently
    return;
  }
  if (shard.fifo.size() < per_shard_) {
    shard.fifo.emplace_back(token);
    return;
  }
  // Full: the oldest insertion gives up its slot. Every entry owns exactly
  // one ring slot, so the map never outgrows the ring.
  shard.entries.erase(shard.fifo[shard.next]);
  shard.fifo[shard.next] = std::string(token);
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
