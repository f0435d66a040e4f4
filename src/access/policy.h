// The access policy: who may do what to which resources. Decided here,
// enforced by the API on every path, applied by the store inside its queries.
//
// A request's Caller (the verified token plus the request's purpose headers)
// is turned into
//   - a type-level answer (may this caller read/search/create/... resources of
//     this type at all?) -- refusing reveals nothing about any patient;
//   - a store::AccessFilter: which resources of a type the caller may see.
//     Searches, counts, chains, _has, includes, history and $everything carry
//     it into the store; single-resource reads apply the same rule through
//     Visible().
// docs/access.md describes the rules in prose; access_test.cc holds the matrix.
//
// Thread safety: pure functions over value types.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "access/consent.h"
#include "access/principal.h"
#include "access/rbac.h"
#include "core/status.h"
#include "store/search_query.h"
#include "store/store.h"

namespace crs::access {

// RBAC activity codes the policy consults (rbac.h; docs/access.md "Roles and activities").
inline constexpr std::string_view kViewDemographics = rbac::kViewDemographics;
inline constexpr std::string_view kAmendDemographics = rbac::kAmendDemographics;
inline constexpr std::string_view kViewClinical = rbac::kViewClinicalRecord;
inline constexpr std::string_view kAmendClinical = rbac::kAmendClinicalRecord;
inline constexpr std::string_view kEmergencyAccess = rbac::kEmergencyAccess;
inline constexpr std::string_view kSealedAccess = rbac::kSealedDataAccess;
inline constexpr std::string_view kRecordConsent = rbac::kRecordConsent;
inline constexpr std::string_view kReviewAlerts = rbac::kReviewAccessAlerts;

// X-Purpose-Of-Use.
enum class Purpose { kTreat, kEmergency, kPatientRequest, kOperations, kResearch };

// Who is asking, and in what circumstances.
struct Caller {
  std::string user;
  std::string name;     // display name (token `name`)
  std::string role;     // national RBAC role code, "patient" or "system"
  std::string org;      // ODS code ("" for patients)
  std::string patient;  // NHS number, patient tokens only
  // A peer node's service (Principal::node_org): it publishes its pointers
  // and reads consent, nothing else (docs/federation.md).
  std::string node_org;
  std::string issuer;  // the token's `iss`
  ActivitySet activities;  // expanded
  // SMART scopes: whether they allow `interaction` ('c','r','u','d','s') on a
  // type. Null: the token carried no resource scopes; the role decides alone.
  std::function<bool(std::string_view type, char interaction)> scope_allows;

  Purpose purpose = Purpose::kTreat;
  std::string justification;        // X-Access-Justification
  bool permission_to_view = false;  // X-Permission-To-View: granted
  bool self_claimed = false;        // X-Legitimate-Relationship: self-claimed
  // Patients this request names explicitly (the read's resource, the search's
  // patient/subject, $everything's patient): the only patients break-glass or
  // a self-claimed relationship opens.
  std::vector<std::string> named_patients;

  bool is_patient() const { return role == "patient"; }
  bool is_system() const { return role == "system"; }
  bool is_peer_node() const { return !node_org.empty(); }
  bool Has(std::string_view activity) const { return activities.count(activity) > 0; }
  bool break_glass() const { return purpose == Purpose::kEmergency; }
};

struct PolicyOptions {
  // National node: patient-bound clinical data (the summary) needs
  // permission to view (or break-glass), and the summary is held only as the
  // patient's consent allows. Local nodes hold their own records.
  bool national = true;
  ConsentModel consent_model = ConsentModel::kImplied;
};

// The caller a verified token names (request headers not yet applied).
Caller CallerFromPrincipal(const Principal& principal);

// Parses X-Purpose-Of-Use / X-Access-Justification / X-Permission-To-View /
// X-Legitimate-Relationship into `caller`; Invalid (with a message naming the
// header) for unknown values, Forbidden for break-glass without B0168, and
// Invalid when break-glass or a self-claimed relationship has no justification.
Status ApplyRequestHeaders(std::string_view purpose, std::string_view justification,
                           std::string_view permission_to_view,
                           std::string_view legitimate_relationship, Caller* caller);

// Type-level permission: `interaction` is 'r' (read, vread, instance history),
// 's' (search, type/system history), 'c', 'u', 'd'. Forbidden with a reason
// when the caller's role or scopes never allow it.
Status TypeAllowed(const Caller& caller, std::string_view type, char interaction);

// What the caller may see (for reads: 'r'/'s') or change (writes: 'c','u','d').
store::AccessFilter FilterFor(const Caller& caller, const PolicyOptions& options,
                              char interaction);

// The AccessFilter rule for one resource (see store::AccessFilter):
// `related` answers whether filter.org has a relationship with a patient.
bool Visible(const store::AccessFilter& filter, std::string_view type,
             const store::AccessFacts& facts,
             const std::function<bool(std::string_view patient)>& related);

// Alert codes an access to a visible resource raises for the privacy officer.
std::vector<std::string> AlertsFor(const Caller& caller, const store::AccessFilter& filter,
                                   std::string_view type, const store::AccessFacts& facts,
                                   const std::function<bool(std::string_view patient)>& related);

}  // namespace crs::access
