#include "core/ids.h"

#include <cstdint>
#include <random>

namespace crs {

std::string NewId() {
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  // 8-4-4-4-12 lower-case hex digits: hi's 16, then lo's 16 (one per request:
  // by hand, not snprintf).
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t at = 0;
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (at == 8 || at == 13 || at == 18 || at == 23) ++at;
    uint64_t word = nibble < 16 ? hi : lo;
    out[at++] = kHex[(word >> (60 - 4 * (nibble % 16))) & 0xf];
  }
  return out;
}

}  // namespace crs
