// A thin layer over SQLite's own page cache (pcache1) that skips the
// truncations at the end of a write transaction which can drop nothing
// (docs/storage.md, "Page cache").
//
// At every commit SQLite asks the page cache to drop the pages past the end
// of the database (xTruncate). pcache1 answers from the largest page number
// it has ever been given, which it never lowers on its own. When a B-tree
// page splits, SQLite puts the new pages in file order by swapping their
// numbers through a temporary one, the lock-byte page at 1 GB (page 262145
// at 4 KB pages). For a database under 1 GB that temporary number lies past
// its end, so after any commit that swapped pages pcache1 walked its whole
// hash table, every page it held: on the writer, whose cache holds up to
// 512 MB, that was a fifth of its CPU once the cache had filled.
//
// This layer keeps its own bound on the page numbers a cache may hold: the
// largest created, not counting numbers pages were moved to and moved off
// again. A truncation at or below that bound, or below a page still moved,
// goes to pcache1; one above it has nothing to drop and is skipped. The
// bound may be high (pcache1 may have evicted the page), never low, so no
// page is kept that SQLite asked to drop.
//
// Thread safety: installed once, before SQLite initialises; each cache is
// used under its connection, as pcache1's own are.
#pragma once

#include <cstdint>

struct sqlite3_pcache_methods2;

namespace crs::store::sqlite {

// Installs the layer (idempotent). Must run before SQLite initialises; if
// something initialised it earlier the call is refused and SQLite keeps its
// default cache. Returns whether the layer is installed.
bool InstallPageCache();

// Truncations handed to pcache1 and truncations skipped, process-wide: for
// tests and benchmarks.
struct PageCacheCounts {
  int64_t truncates_forwarded = 0;
  int64_t truncates_skipped = 0;
};
PageCacheCounts PageCacheTruncates();

// The layer's methods, to drive a cache of it directly in tests (SQLite
// must be initialised first).
const sqlite3_pcache_methods2& PageCacheLayerForTesting();

}  // namespace crs::store::sqlite
