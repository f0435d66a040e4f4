// The Store contract, one suite for every backend (parameterised by store
// URL; PostgreSQL joins the list when its backend exists).
#include "store/store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <sqlite3.h>
#include <zstd.h>

#include "fhir/index/extract.h"
#include "fhir/index/index_entries.h"
#include "store/body_codec.h"
#include "store/search_query.h"
#include "support/test_postgres.h"

// The embedded compression dictionary (store/body_codec.cc).
extern "C" const char crs_body_dictionary[];
extern "C" const unsigned long crs_body_dictionary_size;

namespace crs::store {
namespace {

class StoreContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/crs-store-XXXXXX";
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
  static Write Put(std::string type, std::string id, int64_t expected, std::string body,
                   int64_t ms = 1000) {
    Write w;
    w.type = std::move(type);
    w.id = std::move(id);
    w.expected_version = expected;
    w.last_updated_ms = ms;
    w.method = expected == 0 ? Method::kCreate : Method::kUpdate;
    w.body = std::move(body);
    return w;
  }
  Result<CommitResult> CommitOne(Write w) {
    WriteBatch b;
    b.writes.push_back(std::move(w));
    return store_->Commit(b);
  }

  std::string dir_;
  std::string url_;  // the store's URL (a fresh database for "postgres")
  std::unique_ptr<Store> store_;
};

TEST_P(StoreContractTest, WriteReadVersions) {
  EXPECT_EQ(store_->Read("Patient", "a").status().code(), Code::kNotFound);
  ASSERT_TRUE(CommitOne(Put("Patient", "a", 0, R"({"v":1})")).ok());
  ASSERT_TRUE(CommitOne(Put("Patient", "a", 1, R"({"v":2})", 2000)).ok());
  auto cur = store_->Read("Patient", "a");
  ASSERT_TRUE(cur.ok());
  EXPECT_EQ(cur->version, 2);
  EXPECT_EQ(cur->body, R"({"v":2})");
  EXPECT_EQ(cur->last_updated_ms, 2000);
  auto v1 = store_->ReadVersion("Patient", "a", 1);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->body, R"({"v":1})");
  EXPECT_EQ(store_->ReadVersion("Patient", "a", 3).status().code(), Code::kNotFound);
  // Same id, other type: a different resource.
  EXPECT_EQ(store_->Read("Observation", "a").status().code(), Code::kNotFound);
}

// The store leaves out a Patient's name, address and telecom rows that a
// family / given, address-* or phone / email row repeats
// (store/sql/covered_rows.h); every search on those parameters must still
// see them.
TEST_P(StoreContractTest, CoveredRowsStillMatchTheirParameter) {
  auto create = [&](const std::string& id, const char* json) {
    auto resource = boost::json::parse(json);
    Write w = Put("Patient", id, 0, boost::json::serialize(resource));
    auto entries = fhir::index::ExtractIndex(resource);
    ASSERT_TRUE(entries.ok()) << entries.status().ToString();
    w.index = std::make_shared<const fhir::index::IndexEntries>(std::move(*entries));
    ASSERT_TRUE(CommitOne(std::move(w)).ok());
  };
  create("a", R"({"resourceType": "Patient", "name": [{"family": "Brown", "given": ["Oliver"],
      "prefix": ["Mrs"]}], "telecom": [{"system": "phone", "value": "0113"},
      {"system": "email", "value": "a@example.org"}], "address": [{"city": "Leeds",
      "line": ["1 Road"]}]})");
  create("b", R"({"resourceType": "Patient", "name": [{"text": "Brown, Ann"}],
      "telecom": [{"system": "fax", "value": "0113"}]})");
  create("c", R"({"resourceType": "Patient", "gender": "male"})");
  auto ids = [&](Predicate p, std::vector<SortKey> sort = {}) {
    SearchQuery q;
    q.type = "Patient";
    q.want_total = true;
    q.all_of.push_back(std::move(p));
    q.sort = std::move(sort);
    auto r = store_->Search(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const auto& m : r->matches) out.push_back(m.id);
    EXPECT_EQ(r->total.value_or(-1), static_cast<int64_t>(out.size()));
    return out;
  };
  auto text = [](const char* param, StringCond::Mode mode, const char* value) {
    Predicate p;
    p.param = param;
    p.table = IndexTable::kString;
    p.any_of.push_back(StringCond{mode, value});
    return p;
  };
  auto token = [](const char* param, const char* code) {
    Predicate p;
    p.param = param;
    p.table = IndexTable::kToken;
    TokenCond c;
    c.code = code;
    p.any_of.push_back(c);
    return p;
  };
  auto missing = [](const char* param, IndexTable table, bool is_missing) {
    Predicate p;
    p.param = param;
    p.table = table;
    p.any_of.push_back(MissingCond{is_missing});
    return p;
  };
  using M = StringCond::Mode;
  using V = std::vector<std::string>;
  EXPECT_EQ(ids(text("name", M::kPrefix, "brown")), (V{"a", "b"}));
  EXPECT_EQ(ids(text("name", M::kPrefix, "oliv")), V{"a"});
  EXPECT_EQ(ids(text("name", M::kPrefix, "mrs")), V{"a"});
  EXPECT_EQ(ids(text("name", M::kExact, "Brown")), V{"a"});
  EXPECT_EQ(ids(text("name", M::kContains, "row")), (V{"a", "b"}));
  EXPECT_EQ(ids(text("family", M::kPrefix, "brown")), V{"a"});
  EXPECT_EQ(ids(text("address", M::kPrefix, "leeds")), V{"a"});
  EXPECT_EQ(ids(text("address", M::kPrefix, "1 road")), V{"a"});
  EXPECT_EQ(ids(token("telecom", "0113")), (V{"a", "b"}));
  EXPECT_EQ(ids(token("telecom", "a@example.org")), V{"a"});
  EXPECT_EQ(ids(token("phone", "0113")), V{"a"});
  EXPECT_EQ(ids(missing("name", IndexTable::kString, true)), V{"c"});
  EXPECT_EQ(ids(missing("name", IndexTable::kString, false)), (V{"a", "b"}));
  EXPECT_EQ(ids(missing("address", IndexTable::kString, false)), V{"a"});
  EXPECT_EQ(ids(missing("telecom", IndexTable::kToken, true)), V{"c"});
  // Sorted by the least name: a's is its covered "brown" (its only stored
  // name row is "mrs"), before b's "brown, ann".
  Predicate any = missing("telecom", IndexTable::kToken, false);
  EXPECT_EQ(ids(any, {SortKey{"name", IndexTable::kString, false}}), (V{"a", "b"}));
  EXPECT_EQ(ids(any, {SortKey{"telecom", IndexTable::kToken, true}}), (V{"a", "b"}));
}

