// JSON Patch (RFC 6902) over JSON Pointers (RFC 6901), for the FHIR PATCH
// interaction with Content-Type application/json-patch+json.
//
// Thread safety: a pure function; safe to call from any thread.
#pragma once

#include <boost/json/fwd.hpp>

#include "core/status.h"

namespace crs::fhir {

// Applies `patch` (a JSON array of operation objects) to `document` and returns
// the patched document as a new value. The operations are applied in order;
// the patch is atomic: if any operation fails, an error is returned and no
// partial result escapes (`document` itself is never modified).
//
// Supports add, remove, replace, move, copy and test, pointer escapes ~0 and
// ~1, array indexes and "-" (the end of an array, valid only as the last token
// of an add/move/copy target). Members of an operation that RFC 6902 does not
// define are ignored. `test` compares values structurally, numbers by numeric
// value (1 equals 1.0), objects regardless of member order.
//
// Errors:
//   Invalid (400)       the patch document is malformed: not an array, an
//                       element that is not an object, a missing or unknown
//                       "op", a missing or non-string "path"/"from", a missing
//                       "value", or a pointer that is not RFC 6901 syntax
//                       (no leading '/', '~' not followed by 0 or 1). The whole
//                       patch is checked before any operation is applied.
//   Unprocessable (422) a well-formed operation cannot be applied to this
//                       document: a target or its parent does not exist, a
//                       pointer traverses a string/number/bool/null, an array
//                       index is out of range or not a canonical number, "-"
//                       is used where an existing element is needed, a move
//                       into its own child, removing the whole document, or a
//                       failing `test`.
// Messages name the operation (0-based) and the pointer; they never echo
// values from the document.
//
// Recursion depth is bounded by the depth of `document` and of the values in
// `patch`; callers parse untrusted input with a depth limit.
Result<boost::json::value> ApplyJsonPatch(const boost::json::value& document,
                                          const boost::json::value& patch);

}  // namespace crs::fhir
