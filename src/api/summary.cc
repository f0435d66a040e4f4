// The Summary Care Record on the national node (docs/summary.md): upload of
// a GP summary as a FHIR document, the $summary view at the point of care,
// and the index lookup that says whether one exists. The document is one
// stored Bundle per patient (SummaryId), so every access rule, the consent
// purge and history apply to it as to any resource.
#include <boost/json.hpp>
#include <set>
#include "fhir/json_util.h"

#include "access/facts.h"
#include "api/handler_internal.h"
#include "api/outcome.h"
#include "api/resource_io.h"
#include "api/search.h"
#include "api/summary_doc.h"
#include "api/summary_upload.h"
#include "core/ids.h"

namespace crs::api {

namespace json = boost::json;
using fhir::StringField;

namespace {


std::string Counted(int n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

}  // namespace

void FhirApi::PostBundle(RequestContext& ctx, http::Response* out) {
  auto body = ParseJsonBody(ctx.request.body, options_.max_json_depth);
  if (body.ok() && body->is_object() && StringField(body->get_object(), "type") == "document" &&
      IsSummaryUpload(body->get_object())) {
    return UploadSummary(ctx, *body, out);
  }
  if (ctx.caller && ctx.caller->is_peer_node()) {
    return SetError(Status::Forbidden("a peer node posts only Summary Care Record documents"), out);
  }
  Create(ctx, "Bundle", out);
}

void FhirApi::UploadSummary(RequestContext& ctx, const json::value& upload, http::Response* out) {
  ctx.trail.action = "summary-upload";
  ctx.trail.type = "Bundle";
  if (Status st = Allow(ctx, "Bundle", 'u'); !st.ok()) return SetError(st, out);
  if (Status st = Allow(ctx, "Provenance", 'u'); !st.ok()) return SetError(st, out);
  auto nhs = SummarySubject(upload);
  if (!nhs.ok()) return SetError(nhs.status(), out);
  ctx.trail.id = SummaryId(*nhs);
  // The patient's existence, consent and the document itself are checked
  // by PrepareSummary; a node first needs a relationship with the patient.
  if (ctx.caller && ctx.caller->is_peer_node()) {
    // A practice's node uploads the summaries of its registered patients.
    auto related = store_.HasRelationship(ctx.caller->node_org, *nhs);
    if (!related.ok()) return SetError(related.status(), out);
    if (!*related) {
      ctx.trail.denied = true;
      return SetError(Status::Forbidden("the node's organisation has no legitimate relationship "
                                        "with this patient").WithDetail("ACCESS_DENIED"), out);
    }
  }
  SummaryUploadRules rules;
  rules.sensitive = &options_.sensitive_codes;
  rules.model = options_.policy.consent_model;
  rules.national = options_.policy.national;
  if (ctx.caller) {
    rules.org = ctx.caller->org;
    rules.user = ctx.caller->user;
  }
  Env e = env(ctx);
  std::string id = SummaryId(*nhs);
  std::string_view request_id = ctx.request.headers.Get("x-request-id");
  for (int attempt = 0; attempt < 16; ++attempt) {
    auto prepared = PrepareSummary(e, upload, rules);
    if (!prepared.ok()) {
      if (prepared.status().code() == Code::kForbidden) ctx.trail.denied = true;
      return SetError(prepared.status(), out);
    }
    const BuiltSummary* built = &prepared->built;
    Prepared* bundle = &prepared->bundle;
    Prepared* prov = &prepared->provenance;
    if (Status st = CheckWrite(ctx, *bundle, 'u'); !st.ok()) return SetError(st, out);
    if (Status st = CheckWrite(ctx, *prov, 'u'); !st.ok()) return SetError(st, out);
    store::WriteBatch batch;
    batch.writes.push_back(*bundle->write);
    batch.writes.push_back(*prov->write);
    if (!request_id.empty()) batch.idempotency_key = std::string(request_id);
    if (options_.audit) {
      AuditTrail trail = ctx.trail;
      batch.audit.push_back(audit::ToAuditInput(
          MakeAuditRecord(ctx.request, ctx.caller.get(), trail, bundle->status)));
    }
    auto committed = store_.Commit(batch);
    if (!committed.ok() && committed.status().code() == Code::kConflict) {
      counters_.conflicts_retried.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (!committed.ok()) return SetError(committed.status(), out);
    ctx.trail.audited = options_.audit;
    counters_.writes.fetch_add(1, std::memory_order_relaxed);
    if (committed->already_applied) return ReplayResult(ctx, *committed, out);
    // A dissent that landed meanwhile purges what was just written.
    if (Status st = AfterCommit(ctx, *bundle); !st.ok()) return SetError(st, out);
    out->status = bundle->status;
    out->SetHeader("ETag", ETagOf(bundle->version));
    out->SetHeader("Location", ctx.base + "/Bundle/" + id + "/_history/" +
                                   std::to_string(bundle->version));
    out->SetHeader("Content-Type", std::string(kFhirJson));
    std::string message = "Summary Care Record stored as Bundle/" + id + " version " +
                          std::to_string(bundle->version) + ": " +
                          Counted(built->kept, "clinical item") + " held";
    if (built->sensitive_dropped > 0) {
      message += "; " + Counted(built->sensitive_dropped, "sensitive item") +
                 " left out (never held nationally)";
    }
    if (built->acute_expired_dropped > 0) {
      message += "; " + Counted(built->acute_expired_dropped, "acute medication item") +
                 " more than 12 months old left out";
    }
    if (built->additional_dropped > 0) {
      message += "; " + Counted(built->additional_dropped, "item") +
                 " of additional information left out (the patient has not explicitly "
                 "consented to additional information)";
    }
    out->body = OperationOutcomeJson("information", "informational", message);
    return;
  }
  SetError(Status::Conflict("too many concurrent uploads for this patient; retry"), out);
}

void FhirApi::Summary(RequestContext& ctx, std::string_view nhs, http::Response* out) {
  ctx.trail.action = "summary";
  if (Status st = Allow(ctx, "Bundle", 'r'); !st.ok()) return SetError(st, out);
  std::string id = SummaryId(nhs);
  if (ctx.caller) ctx.caller->named_patients = {std::string(nhs)};
  auto r = store_.Read("Bundle", id);
  bool visible = r.ok() && !r->deleted && See(ctx, "Bundle", id, r->access, 'r');
  if (!r.ok() && r.status().code() != Code::kNotFound) return SetError(r.status(), out);
  if (!visible) {
    ctx.trail.denied = r.ok() && !r->deleted;
    // Whoever may see the patient may learn that consent withholds the
    // summary (the index lookup says so too); nobody learns more.
    auto patient = store_.Read("Patient", nhs);
    if (options_.policy.national && patient.ok() && !patient->deleted &&
        See(ctx, "Patient", nhs, patient->access, 'r')) {
      auto consent = ConsentOf(nhs);
      if (consent.ok() && !consent->ScrAllowed(options_.policy.consent_model)) {
        return SetError(SummaryWithheld(options_.policy.consent_model), out);
      }
    }
    return SetError(Status::NotFound("no Summary Care Record available: none is held, or "
                                     "viewing it needs a legitimate relationship and the "
                                     "patient's permission (X-Permission-To-View: granted) "
                                     "or emergency access"), out);
  }
  out->status = 200;
  out->SetHeader("Content-Type", std::string(kFhirJson));
  out->SetHeader("ETag", ETagOf(r->version));
  out->SetHeader("Last-Modified", FormatHttpDate(r->last_updated_ms));
  int64_t now = clock_.NowMs();
  bool aged = MayHoldExpiredAcute(r->body, now);
  if (!aged && r->body.find("v3-Confidentiality") == std::string::npos) {
    // Nothing sealed inside and no acute medication past 12 months: the
    // stored bytes as they are.
    out->body = std::move(r->body);
    return;
  }
  // Sealed items inside the summary are shown only to whom the access
  // policy shows them; the narrative is rebuilt without the others.
  auto doc = ParseJsonBody(r->body, options_.max_json_depth);
  if (!doc.ok()) return SetError(Status::Internal("stored summary is not valid JSON"), out);
  // A hidden sealed (R) item is counted, so the reader learns that
  // something is withheld (never what); a sealed-and-locked (V) one is not,
  // since its existence must not be revealed. References to hidden items
  // are removed from the sections either way.
  int withheld = 0;
  std::set<std::string> hidden;
  std::set<std::string> expired =
      aged ? ExpiredAcuteItems(doc->get_object(), now) : std::set<std::string>();
  auto shown = [&](const json::object& res) {
    std::string_view type = StringField(res, "resourceType");
    std::string_view rid = StringField(res, "id");
    // Acute medication more than 12 months old is no longer summary content.
    if (expired.count(std::string(type) + "/" + std::string(rid))) return false;
    store::AccessFacts facts =
        access::ComputeFacts(type, rid, json::value(res), nullptr, r->access.author_org);
    facts.patient = r->access.patient;
    if (See(ctx, type, rid, facts, 'r')) return true;
    if ((facts.labels & store::AccessFacts::kLocked) == 0) ++withheld;
    return false;
  };
  json::object& b = doc->get_object();
  json::array kept;
  for (auto& e : b["entry"].get_array()) {
    const json::value* res = e.is_object() ? e.get_object().if_contains("resource") : nullptr;
    if (res && res->is_object() && EntryPartOf(StringField(res->get_object(), "resourceType")) !=
                                       EntryPart::kSupport && !shown(res->get_object())) {
      const json::object& ro = res->get_object();
      hidden.insert(std::string(StringField(e.get_object(), "fullUrl")));
      hidden.insert(std::string(StringField(ro, "resourceType")) + "/" +
                    std::string(StringField(ro, "id")));
      continue;
    }
    kept.push_back(std::move(e));
  }
  b["entry"] = std::move(kept);
  json::object& comp = b["entry"].get_array()[0].get_object()["resource"].get_object();
  if (json::value* sections = comp.if_contains("section"); sections && sections->is_array()) {
    for (auto& section : sections->get_array()) {
      json::value* refs = section.is_object() ? section.get_object().if_contains("entry") : nullptr;
      if (!refs || !refs->is_array()) continue;
      json::array left;
      for (auto& ref : refs->get_array()) {
        bool gone = ref.is_object() && hidden.count(std::string(StringField(ref.get_object(), "reference")));
        if (!gone) left.push_back(std::move(ref));
      }
      if (left.empty()) {
        section.get_object().erase("entry");
      } else {
        *refs = std::move(left);
      }
    }
  }
  if (withheld > 0) {
    json::array& ext = comp["extension"].is_array() ? comp["extension"].get_array()
                                                    : comp["extension"].emplace_array();
    ext.push_back(json::object{{"url", "urn:opencrs:withheld-sealed"}, {"valueInteger", withheld}});
  }
  comp["text"] = json::object{{"status", "generated"},
                              {"div", SummaryNarrative(b, [](const json::object&) { return true; })}};
  out->body = json::serialize(*doc);
}

void FhirApi::SummaryIndex(RequestContext& ctx, std::string_view nhs, http::Response* out) {
  ctx.trail.action = "summary-index";
  ctx.trail.type = "DocumentReference";
  if (Status st = Allow(ctx, "DocumentReference", 's'); !st.ok()) return SetError(st, out);
  if (ctx.caller) ctx.caller->named_patients = {std::string(nhs)};
  auto patient = store_.Read("Patient", nhs);
  if ((patient.ok() && (patient->deleted || !See(ctx, "Patient", nhs, patient->access, 'r'))) ||
      (!patient.ok() && patient.status().code() == Code::kNotFound)) {
    return SetError(Status::NotFound("Patient not found").WithDetail("RESOURCE_NOT_FOUND"), out);
  }
  if (!patient.ok()) return SetError(patient.status(), out);
  auto consent = ConsentOf(nhs);
  if (!consent.ok()) return SetError(consent.status(), out);
  auto model = options_.policy.consent_model;
  bool allowed = consent->ScrAllowed(model);
  std::string state = consent->scr.has_value() ? (*consent->scr ? "consented" : "dissented")
                      : allowed ? "implied" : "no-decision";
  bool additional = allowed && consent->scr_additional.value_or(false);
  std::string id = SummaryId(nhs);
  auto doc = store_.Read("Bundle", id);
  if (!doc.ok() && doc.status().code() != Code::kNotFound) return SetError(doc.status(), out);
  bool exists = doc.ok() && !doc->deleted;
  json::object bundle{{"resourceType", "Bundle"}, {"id", NewId()}, {"type", "searchset"},
                      {"total", exists ? 1 : 0}};
  json::array entries;
  json::value scr_type = json::object{
      {"coding", json::array{json::object{{"system", access::kSnomedSystem},
                                          {"code", kScrDocumentCode},
                                          {"display", "General Practice Summary"}}}}};
  if (exists) {
    json::object ref{
        {"resourceType", "DocumentReference"},
        {"id", id},
        {"status", "current"},
        {"type", scr_type},
        {"subject", json::object{{"reference", "Patient/" + std::string(nhs)},
                                 {"identifier", json::object{{"system", access::kNhsNumberSystem},
                                                             {"value", nhs}}}}},
        {"date", FormatInstant(doc->last_updated_ms)},
        {"content", json::array{json::object{
                        {"attachment",
                         json::object{{"contentType", "application/fhir+json"},
                                      {"url", ctx.base + "/Patient/" + std::string(nhs) +
                                                  "/$summary"}}}}}}};
    if (!doc->access.author_org.empty()) {
      ref["custodian"] = json::object{
          {"identifier", json::object{{"system", access::kOdsSystem},
                                      {"value", doc->access.author_org}}}};
    }
    entries.push_back(json::object{{"fullUrl", ctx.base + "/DocumentReference/" + id},
                                   {"resource", std::move(ref)},
                                   {"search", json::object{{"mode", "match"}}}});
  }
  // The record locator's pointers to the detailed records local nodes
  // hold (docs/federation.md), as far as the caller may know about them.
  auto parsed = ParseSearch("DocumentReference", {{"patient", "Patient/" + std::string(nhs)},
                                                         {"status", "current"}},
                            /*strict=*/false, options_.max_page_size, options_.max_page_size);
  if (!parsed.ok()) return SetError(parsed.status(), out);
  parsed->query.access = FilterOf(ctx, 's');
  auto pointers = store_.Search(parsed->query);
  if (!pointers.ok()) return SetError(pointers.status(), out);
  Saw(ctx, *pointers, "DocumentReference");
  for (auto& m : pointers->matches) {
    if (m.id == id) continue;
    json::object entry{{"fullUrl", ctx.base + "/DocumentReference/" + m.id},
                       {"resource", json::parse(m.body)},
                       {"search", json::object{{"mode", "match"}}}};
    entries.push_back(std::move(entry));
  }
  bundle["total"] = static_cast<int64_t>(entries.size());
  std::string message = "Summary Care Record consent: " + state +
                        (allowed ? " (a summary may be held)" : " (no summary is held)") +
                        "; additional information: " +
                        (additional ? "explicitly consented" : "not consented");
  json::value outcome = json::parse(OperationOutcomeJson("information", "informational", message));
  outcome.get_object()["extension"] = json::array{
      json::object{{"url", "urn:opencrs:scr-consent"}, {"valueCode", state}},
      json::object{{"url", "urn:opencrs:scr-additional-consent"}, {"valueBoolean", additional}}};
  entries.push_back(json::object{{"resource", std::move(outcome)},
                                 {"search", json::object{{"mode", "outcome"}}}});
  bundle["entry"] = std::move(entries);
  out->status = 200;
  out->SetHeader("Content-Type", std::string(kFhirJson));
  out->body = json::serialize(bundle);
}

Status FhirApi::PurgeSummaryDocument(const std::string& patient, store::WriteBatch* purge,
                                     AuditTrail* trail) {
  std::string id = SummaryId(patient);
  for (const char* type : {"Bundle", "Provenance"}) {
    auto r = store_.Read(type, id);
    if (!r.ok() && r.status().code() == Code::kNotFound) continue;
    if (!r.ok()) return r.status();
    store::Write w;
    w.type = type;
    w.id = id;
    w.method = store::Method::kPurge;
    purge->writes.push_back(std::move(w));
    trail->resources.push_back(std::string(type) + "/" + id);
  }
  return Status::Ok();
}

}  // namespace crs::api
