// Turning one imported resource into a store write, exactly as an HTTP PUT
// of it would (api::PrepareUpdate: validation, Patient NHS-number rules,
// name/address history, meta stamping, search-index rows, access facts).
//
// Thread safety: pure over the store's reads; callable from any thread.
#pragma once

#include <optional>
#include <string>

#include "api/interactions.h"
#include "core/status.h"
#include "import/inputs.h"
#include "store/store.h"

namespace crs::import {

struct PreparedImport {
  // Absent when the stored current version already holds this resource
  // (apart from meta.versionId and meta.lastUpdated): re-importing it would
  // only add a version, so nothing is written.
  std::optional<store::Write> write;
  int64_t version = 0;  // the version written (or the current one when unchanged)
  std::string patient;  // the patient it concerns (AccessFacts::patient), "" if none
};

// Prepares `entry` as a PUT to entry.type/entry.id by `env.author_org`. An
// existing Patient is updated as if If-Match named its current version.
// Errors are the PUT's (Invalid for an invalid resource or NHS number, ...).
Result<PreparedImport> PrepareImport(api::Env& env, Entry entry);

}  // namespace crs::import
