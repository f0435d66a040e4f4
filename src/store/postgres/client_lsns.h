// Each client's last write, as the primary's WAL position after it, for
// read-your-writes per client (replicas.h). Bounded: at most `capacity`
// clients, each kept for `ttl_ms` after its latest write, least recently
// written dropped first. A dropped client's position is folded into a floor
// that every client not in the map must reach, so forgetting a client never
// weakens the guarantee: it can only make a read wait for more.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace crs::store::postgres {

class ClientLsns {
 public:
  ClientLsns(size_t capacity, int64_t ttl_ms) : capacity_(capacity), ttl_ms_(ttl_ms) {}

  // `client` wrote; its write is visible at WAL position `lsn` (positions
  // only grow per client; UINT64_MAX: unknown). `now_ms`: a steady clock.
  void Note(const std::string& client, uint64_t lsn, int64_t now_ms);

  // The WAL position a read for `client` must see: its latest write, or
  // the floor of forgotten clients when it is not in the map.
  uint64_t Required(const std::string& client) const;

  size_t size() const;

 private:
  struct Entry {
    std::string client;
    uint64_t lsn;
    int64_t written_ms;
  };
  using Order = std::list<Entry>;  // most recently written first

  void DropOldest();  // requires mu_

  const size_t capacity_;
  const int64_t ttl_ms_;
  mutable std::mutex mu_;
  Order order_;                                            // GUARDED_BY(mu_)
  std::unordered_map<std::string, Order::iterator> map_;  // GUARDED_BY(mu_)
  uint64_t floor_ = 0;                                     // GUARDED_BY(mu_)
};

}  // namespace crs::store::postgres
