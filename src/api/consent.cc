// Consent enforced by the server: on the national node the Summary Care
// Record is held only as the patient's consent allows. Under dissent (or,
// with consent_model = explicit, without consent) summary data is refused on
// upload and what was held is purged -- erased with its history, not hidden.
#include <boost/json.hpp>

#include "access/consent.h"
#include "access/facts.h"
#include "api/handler_internal.h"
#include "api/resource_io.h"
#include "api/summary_doc.h"
#include "api/summary_upload.h"

namespace crs::api {

namespace json = boost::json;

namespace {

bool UsablePatient(std::string_view p) { return !p.empty() && p != "*" && p != "?"; }

bool IsSummaryDocument(std::string_view type, std::string_view id) {
  return type == "Bundle" && id.starts_with("scr-");
}

// Whether a stored summary document holds additional information.
bool HoldsAdditional(const std::string& body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return true;  // unreadable: treat as holding it (purged)
  const json::value* entries = v.get_object().if_contains("entry");
  if (!entries || !entries->is_array()) return false;
  for (const auto& e : entries->get_array()) {
    const json::value* r = e.is_object() ? e.get_object().if_contains("resource") : nullptr;
    const json::value* t = r && r->is_object() ? r->get_object().if_contains("resourceType") : nullptr;
    if (t && t->is_string() && EntryPartOf(t->get_string()) == EntryPart::kAdditional) return true;
  }
  return false;
}

// Resources of `type` that reference `patient` through `param`, by reference
// or by NHS-number identifier.
std::vector<store::SearchQuery> ByPatient(const std::string& type, const std::string& param,
                                          const std::string& patient) {
  store::SearchQuery by_ref = store::ReferencingQuery(type, param, "Patient", patient);
  store::SearchQuery by_id = by_ref;
  store::Predicate tok;
  tok.param = param;
  tok.table = store::IndexTable::kToken;
  store::TokenCond t;
  t.system = std::string(access::kNhsNumberSystem);
  t.code = patient;
  tok.any_of.push_back(t);
  by_id.all_of = {tok};
  return {by_ref, by_id};
}

}  // namespace

Result<std::vector<std::pair<access::ConsentDecision, int64_t>>> StoredConsentDecisions(
    store::Store& store, std::string_view patient) {
  std::vector<std::pair<access::ConsentDecision, int64_t>> decisions;
  for (auto& q : ByPatient("Consent", "patient", std::string(patient))) {
    while (true) {
      CRS_ASSIGN_OR_RETURN(store::SearchResult r, store.Search(q));
      for (const auto& m : r.matches) {
        json::error_code ec;
        json::value v = json::parse(m.body, ec);
        if (ec) continue;
        auto d = access::ParseConsent(v);
        if (d && d->patient == patient) decisions.emplace_back(*d, m.last_updated_ms);
      }
      if (r.next_after_rid == 0) break;
      q.after_rid = r.next_after_rid;
    }
  }
  return decisions;
}

Result<access::ConsentState> StoredConsent(store::Store& store, std::string_view patient) {
  CRS_ASSIGN_OR_RETURN(auto decisions, StoredConsentDecisions(store, patient));
  return access::Decide(decisions);
}

Result<access::ConsentState> FhirApi::ConsentOf(std::string_view patient) {
  return StoredConsent(store_, patient);
}

Status FhirApi::CheckConsent(RequestContext& ctx, const Prepared& p) {
  (void)ctx;
  // Summary documents are written only by the upload (api/summary.cc), which
  // applies the summary's rules, and erased only by a consent purge.
  if (IsSummaryDocument(p.type, p.id)) {
    return Status::Forbidden(
        "a Summary Care Record document is uploaded with POST /fhir/Bundle (docs/summary.md) "
        "and cannot be written or deleted otherwise");
  }
  if (!options_.policy.national || !p.write || p.write->method == store::Method::kDelete) {
    return Status::Ok();
  }
  access::SummaryPart part = access::SummaryPartOf(p.type);
  if (part == access::SummaryPart::kNone || !p.write->access ||
      !UsablePatient(p.write->access->patient)) {
    return Status::Ok();
  }
  CRS_ASSIGN_OR_RETURN(access::ConsentState state, ConsentOf(p.write->access->patient));
  auto model = options_.policy.consent_model;
  if (!state.ScrAllowed(model)) {
    return Status::Forbidden(
        model == access::ConsentModel::kImplied
            ? "the patient has dissented from the Summary Care Record: summary data for them is "
              "not held by the national record"
            : "the patient has not consented to a Summary Care Record: summary data for them is "
              "not held by the national record");
  }
  if (part == access::SummaryPart::kAdditional && !state.AdditionalAllowed(model)) {
    return Status::Forbidden(
        "the patient has not agreed to additional information in their Summary Care Record");
  }
  return Status::Ok();
}

bool FhirApi::HasAfterCommit(const Prepared& p) const {
  if (!options_.policy.national || !p.write || !p.write->access) return false;
  // A Consent may withhold the summary; summary data is re-checked, since a
  // dissent may have landed meanwhile.
  bool concerned = p.type == "Consent" ||
                   access::SummaryPartOf(p.type) != access::SummaryPart::kNone ||
                   IsSummaryDocument(p.type, p.id);
  return concerned && UsablePatient(p.write->access->patient);
}

Status FhirApi::AfterCommit(RequestContext& ctx, const Prepared& p) {
  if (!HasAfterCommit(p)) return Status::Ok();
  std::string patient = p.write->access->patient;
  CRS_ASSIGN_OR_RETURN(access::ConsentState state, ConsentOf(patient));
  auto model = options_.policy.consent_model;
  bool core = state.ScrAllowed(model), additional = state.AdditionalAllowed(model);
  // The summary document holds additional information only with an
  // explicit permit (docs/summary.md): without one it is purged whole, and
  // the practice's next upload brings back the core summary.
  bool document_additional = core && state.scr_additional.value_or(false);
  bool purge_document = !core;
  if (core && !document_additional) {
    auto doc = store_.Read("Bundle", SummaryId(patient));
    purge_document = doc.ok() && !doc->deleted && HoldsAdditional(doc->body);
  }
  if (core && additional && !purge_document) return Status::Ok();
  static const std::pair<const char*, const char*> kSummaryTypes[] = {
      {"AllergyIntolerance", "patient"}, {"MedicationStatement", "subject"},
      {"MedicationRequest", "subject"},  {"Condition", "subject"},
      {"Procedure", "subject"},          {"Immunization", "patient"}};
  store::WriteBatch purge;
  AuditTrail erased;
  if (purge_document) CRS_RETURN_IF_ERROR(PurgeSummaryDocument(patient, &purge, &erased));
  for (const auto& r : erased.resources) ctx.trail.resources.push_back(r);
  for (const auto& [type, param] : kSummaryTypes) {
    access::SummaryPart part = access::SummaryPartOf(type);
    if (part == access::SummaryPart::kCore ? core : additional) continue;
    for (auto& q : ByPatient(type, param, patient)) {
      while (true) {
        CRS_ASSIGN_OR_RETURN(store::SearchResult r, store_.Search(q));
        for (const auto& m : r.matches) {
          store::Write w;
          w.type = type;
          w.id = m.id;
          w.method = store::Method::kPurge;
          purge.writes.push_back(std::move(w));
          ctx.trail.resources.push_back(std::string(type) + "/" + m.id);
        }
        if (r.next_after_rid == 0) break;
        q.after_rid = r.next_after_rid;
      }
    }
  }
  if (purge.writes.empty()) return Status::Ok();
  ctx.trail.patients.insert(patient);
  if (options_.audit) {
    // The purge is audited in its own transaction: what was erased, for whom, why.
    AuditTrail trail;
    trail.action = "purge";
    trail.type = p.type;
    trail.id = p.id;
    trail.patients.insert(patient);
    for (const auto& w : purge.writes) trail.resources.push_back(w.type + "/" + w.id);
    purge.audit.push_back(
        audit::ToAuditInput(MakeAuditRecord(ctx.request, ctx.caller.get(), trail, 200)));
  }
  auto committed = store_.Commit(purge);
  return committed.ok() ? Status::Ok() : committed.status();
}

}  // namespace crs::api
