// History at instance, type and system level, paged by a keyset cursor
// (_cursor = the history position to continue below), so that pages stay
// exact while writes continue.
#include <boost/json.hpp>
#include <charconv>

#include "api/demographics.h"
#include "api/handler_internal.h"
#include "api/outcome.h"
#include "core/ids.h"

namespace crs::api {

namespace {

const char* RequestMethod(store::Method m) {
  switch (m) {
    case store::Method::kCreate: return "POST";
    case store::Method::kUpdate: return "PUT";
    case store::Method::kDelete: return "DELETE";
    case store::Method::kPatch: return "PATCH";
    case store::Method::kPurge: return "DELETE";  // never listed: purged versions are gone
  }
  return "PUT";
}

const char* ResponseStatus(store::Method m) {
  switch (m) {
    case store::Method::kCreate: return "201 Created";
    case store::Method::kDelete: return "204 No Content";
    default: return "200 OK";
  }
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

void FhirApi::History(RequestContext& ctx, const std::string* type, const std::string* id,
                      http::Response* out) {
  ctx.trail.action = "history";
  if (type) {
    if (Status st = Allow(ctx, *type, id ? 'r' : 's'); !st.ok()) return SetError(st, out);
  }
  store::HistoryQuery q;
  if (type) q.type = *type;
  if (id) q.id = *id;
  q.count = options_.default_page_size;
  std::string since_text;
  for (const auto& [k, v] : ctx.params) {
    if (k == "_count") {
      auto n = ParseInt(v);
      if (!n || *n < 0) return SetError(Status::Invalid("_count must be a whole number"), out);
      q.count = static_cast<int>(std::min<int64_t>(*n, options_.max_page_size));
    } else if (k == "_since") {
      auto ms = ParseFhirDateTime(v);
      if (!ms || v.find('T') == std::string::npos) {
        return SetError(Status::Invalid("_since must be an instant, e.g. 2026-01-01T00:00:00Z"),
                        out);
      }
      q.since_ms = *ms;
      since_text = v;
    } else if (k == "_cursor") {
      auto n = ParseInt(v);
      if (!n || *n < 1) return SetError(Status::Invalid("_cursor is not a valid page token"), out);
      q.before_seq = *n;
    } else if (k == "_format") {
      continue;
    } else if (ctx.strict) {
      return SetError(Status::Invalid("unsupported history parameter '" + k + "'"), out);
    }
  }
  if (id) {
    // An instance history of something that never existed is a 404.
    auto cur = store_.Read(*type, *id);
    if (ctx.caller && cur.ok()) ctx.caller->named_patients = {cur->access.patient};
    if ((cur.ok() && !See(ctx, *type, *id, cur->access, 'r')) ||
        (!cur.ok() && cur.status().code() == Code::kNotFound)) {
      return SetError(Status::NotFound(*type + " not found"), out);
    }
    if (!cur.ok()) return SetError(cur.status(), out);
    q.access = FilterOf(ctx, 'r');
  } else {
    // Type and system history list only versions of resources the caller may see.
    q.access = FilterOf(ctx, 's');
  }
  store::HistoryPage page;
  if (q.count > 0) {
    auto r = store_.History(q);
    if (!r.ok()) return SetError(r.status(), out);
    page = std::move(*r);
  }

  std::string path = ctx.base;
  if (type) path += "/" + *type;
  if (id) path += "/" + *id;
  path += "/_history";
  auto link = [&](int64_t cursor) {
    std::string url = path + "?_count=" + std::to_string(q.count);
    if (!since_text.empty()) url += "&_since=" + since_text;
    if (cursor > 0) url += "&_cursor=" + std::to_string(cursor);
    return url;
  };

  std::string s;
  s.reserve(256 + page.versions.size() * 1024);
  s += R"({"resourceType":"Bundle","id":")" + NewId() + R"(","meta":{"lastUpdated":")" +
       FormatInstant(clock_.NowMs()) + R"("},"type":"history","link":[{"relation":"self","url":)";
  AppendJsonString(link(q.before_seq), &s);
  s += "}";
  if (page.next_before_seq > 0) {
    s += R"(,{"relation":"next","url":)";
    AppendJsonString(link(page.next_before_seq), &s);
    s += "}";
  }
  s += "]";
  if (!page.versions.empty()) s += R"(,"entry":[)";
  bool first = true;
  for (const auto& v : page.versions) {
    if (!first) s += ",";
    first = false;
    s += R"({"fullUrl":)";
    AppendJsonString(ctx.base + "/" + v.type + "/" + v.id, &s);
    if (!v.deleted) {
      s += R"(,"resource":)";
      // The current labels, or this version's own: either restricts it.
      uint32_t labels = v.access.labels;
      if (v.type == "Patient" && IsRestrictedPatientBody(v.body)) {
        labels |= store::AccessFacts::kRestricted;
      }
      AppendShown(ctx, v.type, v.access.patient, labels, v.body, &s);
    }
    s += R"(,"request":{"method":")";
    s += RequestMethod(v.method);
    s += R"(","url":)";
    AppendJsonString(v.method == store::Method::kCreate ? v.type : v.type + "/" + v.id, &s);
    s += R"(},"response":{"status":")";
    s += ResponseStatus(v.method);
    s += R"(","etag":)";
    AppendJsonString(ETagOf(v.version), &s);
    s += R"(,"lastModified":")" + FormatInstant(v.last_updated_ms) + R"("}})";
  }
  if (!page.versions.empty()) s += "]";
  s += "}";
  out->status = 200;
  out->SetHeader("Content-Type", std::string(kFhirJson));
  out->body = std::move(s);
}

Result<Prepared> FhirApi::ReplayedWrite(const store::VersionRef& ref) {
  auto v = store_.ReadVersion(ref.type, ref.id, ref.version);
  if (!v.ok()) return v.status();
  Prepared p;
  p.type = ref.type;
  p.id = ref.id;
  p.version = ref.version;
  p.last_updated_ms = v->last_updated_ms;
  p.body = v->deleted ? std::string() : std::move(v->body);
  p.existing = std::move(v->access);
  p.status = v->deleted ? 204 : v->method == store::Method::kCreate ? 201 : 200;
  return p;
}

void FhirApi::ReplayResult(RequestContext& ctx, const store::CommitResult& committed,
                           http::Response* out) {
  if (committed.applied.empty()) return SetError(Status::Internal("empty replay"), out);
  auto p = ReplayedWrite(committed.applied.front());
  if (!p.ok()) return SetError(p.status(), out);
  WriteResult(ctx, *p, out);
}

}  // namespace crs::api
