// A thin RAII wrapper over sqlite3: a connection and cached prepared
// statements. The only place besides sqlite_store.cc that sees sqlite3.h.
//
// Thread safety: a Db (and its statements) is used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace crs::store::sqlite {

class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Resets and clears bindings; call before reuse.
  void Reset();
  void Bind(int i, int64_t v);
  void Bind(int i, std::string_view text);
  void BindDouble(int i, double v);
  void BindBlob(int i, std::string_view bytes);
  void BindNull(int i);
  // Steps once: true when a row is available, false when done.
  Result<bool> Step();
  int64_t Int(int col) const;
  double Double(int col) const;
  std::string_view Text(int col) const;
  std::string_view Blob(int col) const;
  bool IsNull(int col) const;
  bool IsInt(int col) const;
  bool IsReal(int col) const;

 private:
  sqlite3_stmt* s_;
};

// Steps `s` through every row, calling `fn` on each, then resets it.
Status EachRow(Stmt* s, const std::function<void(const Stmt&)>& fn);

class Db {
 public:
  // How long a statement waits for another connection's lock before it
  // fails with SQLITE_BUSY (sqlite3_busy_timeout), unless set otherwise.
  static constexpr int kBusyTimeoutMs = 10000;

  // Opens `path` (creating it when `create`). Applies the connection pragmas.
  // `page_size` (bytes, 0: SQLite's default, 4096) applies to a file that
  // has no page yet; an existing file keeps its own.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, bool create,
                                          int page_size = 0);
  ~Db();

  // Attaches the database file `path` as schema `name` (created if missing)
  // with the same pragmas as the main file (WAL, synchronous=FULL, cache, mmap).
  Status Attach(const std::string& path, const std::string& name);

  // Executes one or more statements without results.
  Status Exec(std::string_view sql);
  // A cached prepared statement for `sql` (reset and ready to bind). `sql`
  // must be a string with static storage: the cache is keyed by its address,
  // which keeps the lookup off the read path's profile.
  Result<Stmt*> Prepare(const char* sql);
  // A prepared statement for generated SQL, cached by its text (the cache is
  // emptied when it grows past a bound).
  Result<Stmt*> PrepareDynamic(const std::string& sql);
  int64_t LastInsertRowid() const;
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes() const;
  sqlite3* raw() { return db_; }
  void SetBusyTimeout(int ms);

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<const char*, std::unique_ptr<Stmt>> cache_;
  std::unordered_map<std::string, std::unique_ptr<Stmt>> dynamic_cache_;
};

// Translates an SQLite result code into our Status (BUSY/LOCKED → Retryable,
// FULL/IOERR → Unavailable, CONSTRAINT → Conflict, else Internal).
Status SqliteStatus(int rc, std::string_view what, sqlite3* db);

}  // namespace crs::store::sqlite
