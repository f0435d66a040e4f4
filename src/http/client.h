// A small blocking HTTP/1.1 client for node-to-node calls (pointer
// publishing, consent look-ups, audit forwarding). Beast and Asio are used
// only in client.cc.
//
// One Client holds one keep-alive connection to one origin and reconnects
// when the peer closed it. Every call has a deadline covering connect, send
// and receive; a call that misses it fails with Unavailable and the
// connection is dropped, so a stalled peer never blocks a caller forever.
//
// Thread safety: a Client is used by one thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "http/request.h"

namespace crs::http {

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;
};

class Client {
 public:
  // `base_url` is "http://host:port[/prefix]"; requests are sent to
  // base_url's origin with `target` appended to its path prefix.
  // Invalid when the URL is not an absolute http URL.
  static Result<std::unique_ptr<Client>> Create(std::string_view base_url);
  ~Client();

  // Sends one request and reads the whole response (bodies up to 64 MiB).
  // Unavailable when the peer cannot be reached or the deadline passes;
  // an HTTP error status is not a failure of the call.
  Result<ClientResponse> Send(std::string_view method, std::string_view target,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              std::string_view body, std::chrono::milliseconds timeout);

  const std::string& base_url() const { return base_url_; }

 private:
  struct Impl;
  Client(std::string base_url, std::unique_ptr<Impl> impl);
  std::string base_url_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace crs::http
