// Type-level search (GET /fhir/Type?..., POST /fhir/Type/_search) and the
// conditional interactions built on it (create with If-None-Exist,
// conditional update and delete).
#include "api/search.h"

#include <algorithm>
#include <boost/json.hpp>

#include "access/facts.h"
#include "api/handler_internal.h"
#include "api/outcome.h"
#include "api/resource_io.h"
#include "core/ids.h"
#include "fhir/index/registry.h"

namespace crs::api {

namespace json = boost::json;

namespace {

// The patients a search names explicitly (patient=, subject=, Patient?_id=,
// Patient?identifier=<nhs-number>): the only ones break-glass or a
// self-claimed relationship can open.
std::vector<std::string> NamedPatients(
    std::string_view type, const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<std::string> out;
  auto add_all = [&](std::string_view v, std::string_view strip) {
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view one = v.substr(0, comma);
      v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
      if (!strip.empty() && one.substr(0, strip.size()) == strip) one.remove_prefix(strip.size());
      if (size_t slash = one.rfind("/Patient/"); slash != std::string_view::npos) {
        one.remove_prefix(slash + 9);
      }
      if (!one.empty() && one.find('/') == std::string_view::npos) out.emplace_back(one);
    }
  };
  for (const auto& [k, v] : params) {
    if (k == "patient" || k == "subject" || k == "subject:Patient" || k == "patient:Patient") {
      add_all(v, "Patient/");
    } else if (type == "Patient" && k == "_id") {
      add_all(v, "");
    } else if (type == "Patient" && k == "identifier") {
      add_all(v, "https://fhir.nhs.uk/Id/nhs-number|");
    }
  }
  return out;
}

}  // namespace

void FhirApi::AppendSubset(const RequestContext& ctx, std::string_view type,
                           const store::SearchMatch& m, const Subsetting& subset, bool match,
                           std::string* out) {
  if (!subset.active()) return AppendShown(ctx, type, m.patient, m.labels, m.body, out);
  std::string shown;
  AppendShown(ctx, type, m.patient, m.labels, m.body, &shown);
  // _elements narrows the matches only; included resources come whole
  // (or in the _summary form asked for).
  out->append(SubsetResource(type, shown, subset, /*apply_elements=*/match));
}

void FhirApi::Search(RequestContext& ctx, std::string_view type,
                     const std::vector<std::pair<std::string, std::string>>& params,
                     http::Response* out) {
  ctx.trail.action = "search";
  if (Status st = Allow(ctx, type, 's'); !st.ok()) return SetError(st, out);
  if (IsTraceSearch(type, params)) return Trace(ctx, params, out);
  auto parsed = ParseSearch(type, params, ctx.strict, options_.default_page_size,
                            options_.max_page_size, store_.KeepsFullText());
  if (!parsed.ok()) return SetError(parsed.status(), out);
  store::SearchQuery& q = parsed->query;
  if (ctx.caller) {
    if (q.explain && !ctx.caller->is_system()) {
      return SetError(Status::Forbidden("_explain is for backend services (role system)"), out);
    }
    ctx.caller->named_patients = NamedPatients(type, params);
    q.access = FilterOf(ctx, 's');
    const access::Caller& c = *ctx.caller;
    if (options_.policy.national && c.Has(access::kViewClinical) && !c.permission_to_view &&
        !c.break_glass() && type != "Patient" && !access::PatientLinkParams(type).empty()) {
      // Say why a clinician sees no clinical records, without revealing any.
      parsed->warnings.push_back(
          "patients' clinical records are shown only with X-Permission-To-View: granted "
          "(the patient agreed at the point of care) or emergency access; none are included");
    }
  }
  return RespondSearch(ctx, *parsed, ctx.base + "/" + std::string(type), "", out);
}