TEST_P(StoreContractTest, StaleExpectationConflictsAndWritesNothing) {
  ASSERT_TRUE(CommitOne(Put("Patient", "a", 0, "{}")).ok());
  EXPECT_EQ(CommitOne(Put("Patient", "a", 0, "{}")).status().code(), Code::kConflict);
  EXPECT_EQ(CommitOne(Put("Patient", "a", 5, "{}")).status().code(), Code::kConflict);
  EXPECT_EQ(store_->Read("Patient", "a")->version, 1);
}

TEST_P(StoreContractTest, BatchIsAllOrNothing) {
  ASSERT_TRUE(CommitOne(Put("Patient", "x", 0, "{}")).ok());
  WriteBatch b;
  b.writes.push_back(Put("Patient", "y", 0, "{}"));
  b.writes.push_back(Put("Patient", "x", 0, "{}"));  // conflicts
  EXPECT_EQ(store_->Commit(b).status().code(), Code::kConflict);
  EXPECT_EQ(store_->Read("Patient", "y").status().code(), Code::kNotFound);
}

TEST_P(StoreContractTest, DeleteMarkerKeepsHistory) {
  ASSERT_TRUE(CommitOne(Put("Patient", "a", 0, "{}")).ok());
  Write d;
  d.type = "Patient";
  d.id = "a";
  d.expected_version = 1;
  d.method = Method::kDelete;
  d.last_updated_ms = 5;
  ASSERT_TRUE(CommitOne(d).ok());
  auto cur = store_->Read("Patient", "a");
  ASSERT_TRUE(cur.ok());
  EXPECT_TRUE(cur->deleted);
  EXPECT_EQ(cur->version, 2);
  EXPECT_TRUE(store_->ReadVersion("Patient", "a", 1).ok());
}

TEST_P(StoreContractTest, HistoryPagesNewestFirstWithStableCursor) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(CommitOne(Put(i % 2 ? "Observation" : "Patient", "r" + std::to_string(i), 0, "{}",
                              1000 + i)).ok());
  }
  HistoryQuery q;
  q.count = 3;
  auto p1 = store_->History(q);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->versions.size(), 3u);
  EXPECT_EQ(p1->versions[0].id, "r6");
  // A write between pages does not shift the next page.
  ASSERT_TRUE(CommitOne(Put("Patient", "late", 0, "{}", 9999)).ok());
  q.before_seq = p1->next_before_seq;
  auto p2 = store_->History(q);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->versions[0].id, "r3");
  q.type = "Patient";
  q.before_seq = 0;
  q.count = 100;
  q.since_ms = 1002;
  auto typed = store_->History(q);
  ASSERT_TRUE(typed.ok());
  ASSERT_EQ(typed->versions.size(), 4u);  // r2 r4 r6 late
  EXPECT_EQ(typed->next_before_seq, 0);
}

TEST_P(StoreContractTest, IdempotencyKeyAppliesOnce) {
  WriteBatch b;
  b.writes.push_back(Put("Patient", "a", 0, "{}"));
  b.idempotency_key = "req-1";
  ASSERT_TRUE(store_->Commit(b).ok());
  auto again = store_->Commit(b);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->already_applied);
  ASSERT_EQ(again->applied.size(), 1u);
  EXPECT_EQ(again->applied[0].id, "a");
  EXPECT_EQ(again->applied[0].version, 1);
}

TEST_P(StoreContractTest, ConcurrentCommitsAreGroupedAndAllDurable) {
  constexpr int kThreads = 16, kEach = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        ok += CommitOne(Put("Patient", std::to_string(t) + "-" + std::to_string(i), 0, "{}")).ok();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok, kThreads * kEach);
  Reopen();
  auto stats = store_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->resources, kThreads * kEach);
}

