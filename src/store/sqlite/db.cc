#include "store/sqlite/db.h"

#include <mutex>

#include <sqlite3.h>

#include "store/sqlite/audit_pblk.h"
#include "store/sqlite/own_rows.h"
#include "store/sqlite/page_cache.h"
#include "store/sqlite/wal_vfs.h"

namespace crs::store::sqlite {

Status SqliteStatus(int rc, std::string_view what, sqlite3* db) {
  std::string msg(what);
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status(Code::kRetryable, msg);
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return Status::Unavailable(msg);
    case SQLITE_CONSTRAINT:
      return Status::Conflict(msg);
    default:
      return Status::Internal(msg);
  }
}

Stmt::~Stmt() { sqlite3_finalize(s_); }

void Stmt::Reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}
void Stmt::Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
void Stmt::Bind(int i, std::string_view t) {
  sqlite3_bind_text(s_, i, t.data(), static_cast<int>(t.size()), SQLITE_STATIC);
}
void Stmt::BindBlob(int i, std::string_view b) {
  sqlite3_bind_blob(s_, i, b.data(), static_cast<int>(b.size()), SQLITE_STATIC);
}
void Stmt::BindNull(int i) { sqlite3_bind_null(s_, i); }
void Stmt::BindDouble(int i, double v) { sqlite3_bind_double(s_, i, v); }

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteStatus(rc, "sqlite step", sqlite3_db_handle(s_));
}

Status EachRow(Stmt* s, const std::function<void(const Stmt&)>& fn) {
  while (true) {
    auto row = s->Step();
    if (!row.ok()) {
      s->Reset();
      return row.status();
    }
    if (!*row) break;
    fn(*s);
  }
  s->Reset();
  return Status::Ok();
}

int64_t Stmt::Int(int col) const { return sqlite3_column_int64(s_, col); }
double Stmt::Double(int col) const { return sqlite3_column_double(s_, col); }
std::string_view Stmt::Text(int col) const {
  const char* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  return p ? std::string_view(p, sqlite3_column_bytes(s_, col)) : std::string_view();
}
std::string_view Stmt::Blob(int col) const {
  const char* p = static_cast<const char*>(sqlite3_column_blob(s_, col));
  return p ? std::string_view(p, sqlite3_column_bytes(s_, col)) : std::string_view();
}
bool Stmt::IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
bool Stmt::IsInt(int col) const { return sqlite3_column_type(s_, col) == SQLITE_INTEGER; }
bool Stmt::IsReal(int col) const { return sqlite3_column_type(s_, col) == SQLITE_FLOAT; }

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, bool create, int page_size) {
  // SQLite's memory statistics take a process-wide mutex on every malloc and
  // free, which the writer and every reader thread then contend for; nothing
  // here reads them. Must precede SQLite's initialisation (the first open);
  // if something initialised it earlier the call is refused, harmlessly.
  // The page-cache layer (page_cache.h) likewise goes in before it.
  static std::once_flag configured;
  std::call_once(configured, [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    InstallPageCache();
  });
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  // After the sqlite3_config above: finding the default VFS initialises SQLite.
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, WalVfsName());
  std::unique_ptr<Db> db(new Db(raw));
  if (rc != SQLITE_OK) return SqliteStatus(rc, "open " + path, raw);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  // The audit log's patient index reads as the table `audit_patient`.
  rc = RegisterAuditPatientTable(raw);
  if (rc != SQLITE_OK) return SqliteStatus(rc, "register audit_patient", raw);
  // A resource's own index rows read as tables (own_rows.h).
  rc = RegisterOwnRowFunctions(raw);
  if (rc != SQLITE_OK) return SqliteStatus(rc, "register crs_ix_* functions", raw);
  // Before journal_mode=WAL, which writes the first page of a new file.
  if (page_size > 0) {
    CRS_RETURN_IF_ERROR(db->Exec("PRAGMA page_size=" + std::to_string(page_size) + ";"));
  }
  // WAL: readers never wait for the writer. synchronous=FULL: every commit
  // is fsynced, so an acknowledged write survives power loss.
  // secure_delete: a deleted row's bytes are overwritten, not left in the
  // page's free space, so a purge (a dissenting patient's summary data)
  // erases them from the file. Debian's build has it on by default, others
  // not; attached files take the main file's setting.
  CRS_RETURN_IF_ERROR(db->Exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;"
      "PRAGMA secure_delete=ON;"
      "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32000; PRAGMA mmap_size=1073741824;"));
  return db;
}

Status Db::Attach(const std::string& path, const std::string& name) {
  sqlite3_stmt* raw = nullptr;
  std::string sql = "ATTACH DATABASE ?1 AS " + name;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(raw, 1, path.data(), static_cast<int>(path.size()), SQLITE_TRANSIENT);
    rc = sqlite3_step(raw);
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  sqlite3_finalize(raw);
  if (rc != SQLITE_OK) return SqliteStatus(rc, "attach " + path, db_);
  return Exec("PRAGMA " + name + ".journal_mode=WAL; PRAGMA " + name + ".synchronous=FULL; PRAGMA " +
              name + ".cache_size=-32000; PRAGMA " + name + ".mmap_size=1073741824;");
}

Db::~Db() {
  cache_.clear();  // statements must be finalised before the connection closes
  dynamic_cache_.clear();
  sqlite3_close_v2(db_);
}

Status Db::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return SqliteStatus(rc, "exec: " + msg, nullptr);
  }
  return Status::Ok();
}

Result<Stmt*> Db::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(rc, "prepare", db_);
  auto stmt = std::make_unique<Stmt>(s);
  Stmt* p = stmt.get();
  cache_.emplace(sql, std::move(stmt));
  return p;
}

Result<Stmt*> Db::PrepareDynamic(const std::string& sql) {
  auto it = dynamic_cache_.find(sql);
  if (it != dynamic_cache_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  if (dynamic_cache_.size() >= 256) dynamic_cache_.clear();
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(rc, "prepare", db_);
  auto stmt = std::make_unique<Stmt>(s);
  Stmt* p = stmt.get();
  dynamic_cache_.emplace(sql, std::move(stmt));
  return p;
}

int64_t Db::Changes() const { return sqlite3_changes64(db_); }

void Db::SetBusyTimeout(int ms) { sqlite3_busy_timeout(db_, ms); }

int64_t Db::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

}  // namespace crs::store::sqlite
