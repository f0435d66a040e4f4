#include "store/body_codec.h"

#include <zstd.h>

#include <memory>

namespace crs::store {
namespace {

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

}  // namespace

std::string CompressBody(std::string_view json, int level) {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  std::string out;
  out.resize(ZSTD_compressBound(json.size()));
  size_t n = ZSTD_compressCCtx(ctx.get(), out.data(), out.size(), json.data(), json.size(), level);
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
  std::string out;
  out.resize(size);
  size_t n = ZSTD_decompressDCtx(ctx.get(), out.data(), out.size(), compressed.data(),
                                 compressed.size());
  if (ZSTD_isError(n) || n != size) {
    return Status::Internal("stored body is corrupt (zstd)");
  }
  return out;
}

}  // namespace crs::store
