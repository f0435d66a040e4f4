#include "http/server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/thread_name.h"

namespace crs::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

class ServerImpl;

// One connection. Shared ownership (shared_ptr) because Asio completion
// handlers keep the session alive while an operation is outstanding.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerImpl& server);
  ~Session();
  void Start();
  // Closes the connection, from any thread, if no request is being handled;
  // a busy session closes after writing its response.
  void CloseIfIdleAsync();

 private:
  void DoRead();
  void OnHeader(beast::error_code ec, size_t bytes);
  void OnRead(beast::error_code ec, size_t bytes);
  void Dispatch(Request request, bool keep_alive);
  // Hands a response with a hold to its holder; Write() runs on release.
  void Hold(Response response, bool keep_alive);
  void Write(Response response, bool keep_alive);
  void OnWrite(bool keep_alive, beast::error_code ec, size_t bytes);
  void Close();

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  ServerImpl& server_;
  bool busy_ = false;  // a request is being handled, held or written

  friend struct HeldResponse;
};

class ServerImpl final : public Server {
 public:
  ServerImpl(const ServerOptions& options, Handler& handler)
      : options_(options), handler_(handler), workers_(std::max(1, options.worker_threads)) {
    for (int i = 0; i < std::max(1, options.io_threads); ++i) {
      contexts_.push_back(std::make_unique<net::io_context>(1));
    }
  }
  ~ServerImpl() override { Stop(); }

  Status Listen() {
    try {
      auto address = net::ip::make_address(options_.host);
      acceptor_.emplace(*contexts_[0]);
      tcp::endpoint endpoint(address, options_.port);
      acceptor_->open(endpoint.protocol());
      acceptor_->set_option(net::socket_base::reuse_address(true));
      acceptor_->bind(endpoint);
      acceptor_->listen(net::socket_base::max_listen_connections);
      port_ = acceptor_->local_endpoint().port();
    } catch (const std::exception& e) {
      return Status::Unavailable(std::string("cannot listen on ") + options_.host + ":" +
                                 std::to_string(options_.port) + ": " + e.what());
    }
    DoAccept();
    for (auto& ioc : contexts_) {
      guards_.emplace_back(net::make_work_guard(*ioc));
      threads_.emplace_back([ctx = ioc.get()] {
        SetThreadName("crs-http");
        ctx->run();
      });
    }
    return Status::Ok();
  }

  uint16_t port() const override { return port_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    stopping_ = true;
    if (acceptor_) {
      net::post(acceptor_->get_executor(), [this] {
        beast::error_code ec;
        acceptor_->close(ec);
      });
    }
    // Take strong references under the lock but use (and drop) them outside
    // it: dropping the last one runs ~Session, which takes mu_ itself.
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& weak : sessions_) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) s->CloseIfIdleAsync();
    live.clear();
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(options_.shutdown_grace_seconds),
                   [this] { return live_sessions_ == 0; });
    }
    workers_.join();
    guards_.clear();
    for (auto& ioc : contexts_) ioc->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  Handler& handler() { return handler_; }
  const ServerOptions& options() const { return options_; }
  net::thread_pool& workers() { return workers_; }
  bool stopping() const { return stopping_; }

  void SessionStarted(const std::shared_ptr<Session>& s) {
    std::lock_guard<std::mutex> lock(mu_);
    ++live_sessions_;
    // Drop expired entries now and then so the set stays small.
    if (sessions_.size() >= 1024 && sessions_.size() % 1024 == 0) {
      std::erase_if(sessions_, [](const std::weak_ptr<Session>& w) { return w.expired(); });
    }
    sessions_.push_back(s);
  }
  void SessionEnded() {
    std::lock_guard<std::mutex> lock(mu_);
    --live_sessions_;
    cv_.notify_all();
  }

 private:
  void DoAccept() {
    net::io_context& target = *contexts_[next_context_++ % contexts_.size()];
    acceptor_->async_accept(target, [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (stopping_ || ec == net::error::operation_aborted) return;
      } else if (!stopping_) {
        socket.set_option(tcp::no_delay(true), ec);
        auto session = std::make_shared<Session>(std::move(socket), *this);
        SessionStarted(session);
        session->Start();
      }
      if (!stopping_) DoAccept();
    });
  }

  ServerOptions options_;
  Handler& handler_;
  std::vector<std::unique_ptr<net::io_context>> contexts_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  net::thread_pool workers_;
  std::optional<tcp::acceptor> acceptor_;
  size_t next_context_ = 0;  // only touched by the acceptor's thread
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};

  // Lock order: mu_ is a leaf lock.
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::weak_ptr<Session>> sessions_;  // GUARDED_BY(mu_)
  int live_sessions_ = 0;                          // GUARDED_BY(mu_)

 public:
  friend class Session;
};


Session::Session(tcp::socket socket, ServerImpl& server)
    : stream_(std::move(socket)), server_(server) {
  // Beast reads at most the buffer's free capacity (min 512 bytes) per call;
  // room for 64 KiB keeps large bodies to a few reads.
  buffer_.reserve(64 * 1024);
}

Session::~Session() { server_.SessionEnded(); }

void Session::Start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
}

void Session::CloseIfIdleAsync() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (!self->busy_) self->Close();
  });
}

void Session::DoRead() {
  if (server_.stopping()) return Close();
  parser_.emplace();
  parser_->body_limit(server_.options().max_body_bytes);
  parser_->header_limit(64 * 1024);
  stream_.expires_after(std::chrono::seconds(server_.options().idle_timeout_seconds));
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
}

