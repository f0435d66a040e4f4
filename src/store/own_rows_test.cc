// A resource's own index rows in one blob (store/sqlite/own_rows.h): the
// encoding, the crs_ix_* table functions, and the writer keeping each blob
// equal to the resource's rows in the value tables through creates, updates
// (several of one resource in one group commit), deletes and purges.
#include "store/sqlite/own_rows.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cfloat>
#include <climits>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fhir/index/index_entries.h"
#include "store/sqlite/db.h"
#include "store/store.h"

namespace crs::store {
namespace {

using sqlite::OwnField;
using sqlite::OwnTable;

// A row as text: "table:f0,f1,..." with reals printed exactly.
std::string Show(OwnTable t, const OwnField* f) {
  std::string s = std::string(sqlite::OwnTableName(t)) + ":";
  const char* kinds = sqlite::OwnKinds(t);
  for (int i = 0; kinds[i] != '\0'; ++i) {
    if (i > 0) s += ",";
    switch (f[i].kind) {
      case OwnField::kInt: s += std::to_string(f[i].i); break;
      case OwnField::kReal: {
        char b[40];
        snprintf(b, sizeof b, "%.17g", f[i].d);
        s += b;
        break;
      }
      case OwnField::kNull: s += "NULL"; break;
      case OwnField::kText: s += "'" + std::string(f[i].s) + "'"; break;
    }
  }
  return s;
}

std::vector<std::string> Rows(std::string_view blob, bool* ok) {
  std::vector<std::string> out;
  *ok = sqlite::ForEachOwnRow(blob, [&](OwnTable t, const OwnField* f) {
    out.push_back(Show(t, f));
  });
  return out;
}

// One row of every table, added in mixed order.
std::string EveryTable(std::vector<std::string>* want) {
  const std::string nul("a\0b", 3);
  sqlite::OwnRowsBuilder b;
  auto add = [&](OwnTable t, std::vector<OwnField> f) { b.Add(t, f.data()); };
  add(sqlite::kOwnUri, {OwnField::Int(7), OwnField::Text("urn:x")});
  add(sqlite::kOwnString, {OwnField::Int(1), OwnField::Text("smith"), OwnField::Text("Smith")});
  add(sqlite::kOwnNumber,
      {OwnField::Int(3), OwnField::Null(), OwnField::Real(-1.5), OwnField::Real(DBL_MAX)});
  add(sqlite::kOwnToken, {OwnField::Int(2), OwnField::Text(""), OwnField::Text(nul),
                          OwnField::Text("\xc3\xa9t\xc3\xa9"), OwnField::Text("s"),
                          OwnField::Text("c")});
  add(sqlite::kOwnString, {OwnField::Int(-1), OwnField::Text(""), OwnField::Text("")});
  add(sqlite::kOwnDate, {OwnField::Int(4), OwnField::Int(INT64_MIN), OwnField::Int(INT64_MAX)});
  add(sqlite::kOwnQuantity, {OwnField::Int(5), OwnField::Text("http://unitsofmeasure.org"),
                             OwnField::Text("mg"), OwnField::Text("mg"), OwnField::Real(4.5),
                             OwnField::Real(4.45), OwnField::Real(4.55)});
  add(sqlite::kOwnRef, {OwnField::Int(6), OwnField::Text("p1"), OwnField::Text("Patient"),
                        OwnField::Text("")});
  add(sqlite::kOwnGeo, {OwnField::Int(INT64_MAX), OwnField::Real(51.5), OwnField::Real(-0.1),
                        OwnField::Real(0.6), OwnField::Real(-0.0), OwnField::Real(0.8)});
  *want = {"ix_string:1,'smith','Smith'",
           "ix_string:-1,'',''",
           "ix_token:2,'','" + nul + "','\xc3\xa9t\xc3\xa9','s','c'",
           "ix_date:4,-9223372036854775808,9223372036854775807",
           "ix_number:3,NULL,-1.5,1.7976931348623157e+308",
           "ix_quantity:5,'http://unitsofmeasure.org','mg','mg',4.5,4.4500000000000002,"
           "4.5499999999999998",
           "ix_ref:6,'p1','Patient',''",
           "ix_uri:7,'urn:x'",
           "ix_geo:9223372036854775807,51.5,-0.10000000000000001,0.59999999999999998,-0,"
           "0.80000000000000004"};
  return b.Finish();
}

TEST(OwnRowsTest, RowsComeBackByTableInTheOrderAdded) {
  std::vector<std::string> want;
  std::string blob = EveryTable(&want);
  bool ok = false;
  EXPECT_EQ(Rows(blob, &ok), want);
  EXPECT_TRUE(ok);
  sqlite::OwnRowsBuilder empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.Finish(), "");
  EXPECT_TRUE(Rows("", &ok).empty());
  EXPECT_TRUE(ok);
}

TEST(OwnRowsTest, DamagedBlobsAreErrorsNeverRows) {
  std::vector<std::string> want;
  std::string blob = EveryTable(&want);
  // Every cut of the blob: rows before the cut decode, then the damage is
  // reported, unless the cut falls between two rows.
  size_t boundaries = 0;
  for (size_t cut = 1; cut < blob.size(); ++cut) {
    bool ok = true;
    std::vector<std::string> rows = Rows(std::string_view(blob).substr(0, cut), &ok);
    ASSERT_LE(rows.size(), want.size());
    for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i], want[i]) << cut;
    if (ok) ++boundaries;
  }
  EXPECT_EQ(boundaries, want.size());  // cut after the version byte and after each row but the last
  bool ok = true;
  std::string bad = blob;
  bad[0] = 2;  // an unknown version
  EXPECT_TRUE(Rows(bad, &ok).empty());
  EXPECT_FALSE(ok);
  bad = blob;
  bad[1] = static_cast<char>(sqlite::kOwnTables);  // an unknown table
  Rows(bad, &ok);
  EXPECT_FALSE(ok);
  EXPECT_FALSE(sqlite::ForEachOwnRow(std::string("\x01\x00") + std::string(11, '\x80'),
                                     [](OwnTable, const OwnField*) {}));
  // Random bytes: whatever decodes, nothing reads past the end (run under
  // the sanitizers by `make test-asan`).
  std::mt19937 rng(11);
  for (int i = 0; i < 2000; ++i) {
    std::string junk(1 + rng() % 40, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    junk[0] = 1;
    Rows(junk, &ok);
  }
}

class OwnRowsSqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/crs-own-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto db = sqlite::Db::Open(dir_ + "/t.db", /*create=*/true);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Exec("CREATE TABLE ix_own (rid INTEGER PRIMARY KEY, rows BLOB);"
                          "CREATE TABLE t (rid INTEGER PRIMARY KEY)")
                    .ok());
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Put(int64_t rid, const std::string& blob) {
    auto* s = *db_->Prepare("INSERT OR REPLACE INTO ix_own VALUES (?1, ?2)");
    s->Bind(1, rid);
    s->BindBlob(2, blob);
    ASSERT_TRUE(s->Step().ok());
    s->Reset();
  }
  // The rows of `sql` (its first `columns` columns joined by '|', rows by
  // ' '), or "error: ...".
  std::string Query(const std::string& sql, int columns = 1) {
    auto s = db_->PrepareDynamic(sql);
    if (!s.ok()) return "error: " + s.status().message();
    std::string out;
    for (;;) {
      auto row = (*s)->Step();
      if (!row.ok()) {
        (*s)->Reset();
        return "error: " + row.status().message();
      }
      if (!*row) break;
      if (!out.empty()) out += " ";
      for (int c = 0; c < columns; ++c) {
        out += (c ? "|" : "") +
               ((*s)->IsNull(c) ? std::string("NULL") : std::string((*s)->Text(c)));
      }
    }
    (*s)->Reset();
    return out;
  }

  std::string dir_;
  std::unique_ptr<sqlite::Db> db_;
};

std::string Blob(std::initializer_list<std::pair<OwnTable, std::vector<OwnField>>> rows) {
  sqlite::OwnRowsBuilder b;
  for (const auto& [t, f] : rows) b.Add(t, f.data());
  return b.Finish();
}

