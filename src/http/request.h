// Plain HTTP request/response types shared by the server and the handlers.
// Nothing here depends on Beast: handlers (api/) see only these structs.
//
// Thread safety: value types.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace crs::http {

// Header names are stored lower-case; lookups are case-insensitive.
class Headers {
 public:
  void Add(std::string_view name, std::string_view value);
  // First value of `name`, or empty when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct Request {
  std::string method;  // upper case: "GET", "POST", ...
  std::string path;    // percent-decoded path, no query
  std::string query;   // raw query string (after '?'), undecoded
  Headers headers;
  std::string body;
  std::string request_id;  // X-Request-ID or a server-generated one
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Deferred sending, e.g. until the request's audit record is durable.
  // When set, the server does not send the response when Handle() returns:
  // it calls hold(release) (on the thread that ran Handle) and sends the
  // response only when release is called — exactly once, from any thread;
  // further calls are ignored. release(OK) sends this response;
  // release(error) discards it and sends Handler::TransportError's response
  // for the error's HTTP status (its message goes to the client), so a
  // response whose audit failed never leaves. If release is destroyed
  // without being called, the client gets a 500. Meanwhile the connection
  // reads no further request (pipelined responses keep their order), the
  // I/O thread serves other connections, and Server::Stop() waits for it.
  std::function<void(std::function<void(Status)> release)> hold;
  // With a hold: a slot the holder may fill before it calls release(OK),
  // to send another response in this one's place (e.g. the answer of a
  // write that had to be redone). Left empty, this response is sent.
  std::shared_ptr<std::optional<Response>> replacement;

  void SetHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

// For a caller of Handler::Handle outside the server: waits until a held
// response is released (no-op without a hold) and puts its replacement, if
// any, in its place. Returns the release's status.
Status AwaitHeld(Response* response);

// Decodes %XX escapes (and '+' as space when `plus_is_space`). Invalid escapes are kept as-is.
std::string PercentDecode(std::string_view in, bool plus_is_space);

// Splits an application/x-www-form-urlencoded string into decoded name/value pairs.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace crs::http
