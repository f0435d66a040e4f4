// The page-cache layer (store/sqlite/page_cache.h): a truncation that must
// drop pages reaches SQLite's cache, one that can drop nothing does not, and
// a database written through it (page splits, rollbacks, savepoints) stays
// whole.
#include "store/sqlite/page_cache.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "store/sqlite/db.h"

namespace crs::store {
namespace {

using sqlite::Db;

std::string TempDir() {
  char tmpl[] = "/tmp/crs-pcache-XXXXXX";
  return mkdtemp(tmpl);
}

// SQLite's temporary number for a page being swapped (the lock-byte page at
// 1 GB, for 4 KB pages).
constexpr unsigned kSwapKey = 0x40000000 / 4096 + 1;

class LayerCache {
 public:
  LayerCache() : m_(sqlite::PageCacheLayerForTesting()) {
    c_ = m_.xCreate(4096, 64, 1);
    m_.xCachesize(c_, 1000);
  }
  ~LayerCache() { m_.xDestroy(c_); }

  // Creates page `key` holding `mark` and unpins it.
  void Put(unsigned key, char mark) {
    sqlite3_pcache_page* p = m_.xFetch(c_, key, 2);
    ASSERT_NE(p, nullptr);
    std::memset(p->pBuf, mark, 16);
    m_.xUnpin(c_, p, 0);
  }
  // The mark of page `key`, or 0 if the cache does not hold it.
  char Mark(unsigned key) {
    sqlite3_pcache_page* p = m_.xFetch(c_, key, 0);
    if (p == nullptr) return 0;
    char mark = static_cast<char>(static_cast<unsigned char*>(p->pBuf)[0]);
    m_.xUnpin(c_, p, 0);
    return mark;
  }
  // Moves page `from` to number `to`, as SQLite's pager does.
  void Move(unsigned from, unsigned to) {
    sqlite3_pcache_page* p = m_.xFetch(c_, from, 0);
    ASSERT_NE(p, nullptr);
    m_.xRekey(c_, p, from, to);
    m_.xUnpin(c_, p, 0);
  }
  void Truncate(unsigned limit) { m_.xTruncate(c_, limit); }

 private:
  const sqlite3_pcache_methods2& m_;
  sqlite3_pcache* c_;
};

class PageCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Db::Open installs the layer before SQLite initialises.
    dir_ = TempDir();
    auto db = Db::Open(dir_ + "/t.db", /*create=*/true);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(sqlite::InstallPageCache());
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  int64_t Skipped() const { return sqlite::PageCacheTruncates().truncates_skipped; }
  int64_t Forwarded() const { return sqlite::PageCacheTruncates().truncates_forwarded; }

