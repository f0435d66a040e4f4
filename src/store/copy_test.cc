// crs copy at the Store level: a SQLite node's data, copied into an empty
// PostgreSQL database, reads back the same through the Store contract, and
// the PostgreSQL store carries on from where the SQLite one stopped.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <future>

#include "store/store.h"
#include "support/test_postgres.h"

namespace crs::store {
namespace {

#ifdef CRS_WITH_POSTGRES

class CopyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::crs::testing::PostgresDisabled()) GTEST_SKIP() << "CRS_TEST_POSTGRES=0";
    char tmpl[] = "/tmp/crs-copy-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto url = ::crs::testing::FreshPostgresDatabase();
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    pg_url_ = *url;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  StoreOptions Options(const std::string& url) const {
    StoreOptions o;
    o.url = url;
    o.data_dir = dir_;
    // A stand-in signer: the store keeps signatures as opaque 64 bytes.
    o.audit_sign = [](std::string_view m) { return std::string(64, static_cast<char>(m.size())); };
    o.audit_key_id = "test-key";
    o.audit_checkpoint_records = 2;
    return o;
  }
  static Status Append(Store& s, std::vector<AuditInput> records) {
    std::promise<Status> p;
    auto f = p.get_future();
    s.AppendAudit(std::move(records), [&p](Status st) { p.set_value(std::move(st)); });
    return f.get();
  }
  // Fills a SQLite store with one of everything a node keeps.
  void Fill(Store& s) {
    auto facts = std::make_shared<AccessFacts>();
    facts->patient = "9990000018";
    facts->author_org = "GP1";
    facts->relationship_orgs = {"GP1"};
    auto index = std::make_shared<fhir::index::IndexEntries>();
    index->resource_type = "Patient";
    index->strings.push_back({"family", "smith", "Smith"});
    WriteBatch create;
    create.writes.push_back({"Patient", "9990000018", 0, 1000, Method::kCreate,
                             R"({"resourceType":"Patient","v":1})", index, facts});
    create.idempotency_key = "req-1";
    create.audit.push_back({1000, R"({"a":1})", {"9990000018"}, "", 0});
    ASSERT_TRUE(s.Commit(create).ok());
    WriteBatch update;
    update.writes.push_back({"Patient", "9990000018", 1, 2000, Method::kUpdate,
                             R"({"resourceType":"Patient","v":2})", index, facts});
    update.writes.push_back({"Observation", "o1", 0, 2000, Method::kCreate, R"({"o":1})",
                             nullptr, facts});
    ASSERT_TRUE(s.Commit(update).ok());
    WriteBatch del;
    del.writes.push_back({"Observation", "o1", 1, 3000, Method::kDelete, "", nullptr, nullptr});
    del.writes.push_back({"Observation", "o2", 0, 3000, Method::kCreate, R"({"o":2})",
                          nullptr, facts});
    ASSERT_TRUE(s.Commit(del).ok());
    WriteBatch purge;
    purge.writes.push_back({"Observation", "o2", 0, 4000, Method::kPurge, "", nullptr, nullptr});
    ASSERT_TRUE(s.Commit(purge).ok());
    ASSERT_TRUE(s.ReserveSequence("nhs-number:test", 5).ok());
    ASSERT_TRUE(Append(s, {{5000, R"({"alert":1})", {"9990000018"}, "GP1", 0, kAlertBitVip, "u1", "Dr Who"},
                           {6000, R"({"b":2})", {}, "", 0}})
                    .ok());
    ASSERT_TRUE(Append(s, {{7000, R"({"review":1})", {}, "", 2}}).ok());  // reviews seq 2
  }

  std::string dir_;
  std::string pg_url_;
};

