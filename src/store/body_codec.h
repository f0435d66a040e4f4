// Compression of stored resource bodies (zstd). Shared by every backend so
// that `crs copy` can move compressed bytes between stores unchanged.
//
// Thread safety: all functions are safe to call concurrently (per-thread contexts).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace crs::store {

// Compresses `json` at `level` (zstd levels 1..22; outside, the nearest)
// with the built-in dictionary (src/store/data/body_dictionary.zdict,
// tools/gen_body_dictionary.py): resources share most of their keys, system
// URLs and codes, which a 1 KB body alone cannot amortise. The frame names
// the dictionary by its id.
std::string CompressBody(std::string_view json, int level);

// Reverses CompressBody; also reads frames without a dictionary (bodies
// stored before schema 10 / PostgreSQL 8). Internal error (corruption) on
// malformed input or a frame naming another dictionary.
Result<std::string> DecompressBody(std::string_view compressed);

// The built-in dictionary's id (0x43525301, "CRS" 1).
unsigned BodyDictionaryId();

}  // namespace crs::store
