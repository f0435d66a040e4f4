// GET /fhir/Patient/{id}/$everything: the patient and every resource in its
// compartment, as defined by the official CompartmentDefinition/patient
// (src/fhir/data/compartment_patient.json, tools/gen_compartments.py), paged.
#include <boost/json.hpp>
#include <charconv>

#include "api/handler_internal.h"
#include "api/outcome.h"
#include "api/resource_io.h"
#include "api/search.h"
#include "core/ids.h"
#include "fhir/index/registry.h"

extern "C" const char crs_compartment_patient_json[];
extern "C" const unsigned long crs_compartment_patient_json_size;

namespace crs::api {

namespace json = boost::json;

namespace {

// (resource type, reference parameter) pairs linking resources to a Patient.
const std::vector<std::pair<std::string, std::string>>& PatientCompartmentLinks() {
  static const auto* links = [] {
    auto* out = new std::vector<std::pair<std::string, std::string>>();
    json::error_code ec;
    auto v = json::parse(
        std::string_view(crs_compartment_patient_json, crs_compartment_patient_json_size), ec);
    if (ec || !v.is_object()) return out;  // the build embeds a generated, valid file
    for (const auto& [type, params] : v.at("links").as_object()) {
      for (const auto& p : params.as_array()) {
        out->emplace_back(std::string(type), std::string(p.as_string()));
      }
    }
    return out;
  }();
  return *links;
}

}  // namespace

void FhirApi::Everything(RequestContext& ctx, std::string_view type, std::string_view id,
                         http::Response* out) {
  if (type != "Patient") {
    return SetError(Status(Code::kMethodNotAllowed, "$everything is defined on Patient"), out);
  }
  auto owner = store_.Read(type, id);
  if (!owner.ok()) {
    return SetError(owner.status().code() == Code::kNotFound
                        ? Status::NotFound("Patient not found") : owner.status(), out);
  }
  if (owner->deleted) return SetError(Status::Gone("Patient has been deleted"), out);
  store::CompartmentQuery q;
  q.type = std::string(type);
  q.id = std::string(id);
  q.links = PatientCompartmentLinks();
  q.count = options_.default_page_size;
  std::string type_filter;
  for (const auto& [k, v] : ctx.params) {
    if (k == "_count") {
      int n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size() || n < 1) {
        return SetError(Status::Invalid("_count must be a positive whole number"), out);
      }
      q.count = std::min(n, options_.max_page_size);
    } else if (k == "_cursor") {
      int64_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size() || n < 0) {
        return SetError(Status::Invalid("_cursor is not a valid page token"), out);
      }
      q.after_rid = n;
    } else if (k == "_type") {
      type_filter = v;
      size_t start = 0;
      while (start <= v.size()) {
        size_t comma = v.find(',', start);
        std::string t = v.substr(start, comma == std::string::npos ? comma : comma - start);
        if (!IsStorableType(t)) return SetError(Status::Invalid("_type: unknown type " + t), out);
        q.types.push_back(std::move(t));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (k != "_format" && ctx.strict) {
      return SetError(Status::Invalid("$everything does not take '" + k + "'"), out);
    }
  }
  auto result = store_.Compartment(q);
  if (!result.ok()) return SetError(result.status(), out);
  std::string self = ctx.base + "/Patient/" + std::string(id) + "/$everything?_count=" +
                     std::to_string(q.count) +
                     (type_filter.empty() ? "" : "&_type=" + QueryEscape(type_filter));
  std::string s = R"({"resourceType":"Bundle","id":")" + NewId() + R"(","meta":{"lastUpdated":")" +
                  FormatInstant(clock_.NowMs()) + R"("},"type":"searchset")";
  if (q.after_rid == 0 && result->next_after_rid == 0) {
    s += R"(,"total":)" + std::to_string(result->matches.size());
  }
  s += R"(,"link":[{"relation":"self","url":)";
  AppendJsonString(q.after_rid ? self + "&_cursor=" + std::to_string(q.after_rid) : self, &s);
  s += "}";
  if (result->next_after_rid > 0) {
    s += R"(,{"relation":"next","url":)";
    AppendJsonString(self + "&_cursor=" + std::to_string(result->next_after_rid), &s);
    s += "}";
  }
  s += "]";
  if (!result->matches.empty()) s += R"(,"entry":[)";
  for (size_t i = 0; i < result->matches.size(); ++i) {
    const auto& m = result->matches[i];
    if (i) s += ",";
    s += R"({"fullUrl":)";
    AppendJsonString(ctx.base + "/" + m.type + "/" + m.id, &s);
    s += R"(,"resource":)" + m.body + R"(,"search":{"mode":"match"}})";
  }
  if (!result->matches.empty()) s += "]";
  s += "}";
  out->status = 200;
  out->SetHeader("Content-Type", std::string(kFhirJson));
  out->body = std::move(s);
}

}  // namespace crs::api
