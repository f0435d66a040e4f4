// The ports handed to nodes that need a fixed address: never in the
// kernel's ephemeral range, never handed twice while their holder lives.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "e2e/harness.h"

namespace crs::e2e {
namespace {

TEST(ReservePortTest, PortsAreOutsideTheEphemeralRangeAndNeverHandedTwice) {
  int lo = 32768, hi = 60999;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> lo >> hi;
  std::set<int> mine;
  for (int i = 0; i < 40; ++i) {
    int port = crs::testing::ReservePort();
    ASSERT_GT(port, 0);
    EXPECT_TRUE(port < lo || port > hi) << port;
    EXPECT_TRUE(mine.insert(port).second) << "handed twice in one process: " << port;
  }
  // Another process (as a parallel test is) is never given one of them.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    for (int i = 0; i < 200; ++i) {
      int port = crs::testing::ReservePort();
      if (write(fds[1], &port, sizeof port) != sizeof port) _exit(2);
    }
    _exit(0);
  }
  close(fds[1]);
  int port = 0, n = 0;
  while (read(fds[0], &port, sizeof port) == sizeof port) {
    ++n;
    EXPECT_GT(port, 0);
    EXPECT_EQ(mine.count(port), 0u) << "held by this process, handed to another: " << port;
  }
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(n, 200);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace crs::e2e