TEST_F(OwnRowsSqlTest, EachFunctionReadsItsTablesRowsOfTheBlobGiven) {
  Put(1, Blob({{sqlite::kOwnString, {OwnField::Int(5), OwnField::Text("smith"),
                                      OwnField::Text("Smith")}},
               {sqlite::kOwnToken, {OwnField::Int(2), OwnField::Text("female"),
                                     OwnField::Text("http://g"), OwnField::Text(""),
                                     OwnField::Text(""), OwnField::Text("")}}}));
  Put(2, Blob({{sqlite::kOwnToken, {OwnField::Int(3), OwnField::Text("b"), OwnField::Text("s"),
                                     OwnField::Text(""), OwnField::Text(""), OwnField::Text("")}},
               {sqlite::kOwnToken, {OwnField::Int(3), OwnField::Text("a"), OwnField::Text("s"),
                                     OwnField::Text("t"), OwnField::Text(""), OwnField::Text("")}},
               {sqlite::kOwnNumber, {OwnField::Int(4), OwnField::Null(), OwnField::Real(1),
                                      OwnField::Real(2)}}}));
  Put(3, Blob({{sqlite::kOwnString, {OwnField::Int(5), OwnField::Text("jones"),
                                      OwnField::Text("Jones")}}}));
  ASSERT_TRUE(db_->Exec("INSERT INTO ix_own VALUES (4, NULL); INSERT INTO t VALUES (1), (2), (3), (4)").ok());
  EXPECT_EQ(Query("SELECT x.pid, x.code, x.system, x.text FROM ix_own o, crs_ix_token(o.rows) x "
                  "WHERE o.rid = 2 ORDER BY 1, 2",
                  4),
            "3|a|s|t 3|b|s|");
  // Only the table's own rows: rid 1's string row is not a token.
  EXPECT_EQ(Query("SELECT x.code FROM ix_own o, crs_ix_token(o.rows) x WHERE o.rid = 1"),
            "female");
  EXPECT_EQ(Query("SELECT count(*) FROM ix_own o, crs_ix_string(o.rows) x WHERE o.rid = 2"), "0");
  // pid conditions, which the function applies itself.
  EXPECT_EQ(Query("SELECT group_concat(x.code) FROM ix_own o, crs_ix_token(o.rows) x "
                  "WHERE o.rid IN (1, 2) AND x.pid IN (2, 3)"),
            "female,b,a");
  EXPECT_EQ(Query("SELECT count(*) FROM ix_own o, crs_ix_token(o.rows) x "
                  "WHERE o.rid = 2 AND x.pid = 2"),
            "0");
  EXPECT_EQ(Query("SELECT count(*) FROM ix_own o, crs_ix_token(o.rows) x "
                  "WHERE o.rid = 2 AND x.pid = 3.0"),
            "2");
  // Correlated, as search checks a candidate.
  EXPECT_EQ(Query("SELECT group_concat(t.rid) FROM t WHERE EXISTS (SELECT 1 FROM ix_own o, "
                  "crs_ix_string(o.rows) x WHERE o.rid = t.rid AND x.pid = 5 AND x.norm >= 'smi' "
                  "AND x.norm < 'smj')"),
            "1");
  EXPECT_EQ(Query("SELECT group_concat(t.rid) FROM t WHERE NOT EXISTS (SELECT 1 FROM ix_own o, "
                  "crs_ix_string(o.rows) x WHERE o.rid = t.rid AND x.pid = 5)"),
            "2,4");
  // min() over the rows (a _sort key) and a NULL value.
  EXPECT_EQ(Query("SELECT (SELECT min(x.code) FROM ix_own o, crs_ix_token(o.rows) x "
                  "WHERE o.rid = t.rid AND x.pid = 3) FROM t WHERE t.rid = 2"),
            "a");
  EXPECT_EQ(Query("SELECT x.val IS NULL, x.lo, x.hi FROM ix_own o, crs_ix_number(o.rows) x "
                  "WHERE o.rid = 2",
                  3),
            "1|1.0|2.0");
  // The function first in the FROM list: SQLite still reads ix_own first.
  EXPECT_EQ(Query("SELECT x.exact FROM crs_ix_string(o.rows) x, ix_own o WHERE o.rid = 3"),
            "Jones");
  // Without a blob there is nothing to read: no plan, not an empty answer.
  EXPECT_NE(Query("SELECT count(*) FROM crs_ix_string x").find("error"), std::string::npos);
}

TEST_F(OwnRowsSqlTest, ADamagedBlobFailsTheStatement) {
  std::string blob = Blob({{sqlite::kOwnString, {OwnField::Int(5), OwnField::Text("smith"),
                                                 OwnField::Text("Smith")}}});
  Put(1, blob.substr(0, blob.size() - 2));
  std::string r = Query("SELECT count(*) FROM ix_own o, crs_ix_string(o.rows) x WHERE o.rid = 1");
  EXPECT_NE(r.find("error"), std::string::npos) << r;
}

