// Server-assigned resource ids and request ids.
//
// Thread safety: NewId() is safe to call concurrently (per-thread generators).
#pragma once

#include <string>

namespace crs {

// A random version-4 UUID in lower-case text form, e.g.
// "3f2b8c1e-9a4d-4f6e-8b2a-1c5d7e9f0a3b" (a valid FHIR id: 36 chars).
std::string NewId();

}  // namespace crs
