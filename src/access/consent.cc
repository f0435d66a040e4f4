#include "access/consent.h"
#include "fhir/json_util.h"

#include <boost/json.hpp>
#include <tuple>

#include "core/time.h"

namespace crs::access {

namespace json = boost::json;
using fhir::StringField;

namespace {


std::optional<ConsentPolicy> PolicyOf(std::string_view uri) {
  if (uri == kScrPolicy) return ConsentPolicy::kScr;
  if (uri == kScrAdditionalPolicy) return ConsentPolicy::kScrAdditional;
  if (uri == kNdopPolicy) return ConsentPolicy::kNdop;
  return std::nullopt;
}

std::optional<ConsentPolicy> FindPolicy(const json::object& o) {
  if (const json::value* rule = o.if_contains("policyRule"); rule && rule->is_object()) {
    if (const json::value* codings = rule->get_object().if_contains("coding");
        codings && codings->is_array()) {
      for (const auto& c : codings->get_array()) {
        if (!c.is_object()) continue;
        std::string_view system = StringField(c.get_object(), "system");
        std::string_view code = StringField(c.get_object(), "code");
        if (auto p = PolicyOf(code)) return p;
        if (!system.empty() && !code.empty()) {
          if (auto p = PolicyOf(std::string(system) + ":" + std::string(code))) return p;
        }
      }
    }
  }
  if (const json::value* policies = o.if_contains("policy"); policies && policies->is_array()) {
    for (const auto& p : policies->get_array()) {
      if (!p.is_object()) continue;
      if (auto found = PolicyOf(StringField(p.get_object(), "uri"))) return found;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<ConsentDecision> ParseConsent(const json::value& v) {
  if (!v.is_object()) return std::nullopt;
  const json::object& o = v.get_object();
  if (StringField(o, "resourceType") != "Consent") return std::nullopt;
  auto policy = FindPolicy(o);
  if (!policy) return std::nullopt;
  ConsentDecision d;
  d.policy = *policy;
  d.active = StringField(o, "status") == "active";
  const json::value* provision = o.if_contains("provision");
  std::string_view type =
      provision && provision->is_object() ? StringField(provision->get_object(), "type") : "";
  if (type != "permit" && type != "deny") return std::nullopt;
  d.permit = type == "permit";
  if (const json::value* patient = o.if_contains("patient"); patient && patient->is_object()) {
    std::string_view ref = StringField(patient->get_object(), "reference");
    if (ref.substr(0, 8) == "Patient/") d.patient = ref.substr(8);
    if (d.patient.empty()) {
      if (const json::value* id = patient->get_object().if_contains("identifier");
          id && id->is_object()) {
        d.patient = StringField(id->get_object(), "value");
      }
    }
  }
  if (d.patient.empty()) return std::nullopt;
  if (auto ms = ParseFhirDateTime(StringField(o, "dateTime"))) d.when_ms = *ms;
  return d;
}

ConsentState Decide(const std::vector<std::pair<ConsentDecision, int64_t>>& decisions) {
  ConsentState state;
  std::tuple<int64_t, int64_t> latest[3] = {{INT64_MIN, INT64_MIN},
                                           {INT64_MIN, INT64_MIN},
                                           {INT64_MIN, INT64_MIN}};
  for (const auto& [d, updated] : decisions) {
    if (!d.active) continue;
    int i = static_cast<int>(d.policy);
    std::tuple<int64_t, int64_t> key{d.when_ms, updated};
    if (key < latest[i]) continue;
    latest[i] = key;
    switch (d.policy) {
      case ConsentPolicy::kScr: state.scr = d.permit; break;
      case ConsentPolicy::kScrAdditional: state.scr_additional = d.permit; break;
      case ConsentPolicy::kNdop: state.ndop_opted_out = !d.permit; break;
    }
  }
  return state;
}

SummaryPart SummaryPartOf(std::string_view type) {
  if (type == "AllergyIntolerance" || type == "MedicationStatement" ||
      type == "MedicationRequest") {
    return SummaryPart::kCore;
  }
  if (type == "Condition" || type == "Procedure" || type == "Immunization") {
    return SummaryPart::kAdditional;
  }
  return SummaryPart::kNone;
}

}  // namespace crs::access