// The writer: after any mix of writes, each resource's blob lists exactly
// its rows in the value tables.
class OwnRowsWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/crs-ownw-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A Patient with rows of every table, drawn from `seed`.
  static Write Patient(const std::string& id, int64_t expected, unsigned seed, Method method) {
    Write w{"Patient", id, expected, 1000, method, "{}", nullptr, nullptr};
    if (method == Method::kDelete || method == Method::kPurge) return w;
    std::mt19937 rng(seed);
    auto e = std::make_shared<fhir::index::IndexEntries>();
    e->resource_type = "Patient";
    auto word = [&] { return std::string(1, static_cast<char>('a' + rng() % 3)); };
    for (int i = rng() % 4; i > 0; --i) e->strings.push_back({"family", word(), word()});
    for (int i = rng() % 3; i > 0; --i) e->tokens.push_back({"identifier", "s", word(), "", "", ""});
    for (int i = rng() % 2; i > 0; --i) e->dates.push_back({"birthdate", 86400000, 172799999});
    for (int i = rng() % 3; i > 0; --i) {
      fhir::index::NumberRow n;
      n.param = "_test-number";
      if (rng() % 2) n.value = static_cast<double>(rng() % 3);
      n.low = 0;
      n.high = static_cast<double>(rng() % 2);
      e->numbers.push_back(n);
    }
    for (int i = rng() % 2; i > 0; --i) {
      fhir::index::QuantityRow q;
      q.param = "_test-quantity";
      q.system = "u";
      q.code = word();
      q.unit = "mg";
      q.value = 1.5;
      q.low = 1.45;
      q.high = 1.55;
      e->quantities.push_back(q);
    }
    for (int i = rng() % 2; i > 0; --i) {
      fhir::index::ReferenceRow r;
      r.param = "general-practitioner";
      r.target_type = "Organization";
      r.target_id = word();
      e->references.push_back(r);
    }
    for (int i = rng() % 2; i > 0; --i) e->uris.push_back({"_profile", "urn:" + word()});
    w.index = e;
    return w;
  }

  // Per rid, the sorted rows of the value tables, and of the blobs.
  void Compare() {
    auto db = sqlite::Db::Open(dir_ + "/crs.db", /*create=*/false);
    ASSERT_TRUE(db.ok());
    std::map<int64_t, std::multiset<std::string>> tables, blobs;
    for (int t = 0; t < sqlite::kOwnTables; ++t) {
      auto table = static_cast<OwnTable>(t);
      const char* kinds = sqlite::OwnKinds(table);
      std::string cols;
      for (size_t i = 0; kinds[i] != '\0'; ++i) {
        cols += std::string(i ? ", " : "") + sqlite::OwnColumns(table)[i];
      }
      auto* s = *(*db)->PrepareDynamic("SELECT rid, " + cols + " FROM " +
                                       sqlite::OwnTableName(table));
      while (*s->Step()) {
        OwnField f[sqlite::kMaxOwnFields];
        std::vector<std::string> texts(8);
        for (int i = 0; kinds[i] != '\0'; ++i) {
          if (s->IsNull(i + 1)) {
            f[i] = OwnField::Null();
          } else if (kinds[i] == 'i') {
            f[i] = OwnField::Int(s->Int(i + 1));
          } else if (kinds[i] == 't') {
            texts[i] = std::string(s->Text(i + 1));
            f[i] = OwnField::Text(texts[i]);
          } else {
            f[i] = OwnField::Real(s->Double(i + 1));
          }
        }
        tables[s->Int(0)].insert(Show(table, f));
      }
      s->Reset();
    }
    auto* s = *(*db)->Prepare("SELECT rid, rows FROM ix_own");
    while (*s->Step()) {
      bool ok = sqlite::ForEachOwnRow(s->Blob(1), [&](OwnTable t, const OwnField* f) {
        blobs[s->Int(0)].insert(Show(t, f));
      });
      EXPECT_TRUE(ok);
    }
    s->Reset();
    EXPECT_EQ(tables, blobs);
    EXPECT_FALSE(tables.empty());
  }

  std::string dir_;
};

TEST_F(OwnRowsWriterTest, BlobsListExactlyTheRowsInTheTables) {
  StoreOptions o;
  o.data_dir = dir_;
  auto store = OpenStore(o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::mt19937 rng(5);
  struct State {
    int64_t version = 0;  // 0: absent (never written, or purged)
    bool deleted = false;
  };
  std::map<std::string, State> state;
  int updates = 0, repeats = 0;
  for (int round = 0; round < 60; ++round) {
    WriteBatch b;
    std::set<std::string> in_batch;
    for (int i = 0; i < 8; ++i) {
      std::string id = "p" + std::to_string(rng() % 12);
      State& st = state[id];
      unsigned pick = rng() % 10;
      Method m = st.version == 0 ? Method::kCreate
                 : st.deleted || pick < 6 ? Method::kUpdate
                 : pick < 8               ? Method::kDelete
                                          : Method::kPurge;
      b.writes.push_back(Patient(id, st.version, static_cast<unsigned>(rng()), m));
      updates += m == Method::kUpdate;
      repeats += !in_batch.insert(id).second;
      st.version = m == Method::kPurge ? 0 : st.version + 1;
      st.deleted = m == Method::kDelete;
    }
    auto r = (*store)->Commit(b);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  EXPECT_GT(updates, 100);
  EXPECT_GT(repeats, 50);  // a resource written twice in one group commit
  store->reset();
  Compare();
}

}  // namespace
}  // namespace crs::store
