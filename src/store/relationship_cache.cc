#include "store/relationship_cache.h"

#include <bit>
#include <cstring>
#include <functional>
#include <new>

namespace crs::store {

RelationshipCache::RelationshipCache(size_t sets) {
  sets = std::bit_ceil(sets < 1 ? size_t{1} : sets);
  mask_ = sets - 1;
  // calloc: zeroed (every slot empty) without touching the pages; one line
  // more, to start the sets on a cache line.
  memory_.reset(static_cast<char*>(std::calloc(sets * sizeof(Set) + 64, 1)));
  if (!memory_) throw std::bad_alloc();
  auto at = reinterpret_cast<uintptr_t>(memory_.get());
  sets_ = reinterpret_cast<Set*>((at + 63) & ~uintptr_t{63});
}

uint64_t RelationshipCache::Hash(std::string_view org, std::string_view patient) {
  uint64_t h = std::hash<std::string_view>()(org);
  h ^= std::hash<std::string_view>()(patient) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

bool RelationshipCache::Matches(const Slot& s, uint64_t hash, std::string_view org,
                                std::string_view patient) {
  return s.hash == hash && s.org_size == org.size() && s.patient_size == patient.size() &&
         std::memcmp(s.key, org.data(), org.size()) == 0 &&
         std::memcmp(s.key + org.size(), patient.data(), patient.size()) == 0;
}

std::optional<bool> RelationshipCache::Find(uint64_t generation, std::string_view org,
                                            std::string_view patient) {
  if (org.size() + patient.size() > kMaxKey) return std::nullopt;
  const uint64_t hash = Hash(org, patient);
  const size_t index = hash & mask_;
  std::lock_guard<std::mutex> lock(mu_[index % kStripes]);
  for (const Slot& s : sets_[index].ways) {
    if (s.generation == generation + 1 && Matches(s, hash, org, patient)) return s.found;
  }
  return std::nullopt;
}

void RelationshipCache::Put(uint64_t generation, std::string_view org, std::string_view patient,
                            bool found) {
  if (org.size() + patient.size() > kMaxKey) return;
  const uint64_t hash = Hash(org, patient);
  const size_t index = hash & mask_;
  const size_t stripe = index % kStripes;
  std::lock_guard<std::mutex> lock(mu_[stripe]);
  Set& set = sets_[index];
  // The slot already holding this key, else an empty or stale one, else the
  // next in turn.
  Slot* target = nullptr;
  for (Slot& s : set.ways) {
    if (Matches(s, hash, org, patient)) {
      target = &s;
      break;
    }
  }
  if (target == nullptr) {
    for (Slot& s : set.ways) {
      if (s.generation != generation + 1) {
        target = &s;
        break;
      }
    }
  }
  if (target == nullptr) {
    target = &set.ways[next_[stripe] % kWays];
    next_[stripe] = (next_[stripe] + 1) % kWays;
  }
  target->hash = hash;
  target->generation = generation + 1;
  target->org_size = static_cast<uint8_t>(org.size());
  target->patient_size = static_cast<uint8_t>(patient.size());
  target->found = found;
  std::memcpy(target->key, org.data(), org.size());
  std::memcpy(target->key + org.size(), patient.data(), patient.size());
}

}  // namespace crs::store
