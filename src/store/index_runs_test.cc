// Deferred index rows of a bulk import (store/sqlite/index_runs.h): the
// run encoding and order, and a deferred store ending with exactly the
// index rows of a store that wrote them directly.
#include "store/sqlite/index_runs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fhir/index/index_entries.h"
#include "store/sqlite/db.h"
#include "store/store.h"

namespace crs::store {
namespace {

using sqlite::RunField;
using sqlite::RunTable;

// A row of the token table with owned strings.
struct TokenRow {
  int64_t pid, rid;
  std::string code, system, text, type_system, type_code;
  void Fields(RunField* f) const {
    f[0].i = pid;
    f[1].s = code;
    f[2].s = system;
    f[3].i = rid;
    f[4].s = text;
    f[5].s = type_system;
    f[6].s = type_code;
  }
};

TEST(IndexRunsTest, RowsRoundTripAndTruncationIsNotARow) {
  std::string long_text(70000, 'x');
  long_text[5] = '\xff';
  TokenRow row{-5, int64_t{1} << 40, "", "http://x", long_text, "\x80", "\0z"};
  RunField in[sqlite::kMaxRunFields], out[sqlite::kMaxRunFields];
  row.Fields(in);
  std::string body;
  sqlite::EncodeRunRow(sqlite::kRunToken, in, &body);
  ASSERT_EQ(sqlite::DecodeRunRow(sqlite::kRunToken, body, out), static_cast<int64_t>(body.size()));
  EXPECT_EQ(sqlite::CompareRunRows(sqlite::kRunToken, in, out), 0);
  EXPECT_EQ(out[0].i, -5);
  EXPECT_EQ(out[3].i, int64_t{1} << 40);
  EXPECT_EQ(out[4].s, long_text);
  for (size_t cut = 0; cut < body.size(); cut += 997) {
    EXPECT_EQ(sqlite::DecodeRunRow(sqlite::kRunToken, std::string_view(body).substr(0, cut), out),
              0)
        << cut;
  }
  // Eleven continuation bytes are no varint.
  EXPECT_EQ(sqlite::DecodeRunRow(sqlite::kRunToken, std::string(11, '\x80'), out), -1);
  // Negative and extreme dates.
  RunField d[4] = {{3, {}}, {INT64_MIN, {}}, {INT64_MAX, {}}, {-1, {}}};
  body.clear();
  sqlite::EncodeRunRow(sqlite::kRunDate, d, &body);
  ASSERT_GT(sqlite::DecodeRunRow(sqlite::kRunDate, body, out), 0);
  EXPECT_EQ(out[1].i, INT64_MIN);
  EXPECT_EQ(out[2].i, INT64_MAX);
  EXPECT_EQ(out[3].i, -1);
}

// The merge inserts in CompareRunRows order; it must be SQLite's order of
// the primary key, or each insert lands somewhere else in the tree.
TEST(IndexRunsTest, OrderIsSqlitesPrimaryKeyOrder) {
  char tmpl[] = "/tmp/crs-runs-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto db = sqlite::Db::Open(dir + "/t.db", /*create=*/true);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)
                  ->Exec("CREATE TABLE t (pid INTEGER NOT NULL, code TEXT NOT NULL, system TEXT "
                         "NOT NULL, rid INTEGER NOT NULL, text TEXT NOT NULL, type_system TEXT "
                         "NOT NULL, type_code TEXT NOT NULL, PRIMARY KEY (pid, code, system, rid, "
                         "text, type_system, type_code)) WITHOUT ROWID")
                  .ok());
  std::mt19937 rng(7);
  const std::vector<std::string> words = {"",     "a", "ab", "b",    "\xc3\xa9",
                                          "\x7f", "A", "aa", "a\xff"};
  auto pick = [&] { return words[rng() % words.size()]; };
  std::vector<TokenRow> rows;
  for (int i = 0; i < 2000; ++i) {
    rows.push_back({static_cast<int64_t>(rng() % 3) - 1, static_cast<int64_t>(rng() % 5) - 2,
                    pick(), pick(), pick(), pick(), pick()});
  }
  auto* ins = *(*db)->Prepare("INSERT OR IGNORE INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  for (const auto& r : rows) {
    ins->Bind(1, r.pid);
    ins->Bind(2, r.code);
    ins->Bind(3, r.system);
    ins->Bind(4, r.rid);
    ins->Bind(5, r.text);
    ins->Bind(6, r.type_system);
    ins->Bind(7, r.type_code);
    ASSERT_TRUE(ins->Step().ok());
    ins->Reset();
  }
  std::sort(rows.begin(), rows.end(), [](const TokenRow& a, const TokenRow& b) {
    RunField fa[7], fb[7];
    a.Fields(fa);
    b.Fields(fb);
    return sqlite::CompareRunRows(sqlite::kRunToken, fa, fb) < 0;
  });
  rows.erase(std::unique(rows.begin(), rows.end(),
                         [](const TokenRow& a, const TokenRow& b) {
                           RunField fa[7], fb[7];
                           a.Fields(fa);
                           b.Fields(fb);
                           return sqlite::CompareRunRows(sqlite::kRunToken, fa, fb) == 0;
                         }),
             rows.end());
  auto* sel = *(*db)->Prepare("SELECT pid, code, system, rid, text, type_system, type_code FROM t");
  size_t i = 0;
  while (*sel->Step()) {
    ASSERT_LT(i, rows.size());
    EXPECT_EQ(sel->Int(0), rows[i].pid) << i;
    EXPECT_EQ(sel->Text(1), rows[i].code) << i;
    EXPECT_EQ(sel->Text(2), rows[i].system) << i;
    EXPECT_EQ(sel->Int(3), rows[i].rid) << i;
    EXPECT_EQ(sel->Text(4), rows[i].text) << i;
    ++i;
  }
  sel->Reset();
  EXPECT_EQ(i, rows.size());
  db->reset();
  std::filesystem::remove_all(dir);
}

// Two stores take the same writes: one directly, one deferring its index
// rows (as `crs import` does). After FinishBulkLoad, their ix_* tables hold
// the same rows and the same indexes.
class DeferredIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char a[] = "/tmp/crs-direct-XXXXXX";
    char b[] = "/tmp/crs-deferred-XXXXXX";
    direct_dir_ = mkdtemp(a);
    deferred_dir_ = mkdtemp(b);
  }
  void TearDown() override {
    std::filesystem::remove_all(direct_dir_);
    std::filesystem::remove_all(deferred_dir_);
  }

  static std::unique_ptr<Store> Open(const std::string& dir, bool defer) {
    StoreOptions o;
    o.data_dir = dir;
    o.bulk_load = defer;
    o.defer_index = defer;
    auto s = OpenStore(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Creates of Patients p<from>..p<to - 1>, of family "fam<i % families>".
  static std::vector<Write> Created(int from, int to, int families) {
    std::vector<Write> writes;
    for (int i = from; i < to; ++i) {
      writes.push_back(Named("p" + std::to_string(i), 0, "fam" + std::to_string(i % families),
                             Method::kCreate));
    }
    return writes;
  }

  // A Patient whose rows all derive from `family` (and its id).
  static Write Named(const std::string& id, int64_t expected, const std::string& family,
                     Method method) {
    Write w{"Patient", id, expected, 1000, method, "{}", nullptr, nullptr};
    if (method == Method::kDelete || method == Method::kPurge) return w;
    auto e = std::make_shared<fhir::index::IndexEntries>();
    e->resource_type = "Patient";
    e->strings.push_back({"family", family, family + "!"});
    e->strings.push_back({"given", "g" + family, "G" + family});
    e->tokens.push_back({"identifier", "urn:test", id + "-" + family, "t", "", ""});
    e->tokens.push_back(
        {"gender", "http://hl7.org/fhir/administrative-gender", "female", "", "", ""});
    int64_t day = static_cast<int64_t>(family.size()) * 86400000 - 3 * 86400000;
    e->dates.push_back({"birthdate", day, day + 86399999});
    fhir::index::ReferenceRow ref;
    ref.param = "general-practitioner";
    ref.target_type = "Organization";
    ref.target_id = "org-" + family.substr(0, 1);
    e->references.push_back(ref);
    e->uris.push_back({"_profile", "http://example.org/" + family});
    w.index = e;
    return w;
  }

  void CommitBoth(const std::vector<Write>& writes) {
    WriteBatch b;
    b.writes = writes;
    auto r1 = direct_->Commit(b);
    auto r2 = deferred_->Commit(b);
    ASSERT_TRUE(r1.ok()) << r1.status().ToString();
    ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  }

  // Every ix_* row (and the index definitions), as text, from the closed
  // store in `dir`.
  static std::string Dump(const std::string& dir, bool with_runs = false) {
    auto db = sqlite::Db::Open(dir + "/crs.db", /*create=*/false);
    EXPECT_TRUE(db.ok());
    if (!db.ok()) return "";
    std::string out;
    std::vector<std::string> queries = {
        "SELECT pid, norm, exact, rid FROM ix_string ORDER BY 1, 2, 3, 4",
        "SELECT pid, code, system, rid, text FROM ix_token ORDER BY 1, 2, 3, 4, 5",
        "SELECT pid, lo, hi, rid FROM ix_date ORDER BY 1, 2, 3, 4",
        "SELECT pid, tid, ttype, url, rid FROM ix_ref ORDER BY 1, 2, 3, 4, 5",
        "SELECT pid, uri, rid FROM ix_uri ORDER BY 1, 2, 3",
        "SELECT rid, hex(rows) FROM ix_own ORDER BY 1",
        "SELECT name, sql FROM sqlite_schema WHERE type = 'index' ORDER BY name"};
    if (with_runs) {
      queries.push_back("SELECT count(*) FROM ix_runs");
      queries.push_back("SELECT count(*) FROM ix_run_kills");
    }
    for (const auto& q : queries) {
      auto* s = *(*db)->PrepareDynamic(q);
      while (*s->Step()) {
        for (int c = 0; c < 5; ++c) out += std::string(s->Text(c)) + "|";
        out += "\n";
      }
      s->Reset();
      out += "--\n";
    }
    return out;
  }

  void CloseBoth() {
    direct_.reset();
    deferred_.reset();
  }

  std::string direct_dir_, deferred_dir_;
  std::unique_ptr<Store> direct_, deferred_;
};

TEST_F(DeferredIndexTest, MergedRowsAreThoseOfDirectWrites) {
  direct_ = Open(direct_dir_, false);
  deferred_ = Open(deferred_dir_, true);
  ASSERT_TRUE(direct_ && deferred_);
  // Three commits of creates, then updates, deletes and a purge of
  // resources whose rows wait in earlier runs, and of one in the same batch.
  for (int c = 0; c < 3; ++c) {
    std::vector<Write> writes;
    for (int i = 0; i < 50; ++i) {
      std::string id = "p" + std::to_string(c * 50 + i);
      writes.push_back(Named(id, 0, "fam" + std::to_string((i * 7 + c) % 13), Method::kCreate));
    }
    // A row longer than a run reader's buffer (1 MB at most).
    if (c == 1) writes.push_back(Named("long", 0, std::string(1536 * 1024, 'z'), Method::kCreate));
    CommitBoth(writes);
  }
  CommitBoth({Named("p3", 1, "renamed", Method::kUpdate), Named("p60", 1, "", Method::kDelete),
              Named("p149", 7, "", Method::kPurge),
              // rid of the purged p149 may be taken again at once
              Named("q1", 0, "fresh", Method::kCreate),
              Named("q1", 1, "fresher", Method::kUpdate)});
  CommitBoth({Named("p3", 2, "again", Method::kUpdate), Named("p149", 0, "back", Method::kCreate)});

  // Deferred: nothing in the index yet, everything in runs.
  SearchQuery q;
  q.type = "Patient";
  q.want_total = true;
  Predicate p;
  p.param = "family";
  p.table = IndexTable::kString;
  p.any_of.push_back(StringCond{StringCond::Mode::kExact, "again!"});
  q.all_of.push_back(p);
  EXPECT_EQ(direct_->Search(q)->matches.size(), 1u);
  EXPECT_EQ(deferred_->Search(q)->matches.size(), 0u);

  int64_t last_done = -1;
  std::set<std::string> tables;
  ASSERT_TRUE(deferred_
                  ->FinishBulkLoad([&](std::string_view table, int64_t done, int64_t total) {
                    tables.insert(std::string(table));
                    EXPECT_LE(done, total);
                    last_done = done;
                  })
                  .ok());
  EXPECT_EQ(tables,
            (std::set<std::string>{"ix_string", "ix_token", "ix_date", "ix_ref", "ix_uri"}));
  EXPECT_GT(last_done, 0);
  // The merge wrote the file outside the WAL (with a rollback journal): the
  // WAL it left is empty. Through the WAL, it would hold the merged tables.
  std::error_code ec;
  auto wal = std::filesystem::file_size(deferred_dir_ + "/crs.db-wal", ec);
  EXPECT_TRUE(ec || wal == 0) << wal << " bytes of WAL";
  EXPECT_FALSE(std::filesystem::exists(deferred_dir_ + "/crs.db-journal"));
  auto found = deferred_->Search(q);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->matches.size(), 1u);
  EXPECT_EQ(found->matches[0].id, "p3");
  // Back in WAL mode, the store takes writes and audit records as before.
  CommitBoth({Named("after", 0, "later", Method::kCreate)});
  AuditInput record;
  record.time_ms = 1000;
  record.record = R"({"action":"R"})";
  record.patients = {"9000000009"};
  std::promise<Status> audited;
  deferred_->AppendAudit({record}, [&](Status st) { audited.set_value(st); });
  EXPECT_TRUE(audited.get_future().get().ok());
  EXPECT_GT(std::filesystem::file_size(deferred_dir_ + "/crs.db-wal", ec), 0u);
  // A second finish has nothing to do.
  EXPECT_TRUE(deferred_->FinishBulkLoad(nullptr).ok());
  CloseBoth();
  std::string want = Dump(direct_dir_);
  EXPECT_EQ(want.find("|renamed!|"), std::string::npos);  // superseded
  EXPECT_NE(want.find("|fresher!|"), std::string::npos);
  EXPECT_NE(want.find("ix_ref_by_url"), std::string::npos);  // the indexes built after
  EXPECT_EQ(want.find("ix_string_by_rid"), std::string::npos);
  EXPECT_EQ(Dump(deferred_dir_, true), Dump(direct_dir_) + "0|||||\n--\n0|||||\n--\n");
  EXPECT_EQ(Dump(deferred_dir_), want);
  // The file's header says WAL (bytes 18 and 19 are 2; 1 is a rollback
  // journal), whoever opens it next.
  std::ifstream file(deferred_dir_ + "/crs.db", std::ios::binary);
  char header[20] = {};
  ASSERT_TRUE(file.read(header, sizeof header));
  EXPECT_EQ(header[18], 2);
  EXPECT_EQ(header[19], 2);
}

