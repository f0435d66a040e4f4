#include "store/sqlite/wal_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

namespace crs::store::sqlite {
namespace {

// Gathered bytes beyond this go to the file before more are taken: a group
// commit writes a few hundred frames (~1-2 MB); a bulk import's may write
// far more.
constexpr size_t kBufferCap = size_t{4} << 20;

std::atomic<int64_t> g_file_writes{0};
std::atomic<int64_t> g_sqlite_writes{0};

sqlite3_vfs g_vfs;
sqlite3_vfs* g_root = nullptr;

// A WAL file: our methods first, then the unix VFS's file object (in the
// memory SQLite allocated for us: szOsFile covers both).
struct WalFile {
  sqlite3_file base;
  sqlite3_file* real;
  std::string* pending;  // bytes not yet written (null until a first write)
  sqlite3_int64 pending_at;  // the file offset of pending[0]
};

WalFile* Wal(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }
const sqlite3_io_methods* Real(WalFile* w) { return w->real->pMethods; }

// The unix VFS writes at most 128 KB - 1 per call (it masks the length to
// 17 bits), so larger writes go in pieces of this size.
constexpr size_t kWriteChunk = size_t{64} << 10;

int WriteThrough(WalFile* w, const char* data, size_t amount, sqlite3_int64 offset) {
  for (size_t done = 0; done < amount; done += kWriteChunk) {
    size_t n = std::min(kWriteChunk, amount - done);
    g_file_writes.fetch_add(1, std::memory_order_relaxed);
    int rc = Real(w)->xWrite(w->real, data + done, static_cast<int>(n),
                             offset + static_cast<sqlite3_int64>(done));
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

// Writes what is pending. The bytes are dropped even when the write fails:
// SQLite fails the transaction they belong to and writes those frames again.
int Flush(WalFile* w) {
  if (w->pending == nullptr || w->pending->empty()) return SQLITE_OK;
  int rc = WriteThrough(w, w->pending->data(), w->pending->size(), w->pending_at);
  w->pending->clear();
  return rc;
}

int Write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  WalFile* w = Wal(f);
  g_sqlite_writes.fetch_add(1, std::memory_order_relaxed);
  try {
    if (w->pending == nullptr) w->pending = new std::string();
    std::string& p = *w->pending;
    const auto end = w->pending_at + static_cast<sqlite3_int64>(p.size());
    // Within the pending bytes or right after them (SQLite appends frames,
    // and rewrites a frame of the open transaction in place).
    if (!p.empty() && offset >= w->pending_at && offset <= end &&
        static_cast<size_t>(offset - w->pending_at) + amount <= kBufferCap) {
      size_t at = static_cast<size_t>(offset - w->pending_at);
      if (at + amount > p.size()) p.resize(at + amount);
      std::memcpy(&p[at], data, amount);
      return SQLITE_OK;
    }
    int rc = Flush(w);
    if (rc != SQLITE_OK) return rc;
    if (static_cast<size_t>(amount) >= kBufferCap) {
      return WriteThrough(w, static_cast<const char*>(data), amount, offset);
    }
    w->pending_at = offset;
    p.assign(static_cast<const char*>(data), amount);
    return SQLITE_OK;
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  }
}

int Close(sqlite3_file* f) {
  WalFile* w = Wal(f);
  int flushed = Flush(w);
  int rc = Real(w)->xClose(w->real);
  delete w->pending;
  w->pending = nullptr;
  return flushed != SQLITE_OK ? flushed : rc;
}

// Everything that looks at the file sees the pending bytes in it first.
int Read(sqlite3_file* f, void* data, int amount, sqlite3_int64 offset) {
  WalFile* w = Wal(f);
  int rc = Flush(w);
  return rc != SQLITE_OK ? rc : Real(w)->xRead(w->real, data, amount, offset);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  WalFile* w = Wal(f);
  int rc = Flush(w);
  return rc != SQLITE_OK ? rc : Real(w)->xTruncate(w->real, size);
}
int Sync(sqlite3_file* f, int flags) {
  WalFile* w = Wal(f);
  int rc = Flush(w);
  return rc != SQLITE_OK ? rc : Real(w)->xSync(w->real, flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  WalFile* w = Wal(f);
  int rc = Flush(w);
  return rc != SQLITE_OK ? rc : Real(w)->xFileSize(w->real, size);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  WalFile* w = Wal(f);
  int rc = Flush(w);
  return rc != SQLITE_OK ? rc : Real(w)->xFileControl(w->real, op, arg);
}

// The rest as the unix file does it.
int Lock(sqlite3_file* f, int level) { return Real(Wal(f))->xLock(Wal(f)->real, level); }
int Unlock(sqlite3_file* f, int level) { return Real(Wal(f))->xUnlock(Wal(f)->real, level); }
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(Wal(f))->xCheckReservedLock(Wal(f)->real, out);
}
int SectorSize(sqlite3_file* f) { return Real(Wal(f))->xSectorSize(Wal(f)->real); }
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(Wal(f))->xDeviceCharacteristics(Wal(f)->real);
}
// Version 1 methods: SQLite maps shared memory through the database file,
// never the WAL, and reads a WAL without mmap.
const sqlite3_io_methods kWalMethods = {
    1,           Close,  Read,   Write,           Truncate,    Sync,       FileSize,
    Lock,        Unlock, CheckReservedLock, FileControl, SectorSize, DeviceCharacteristics,
    nullptr,     nullptr, nullptr, nullptr,         nullptr,     nullptr,
};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  if ((flags & SQLITE_OPEN_WAL) == 0) return g_root->xOpen(g_root, name, f, flags, out_flags);
  WalFile* w = Wal(f);
  w->real = reinterpret_cast<sqlite3_file*>(w + 1);
  w->pending = nullptr;
  w->pending_at = 0;
  w->real->pMethods = nullptr;
  int rc = g_root->xOpen(g_root, name, w->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (w->real->pMethods != nullptr) w->real->pMethods->xClose(w->real);
    f->pMethods = nullptr;
    return rc;
  }
  f->pMethods = &kWalMethods;
  return SQLITE_OK;
}

}  // namespace

const char* WalVfsName() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_root = sqlite3_vfs_find(nullptr);
    g_vfs = *g_root;  // the unix VFS's other methods, and their pAppData
    g_vfs.pNext = nullptr;
    g_vfs.zName = "crs-wal";
    g_vfs.szOsFile =
        std::max(g_root->szOsFile, static_cast<int>(sizeof(WalFile)) + g_root->szOsFile);
    g_vfs.xOpen = Open;
    sqlite3_vfs_register(&g_vfs, /*makeDflt=*/0);
  });
  return g_vfs.zName;
}

WalWriteCounts WalWrites() {
  return {g_file_writes.load(std::memory_order_relaxed),
          g_sqlite_writes.load(std::memory_order_relaxed)};
}

}  // namespace crs::store::sqlite
