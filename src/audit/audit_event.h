// Renders audit records as FHIR R4 AuditEvent resources, for
// GET /fhir/AuditEvent (a patient sees who looked at their record, when,
// from which organisation and role, what, and why).
//
// Mapping (docs/audit.md): id = the record's seq; type = audit-event-type
// `rest`; subtype = the FHIR restful-interaction; action C/R/U/D/E; recorded
// = the record's time; outcome 0 (allowed), 4 (refused), 8 (server error);
// agent[0] = the user (requestor), with role and purposeOfUse (justification
// as its text); agent[1] = the user's organisation; source.observer = this
// node; entity = each patient (role Patient), each resource (Domain
// Resource) and the search query (Query); the patient entities carry the
// access context as detail (justification, break-glass, permission to view,
// self-claimed relationship, alerts, request and correlation ids).
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "audit/record.h"
#include "core/status.h"
#include "store/store.h"

namespace crs::audit {

struct AuditEventOptions {
  std::string node_id = "opencrs";  // source.observer identifier (urn:opencrs:node)
  std::string node_name;            // source.observer display; default: "OpenCRS node <id>"
};

// The AuditEvent JSON for `record` stored at `seq`.
std::string RenderAuditEvent(int64_t seq, const AuditRecord& record,
                             const AuditEventOptions& options = {});

// Parses `stored.record` and renders it. Internal when the stored record
// does not parse (the log should be verified).
Result<std::string> RenderAuditEvent(const store::StoredAudit& stored,
                                     const AuditEventOptions& options = {});

}  // namespace crs::audit
