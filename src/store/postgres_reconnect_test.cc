// The PostgreSQL store survives losing its connections (a server restart,
// an administrator's pg_terminate_backend, a failover): the next read and
// the next write reconnect, and nothing acknowledged is lost.
#include <gtest/gtest.h>

#include <cstdlib>

#include "store/store.h"
#include "support/test_postgres.h"

namespace crs::store {
namespace {

#ifdef CRS_WITH_POSTGRES

// Terminates every other session on the database of `url`.
bool TerminateSessions(const std::string& url) {
  std::string cmd = "/usr/lib/postgresql/15/bin/psql -X -q -t '" + url +
                    "' -c 'SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()' "
                    ">/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

TEST(PostgresReconnectTest, ReadsAndWritesCarryOnAfterTheSessionsAreKilled) {
  if (::crs::testing::PostgresDisabled()) GTEST_SKIP() << "CRS_TEST_POSTGRES=0";
  auto url = ::crs::testing::FreshPostgresDatabase();
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  StoreOptions o;
  o.url = *url;
  o.pool_size = 4;
  auto opened = OpenStore(o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Store& s = **opened;
  auto put = [&](const std::string& id, int64_t expected) {
    WriteBatch b;
    b.writes.push_back({"Patient", id, expected, 1000, expected ? Method::kUpdate : Method::kCreate,
                        "{}", nullptr, nullptr});
    return s.Commit(b);
  };
  ASSERT_TRUE(put("a", 0).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.Read("Patient", "a").ok());  // pooled connections

  ASSERT_TRUE(TerminateSessions(*url));
  auto read = s.Read("Patient", "a");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->version, 1);
  auto written = put("a", 1);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(s.Read("Patient", "a")->version, 2);

  ASSERT_TRUE(TerminateSessions(*url));
  SearchQuery q;
  q.type = "Patient";
  q.want_total = true;
  auto found = s.Search(q);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->total.value_or(-1), 1);
  EXPECT_TRUE(put("b", 0).ok());
}

#endif  // CRS_WITH_POSTGRES

}  // namespace
}  // namespace crs::store
