#include "cli/node.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "audit/signing.h"

namespace crs::cli {

Result<DataDirLock> DataDirLock::Acquire(const std::string& data_dir, const std::string& what) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Status::Unavailable("cannot create " + data_dir + ": " + ec.message());
  std::string path = (std::filesystem::path(data_dir) / "crs.lock").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Unavailable("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char holder[128] = {};
    ssize_t n = ::pread(fd, holder, sizeof(holder) - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK) {
      return Status::Unavailable("cannot lock " + path + ": " + std::strerror(err));
    }
    std::string who = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "another process";
    while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
    return Status::Unavailable("the data directory " + data_dir + " is in use by " + who + " (" +
                               path + ")");
  }
  // The holder's description, for the message another process prints.
  std::string self = "crs " + what + ", pid " + std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, self.data(), self.size(), 0) < 0) {
    // The lock holds regardless; only the description is missing.
  }
  return DataDirLock(fd);
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

Result<std::unique_ptr<store::Store>> OpenNodeStore(const std::string& data_dir,
                                                    const std::string& store_url,
                                                    int pool_size,
                                                    std::vector<std::string> replicas,
                                                    int64_t replica_max_lag_ms,
                                                    store::FullTextMode fulltext,
                                                    bool bulk_load, bool defer_index,
                                                    store::TraceKeysMode trace_keys) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec)
    return Status::Unavailable("cannot create data directory " + data_dir + ": " + ec.message());
  store::StoreOptions options;
  options.url = store_url;
  options.data_dir = data_dir;
  options.pool_size = pool_size;
  options.replicas = std::move(replicas);
  options.replica_max_lag_ms = replica_max_lag_ms;
  options.fulltext = fulltext;
  options.bulk_load = bulk_load;
  options.defer_index = defer_index;
  options.trace_keys = trace_keys;
  // The audit log's checkpoints are signed with the node's audit key.
  auto key = audit::SigningKey::LoadOrCreate(data_dir);
  if (!key.ok()) return Status(key.status().code(), "audit key: " + key.status().message());
  options.audit_sign = [key = *key](std::string_view m) { return key->Sign(m); };
  options.audit_key_id = (*key)->key_id();
  auto store = store::OpenStore(options);
  if (!store.ok()) {
    return Status(store.status().code(), "cannot open the store: " + store.status().message());
  }
  return std::move(*store);
}

}  // namespace crs::cli
