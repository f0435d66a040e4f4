#include "http/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <optional>

namespace crs::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

struct Client::Impl {
  std::string host;
  std::string port;
  std::string prefix;  // path prefix of the base URL, no trailing slash
  asio::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  // Runs the pending operation to completion. The stream's expiry applies
  // only to asynchronous operations, so every step is one, run here: a
  // step that outlives the deadline completes with beast::error::timeout.
  void Run() {
    io.restart();
    io.run();
  }

  void Drop() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      stream.reset();
    }
    buffer.clear();
  }

  // One attempt on the current (or a new) connection.
  Result<ClientResponse> Attempt(std::string_view method, const std::string& target,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 std::string_view body, std::chrono::milliseconds timeout,
                                 bool* reused) {
    beast::error_code ec;
    *reused = stream.has_value();
    if (!stream) {
      asio::ip::tcp::resolver resolver(io);
      auto endpoints = resolver.resolve(host, port, ec);
      if (ec) return Status::Unavailable("cannot resolve peer host: " + ec.message());
      stream.emplace(io);
      stream->expires_after(timeout);
      stream->async_connect(endpoints, [&ec](beast::error_code e, const auto&) { ec = e; });
      Run();
      if (ec) {
        Drop();
        return Status::Unavailable("cannot connect to peer: " + ec.message());
      }
    }
    bhttp::request<bhttp::string_body> req;
    req.method_string(std::string(method));
    req.target(target);
    req.version(11);
    req.set(bhttp::field::host, host + ":" + port);
    req.set(bhttp::field::user_agent, "opencrs-node");
    req.keep_alive(true);
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = std::string(body);
    req.prepare_payload();
    stream->expires_after(timeout);
    bhttp::async_write(*stream, req, [&ec](beast::error_code e, size_t) { ec = e; });
    Run();
    if (ec) {
      Drop();
      return Status::Unavailable("cannot send to peer: " + ec.message());
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64ull << 20);
    bhttp::async_read(*stream, buffer, parser, [&ec](beast::error_code e, size_t) { ec = e; });
    Run();
    if (ec) {
      Drop();
      return Status::Unavailable("no response from peer: " + ec.message());
    }
    auto res = parser.release();
    ClientResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) out.headers.Add(field.name_string(), field.value());
    out.body = std::move(res.body());
    if (!res.keep_alive()) Drop();
    return out;
  }
};

Client::Client(std::string base_url, std::unique_ptr<Impl> impl)
    : base_url_(std::move(base_url)), impl_(std::move(impl)) {}
Client::~Client() { impl_->Drop(); }

Result<std::unique_ptr<Client>> Client::Create(std::string_view base_url) {
  auto url = boost::urls::parse_absolute_uri(base_url);
  if (!url || url->scheme() != "http" || url->host().empty()) {
    return Status::Invalid("peer URL must be an absolute http:// URL");
  }
  auto impl = std::make_unique<Impl>();
  impl->host = std::string(url->host_address());
  if (impl->host.size() > 2 && impl->host.front() == '[') {
    impl->host = impl->host.substr(1, impl->host.size() - 2);
  }
  impl->port = url->has_port() ? std::string(url->port()) : "80";
  impl->prefix = std::string(url->encoded_path());
  while (!impl->prefix.empty() && impl->prefix.back() == '/') impl->prefix.pop_back();
  std::string base(base_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  return std::unique_ptr<Client>(new Client(std::move(base), std::move(impl)));
}

Result<ClientResponse> Client::Send(std::string_view method, std::string_view target,
                                    const std::vector<std::pair<std::string, std::string>>& headers,
                                    std::string_view body, std::chrono::milliseconds timeout) {
  std::string full = impl_->prefix + std::string(target);
  bool reused = false;
  auto start = std::chrono::steady_clock::now();
  auto r = impl_->Attempt(method, full, headers, body, timeout, &reused);
  // A kept-alive connection the peer closed in the meantime fails at once;
  // one fresh connection is tried before giving up, within what is left of
  // the deadline. (Requests sent here are idempotent: PUTs, GETs, and POSTs
  // carrying an X-Request-ID.)
  auto left = timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start);
  if (!r.ok() && reused && left.count() > 0) {
    r = impl_->Attempt(method, full, headers, body, left, &reused);
  }
  return r;
}

}  // namespace crs::http
