#include "store/body_codec.h"

#include <zstd.h>

#include <algorithm>
#include <array>
#include <memory>
#include <mutex>

// The dictionary (tools/gen_body_dictionary.py), embedded at build time.
extern "C" const char crs_body_dictionary[];
extern "C" const unsigned long crs_body_dictionary_size;

namespace crs::store {
namespace {

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Digested once and shared by every thread (ZSTD_CDict and ZSTD_DDict are
// read-only once created); never freed.
const ZSTD_DDict* Ddict() {
  static const ZSTD_DDict* d = ZSTD_createDDict(crs_body_dictionary, crs_body_dictionary_size);
  return d;
}

constexpr int kMaxLevel = 22;  // ZSTD_maxCLevel() of every zstd 1.x

const ZSTD_CDict* Cdict(int level) {
  static std::array<std::once_flag, kMaxLevel + 1> once;
  static std::array<const ZSTD_CDict*, kMaxLevel + 1> dicts{};
  std::call_once(once[level], [level] {
    dicts[level] = ZSTD_createCDict(crs_body_dictionary, crs_body_dictionary_size, level);
  });
  return dicts[level];
}

}  // namespace

unsigned BodyDictionaryId() {
  return ZSTD_getDictID_fromDict(crs_body_dictionary, crs_body_dictionary_size);
}

std::string CompressBody(std::string_view json, int level) {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  const ZSTD_CDict* dict = Cdict(std::clamp(level, 1, kMaxLevel));
  std::string out;
  out.resize(ZSTD_compressBound(json.size()));
  size_t n = dict != nullptr
                 ? ZSTD_compress_usingCDict(ctx.get(), out.data(), out.size(), json.data(),
                                            json.size(), dict)
                 : ZSTD_compressCCtx(ctx.get(), out.data(), out.size(), json.data(),
                                     json.size(), level);
  // ZSTD_compressBound guarantees room, so failure here means a broken library.
  if (ZSTD_isError(n)) return std::string();
  out.resize(n);
  return out;
}

Result<std::string> DecompressBody(std::string_view compressed) {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  unsigned long long size = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1ull << 31)) {
    return Status::Internal("stored body is corrupt (bad zstd frame)");
  }
  // Frames name their dictionary; 0 for bodies stored before it existed.
  unsigned dict_id = ZSTD_getDictID_fromFrame(compressed.data(), compressed.size());
  if (dict_id != 0 && dict_id != BodyDictionaryId()) {
    return Status::Internal("stored body names an unknown compression dictionary");
  }
  std::string out;
  out.resize(size);
  size_t n = dict_id != 0
                 ? ZSTD_decompress_usingDDict(ctx.get(), out.data(), out.size(),
                                              compressed.data(), compressed.size(), Ddict())
                 : ZSTD_decompressDCtx(ctx.get(), out.data(), out.size(), compressed.data(),
                                       compressed.size());
  if (ZSTD_isError(n) || n != size) {
    return Status::Internal("stored body is corrupt (zstd)");
  }
  return out;
}

}  // namespace crs::store