// CommitAsync answers every batch exactly once, with what Commit would
// have returned, only once it is durable; batches queued before the store
// closes are committed by the close, and none is lost.
TEST_P(StoreContractTest, CommitAsyncAnswersOnceDurable) {
  ASSERT_TRUE(CommitOne(Put("Patient", "taken", 0, "{}")).ok());
  constexpr int kBatches = 200;
  std::mutex mu;
  std::vector<Result<CommitResult>> answers;
  for (int i = 0; i < kBatches; ++i) {
    WriteBatch b;
    // Every 50th conflicts with the resource written above.
    b.writes.push_back(Put("Patient", i % 50 == 0 ? "taken" : "p" + std::to_string(i), 0,
                           R"({"i":)" + std::to_string(i) + "}"));
    store_->CommitAsync(std::move(b), [&](Result<CommitResult> r) {
      std::lock_guard<std::mutex> lock(mu);
      answers.push_back(std::move(r));
    });
  }
  store_.reset();  // drains the queue
  ASSERT_EQ(answers.size(), static_cast<size_t>(kBatches));
  int ok = 0, conflicts = 0;
  for (const auto& a : answers) {
    if (a.ok()) {
      ++ok;
      ASSERT_EQ(a->applied.size(), 1u);
      EXPECT_EQ(a->applied[0].version, 1);
    } else {
      EXPECT_EQ(a.status().code(), Code::kConflict);
      ++conflicts;
    }
  }
  EXPECT_EQ(ok, kBatches - 4);
  EXPECT_EQ(conflicts, 4);
  Reopen();
  auto stats = store_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->resources, 1 + kBatches - 4);
  EXPECT_EQ(store_->Read("Patient", "p7")->body, R"({"i":7})");
  EXPECT_EQ(store_->Read("Patient", "taken")->version, 1);
}

TEST_P(StoreContractTest, DataSurvivesReopen) {
  ASSERT_TRUE(CommitOne(Put("Patient", "a", 0, R"({"resourceType":"Patient"})")).ok());
  Reopen();
  auto r = store_->Read("Patient", "a");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, R"({"resourceType":"Patient"})");
  EXPECT_TRUE(store_->Ping().ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContractTest, ::testing::ValuesIn(::crs::testing::StoreBackends()),
                         [](const auto& info) { return info.param == "sqlite:" ? "sqlite" : info.param; });

// Access facts are stored with each resource and every query path applies an
// AccessFilter inside the query: matches, totals, history, compartments.
TEST_P(StoreContractTest, AccessFilterAppliesToEveryQueryPath) {
  auto put = [&](std::string type, std::string id, std::string patient, uint32_t labels,
                 std::string author, std::vector<std::string> rel = {}) {
    Write w = Put(type, id, 0, R"({"x":1})");
    auto f = std::make_shared<AccessFacts>();
    f->patient = std::move(patient);
    f->labels = labels;
    f->author_org = std::move(author);
    f->relationship_orgs = std::move(rel);
    w.access = f;
    ASSERT_TRUE(CommitOne(std::move(w)).ok());
  };
  put("Patient", "p1", "p1", 0, "A", {"A"});  // registered at A
  put("Patient", "p2", "p2", 0, "C", {"C"});
  put("Observation", "o1", "p1", 0, "A");
  put("Observation", "o2", "p2", 0, "C");
  put("Observation", "o3", "p1", AccessFacts::kSealed, "B");
  put("Observation", "o4", "p1", AccessFacts::kLocked, "A");
  put("Observation", "o5", "p1", AccessFacts::kLocked, "B");
  put("Observation", "o6", "*", 0, "A");
  put("Organization", "A", "", 0, "A");

  auto ids = [&](const std::string& type, std::shared_ptr<AccessFilter> f) {
    SearchQuery q;
    q.type = type;
    q.want_total = true;
    q.access = f;
    auto r = store_->Search(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::string out;
    for (const auto& m : r->matches) out += m.id + (m.patient.empty() ? "" : ":" + m.patient) + " ";
    EXPECT_EQ(r->total.value_or(-1), static_cast<int64_t>(r->matches.size()));
    return out;
  };
  auto clinician = std::make_shared<AccessFilter>();
  clinician->org = "A";
  clinician->related = true;
  clinician->any_patient_types = {"Patient"};
  EXPECT_EQ(ids("Observation", clinician), "o1:p1 o4:p1 ");
  EXPECT_EQ(ids("Patient", clinician), "p1:p1 p2:p2 ");
  EXPECT_EQ(ids("Organization", clinician), "A ");
  auto sealed = std::make_shared<AccessFilter>(*clinician);
  sealed->sealed = true;
  EXPECT_EQ(ids("Observation", sealed), "o1:p1 o3:p1 o4:p1 ");
  auto elsewhere = std::make_shared<AccessFilter>();
  elsewhere->org = "B";
  elsewhere->related = true;
  EXPECT_EQ(ids("Observation", elsewhere), "");
  elsewhere->patients = {"p1"};  // break-glass for p1
  EXPECT_EQ(ids("Observation", elsewhere), "o1:p1 o3:p1 o5:p1 ");
  auto patient = std::make_shared<AccessFilter>();
  patient->patients = {"p2"};
  EXPECT_EQ(ids("Observation", patient), "o2:p2 ");
  EXPECT_EQ(ids("Patient", patient), "p2:p2 ");
  auto typed = std::make_shared<AccessFilter>(*clinician);
  typed->types = std::vector<std::string>{"Patient"};
  EXPECT_EQ(ids("Observation", typed), "");
  auto system = std::make_shared<AccessFilter>();
  system->any_patient = true;
  EXPECT_EQ(ids("Observation", system), "o1:p1 o2:p2 o6:* ");  // labels still apply

  HistoryQuery h;
  h.type = "Observation";
  h.access = clinician;
  auto page = store_->History(h);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  std::string hist;
  for (const auto& v : page->versions) hist += v.id + " ";
  EXPECT_EQ(hist, "o4 o1 ");

  CompartmentQuery c;
  c.type = "Patient";
  c.id = "p2";
  c.access = clinician;
  auto comp = store_->Compartment(c);
  ASSERT_TRUE(comp.ok());
  ASSERT_EQ(comp->matches.size(), 1u);  // the Patient (demographics) only
  EXPECT_EQ(comp->matches[0].type, "Patient");

  auto read = store_->Read("Observation", "o3");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->access.patient, "p1");
  EXPECT_EQ(read->access.labels, AccessFacts::kSealed);
  EXPECT_EQ(read->access.author_org, "B");
  // An update by another organisation keeps the first author; a write
  // without facts is never visible to patient-restricted callers.
  Write w = Put("Observation", "o3", 1, R"({"x":2})");
  auto f = std::make_shared<AccessFacts>();
  f->patient = "p1";
  f->author_org = "A";
  w.access = f;
  ASSERT_TRUE(CommitOne(std::move(w)).ok());
  EXPECT_EQ(store_->Read("Observation", "o3")->access.author_org, "B");
  ASSERT_TRUE(CommitOne(Put("Observation", "o7", 0, R"({"x":1})")).ok());
  EXPECT_EQ(store_->Read("Observation", "o7")->access.patient, "?");
  EXPECT_EQ(ids("Observation", clinician), "o1:p1 o3:p1 o4:p1 ");
}

