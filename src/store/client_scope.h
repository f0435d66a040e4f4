// Who the store's calls on this thread are made for, as far as read
// consistency goes: read-your-writes per client (docs/storage.md, "Read
// replicas"). The API layer opens a ClientScope for the authenticated
// caller around a request's store calls; a backend with read replicas
// remembers each client's last write and answers that client's reads from
// a replica only once it has replayed that write. Store calls made outside
// any scope (internal work, tools) see every client's writes.
//
// Thread safety: a scope belongs to the thread that opened it and must be
// closed on that thread, innermost first (RAII); Current() reads this
// thread's innermost scope.
#pragma once

#include <string>

namespace crs::store {

class ClientScope {
 public:
  // `key` names the client (e.g. the token's issuer, subject and
  // organisation); an empty key opens no scope.
  explicit ClientScope(std::string key);
  ~ClientScope();
  ClientScope(const ClientScope&) = delete;
  ClientScope& operator=(const ClientScope&) = delete;

  // The key of this thread's innermost scope; empty outside any.
  static const std::string& Current();

 private:
  std::string key_;
  const std::string* outer_;
};

}  // namespace crs::store
