#include "access/policy.h"

#include <algorithm>

namespace crs::access {

namespace {

std::string Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

bool PatientUsable(std::string_view p) { return !p.empty() && p != "*" && p != "?"; }

}  // namespace

Caller CallerFromPrincipal(const Principal& p) {
  Caller c;
  c.user = p.user;
  c.name = p.name;
  c.role = p.role;
  c.org = p.org;
  c.patient = p.patient;
  c.node_org = p.node_org;
  c.issuer = p.issuer;
  c.activities = p.activities;
  if (!p.scopes.Empty()) {
    c.scope_allows = [scopes = p.scopes](std::string_view type, char i) {
      return scopes.Allows(type, i);
    };
  }
  return c;
}

Status ApplyRequestHeaders(std::string_view purpose, std::string_view justification,
                           std::string_view permission_to_view,
                           std::string_view legitimate_relationship, Caller* c) {
  std::string p = Trimmed(purpose);
  if (p.empty()) {
    c->purpose = c->is_patient() ? Purpose::kPatientRequest : Purpose::kTreat;
  } else if (p == "TREAT") {
    c->purpose = Purpose::kTreat;
  } else if (p == "ETREAT") {
    c->purpose = Purpose::kEmergency;
  } else if (p == "PATRQT") {
    c->purpose = Purpose::kPatientRequest;
  } else if (p == "HOPERAT") {
    c->purpose = Purpose::kOperations;
  } else if (p == "HRESCH") {
    c->purpose = Purpose::kResearch;
  } else {
    return Status::Invalid("X-Purpose-Of-Use must be one of TREAT, ETREAT, PATRQT, HOPERAT, HRESCH");
  }
  c->justification = Trimmed(justification);
  if (c->justification.size() > 1000) {
    return Status::Invalid("X-Access-Justification is longer than 1000 characters");
  }
  std::string ptv = Trimmed(permission_to_view);
  if (!ptv.empty() && ptv != "granted") {
    return Status::Invalid("X-Permission-To-View must be 'granted' when present");
  }
  c->permission_to_view = ptv == "granted";
  std::string lr = Trimmed(legitimate_relationship);
  if (!lr.empty() && lr != "self-claimed") {
    return Status::Invalid("X-Legitimate-Relationship must be 'self-claimed' when present");
  }
  c->self_claimed = lr == "self-claimed";
  if (c->purpose == Purpose::kEmergency) {
    if (c->is_patient() || c->is_system() || !c->Has(kEmergencyAccess)) {
      return Status::Forbidden("emergency access (ETREAT) needs the B0168 activity");
    }
    if (c->justification.empty()) {
      return Status::Invalid("emergency access (ETREAT) needs a reason in X-Access-Justification");
    }
  }
  if (c->self_claimed) {
    if (c->is_patient() || c->is_system()) {
      return Status::Forbidden("only clinicians can claim a legitimate relationship");
    }
    if (c->justification.empty()) {
      return Status::Invalid(
          "a self-claimed relationship needs a reason in X-Access-Justification");
    }
  }
  return Status::Ok();
}

Status TypeAllowed(const Caller& c, std::string_view type, char i) {
  bool read = i == 'r' || i == 's';
  if (c.is_peer_node()) {
    // A peer node publishes its pointers, uploads the summaries of its
    // registered patients (api/summary.cc checks it is an upload and the
    // relationship) and reads consent decisions.
    if (type == "DocumentReference") return Status::Ok();
    if (type == "Consent" && read) return Status::Ok();
    // GP2GP: a practice finds another practice's node and keys in the
    // registry (registrations are checked with Patient/{nhs}/$register).
    if (type == "Endpoint" && read) return Status::Ok();
    if ((type == "Bundle" || type == "Provenance") && (i == 'c' || i == 'u')) return Status::Ok();
    return Status::Forbidden(
        "a peer node may only publish pointers, upload summaries, read consent and the node "
        "registry");
  }
  if (type == "AuditEvent") {
    // Rendered from the audit log, never written through the API.
    if (!read) return Status::Forbidden("the audit log is append-only");
    if (c.is_patient() || c.is_system() || c.Has(kReviewAlerts)) return Status::Ok();
    return Status::Forbidden("only privacy officers and the patient may read the audit log");
  }
  if (c.scope_allows && !c.scope_allows(type, i)) {
    return Status::Forbidden("the token's scopes do not allow this interaction on " +
                             std::string(type));
  }
  if (c.is_system()) return Status::Ok();
  if (c.is_patient()) {
    if (read) return Status::Ok();
    if (type == "Consent" && (i == 'c' || i == 'u')) return Status::Ok();
    return Status::Forbidden("patients may only record their own consent decisions");
  }
  if (read) return Status::Ok();
  if (type == "Patient") {
    if (c.Has(kAmendDemographics) && i != 'd') return Status::Ok();
    return Status::Forbidden("changing demographics needs the B0825 activity");
  }
  if (type == "Consent") {
    if (c.Has(kRecordConsent)) return Status::Ok();
    return Status::Forbidden("recording consent needs the B0020 activity");
  }
  if (c.Has(kAmendClinical)) return Status::Ok();
  return Status::Forbidden("changing clinical records needs the X0371 activity");
}

store::AccessFilter FilterFor(const Caller& c, const PolicyOptions& options, char i) {
  store::AccessFilter f;
  f.org = c.org;
  if (c.is_system()) {
    f.any_patient = true;
    if (c.is_peer_node()) {
      f.types = std::vector<std::string>{"DocumentReference", "Consent", "Bundle", "Provenance",
                                         "Endpoint"};
      // Its one Patient write is the registration with its own practice
      // (Patient/{nhs}/$register); TypeAllowed refuses every other.
      if (i == 'u') f.types->push_back("Patient");
    }
    return f;
  }
  f.unbound = true;
  if (c.is_patient()) {
    f.org.clear();  // a patient authors nothing sealed
    f.patients = {c.patient};
    return f;
  }
  if (c.Has(kViewDemographics) || c.Has(kAmendDemographics)) f.any_patient_types = {"Patient"};
  if (!c.Has(kViewClinical)) return f;
  bool write = i == 'c' || i == 'u' || i == 'd';
  bool clinical = !options.national || write || c.permission_to_view || c.break_glass();
  if (!clinical) return f;
  f.related = true;
  if (c.break_glass() || (c.self_claimed && !c.justification.empty())) {
    for (const auto& p : c.named_patients) {
      if (PatientUsable(p)) f.patients.push_back(p);
    }
  }
  f.sealed = c.break_glass() && c.Has(kSealedAccess);
  return f;
}

bool Visible(const store::AccessFilter& f, std::string_view type, const store::AccessFacts& facts,
             const std::function<bool(std::string_view)>& related) {
  if (f.types && std::find(f.types->begin(), f.types->end(), type) == f.types->end()) {
    return false;
  }
  uint32_t seal = facts.labels & (store::AccessFacts::kSealed | store::AccessFacts::kLocked);
  bool author = !f.org.empty() && facts.author_org == f.org;
  if (seal != 0 && !author && !(f.sealed && seal == store::AccessFacts::kSealed)) return false;
  if (f.any_patient) return true;
  if (f.unbound && facts.patient.empty()) return true;
  if (std::find(f.any_patient_types.begin(), f.any_patient_types.end(), type) !=
      f.any_patient_types.end()) {
    return true;
  }
  if (std::find(f.patients.begin(), f.patients.end(), facts.patient) != f.patients.end()) {
    return true;
  }
  return f.related && !f.org.empty() && PatientUsable(facts.patient) && related(facts.patient);
}

std::vector<std::string> AlertsFor(const Caller& c, const store::AccessFilter& f,
                                   std::string_view type, const store::AccessFacts& facts,
                                   const std::function<bool(std::string_view)>& related) {
  std::vector<std::string> alerts;
  if (c.is_patient()) return alerts;  // a patient reading their own record alerts nobody
  // The relationship look-up (a query) only when an alert hangs on it.
  bool bound = PatientUsable(facts.patient);
  if (bound && type != "Patient" && (c.break_glass() || c.self_claimed) &&
      !related(facts.patient)) {
    if (c.break_glass()) alerts.push_back("break-glass");
    else alerts.push_back("self-claimed");
  }
  if ((facts.labels & store::AccessFacts::kSealed) && facts.author_org != c.org) {
    alerts.push_back("sealed-access");
  }
  if (facts.labels & store::AccessFacts::kVip) alerts.push_back("vip");
  (void)f;
  return alerts;
}

}  // namespace crs::access
