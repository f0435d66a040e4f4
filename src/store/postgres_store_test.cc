// What only the PostgreSQL store has to get right: surviving lost
// connections (a server restart, an administrator's pg_terminate_backend, a
// failover), failing a pipelined batch alone, and keeping the planner's
// statistics fresh after bulk writes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <chrono>
#include <thread>

#include "store/postgres/schema.h"
#include "store/store.h"
#include "support/test_postgres.h"

namespace crs::store {
namespace {

#ifdef CRS_WITH_POSTGRES

// Runs `sql` (no single quotes) with psql on `url`; its output.
std::string Psql(const std::string& url, const std::string& sql) {
  std::string cmd = "/usr/lib/postgresql/15/bin/psql -X -q -A -t '" + url + "' -c '" + sql +
                    "' 2>/dev/null";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[256];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Terminates every other session on the database of `url`.
bool TerminateSessions(const std::string& url) {
  return !Psql(url, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")
              .empty();
}

// Each test: a store on a fresh database.
class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::crs::testing::PostgresDisabled()) GTEST_SKIP() << "CRS_TEST_POSTGRES=0";
    auto url = ::crs::testing::FreshPostgresDatabase();
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    url_ = *url;
    StoreOptions o;
    o.url = url_;
    o.pool_size = 4;
    auto opened = OpenStore(o);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
  }

  std::string url_;
  std::unique_ptr<Store> store_;
};

// A database at schema version 2 (value indexes on whole columns) is
// brought to version 3 (bounded keys, docs/storage.md "Long values") and on
// to the current version when a store opens it, as `crs migrate` does.
TEST_F(PostgresStoreTest, MigratesAVersion2Database) {
  store_.reset();
  const char* v2 =
      "DROP INDEX ix_string_by_value; CREATE INDEX ix_string_by_value ON ix_string (pid, norm, rid);"
      "DROP INDEX ix_string_by_exact; CREATE INDEX ix_string_by_exact ON ix_string (pid, exact);"
      "DROP INDEX ix_token_by_value;"
      "CREATE INDEX ix_token_by_value ON ix_token (pid, code, system, rid);"
      "DROP INDEX ix_ref_by_target; CREATE INDEX ix_ref_by_target ON ix_ref (pid, tid, ttype, rid);"
      "DROP INDEX ix_ref_by_url; CREATE INDEX ix_ref_by_url ON ix_ref (pid, url) WHERE url <> $$$$;"
      "DROP INDEX ix_uri_by_value; CREATE INDEX ix_uri_by_value ON ix_uri (pid, uri, rid);"
      "DROP INDEX ix_comp_by_code; CREATE INDEX ix_comp_by_code ON ix_comp (pid, comp, code, system);"
      "DROP INDEX resources_labelled; DROP TABLE ix_text; DROP TABLE ix_geo;"
      "ALTER TABLE audit_alert DROP COLUMN codes, DROP COLUMN user_id, DROP COLUMN user_name;"
      "UPDATE schema_meta SET value = 2 WHERE key = $$version$$";
  // (Psql takes no single quotes: $$...$$ quotes the strings.)
  ASSERT_EQ(Psql(url_, "SELECT value FROM schema_meta WHERE key = $$version$$"),
            std::to_string(postgres::kSchemaVersion));
  Psql(url_, v2);
  ASSERT_EQ(Psql(url_, "SELECT value FROM schema_meta WHERE key = $$version$$"), "2");
  const std::string bounded =
      "SELECT count(*) FROM pg_indexes WHERE schemaname = $$public$$ AND indexdef LIKE ";
  ASSERT_EQ(Psql(url_, bounded + "$$%\"left\"(%$$"), "0");
  // ~3 KB of code and of system that do not compress: one index entry too big for version 2.
  const std::string long_token =
      "WITH v AS (SELECT string_agg(md5(i::text), $$$$) AS s FROM generate_series(1, 100) i) "
      "INSERT INTO ix_token SELECT 1, s, s, $$$$, $$$$, $$$$, 1 FROM v RETURNING 1";
  EXPECT_EQ(Psql(url_, long_token), "") << "version 2 took a 6 KB index entry";

  // A Patient's name row that its family row repeats (version 7 deletes
  // it), and one that nothing repeats.
  Psql(url_,
       "INSERT INTO sp (type, code) VALUES ($$Patient$$, $$name$$), ($$Patient$$, $$family$$);"
       "INSERT INTO ix_string SELECT pid, $$brown$$, $$Brown$$, 5 FROM sp;"
       "INSERT INTO ix_string SELECT pid, $$mrs$$, $$Mrs$$, 5 FROM sp WHERE code = $$name$$");
  const std::string names =
      "SELECT string_agg(x.exact, $$,$$ ORDER BY x.exact) FROM ix_string x JOIN sp USING (pid) "
      "WHERE sp.code = $$name$$ AND x.rid = 5";
  ASSERT_EQ(Psql(url_, names), "Brown,Mrs");

  StoreOptions o;
  o.url = url_;
  auto opened = OpenStore(o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(Psql(url_, "SELECT value FROM schema_meta WHERE key = $$version$$"),
            std::to_string(postgres::kSchemaVersion));
  EXPECT_EQ(Psql(url_, bounded + "$$%\"left\"(%, 256)%$$"), "7");
  EXPECT_EQ(Psql(url_, long_token), "1");
  EXPECT_EQ(Psql(url_, names), "Mrs");
}

TEST_F(PostgresStoreTest, ReadsAndWritesCarryOnAfterTheSessionsAreKilled) {
  Store& s = *store_;
  auto put = [&](const std::string& id, int64_t expected) {
    WriteBatch b;
    b.writes.push_back({"Patient", id, expected, 1000, expected ? Method::kUpdate : Method::kCreate,
                        "{}", nullptr, nullptr});
    return s.Commit(b);
  };
  ASSERT_TRUE(put("a", 0).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.Read("Patient", "a").ok());  // pooled connections

  ASSERT_TRUE(TerminateSessions(url_));
  auto read = s.Read("Patient", "a");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->version, 1);
  auto written = put("a", 1);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(s.Read("Patient", "a")->version, 2);

  ASSERT_TRUE(TerminateSessions(url_));
  SearchQuery q;
  q.type = "Patient";
  q.want_total = true;
  auto found = s.Search(q);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->total.value_or(-1), 1);
  EXPECT_TRUE(put("b", 0).ok());
}

