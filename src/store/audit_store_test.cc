// The audit part of the Store contract, one suite for every backend: the
// chain is gapless and hashed, records ride in their batch's transaction,
// and the patient and alert indexes answer newest first with stable paging.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <future>
#include <map>
#include <thread>

#include "store/audit_chain.h"
#include "store/sqlite/audit_sql.h"
#include "store/sqlite/db.h"
#include "store/sqlite/schema.h"
#include "store/store.h"
#include "support/test_postgres.h"

namespace crs::store {
namespace {

class AuditStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/crs-audit-store-XXXXXX";
    dir_ = mkdtemp(tmpl);
    if (GetParam() == "postgres" && ::crs::testing::PostgresDisabled()) {
      GTEST_SKIP() << "CRS_TEST_POSTGRES=0";
    }
    auto url = ::crs::testing::StoreUrlFor(GetParam());
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    url_ = *url;
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    StoreOptions o;
    o.url = url_;
    o.data_dir = dir_;
    auto s = OpenStore(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  static AuditInput Rec(std::string text, std::vector<std::string> patients = {},
                        std::string alert_org = {}, int64_t reviews = 0) {
    AuditInput in;
    in.time_ms = 1000;
    in.record = std::move(text);
    in.patients = std::move(patients);
    in.alert_org = std::move(alert_org);
    in.reviews_alert = reviews;
    return in;
  }
  // AppendAudit, waiting for its answer.
  Status Append(std::vector<AuditInput> records) {
    std::promise<Status> p;
    auto f = p.get_future();
    store_->AppendAudit(std::move(records), [&p](Status st) { p.set_value(std::move(st)); });
    return f.get();
  }
  std::vector<StoredAudit> All() {
    auto all = store_->ScanAudit(0, 1000000);
    EXPECT_TRUE(all.ok());
    return all.ok() ? *all : std::vector<StoredAudit>{};
  }
  static std::vector<std::string> Texts(const std::vector<StoredAudit>& records) {
    std::vector<std::string> out;
    for (const auto& r : records) out.push_back(r.record);
    return out;
  }

  std::string dir_;
  std::string url_;  // the store's URL (a fresh database for "postgres")
  std::unique_ptr<Store> store_;
};

TEST_P(AuditStoreTest, AppendBuildsAGaplessHashChain) {
  ASSERT_TRUE(Append({Rec("a"), Rec("b")}).ok());
  ASSERT_TRUE(Append({Rec("c")}).ok());
  Reopen();  // the writer reloads the head
  ASSERT_TRUE(Append({Rec("d")}).ok());
  auto all = All();
  ASSERT_EQ(all.size(), 4u);
  std::string prev = AuditZeroHash();
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(all[i].hash, AuditChainHash(prev, all[i].seq, all[i].record));
    prev = all[i].hash;
  }
  EXPECT_EQ(Texts(all), (std::vector<std::string>{"a", "b", "c", "d"}));
  auto paged = store_->ScanAudit(2, 1);
  ASSERT_TRUE(paged.ok());
  ASSERT_EQ(paged->size(), 1u);
  EXPECT_EQ((*paged)[0].record, "c");
  auto one = store_->ReadAudit(4);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->record, "d");
  EXPECT_EQ(store_->ReadAudit(5).status().code(), Code::kNotFound);
}

TEST_P(AuditStoreTest, ScanAuditRowsStreamsTheChainInOrderAndStopsOnRequest) {
  struct Row {
    int64_t seq, time_ms;
    std::string record, hash;
  };
  // Copies what the views show: they are only valid inside the callback.
  auto scan = [this](int64_t after, size_t stop_after) {
    std::vector<Row> rows;
    Status st = store_->ScanAuditRows(after, [&](const AuditRowView& r) {
      rows.push_back({r.seq, r.time_ms, std::string(r.record), std::string(r.hash)});
      return rows.size() < stop_after;
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return rows;
  };
  EXPECT_TRUE(scan(0, SIZE_MAX).empty());  // an empty log: no calls
  std::string big(100000, 'x');  // larger than a page: read from overflow pages
  ASSERT_TRUE(Append({Rec("a"), Rec("b"), Rec(big), Rec("d"), Rec("e")}).ok());

  auto all = scan(0, SIZE_MAX);
  auto stored = All();
  ASSERT_EQ(all.size(), 5u);
  ASSERT_EQ(stored.size(), 5u);
  std::string prev = AuditZeroHash();
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(all[i].time_ms, 1000);
    EXPECT_EQ(all[i].record, stored[i].record);
    EXPECT_EQ(all[i].hash, stored[i].hash);
    EXPECT_EQ(all[i].hash, AuditChainHash(prev, all[i].seq, all[i].record));
    prev = all[i].hash;
  }
  EXPECT_EQ(all[2].record, big);

  auto tail = scan(2, SIZE_MAX);  // resumes after a seq
  ASSERT_EQ(tail.size(), 3u);
  EXPECT_EQ(tail[0].seq, 3);
  EXPECT_EQ(tail[2].record, "e");
  auto two = scan(1, 2);  // false from the callback stops the scan
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].record, "b");
  EXPECT_EQ(two[1].seq, 3);
  EXPECT_TRUE(scan(5, SIZE_MAX).empty());  // past the end

  // A scan that stopped early leaves the store usable, and a new scan sees
  // records appended since.
  ASSERT_TRUE(Append({Rec("f")}).ok());
  auto after = scan(5, SIZE_MAX);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].record, "f");
  EXPECT_EQ(after[0].hash, AuditChainHash(prev, 6, "f"));
}

