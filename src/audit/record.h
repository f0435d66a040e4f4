// The audit record: what the log keeps about one interaction, allowed or
// refused. Its JSON form (docs/audit.md) is what the hash chain covers, so
// ToJson is stable: fixed field order, compact, empty fields omitted.
//
// Thread safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace crs::audit {

enum class AuditOutcome { kAllowed, kDenied, kError };

// Alert codes: why a record needs a privacy officer's review.
inline constexpr std::string_view kAlertBreakGlass = "break-glass";
inline constexpr std::string_view kAlertSelfClaimed = "self-claimed";
inline constexpr std::string_view kAlertSealedAccess = "sealed-access";
inline constexpr std::string_view kAlertVip = "vip";
inline constexpr std::string_view kAlertVolume = "volume";
inline constexpr std::string_view kAlertPatientReported = "patient-reported";

struct AuditRecord {
  int64_t time_ms = 0;          // when the request arrived (ms since the epoch)
  std::string request_id;       // X-Request-ID (or the server's)
  std::string correlation_id;   // X-Correlation-ID
  std::string user;             // token `sub`; empty when no valid token
  std::string user_name;        // token `name`
  std::string role;             // national RBAC role code, `patient` or `system`
  std::string org;              // ODS code of the user's organisation
  std::string purpose;          // TREAT, ETREAT, PATRQT, HOPERAT, HRESCH
  std::string justification;    // X-Access-Justification
  bool permission_to_view = false;
  bool self_claimed = false;    // self-claimed legitimate relationship
  bool break_glass = false;
  // read, vread, search, history, create, update, delete, patch,
  // transaction, batch, operation, everything, token-failure, alert-review...
  std::string action;
  std::string method;           // HTTP method
  std::string resource_type;
  std::string id;
  std::string query;            // search parameters as received
  int status = 0;               // HTTP status of the response
  AuditOutcome outcome = AuditOutcome::kAllowed;
  std::vector<std::string> patients;   // NHS numbers the interaction touched
  std::vector<std::string> resources;  // "Type/id/_history/n"
  std::vector<std::string> alerts;     // kAlert* codes
  int64_t reviews = 0;          // alert-review: the seq of the alert reviewed
  // A record forwarded by a peer node (docs/federation.md): the ODS code of
  // the node where the interaction happened, and the record's position and
  // chain hash (hex) in that node's own audit log. Empty for this node's own.
  std::string node;
  int64_t node_seq = 0;
  std::string node_hash;
  std::string review_outcome;   // alert-review: appropriate, inappropriate, escalated
  int64_t reports = 0;          // patient-report: the seq of the access the patient reported
  std::string note;             // alert-review, patient-report: free text (at most 1000 chars)
};

const char* OutcomeName(AuditOutcome outcome);  // "allowed", "denied", "error"

// The record's JSON text. Strings are escaped; invalid UTF-8 becomes U+FFFD,
// so the text always parses back.
std::string ToJson(const AuditRecord& record);

// Parses a record's JSON. Invalid when it is not a record; unknown fields
// are ignored (newer writers may add some).
Result<AuditRecord> FromJson(std::string_view json);

// The alert index's bit for an alert code (store::kAlertBit*), 0 for a
// code it does not know.
int64_t AlertBit(std::string_view code);

// Where a record's alert goes and whose access it is about, when not the
// record's own organisation and user: a patient's report goes to the
// privacy officer of the organisation that made the reported access, about
// the user who made it.
struct AlertRouting {
  std::string org;
  std::string user;
  std::string user_name;
};

// The store input for `record`: its JSON, its patients, when it carries
// alerts an alert for `routing.org` (default: record.org) about
// `routing.user` (default: record.user) with the alerts' bits, and the alert
// it reviews.
store::AuditInput ToAuditInput(const AuditRecord& record, const AlertRouting& routing = {});

}  // namespace crs::audit
