// Turning one imported resource into a store write, exactly as an HTTP PUT
// of it would (api::PrepareUpdate: validation, Patient NHS-number rules,
// name/address history, meta stamping, search-index rows, access facts).
//
// Thread safety: pure over the store's reads; callable from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/interactions.h"
#include "api/summary_upload.h"
#include "core/status.h"
#include "import/inputs.h"
#include "store/store.h"

namespace crs::import {

struct PreparedImport {
  // What to write: one version, or for a Summary Care Record document the
  // stored summary and its Provenance. Empty when the stored current
  // version already holds this resource (apart from meta.versionId and
  // meta.lastUpdated): re-importing it would only add a version.
  std::vector<store::Write> writes;
  std::string type;     // of the first write (the entry's own type, or Bundle for a summary)
  std::string id;       // of the first write (for a summary: scr-<nhs>)
  int64_t version = 0;  // the version written (or the current one when unchanged)
  std::string patient;  // the patient it concerns (AccessFacts::patient), "" if none
  bool summary = false; // a Summary Care Record upload (docs/import.md)
};

// Prepares `entry` as a PUT to entry.type/entry.id by `env.author_org`. An
// existing Patient is updated as if If-Match named its current version.
// Errors are the PUT's (Invalid for an invalid resource or NHS number, ...).
//
// A `document` Bundle that is a Summary Care Record upload
// (api::IsSummaryUpload) is prepared as the upload would be
// (api::PrepareSummary with `summary_rules` and `pending`): it becomes Bundle/scr-<nhs>
// and Provenance/scr-<nhs>, or is refused (e.g. Forbidden when the
// patient's stored consent withholds it).
Result<PreparedImport> PrepareImport(api::Env& env, const api::SummaryUploadRules& summary_rules,
                                     Entry entry, const api::SummaryPending* pending = nullptr);

// The patient a Summary Care Record upload names, when `entry` is one.
std::optional<std::string> SummaryPatient(const Entry& entry);

}  // namespace crs::import
