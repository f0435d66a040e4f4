// The FHIR REST API: the http::Handler that serves /fhir and the service
// endpoints (/healthz, /readyz, /metrics).
//
// Thread safety: the handler is shared by all I/O and worker threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "access/policy.h"
#include "access/sensitive.h"
#include "core/time.h"
#include "http/server.h"
#include "nhs/nhs_number.h"
#include "store/store.h"

namespace crs::api {

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
};

// Creates the handler. `store` and `clock` must outlive it.
std::unique_ptr<http::Handler> NewFhirHandler(store::Store& store, const Clock& clock,
                                              const ApiOptions& options);

}  // namespace crs::api
