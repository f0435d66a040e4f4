// PostgreSQL streaming replication under the Store: a primary and a hot
// standby on loopback ports, synchronous replication. Reads and searches
// are served by the standby once it has replayed the writes they must see;
// the standby stops and comes back without a failed read; the primary dies,
// the standby is promoted, and the store carries on writing to it with no
// acknowledged write lost. Read-your-writes is per client: while the
// standby is behind, a client's read after its own write goes to the
// primary, another client's read is still served by the standby.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "store/client_scope.h"
#include "store/store.h"
#include "support/test_postgres.h"

namespace crs::store {
namespace {

#ifdef CRS_WITH_POSTGRES

namespace t = ::crs::testing;

class PostgresReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (t::PostgresDisabled()) GTEST_SKIP() << "CRS_TEST_POSTGRES=0";
    char tmpl[] = "/tmp/crs-repl-XXXXXX";
    dir_ = mkdtemp(tmpl);
    // The servers run as `postgres` when the tests run as root.
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all |
                                           std::filesystem::perms::group_read |
                                           std::filesystem::perms::group_exec |
                                           std::filesystem::perms::others_read |
                                           std::filesystem::perms::others_exec);
    auto primary = t::StartCluster(dir_ + "/primary",
                                   "-c synchronous_commit=on -c synchronous_standby_names=*");
    ASSERT_TRUE(primary.ok()) << primary.status().ToString();
    primary_port_ = t::PortOf(*primary);
    auto standby = t::StartStandby(primary_port_, dir_ + "/standby");
    ASSERT_TRUE(standby.ok()) << standby.status().ToString();
    standby_url_ = *standby;
    standby_port_ = t::PortOf(*standby);
  }
  void TearDown() override {
    store_.reset();
    if (dir_.empty()) return;
    (void)t::StopCluster(dir_ + "/standby");
    (void)t::StopCluster(dir_ + "/primary");
    std::filesystem::remove_all(dir_);
  }
  Status Put(const std::string& id) {
    WriteBatch b;
    b.writes.push_back({"Patient", id, 0, 1000, Method::kCreate, R"({"id":")" + id + R"("})",
                        nullptr, nullptr});
    return store_->Commit(b).status();
  }
  int64_t ReplicaReads() { return store_->Stats()->replica_reads; }
  // Opens the store on the primary with the standby as its replica, writes
  // Patient/base and waits until the standby has answered a read of it.
  void OpenWithStandby(int64_t max_lag_ms = 5000) {
    StoreOptions o;
    o.url = "postgres://postgres@127.0.0.1:" + std::to_string(primary_port_) + "/postgres";
    o.replicas = {standby_url_};
    o.pool_size = 4;
    o.replica_max_lag_ms = max_lag_ms;
    auto opened = OpenStore(o);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
    ASSERT_TRUE(Put("base").ok());
    for (int i = 0; i < 200 && ReplicaReads() == 0; ++i) {
      ASSERT_TRUE(store_->Read("Patient", "base").ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_GT(ReplicaReads(), 0) << "the standby never caught up";
  }

  std::string dir_, standby_url_;
  int primary_port_ = 0, standby_port_ = 0;
  std::unique_ptr<Store> store_;
};

TEST_F(PostgresReplicationTest, ReplicaReadsStandbyRestartAndFailover) {
  StoreOptions o;
  // Both servers, the writable one wherever it is: libpq finds it after a failover.
  o.url = "postgres://postgres@127.0.0.1:" + std::to_string(primary_port_) + ",127.0.0.1:" +
          std::to_string(standby_port_) + "/postgres?target_session_attrs=read-write";
  o.replicas = {standby_url_};
  o.pool_size = 4;
  auto opened = OpenStore(o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store_ = std::move(*opened);

  std::vector<std::string> acknowledged;
  // Each write is seen by the very next read, wherever that read goes.
  for (int i = 0; i < 20; ++i) {
    std::string id = "p" + std::to_string(i);
    ASSERT_TRUE(Put(id).ok());
    acknowledged.push_back(id);
    auto r = store_->Read("Patient", id);
    ASSERT_TRUE(r.ok()) << id << ": " << r.status().ToString();
  }
  // Once the standby has replayed the writes (synchronous replication waits
  // for its flush, not its replay), it answers reads.
  for (int i = 0; i < 200 && ReplicaReads() == 0; ++i) {
    ASSERT_TRUE(store_->Read("Patient", "p" + std::to_string(i % 20)).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  SearchQuery all;
  all.type = "Patient";
  all.want_total = true;
  auto found = store_->Search(all);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->total.value_or(-1), 20);
  EXPECT_GT(ReplicaReads(), 0) << "the standby answered no read";

  // The standby stops: every read is still answered (by the primary).
  ASSERT_TRUE(t::StopCluster(dir_ + "/standby").ok());
  for (int i = 0; i < 30; ++i) {
    auto r = store_->Read("Patient", "p" + std::to_string(i % 20));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(store_->Search(all).ok());
  }
  // It comes back and returns to the rotation.
  ASSERT_TRUE(t::RestartCluster(dir_ + "/standby").ok());
  int64_t before = ReplicaReads();
  for (int i = 0; i < 200 && ReplicaReads() == before; ++i) {
    ASSERT_TRUE(store_->Read("Patient", "p1").ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(ReplicaReads(), before) << "the restarted standby never answered again";
  for (int i = 20; i < 30; ++i) {
    std::string id = "p" + std::to_string(i);
    ASSERT_TRUE(Put(id).ok());  // synchronous: on the standby before acknowledged
    acknowledged.push_back(id);
  }

  // The primary dies; the standby is promoted; no acknowledged write is lost
  // and writes carry on without reopening the store.
  ASSERT_TRUE(t::StopCluster(dir_ + "/primary").ok());
  ASSERT_TRUE(t::PromoteCluster(dir_ + "/standby").ok());
  Status after = Put("after-failover");
  ASSERT_TRUE(after.ok()) << after.ToString();
  for (const auto& id : acknowledged) {
    auto r = store_->Read("Patient", id);
    EXPECT_TRUE(r.ok()) << id << " lost: " << r.status().ToString();
  }
  EXPECT_TRUE(store_->Read("Patient", "after-failover").ok());
}

TEST_F(PostgresReplicationTest, ReadYourWritesIsPerClient) {
  ASSERT_NO_FATAL_FAILURE(OpenWithStandby());

  // The standby stops replaying (it still receives and flushes the WAL, so
  // synchronous commits are acknowledged): it is behind from now on.
  ASSERT_TRUE(t::RunSql(standby_url_, "SELECT pg_wal_replay_pause()").ok());
  {
    ClientScope a("client-a");
    ASSERT_TRUE(Put("by-a").ok());
    int64_t before = ReplicaReads();
    auto r = store_->Read("Patient", "by-a");
    EXPECT_TRUE(r.ok()) << "client A missed its own write: " << r.status().ToString();
    EXPECT_EQ(ReplicaReads(), before) << "client A was answered by the lagging standby";
  }
  {
    // Client B wrote nothing: the standby answers it, without A's write.
    ClientScope b("client-b");
    int64_t before = ReplicaReads();
    EXPECT_TRUE(store_->Read("Patient", "base").ok());
    EXPECT_EQ(ReplicaReads(), before + 1) << "client B's read went to the primary";
    EXPECT_EQ(store_->Read("Patient", "by-a").status().code(), Code::kNotFound);
    // Its own write is then read from the primary.
    ASSERT_TRUE(Put("by-b").ok());
    EXPECT_TRUE(store_->Read("Patient", "by-b").ok());
  }
  // Outside any client (internal work): every acknowledged write is seen.
  EXPECT_TRUE(store_->Read("Patient", "by-a").ok());
  EXPECT_TRUE(store_->Read("Patient", "by-b").ok());

  ASSERT_TRUE(t::RunSql(standby_url_, "SELECT pg_wal_replay_resume()").ok());
  ClientScope a("client-a");
  int64_t before = ReplicaReads();
  for (int i = 0; i < 200 && ReplicaReads() == before; ++i) {
    ASSERT_TRUE(store_->Read("Patient", "by-a").ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(ReplicaReads(), before) << "client A never returned to the standby";
}

// A replica further behind than replica_max_lag_ms answers nobody, not
// even a client that wrote nothing; once it catches up it answers again.
TEST_F(PostgresReplicationTest, ALaggingReplicaLeavesTheRotation) {
  ASSERT_NO_FATAL_FAILURE(OpenWithStandby(/*max_lag_ms=*/300));
  ClientScope reader("reader");  // never writes

  ASSERT_TRUE(t::RunSql(standby_url_, "SELECT pg_wal_replay_pause()").ok());
  {
    ClientScope writer("writer");
    ASSERT_TRUE(Put("late").ok());
  }
  // Seen by a read at once; older than the bound 300 ms later.
  (void)store_->Read("Patient", "base");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  int64_t before = ReplicaReads();
  auto r = store_->Read("Patient", "late");
  EXPECT_TRUE(r.ok()) << "a write older than the lag bound was missed: " << r.status().ToString();
  EXPECT_TRUE(store_->Read("Patient", "base").ok());
  EXPECT_EQ(ReplicaReads(), before) << "the lagging standby still answered";

  ASSERT_TRUE(t::RunSql(standby_url_, "SELECT pg_wal_replay_resume()").ok());
  for (int i = 0; i < 200 && ReplicaReads() == before; ++i) {
    ASSERT_TRUE(store_->Read("Patient", "late").ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(ReplicaReads(), before) << "the standby never returned to the rotation";
}

#endif  // CRS_WITH_POSTGRES

}  // namespace
}  // namespace crs::store
