#include "store/postgres/replicas.h"

#include <algorithm>
#include <chrono>

#include "store/client_scope.h"

namespace crs::store::postgres {
namespace {

constexpr int64_t kDownMs = 1000;
// Clients remembered for read-your-writes: far more than a node's active
// users, each for far longer than a healthy replica lags (a forgotten
// client's reads wait for the latest write of anyone it was folded with).
constexpr size_t kClients = 100000;
constexpr int64_t kClientTtlMs = 10 * 60 * 1000;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ReplicaSet::ReplicaSet(const std::vector<std::string>& urls, int pool_size, int64_t max_lag_ms)
    : client_lsns_(kClients, kClientTtlMs), max_lag_ms_(std::max<int64_t>(max_lag_ms, 0)) {
  for (const auto& url : urls) replicas_.push_back(std::make_unique<Replica>(url, pool_size));
}

void ReplicaSet::NoteClientWrite(const std::string& client) {
  if (replicas_.empty() || client.empty()) return;
  // The writer stored the position after the client's group before waking
  // it; a later group may have raised it since, which only asks for more.
  client_lsns_.Note(client, last_write_lsn_.load(), SteadyMs());
}

uint64_t ReplicaSet::StalenessFloor(int64_t now_ms) {
  uint64_t current = last_write_lsn_.load();
  std::lock_guard<std::mutex> lock(seen_mu_);
  // UINT64_MAX (position unknown) is never a floor: such reads go to the
  // primary through the global rule anyway until a later write is known.
  if (current != UINT64_MAX && current > floor_ &&
      (seen_.empty() || seen_.back().second < current)) {
    seen_.emplace_back(now_ms, current);
  }
  while (!seen_.empty() && seen_.front().first <= now_ms - max_lag_ms_) {
    floor_ = std::max(floor_, seen_.front().second);
    seen_.pop_front();
  }
  return floor_;
}

uint64_t ReplicaSet::RequiredLsn() {
  uint64_t global = last_write_lsn_.load();
  const std::string& client = ClientScope::Current();
  if (client.empty()) return global;
  // The global position is at least every recorded one, and stands in for
  // one recorded as unknown (UINT64_MAX) once a later write knows its own.
  uint64_t own = std::min(client_lsns_.Required(client), global);
  return std::max(own, std::min(StalenessFloor(SteadyMs()), global));
}

std::unique_ptr<Conn> ReplicaSet::Acquire(uint64_t lsn, Replica** which) {
  size_t n = replicas_.size();
  int64_t now = SteadyMs();
  for (size_t i = 0; i < n; ++i) {
    Replica& r = *replicas_[next_.fetch_add(1, std::memory_order_relaxed) % n];
    if (r.down_until.load(std::memory_order_relaxed) > now) continue;
    auto conn = r.pool.Acquire();
    if (!conn.ok()) {
      r.down_until.store(now + kDownMs, std::memory_order_relaxed);
      continue;
    }
    if (r.replayed.load(std::memory_order_relaxed) < lsn) {
      // Behind as far as we know: ask how far it has replayed. NULL (not a
      // standby, e.g. promoted) reads as 0: never used as a replica then.
      auto pos = (*conn)->Query("SELECT (pg_last_wal_replay_lsn() - '0/0')::bigint", Params());
      if (!pos.ok()) {
        Release(&r, std::move(*conn), /*failed=*/true);
        continue;
      }
      uint64_t replayed = pos->size() ? static_cast<uint64_t>(pos->Int(0, 0)) : 0;
      r.replayed.store(replayed, std::memory_order_relaxed);
      if (replayed < lsn) {
        Release(&r, std::move(*conn), /*failed=*/false);
        continue;
      }
    }
    *which = &r;
    return std::move(*conn);
  }
  return nullptr;
}

void ReplicaSet::Release(Replica* r, std::unique_ptr<Conn> conn, bool failed) {
  if (failed && !conn->Healthy()) {
    r->down_until.store(SteadyMs() + kDownMs, std::memory_order_relaxed);
    r->pool.DropIdle();
  }
  r->pool.Release(std::move(conn));
}

}  // namespace crs::store::postgres
