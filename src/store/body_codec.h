// Compression of stored resource bodies (zstd). Shared by every backend so
// that `crs copy` can move compressed bytes between stores unchanged.
//
// Thread safety: all functions are safe to call concurrently (per-thread contexts).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace crs::store {

// Compresses `json` at `level` (zstd levels 1..19).
std::string CompressBody(std::string_view json, int level);

// Reverses CompressBody. Internal error (corruption) on malformed input.
Result<std::string> DecompressBody(std::string_view compressed);

}  // namespace crs::store
