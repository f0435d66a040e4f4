// Turning an uploaded Summary Care Record document into the two writes the
// national node keeps (docs/summary.md): `Bundle/scr-<nhs>` and
// `Provenance/scr-<nhs>`, after the consent and validation rules. Shared by
// the upload (`POST /fhir/Bundle`, api/summary.cc) and `crs import`, so a
// summary loaded in bulk goes through exactly what an upload goes through.
//
// Thread safety: reads the store only; callable from any thread.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "access/consent.h"
#include "access/sensitive.h"
#include "api/interactions.h"
#include "api/summary_doc.h"
#include "core/status.h"
#include "store/store.h"

namespace crs::api {

// Whether a document Bundle is a Summary Care Record upload: its Composition
// is a "General Practice Summary" -- or it has no Composition first, which
// the upload refuses with the NHS API's "Composition missing" answer.
bool IsSummaryUpload(const boost::json::object& bundle);

// The answer when the patient's consent withholds their summary (Forbidden,
// ACCESS_DENIED), worded for the consent model.
Status SummaryWithheld(access::ConsentModel model);

// The patient's consent decisions as stored (`Consent` resources that name
// them by reference or NHS-number identifier; the latest per policy decides).
Result<access::ConsentState> StoredConsent(store::Store& store, std::string_view patient);
// The same decisions before they are decided, each with its lastUpdated.
Result<std::vector<std::pair<access::ConsentDecision, int64_t>>> StoredConsentDecisions(
    store::Store& store, std::string_view patient);

struct SummaryUploadRules {
  const access::SensitiveCodes* sensitive = nullptr;  // required
  access::ConsentModel model = access::ConsentModel::kImplied;
  // A national node applies the patient's consent; elsewhere (a practice's
  // own node) everything but sensitive items is kept.
  bool national = true;
  std::string org;   // the author organisation named in the Provenance ("" unknown)
  std::string user;  // the enterer named in the Provenance ("" none)
};

struct PreparedSummary {
  std::string nhs;
  BuiltSummary built;  // the counts of what was kept and left out (its document moved into `bundle`)
  Prepared bundle;     // Bundle/scr-<nhs>, a new version
  Prepared provenance; // Provenance/scr-<nhs>, naming that version
};

// What a bulk load has prepared but not yet committed for the patient
// (crs import): PrepareSummary takes it as if it were stored.
struct SummaryPending {
  bool patient = false;  // the Patient is being written
  std::vector<std::pair<access::ConsentDecision, int64_t>> consents;  // newer than any stored
};

// Validates `upload` and prepares its writes against the store's current
// state (and `pending`, when given). Errors carry Spine codes: Invalid (BuildSummary's checks, an
// invalid NHS number), NotFound RESOURCE_NOT_FOUND (the patient is not
// known), Forbidden ACCESS_DENIED (the patient's consent withholds the
// summary), or the store's.
Result<PreparedSummary> PrepareSummary(Env& env, const boost::json::value& upload,
                                       const SummaryUploadRules& rules,
                                       const SummaryPending* pending = nullptr);

}  // namespace crs::api
