// GET /fhir/Patient/{id}/$everything: the patient and every resource in its
// compartment, as defined by the official CompartmentDefinition/patient
// (src/fhir/data/compartment_patient.json, tools/gen_compartments.py), paged.
#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <map>

#include "access/facts.h"
#include "api/handler_internal.h"
#include "api/outcome.h"
#include "api/resource_io.h"
#include "api/search.h"
#include "core/ids.h"
#include "core/time.h"
#include "fhir/index/date_range.h"
#include "fhir/index/registry.h"
#include "fhir/json_util.h"

namespace crs::api {

namespace json = boost::json;
using fhir::StringField;

namespace {

// At most this many pages of 500 pointers are followed for one patient.
constexpr int kMaxPointerPages = 20;

// A pointer's custodian (ODS code) and the record's URL ("" when absent).
std::pair<std::string, std::string> PointerTarget(const std::string& body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  const json::object& o = v.get_object();
  std::string ods;
  if (const json::value* c = o.if_contains("custodian"); c && c->is_object()) {
    if (const json::value* i = c->get_object().if_contains("identifier"); i && i->is_object()) {
      ods = StringField(i->get_object(), "value");
    }
  }
  std::string url;
  if (const json::value* content = o.if_contains("content");
      content && content->is_array() && !content->get_array().empty()) {
    const json::value& first = content->get_array().front();
    const json::value* a = first.is_object() ? first.get_object().if_contains("attachment")
                                             : nullptr;
    if (a && a->is_object()) url = StringField(a->get_object(), "url");
  }
  return {ods, url};
}

// Whether a record URL ".../Type/id" names one of `types` (empty: any).
bool OfTypes(std::string_view url, const std::vector<std::string>& types) {
  if (types.empty()) return true;
  size_t last = url.rfind('/');
  if (last == std::string_view::npos || last == 0) return false;
  size_t prev = url.rfind('/', last - 1);
  std::string_view type = url.substr(prev + 1, last - prev - 1);
  return std::find(types.begin(), types.end(), type) != types.end();
}

// The OperationOutcome naming the holders that did not answer, and why.
std::string UnansweredOutcome(const std::vector<std::pair<std::string, std::string>>& nodes) {
  json::array issues;
  for (const auto& [ods, reason] : nodes) {
    issues.push_back(json::object{
        {"severity", "warning"},
        {"code", "incomplete"},
        {"details",
         json::object{{"coding", json::array{json::object{
                                     {"system", "https://fhir.nhs.uk/Id/ods-organization-code"},
                                     {"code", ods}}}},
                      {"text", "node " + ods + " did not answer: " + reason}}},
        {"diagnostics", "records held by " + ods + " are missing from this result"}});
  }
  return json::serialize(json::object{{"resourceType", "OperationOutcome"},
                                      {"issue", std::move(issues)}});
}

// Per compartment type, the date parameter that holds its date of care
// (start/end): the first of a short list of parameters meaning that (a
// MedicationRequest's authoring, the type's `date`, a Condition's onset...). Types with none
// (Patient, Organization...) are not narrowed by start/end.
const std::vector<std::pair<std::string, std::string>>& CareDates() {
  static const auto* kCareDates = [] {
    auto* out = new std::vector<std::pair<std::string, std::string>>();
    const auto& registry = fhir::index::IndexRegistry::Get().params();
    std::vector<std::string> types;
    for (const auto& [t, code] : access::PatientCompartmentLinks()) {
      if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
    }
    for (const auto& t : types) {
      // A MedicationRequest's `date` is its dosage timing; its care date is
      // when it was authored, so authoredon comes first.
      for (const char* code : {"authoredon", "date", "effective", "onset-date", "occurrence",
                               "period", "recorded-date", "created", "issued"}) {
        const fhir::SearchParam* sp = registry.Find(t, code);
        if (sp != nullptr && sp->type == fhir::SearchParamType::kDate) {
          out->emplace_back(t, code);
          break;
        }
      }
    }
    return out;
  }();
  return *kCareDates;
}

}  // namespace

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
  std::string extra_params;  // _since, start, end for the links
  bool federated = false;
  for (const auto& [k, v] : ctx.params) {
    if (k == "_federated") {
      if (v != "true" && v != "false") {
        return SetError(Status::Invalid("_federated must be true or false"), out);
      }
      federated = v == "true";
      if (federated && !options_.fan_out) {
        return SetError(Status::Invalid("this node does not fan out: _federated=true is "
                                        "served by the national node"), out);
      }
    } else if (k == "_count") {
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
    } else if (k == "_since") {
      auto ms = ParseFhirDateTime(v);
      if (!ms || v.find('T') == std::string::npos) {
        return SetError(Status::Invalid("_since must be an instant, e.g. 2026-01-01T00:00:00Z"),
                        out);
      }
      q.since_ms = *ms;
      extra_params += "&_since=" + QueryEscape(v);
    } else if (k == "start" || k == "end") {
      auto range = fhir::index::ParseSearchDate(v);
      if (!range) {
        return SetError(Status::Invalid(k + " must be a date, e.g. 2020 or 2020-01-31"), out);
      }
      // Inclusive at the value's precision: end=2020 runs to the end of 2020.
      if (k == "start") {
        q.care_low_ms = range->low_ms;
      } else {
        q.care_high_ms = range->high_ms;
      }
      extra_params += "&" + k + "=" + QueryEscape(v);
    } else if (k != "_format" && ctx.strict) {
      return SetError(Status::Invalid("$everything does not take '" + k + "'"), out);
    }
  }
  if (q.care_low_ms && q.care_high_ms && *q.care_low_ms >= *q.care_high_ms) {
    return SetError(Status::Invalid("start is after end"), out);
  }
  if (q.care_low_ms || q.care_high_ms) q.care_dates = CareDates();
  if (federated && !extra_params.empty()) {
    // The holders' records are fetched whole by URL; they could not be
    // narrowed, so the combination is refused rather than half-applied.
    return SetError(Status::Invalid("_since, start and end are not supported with "
                                    "_federated=true"),
                    out);
  }
  q.access = FilterOf(ctx, 's');
  auto result = store_.Compartment(q);
  if (!result.ok()) return SetError(result.status(), out);
  Saw(ctx, *result, "");
  // The holders' records come with the first page only; later pages are
  // this node's.
  FederatedRecords remote;
  if (federated && q.after_rid == 0) {
    ctx.trail.action = "everything-federated";
    auto fetched = Federate(ctx, id, q.types);
    if (!fetched.ok()) return SetError(fetched.status(), out);
    remote = std::move(*fetched);
  }
  std::string self = ctx.base + "/Patient/" + std::string(id) +
                     "/$everything?_count=" + std::to_string(q.count) +
                     (type_filter.empty() ? "" : "&_type=" + QueryEscape(type_filter)) +
                     extra_params + (federated ? "&_federated=true" : "");
  std::string s = BeginPagedSearchset(self, q.after_rid, result->next_after_rid,
                                      result->matches.size() + remote.records.size());
  bool any = !result->matches.empty() || !remote.records.empty() || !remote.unanswered.empty();
  if (any) s += R"(,"entry":[)";
  for (size_t i = 0; i < result->matches.size(); ++i) {
    const auto& m = result->matches[i];
    if (i) s += ",";
    s += R"({"fullUrl":)";
    AppendJsonString(ctx.base + "/" + m.type + "/" + m.id, &s);
    s += R"(,"resource":)";
    AppendShown(ctx, m.type, m.patient, m.labels, m.body, &s);
    s += R"(,"search":{"mode":"match"}})";
  }
  bool first = result->matches.empty();
  for (const auto& r : remote.records) {
    if (!first) s += ",";
    first = false;
    s += R"({"fullUrl":)";
    AppendJsonString(r.url, &s);
    s += R"(,"resource":)" + r.body + R"(,"search":{"mode":"match"}})";
  }
  if (!remote.unanswered.empty()) {
    if (!first) s += ",";
    s += R"({"resource":)" + UnansweredOutcome(remote.unanswered) +
         R"(,"search":{"mode":"outcome"}})";
  }
  if (any) s += "]";
  s += "}";
  out->status = 200;
  out->SetHeader("Content-Type", std::string(kFhirJson));
  out->body = std::move(s);
}