void FhirApi::SystemSearch(RequestContext& ctx,
                           const std::vector<std::pair<std::string, std::string>>& params,
                           http::Response* out) {
  ctx.trail.action = "search";
  const auto& all_types = fhir::index::IndexRegistry::Get().params().ResourceTypes();
  std::vector<std::string> types;
  std::vector<std::pair<std::string, std::string>> rest;
  std::string type_param;
  bool has_type = false;
  for (const auto& [k, v] : params) {
    if (k != "_type") {
      rest.emplace_back(k, v);
      continue;
    }
    has_type = true;
    type_param += (type_param.empty() ? "" : ",") + v;
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      std::string t =
          v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      start = comma == std::string::npos ? v.size() + 1 : comma + 1;
      if (!IsStorableType(t)) {
        return SetError(Status::Invalid("_type: '" + t + "' is not a resource type"), out);
      }
      if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
    }
  }
  // Every listed type must be searchable by the caller, as in type-level
  // search; without _type, the search spans the types it may search.
  for (const auto& t : types) {
    if (Status st = Allow(ctx, t, 's'); !st.ok()) return SetError(st, out);
  }
  if (!has_type && ctx.caller) {
    for (const auto& t : all_types) {
      if (IsStorableType(t) && Allow(ctx, t, 's').ok()) types.push_back(t);
    }
    if (types.empty()) {
      return SetError(Status::Forbidden("no resource type may be searched with this token"), out);
    }
    if (types.size() == all_types.size()) types.clear();  // every type: no narrowing
  }
  // Without _type, only the parameters common to every type apply.
  auto parsed = ParseSystemSearch(has_type ? types : std::vector<std::string>{}, rest, ctx.strict,
                                  options_.default_page_size, options_.max_page_size,
                                  store_.KeepsFullText());
  if (!parsed.ok()) return SetError(parsed.status(), out);
  store::SearchQuery& q = parsed->query;
  q.types = types;
  if (ctx.caller) {
    if (q.explain && !ctx.caller->is_system()) {
      return SetError(Status::Forbidden("_explain is for backend services (role system)"), out);
    }
    ctx.caller->named_patients =
        types.size() == 1 ? NamedPatients(types.front(), rest) : std::vector<std::string>{};
    q.access = FilterOf(ctx, 's');
    const access::Caller& c = *ctx.caller;
    bool clinical = false;
    for (const auto& t : types.empty() ? all_types : types) {
      if (t != "Patient" && !access::PatientLinkParams(t).empty()) clinical = true;
    }
    if (options_.policy.national && c.Has(access::kViewClinical) && !c.permission_to_view &&
        !c.break_glass() && clinical) {
      parsed->warnings.push_back(
          "patients' clinical records are shown only with X-Permission-To-View: granted "
          "(the patient agreed at the point of care) or emergency access; none are included");
    }
  }
  std::string link_params = has_type ? "_type=" + QueryEscape(type_param) : "";
  return RespondSearch(ctx, *parsed, ctx.base, link_params, out);
}