// Another connection reading the file keeps it in WAL mode: the merge goes
// through the WAL instead, and completes.
TEST_F(DeferredIndexTest, AReaderElsewhereMakesTheMergeUseTheWal) {
  direct_ = Open(direct_dir_, false);
  deferred_ = Open(deferred_dir_, true);
  ASSERT_TRUE(direct_ && deferred_);
  CommitBoth(Created(0, 30, 7));
  auto other = sqlite::Db::Open(deferred_dir_ + "/crs.db", /*create=*/false);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Exec("BEGIN").ok());
  auto* read = *(*other)->PrepareDynamic("SELECT count(*) FROM resources");
  ASSERT_TRUE(*read->Step());  // a read transaction, open until COMMIT
  EXPECT_EQ(read->Int(0), 30);
  read->Reset();
  ASSERT_TRUE(deferred_->FinishBulkLoad(nullptr).ok());
  std::error_code ec;
  EXPECT_GT(std::filesystem::file_size(deferred_dir_ + "/crs.db-wal", ec), 0u);
  ASSERT_TRUE((*other)->Exec("COMMIT").ok());
  other->reset();
  CloseBoth();
  EXPECT_EQ(Dump(deferred_dir_, true), Dump(direct_dir_) + "0|||||\n--\n0|||||\n--\n");
}