TEST_P(StoreContractTest, PurgeErasesEveryVersion) {
  ASSERT_TRUE(CommitOne(Put("AllergyIntolerance", "a", 0, R"({"v":1})")).ok());
  ASSERT_TRUE(CommitOne(Put("AllergyIntolerance", "a", 1, R"({"v":2})")).ok());
  Write purge = Put("AllergyIntolerance", "a", 7, "");
  purge.method = Method::kPurge;
  ASSERT_TRUE(CommitOne(purge).ok());
  EXPECT_EQ(store_->Read("AllergyIntolerance", "a").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->ReadVersion("AllergyIntolerance", "a", 1).status().code(), Code::kNotFound);
  HistoryQuery h;
  h.type = "AllergyIntolerance";
  EXPECT_TRUE(store_->History(h)->versions.empty());
  ASSERT_TRUE(CommitOne(purge).ok());  // nothing left to erase is not an error
  // The id may be used again, from version 1.
  ASSERT_TRUE(CommitOne(Put("AllergyIntolerance", "a", 0, R"({"v":3})")).ok());
  EXPECT_EQ(store_->Read("AllergyIntolerance", "a")->version, 1);
}

// A reindex replaces the facts derived from the current version without a
// new version; one naming a version no longer current does nothing.
TEST_P(StoreContractTest, ReindexRewritesDerivedRowsInPlace) {
  ASSERT_TRUE(CommitOne(Put("Observation", "o", 0, R"({"v":1})")).ok());  // facts unknown: "?"
  auto facts = [](std::string patient, uint32_t labels, std::vector<std::string> rel) {
    auto f = std::make_shared<AccessFacts>();
    f->patient = std::move(patient);
    f->labels = labels;
    f->author_org = "A";
    f->relationship_orgs = std::move(rel);
    return f;
  };
  Write re = Put("Observation", "o", 1, "");
  re.method = Method::kReindex;
  re.access = facts("p1", AccessFacts::kSealed, {});
  auto r = CommitOne(re);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->applied.size(), 1u);
  EXPECT_EQ(r->applied[0].version, 1);
  auto read = store_->Read("Observation", "o");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->version, 1);
  EXPECT_EQ(read->body, R"({"v":1})");
  EXPECT_EQ(read->access.patient, "p1");
  EXPECT_EQ(read->access.labels, AccessFacts::kSealed);
  HistoryQuery h;
  h.type = "Observation";
  h.id = "o";
  EXPECT_EQ(store_->History(h)->versions.size(), 1u);
  // Relationships come from the reindexed facts too.
  ASSERT_TRUE(CommitOne(Put("Patient", "p1", 0, R"({"v":1})")).ok());
  EXPECT_FALSE(*store_->HasRelationship("A", "p1"));
  Write reg = Put("Patient", "p1", 1, "");
  reg.method = Method::kReindex;
  reg.access = facts("p1", 0, {"A"});
  ASSERT_TRUE(CommitOne(reg).ok());
  EXPECT_TRUE(*store_->HasRelationship("A", "p1"));
  // Superseded: version 2 was written after the reindex was prepared.
  Write v2 = Put("Observation", "o", 1, R"({"v":2})");
  v2.access = facts("p2", 0, {});
  ASSERT_TRUE(CommitOne(v2).ok());
  re.access = facts("p3", 0, {});
  r = CommitOne(re);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->applied[0].version, 2);
  EXPECT_EQ(store_->Read("Observation", "o")->access.patient, "p2");
  // Of a resource that does not exist: nothing.
  Write none = Put("Observation", "absent", 1, "");
  none.method = Method::kReindex;
  ASSERT_TRUE(CommitOne(none).ok());
  EXPECT_EQ(store_->Read("Observation", "absent").status().code(), Code::kNotFound);
}