TEST_F(CopyStoreTest, SqliteToPostgresKeepsEveryVersionAndTheAuditChain) {
  std::vector<StoredAudit> audit;
  std::vector<AuditCheckpoint> checkpoints;
  HistoryPage history;
  {
    auto sq = OpenStore(Options("sqlite:"));
    ASSERT_TRUE(sq.ok()) << sq.status().ToString();
    Fill(**sq);
    audit = *(*sq)->ScanAudit(0, 1000);
    history = *(*sq)->History(HistoryQuery{});
  }
  {
    // Reopened without a signer, to read the checkpoints its close wrote.
    StoreOptions o = Options("sqlite:");
    o.audit_sign = nullptr;
    auto sq = OpenStore(o);
    ASSERT_TRUE(sq.ok());
    checkpoints = *(*sq)->ScanAuditCheckpoints(0, 1000);
  }
  ASSERT_EQ(audit.size(), 4u);
  ASSERT_FALSE(checkpoints.empty());
  {
    // A source whose Patients lack trace keys: the copy must not claim them.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/crs.db").c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, "UPDATE schema_meta SET value = 0 WHERE key = 'trace_keys'",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  std::vector<std::string> tables;
  ASSERT_TRUE(CopyStore(Options("sqlite:"), Options(pg_url_),
                        [&](const std::string& t, int64_t) { tables.push_back(t); })
                  .ok());
  EXPECT_EQ(tables.size(), 19u);  // sql::CopiedTables(), ix_comp and ix_geo included

  StoreOptions keeping = Options(pg_url_);
  keeping.trace_keys = TraceKeysMode::kOn;
  auto pg = OpenStore(keeping);
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  Store& s = **pg;
  EXPECT_TRUE(s.KeepsTraceKeys());
  EXPECT_FALSE(s.TraceKeysComplete());
  // Resources and their history, seq for seq.
  auto cur = s.Read("Patient", "9990000018");
  ASSERT_TRUE(cur.ok());
  EXPECT_EQ(cur->version, 2);
  EXPECT_EQ(cur->body, R"({"resourceType":"Patient","v":2})");
  EXPECT_EQ(cur->access.patient, "9990000018");
  EXPECT_EQ(s.ReadVersion("Patient", "9990000018", 1)->body, R"({"resourceType":"Patient","v":1})");
  EXPECT_TRUE(s.Read("Observation", "o1")->deleted);
  EXPECT_EQ(s.Read("Observation", "o2").status().code(), Code::kNotFound);  // purged stays purged
  auto copied = s.History(HistoryQuery{});
  ASSERT_TRUE(copied.ok());
  ASSERT_EQ(copied->versions.size(), history.versions.size());
  for (size_t i = 0; i < history.versions.size(); ++i) {
    EXPECT_EQ(copied->versions[i].seq, history.versions[i].seq);
    EXPECT_EQ(copied->versions[i].method, history.versions[i].method);
    EXPECT_EQ(copied->versions[i].body, history.versions[i].body);
  }
  // The search index and relationships came along.
  SearchQuery q;
  q.type = "Patient";
  q.all_of.push_back({"family", IndexTable::kString, false, {StringCond{StringCond::Mode::kPrefix, "smi"}}});
  auto found = s.Search(q);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->matches.size(), 1u);
  EXPECT_TRUE(*s.HasRelationship("GP1", "9990000018"));
  // The audit chain, byte for byte, with its alert state and checkpoints.
  auto chain = s.ScanAudit(0, 1000);
  ASSERT_TRUE(chain.ok());
  ASSERT_EQ(chain->size(), audit.size());
  for (size_t i = 0; i < audit.size(); ++i) {
    EXPECT_EQ((*chain)[i].seq, audit[i].seq);
    EXPECT_EQ((*chain)[i].record, audit[i].record);
    EXPECT_EQ((*chain)[i].hash, audit[i].hash);
  }
  auto cps = s.ScanAuditCheckpoints(0, 1000);
  ASSERT_TRUE(cps.ok());
  ASSERT_GE(cps->size(), checkpoints.size());
  for (size_t i = 0; i < checkpoints.size(); ++i) {
    EXPECT_EQ((*cps)[i].head_hash, checkpoints[i].head_hash);
    EXPECT_EQ((*cps)[i].signature, checkpoints[i].signature);
  }
  auto alerts = s.QueryAudit({"", "GP1", false, 0, 50});
  ASSERT_TRUE(alerts.ok());
  ASSERT_EQ(alerts->records.size(), 1u);
  EXPECT_EQ(alerts->records[0].reviewed_by, 4);
  // The alert index's filter columns came along.
  AuditQuery vip{"", "GP1"};
  vip.code_masks = {kAlertBitVip};
  vip.user = "WHO";
  EXPECT_EQ(s.QueryAudit(vip)->records.size(), 1u);
  vip.code_masks = {kAlertBitVolume};
  EXPECT_EQ(s.QueryAudit(vip)->records.size(), 0u);
  EXPECT_EQ(s.QueryAudit({"9990000018", "", false, 0, 50})->records.size(), 2u);
  // It carries on: counters, idempotency keys, ids and the chain continue.
  EXPECT_EQ(*s.ReserveSequence("nhs-number:test", 1), 5);
  WriteBatch replay;
  replay.writes.push_back({"Patient", "9990000018", 0, 1000, Method::kCreate, "{}", nullptr, nullptr});
  replay.idempotency_key = "req-1";
  auto replayed = s.Commit(replay);
  ASSERT_TRUE(replayed.ok());
  EXPECT_TRUE(replayed->already_applied);
  WriteBatch next;
  next.writes.push_back({"Patient", "new", 0, 8000, Method::kCreate, "{}", nullptr, nullptr});
  next.audit.push_back({8000, R"({"c":3})", {}, "", 0});
  ASSERT_TRUE(s.Commit(next).ok());
  EXPECT_GT(s.Read("Patient", "new")->seq, history.versions.front().seq);
  EXPECT_EQ(s.ReadAudit(5)->record, R"({"c":3})");
}

TEST_F(CopyStoreTest, RefusesADestinationThatHoldsData) {
  {
    auto sq = OpenStore(Options("sqlite:"));
    ASSERT_TRUE(sq.ok());
    Fill(**sq);
  }
  ASSERT_TRUE(CopyStore(Options("sqlite:"), Options(pg_url_), nullptr).ok());
  Status again = CopyStore(Options("sqlite:"), Options(pg_url_), nullptr);
  EXPECT_EQ(again.code(), Code::kConflict) << again.ToString();
  EXPECT_EQ(CopyStore(Options(pg_url_), Options("sqlite:"), nullptr).code(), Code::kInvalid);
}

#endif  // CRS_WITH_POSTGRES

}  // namespace
}  // namespace crs::store
