#include "store/postgres/pool.h"

#include <algorithm>

namespace crs::store::postgres {

Pool::Pool(std::string url, int max_connections)
    : url_(std::move(url)), max_(std::max(1, max_connections)) {}

Result<std::unique_ptr<Conn>> Pool::Acquire() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, kWait, [this] { return !idle_.empty() || open_ < max_; })) {
      return Status::Unavailable("every PostgreSQL connection of the pool is busy");
    }
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
  }
  auto conn = Conn::Open(url_);
  if (!conn.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --open_;
    }
    cv_.notify_one();
  }
  return conn;
}

void Pool::Release(std::unique_ptr<Conn> conn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (conn && conn->Reusable()) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }
  conn.reset();  // closed outside the lock
  cv_.notify_one();
}

void Pool::DropIdle() {
  std::vector<std::unique_ptr<Conn>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    dropped.swap(idle_);
    open_ -= static_cast<int>(dropped.size());
  }
  dropped.clear();  // closed outside the lock
  cv_.notify_all();
}

}  // namespace crs::store::postgres
