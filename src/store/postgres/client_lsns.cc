#include "store/postgres/client_lsns.h"

#include <algorithm>

namespace crs::store::postgres {

void ClientLsns::Note(const std::string& client, uint64_t lsn, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = map_.find(client); it != map_.end()) {
    Entry e = *it->second;
    order_.erase(it->second);
    e.lsn = std::max(e.lsn, lsn);
    e.written_ms = now_ms;
    order_.push_front(std::move(e));
    it->second = order_.begin();
  } else {
    order_.push_front({client, lsn, now_ms});
    map_.emplace(client, order_.begin());
  }
  while (!order_.empty() &&
         (order_.size() > capacity_ || order_.back().written_ms + ttl_ms_ < now_ms)) {
    DropOldest();
  }
}

void ClientLsns::DropOldest() {
  floor_ = std::max(floor_, order_.back().lsn);
  map_.erase(order_.back().client);
  order_.pop_back();
}

uint64_t ClientLsns::Required(const std::string& client) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(client);
  // A client's entry covers all its writes: every position it ever noted
  // was at most the global position when it noted the latest.
  return it == map_.end() ? floor_ : it->second->lsn;
}

size_t ClientLsns::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return order_.size();
}

}  // namespace crs::store::postgres