// A relationship answer follows every committed write however often it was
// asked before (the SQLite store caches the answers), and a batch that
// fails leaves the answers as they were.
TEST_P(StoreContractTest, RelationshipAnswersFollowEveryWrite) {
  auto at = [](std::string version, std::vector<std::string> orgs) {
    Write w = Put("Patient", "p1", version == "1" ? 0 : std::stoll(version) - 1,
                  R"({"v":)" + version + "}");
    auto f = std::make_shared<AccessFacts>();
    f->patient = "p1";
    f->relationship_orgs = std::move(orgs);
    w.access = f;
    return w;
  };
  auto related = [this](const char* org) {
    auto r = store_->HasRelationship(org, "p1");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  };
  EXPECT_FALSE(related("A"));
  ASSERT_TRUE(CommitOne(at("1", {"A"})).ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(related("A"));
    EXPECT_FALSE(related("B"));
  }
  // Registered elsewhere.
  ASSERT_TRUE(CommitOne(at("2", {"B"})).ok());
  EXPECT_FALSE(related("A"));
  EXPECT_TRUE(related("B"));
  // A batch that fails (its second write is stale) changes nothing.
  WriteBatch failing;
  failing.writes.push_back(at("3", {"C"}));
  failing.writes.push_back(Put("Patient", "p1", 7, R"({"v":9})"));
  EXPECT_FALSE(store_->Commit(failing).ok());
  EXPECT_FALSE(related("C"));
  EXPECT_TRUE(related("B"));
  // Unchanged by a write of another patient's resource.
  Write other = Put("Patient", "p2", 0, R"({"v":1})");
  ASSERT_TRUE(CommitOne(other).ok());
  EXPECT_TRUE(related("B"));
  // A delete drops the relationship.
  Write gone = Put("Patient", "p1", 2, "");
  gone.method = Method::kDelete;
  ASSERT_TRUE(CommitOne(gone).ok());
  EXPECT_FALSE(related("B"));
  // Questions asked from many threads while the registration moves: once a
  // commit returns, no thread gets the old answer.
  ASSERT_TRUE(CommitOne(at("4", {"D"})).ok());
  std::atomic<bool> moved{false}, stop{false}, wrong{false};
  std::vector<std::thread> askers;
  for (int t = 0; t < 4; ++t) {
    askers.emplace_back([&] {
      while (!stop) {
        bool after = moved.load();
        auto d = store_->HasRelationship("D", "p1");
        if (after && d.ok() && *d) wrong = true;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(CommitOne(at("5", {"E"})).ok());
  moved = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  for (auto& t : askers) t.join();
  EXPECT_FALSE(wrong);
  EXPECT_TRUE(related("E"));
}

// The search-index rows a group writes are those of each resource's last
// write: an update or a delete in the same batch as the create supersedes
// its rows, and a batch that fails takes only its own rows with it, not
// those of the batches committed with it (the SQLite writer queues rows for
// the whole group and inserts them just before COMMIT).
TEST_P(StoreContractTest, IndexRowsAreThoseOfTheLastWriteOfTheGroup) {
  auto named = [](const std::string& id, int64_t expected, const std::string& family,
                  Method method = Method::kCreate) {
    Write w{"Patient", id, expected, 1000, method, "{}", nullptr, nullptr};
    if (method == Method::kDelete) return w;
    auto index = std::make_shared<fhir::index::IndexEntries>();
    index->resource_type = "Patient";
    index->strings.push_back({"family", family, family});
    index->tokens.push_back({"identifier", "urn:test", id + "-" + family, "", "", ""});
    w.index = index;
    return w;
  };
  auto found = [&](const std::string& family) {
    SearchQuery q;
    q.type = "Patient";
    q.want_total = true;
    Predicate p;
    p.param = "family";
    p.table = IndexTable::kString;
    p.any_of.push_back(StringCond{StringCond::Mode::kExact, family});
    q.all_of.push_back(p);
    auto r = store_->Search(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::set<std::string> ids;
    if (!r.ok()) return ids;
    for (const auto& m : r->matches) ids.insert(m.id);
    EXPECT_EQ(r->total.value_or(-1), static_cast<int64_t>(ids.size()));
    return ids;
  };
  WriteBatch b;
  b.writes.push_back(named("a", 0, "old"));
  b.writes.push_back(named("b", 0, "old"));
  b.writes.push_back(named("a", 1, "new", Method::kUpdate));
  b.writes.push_back(named("c", 0, "gone"));
  b.writes.push_back(named("c", 1, "", Method::kDelete));
  b.writes.push_back(named("d", 0, "twice"));
  b.writes.push_back(named("d", 1, "between", Method::kUpdate));
  b.writes.push_back(named("d", 2, "twice", Method::kUpdate));
  auto r = store_->Commit(b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(found("old"), (std::set<std::string>{"b"}));
  EXPECT_EQ(found("new"), (std::set<std::string>{"a"}));
  EXPECT_EQ(found("gone"), std::set<std::string>{});
  EXPECT_EQ(found("between"), std::set<std::string>{});
  EXPECT_EQ(found("twice"), (std::set<std::string>{"d"}));
  // Batches committed together: the one that fails (its second write
  // conflicts) leaves no rows; the others keep theirs.
  std::set<std::string> kept;
  for (int round = 0; round < 8; ++round) {
    std::string n = std::to_string(round);
    std::vector<WriteBatch> batches(4);
    batches[0].writes.push_back(named("good1-" + n, 0, "kept"));
    batches[1].writes.push_back(named("bad-" + n, 0, "kept"));
    batches[1].writes.push_back(named("a", 0, "kept"));  // exists: conflict
    batches[2].writes.push_back(named("good2-" + n, 0, "kept"));
    batches[3].writes.push_back(named("b", round + 1, "kept", Method::kUpdate));
    std::vector<Result<CommitResult>> results(4, Status::Internal(""));
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] { results[i] = store_->Commit(batches[i]); });
    }
    for (auto& t : threads) t.join();
    EXPECT_TRUE(results[0].ok());
    EXPECT_EQ(results[1].status().code(), Code::kConflict);
    EXPECT_TRUE(results[2].ok());
    EXPECT_TRUE(results[3].ok()) << results[3].status().ToString();
    kept.insert({"good1-" + n, "good2-" + n});
  }
  kept.insert("b");
  EXPECT_EQ(found("kept"), kept);
  EXPECT_EQ(found("old"), std::set<std::string>{});
  Reopen();
  EXPECT_EQ(found("kept"), kept);
}

// The ids of a type within bounds, in order, deleted resources included.
TEST_P(StoreContractTest, IdsBetweenListsIdsOfTheTypeInOrder) {
  ASSERT_TRUE(CommitOne(Put("Patient", "9990000026", 0, "{}")).ok());
  ASSERT_TRUE(CommitOne(Put("Patient", "9990000018", 0, "{}")).ok());
  ASSERT_TRUE(CommitOne(Put("Patient", "9990000042", 0, "{}")).ok());
  ASSERT_TRUE(CommitOne(Put("Observation", "9990000034", 0, "{}")).ok());
  Write del = Put("Patient", "9990000026", 1, "");
  del.method = Method::kDelete;
  ASSERT_TRUE(CommitOne(del).ok());
  auto ids = store_->IdsBetween("Patient", "9990000000", "9999999999", 10);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(*ids, (std::vector<std::string>{"9990000018", "9990000026", "9990000042"}));
  ids = store_->IdsBetween("Patient", "9990000019", "9999999999", 1);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"9990000026"}));
  ids = store_->IdsBetween("Patient", "0000000000", "0999999999", 10);
  ASSERT_TRUE(ids.ok());
  EXPECT_TRUE(ids->empty());
}

