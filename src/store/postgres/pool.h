// A bounded pool of PostgreSQL connections for readers. Connections open
// lazily up to the bound; a caller finding every connection busy waits (up
// to a timeout, then Unavailable). A connection that was lost or left inside
// a transaction is closed instead of returned, so a restarted server is
// reconnected to on the next Acquire.
//
// Thread safety: Acquire and Release may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/postgres/pg.h"

namespace crs::store::postgres {

class Pool {
 public:
  Pool(std::string url, int max_connections);

  // A connection for the caller's exclusive use until Release.
  Result<std::unique_ptr<Conn>> Acquire();
  void Release(std::unique_ptr<Conn> conn);
  // Closes every idle connection (after one was found lost: the others to
  // the same server are likely lost too).
  void DropIdle();

 private:
  const std::string url_;
  const int max_;
  static constexpr std::chrono::seconds kWait{10};

  // Lock order: mu_ is a leaf.
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;  // GUARDED_BY(mu_)
  int open_ = 0;                             // connections handed out or idle; GUARDED_BY(mu_)
};

}  // namespace crs::store::postgres
