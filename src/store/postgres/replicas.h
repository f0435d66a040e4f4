// Read replicas: hot standbys that answer reads and searches while the
// primary takes the writes, with read-your-writes per client. The writer
// records the primary's WAL position after every group that wrote data;
// each acknowledged commit made inside a store::ClientScope records that
// position for its client (NoteClientWrite). A read inside a client's scope
// goes to a replica only once that replica has replayed the client's own
// last write; a read outside any scope (internal work) only once it has
// replayed the latest write of anyone. Otherwise the primary answers, so
// no client ever misses its own acknowledged write. Every read also needs
// the writes acknowledged more than `max_lag_ms` ago, so a replica that falls
// that far behind answers nobody until it catches up. A replica that cannot
// be reached, or fails a read, leaves the rotation for a second and the read
// is answered by the primary.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/client_scope.h"
#include "store/postgres/client_lsns.h"
#include "store/postgres/pool.h"

namespace crs::store::postgres {

class ReplicaSet {
 public:
  ReplicaSet(const std::vector<std::string>& urls, int pool_size, int64_t max_lag_ms);

  bool empty() const { return replicas_.empty(); }

  // The WAL position (bytes) the primary reached after the latest data
  // write; reads must see at least this much.
  std::atomic<uint64_t>& last_write_lsn() { return last_write_lsn_; }

  // Records, after an acknowledged commit, that the current client
  // (store::ClientScope; none: nothing to record) must see that commit.
  void NoteClientWrite() { NoteClientWrite(ClientScope::Current()); }
  // The same for client `client` (a ClientScope key), from any thread: an
  // asynchronous commit is answered on the writer thread, outside the
  // client's scope.
  void NoteClientWrite(const std::string& client);

  // Runs `fn` (Conn& -> Result<T>) on a replica that has replayed what the
  // current client must see (see above); false in *served when no replica could (the caller then
  // reads from the primary; the returned value is meaningless).
  template <typename T, typename Fn>
  Result<T> Read(Fn fn, bool* served);

  // Reads answered by replicas since the store opened.
  int64_t reads() const { return reads_.load(std::memory_order_relaxed); }

 private:
  struct Replica {
    Replica(const std::string& url, int pool_size) : pool(url, pool_size) {}
    Pool pool;
    std::atomic<uint64_t> replayed{0};    // last replay position seen
    std::atomic<int64_t> down_until{0};   // steady-clock ms: out of rotation until then
  };

  // A connection to a replica that has replayed `lsn`, or null.
  std::unique_ptr<Conn> Acquire(uint64_t lsn, Replica** which);
  // The WAL position a read for the current client must see.
  uint64_t RequiredLsn();
  // The latest write position first seen at least max_lag_ms ago: every
  // read must see it. Positions are timed when a read first sees them, so
  // the bound is never stricter than max_lag_ms after the write.
  uint64_t StalenessFloor(int64_t now_ms);
  void Release(Replica* r, std::unique_ptr<Conn> conn, bool failed);

  std::vector<std::unique_ptr<Replica>> replicas_;
  std::atomic<uint64_t> next_{0};  // round robin
  std::atomic<uint64_t> last_write_lsn_{0};
  ClientLsns client_lsns_;
  std::atomic<int64_t> reads_{0};
  const int64_t max_lag_ms_;
  std::mutex seen_mu_;  // a leaf
  // Write positions in the order reads first saw them, with when: those
  // younger than max_lag_ms, and the floor they leave behind.
  std::deque<std::pair<int64_t, uint64_t>> seen_;  // GUARDED_BY(seen_mu_)
  uint64_t floor_ = 0;                             // GUARDED_BY(seen_mu_)
};

template <typename T, typename Fn>
Result<T> ReplicaSet::Read(Fn fn, bool* served) {
  *served = false;
  Replica* r = nullptr;
  std::unique_ptr<Conn> conn = Acquire(RequiredLsn(), &r);
  if (!conn) return Status::Unavailable("no replica");
  Result<T> out = fn(*conn);
  // A failed read (a lost replica, a query cancelled by recovery) is
  // answered by the primary instead; NotFound and Invalid are answers.
  bool failed = !out.ok() && (out.status().code() == Code::kUnavailable ||
                              out.status().code() == Code::kRetryable ||
                              out.status().code() == Code::kInternal);
  Release(r, std::move(conn), failed);
  if (failed) return out;
  *served = true;
  reads_.fetch_add(1, std::memory_order_relaxed);
  return out;
}

}  // namespace crs::store::postgres
