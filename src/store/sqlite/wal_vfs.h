// A VFS shim over SQLite's default (unix) VFS that gathers the writes to a
// WAL file in memory and hands them to the file in one write when SQLite
// syncs it, reads it, or needs its size (docs/storage.md, "WAL writes").
//
// SQLite writes each WAL frame with two pwrite calls (its 24-byte header,
// then the page), so a group commit that dirtied 200 pages made 400 system
// calls, each of which also touched the file's timestamps and took the
// filesystem's journal handle. Gathered, the group's frames take one.
//
// Correct only for connections that sync the WAL at every commit
// (synchronous=FULL, which Db::Open sets): SQLite publishes a commit to
// other connections after that sync, by which time the frames are in the
// file. A connection that never syncs would publish frames still in the
// buffer. Every other file (databases, journals) is the unix VFS's own.
//
// Thread safety: a file is used by one connection at a time, as SQLite's
// own files are; the counters are atomic.
#pragma once

#include <cstdint>

namespace crs::store::sqlite {

// The shim's name, registered on first use (not as the default VFS).
const char* WalVfsName();

// Writes the shim handed to WAL files (underlying writes) and the writes
// SQLite made to them: for tests and benchmarks.
struct WalWriteCounts {
  int64_t file_writes = 0;
  int64_t sqlite_writes = 0;
};
WalWriteCounts WalWrites();

}  // namespace crs::store::sqlite
