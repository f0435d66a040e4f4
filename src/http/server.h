// The HTTP/1.1 server: accepts connections, parses requests with limits, and
// hands each one to a Handler. Beast and Asio are used only in server.cc.
//
// Requests the handler marks as cheap (Handler::RunsInline) run on the I/O
// thread that read them; the rest run on a pool of worker threads so that a
// request waiting for a group commit never stalls other connections.
//
// Thread safety: Start/Stop/Wait may be called from any one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "http/request.h"

namespace crs::http {

class Handler {
 public:
  virtual ~Handler() = default;
  // Produces the response for `request`. Must not throw. Called concurrently.
  virtual void Handle(const Request& request, Response* response) = 0;
  // True when Handle() for this request is quick and never waits on I/O
  // beyond a local read; such requests skip the hop to the worker pool.
  virtual bool RunsInline(const Request& request) const { return false; }
  // Fills `response` for a request the server refused before it reached
  // Handle() (body too large, malformed HTTP). `status` is the HTTP status.
  virtual void TransportError(int status, std::string_view message, Response* response) = 0;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;            // 0: pick a free port
  int io_threads = 2;
  int worker_threads = 64;         // threads for requests that may block
  uint64_t max_body_bytes = 32ull << 20;
  int idle_timeout_seconds = 120;
  int shutdown_grace_seconds = 30; // how long Stop() waits for in-flight requests
};

class Server {
 public:
  // Binds and starts serving. Returns Unavailable if the address cannot be bound.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options, Handler& handler);
  virtual ~Server() = default;

  // The bound port (useful with port 0).
  virtual uint16_t port() const = 0;
  // Graceful stop: no new connections; in-flight requests complete and their
  // responses are written; idle connections close. Blocks until done or the
  // grace period expires.
  virtual void Stop() = 0;
};

}  // namespace crs::http
