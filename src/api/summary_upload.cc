#include "api/summary_upload.h"

#include <boost/json.hpp>

#include "access/facts.h"
#include "core/time.h"
#include "fhir/json_util.h"

namespace crs::api {

namespace json = boost::json;
using fhir::StringField;

namespace {

json::value MakeProvenance(const std::string& nhs, int64_t bundle_version, int64_t now_ms,
                           const SummaryUploadRules& rules, const json::value* upload_identifier) {
  json::object p;
  p["resourceType"] = "Provenance";
  p["id"] = SummaryId(nhs);
  p["target"] = json::array{
      json::object{{"reference", "Bundle/" + SummaryId(nhs) + "/_history/" +
                                     std::to_string(bundle_version)}},
      json::object{{"reference", "Patient/" + nhs}}};
  p["recorded"] = FormatInstant(now_ms);
  p["activity"] = json::object{
      {"coding", json::array{json::object{
                     {"system", "http://terminology.hl7.org/CodeSystem/v3-DataOperation"},
                     {"code", bundle_version == 1 ? "CREATE" : "UPDATE"}}}}};
  json::object author;
  author["type"] = json::object{
      {"coding", json::array{json::object{
                     {"system", "http://terminology.hl7.org/CodeSystem/provenance-participant-type"},
                     {"code", "author"}}}}};
  json::object who;
  if (!rules.org.empty()) {
    who["reference"] = "Organization/" + rules.org;
    who["identifier"] = json::object{{"system", access::kOdsSystem}, {"value", rules.org}};
  } else {
    who["display"] = "unknown organisation";
  }
  author["who"] = std::move(who);
  json::array agents{std::move(author)};
  if (!rules.user.empty()) {
    agents.push_back(json::object{
        {"type", json::object{{"coding", json::array{json::object{
                     {"system", "http://terminology.hl7.org/CodeSystem/provenance-participant-type"},
                     {"code", "enterer"}}}}}},
        {"who", json::object{{"display", rules.user}}}});
  }
  p["agent"] = std::move(agents);
  if (upload_identifier && upload_identifier->is_object()) {
    p["entity"] = json::array{json::object{
        {"role", "source"}, {"what", json::object{{"identifier", *upload_identifier}}}}};
  }
  return p;
}

}  // namespace

Status SummaryWithheld(access::ConsentModel model) {
  return Status::Forbidden(
             model == access::ConsentModel::kImplied
                 ? "the patient has dissented from the Summary Care Record: summary data for "
                   "them is not held by the national record"
                 : "the patient has not consented to a Summary Care Record: summary data for "
                   "them is not held by the national record")
      .WithDetail("ACCESS_DENIED");
}

bool IsSummaryUpload(const json::object& bundle) {
  const json::value* entries = bundle.if_contains("entry");
  if (!entries || !entries->is_array() || entries->get_array().empty()) return true;
  const json::value& first = entries->get_array()[0];
  const json::value* comp = first.is_object() ? first.get_object().if_contains("resource") : nullptr;
  if (!comp || !comp->is_object() || StringField(comp->get_object(), "resourceType") != "Composition") {
    return true;
  }
  const json::value* type = comp->get_object().if_contains("type");
  const json::value* codings = type && type->is_object() ? type->get_object().if_contains("coding")
                                                         : nullptr;
  if (!codings || !codings->is_array()) return false;
  for (const auto& c : codings->get_array()) {
    if (c.is_object() && StringField(c.get_object(), "code") == kScrDocumentCode) return true;
  }
  return false;
}

Result<PreparedSummary> PrepareSummary(Env& env, const json::value& upload,
                                       const SummaryUploadRules& rules,
                                       const SummaryPending* pending) {
  PreparedSummary out;
  CRS_ASSIGN_OR_RETURN(out.nhs, SummarySubject(upload));
  if (!pending || !pending->patient) {
    auto patient = env.store.Read("Patient", out.nhs);
    if ((!patient.ok() && patient.status().code() == Code::kNotFound) ||
        (patient.ok() && patient->deleted)) {
      return Status::NotFound("no patient with this NHS number is known to the national record")
          .WithDetail("RESOURCE_NOT_FOUND");
    }
    if (!patient.ok()) return patient.status();
  }
  CRS_ASSIGN_OR_RETURN(auto decisions, StoredConsentDecisions(env.store, out.nhs));
  if (pending) decisions.insert(decisions.end(), pending->consents.begin(), pending->consents.end());
  access::ConsentState consent = access::Decide(decisions);
  if (rules.national && !consent.ScrAllowed(rules.model)) return SummaryWithheld(rules.model);
  // Additional information needs the patient's explicit consent, whatever
  // the consent model (docs/summary.md).
  SummaryRules build;
  build.sensitive = rules.sensitive;
  build.now_ms = env.clock.NowMs();
  build.additional = !rules.national ||
                     (consent.ScrAllowed(rules.model) && consent.scr_additional.value_or(false));
  CRS_ASSIGN_OR_RETURN(out.built, BuildSummary(upload, build));
  std::string id = SummaryId(out.nhs);
  // The document moves into the write (PreparedSummary::built keeps the counts).
  out.built.document.get_object()["id"] = id;
  CRS_ASSIGN_OR_RETURN(out.bundle,
                       PrepareUpdate(env, "Bundle", id, std::move(out.built.document), ""));
  const json::value* upload_identifier = upload.get_object().if_contains("identifier");
  CRS_ASSIGN_OR_RETURN(
      out.provenance,
      PrepareUpdate(env, "Provenance", id,
                    MakeProvenance(out.nhs, out.bundle.version, env.clock.NowMs(), rules,
                                   upload_identifier),
                    ""));
  return out;
}

}  // namespace crs::api