  std::string dir_;
  std::unique_ptr<Db> db_;
};

TEST_F(PageCacheTest, PagesAtOrPastTheLimitAreDropped) {
  LayerCache cache;
  for (unsigned k = 1; k <= 10; ++k) cache.Put(k, static_cast<char>('a' + k));
  int64_t forwarded = Forwarded();
  cache.Truncate(6);
  EXPECT_EQ(Forwarded(), forwarded + 1);
  EXPECT_EQ(cache.Mark(5), 'a' + 5);
  EXPECT_EQ(cache.Mark(6), 0);
  EXPECT_EQ(cache.Mark(10), 0);
  // Created again past the limit after that: dropped by the next truncation.
  cache.Put(20, 'z');
  cache.Truncate(6);
  EXPECT_EQ(Forwarded(), forwarded + 2);
  EXPECT_EQ(cache.Mark(20), 0);
  EXPECT_EQ(cache.Mark(5), 'a' + 5);
}

TEST_F(PageCacheTest, APageLeftAtAHighNumberIsDropped) {
  LayerCache cache;
  for (unsigned k = 1; k <= 5; ++k) cache.Put(k, static_cast<char>('a' + k));
  cache.Move(3, kSwapKey);
  int64_t forwarded = Forwarded();
  cache.Truncate(6);
  EXPECT_EQ(Forwarded(), forwarded + 1);
  EXPECT_EQ(cache.Mark(kSwapKey), 0);
  EXPECT_EQ(cache.Mark(3), 0);
  EXPECT_EQ(cache.Mark(4), 'a' + 4);
}

// What a B-tree balance does: pages 1 and 2 swap numbers through the
// temporary one. Nothing is past the limit afterwards, so pcache1 is not
// asked to walk its pages.
TEST_F(PageCacheTest, ASwapThroughTheTemporaryNumberLeavesNothingToDrop) {
  LayerCache cache;
  for (unsigned k = 1; k <= 5; ++k) cache.Put(k, static_cast<char>('a' + k));
  cache.Truncate(6);  // nothing past 5: skipped from the start
  int64_t forwarded = Forwarded(), skipped = Skipped();
  cache.Move(1, kSwapKey);
  cache.Move(2, 1);
  cache.Move(kSwapKey, 2);
  cache.Truncate(6);
  EXPECT_EQ(Forwarded(), forwarded);
  EXPECT_EQ(Skipped(), skipped + 1);
  EXPECT_EQ(cache.Mark(1), 'a' + 2);
  EXPECT_EQ(cache.Mark(2), 'a' + 1);
  EXPECT_EQ(cache.Mark(5), 'a' + 5);
}

// Random inserts into an index split pages, and each split swaps page
// numbers through the temporary one; the commits that follow skip the
// truncation. Rollbacks of transactions that grew the file, and savepoint
// rollbacks, leave a database that is whole and holds exactly the committed
// rows.
TEST_F(PageCacheTest, CommitsAfterPageSplitsSkipAndTheDatabaseStaysWhole) {
  ASSERT_TRUE(db_->Exec("PRAGMA cache_size=-65536; CREATE TABLE t (k INTEGER NOT NULL, v TEXT NOT "
                        "NULL, PRIMARY KEY (k, v)) WITHOUT ROWID")
                  .ok());
  auto* ins = *db_->Prepare("INSERT INTO t (k, v) VALUES (?1, ?2)");
  std::mt19937_64 rng(7);
  int64_t committed = 0, sum = 0;
  auto insert = [&](int n, bool count) {
    for (int i = 0; i < n; ++i) {
      int64_t k = static_cast<int64_t>(rng() % 1000000000);
      const std::string v(40, static_cast<char>('a' + k % 26));  // bound, not copied
      ins->Bind(1, k);
      ins->Bind(2, v);
      auto r = ins->Step();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ins->Reset();
      if (count) ++committed, sum += k;
    }
  };
  int64_t skipped = Skipped();
  for (int round = 0; round < 40; ++round) {
    ASSERT_TRUE(db_->Exec("BEGIN").ok());
    insert(300, true);
    if (round % 5 == 1) {
      ASSERT_TRUE(db_->Exec("SAVEPOINT s").ok());
      insert(2000, false);
      ASSERT_TRUE(db_->Exec("ROLLBACK TO s; RELEASE s").ok());
    }
    ASSERT_TRUE(db_->Exec("COMMIT").ok());
    if (round % 7 == 3) {  // grows the file, then gives it back
      ASSERT_TRUE(db_->Exec("BEGIN").ok());
      insert(3000, false);
      ASSERT_TRUE(db_->Exec("ROLLBACK").ok());
    }
  }
  EXPECT_GE(Skipped() - skipped, 20);

  auto other = Db::Open(dir_ + "/t.db", /*create=*/false);
  ASSERT_TRUE(other.ok());
  for (Db* db : {db_.get(), other->get()}) {
    auto* q = *db->Prepare("SELECT count(*), sum(k) FROM t WHERE length(v) = 40");
    ASSERT_TRUE(*q->Step());
    EXPECT_EQ(q->Int(0), committed);
    EXPECT_EQ(q->Int(1), sum);
  }
  auto* check = *(*other)->Prepare("PRAGMA integrity_check");
  ASSERT_TRUE(*check->Step());
  EXPECT_EQ(std::string(check->Text(0)), "ok");
}

}  // namespace
}  // namespace crs::store