TEST_P(AuditStoreTest, RecordsRideInTheBatchTransaction) {
  WriteBatch ok;
  Write w;
  w.type = "Patient";
  w.id = "9990000018";
  w.body = "{}";
  ok.writes.push_back(w);
  ok.audit.push_back(Rec("create", {"9990000018"}));
  ok.idempotency_key = "req-1";
  ASSERT_TRUE(store_->Commit(ok).ok());
  // A conflicting batch writes nothing, its audit record included.
  WriteBatch conflict;
  conflict.writes.push_back(w);  // expected_version 0, but it exists
  conflict.audit.push_back(Rec("lost"));
  EXPECT_EQ(store_->Commit(conflict).status().code(), Code::kConflict);
  // A replay applies nothing but still records the attempt.
  ok.audit[0].record = "replay";
  auto replay = store_->Commit(ok);
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->already_applied);
  // An audit-only batch is a synchronous append.
  WriteBatch only;
  only.audit.push_back(Rec("only"));
  ASSERT_TRUE(store_->Commit(only).ok());
  EXPECT_EQ(Texts(All()), (std::vector<std::string>{"create", "replay", "only"}));
}

TEST_P(AuditStoreTest, PatientQueryPagesNewestFirst) {
  for (int i = 1; i <= 7; ++i) {
    std::vector<std::string> patients = {"p1"};
    if (i % 2 == 0) patients.push_back("p2");
    ASSERT_TRUE(Append({Rec("r" + std::to_string(i), patients)}).ok());
  }
  AuditQuery q;
  q.patient = "p1";
  q.count = 3;
  auto page1 = store_->QueryAudit(q);
  ASSERT_TRUE(page1.ok());
  EXPECT_EQ(Texts(page1->records), (std::vector<std::string>{"r7", "r6", "r5"}));
  // Records appended between pages do not shift the next one.
  ASSERT_TRUE(Append({Rec("late", {"p1"})}).ok());
  q.before_seq = page1->next_before_seq;
  auto page2 = store_->QueryAudit(q);
  ASSERT_TRUE(page2.ok());
  EXPECT_EQ(Texts(page2->records), (std::vector<std::string>{"r4", "r3", "r2"}));
  q.before_seq = page2->next_before_seq;
  auto page3 = store_->QueryAudit(q);
  ASSERT_TRUE(page3.ok());
  EXPECT_EQ(Texts(page3->records), (std::vector<std::string>{"r1"}));
  EXPECT_EQ(page3->next_before_seq, 0);
  AuditQuery q2;
  q2.patient = "p2";
  EXPECT_EQ(Texts(store_->QueryAudit(q2)->records),
            (std::vector<std::string>{"r6", "r4", "r2"}));
  AuditQuery bad;
  EXPECT_EQ(store_->QueryAudit(bad).status().code(), Code::kInvalid);
}

TEST_P(AuditStoreTest, AlertsByOrganisationAndReview) {
  ASSERT_TRUE(Append({Rec("plain", {"p"}), Rec("bg1", {"p"}, "ORG1"), Rec("bg2", {"p"}, "ORG1"),
                      Rec("other", {"p"}, "ORG2")})
                  .ok());
  AuditQuery q;
  q.alert_org = "ORG1";
  auto alerts = store_->QueryAudit(q);
  ASSERT_TRUE(alerts.ok());
  ASSERT_EQ(Texts(alerts->records), (std::vector<std::string>{"bg2", "bg1"}));
  EXPECT_EQ(alerts->records[0].alert_org, "ORG1");
  EXPECT_EQ(alerts->records[0].reviewed_by, 0);
  int64_t bg1 = alerts->records[1].seq;
  ASSERT_TRUE(Append({Rec("review", {}, "", bg1)}).ok());
  int64_t review_seq = All().back().seq;
  q.unreviewed_only = true;
  EXPECT_EQ(Texts(store_->QueryAudit(q)->records), (std::vector<std::string>{"bg2"}));
  q.unreviewed_only = false;
  auto all = store_->QueryAudit(q);
  ASSERT_EQ(all->records.size(), 2u);
  EXPECT_EQ(all->records[1].reviewed_by, review_seq);
  EXPECT_EQ(store_->ReadAudit(bg1)->reviewed_by, review_seq);
  // The patient sees the accesses, not the privacy officer's review.
  AuditQuery mine;
  mine.patient = "p";
  EXPECT_EQ(store_->QueryAudit(mine)->records.size(), 4u);
}

