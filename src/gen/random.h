// Deterministic pseudo-random numbers for the synthetic population.
//
// The generator must give byte-identical output for the same seed on every
// platform, so it uses its own xoshiro256** (seeded through SplitMix64)
// rather than <random>'s distributions, whose results vary by library.
//
// Thread safety: an Rng is a value; do not share one between threads.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace crs::gen {

// SplitMix64 step: mixes `x` into a well-spread 64-bit value.
inline std::uint64_t Mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

class Rng {
 public:
  // Streams for different (seed, stream) pairs are independent.
  explicit Rng(std::uint64_t seed, std::uint64_t stream = 0) {
    std::uint64_t x = Mix64(seed) ^ Mix64(stream + 0x632BE59BD9B4E019ULL);
    for (auto& s : s_) s = x = Mix64(x);
  }

  std::uint64_t Next() {
    const std::uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); n > 0. (Lemire's multiply-shift; the tiny bias is
  // irrelevant here and the result is the same everywhere.)
  std::uint32_t Below(std::uint32_t n) {
    return static_cast<std::uint32_t>(((Next() >> 32) * static_cast<std::uint64_t>(n)) >> 32);
  }
  // Uniform in [lo, hi].
  int Between(int lo, int hi) { return lo + static_cast<int>(Below(hi - lo + 1)); }
  // True with probability `per_million` / 1,000,000.
  bool Chance(std::uint32_t per_million) { return Below(1000000) < per_million; }

 private:
  static std::uint64_t Rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

// Picks indices with probability proportional to integer weights, by binary
// search over cumulative sums. Immutable after construction; shareable.
class WeightedIndex {
 public:
  WeightedIndex() = default;
  explicit WeightedIndex(const std::vector<std::uint32_t>& weights) {
    cumulative_.reserve(weights.size());
    std::uint64_t sum = 0;
    for (std::uint32_t w : weights) cumulative_.push_back(sum += w);
  }
  // Precondition: at least one positive weight; total below 2^32.
  std::size_t Pick(Rng& rng) const {
    std::uint64_t r = rng.Below(static_cast<std::uint32_t>(cumulative_.back()));
    std::size_t lo = 0, hi = cumulative_.size() - 1;
    while (lo < hi) {
      std::size_t mid = (lo + hi) / 2;
      if (cumulative_[mid] > r) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }
  std::size_t size() const { return cumulative_.size(); }

 private:
  std::vector<std::uint64_t> cumulative_;
};

}  // namespace crs::gen