// The change feed: every stored version after a seq, oldest first, delete
// markers included, purged resources gone; a cursor pages through it.
TEST_P(StoreContractTest, ChangesListEveryVersionInSeqOrder) {
  ASSERT_TRUE(CommitOne(Put("Patient", "a", 0, R"({"v":1})")).ok());
  ASSERT_TRUE(CommitOne(Put("Observation", "o", 0, R"({"o":1})")).ok());
  ASSERT_TRUE(CommitOne(Put("Patient", "a", 1, R"({"v":2})")).ok());
  Write del = Put("Observation", "o", 1, "");
  del.method = Method::kDelete;
  ASSERT_TRUE(CommitOne(del).ok());
  ASSERT_TRUE(CommitOne(Put("Consent", "c", 0, "{}")).ok());
  Write purge = Put("Consent", "c", 1, "");
  purge.method = Method::kPurge;
  ASSERT_TRUE(CommitOne(purge).ok());
  auto all = store_->Changes(0, 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 4u);
  std::vector<std::string> seen;
  for (size_t i = 0; i < all->size(); ++i) {
    const ResourceVersion& v = (*all)[i];
    if (i > 0) EXPECT_GT(v.seq, (*all)[i - 1].seq);
    seen.push_back(v.type + "/" + v.id + "/" + std::to_string(v.version));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"Patient/a/1", "Observation/o/1", "Patient/a/2",
                                            "Observation/o/2"}));
  EXPECT_EQ((*all)[2].body, R"({"v":2})");
  EXPECT_TRUE((*all)[3].deleted);
  auto page = store_->Changes((*all)[1].seq, 1);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].seq, (*all)[2].seq);
  EXPECT_TRUE(store_->Changes((*all)[3].seq, 100)->empty());
}

TEST_P(StoreContractTest, SequencesHandOutEachValueOnceAcrossThreadsAndReopen) {
  EXPECT_EQ(store_->ReserveSequence("s", 0).status().code(), Code::kInvalid);
  EXPECT_EQ(store_->ReserveSequence("", 1).status().code(), Code::kInvalid);
  EXPECT_EQ(*store_->ReserveSequence("s", 10), 0);
  EXPECT_EQ(*store_->ReserveSequence("s", 5), 10);
  EXPECT_EQ(*store_->ReserveSequence("other", 1), 0);  // counters are independent
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::vector<int64_t>> firsts(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto r = store_->ReserveSequence("s", 3);
        if (r.ok()) firsts[t].push_back(*r);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<int64_t> all;
  for (const auto& f : firsts) {
    EXPECT_EQ(f.size(), static_cast<size_t>(kEach));
    all.insert(f.begin(), f.end());
  }
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  // Blocks of 3 from 15 upwards, none overlapping.
  int64_t expect = 15;
  for (int64_t v : all) {
    EXPECT_EQ(v, expect);
    expect += 3;
  }
  Reopen();  // durable: a reopened store continues after the last block
  EXPECT_EQ(*store_->ReserveSequence("s", 1), 15 + 3 * kThreads * kEach);
}

TEST(BodyCodecTest, RoundTripsAndRejectsCorruption) {
  std::string body(5000, 'a');
  body += R"({"resourceType":"Patient"})";
  std::string packed = CompressBody(body, 3);
  EXPECT_LT(packed.size(), body.size() / 10);
  auto back = DecompressBody(packed);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, body);
  EXPECT_FALSE(DecompressBody("not zstd").ok());
  packed[packed.size() / 2] ^= 0x55;
  auto bad = DecompressBody(packed);
  EXPECT_TRUE(!bad.ok() || *bad != body);
}

