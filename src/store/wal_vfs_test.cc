// The WAL write gathering shim (store/sqlite/wal_vfs.h): a commit's frames
// reach the file in a few writes, other connections read every committed
// frame, and neither a transaction that spills pages before it commits nor
// a process that dies with frames still gathered leaves a broken file.
#include "store/sqlite/wal_vfs.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "store/sqlite/db.h"

namespace crs::store {
namespace {

using sqlite::Db;

std::string TempDir() {
  char tmpl[] = "/tmp/crs-walvfs-XXXXXX";
  return mkdtemp(tmpl);
}

std::unique_ptr<Db> OpenDb(const std::string& path) {
  auto db = Db::Open(path, /*create=*/true);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(*db) : nullptr;
}

// Rows `from`..`to`-1 of table t, each with a 600-byte value derived from
// its key, so every few rows fill a page.
Status InsertRows(Db& db, int from, int to) {
  CRS_ASSIGN_OR_RETURN(auto* ins, db.Prepare("INSERT INTO t (k, v) VALUES (?1, ?2)"));
  for (int k = from; k < to; ++k) {
    const std::string v(600, static_cast<char>('a' + k % 26));  // bound, not copied
    ins->Bind(1, static_cast<int64_t>(k));
    ins->Bind(2, v);
    CRS_RETURN_IF_ERROR(ins->Step().status());
    ins->Reset();
  }
  return Status::Ok();
}

// The number of rows and the sum of their keys, as another connection reads them.
std::pair<int64_t, int64_t> CountAndSum(const std::string& path) {
  auto db = Db::Open(path, /*create=*/false);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return {-1, -1};
  auto* q = *(*db)->Prepare(
      "SELECT count(*), coalesce(sum(k), 0) FROM t WHERE length(v) = 600 AND "
      "substr(v, 600, 1) = char(97 + k % 26)");
  EXPECT_TRUE(*q->Step());
  return {q->Int(0), q->Int(1)};
}

std::string IntegrityCheck(const std::string& path) {
  auto db = Db::Open(path, /*create=*/false);
  if (!db.ok()) return db.status().ToString();
  auto* q = *(*db)->Prepare("PRAGMA integrity_check");
  auto row = q->Step();
  return row.ok() && *row ? std::string(q->Text(0)) : "no answer";
}

TEST(WalVfsTest, ACommitReachesTheFileInAFewWritesAndOthersReadIt) {
  std::string dir = TempDir();
  std::string path = dir + "/t.db";
  auto db = OpenDb(path);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)").ok());
  auto reader = Db::Open(path, /*create=*/false);  // opened before the writes
  ASSERT_TRUE(reader.ok());

  sqlite::WalWriteCounts before = sqlite::WalWrites();
  ASSERT_TRUE(db->Exec("BEGIN").ok());
  ASSERT_TRUE(InsertRows(*db, 0, 1000).ok());  // ~150 pages
  ASSERT_TRUE(db->Exec("COMMIT").ok());
  sqlite::WalWriteCounts after = sqlite::WalWrites();
  int64_t frames = after.sqlite_writes - before.sqlite_writes;
  int64_t writes = after.file_writes - before.file_writes;
  // Two writes per frame from SQLite; one per 64 KB to the file.
  EXPECT_GE(frames, 2 * 140);
  EXPECT_LE(writes, frames / 20) << frames << " SQLite writes";

  auto* q = *(*reader)->Prepare("SELECT count(*), sum(k) FROM t");
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Int(0), 1000);
  EXPECT_EQ(q->Int(1), 999 * 1000 / 2);
  EXPECT_EQ(CountAndSum(path), std::make_pair(int64_t{1000}, int64_t{999 * 1000 / 2}));
  std::filesystem::remove_all(dir);
}

// A tiny page cache makes SQLite write frames before the commit and then
// write some again in place; savepoints roll part of the work back.
TEST(WalVfsTest, SpilledAndRewrittenFramesCommitIntact) {
  std::string dir = TempDir();
  std::string path = dir + "/t.db";
  auto db = OpenDb(path);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("PRAGMA cache_size=8; CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB "
                       "NOT NULL)")
                  .ok());
  ASSERT_TRUE(db->Exec("BEGIN").ok());
  ASSERT_TRUE(InsertRows(*db, 0, 2000).ok());
  ASSERT_TRUE(db->Exec("SAVEPOINT s").ok());
  ASSERT_TRUE(InsertRows(*db, 2000, 3000).ok());
  ASSERT_TRUE(db->Exec("UPDATE t SET v = v WHERE k % 7 = 0").ok());  // rewrites spilled pages
  ASSERT_TRUE(db->Exec("ROLLBACK TO s; RELEASE s").ok());
  ASSERT_TRUE(db->Exec("DELETE FROM t WHERE k % 10 = 0").ok());
  ASSERT_TRUE(db->Exec("COMMIT").ok());
  int64_t count = 0, sum = 0;
  for (int k = 0; k < 2000; ++k) {
    if (k % 10 != 0) ++count, sum += k;
  }
  EXPECT_EQ(CountAndSum(path), std::make_pair(count, sum));
  // A checkpoint copies the frames into the database file.
  ASSERT_TRUE(db->Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  EXPECT_EQ(CountAndSum(path), std::make_pair(count, sum));
  EXPECT_EQ(IntegrityCheck(path), "ok");
  std::filesystem::remove_all(dir);
}

// A process that dies in a transaction, its frames partly gathered and
// partly written (spilled), leaves every committed row and none of the rest.
TEST(WalVfsTest, AProcessDyingMidTransactionLeavesTheCommittedState) {
  std::string dir = TempDir();
  std::string path = dir + "/t.db";
  {
    auto db = OpenDb(path);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)").ok());
  }
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto db = Db::Open(path, /*create=*/false);
    if (!db.ok()) _exit(2);
    if (!(*db)->Exec("BEGIN").ok() || !InsertRows(**db, 0, 500).ok() ||
        !(*db)->Exec("COMMIT").ok()) {
      _exit(3);
    }
    if (!(*db)->Exec("PRAGMA cache_size=8; BEGIN").ok() || !InsertRows(**db, 500, 3000).ok()) {
      _exit(4);
    }
    _exit(0);  // no COMMIT, no close: as kill -9 would leave it
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(CountAndSum(path), std::make_pair(int64_t{500}, int64_t{499 * 500 / 2}));
  EXPECT_EQ(IntegrityCheck(path), "ok");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace crs::store
