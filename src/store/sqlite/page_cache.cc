#include "store/sqlite/page_cache.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <new>
#include <vector>

namespace crs::store::sqlite {
namespace {

// SQLite's cache, as it was before this layer went over it, and the layer.
sqlite3_pcache_methods2 inner_methods;
sqlite3_pcache_methods2 layer_methods;
std::atomic<int64_t> forwarded{0};
std::atomic<int64_t> skipped{0};

struct Cache {
  sqlite3_pcache* inner = nullptr;
  // At least every page number created in this cache, apart from the
  // numbers in `moved`.
  unsigned max_key = 0;
  // Numbers above max_key that a page was moved to and not yet moved off
  // (at most one, for the length of a B-tree balance).
  std::vector<unsigned> moved;

  bool Holds(unsigned key) const { return std::find(moved.begin(), moved.end(), key) != moved.end(); }
};

Cache* Of(sqlite3_pcache* p) { return reinterpret_cast<Cache*>(p); }

int Init(void* arg) { return inner_methods.xInit ? inner_methods.xInit(arg) : SQLITE_OK; }

void Shutdown(void* arg) {
  if (inner_methods.xShutdown) inner_methods.xShutdown(arg);
}

sqlite3_pcache* Create(int page_size, int extra, int purgeable) {
  sqlite3_pcache* inner = inner_methods.xCreate(page_size, extra, purgeable);
  if (inner == nullptr) return nullptr;
  Cache* c = new (std::nothrow) Cache;
  if (c == nullptr) {
    inner_methods.xDestroy(inner);
    return nullptr;
  }
  c->inner = inner;
  return reinterpret_cast<sqlite3_pcache*>(c);
}

void Cachesize(sqlite3_pcache* p, int pages) { inner_methods.xCachesize(Of(p)->inner, pages); }

int Pagecount(sqlite3_pcache* p) { return inner_methods.xPagecount(Of(p)->inner); }

sqlite3_pcache_page* Fetch(sqlite3_pcache* p, unsigned key, int create) {
  Cache* c = Of(p);
  sqlite3_pcache_page* page = inner_methods.xFetch(c->inner, key, create);
  if (page != nullptr && key > c->max_key && !c->Holds(key)) c->max_key = key;
  return page;
}

void Unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  inner_methods.xUnpin(Of(p)->inner, page, discard);
}

void Rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  Cache* c = Of(p);
  inner_methods.xRekey(c->inner, page, old_key, new_key);
  auto it = std::find(c->moved.begin(), c->moved.end(), old_key);
  if (it != c->moved.end()) c->moved.erase(it);
  if (new_key > c->max_key && !c->Holds(new_key)) c->moved.push_back(new_key);
}

void Truncate(sqlite3_pcache* p, unsigned limit) {
  Cache* c = Of(p);
  bool none = limit > c->max_key &&
              std::none_of(c->moved.begin(), c->moved.end(), [&](unsigned k) { return k >= limit; });
  if (none) {
    skipped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  forwarded.fetch_add(1, std::memory_order_relaxed);
  inner_methods.xTruncate(c->inner, limit);
  // Every page numbered `limit` or above is gone.
  if (limit == 0) {
    c->max_key = 0;
    c->moved.clear();
    return;
  }
  c->max_key = std::min(c->max_key, limit - 1);
  c->moved.erase(std::remove_if(c->moved.begin(), c->moved.end(), [&](unsigned k) { return k >= limit; }),
                 c->moved.end());
}

void Destroy(sqlite3_pcache* p) {
  Cache* c = Of(p);
  inner_methods.xDestroy(c->inner);
  delete c;
}

void Shrink(sqlite3_pcache* p) { inner_methods.xShrink(Of(p)->inner); }

}  // namespace

bool InstallPageCache() {
  static const bool installed = [] {
    if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &inner_methods) != SQLITE_OK) return false;
    if (inner_methods.xCreate == nullptr) return false;
    layer_methods = {inner_methods.iVersion, inner_methods.pArg, Init, Shutdown, Create,
                     Cachesize, Pagecount, Fetch, Unpin, Rekey, Truncate, Destroy, Shrink};
    return sqlite3_config(SQLITE_CONFIG_PCACHE2, &layer_methods) == SQLITE_OK;
  }();
  return installed;
}

PageCacheCounts PageCacheTruncates() {
  return {forwarded.load(std::memory_order_relaxed), skipped.load(std::memory_order_relaxed)};
}

const sqlite3_pcache_methods2& PageCacheLayerForTesting() { return layer_methods; }

}  // namespace crs::store::sqlite
