// The wire format of a GP2GP transfer (docs/federation.md, "GP2GP"): how the
// old practice's records become resources on the new practice's node.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"

namespace crs::federation {

// meta.tag system naming where a transferred record came from; the code is
// "<old practice ODS>|<Type>/<id there>".
inline constexpr std::string_view kTransferredFromSystem = "urn:opencrs:transferred-from";

// The id record `id` of practice `from` gets on the new practice's node:
// "<from>-<id>", or, when longer than FHIR's 64 characters, "<from>-h-" and
// 40 hex digits of SHA-256(id). Deterministic, so a retry writes the same
// resource, and namespaced, so it never collides with the new practice's
// own ids or another practice's.
std::string TransferredId(std::string_view from, std::string_view id);

// Rewrites one record (JSON text) of practice `from` for the new practice:
// its id becomes TransferredId, references to records in `manifest` (pairs
// of type and id) follow them, meta.versionId/lastUpdated are dropped (the
// receiver stamps its own), and meta.tag carries kTransferredFromSystem
// (replacing the tag of any earlier transfer). Invalid when `body` is not a
// JSON object.
Result<std::string> ForTransfer(std::string_view body, std::string_view from,
                                std::string_view type,
                                const std::set<std::pair<std::string, std::string>>& manifest);

// The record a transferred resource (JSON object text) came from: the old
// practice's ODS code and "Type/id" there; nullopt when it was not
// transferred.
std::optional<std::pair<std::string, std::string>> TransferredFrom(std::string_view body);

}  // namespace crs::federation