void Session::OnHeader(beast::error_code ec, size_t bytes) {
  if (ec) return OnRead(ec, bytes);
  // Clients such as curl send "Expect: 100-continue" with large bodies and
  // wait (a second, for curl) for the interim response before sending it.
  auto expect = parser_->get()[bhttp::field::expect];
  if (beast::iequals(expect, "100-continue")) {
    auto interim = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
    bhttp::async_write(stream_, *interim,
                       [self = shared_from_this(), interim](beast::error_code wec, size_t) {
                         if (wec) return self->Close();
                         bhttp::async_read(self->stream_, self->buffer_, *self->parser_,
                                           beast::bind_front_handler(&Session::OnRead, self));
                       });
    return;
  }
  bhttp::async_read(stream_, buffer_, *parser_,
                    beast::bind_front_handler(&Session::OnRead, shared_from_this()));
}

void Session::OnRead(beast::error_code ec, size_t) {
  if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted ||
      ec == beast::error::timeout || ec == net::error::connection_reset || ec == net::error::eof) {
    return Close();
  }
  if (ec) {
    Response response;
    if (ec == bhttp::error::body_limit) {
      server_.handler().TransportError(
          413, "request body exceeds the limit of " +
                   std::to_string(server_.options().max_body_bytes) + " bytes", &response);
    } else if (ec == bhttp::error::header_limit) {
      server_.handler().TransportError(431, "request headers too large", &response);
    } else {
      server_.handler().TransportError(400, "malformed HTTP request: " + ec.message(), &response);
    }
    busy_ = true;
    return Write(std::move(response), /*keep_alive=*/false);
  }
  busy_ = true;
  auto& msg = parser_->get();
  Request request;
  request.method = std::string(msg.method_string());
  std::string_view target(msg.target().data(), msg.target().size());
  size_t q = target.find('?');
  request.path = PercentDecode(target.substr(0, q), false);
  if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
  for (const auto& field : msg) {
    request.headers.Add(std::string_view(field.name_string().data(), field.name_string().size()),
                        std::string_view(field.value().data(), field.value().size()));
  }
  request.body = std::move(msg.body());
  bool keep_alive = msg.keep_alive();
  Dispatch(std::move(request), keep_alive);
}

void Session::Dispatch(Request request, bool keep_alive) {
  Handler& handler = server_.handler();
  if (handler.RunsInline(request)) {
    Response response;
    handler.Handle(request, &response);
    if (response.hold) return Hold(std::move(response), keep_alive);
    return Write(std::move(response), keep_alive);
  }
  net::post(server_.workers(), [self = shared_from_this(), request = std::move(request),
                                keep_alive]() mutable {
    NameThisThreadOnce("crs-worker");
    auto response = std::make_shared<Response>();
    self->server_.handler().Handle(request, response.get());
    if (response->hold) return self->Hold(std::move(*response), keep_alive);
    net::post(self->stream_.get_executor(), [self, response, keep_alive] {
      self->Write(std::move(*response), keep_alive);
    });
  });
}

// A response waiting for its release. Owns the session until then; if the
// release function is dropped uncalled, the client gets a 500 rather than
// a connection that hangs until Stop() gives up on it.
struct HeldResponse {
  std::shared_ptr<Session> self;
  Response response;
  bool keep_alive = false;
  std::atomic<bool> released{false};
  ~HeldResponse();
  void Release(Status status);
};

void Session::Hold(Response response, bool keep_alive) {
  auto hold = std::move(response.hold);
  response.hold = nullptr;
  auto held = std::make_shared<HeldResponse>();
  held->self = shared_from_this();
  held->response = std::move(response);
  held->keep_alive = keep_alive;
  hold([held](Status status) { held->Release(std::move(status)); });
}

void HeldResponse::Release(Status status) {
  if (released.exchange(true)) return;
  std::shared_ptr<Session> session = std::move(self);
  Response out;
  if (status.ok()) {
    out = response.replacement && *response.replacement ? std::move(**response.replacement)
                                                        : std::move(response);
    out.replacement = nullptr;
  } else {
    session->server_.handler().TransportError(HttpStatusOf(status.code()), status.message(), &out);
  }
  bool keep = keep_alive && status.ok();
  net::post(session->stream_.get_executor(), [session, out = std::move(out), keep]() mutable {
    session->Write(std::move(out), keep);
  });
}

HeldResponse::~HeldResponse() {
  if (!released && self) Release(Status::Internal("the response was never released"));
}

void Session::Write(Response response, bool keep_alive) {
  response_ = {};
  response_.version(11);
  response_.result(static_cast<unsigned>(response.status));
  for (auto& [name, value] : response.headers) response_.insert(name, value);
  response_.body() = std::move(response.body);
  keep_alive = keep_alive && !server_.stopping();
  response_.keep_alive(keep_alive);
  response_.prepare_payload();
  stream_.expires_after(std::chrono::seconds(server_.options().idle_timeout_seconds));
  bhttp::async_write(stream_, response_,
                     beast::bind_front_handler(&Session::OnWrite, shared_from_this(), keep_alive));
}

void Session::OnWrite(bool keep_alive, beast::error_code ec, size_t) {
  busy_ = false;
  if (ec || !keep_alive) return Close();
  DoRead();
}

void Session::Close() {
  if (!stream_.socket().is_open()) return;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.socket().close(ec);
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options, Handler& handler) {
  auto server = std::make_unique<ServerImpl>(options, handler);
  CRS_RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace crs::http