// A write PostgreSQL refuses late (its index rows are sent pipelined with
// the batch's other statements) fails alone: the batches around it, in the
// same group or not, commit; its audit records are not appended.
TEST_F(PostgresStoreTest, ABatchRefusedInThePipelineFailsAlone) {
  Store& s = *store_;
  auto batch = [](const std::string& id, const std::string& family) {
    auto index = std::make_shared<fhir::index::IndexEntries>();
    index->resource_type = "Patient";
    index->strings.push_back({"family", family, family});
    WriteBatch b;
    b.writes.push_back({"Patient", id, 0, 1000, Method::kCreate, "{}", index, nullptr});
    b.audit.push_back({1000, "record of " + id, {}, "", 0});
    return b;
  };
  for (int round = 0; round < 5; ++round) {
    std::string n = std::to_string(round);
    WriteBatch good1 = batch("good1-" + n, "smith"), bad = batch("bad-" + n, "\xff\xfe not UTF-8"),
               good2 = batch("good2-" + n, "jones");
    std::vector<std::thread> threads;
    Result<CommitResult> r1 = Status::Internal(""), rb = Status::Internal(""),
                         r2 = Status::Internal("");
    threads.emplace_back([&] { r1 = s.Commit(good1); });
    threads.emplace_back([&] { rb = s.Commit(bad); });
    threads.emplace_back([&] { r2 = s.Commit(good2); });
    for (auto& t : threads) t.join();
    EXPECT_TRUE(r1.ok()) << r1.status().ToString();
    EXPECT_TRUE(r2.ok()) << r2.status().ToString();
    EXPECT_EQ(rb.status().code(), Code::kInvalid) << rb.status().ToString();
    EXPECT_TRUE(s.Read("Patient", "good1-" + n).ok());
    EXPECT_TRUE(s.Read("Patient", "good2-" + n).ok());
    EXPECT_EQ(s.Read("Patient", "bad-" + n).status().code(), Code::kNotFound);
  }
  auto chain = s.ScanAudit(0, 100);
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(chain->size(), 10u);  // the good batches' records, gapless
  for (size_t i = 0; i < chain->size(); ++i) {
    EXPECT_EQ((*chain)[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ((*chain)[i].record.find("bad"), std::string::npos);
  }
}

// After a bulk load the store analyzes the tables itself, within seconds,
// rather than leaving searches to plans made for empty tables until
// autovacuum's next round.
TEST_F(PostgresStoreTest, StatisticsFollowBulkWrites) {
  Store& s = *store_;
  const std::string analyzed =
      "SELECT count(*) FROM pg_stat_user_tables WHERE relname = $$versions$$ AND "
      "last_analyze IS NOT NULL";
  EXPECT_EQ(Psql(url_, analyzed), "0");
  // Autovacuum must not do it for us here.
  ASSERT_EQ(Psql(url_, "ALTER TABLE versions SET (autovacuum_enabled = false)"), "");
  WriteBatch bulk;
  for (int i = 0; i < 6000; ++i) {
    bulk.writes.push_back({"Patient", "p" + std::to_string(i), 0, 1000, Method::kCreate, "{}",
                           nullptr, nullptr});
  }
  ASSERT_TRUE(s.Commit(bulk).ok());
  std::string seen;
  for (int i = 0; i < 100 && (seen = Psql(url_, analyzed)) != "1"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(seen, "1") << "versions was not analyzed within 10 s of the bulk write";
}

// Two nodes on one database: a node keeping trace keys stops relying on
// them as soon as one that does not opens (its Patients will lack them).
TEST_F(PostgresStoreTest, TraceKeysStopAsAnotherNodeOpensWithoutThem) {
  StoreOptions keeping;
  keeping.url = url_;
  keeping.pool_size = 2;
  keeping.trace_keys = TraceKeysMode::kOn;
  auto a = OpenStore(keeping);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE((*a)->TraceKeysComplete());
  StoreOptions without = keeping;
  without.trace_keys = TraceKeysMode::kOff;
  auto b = OpenStore(without);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_FALSE((*b)->TraceKeysComplete());
  EXPECT_FALSE((*a)->TraceKeysComplete());
}

// Version 10 (trace keys version 2, SQLite's 13): version 1's sound keys
// are turned around; a Patient with a partial birth date lowers the flag.
TEST_F(PostgresStoreTest, Version10TurnsTheSoundKeysAround) {
  store_.reset();
  Psql(url_,
       "INSERT INTO resources (type, id, version, cur_seq, deleted) "
       "VALUES ($$Patient$$, $$9990000018$$, 1, 2, 0);"
       "INSERT INTO sp (type, code) VALUES ($$Patient$$, $$_trace-sound$$);"
       "INSERT INTO sp (type, code) VALUES ($$Patient$$, $$birthdate$$) ON CONFLICT DO NOTHING;"
       "INSERT INTO ix_string SELECT pid, $$1980-03-07 s530$$, $$$$, 2 FROM sp "
       "  WHERE code = $$_trace-sound$$;"
       "INSERT INTO ix_date SELECT pid, 320716800000, 320803200000, 2 FROM sp "
       "  WHERE type = $$Patient$$ AND code = $$birthdate$$;"
       "UPDATE schema_meta SET value = 1 WHERE key = $$trace_keys$$;"
       "UPDATE schema_meta SET value = 9 WHERE key = $$version$$");
  ASSERT_EQ(Psql(url_, "SELECT value FROM schema_meta WHERE key = $$trace_keys$$"), "1");
  StoreOptions o;
  o.url = url_;
  o.pool_size = 2;
  {
    auto opened = OpenStore(o);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  }
  const std::string keys = "SELECT string_agg(x.norm || $$@$$ || x.rid, $$ $$) FROM ix_string x "
                           "JOIN sp USING (pid) WHERE sp.code = ";
  EXPECT_EQ(Psql(url_, "SELECT value FROM schema_meta WHERE key = $$version$$"), "10");
  EXPECT_EQ(Psql(url_, keys + "$$_trace-phonetic$$"), "s530 1980-03-07@2");
  EXPECT_EQ(Psql(url_, keys + "$$_trace-sound$$"), "");
  EXPECT_EQ(Psql(url_, "SELECT value FROM schema_meta WHERE key = $$trace_keys$$"), "1");
  Psql(url_,
       "INSERT INTO ix_date SELECT pid, 315532800000, 347155200000, 3 FROM sp "
       "  WHERE type = $$Patient$$ AND code = $$birthdate$$;"
       "UPDATE schema_meta SET value = 9 WHERE key = $$version$$");
  auto again = OpenStore(o);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Psql(url_, "SELECT value FROM schema_meta WHERE key = $$trace_keys$$"), "0");
}

#endif  // CRS_WITH_POSTGRES

}  // namespace
}  // namespace crs::store