void FhirApi::RespondSearch(RequestContext& ctx, ParsedSearch& parsed_search,
                            const std::string& path, const std::string& link_params,
                            http::Response* out) {
  ParsedSearch* parsed = &parsed_search;
  store::SearchQuery& q = parsed->query;
  std::string_view type = q.type;
  if (parsed->summary_count) {
    q.count = 0;
    q.want_total = true;
  } else if (parsed->total_requested) {
    q.want_total = true;
  }
  auto result = store_.Search(q);
  if (!result.ok()) return SetError(result.status(), out);
  Saw(ctx, *result, type);
  if (q.explain) {
    return SetOutcome(200, OperationOutcomeJson("information", "informational", result->plan),
                      out);
  }
  // A single last page gives an exact total for free.
  if (!result->total && q.after_rid == 0 && q.after_sort.empty() && result->next_after_rid == 0 &&
      q.count > 0) {
    result->total = static_cast<int64_t>(result->matches.size());
  }
  std::string params = link_params;
  if (!parsed->canonical_params.empty()) {
    params += (params.empty() ? "" : "&") + parsed->canonical_params;
  }
  std::string base_link = path + "?" + params;
  auto link = [&](const std::string& cursor) {
    std::string url = base_link;
    if (!params.empty()) url += "&";
    url += "_count=" + std::to_string(q.count);
    if (!cursor.empty()) url += "&_cursor=" + QueryEscape(cursor);
    return url;
  };
  auto cursor_of = [&](const std::vector<store::SortValue>& keys, int64_t rid) -> std::string {
    if (rid <= 0 && keys.empty()) return "";
    return q.sort.empty() ? std::to_string(rid) : SearchCursor(keys, rid);
  };
  std::string s = R"({"resourceType":"Bundle","id":")" + NewId() + R"(","meta":{"lastUpdated":")" +
                  FormatInstant(clock_.NowMs()) + R"("},"type":"searchset")";
  if (result->total) s += R"(,"total":)" + std::to_string(*result->total);
  s += R"(,"link":[{"relation":"self","url":)";
  AppendJsonString(link(cursor_of(q.after_sort, q.after_rid)), &s);
  s += "}";
  if (result->next_after_rid > 0) {
    s += R"(,{"relation":"next","url":)";
    AppendJsonString(link(cursor_of(result->next_after_sort, result->next_after_rid)), &s);
    s += "}";
  }
  s += "]";
  bool any = !result->matches.empty() || !parsed->warnings.empty() ||
             result->included_left_out > 0;
  if (any) s += R"(,"entry":[)";
  bool first = true;
  for (const auto& m : result->matches) {
    if (!first) s += ",";
    first = false;
    std::string_view match_type = m.type.empty() ? type : std::string_view(m.type);
    s += R"({"fullUrl":)";
    AppendJsonString(ctx.base + "/" + std::string(match_type) + "/" + m.id, &s);
    s += R"(,"resource":)";
    AppendSubset(ctx, match_type, m, parsed->subset, /*match=*/true, &s);
    s += R"(,"search":{"mode":"match"}})";
  }
  for (const auto& m : result->included) {
    if (!first) s += ",";
    first = false;
    s += R"({"fullUrl":)";
    AppendJsonString(ctx.base + "/" + m.type + "/" + m.id, &s);
    s += R"(,"resource":)";
    AppendSubset(ctx, m.type, m, parsed->subset, /*match=*/false, &s);
    s += R"(,"search":{"mode":"include"}})";
  }
  if (result->included_left_out > 0) {
    // Never truncate silently: say how many were left out and how to get them.
    parsed->warnings.push_back(std::to_string(result->included_left_out) +
                               " included resources were left out of this page (limit " +
                               std::to_string(q.include_limit) +
                               "); ask for a smaller _count to receive them all");
  }
  if (!parsed->warnings.empty()) {
    json::array issues;
    for (const auto& w : parsed->warnings) {
      issues.push_back(json::object{{"severity", "warning"}, {"code", "not-supported"},
                                    {"diagnostics", w}});
    }
    json::object oo{{"resourceType", "OperationOutcome"}, {"issue", std::move(issues)}};
    if (!first) s += ",";
    s += R"({"resource":)" + json::serialize(oo) + R"(,"search":{"mode":"outcome"}})";
  }
  if (any) s += "]";
  s += "}";
  out->status = 200;
  out->SetHeader("Content-Type", std::string(kFhirJson));
  out->body = std::move(s);
}

Result<std::vector<std::string>> FhirApi::ConditionalMatches(RequestContext& ctx,
                                                             std::string_view type,
                                                             std::string_view query) {
  auto params = http::ParseQuery(query);
  if (params.empty()) return Status::Invalid("conditional criteria are empty");
  auto parsed = ParseSearch(type, params, /*strict=*/true, 2, 2, store_.KeepsFullText());
  if (!parsed.ok()) return parsed.status();
  // Criteria match only what the caller may see: a conditional operation
  // never reveals, changes or collides with a hidden resource.
  if (ctx.caller) {
    ctx.caller->named_patients = NamedPatients(type, params);
    parsed->query.access = FilterOf(ctx, 'u');
  }
  parsed->query.count = 2;  // one or several is all that matters
  parsed->query.after_rid = 0;
  auto result = store_.Search(parsed->query);
  if (!result.ok()) return result.status();
  std::vector<std::string> ids;
  for (const auto& m : result->matches) ids.push_back(m.id);
  return ids;
}

}  // namespace crs::api
