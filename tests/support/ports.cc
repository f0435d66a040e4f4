#include "support/ports.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <string>

namespace crs::testing {
namespace {

constexpr const char* kLockDir = "/tmp/crs-test-ports";

// The kernel's ephemeral range, or Linux's default when it cannot be read.
std::pair<int, int> EphemeralRange() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int lo = 32768, hi = 60999;
  if (!(in >> lo >> hi) || lo < 1 || hi < lo || hi > 65535) return {32768, 60999};
  return {lo, hi};
}

bool FreeNow(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // as the servers bind
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

int ReservePort() {
  auto [lo, hi] = EphemeralRange();
  // The unprivileged ports below the ephemeral range, or above it when that
  // leaves too few.
  int first = 10000, last = lo - 1;
  if (last - first < 2000) {
    first = hi + 1;
    last = 65535;
  }
  if (last - first < 100) return 0;
  std::mt19937 rng(static_cast<unsigned>(::getpid()) * 2654435761u ^
                   static_cast<unsigned>(
                       std::chrono::steady_clock::now().time_since_epoch().count()));
  ::mkdir(kLockDir, 01777);  // shared by every user's test runs, like /tmp
  ::chmod(kLockDir, 01777);  // (mkdir's mode is narrowed by the umask)
  const int span = last - first + 1;
  const int start = static_cast<int>(rng() % static_cast<unsigned>(span));
  for (int i = 0; i < span && i < 4000; ++i) {
    int port = first + (start + i) % span;
    std::string lock = std::string(kLockDir) + "/" + std::to_string(port);
    int fd = ::open(lock.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {  // another test process holds it
      ::close(fd);
      continue;
    }
    if (!FreeNow(port)) {  // something outside the tests listens there
      ::close(fd);
      continue;
    }
    return port;  // fd stays open: the lock is this process's until it exits
  }
  return 0;
}

}  // namespace crs::testing
