#include "federation/gp_summary.h"

#include <boost/json.hpp>

#include "access/facts.h"
#include "core/time.h"
#include "fhir/json_util.h"

namespace crs::federation {

namespace json = boost::json;

namespace {

constexpr int64_t kAcuteWindowMs = 366LL * 24 * 3600 * 1000;

// Resources of `type` referencing Patient/<nhs> through `param`.
Result<std::vector<std::string>> ItemsOf(store::Store& store, const std::string& type,
                                         const std::string& param, std::string_view nhs) {
  store::SearchQuery q = store::ReferencingQuery(type, param, "Patient", std::string(nhs));
  std::vector<std::string> out;
  while (true) {
    CRS_ASSIGN_OR_RETURN(store::SearchResult r, store.Search(q));
    for (auto& m : r.matches) out.push_back(std::move(m.body));
    if (r.next_after_rid == 0) break;
    q.after_rid = r.next_after_rid;
  }
  return out;
}

std::string CodeOf(const json::object& o, std::string_view field) {
  const json::value* v = o.if_contains(field);
  if (v == nullptr || !v->is_object()) return "";
  const json::value* coding = v->as_object().if_contains("coding");
  if (coding == nullptr || !coding->is_array() || coding->as_array().empty()) return "";
  const json::value& c = coding->as_array().front();
  return c.is_object() ? std::string(fhir::StringField(c.as_object(), "code")) : "";
}

// Rewrites the patient's references to the document's Patient entry and
// drops every other reference (array elements or fields holding one).
// Returns false when `v` itself is a reference to drop.
bool KeepReferences(json::value& v, const std::string& patient_ref, const std::string& to) {
  if (v.is_array()) {
    json::array& a = v.as_array();
    for (size_t i = 0; i < a.size();) {
      if (KeepReferences(a[i], patient_ref, to)) {
        ++i;
      } else {
        a.erase(a.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    return true;
  }
  if (!v.is_object()) return true;
  json::object& o = v.as_object();
  if (const json::value* r = o.if_contains("reference"); r && r->is_string()) {
    if (r->as_string() != patient_ref) return false;
    o["reference"] = to;
  }
  std::vector<std::string> drop;
  for (auto& [key, child] : o) {
    if (!KeepReferences(child, patient_ref, to)) drop.emplace_back(key);
  }
  for (const auto& k : drop) o.erase(k);
  return true;
}

}  // namespace

bool IsSummaryType(std::string_view type) {
  return type == "AllergyIntolerance" || type == "MedicationStatement" ||
         type == "MedicationRequest";
}

Result<std::string> BuildGpSummary(store::Store& store, std::string_view nhs,
                                   std::string_view ods, const access::SensitiveCodes& sensitive,
                                   int64_t now_ms, std::string_view version_tag) {
  std::string patient_ref = "Patient/" + std::string(nhs);
  std::string patient_url = "urn:uuid:patient-" + std::string(nhs);
  json::array entries;
  json::array allergies, repeats, acutes;
  int n = 0;
  auto add = [&](json::value item, json::array* section) {
    if (sensitive.Mentions(item)) return;  // never leaves the practice
    KeepReferences(item, patient_ref, patient_url);
    std::string url = "urn:uuid:item-" + std::string(nhs) + "-" + std::to_string(n++);
    item.as_object().erase("meta");
    section->push_back(json::object{{"reference", url}});
    entries.push_back(json::object{{"fullUrl", url}, {"resource", std::move(item)}});
  };
  CRS_ASSIGN_OR_RETURN(auto allergy_bodies, ItemsOf(store, "AllergyIntolerance", "patient", nhs));
  for (const auto& body : allergy_bodies) {
    json::value v = json::parse(body);
    const json::object& o = v.as_object();
    std::string verification = CodeOf(o, "verificationStatus");
    if (verification == "entered-in-error" || verification == "refuted") continue;
    add(std::move(v), &allergies);
  }
  CRS_ASSIGN_OR_RETURN(auto statements, ItemsOf(store, "MedicationStatement", "subject", nhs));
  for (const auto& body : statements) {
    json::value v = json::parse(body);
    std::string_view status = fhir::StringField(v.as_object(), "status");
    if (status != "active" && status != "intended") continue;
    add(std::move(v), &repeats);
  }
  CRS_ASSIGN_OR_RETURN(auto requests, ItemsOf(store, "MedicationRequest", "subject", nhs));
  for (const auto& body : requests) {
    json::value v = json::parse(body);
    const json::object& o = v.as_object();
    std::string_view status = fhir::StringField(o, "status");
    if (status != "active" && status != "on-hold" && status != "completed") continue;
    if (CodeOf(o, "courseOfTherapyType") == "continuous") {
      if (status == "completed") continue;
      add(std::move(v), &repeats);
      continue;
    }
    auto authored = ParseFhirDateTime(fhir::StringField(o, "authoredOn"));
    if (!authored || now_ms - *authored > kAcuteWindowMs) continue;  // not in the last 12 months
    add(std::move(v), &acutes);
  }
  // Empty sections are left out: the national node then says "Allergies
  // not recorded" rather than claiming that none are known.
  json::array sections;
  auto section = [&](const char* title, const char* code, json::array refs) {
    if (refs.empty()) return;
    sections.push_back(json::object{
        {"title", title},
        {"code", json::object{{"coding", json::array{json::object{{"code", code}}}}}},
        {"entry", std::move(refs)}});
  };
  section("Allergies and adverse reactions", "AllergiesHeader", std::move(allergies));
  section("Repeat medications", "RepeatMedsHeader", std::move(repeats));
  section("Acute medications", "AcuteMedsHeader", std::move(acutes));
  std::string org_url = "urn:uuid:organization-" + std::string(ods);
  json::object composition{
      {"resourceType", "Composition"},
      {"id", "composition"},
      {"status", "final"},
      {"type", json::object{{"coding", json::array{json::object{
                                           {"system", access::kSnomedSystem},
                                           {"code", "196981000000101"},
                                           {"display", "General Practice Summary"}}}}}},
      {"subject", json::object{{"reference", patient_url}}},
      {"date", FormatInstant(now_ms)},
      {"title", "General Practice Summary"},
      {"author", json::array{json::object{{"reference", org_url}}}}};
  if (!sections.empty()) composition["section"] = std::move(sections);
  json::array all{
      json::object{{"fullUrl", "urn:uuid:composition-" + std::string(nhs)},
                   {"resource", std::move(composition)}},
      json::object{{"fullUrl", patient_url},
                   {"resource", json::object{{"resourceType", "Patient"},
                                             {"id", "patient"},
                                             {"identifier", json::array{json::object{
                                                                {"system", access::kNhsNumberSystem},
                                                                {"value", nhs}}}}}}},
      json::object{{"fullUrl", org_url},
                   {"resource", json::object{{"resourceType", "Organization"},
                                             {"id", "organization"},
                                             {"identifier", json::array{json::object{
                                                                {"system", access::kOdsSystem},
                                                                {"value", ods}}}}}}}};
  for (auto& e : entries) all.push_back(std::move(e));
  json::object bundle{
      {"resourceType", "Bundle"},
      {"type", "document"},
      {"identifier", json::object{{"system", "urn:opencrs:gp-summary"},
                                  {"value", std::string(ods) + "-" + std::string(nhs) + "-" +
                                                std::string(version_tag)}}},
      {"timestamp", FormatInstant(now_ms)},
      {"entry", std::move(all)}};
  return json::serialize(bundle);
}

}  // namespace crs::federation