Result<FederatedRecords> FhirApi::Federate(RequestContext& ctx, std::string_view patient,
                                           const std::vector<std::string>& types) {
  // The pointers the caller may see, grouped by their custodian.
  store::SearchQuery q;
  q.type = "DocumentReference";
  q.count = 500;
  store::Predicate ref;
  ref.param = "patient";
  ref.table = store::IndexTable::kReference;
  ref.any_of.push_back(store::ReferenceCond{std::string("Patient"), std::string(patient),
                                            std::nullopt});
  q.all_of.push_back(std::move(ref));
  // Superseded pointers (replaced by relatesTo, e.g. after a GP2GP
  // transfer) name records their holder no longer keeps current.
  store::Predicate current;
  current.param = "status";
  current.table = store::IndexTable::kToken;
  store::TokenCond t;
  t.code = "current";
  current.any_of.push_back(t);
  q.all_of.push_back(std::move(current));
  q.access = FilterOf(ctx, 's');
  std::map<std::string, std::vector<std::string>> by_holder;
  for (int page = 0; page < kMaxPointerPages; ++page) {
    CRS_ASSIGN_OR_RETURN(store::SearchResult r, store_.Search(q));
    Saw(ctx, r, "");
    for (const auto& m : r.matches) {
      auto [ods, url] = PointerTarget(m.body);
      if (ods.empty() || url.empty() || !OfTypes(url, types)) continue;
      by_holder[ods].push_back(std::move(url));
    }
    if (r.next_after_rid == 0) break;
    q.after_rid = r.next_after_rid;
  }
  std::vector<HolderRecords> holders;
  for (auto& [ods, urls] : by_holder) holders.push_back({ods, std::move(urls)});
  // The caller's own credentials and purpose: each holder decides and audits.
  std::vector<std::pair<std::string, std::string>> headers = {
      {"accept", std::string(kFhirJson)}};
  for (const char* h : {"authorization", "x-purpose-of-use", "x-access-justification",
                        "x-permission-to-view", "x-legitimate-relationship",
                        "x-correlation-id"}) {
    if (auto v = ctx.request.headers.Get(h); !v.empty()) headers.emplace_back(h, std::string(v));
  }
  // The holders' audit records carry this request's id when the caller
  // gave no correlation id, so each access traces back to this fan-out.
  if (ctx.request.headers.Get("x-correlation-id").empty() && !ctx.request.request_id.empty()) {
    headers.emplace_back("x-correlation-id", ctx.request.request_id);
  }
  FederatedRecords fetched = holders.empty() ? FederatedRecords{}
                                             : options_.fan_out(holders, headers);
  // The national node's own record of the fan-out: whom it asked, what came back.
  std::string note = "federated $everything:";
  for (const auto& h : holders) {
    size_t n = 0;
    for (const auto& r : fetched.records) n += r.ods == h.ods ? 1 : 0;
    note += " " + h.ods + " asked for " + std::to_string(h.urls.size()) + ", " +
            std::to_string(n) + " returned;";
  }
  for (const auto& [ods, reason] : fetched.unanswered) note += " " + ods + " " + reason + ";";
  ctx.trail.note = std::move(note);
  return fetched;
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