TEST(BodyCodecTest, CompressesWithTheBuiltInDictionaryAndReadsBodiesWithoutIt) {
  EXPECT_EQ(BodyDictionaryId(), 0x43525301u);
  const std::string body =
      R"({"resourceType":"Patient","id":"9990000018","meta":{"versionId":"2",)"
      R"("lastUpdated":"2026-11-21T17:12:10.208Z"},"identifier":[{"system":)"
      R"("https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}],"active":true,)"
      R"("name":[{"use":"official","family":"Brown","given":["Oliver","Jack"]}],)"
      R"("telecom":[{"system":"phone","value":"0113 496 0000","use":"home"}],)"
      R"("gender":"male","birthDate":"1987-04-12","address":[{"use":"home",)"
      R"("line":["12 Park Road"],"city":"Leeds","postalCode":"LS1 4AB"}],)"
      R"("generalPractitioner":[{"reference":"Organization/Y12345"}]})";
  std::string packed = CompressBody(body, 3);
  EXPECT_EQ(ZSTD_getDictID_fromFrame(packed.data(), packed.size()), BodyDictionaryId());
  // What the dictionary is for: a small resource shares most of its bytes
  // with every other one.
  std::string plain(ZSTD_compressBound(body.size()), '\0');
  plain.resize(ZSTD_compress(plain.data(), plain.size(), body.data(), body.size(), 3));
  EXPECT_LT(packed.size() * 10, plain.size() * 6) << packed.size() << " vs " << plain.size();
  auto back = DecompressBody(packed);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, body);
  // Bodies stored before the dictionary (frames without one) still read.
  auto old = DecompressBody(plain);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(*old, body);
  // A frame naming another dictionary is refused, not decoded wrongly.
  std::string other(crs_body_dictionary, crs_body_dictionary_size);
  other[4] ^= 0x01;  // the dictionary id, bytes 4-7 of its header
  ZSTD_CDict* cdict = ZSTD_createCDict(other.data(), other.size(), 3);
  ASSERT_NE(cdict, nullptr);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string foreign(ZSTD_compressBound(body.size()), '\0');
  foreign.resize(ZSTD_compress_usingCDict(cctx, foreign.data(), foreign.size(), body.data(),
                                          body.size(), cdict));
  ZSTD_freeCCtx(cctx);
  ZSTD_freeCDict(cdict);
  EXPECT_NE(ZSTD_getDictID_fromFrame(foreign.data(), foreign.size()), 0u);
  EXPECT_FALSE(DecompressBody(foreign).ok());
}

