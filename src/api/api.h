// The FHIR REST API: the http::Handler that serves /fhir and the service
// endpoints (/healthz, /readyz, /metrics).
//
// Thread safety: the handler is shared by all I/O and worker threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "access/policy.h"
#include "access/sensitive.h"
#include "core/time.h"
#include "http/server.h"
#include "nhs/nhs_number.h"
#include "store/store.h"

namespace crs::api {

// The federated $everything (docs/federation.md): the records a node holds
// for a patient, as the pointers the caller may see name them.
struct HolderRecords {
  std::string ods;                // the custodian's ODS code
  std::vector<std::string> urls;  // the pointers' content.attachment.url
};
struct FetchedRecord {
  std::string ods, url;
  std::string body;  // the holder's JSON
};
struct FederatedRecords {
  std::vector<FetchedRecord> records;
  std::vector<std::pair<std::string, std::string>> unanswered;  // ODS code, reason
};

// GP2GP record transfer (docs/federation.md, "GP2GP"), provided by a
// linked local node's federation layer. Each returns FHIR JSON (a
// Parameters resource) or a Status that maps onto the response.
struct TransferHooks {
  // New practice: start a transfer of `nhs`'s record from practice `from`.
  std::function<Result<std::string>(const std::string& nhs, const std::string& from)> request;
  // Either practice: the patient's transfers on this node.
  std::function<Result<std::string>(const std::string& nhs)> list;
  // Old practice: chunk `chunk` of transfer `id` for practice `to`.
  std::function<Result<std::string>(const std::string& to, const std::string& nhs,
                                    const std::string& id, int64_t chunk)>
      release;
  // Old practice: practice `from`'s outcome of transfer `id`.
  std::function<Status(const std::string& from, const std::string& nhs, const std::string& id,
                       const std::string& outcome, const std::string& reason)>
      acknowledge;
};

// A demo user the UI's sign-in page offers (crs serve --demo).
struct DemoUser {
  std::string id;     // token `sub`, e.g. demo-gp
  std::string label;  // what the sign-in page shows
  std::string name, role, org, patient;
};

struct ApiOptions {
  // Absolute base URL used in Location, fullUrl and links (e.g.
  // "https://crs.example.org/fhir"). Empty: derived from the Host header.
  std::string base_url;
  int default_page_size = 50;
  int max_page_size = 1000;
  // Deepest JSON nesting accepted in a request body.
  int max_json_depth = 64;
  // Most entries accepted in one batch/transaction Bundle.
  int max_bundle_entries = 10000;
  // Verifies a request's Authorization header value and returns the caller
  // it names (Unauthenticated on failure). Every /fhir request goes through
  // it; `crs serve` always sets it. Unset: no access control (only for
  // tests of the layers below access).
  std::function<Result<access::Caller>(std::string_view authorization)> authenticate;
  access::PolicyOptions policy;
  // Audit every /fhir request (set by `crs serve`; tests of lower layers may
  // turn it off). The node id names this node in AuditEvent.source.
  bool audit = false;
  // Extract search-index rows on every write. Off only for the create
  // benchmark's baseline (`crs serve --benchmark-baseline-without-search-
  // index`, bench/run.sh): what indexing costs a create, measured in the
  // same run. Resources written so are found by no search until `crs
  // reindex`.
  bool search_index = true;
  std::string node_id = "opencrs";
  // A user opening more distinct patients than this in an hour raises a
  // "volume" alert (0: never).
  int volume_alert_patients_per_hour = 100;
  // Where NHS numbers for Patients created without one come from
  // (docs/demographics.md).
  nhs::NhsNumberRange nhs_number_range = nhs::kTestNhsNumberRange;
  // SNOMED CT codes whose items are never held in a Summary Care Record
  // (docs/summary.md); `crs serve --sensitive-codes FILE` replaces the list.
  access::SensitiveCodes sensitive_codes = access::SensitiveCodes::Default();
  // The audit keys GET /fhir/AuditEvent/$verify trusts (raw Ed25519 public
  // keys, audit/signing.h LoadAuditPublicKeys).
  std::vector<std::string> audit_public_keys;
  // The web UI (docs/ui.md): the directory of its built files, served at /
  // (empty: no UI).
  std::string ui_dir;
  // Demo mode only (crs serve --demo): the users the UI's sign-in page
  // offers, and a function minting a token for one of them by id. Empty
  // outside demo mode, and then /demo/... does not exist.
  std::vector<DemoUser> demo_users;
  std::function<Result<std::string>(const DemoUser& user)> mint_demo_token;
  // National node: fetches records from their holders for
  // $everything?_federated=true, sending `headers` (the caller's
  // Authorization and access headers) with every request; returns within
  // the per-node timeout. Unset: the node does not fan out (400).
  std::function<FederatedRecords(const std::vector<HolderRecords>& holders,
                                 const std::vector<std::pair<std::string, std::string>>& headers)>
      fan_out;
  // Linked local nodes (docs/federation.md, "Consent on local nodes"): this
  // node's organisation, the issuers of the national node's users' tokens,
  // and a patient's consent state as the national node records it
  // (Unavailable when it cannot be known). When set, national users of
  // other organisations see a patient's data here only as the patient's
  // consent allows, and only for the patients their request names.
  std::string org;
  std::vector<std::string> national_issuers;
  std::function<Result<access::ConsentState>(std::string_view patient)> national_consent;
  // Linked local nodes: GP2GP transfers (unset: the operations answer 400).
  TransferHooks transfers;
};

// Creates the handler. `store` and `clock` must outlive it.
std::unique_ptr<http::Handler> NewFhirHandler(store::Store& store, const Clock& clock,
                                              const ApiOptions& options);

}  // namespace crs::api
