// What every command that opens a node's data directory shares: the lock
// that keeps two processes from writing one store, and opening the store
// with the node's audit signer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace crs::cli {

// An exclusive hold on a data directory: an flock(2) on DIR/crs.lock, which
// also records the holder's pid and command. The kernel drops the lock when
// the process exits however it exits (even kill -9), so a stale file never
// blocks anyone. Not thread-safe; move-only.
class DataDirLock {
 public:
  // Takes the lock for `what` ("serve", "import"); creates DIR if missing.
  // Unavailable, naming the holder ("crs serve, pid 1234"), when another
  // process holds it.
  static Result<DataDirLock> Acquire(const std::string& data_dir, const std::string& what);

  DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DataDirLock& operator=(DataDirLock&&) = delete;
  DataDirLock(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Opens the node's store (store_url, "sqlite:" for the data dir's file) with
// the node's audit signing key (created on first use), as `crs serve` runs
// it. The caller should hold the DataDirLock. `pool_size` and `replicas`:
// PostgreSQL reader connections per server, and read replicas. `bulk_load`
// and `defer_index`: StoreOptions'.
Result<std::unique_ptr<store::Store>> OpenNodeStore(const std::string& data_dir,
                                                    const std::string& store_url,
                                                    int pool_size = 16,
                                                    std::vector<std::string> replicas = {},
                                                    int64_t replica_max_lag_ms = 5000,
                                                    store::FullTextMode fulltext =
                                                        store::FullTextMode::kUntouched,
                                                    bool bulk_load = false,
                                                    bool defer_index = false,
                                                    store::TraceKeysMode trace_keys =
                                                        store::TraceKeysMode::kUntouched);

}  // namespace crs::cli