TEST_P(AuditStoreTest, AlertFiltersSelectBeforePaging) {
  auto alert = [](std::string text, int64_t time, int64_t codes, std::string user,
                  std::string name, std::vector<std::string> patients) {
    AuditInput in = Rec(std::move(text), std::move(patients), "ORG1");
    in.time_ms = time;
    in.alert_codes = codes;
    in.alert_user = std::move(user);
    in.alert_user_name = std::move(name);
    return in;
  };
  ASSERT_TRUE(Append({alert("a1", 1000, kAlertBitBreakGlass, "u1", "Dr Tom REID", {"p1"}),
                      alert("a2", 2000, kAlertBitVip | kAlertBitSealedAccess, "u2", "Ann 50%_",
                            {"p2"}),
                      alert("a3", 3000, kAlertBitVolume, "u1", "Dr Tom REID", {"p1", "p2"}),
                      alert("a4", 4000, kAlertBitBreakGlass, "u3", "", {"p2"}),
                      Rec("other-org", {"p1"}, "ORG2"), Rec("plain", {"p1"})})
                  .ok());
  ASSERT_TRUE(Append({Rec("review-a3", {}, "", 3)}).ok());
  auto texts = [&](AuditQuery q) {
    // Every page, one record at a time: paging follows the filters.
    q.alert_org = "ORG1";
    q.count = 1;
    std::vector<std::string> out;
    for (int i = 0; i < 10; ++i) {
      auto page = store_->QueryAudit(q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (const auto& r : page->records) out.push_back(r.record);
      if (page->next_before_seq == 0) break;
      q.before_seq = page->next_before_seq;
    }
    return out;
  };
  using V = std::vector<std::string>;
  AuditQuery q;
  EXPECT_EQ(texts(q), (V{"a4", "a3", "a2", "a1"}));
  q.code_masks = {kAlertBitBreakGlass};
  EXPECT_EQ(texts(q), (V{"a4", "a1"}));
  q.code_masks = {kAlertBitVip | kAlertBitVolume};
  EXPECT_EQ(texts(q), (V{"a3", "a2"}));
  q.code_masks = {kAlertBitVip, kAlertBitSealedAccess};
  EXPECT_EQ(texts(q), (V{"a2"}));
  q.code_masks = {kAlertBitVip, kAlertBitVolume};
  EXPECT_EQ(texts(q), V{});
  q = AuditQuery{};
  q.user = "u1";
  EXPECT_EQ(texts(q), (V{"a3", "a1"}));
  q.user = "tom reid";  // part of the name, any case
  EXPECT_EQ(texts(q), (V{"a3", "a1"}));
  q.user = "50%_";  // LIKE's wildcards are plain characters
  EXPECT_EQ(texts(q), (V{"a2"}));
  q.user = "5%";
  EXPECT_EQ(texts(q), V{});
  q = AuditQuery{};
  q.from_ms = 2000;
  q.to_ms = 4000;
  EXPECT_EQ(texts(q), (V{"a3", "a2"}));
  q = AuditQuery{};
  q.patient = "p1";
  EXPECT_EQ(texts(q), (V{"a3", "a1"}));
  q.unreviewed_only = true;
  EXPECT_EQ(texts(q), (V{"a1"}));
  q = AuditQuery{};
  q.reviewed_only = true;
  EXPECT_EQ(texts(q), (V{"a3"}));
  // Filters belong to alert queries.
  AuditQuery bad;
  bad.patient = "p1";
  bad.user = "u1";
  EXPECT_EQ(store_->QueryAudit(bad).status().code(), Code::kInvalid);
}

TEST_P(AuditStoreTest, ConcurrentAppendsAndCommitsFormOneTotalOrder) {
  constexpr int kThreads = 8, kEach = 200;
  std::atomic<int> acked{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string tag = std::to_string(t) + "-" + std::to_string(i);
        if (i % 4 == 0) {
          WriteBatch b;
          Write w;
          w.type = "Patient";
          w.id = "w" + tag;
          w.body = "{}";
          b.writes.push_back(w);
          b.audit.push_back(Rec("c" + tag + "a"));
          b.audit.push_back(Rec("c" + tag + "b"));
          if (store_->Commit(b).ok()) {
            acked += 2;
          } else {
            ++failed;
          }
        } else {
          store_->AppendAudit({Rec("a" + tag + "a"), Rec("a" + tag + "b")}, [&](Status st) {
            if (st.ok()) {
              acked += 2;
            } else {
              ++failed;
            }
          });
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  // Appends are asynchronous: wait for their callbacks.
  for (int i = 0; i < 500 && acked + 2 * failed < kThreads * kEach * 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(failed, 0);
  ASSERT_EQ(acked, kThreads * kEach * 2);
  auto all = All();
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kEach * 2));
  std::string prev = AuditZeroHash();
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i].seq, static_cast<int64_t>(i + 1));
    ASSERT_EQ(all[i].hash, AuditChainHash(prev, all[i].seq, all[i].record));
    prev = all[i].hash;
    // The records of one call stay together and in order.
    if (all[i].record.back() == 'a') {
      ASSERT_LT(i + 1, all.size());
      std::string pair = all[i].record;
      pair.back() = 'b';
      EXPECT_EQ(all[i + 1].record, pair);
    }
  }
}

// A record rolled back with its batch leaves nothing in the patient index:
// the next record takes its seq, and must not be listed for the patient of
// the one that never landed.
TEST_P(AuditStoreTest, RolledBackRecordsLeaveNoPatientEntries) {
  WriteBatch ok;
  Write w;
  w.type = "Patient";
  w.id = "9990000018";
  w.body = "{}";
  ok.writes.push_back(w);
  ok.audit.push_back(Rec("create", {"pa"}));
  ASSERT_TRUE(store_->Commit(ok).ok());
  WriteBatch conflict;
  conflict.writes.push_back(w);  // expected_version 0, but it exists
  conflict.audit.push_back(Rec("lost", {"pa"}));
  EXPECT_EQ(store_->Commit(conflict).status().code(), Code::kConflict);
  ASSERT_TRUE(Append({Rec("other", {"pb"})}).ok());
  AuditQuery a;
  a.patient = "pa";
  EXPECT_EQ(Texts(store_->QueryAudit(a)->records), (std::vector<std::string>{"create"}));
  AuditQuery b;
  b.patient = "pb";
  EXPECT_EQ(Texts(store_->QueryAudit(b)->records), (std::vector<std::string>{"other"}));
}

