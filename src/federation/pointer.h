// Record-locator pointers (docs/federation.md): what a local node tells the
// national node about the detailed records it holds.
//
// A pointer is a DocumentReference on the national node whose subject is
// the patient's NHS number, whose custodian is the local organisation and
// whose attachment URL reads the record on the local node. Its id is in the
// producer's namespace, "<ODS>-<Type>-<id>", so publishing it again (a PUT
// of the same id) replaces it instead of adding a second one.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/store.h"

namespace crs::federation {

// Identifies the record a pointer stands for: masterIdentifier.system,
// with the value "<Type>/<id>" on the custodian's node.
inline constexpr std::string_view kRecordIdSystem = "urn:opencrs:record";

// Whether a resource of `type` is a detailed record that gets a pointer:
// Encounter, DocumentReference, CarePlan, DiagnosticReport, ImagingStudy.
bool IsRecordType(std::string_view type);

// The pointer id of record type/id published by organisation `ods`:
// "<ODS>-<Type>-<id>", or, when that would exceed FHIR's 64 characters,
// "<ODS>-h-" and 40 hex digits of SHA-256("<Type>/<id>").
std::string PointerId(std::string_view ods, std::string_view type, std::string_view id);

// What a record's version asks of the national node.
struct PointerOp {
  std::string id;    // pointer id
  bool remove = false;  // delete the pointer (the record was deleted or lost its patient)
  std::string body;  // the pointer's JSON when !remove
};

// The pointer operation for `version` of a record held by `ods`, whose FHIR
// base URL on the local node is `local_base` (no trailing slash); nullopt
// for a type that gets no pointers. A record without exactly one patient
// with a valid NHS number removes its pointer (if any). The pointer copies
// the record's meta.security, so sealed records stay sealed nationally.
std::optional<PointerOp> PointerFor(const store::ResourceVersion& version, std::string_view ods,
                                    std::string_view local_base);

}  // namespace crs::federation
