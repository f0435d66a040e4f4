// Answers of Store::HasRelationship (is `patient` registered at, or referred
// to, organisation `org`?), kept so that a clinical read does not query the
// `rel` table each time. Each answer is tagged with the writer's relationship
// generation read before its query; the writer bumps the generation once a
// transaction that changed `rel` has ended, before its writes are
// acknowledged. An answer is used only while the generation it was tagged
// with is current, so a bump drops every answer at once, without touching
// the table.
//
// The table is fixed in size and set-associative (four answers per set,
// replaced in turn), so a node whose clinicians open more patients than it
// holds keeps answering from it for the recent ones instead of filling up
// and stopping. Keys longer than kMaxKey bytes are not kept. Memory is
// taken from the allocator zeroed and untouched, so an idle node does not
// pay for the table's full size.
//
// Thread safety: all methods may be called from any thread; a set is
// guarded by one of kStripes mutexes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

namespace crs::store {

class RelationshipCache {
 public:
  static constexpr size_t kWays = 4;
  static constexpr size_t kMaxKey = 44;  // org + patient bytes kept in a slot
  static constexpr size_t kDefaultSets = size_t{1} << 16;  // 262,144 answers, 16 MB

  // `sets` is rounded up to a power of two.
  explicit RelationshipCache(size_t sets = kDefaultSets);

  // The answer kept for (org, patient) under `generation`; nullopt when
  // there is none (never asked, replaced, or kept under another generation).
  std::optional<bool> Find(uint64_t generation, std::string_view org, std::string_view patient);

  // Keeps `found` as the answer for (org, patient) under `generation`.
  void Put(uint64_t generation, std::string_view org, std::string_view patient, bool found);

 private:
  struct Slot {  // one cache line
    uint64_t hash;
    uint64_t generation;  // the answer's generation + 1; 0: empty
    uint8_t org_size;
    uint8_t patient_size;
    bool found;
    char key[kMaxKey + 1];  // org bytes, then patient bytes
  };
  static_assert(sizeof(Slot) == 64);
  struct Set {
    Slot ways[kWays];
  };
  static constexpr size_t kStripes = 64;

  static uint64_t Hash(std::string_view org, std::string_view patient);
  static bool Matches(const Slot& s, uint64_t hash, std::string_view org,
                      std::string_view patient);

  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  size_t mask_;
  std::unique_ptr<char, Free> memory_;
  Set* sets_;  // in memory_, aligned to a cache line
  std::array<std::mutex, kStripes> mu_;
  // Per stripe: the way Put replaces next in a full set (GUARDED_BY(mu_[i])).
  std::array<uint32_t, kStripes> next_ = {};
};

}  // namespace crs::store