// A purge (a dissenting patient's summary data) must erase the bytes, not
// only unlink the rows: SQLite otherwise leaves a deleted row's cells in the
// page's free space, where a copy of the file still holds them. The marker
// is a code's text, stored as it is in ix_token (the body is compressed).
TEST(SqliteStoreTest, APurgedResourceLeavesNoBytesInTheFile) {
  char tmpl[] = "/tmp/crs-purge-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  StoreOptions options;
  options.data_dir = dir;
  const std::string marker = "qzxvjkpurgemarker";
  auto file_holds_marker = [&] {
    std::string bytes;
    for (const char* name : {"/crs.db", "/crs.db-wal"}) {
      std::ifstream in(dir + name, std::ios::binary);
      bytes += std::string(std::istreambuf_iterator<char>(in), {});
    }
    return bytes.find(marker) != std::string::npos;
  };
  {
    auto store = OpenStore(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto resource = boost::json::parse(
        R"({"resourceType": "AllergyIntolerance", "code": {"text": ")" + marker + R"("},
            "patient": {"reference": "Patient/9990000018"}})");
    WriteBatch batch;
    Write w;
    w.type = "AllergyIntolerance";
    w.id = "a";
    w.method = Method::kCreate;
    w.expected_version = 0;
    w.last_updated_ms = 1000;
    w.body = boost::json::serialize(resource);
    auto entries = fhir::index::ExtractIndex(resource);
    ASSERT_TRUE(entries.ok()) << entries.status().ToString();
    w.index = std::make_shared<const fhir::index::IndexEntries>(std::move(*entries));
    batch.writes.push_back(std::move(w));
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }  // a clean close folds the WAL into the file
  ASSERT_TRUE(file_holds_marker());  // else the test proves nothing
  {
    auto store = OpenStore(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    WriteBatch batch;
    Write purge;
    purge.type = "AllergyIntolerance";
    purge.id = "a";
    purge.method = Method::kPurge;
    batch.writes.push_back(std::move(purge));
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }
  EXPECT_FALSE(file_holds_marker());
  std::filesystem::remove_all(dir);
}

// An update leaves the index rows it repeats where they are and rewrites
// only those that change: its rows end up exactly those a create of the
// same entries writes (every value table, a duplicate row, a covered row,
// -0.0), and a repeated row in a table with rowids keeps its rowid.
TEST(SqliteStoreTest, AnUpdateRewritesOnlyTheIndexRowsThatChange) {
  char tmpl[] = "/tmp/crs-ixdiff-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  StoreOptions options;
  options.data_dir = dir;
  auto store = OpenStore(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  namespace ix = fhir::index;
  auto entries = [](bool second) {
    auto e = std::make_shared<ix::IndexEntries>();
    e->resource_type = "Patient";
    e->strings.push_back({"family", second ? "jones" : "smith", second ? "Jones" : "Smith"});
    e->strings.push_back({"name", second ? "jones" : "smith", second ? "Jones" : "Smith"});
    e->strings.push_back({"given", "ann", "Ann"});
    e->strings.push_back({"given", second ? "cy" : "bea", second ? "Cy" : "Bea"});
    e->tokens.push_back({"gender", "", "female", "", "", ""});
    e->tokens.push_back({"identifier", "urn:test", second ? "2" : "1", "", "", ""});
    e->dates.push_back({"birthdate", 1000, 2000});
    e->numbers.push_back({"n", 1.5, 1.45, 1.55});
    if (!second) e->numbers.push_back({"n", 1.5, 1.45, 1.55});
    if (second) e->numbers.push_back({"n", -0.0, -0.05, 0.05});
    e->numbers.push_back({"m", std::nullopt, 0, 0});
    ix::QuantityRow q;
    q.param = "q";
    q.value = 2.0;
    q.low = 1.95;
    q.high = 2.05;
    q.system = "http://unitsofmeasure.org";
    q.code = second ? "mg" : "g";
    q.unit = q.code;
    e->quantities.push_back(q);
    ix::ReferenceRow r;
    r.param = "general-practitioner";
    r.target_type = "Organization";
    r.target_id = "Y12345";
    e->references.push_back(r);
    e->uris.push_back({"u", second ? "http://b" : "http://a"});
    return e;
  };
  auto write = [&](const std::string& id, int64_t expected, bool second) {
    Write w{"Patient", id, expected, 1000, expected == 0 ? Method::kCreate : Method::kUpdate,
            "{}", nullptr, nullptr};
    w.index = entries(second);
    WriteBatch b;
    b.writes.push_back(std::move(w));
    auto r = (*store)->Commit(b);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  };
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir + "/crs.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  // Every row of `id` in the seven value tables, without its rid, as text.
  auto rows = [&](const std::string& id) {
    std::multiset<std::string> out;
    for (const char* t : {"ix_string", "ix_token", "ix_date", "ix_number", "ix_quantity",
                          "ix_ref", "ix_uri"}) {
      std::string sql = std::string("SELECT * FROM ") + t +
                        " WHERE rid = (SELECT rid FROM resources WHERE type = 'Patient' AND "
                        "id = ?1)";
      sqlite3_stmt* st = nullptr;
      EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
      sqlite3_bind_text(st, 1, id.c_str(), -1, SQLITE_TRANSIENT);
      while (sqlite3_step(st) == SQLITE_ROW) {
        std::string row = t;
        for (int c = 0; c < sqlite3_column_count(st); ++c) {
          if (std::string_view(sqlite3_column_name(st, c)) == "rid") continue;
          auto* v = sqlite3_column_text(st, c);
          row += "|" + (v ? std::string(reinterpret_cast<const char*>(v)) : "NULL");
        }
        out.insert(row);
      }
      sqlite3_finalize(st);
    }
    return out;
  };
  auto number_rowids = [&](const std::string& id) {
    std::set<int64_t> out;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db,
                                 "SELECT rowid FROM ix_number WHERE rid = (SELECT rid FROM "
                                 "resources WHERE type = 'Patient' AND id = ?1)",
                                 -1, &st, nullptr),
              SQLITE_OK);
    sqlite3_bind_text(st, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) out.insert(sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    return out;
  };
  write("p", 0, false);
  std::set<int64_t> before = number_rowids("p");
  ASSERT_EQ(before.size(), 3u);
  write("p", 1, true);
  write("q", 0, true);
  std::multiset<std::string> updated = rows("p");
  EXPECT_EQ(updated, rows("q"));
  EXPECT_EQ(std::count_if(updated.begin(), updated.end(),
                          [](const std::string& r) { return r.ends_with("|jones|Jones"); }),
            1);  // the family row; "name" repeats it and is not stored
  EXPECT_EQ(updated.size(), 12u);
  // Of the three number rows, 1.5 and the one without a value stay; the
  // second 1.5 goes and -0.0 comes.
  std::set<int64_t> after = number_rowids("p");
  ASSERT_EQ(after.size(), 3u);
  std::vector<int64_t> kept;
  std::set_intersection(before.begin(), before.end(), after.begin(), after.end(),
                        std::back_inserter(kept));
  EXPECT_EQ(kept.size(), 2u) << "rows the update repeats were deleted and inserted again";
  // The same write again changes no row; a delete leaves none.
  write("p", 2, true);
  EXPECT_EQ(rows("p"), updated);
  EXPECT_EQ(number_rowids("p"), after);
  {
    Write del{"Patient", "p", 3, 1000, Method::kDelete, "", nullptr, nullptr};
    WriteBatch b;
    b.writes.push_back(std::move(del));
    ASSERT_TRUE((*store)->Commit(b).ok());
  }
  EXPECT_TRUE(rows("p").empty());
  sqlite3_close(db);
  store->reset();
  std::filesystem::remove_all(dir);
}

TEST(OpenStoreTest, RejectsUnknownSchemes) {
  StoreOptions o;
  o.url = "mysql://x";
  EXPECT_EQ(OpenStore(o).status().code(), Code::kInvalid);
}

}  // namespace
}  // namespace crs::store
