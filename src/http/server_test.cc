// Held responses: a response whose sending waits for release() (e.g. its
// audit record becoming durable) must not stall the I/O thread, must keep
// pipelined responses in order, and must be waited for by Stop().
#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

namespace crs::http {
namespace {

// GET /fast answers at once; /hold (any method) holds its response and
// parks the release function for the test; /drop holds and drops it.
class HoldingHandler : public Handler {
 public:
  void Handle(const Request& request, Response* response) override {
    response->body = request.path == "/fast" ? "fast" : "held " + request.method;
    if (request.path == "/drop") {
      response->hold = [](std::function<void(Status)>) {};
      return;
    }
    if (request.path == "/replace") {
      // The holder puts another response in this one's place before release.
      auto slot = std::make_shared<std::optional<Response>>();
      response->replacement = slot;
      response->hold = [slot](std::function<void(Status)> release) {
        std::thread([slot, release] {
          Response other;
          other.status = 201;
          other.body = "redone";
          *slot = std::move(other);
          release(Status::Ok());
        }).detach();
      };
      return;
    }
    if (request.path != "/hold") return;
    response->hold = [this](std::function<void(Status)> release) {
      std::lock_guard<std::mutex> lock(mu_);
      releases_.push_back(std::move(release));
      cv_.notify_all();
    };
  }
  bool RunsInline(const Request& request) const override { return request.method == "GET"; }
  void TransportError(int status, std::string_view message, Response* response) override {
    response->status = status;
    response->body = "error: " + std::string(message);
  }
  // Waits for the n-th held response and returns its release function.
  std::function<void(Status)> WaitForHold(size_t n = 1) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return releases_.size() >= n; });
    return releases_.size() >= n ? releases_[n - 1] : nullptr;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::function<void(Status)>> releases_;
};

// A blocking HTTP/1.1 client on a raw socket, so the test controls pipelining.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& raw) { ASSERT_EQ(send(fd_, raw.data(), raw.size(), 0), (ssize_t)raw.size()); }
  static std::string Get(const std::string& path) {
    return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  // True when no byte of a response has arrived within `ms`.
  bool Silent(int ms) {
    if (!buffer_.empty()) return false;
    timeval tv{0, ms * 1000};
    fd_set set;
    FD_ZERO(&set);
    FD_SET(fd_, &set);
    return select(fd_ + 1, &set, nullptr, nullptr, &tv) == 0;
  }
  // Reads one response: "<status> <body>", or "" on error.
  std::string Read() {
    while (buffer_.find("\r\n\r\n") == std::string::npos) {
      if (!Fill()) return "";
    }
    size_t end = buffer_.find("\r\n\r\n") + 4;
    std::string head = buffer_.substr(0, end);
    size_t cl = head.find("Content-Length: ");
    size_t length = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 16));
    while (buffer_.size() < end + length) {
      if (!Fill()) return "";
    }
    std::string out = head.substr(9, 3) + " " + buffer_.substr(end, length);
    buffer_.erase(0, end + length);
    return out;
  }

 private:
  bool Fill() {
    char chunk[4096];
    ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  int fd_;
  bool connected_ = false;
  std::string buffer_;
};

class HeldResponseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.port = 0;
    o.io_threads = 1;  // one I/O thread: a stalled one would starve everything
    o.worker_threads = 2;
    o.shutdown_grace_seconds = 10;
    auto s = Server::Start(o, handler_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
  }
  HoldingHandler handler_;
  std::unique_ptr<Server> server_;
};

TEST_F(HeldResponseTest, OtherConnectionsAreServedWhileAResponseIsHeld) {
  RawClient held(server_->port());
  ASSERT_TRUE(held.connected());
  held.Send(RawClient::Get("/hold"));
  auto release = handler_.WaitForHold();
  ASSERT_TRUE(release);
  RawClient other(server_->port());
  other.Send(RawClient::Get("/fast"));
  EXPECT_EQ(other.Read(), "200 fast");
  EXPECT_TRUE(held.Silent(100)) << "a held response was sent before its release";
  std::thread([release] { release(Status::Ok()); }).join();
  release(Status::Ok());  // a second call is ignored
  EXPECT_EQ(held.Read(), "200 held GET");
  // The connection stays usable.
  held.Send(RawClient::Get("/fast"));
  EXPECT_EQ(held.Read(), "200 fast");
}

TEST_F(HeldResponseTest, PipelinedResponsesKeepTheirOrder) {
  RawClient c(server_->port());
  c.Send(RawClient::Get("/hold") + RawClient::Get("/fast") + RawClient::Get("/hold"));
  auto first = handler_.WaitForHold(1);
  ASSERT_TRUE(first);
  EXPECT_TRUE(c.Silent(100));
  first(Status::Ok());
  EXPECT_EQ(c.Read(), "200 held GET");
  EXPECT_EQ(c.Read(), "200 fast");
  auto third = handler_.WaitForHold(2);
  ASSERT_TRUE(third);
  third(Status::Ok());
  EXPECT_EQ(c.Read(), "200 held GET");
}

TEST_F(HeldResponseTest, WorkerRequestsCanBeHeldAndAFailedReleaseSendsTheError) {
  RawClient c(server_->port());
  c.Send("POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
  auto release = handler_.WaitForHold();
  ASSERT_TRUE(release);
  release(Status::Unavailable("audit log unavailable"));
  EXPECT_EQ(c.Read(), "503 error: audit log unavailable");
}

TEST_F(HeldResponseTest, AHolderMaySendAnotherResponseInstead) {
  RawClient c(server_->port());
  c.Send(RawClient::Get("/replace") + RawClient::Get("/fast"));
  EXPECT_EQ(c.Read(), "201 redone");
  EXPECT_EQ(c.Read(), "200 fast");
  Response direct;
  handler_.Handle(Request{"GET", "/replace", "", {}, "", ""}, &direct);
  ASSERT_TRUE(AwaitHeld(&direct).ok());
  EXPECT_EQ(direct.status, 201);
  EXPECT_EQ(direct.body, "redone");
  EXPECT_FALSE(direct.hold);
}

TEST_F(HeldResponseTest, DroppedReleaseAnswers500) {
  RawClient c(server_->port());
  c.Send(RawClient::Get("/drop"));
  EXPECT_EQ(c.Read(), "500 error: the response was never released");
}

TEST_F(HeldResponseTest, StopWaitsForHeldResponses) {
  RawClient c(server_->port());
  c.Send(RawClient::Get("/hold"));
  auto release = handler_.WaitForHold();
  ASSERT_TRUE(release);
  auto stopped = std::async(std::launch::async, [this] { server_->Stop(); });
  EXPECT_EQ(stopped.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  release(Status::Ok());
  EXPECT_EQ(c.Read(), "200 held GET");
  EXPECT_EQ(stopped.wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

}  // namespace
}  // namespace crs::http
