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
#include "access/facts.h"
#include "fhir/index/registry.h"

namespace crs::api {

namespace json = boost::json;

void FhirApi::Everything(RequestContext& ctx, std::string_view type, std::string_view id,
                         http::Response* out) {
  if (type != "Patient") {
    return SetError(Status(Code::kMethodNotAllowed, "$everything is defined on Patient"), out);
  }
  ctx.trail.action = "everything";
  if (Status st = Allow(ctx, type, 's'); !st.ok()) return SetError(st, out);
  auto owner = store_.Read(type, id);
  if (ctx.caller) ctx.caller->named_patients = {std::string(id)};
  if ((owner.ok() && !See(ctx, type, id, owner->access, 'r')) ||
      (!owner.ok() && owner.status().code() == Code::kNotFound)) {
    return SetError(Status::NotFound("Patient not found"), out);
  }
  if (!owner.ok()) return SetError(owner.status(), out);
  if (owner->deleted) return SetError(Status::Gone("Patient has been deleted"), out);
  store::CompartmentQuery q;
  q.type = std::string(type);
  q.id = std::string(id);
  q.links = access::PatientCompartmentLinks();
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
  q.access = FilterOf(ctx, 's');
  auto result = store_.Compartment(q);
  if (!result.ok()) return SetError(result.status(), out);
  Saw(ctx, *result, "");
  std::string self = ctx.base + "/Patient/" + std::string(id) + "/$everything?_count=" +
                     std::to_string(q.count) +
                     (type_filter.empty() ? "" : "&_type=" + QueryEscape(type_filter));
  std::string s =
      BeginPagedSearchset(self, q.after_rid, result->next_after_rid, result->matches.size());
  if (!result->matches.empty()) s += R"(,"entry":[)";
  for (size_t i = 0; i < result->matches.size(); ++i) {
    const auto& m = result->matches[i];
    if (i) s += ",";
    s += R"({"fullUrl":)";
    AppendJsonString(ctx.base + "/" + m.type + "/" + m.id, &s);
    s += R"(,"resource":)";
    AppendShown(ctx, m.type, m.patient, m.labels, m.body, &s);
    s += R"(,"search":{"mode":"match"}})";
  }
  if (!result->matches.empty()) s += "]";
  s += "}";
  out->status = 200;
  out->SetHeader("Content-Type", std::string(kFhirJson));
  out->body = std::move(s);
}

}  // namespace crs::api

namespace crs::api {

std::string FhirApi::BeginPagedSearchset(const std::string& self, int64_t cursor,
                                         int64_t next_cursor, size_t page_size) {
  std::string s = R"({"resourceType":"Bundle","id":")" + NewId() + R"(","meta":{"lastUpdated":")" +
                  FormatInstant(clock_.NowMs()) + R"("},"type":"searchset")";
  if (cursor == 0 && next_cursor == 0) s += R"(,"total":)" + std::to_string(page_size);
  s += R"(,"link":[{"relation":"self","url":)";
  AppendJsonString(cursor ? self + "&_cursor=" + std::to_string(cursor) : self, &s);
  s += "}";
  if (next_cursor > 0) {
    s += R"(,{"relation":"next","url":)";
    AppendJsonString(self + "&_cursor=" + std::to_string(next_cursor), &s);
    s += "}";
  }
  s += "]";
  return s;
}

}  // namespace crs::api