TEST_P(AuditStoreTest, AcknowledgedAppendSurvivesReopen) {
  std::promise<Status> p;
  store_->AppendAudit({Rec("x")}, [&p](Status st) { p.set_value(st); });
  EXPECT_TRUE(p.get_future().get().ok());
  Reopen();
  EXPECT_EQ(Texts(All()), (std::vector<std::string>{"x"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditStoreTest, ::testing::ValuesIn(::crs::testing::StoreBackends()),
                         [](const auto& info) { return info.param == "sqlite:" ? "sqlite" : info.param; });

// SQLite's patient index in runs (docs/audit.md, "The patient index").
class AuditIndexRunsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/crs-audit-runs-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Open(dir_);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
    if (!copy_.empty()) std::filesystem::remove_all(copy_);
  }
  void Open(const std::string& dir) {
    store_.reset();
    StoreOptions o;
    o.data_dir = dir;
    o.audit_checkpoint_interval_ms = 10;  // the idle writer wakes every 10 ms
    auto s = OpenStore(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  Status Append(std::vector<AuditInput> records) {
    std::promise<Status> p;
    auto f = p.get_future();
    store_->AppendAudit(std::move(records), [&p](Status st) { p.set_value(std::move(st)); });
    return f.get();
  }
  // A JSON record naming `patient`, as the server writes them.
  static AuditInput Rec(int64_t n, const std::string& patient) {
    AuditInput in;
    in.time_ms = 1000;
    in.record = R"({"v":1,"action":"read","n":)" + std::to_string(n) + R"(,"patients":[")" +
                patient + R"("]})";
    in.patients = {patient};
    return in;
  }
  // Every seq listed for `patient`, newest first, through the Store.
  std::vector<int64_t> Seqs(const std::string& patient) {
    std::vector<int64_t> out;
    AuditQuery q;
    q.patient = patient;
    q.count = 1000;
    while (true) {
      auto page = store_->QueryAudit(q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (const auto& r : page->records) out.push_back(r.seq);
      if (page->next_before_seq == 0) break;
      q.before_seq = page->next_before_seq;
    }
    return out;
  }
  // One integer from the audit file, read beside the store.
  int64_t Sql(const std::string& dir, const std::string& sql) {
    sqlite3* db = nullptr;
    int64_t value = -1;
    if (sqlite3_open_v2((dir + "/crs-audit.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
        SQLITE_OK) {
      sqlite3_stmt* s = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
          sqlite3_step(s) == SQLITE_ROW) {
        value = sqlite3_column_int64(s, 0);
      }
      sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return value;
  }

  std::string dir_, copy_;
  std::unique_ptr<Store> store_;
};

// More than kFanIn runs' worth of records: the level-0 runs are merged
// into a level-1 run while records keep arriving, the merged runs' rows are
// deleted, and every patient's list stays exact (no record lost, none twice).
TEST_F(AuditIndexRunsTest, RunsMergeWithoutLosingOrRepeatingEntries) {
  constexpr int kPatients = 37;
  const int64_t total = (sqlite::SqliteAuditOps::kFanIn + 2) *
                        static_cast<int64_t>(sqlite::SqliteAuditOps::kRunEntries);
  std::map<std::string, std::vector<int64_t>> expected;
  for (int64_t first = 1; first <= total; first += 512) {
    std::vector<AuditInput> batch;
    for (int64_t n = first; n < first + 512 && n <= total; ++n) {
      std::string patient = "p" + std::to_string(n % kPatients);
      batch.push_back(Rec(n, patient));
      expected[patient].insert(expected[patient].begin(), n);  // newest first
    }
    ASSERT_TRUE(Append(std::move(batch)).ok());
  }
  // The idle writer finishes the merge and the deletions.
  auto settled = [&] {
    return Sql(dir_, "SELECT count(*) FROM audit_run WHERE state <> 1") == 0 &&
           Sql(dir_, "SELECT count(*) FROM audit_run WHERE level = 1") == 1;
  };
  for (int i = 0; i < 600 && !settled(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(settled());
  // The merged run holds one row per record of the seqs it covers (one
  // patient each), at least kFanIn full runs' worth.
  int64_t merged = Sql(dir_, "SELECT sum(n) FROM audit_pblk WHERE run = "
                             "(SELECT run FROM audit_run WHERE level = 1)");
  EXPECT_EQ(merged, Sql(dir_, "SELECT last_seq - first_seq + 1 FROM audit_run WHERE level = 1"));
  EXPECT_GE(merged, sqlite::SqliteAuditOps::kFanIn *
                        static_cast<int64_t>(sqlite::SqliteAuditOps::kRunEntries));
  // No rows of merged runs are left behind.
  EXPECT_EQ(Sql(dir_, "SELECT count(*) FROM audit_pblk WHERE run NOT IN "
                      "(SELECT run FROM audit_run)"),
            0);
  EXPECT_EQ(Sql(dir_, "SELECT sum(n) FROM audit_pblk"), total);
  for (const auto& [patient, seqs] : expected) EXPECT_EQ(Seqs(patient), seqs) << patient;
}

// The entries the writer keeps in memory are not lost when the process
// dies before writing them: the next open re-reads them from the records.
// The copy of a live store's files stands for the files a kill -9 leaves.
TEST_F(AuditIndexRunsTest, KeptEntriesAreRecoveredFromTheRecordsAfterACrash) {
  ASSERT_TRUE(Append({Rec(1, "pa"), Rec(2, "pb")}).ok());
  ASSERT_TRUE(Append({Rec(3, "pa")}).ok());
  char tmpl[] = "/tmp/crs-audit-runs-copy-XXXXXX";
  copy_ = mkdtemp(tmpl);
  for (const auto& f : std::filesystem::directory_iterator(dir_)) {
    std::filesystem::copy(f.path(), copy_ + "/" + f.path().filename().string());
  }
  // The image has the records but not yet their index rows.
  ASSERT_EQ(Sql(copy_, "SELECT count(*) FROM audit"), 3);
  ASSERT_EQ(Sql(copy_, "SELECT coalesce(sum(n), 0) FROM audit_pblk"), 0);
  Open(copy_);
  // Written as a run as the store opens: the file is whole for any reader.
  EXPECT_EQ(Sql(copy_, "SELECT sum(n) FROM audit_pblk"), 3);
  EXPECT_EQ(Seqs("pa"), (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(Seqs("pb"), (std::vector<int64_t>{2}));
  ASSERT_TRUE(Append({Rec(4, "pb")}).ok());
  store_.reset();  // a clean stop writes the kept entries as a run
  EXPECT_EQ(Sql(copy_, "SELECT sum(n) FROM audit_pblk"), 4);
  EXPECT_EQ(Sql(copy_, "SELECT value FROM audit_meta WHERE key = 'pidx_covered'"), 4);
  Open(copy_);
  EXPECT_EQ(Seqs("pb"), (std::vector<int64_t>{4, 2}));
}

// An audit file at the current schema on one connection, and the writer's
// patient-index operations on it.
class SqliteAuditOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/crs-audit-ops-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto db = sqlite::Db::Open(dir_ + "/a.db", /*create=*/true);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Exec(sqlite::kAuditSchema).ok());
    for (const char* m : sqlite::kAuditMigrations) ASSERT_TRUE(db_->Exec(m).ok());
    ops_ = std::make_unique<sqlite::SqliteAuditOps>(*db_, /*owner=*/true);
    ASSERT_TRUE(ops_->Recover().ok());
  }
  void TearDown() override {
    ops_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<sqlite::Db> db_;
  std::unique_ptr<sqlite::SqliteAuditOps> ops_;
};

// The writer's kept entries follow its transactions: entries of records
// rolled back (a savepoint, a failed commit) never reach a run, so the seq
// the next record takes is not listed for the lost record's patient.
TEST_F(SqliteAuditOpsTest, KeptEntriesFollowTheTransactions) {
  auto rec = [](const std::string& patient) {
    AuditInput in;
    in.record = "{}";
    in.patients = {patient};
    return in;
  };
  auto rows = [&] {
    std::vector<std::string> out;
    auto s = db_->Prepare("SELECT patient || seq FROM audit_patient ORDER BY seq, patient");
    EXPECT_TRUE(s.ok());
    while (s.ok() && *(*s)->Step()) out.emplace_back((*s)->Text(0));
    if (s.ok()) (*s)->Reset();
    return out;
  };
  // A savepoint rolled back after record 2: only record 1's entry lands.
  ASSERT_TRUE(ops_->Begin().ok());
  ASSERT_TRUE(ops_->Insert(1, rec("pa"), "h1").ok());
  ASSERT_TRUE(db_->Exec("SAVEPOINT batch").ok());
  ASSERT_TRUE(ops_->Insert(2, rec("pb"), "h2").ok());
  ASSERT_TRUE(db_->Exec("ROLLBACK TO batch; RELEASE batch").ok());
  ops_->Forget(1);  // what AuditAppender::Restore does
  ASSERT_TRUE(ops_->BeforeCommit(/*force=*/true).ok());
  ASSERT_TRUE(ops_->Commit().ok());
  ops_->AfterCommit(true);
  EXPECT_EQ(rows(), (std::vector<std::string>{"pa1"}));
  EXPECT_EQ(ops_->kept(), 0u);
  // A transaction that fails after writing its run keeps its entries
  // until the next one finds its records were never committed.
  ASSERT_TRUE(ops_->Begin().ok());
  ASSERT_TRUE(ops_->Insert(2, rec("pc"), "h2").ok());
  ASSERT_TRUE(ops_->BeforeCommit(/*force=*/true).ok());
  ops_->Rollback();
  ops_->AfterCommit(false);
  EXPECT_EQ(ops_->kept(), 1u);
  ops_->Forget(1);  // what AuditAppender::BeginGroup does with the head it reads
  EXPECT_EQ(ops_->kept(), 0u);
  ASSERT_TRUE(ops_->Begin().ok());
  ASSERT_TRUE(ops_->Insert(2, rec("pd"), "h2").ok());
  ASSERT_TRUE(ops_->BeforeCommit(/*force=*/true).ok());
  ASSERT_TRUE(ops_->Commit().ok());
  ops_->AfterCommit(true);
  EXPECT_EQ(rows(), (std::vector<std::string>{"pa1", "pd2"}));
}

// A merge in small steps, each continuing where the last committed one
// stopped reading: a step whose transaction is rolled back is redone from
// the runs, and the merged run ends with every entry exactly once, in order.
TEST_F(SqliteAuditOpsTest, MergeStepsResumeAfterARolledBackStep) {
  auto one = [&](const std::string& sql) {
    auto s = db_->PrepareDynamic(sql);
    EXPECT_TRUE(s.ok());
    if (!s.ok() || !*(*s)->Step()) return std::string();
    std::string v((*s)->Text(0));
    (*s)->Reset();
    return v;
  };
  // kFanIn forced runs of 100 entries (patients spread over every run):
  // the last one starts a merge, and the forced steps leave no debt, so
  // the steps below copy kMergeStep rows each.
  constexpr int kPerRun = 100;
  const int runs = sqlite::SqliteAuditOps::kFanIn;
  int64_t seq = 0;
  std::vector<std::string> expected;
  for (int r = 0; r < runs; ++r) {
    ASSERT_TRUE(ops_->Begin().ok());
    for (int i = 0; i < kPerRun; ++i) {
      AuditInput in;
      in.record = "{}";
      char patient[16];
      std::snprintf(patient, sizeof patient, "p%03d", (i * 7 + r) % 97);
      in.patients = {patient};
      ++seq;
      ASSERT_TRUE(ops_->Insert(seq, in, "h").ok());
      expected.push_back(std::string(patient) + ":" + std::to_string(seq));
    }
    ASSERT_TRUE(ops_->BeforeCommit(/*force=*/true).ok());
    ASSERT_TRUE(ops_->Commit().ok());
    ops_->AfterCommit(true);
  }
  ASSERT_EQ(one("SELECT count(*) FROM audit_run WHERE state = 0 AND level = 1"), "1");
  auto step = [&](bool commit) {
    ASSERT_TRUE(ops_->Begin().ok());
    ASSERT_TRUE(ops_->BeforeCommit(/*force=*/false).ok());
    if (commit) {
      ASSERT_TRUE(ops_->Commit().ok());
    } else {
      ops_->Rollback();
    }
    ops_->AfterCommit(commit);
  };
  const std::string target_rows =
      "SELECT sum(n) FROM audit_pblk WHERE run = (SELECT run FROM audit_run WHERE level = 1)";
  step(true);
  EXPECT_EQ(one(target_rows), std::to_string(sqlite::SqliteAuditOps::kMergeStep));
  step(false);  // its copies are undone with it
  EXPECT_EQ(one(target_rows), std::to_string(sqlite::SqliteAuditOps::kMergeStep));
  for (int i = 0; i < 100 && one("SELECT count(*) FROM audit_run WHERE state <> 1") != "0"; ++i) {
    step(i % 3 != 1);  // every third step fails too
  }
  ASSERT_EQ(one("SELECT count(*) FROM audit_run WHERE state <> 1"), "0");
  std::sort(expected.begin(), expected.end(), [](const std::string& a, const std::string& b) {
    size_t ca = a.find(':'), cb = b.find(':');
    if (a.compare(0, ca, b, 0, cb) != 0) return a.compare(0, ca, b, 0, cb) < 0;
    return std::stoll(a.substr(ca + 1)) < std::stoll(b.substr(cb + 1));
  });
  // The target's blocks, in key order, each keyed by its last entry, hold
  // every entry once, in order; only the last block is not full.
  std::vector<std::string> merged;
  auto s = db_->Prepare(
      "SELECT last_patient, last_seq, n, entries FROM audit_pblk WHERE run = "
      "(SELECT run FROM audit_run WHERE level = 1) ORDER BY last_patient, last_seq");
  ASSERT_TRUE(s.ok());
  std::vector<int64_t> sizes;
  while (*(*s)->Step()) {
    std::vector<sqlite::PatientEntry> block;
    ASSERT_TRUE(sqlite::DecodeBlock((*s)->Blob(3), &block).ok());
    ASSERT_EQ(static_cast<int64_t>(block.size()), (*s)->Int(2));
    ASSERT_FALSE(block.empty());
    EXPECT_EQ(block.back().patient, (*s)->Text(0));
    EXPECT_EQ(block.back().seq, (*s)->Int(1));
    sizes.push_back((*s)->Int(2));
    for (const auto& e : block) merged.push_back(e.patient + ":" + std::to_string(e.seq));
  }
  (*s)->Reset();
  EXPECT_EQ(merged, expected);
  ASSERT_FALSE(sizes.empty());
  sizes.pop_back();
  for (int64_t n : sizes) EXPECT_EQ(n, static_cast<int64_t>(sqlite::kBlockEntries));
  EXPECT_EQ(one("SELECT sum(n) FROM audit_pblk"), std::to_string(runs * kPerRun));
}

// A block's text form: any patient id (separators, digits, UTF-8) comes
// back as written; a block that does not parse is refused and adds nothing.
TEST(AuditPatientBlockTest, EncodesAndDecodes) {
  std::vector<sqlite::PatientEntry> in = {
      {"", 1}, {"12", 34}, {"a:b;9", 2}, {"p", 9007199254740993}, {"\xc3\xbc", 5}};
  std::vector<const sqlite::PatientEntry*> ptrs;
  for (const auto& e : in) ptrs.push_back(&e);
  std::string block;
  sqlite::EncodeBlock(ptrs.data(), ptrs.size(), &block);
  EXPECT_EQ(block.substr(0, 13), "0:1;2:1234;5:");
  std::vector<sqlite::PatientEntry> out = {{"kept", 7}};
  ASSERT_TRUE(sqlite::DecodeBlock(block, &out).ok());
  ASSERT_EQ(out.size(), in.size() + 1);
  std::vector<sqlite::PatientEntry> sorted = in;
  std::sort(sorted.begin(), sorted.end(), sqlite::EntryLess);
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i + 1].patient, sorted[i].patient);
    EXPECT_EQ(out[i + 1].seq, sorted[i].seq);
  }
  for (std::string bad : {"3:ab1;", "x:a1;", "2:ab12", "2:ab;", "2:ab-;", "9:ab1;", "1:a1;2"}) {
    std::vector<sqlite::PatientEntry> none = {{"kept", 7}};
    EXPECT_FALSE(sqlite::DecodeBlock(bad, &none).ok()) << bad;
    EXPECT_EQ(none.size(), 1u) << bad;
  }
}

// Migration 4 turns the (run, patient, seq) rows of version 3 into blocks
// in the form EncodeBlock writes, keyed by their last entry, and
// `audit_patient` reads the live runs' entries as the view did.
TEST(AuditPatientBlockTest, MigrationFourWritesTheBlocksTheWriterWould) {
  char tmpl[] = "/tmp/crs-audit-pblk-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  {
    auto opened = sqlite::Db::Open(dir + "/a.db", /*create=*/true);
    ASSERT_TRUE(opened.ok());
    sqlite::Db& db = **opened;
    ASSERT_TRUE(db.Exec(sqlite::kAuditSchema).ok());
    ASSERT_TRUE(db.Exec(sqlite::kAuditMigrations[0]).ok());
    ASSERT_TRUE(db.Exec(sqlite::kAuditMigrations[1]).ok());
    // Run 1: 600 entries over odd ids; run 2: three; run 3: merged away.
    std::vector<sqlite::PatientEntry> live, run2;
    std::string sql =
        "INSERT INTO audit_run (run, level, state, first_seq, last_seq) VALUES "
        "(1, 1, 1, 1, 600), (2, 0, 1, 601, 603), (3, 0, 2, 1, 5);"
        "INSERT INTO audit_pidx (run, patient, seq) VALUES ";
    const char* names[] = {"9990000018", "a:b;9", "\xc3\xbc", "p"};
    for (int seq = 1; seq <= 600; ++seq) {
      live.push_back({names[seq % 4], seq});
      sql += "(1, '" + live.back().patient + "', " + std::to_string(seq) + "),";
    }
    for (int seq = 601; seq <= 603; ++seq) {
      live.push_back({"q" + std::to_string(seq % 2), seq});
      run2.push_back(live.back());
      sql += "(2, '" + live.back().patient + "', " + std::to_string(seq) + "),";
    }
    sql += "(3, 'gone', 1), (3, 'gone', 2);";
    ASSERT_TRUE(db.Exec(sql).ok());
    ASSERT_TRUE(db.Exec(sqlite::kAuditMigrations[2]).ok());
    auto ints = [&](const char* q) {
      std::vector<int64_t> out;
      auto s = db.Prepare(q);
      EXPECT_TRUE(s.ok());
      while (s.ok() && *(*s)->Step()) out.push_back((*s)->Int(0));
      if (s.ok()) (*s)->Reset();
      return out;
    };
    EXPECT_EQ(ints("SELECT n FROM audit_pblk WHERE run = 1 ORDER BY last_patient, last_seq"),
              (std::vector<int64_t>{256, 256, 88}));
    EXPECT_EQ(ints("SELECT n FROM audit_pblk WHERE run = 3"), (std::vector<int64_t>{2}));
    // Byte for byte the writer's form, and keyed by the last entry.
    std::sort(run2.begin(), run2.end(), sqlite::EntryLess);
    std::vector<const sqlite::PatientEntry*> ptrs;
    for (const auto& e : run2) ptrs.push_back(&e);
    std::string expected_block;
    sqlite::EncodeBlock(ptrs.data(), ptrs.size(), &expected_block);
    auto b = db.Prepare("SELECT entries, last_patient, last_seq FROM audit_pblk WHERE run = 2");
    ASSERT_TRUE(b.ok());
    ASSERT_TRUE(*(*b)->Step());
    EXPECT_EQ((*b)->Blob(0), expected_block);
    EXPECT_EQ((*b)->Text(1), run2.back().patient);
    EXPECT_EQ((*b)->Int(2), run2.back().seq);
    (*b)->Reset();
    // Every live entry once through the virtual table; the merged run's not.
    std::vector<std::string> got, want;
    auto all = db.Prepare("SELECT patient, seq FROM audit_patient");
    ASSERT_TRUE(all.ok());
    while (*(*all)->Step()) {
      got.push_back(std::string((*all)->Text(0)) + "/" + std::to_string((*all)->Int(1)));
    }
    (*all)->Reset();
    for (const auto& e : live) want.push_back(e.patient + "/" + std::to_string(e.seq));
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want);
    EXPECT_EQ(ints("SELECT count(*) FROM sqlite_schema WHERE name IN ('audit_pidx', 'audit_patient')"),
              (std::vector<int64_t>{0}));
  }
  std::filesystem::remove_all(dir);
}

