// Read-your-writes per client: the thread's client scope, and (PostgreSQL)
// ClientLsns, per-client write positions kept bounded without ever asking a
// client for less than its own last write.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <thread>

#include "store/client_scope.h"

namespace crs::store {
namespace {

TEST(ClientScopeTest, InnermostScopeOnThisThread) {
  EXPECT_EQ(ClientScope::Current(), "");
  {
    ClientScope a("a");
    EXPECT_EQ(ClientScope::Current(), "a");
    {
      ClientScope b("b");
      EXPECT_EQ(ClientScope::Current(), "b");
      ClientScope none("");  // an empty key opens no scope
      EXPECT_EQ(ClientScope::Current(), "b");
    }
    EXPECT_EQ(ClientScope::Current(), "a");
    std::string other = "unset";
    std::thread([&other] { other = ClientScope::Current(); }).join();
    EXPECT_EQ(other, "");
  }
  EXPECT_EQ(ClientScope::Current(), "");
}

}  // namespace
}  // namespace crs::store

#ifdef CRS_WITH_POSTGRES
#include "store/postgres/client_lsns.h"

namespace crs::store::postgres {
namespace {

TEST(ClientLsnsTest, EachClientNeedsOnlyItsOwnWrites) {
  ClientLsns m(10, 1000);
  EXPECT_EQ(m.Required("a"), 0u);
  m.Note("a", 100, 0);
  m.Note("b", 200, 0);
  EXPECT_EQ(m.Required("a"), 100u);
  EXPECT_EQ(m.Required("b"), 200u);
  EXPECT_EQ(m.Required("c"), 0u);
  m.Note("a", 50, 1);  // positions never go back
  EXPECT_EQ(m.Required("a"), 100u);
}

TEST(ClientLsnsTest, ForgottenClientsRaiseTheFloor) {
  ClientLsns m(2, 1000);
  m.Note("a", 100, 0);
  m.Note("b", 200, 1);
  m.Note("c", 300, 2);  // over capacity: a, the least recently written, goes
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.Required("a"), 100u);  // still sees its write, through the floor
  EXPECT_EQ(m.Required("d"), 100u);
  EXPECT_EQ(m.Required("b"), 200u);
  m.Note("b", 250, 3);  // b is now the most recent; c goes next
  m.Note("e", 400, 4);
  EXPECT_EQ(m.Required("c"), 300u);
  EXPECT_EQ(m.Required("b"), 250u);
}

TEST(ClientLsnsTest, ExpiredClientsAreDropped) {
  ClientLsns m(100, 1000);
  m.Note("a", 100, 0);
  m.Note("b", 200, 500);
  m.Note("c", 300, 1400);  // a expired (written at 0, ttl 1000)
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.Required("a"), 100u);
  EXPECT_EQ(m.Required("b"), 200u);
  m.Note("c", 350, 5000);  // b expired too
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(m.Required("b"), 200u);
  EXPECT_EQ(m.Required("zz"), 200u);
}

TEST(ClientLsnsTest, UnknownPositionIsKept) {
  ClientLsns m(1, 1000);
  m.Note("a", UINT64_MAX, 0);
  EXPECT_EQ(m.Required("a"), UINT64_MAX);
  m.Note("b", 10, 1);  // a forgotten: its unknown position becomes the floor
  EXPECT_EQ(m.Required("a"), UINT64_MAX);
  EXPECT_EQ(m.Required("b"), 10u);
}

}  // namespace
}  // namespace crs::store::postgres
#endif  // CRS_WITH_POSTGRES