// A second import into a store that already has rows merges into them, and
// updates rows the first one merged.
TEST_F(DeferredIndexTest, SecondImportMergesIntoAnIndexWithRows) {
  direct_ = Open(direct_dir_, false);
  deferred_ = Open(deferred_dir_, true);
  ASSERT_TRUE(direct_ && deferred_);
  CommitBoth(Created(0, 40, 9));
  ASSERT_TRUE(deferred_->FinishBulkLoad(nullptr).ok());
  deferred_.reset();
  deferred_ = Open(deferred_dir_, true);
  ASSERT_TRUE(deferred_);
  std::vector<Write> second = Created(40, 60, 9);
  for (int i = 0; i < 40; i += 3) {
    second.push_back(
        Named("p" + std::to_string(i), 1, "new" + std::to_string(i % 4), Method::kUpdate));
  }
  CommitBoth(second);
  ASSERT_TRUE(deferred_->FinishBulkLoad(nullptr).ok());
  CloseBoth();
  EXPECT_EQ(Dump(deferred_dir_, true), Dump(direct_dir_) + "0|||||\n--\n0|||||\n--\n");
}

// Runs an interrupted import left are merged by the next store that opens
// the file for anything but a bulk import, before it answers a search.
TEST_F(DeferredIndexTest, RunsLeftBehindAreMergedAtOpen) {
  direct_ = Open(direct_dir_, false);
  deferred_ = Open(deferred_dir_, true);
  ASSERT_TRUE(direct_ && deferred_);
  for (int c = 0; c < 2; ++c) {
    std::vector<Write> writes;
    for (int i = 0; i < 30; ++i) {
      std::string id = "p" + std::to_string(c * 30 + i);
      writes.push_back(Named(id, 0, "fam" + std::to_string(i % 5), Method::kCreate));
    }
    CommitBoth(writes);
  }
  CommitBoth({Named("p1", 1, "later", Method::kUpdate)});
  CloseBoth();  // no FinishBulkLoad: as if the import had stopped
  EXPECT_NE(Dump(deferred_dir_, true), Dump(direct_dir_) + "0|||||\n--\n0|||||\n--\n");
  // A bulk importer opening it leaves the runs (it adds to them).
  deferred_ = Open(deferred_dir_, true);
  deferred_.reset();
  EXPECT_NE(Dump(deferred_dir_, true), Dump(direct_dir_) + "0|||||\n--\n0|||||\n--\n");
  deferred_ = Open(deferred_dir_, false);
  ASSERT_TRUE(deferred_);
  std::error_code ec;
  auto wal = std::filesystem::file_size(deferred_dir_ + "/crs.db-wal", ec);
  EXPECT_TRUE(ec || wal == 0) << wal << " bytes of WAL: merged through it";
  SearchQuery q;
  q.type = "Patient";
  Predicate p;
  p.param = "family";
  p.table = IndexTable::kString;
  p.any_of.push_back(StringCond{StringCond::Mode::kExact, "later!"});
  q.all_of.push_back(p);
  auto found = deferred_->Search(q);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->matches.size(), 1u);
  EXPECT_EQ(found->matches[0].id, "p1");
  deferred_.reset();
  EXPECT_EQ(Dump(deferred_dir_, true), Dump(direct_dir_) + "0|||||\n--\n0|||||\n--\n");
}

}  // namespace
}  // namespace crs::store