// `audit_patient` answers every form of constraint the queries use (a
// patient, seq bounds, one seq, either order) as a scan of all the rows
// would, across runs and block boundaries.
TEST_F(SqliteAuditOpsTest, PatientTableAnswersAsAFullScanWould) {
  // Three forced runs of 300 records, each naming one or two patients.
  std::vector<sqlite::PatientEntry> all;
  int64_t seq = 0;
  for (int r = 0; r < 3; ++r) {
    ASSERT_TRUE(ops_->Begin().ok());
    for (int i = 0; i < 300; ++i) {
      AuditInput in;
      in.record = "{}";
      ++seq;
      in.patients = {"p" + std::to_string(seq % 5)};
      if (seq % 7 == 0) in.patients.push_back("x" + std::to_string(seq % 3));
      if (seq % 11 == 0) in.patients.push_back(in.patients.front());  // named twice
      for (const auto& p : in.patients) all.push_back({p, seq});
      ASSERT_TRUE(ops_->Insert(seq, in, "h").ok());
    }
    ASSERT_TRUE(ops_->BeforeCommit(/*force=*/true).ok());
    ASSERT_TRUE(ops_->Commit().ok());
    ops_->AfterCommit(true);
  }
  std::sort(all.begin(), all.end(), sqlite::EntryLess);
  all.erase(std::unique(all.begin(), all.end(),
                        [](const auto& a, const auto& b) {
                          return a.patient == b.patient && a.seq == b.seq;
                        }),
            all.end());
  auto query = [&](const std::string& sql) {
    std::vector<int64_t> out;
    auto s = db_->PrepareDynamic(sql);
    EXPECT_TRUE(s.ok()) << sql;
    while (s.ok() && *(*s)->Step()) out.push_back((*s)->Int(0));
    if (s.ok()) (*s)->Reset();
    return out;
  };
  auto expect = [&](const std::string& patient, int64_t lo, int64_t hi, bool desc) {
    std::vector<int64_t> out;
    for (const auto& e : all) {
      if (e.patient == patient && e.seq >= lo && e.seq <= hi) out.push_back(e.seq);
    }
    if (desc) std::reverse(out.begin(), out.end());
    return out;
  };
  for (std::string p : {"p0", "p3", "x1", "none"}) {
    std::string where = "SELECT seq FROM audit_patient WHERE patient = '" + p + "'";
    EXPECT_EQ(query(where + " ORDER BY seq DESC"), expect(p, 1, seq, true)) << p;
    EXPECT_EQ(query(where + " ORDER BY seq"), expect(p, 1, seq, false)) << p;
    EXPECT_EQ(query(where + " AND seq < 450 ORDER BY seq DESC"), expect(p, 1, 449, true)) << p;
    EXPECT_EQ(query(where + " AND seq <= 450 AND seq > 280 ORDER BY seq"),
              expect(p, 281, 450, false))
        << p;
    EXPECT_EQ(query(where + " AND seq >= 599.5 AND seq < 700.5 ORDER BY seq"),
              expect(p, 600, 700, false))
        << p;
    for (int64_t one : {int64_t{1}, int64_t{300}, int64_t{301}, int64_t{455}, seq, seq + 1}) {
      EXPECT_EQ(query(where + " AND seq = " + std::to_string(one)), expect(p, one, one, false))
          << p << " " << one;
    }
    EXPECT_TRUE(query(where + " AND seq = 2.5").empty());
    // As SQLite compares: every integer sorts before text.
    EXPECT_EQ(query(where + " AND seq < 'text' ORDER BY seq"), expect(p, 1, seq, false));
    EXPECT_TRUE(query(where + " AND seq > 'text'").empty());
    EXPECT_EQ(query(where + " AND seq < '301' ORDER BY seq"), expect(p, 1, 300, false));
  }
  EXPECT_TRUE(query("SELECT seq FROM audit_patient WHERE patient = NULL").empty());
  // The correlated form the alert list's patient filter uses.
  EXPECT_EQ(query("SELECT a.seq FROM audit a WHERE EXISTS (SELECT 1 FROM audit_patient p "
                  "WHERE p.patient = 'x2' AND p.seq = a.seq) ORDER BY a.seq"),
            expect("x2", 1, seq, false));
  EXPECT_EQ(query("SELECT count(*) FROM audit_patient"),
            std::vector<int64_t>{static_cast<int64_t>(all.size())});
}

// Known answers (Python hashlib) for hash(n) = SHA-256(hash(n-1) || seq BE64
// || record): the format in docs/audit.md, independent of the code that
// writes and verifies it.
TEST(AuditChainTest, HashIsSha256OfPreviousHashSeqAndRecord) {
  std::string h1 = AuditChainHash(AuditZeroHash(), 1, "abc");
  EXPECT_EQ(AuditHex(h1), "328976acf07e9b1c4a8967f2d63902c9a724235b6363ac83087246ad84cd222a");
  char h2[kAuditHashSize];
  AuditChainHash(h1, 2, std::string(1000, 'x'), h2);
  EXPECT_EQ(AuditHex(std::string_view(h2, sizeof h2)),
            "683c93abd8f814ac07041ea2581dbccaf09307e20e23be6beb9ca68325a111b8");
}

}  // namespace
}  // namespace crs::store
