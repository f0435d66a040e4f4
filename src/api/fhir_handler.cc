// Routing and the single-resource interactions (read, vread, create, update,
// delete, patch). History, Bundles and the CapabilityStatement live in their
// own files.
#include <boost/json.hpp>
#include <exception>
#include <optional>
#include <system_error>
#include <thread>

#include "api/demographics.h"
#include "api/handler_internal.h"
#include "api/outcome.h"
#include "api/resource_io.h"
#include "api/subset.h"
#include "api/web_ui.h"
#include "core/ids.h"
#include "store/client_scope.h"
#include "spdlog/spdlog.h"

namespace crs::api {

namespace json = boost::json;

namespace {

bool IsJsonMediaType(std::string_view mt) {
  size_t semi = mt.find(';');
  mt = mt.substr(0, semi);
  while (!mt.empty() && mt.back() == ' ') mt.remove_suffix(1);
  while (!mt.empty() && mt.front() == ' ') mt.remove_prefix(1);
  return mt == "application/fhir+json" || mt == "application/json" ||
         mt == "application/json+fhir";
}

// True when the Accept header admits a JSON answer.
bool AcceptsJson(std::string_view accept) {
  if (accept.empty()) return true;
  while (!accept.empty()) {
    size_t comma = accept.find(',');
    std::string_view item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    size_t semi = item.find(';');
    std::string_view mt = item.substr(0, semi);
    while (!mt.empty() && mt.front() == ' ') mt.remove_prefix(1);
    while (!mt.empty() && mt.back() == ' ') mt.remove_suffix(1);
    if (mt == "*/*" || mt == "application/*" || IsJsonMediaType(mt)) return true;
  }
  return false;
}

bool FormatIsJson(std::string_view format) {
  return format == "json" || format == "application/json" || format == "application/fhir+json" ||
         format == "application/json+fhir";
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

void SetStatusText(int status, std::string text, http::Response* out) {
  out->status = status;
  out->SetHeader("Content-Type", "text/plain; charset=utf-8");
  out->body = std::move(text);
}

// The patient of a Summary Care Record index lookup (docs/summary.md):
// DocumentReference?patient=<nhs> (also Patient/<nhs> or
// https://fhir.nhs.uk/Id/nhs-number|<nhs>), optionally with the SCR's
// type; anything else is an ordinary DocumentReference search.
std::optional<std::string> SummaryIndexPatient(
    const std::vector<std::pair<std::string, std::string>>& params) {
  std::optional<std::string> patient;
  for (const auto& [k, v] : params) {
    if (k == "patient" && !patient) {
      std::string_view p = v;
      if (p.starts_with("Patient/")) p.remove_prefix(8);
      constexpr std::string_view kSystem = "https://fhir.nhs.uk/Id/nhs-number|";
      if (p.starts_with(kSystem)) p.remove_prefix(kSystem.size());
      patient = std::string(p);
    } else if (k == "type") {
      if (v != "http://snomed.info/sct|196981000000101" && v != "196981000000101") return std::nullopt;
    } else if (k != "_format") {
      return std::nullopt;
    }
  }
  if (patient && CheckIdSyntax(*patient).ok()) return patient;
  return std::nullopt;
}

class FhirHandler final : public http::Handler {
 public:
  FhirHandler(store::Store& store, const Clock& clock, const ApiOptions& options)
      : api_(store, clock, options) {
    api_.dispatch = [this](const http::Request& r, http::Response* out, AuditTrail* trail) {
      RouteInfo info;
      Route(r, out, &info);
      if (trail == nullptr) return;
      trail->patients.insert(info.trail.patients.begin(), info.trail.patients.end());
      trail->alerts.insert(info.trail.alerts.begin(), info.trail.alerts.end());
      for (auto& res : info.trail.resources) trail->resources.push_back(std::move(res));
      trail->denied = trail->denied || info.trail.denied;
    };
    api_.redo = [this](const http::Request& r, http::Response* out) {
      Serve(r, out, /*may_defer=*/false);
      if (Status st = http::AwaitHeld(out); !st.ok()) {
        *out = http::Response();
        TransportError(HttpStatusOf(st.code()), st.message(), out);
      }
    };
  }

  bool RunsInline(const http::Request& request) const override {
    // Verifying the whole audit chain takes a while: never on an I/O thread.
    // Nor the federated $everything, which waits on other nodes, nor any
    // read on a linked local node, which may wait on the national node's
    // consent state.
    if (api_.options().national_consent) return false;
    // A create whose commit will not hold the thread (FhirApi::CommitDeferred):
    // no X-Request-ID (its replay reads the store after the commit), a body
    // that parses quickly, and no consent work after the commit.
    if (request.method == "POST") {
      std::string_view path = request.path;
      if (!path.starts_with("/fhir/") || path.size() == 6 || path[6] < 'A' || path[6] > 'Z' ||
          path.find('/', 6) != std::string_view::npos) {
        return false;  // not a type's create: a Bundle, a search, an operation
      }
      return request.body.size() <= kInlineCreateBytes && request.headers.Get("x-request-id").empty() &&
             api_.CreateMayDefer(path.substr(6));
    }
    return (request.method == "GET" || request.method == "HEAD") &&
           !request.path.ends_with("/$verify") &&
           !(request.path.ends_with("/$everything") &&
             request.query.find("_federated") != std::string::npos);
  }

  void TransportError(int status, std::string_view message, http::Response* out) override {
    // Also the answer to a held response whose commit or audit failed.
    Code code = status == 413   ? Code::kTooLarge
                : status == 409 ? Code::kConflict
                : status == 412 ? Code::kPreconditionFailed
                : status == 503 ? Code::kUnavailable
                : status >= 500 ? Code::kInternal
                                : Code::kInvalid;
    SetOutcome(status,
               OperationOutcomeJson(code == Code::kInternal ? "fatal" : "error", IssueTypeOf(code),
                                    message),
               out);
  }

  void Handle(const http::Request& request, http::Response* out) override {
    Serve(request, out, /*may_defer=*/true);
  }

 private:
  // Larger creates go to the worker pool: parsing them would hold up the
  // other connections of an I/O thread.
  static constexpr size_t kInlineCreateBytes = 64 * 1024;

  void Serve(const http::Request& request, http::Response* out, bool may_defer) {
    RouteInfo info;
    try {
      Route(request, out, &info, may_defer);
    } catch (const std::exception& e) {
      // Defensive: a bug must not take the connection down. Never echo input.
      spdlog::error("internal error handling {} request: {}", request.method, e.what());
      *out = http::Response();
      SetError(Status::Internal("internal error"), out);
    }
    if (auto rid = request.headers.Get("x-request-id"); !rid.empty()) {
      out->SetHeader("X-Request-ID", std::string(rid));
    }
    if (auto cid = request.headers.Get("x-correlation-id"); !cid.empty()) {
      out->SetHeader("X-Correlation-ID", std::string(cid));
    }
    // Patient data must not linger in browser or proxy caches (and a read
    // served from a cache would never reach the audit log).
    if (info.is_fhir) out->SetHeader("Cache-Control", "no-store");
    if (request.method == "HEAD") out->body.clear();
    Count(out->status);
    bool audited = info.is_fhir || info.audited_outside_fhir;
    if (audited && api_.options().audit && !info.trail.audited) {
      // The response leaves only once its audit record is durable.
      if (info.caller) api_.AddPatternAlerts(*info.caller, &info.trail);
      auto record = api_.MakeAuditRecord(request, info.caller.get(), info.trail, out->status);
      if (info.audited_outside_fhir) record.purpose.clear();  // no purpose of use: no data seen
      std::vector<store::AuditInput> inputs{audit::ToAuditInput(record, info.trail.alert_to)};
      store::Store* store = &api_.store();
      out->hold = [store, inputs = std::move(inputs)](std::function<void(Status)> release) mutable {
        store->AppendAudit(std::move(inputs), std::move(release));
      };
    }
  }

 private:
  void Count(int status) {
    Counters& c = api_.counters();
    c.requests.fetch_add(1, std::memory_order_relaxed);
    auto& bucket = status < 300 ? c.status_2xx : status < 400 ? c.status_3xx
                   : status < 500 ? c.status_4xx : c.status_5xx;
    bucket.fetch_add(1, std::memory_order_relaxed);
  }

  // `may_defer`: the response may be held until its write commits
  // (RequestContext::may_defer); only for a request the server answers.
  void Route(const http::Request& req, http::Response* out, RouteInfo* info,
             bool may_defer = false) {
    std::string_view path = req.path;
    if (path == "/healthz") return SetStatusText(200, "ok\n", out);
    if (path == "/readyz") {
      Status st = api_.store().Ping();
      return st.ok() ? SetStatusText(200, "ready\n", out)
                     : SetStatusText(503, "store unavailable\n", out);
    }
    if (path == "/metrics") return Metrics(out);
    if (path != "/fhir" && !path.starts_with("/fhir/")) {
      DemoSignIn sign_in;
      ServeWeb(api_.options(), req, out, &sign_in);  // the web UI (docs/ui.md)
      if (sign_in.asked) DemoTokenTrail(sign_in, info);
      return;
    }
    info->is_fhir = true;
    RequestContext ctx{req, BaseUrl(req), PreferReturn::kRepresentation, false, {}};
    ctx.may_defer = may_defer;
    RouteFhir(ctx, out);
    // Linked local nodes fail closed: an answer computed without a patient's
    // consent state is not given (writes were refused before committing).
    bool read = req.method == "GET" || req.method == "HEAD" || req.path.ends_with("/_search");
    if (ctx.trail.consent_unavailable && read) {
      *out = http::Response();
      SetError(Status::Unavailable("the patient's consent state could not be obtained from the "
                                   "national node; try again later"), out);
    }
    info->caller = std::move(ctx.caller);
    info->trail = std::move(ctx.trail);
  }

  // Issuing a demo token is audited like a request: the record names the
  // user, role and organisation of the token issued (no patient).
  static void DemoTokenTrail(const DemoSignIn& sign_in, RouteInfo* info) {
    info->audited_outside_fhir = true;
    info->trail.action = "demo-token";
    if (sign_in.issued == nullptr) return;
    auto caller = std::make_shared<access::Caller>();
    caller->user = sign_in.issued->id;
    caller->name = sign_in.issued->name;
    caller->role = sign_in.issued->role;
    caller->org = sign_in.issued->org;
    info->caller = std::move(caller);
  }

  void RouteFhir(RequestContext& ctx, http::Response* out) {
    const http::Request& req = ctx.request;
    std::string_view path = req.path;
    ctx.params = http::ParseQuery(req.query);
    ParsePrefer(req.headers.Get("prefer"), &ctx);
    for (const auto& [k, v] : ctx.params) {
      if (k == "_format" && !FormatIsJson(v)) {
        return SetError(Status(Code::kNotAcceptable, "only JSON is supported (_format)"), out);
      }
    }
    if (!AcceptsJson(req.headers.Get("accept"))) {
      return SetError(Status(Code::kNotAcceptable,
                             "only application/fhir+json is supported (Accept)"), out);
    }
    bool form_search = req.method == "POST" && path.ends_with("/_search");
    if ((req.method == "POST" && !form_search) || req.method == "PUT") {
      std::string_view ct = req.headers.Get("content-type");
      if (!ct.empty() && !IsJsonMediaType(ct)) {
        return SetError(Status(Code::kUnsupportedMedia,
                               "request body must be application/fhir+json"), out);
      }
    }
    auto parts = SplitPath(path.substr(5));
    // The CapabilityStatement is public (clients read it before signing in);
    // everything else needs a verified caller.
    bool is_metadata = parts.size() == 1 && parts[0] == "metadata";
    if (api_.options().authenticate && !is_metadata) {
      auto caller = api_.options().authenticate(req.headers.Get("authorization"));
      if (!caller.ok()) {
        ctx.trail.action = "token-failure";
        SetError(caller.status(), out);
        out->SetHeader("WWW-Authenticate", "Bearer");
        return;
      }
      ctx.caller = std::make_shared<access::Caller>(std::move(*caller));
      Status headers = access::ApplyRequestHeaders(
          req.headers.Get("x-purpose-of-use"), req.headers.Get("x-access-justification"),
          req.headers.Get("x-permission-to-view"), req.headers.Get("x-legitimate-relationship"),
          ctx.caller.get());
      if (!headers.ok()) return SetError(headers, out);
    }
    // Read-your-writes per client when reads go to replicas: this caller's
    // reads see its own writes (store/client_scope.h).
    store::ClientScope client(ctx.caller ? ClientKey(*ctx.caller) : std::string());
    Dispatch(ctx, parts, out);
  }

  // One client per token subject, issuer and organisation.
  static std::string ClientKey(const access::Caller& c) {
    return c.issuer + '\n' + c.user + '\n' + c.org;
  }

  void Dispatch(RequestContext& ctx, const std::vector<std::string_view>& parts,
                http::Response* out) {
    const std::string& m = ctx.request.method;
    bool get = m == "GET" || m == "HEAD";
    auto not_allowed = [&] {
      SetError(Status(Code::kMethodNotAllowed, m + " is not supported on this URL"), out);
    };
    // On a practice's node another practice's node may only take part in
    // GP2GP transfers (docs/federation.md).
    if (ctx.caller && ctx.caller->is_peer_node() && !api_.options().policy.national &&
        !(parts.size() == 3 && parts[0] == "Patient" &&
          (parts[2] == "$gp2gp-release" || parts[2] == "$gp2gp-ack"))) {
      return SetError(Status::Forbidden("another practice's node may only take part in GP2GP "
                                        "transfers here"), out);
    }
    if (parts.empty()) {
      if (m == "POST") return api_.Bundle(ctx, out);
      if (get) return api_.SystemSearch(ctx, ctx.params, out);
      return not_allowed();
    }
    if (parts.size() == 1 && parts[0] == "_search") {
      if (m != "POST") return not_allowed();
      auto params = FormSearchParams(ctx, out);
      if (!params) return;
      return api_.SystemSearch(ctx, *params, out);
    }
    ctx.trail.type = std::string(parts[0]);
    if (parts.size() > 1) ctx.trail.id = std::string(parts[1]);
    if (parts[0] == "metadata" && parts.size() == 1) {
      return get ? api_.Capabilities(ctx, out) : not_allowed();
    }
    if (parts[0] == "_history" && parts.size() == 1) {
      return get ? api_.History(ctx, nullptr, nullptr, out) : not_allowed();
    }
    if (parts[0] == "AuditEvent" && parts.size() == 2 && parts[1] == "$forward") {
      return api_.ForwardedAudit(ctx, out);
    }
    if (parts[0] == "AuditEvent") return api_.AuditEvents(ctx, parts, out);
    std::string type(parts[0]);
    if (!IsStorableType(type)) {
      return SetError(Status::NotFound("unknown resource type '" + type + "'"), out);
    }
    if (parts.size() == 1) {
      if (get && type == "DocumentReference") {
        if (auto nhs = SummaryIndexPatient(ctx.params)) return api_.SummaryIndex(ctx, *nhs, out);
      }
      if (get) return api_.Search(ctx, type, ctx.params, out);
      if (m == "POST" && type == "Bundle") return api_.PostBundle(ctx, out);
      if (m == "POST") return api_.Create(ctx, type, out);
      if (m == "PUT") return api_.ConditionalUpdate(ctx, type, out);
      if (m == "DELETE") return api_.ConditionalDelete(ctx, type, out);
      return not_allowed();
    }
    if (parts[1] == "_search" && parts.size() == 2) {
      if (m != "POST") return not_allowed();
      auto params = FormSearchParams(ctx, out);
      if (!params) return;
      if (type == "DocumentReference") {
        if (auto nhs = SummaryIndexPatient(*params)) return api_.SummaryIndex(ctx, *nhs, out);
      }
      return api_.Search(ctx, type, *params, out);
    }
    if (parts[1] == "_history" && parts.size() == 2) {
      return get ? api_.History(ctx, &type, nullptr, out) : not_allowed();
    }
    std::string id(parts[1]);
    if (Status st = CheckIdSyntax(id); !st.ok()) return SetError(st, out);
    if (parts.size() == 2) {
      if (get) return api_.Read(ctx, type, id, out);
      if (m == "PUT") return api_.Update(ctx, type, id, out);
      if (m == "DELETE") return api_.Delete(ctx, type, id, out);
      if (m == "PATCH") return api_.Patch(ctx, type, id, out);
      return not_allowed();
    }
    if (parts[2] == "$everything" && parts.size() == 3) {
      return get ? api_.Everything(ctx, type, id, out) : not_allowed();
    }
    if (parts[2] == "$summary" && parts.size() == 3 && type == "Patient") {
      return get ? api_.Summary(ctx, id, out) : not_allowed();
    }
    if (type == "Patient" && parts.size() == 3 &&
        (parts[2] == "$gp2gp" || parts[2] == "$gp2gp-release" || parts[2] == "$gp2gp-ack")) {
      return api_.Gp2gp(ctx, id, parts[2], out);
    }
    if (type == "Patient" && parts.size() == 3 && parts[2] == "$register") {
      return get || m == "POST" ? api_.Register(ctx, id, out) : not_allowed();
    }
    if (parts[2] == "_history") {
      if (parts.size() == 3) return get ? api_.History(ctx, &type, &id, out) : not_allowed();
      if (parts.size() == 4) return get ? api_.VRead(ctx, type, id, parts[3], out) : not_allowed();
    }
    SetError(Status::NotFound("no such FHIR endpoint"), out);
  }

  // The parameters of a POST .../_search: the URL's, then the form body's;
  // nullopt (with `out` filled) when the body is not a form.
  static std::optional<std::vector<std::pair<std::string, std::string>>> FormSearchParams(
      RequestContext& ctx, http::Response* out) {
    std::string_view ct = ctx.request.headers.Get("content-type");
    if (!ct.empty() && !ct.starts_with("application/x-www-form-urlencoded")) {
      SetError(Status(Code::kUnsupportedMedia, "_search needs application/x-www-form-urlencoded"),
               out);
      return std::nullopt;
    }
    auto params = ctx.params;
    for (auto& p : http::ParseQuery(ctx.request.body)) params.push_back(std::move(p));
    return params;
  }

  std::string BaseUrl(const http::Request& req) const {
    if (!api_.options().base_url.empty()) return api_.options().base_url;
    std::string_view host = req.headers.Get("host");
    return "http://" + std::string(host.empty() ? "localhost" : host) + "/fhir";
  }

  void Metrics(http::Response* out) {
    Counters& c = api_.counters();
    std::string s;
    auto line = [&](const char* name, const char* labels, uint64_t v) {
      s += name;
      s += labels;
      s += ' ';
      s += std::to_string(v);
      s += '\n';
    };
    s += "# TYPE crs_http_requests_total counter\n";
    line("crs_http_requests_total", "{class=\"2xx\"}", c.status_2xx.load());
    line("crs_http_requests_total", "{class=\"3xx\"}", c.status_3xx.load());
    line("crs_http_requests_total", "{class=\"4xx\"}", c.status_4xx.load());
    line("crs_http_requests_total", "{class=\"5xx\"}", c.status_5xx.load());
    s += "# TYPE crs_writes_total counter\n";
    line("crs_writes_total", "", c.writes.load());
    s += "# TYPE crs_write_conflicts_retried_total counter\n";
    line("crs_write_conflicts_retried_total", "", c.conflicts_retried.load());
    out->status = 200;
    out->SetHeader("Content-Type", "text/plain; version=0.0.4");
    out->body = std::move(s);
  }

  FhirApi api_;
};

}  // namespace

void ParsePrefer(std::string_view prefer, RequestContext* ctx) {
  while (!prefer.empty()) {
    size_t sep = prefer.find_first_of(",;");
    std::string_view item = prefer.substr(0, sep);
    prefer = sep == std::string_view::npos ? std::string_view() : prefer.substr(sep + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == "return=minimal") ctx->prefer_return = PreferReturn::kMinimal;
    if (item == "return=representation") ctx->prefer_return = PreferReturn::kRepresentation;
    if (item == "return=OperationOutcome") ctx->prefer_return = PreferReturn::kOperationOutcome;
    if (item == "handling=strict") ctx->strict = true;
  }
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->append(json::serialize(json::string(s)));
}

void FhirApi::Read(RequestContext& ctx, std::string_view type, std::string_view id,
                   http::Response* out) {
  ctx.trail.action = "read";
  if (Status st = Allow(ctx, type, 'r'); !st.ok()) return SetError(st, out);
  auto subset = ParseSubsetting(ctx.params);
  if (!subset.ok()) return SetError(subset.status(), out);
  auto r = store_.Read(type, id);
  // Break-glass and a self-claimed relationship open the record named here.
  if (ctx.caller && r.ok()) ctx.caller->named_patients = {r->access.patient};
  // What the caller may not see answers exactly as what does not exist.
  if ((r.ok() && !See(ctx, type, id, r->access, 'r')) ||
      (!r.ok() && r.status().code() == Code::kNotFound)) {
    ctx.trail.denied = r.ok();
    return SetError(Status::NotFound(std::string(type) + " not found"), out);
  }
  if (!r.ok()) return SetError(r.status(), out);
  if (r->deleted) return SetError(Status::Gone(std::string(type) + " has been deleted"), out);
  if (type == "Patient") {
    // A superseded record (merged duplicate) answers with the surviving one,
    // as PDS does; a few hops at most, never in a circle.
    std::string at(id);
    for (int hop = 0; hop < 4; ++hop) {
      auto next = ReplacedBy(r->body);
      if (!next || *next == at || *next == id) break;
      auto survivor = store_.Read(type, *next);
      if (!survivor.ok() || survivor->deleted) break;  // nothing to lead to: the record as it is
      if (ctx.caller) ctx.caller->named_patients.push_back(survivor->access.patient);
      if (!See(ctx, type, *next, survivor->access, 'r')) {
        ctx.trail.denied = true;
        return SetError(Status::NotFound(std::string(type) + " not found"), out);
      }
      at = *next;
      r = std::move(survivor);
    }
  }
  std::string etag = ETagOf(r->version);
  if (ctx.request.headers.Get("if-none-match") == etag) {
    out->status = 304;
    out->SetHeader("ETag", etag);
    return;
  }
  out->status = 200;
  out->SetHeader("Content-Type", std::string(kFhirJson));
  out->SetHeader("ETag", etag);
  out->SetHeader("Last-Modified", FormatHttpDate(r->last_updated_ms));
  out->body = SubsetResource(
      type, Shown(ctx, type, r->access.patient, r->access.labels, std::move(r->body)), *subset);
}

void FhirApi::VRead(RequestContext& ctx, std::string_view type, std::string_view id,
                    std::string_view vid, http::Response* out) {
  ctx.trail.action = "vread";
  if (Status st = Allow(ctx, type, 'r'); !st.ok()) return SetError(st, out);
  auto subset = ParseSubsetting(ctx.params);
  if (!subset.ok()) return SetError(subset.status(), out);
  auto version = ParseETag(vid);
  if (!version) return SetError(Status::NotFound("no such version"), out);
  auto r = store_.ReadVersion(type, id, *version);
  if (ctx.caller && r.ok()) ctx.caller->named_patients = {r->access.patient};
  if ((r.ok() && !See(ctx, type, id, r->access, 'r')) ||
      (!r.ok() && r.status().code() == Code::kNotFound)) {
    ctx.trail.denied = r.ok();
    return SetError(Status::NotFound("no such version of this " + std::string(type)), out);
  }
  if (!r.ok()) return SetError(r.status(), out);
  if (r->deleted) return SetError(Status::Gone("this version is a deletion"), out);
  out->status = 200;
  out->SetHeader("Content-Type", std::string(kFhirJson));
  out->SetHeader("ETag", ETagOf(r->version));
  out->SetHeader("Last-Modified", FormatHttpDate(r->last_updated_ms));
  // The current labels, or this version's own: either restricts it.
  uint32_t labels = r->access.labels;
  if (type == "Patient" && IsRestrictedPatientBody(r->body)) {
    labels |= store::AccessFacts::kRestricted;
  }
  out->body = SubsetResource(type, Shown(ctx, type, r->access.patient, labels, std::move(r->body)),
                             *subset);
}

void FhirApi::WriteResult(RequestContext& ctx, const Prepared& p, http::Response* out) {
  out->status = p.status;
  if (p.version > 0) {
    out->SetHeader("ETag", ETagOf(p.version));
    if (p.last_updated_ms > 0) out->SetHeader("Last-Modified", FormatHttpDate(p.last_updated_ms));
  }
  if (p.status == 201) {
    out->SetHeader("Location", ctx.base + "/" + p.type + "/" + p.id + "/_history/" +
                                   std::to_string(p.version));
  }
  bool has_body = !p.body.empty();
  switch (ctx.prefer_return) {
    case PreferReturn::kMinimal:
      return;
    case PreferReturn::kOperationOutcome:
      if (out->status == 204) out->status = 200;
      out->SetHeader("Content-Type", std::string(kFhirJson));
      out->body = OperationOutcomeJson(
          "information", "informational",
          p.status == 201 ? "created" : p.status == 204 ? "deleted" : "updated");
      return;
    case PreferReturn::kRepresentation:
      if (has_body) {
        out->SetHeader("Content-Type", std::string(kFhirJson));
        const store::AccessFacts& facts =
            p.write && p.write->access ? *p.write->access : p.existing;
        out->body.clear();
        AppendShown(ctx, p.type, facts.patient, facts.labels, p.body, &out->body);
      }
      return;
  }
}

template <typename PrepareFn>
void FhirApi::CommitOne(RequestContext& ctx, char interaction, PrepareFn prepare,
                        bool has_if_match, http::Response* out) {
  // Optimistic concurrency: a concurrent writer makes the store answer
  // Conflict; without If-Match the client asked for "whatever is current",
  // so re-read and try again.
  constexpr int kAttempts = 16;
  std::string_view request_id = ctx.request.headers.Get("x-request-id");
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    Result<Prepared> p = prepare();
    if (!p.ok()) return SetError(p.status(), out);
    bool patient = p->type == "Patient";
    if (Status st = CheckWrite(ctx, *p, interaction); !st.ok()) return SetError(st, out);
    if (Status st = CheckConsent(ctx, *p); !st.ok()) return SetError(st, out);
    if (!p->write) return WriteResult(ctx, *p, out);
    store::WriteBatch batch;
    batch.writes.push_back(*p->write);
    if (Status st = Supersede(ctx, *p, {}, &batch.writes); !st.ok()) return SetError(st, out);
    if (!request_id.empty()) batch.idempotency_key = std::string(request_id);
    if (options_.audit) {
      // The write's audit record rides in the same transaction: no second fsync.
      AuditTrail trail = ctx.trail;
      if (!trail.resources.empty()) trail.resources.back() += "/_history/" + std::to_string(p->version);
      batch.audit.push_back(audit::ToAuditInput(
          MakeAuditRecord(ctx.request, ctx.caller.get(), trail, p->status)));
    }
    // A create with a server-assigned id cannot meet a concurrent write, and
    // without a request id or consent work after it, nothing past the commit
    // reads the store: the thread need not wait for the disk.
    if (ctx.may_defer && interaction == 'c' && request_id.empty() && !HasAfterCommit(*p)) {
      return CommitDeferred(ctx, std::move(batch), *p, out);
    }
    auto committed = store_.Commit(batch);
    if (committed.ok()) {
      ctx.trail.audited = options_.audit;
      counters_.writes.fetch_add(1, std::memory_order_relaxed);
      if (committed->already_applied) return ReplayResult(ctx, *committed, out);
      NoteVip(*p);
      if (Status st = AfterCommit(ctx, *p); !st.ok()) return SetError(st, out);
      return WriteResult(ctx, *p, out);
    }
    if (committed.status().code() == Code::kConflict && !has_if_match) {
      counters_.conflicts_retried.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (committed.status().code() == Code::kConflict) {
      const char* message = "the resource changed since the If-Match version";
      if (patient) return SetError(PatientVersionMismatch(message), out);
      return SetError(Status(Code::kPreconditionFailed, message), out);
    }
    return SetError(committed.status(), out);
  }
  SetError(Status::Conflict("too many concurrent writes to this resource; retry"), out);
}

FhirApi::~FhirApi() {
  std::unique_lock<std::mutex> lock(deferred_mu_);
  deferred_cv_.wait(lock, [this] { return deferred_ == 0; });
}

// The response is written now, as for a committed write, and held
// (http::Response::hold) until the store's writer reports the batch durable.
// If the commit fails, the held response is replaced by the error (an
// OperationOutcome, from FhirHandler::TransportError) and the failure gets
// an audit record of its own, as a failed synchronous write does. A
// Conflict (an allocated NHS number taken meanwhile by a writer outside the
// allocator) is retried as CommitOne retries it: the whole request is
// handled again, on a thread of its own, and its answer sent instead.
void FhirApi::CommitDeferred(RequestContext& ctx, store::WriteBatch batch, const Prepared& p,
                             http::Response* out) {
  NoteVip(p);  // a new id: no earlier state to be wrong about if the commit fails
  WriteResult(ctx, p, out);
  ctx.trail.audited = options_.audit;
  std::optional<audit::AuditRecord> failed;
  if (options_.audit) failed = MakeAuditRecord(ctx.request, ctx.caller.get(), ctx.trail, 500);
  auto replacement = std::make_shared<std::optional<http::Response>>();
  out->replacement = replacement;
  // Nothing is committed unless the hold runs (it does, once Handle returns);
  // from then on the destructor waits for the answer. The hold runs after
  // Handle has closed the caller's store::ClientScope: it opens it again, so
  // that the caller's next reads see this write (read replicas).
  out->hold = [this, batch = std::move(batch), failed = std::move(failed), replacement,
               request = ctx.request, client = store::ClientScope::Current()](
                  std::function<void(Status)> release) mutable {
    {
      std::lock_guard<std::mutex> lock(deferred_mu_);
      ++deferred_;
    }
    store::ClientScope scope(std::move(client));
    store_.CommitAsync(std::move(batch), [this, failed = std::move(failed), replacement,
                                          request = std::move(request),
                                          release = std::move(release)](
                                             Result<store::CommitResult> committed) mutable {
      auto finish = [this] {
        std::lock_guard<std::mutex> lock(deferred_mu_);
        if (--deferred_ == 0) deferred_cv_.notify_all();
      };
      if (committed.ok()) {
        counters_.writes.fetch_add(1, std::memory_order_relaxed);
        release(Status::Ok());
      } else if (committed.status().code() == Code::kConflict && redo) {
        counters_.conflicts_retried.fetch_add(1, std::memory_order_relaxed);
        // Not on the writer's thread: the redo commits and waits for it.
        try {
          std::thread([this, request = std::move(request), replacement, release, finish] {
            http::Response again;
            redo(request, &again);
            *replacement = std::move(again);
            release(Status::Ok());
            finish();
          }).detach();
          return;
        } catch (const std::system_error&) {
          release(Status::Unavailable("the server could not retry this create; retry it"));
        }
      } else if (failed) {
        Status error = committed.status();
        failed->status = HttpStatusOf(error.code());
        store_.AppendAudit({audit::ToAuditInput(*failed)},
                           [release = std::move(release), error](Status) { release(error); });
      } else {
        release(committed.status());
      }
      finish();
    });
  };
}

bool FhirApi::CreateMayDefer(std::string_view type) const {
  if (!options_.policy.national) return true;
  return type != "Consent" && type != "Bundle" &&
         access::SummaryPartOf(type) == access::SummaryPart::kNone;
}

void FhirApi::Register(RequestContext& ctx, std::string_view nhs_view, http::Response* out) {
  // POST Patient/{nhs}/$register (national node, docs/federation.md
  // "GP2GP"): a practice's node records that the patient is now registered
  // with its practice, as PDS records a new registration.
  const std::string nhs(nhs_view);
  ctx.trail.action = "register";
  if (!options_.policy.national) {
    return SetError(Status::Invalid("registrations are recorded at the national node"), out);
  }
  if (Status st = CheckIdSyntax(nhs); !st.ok()) return SetError(st, out);
  if (ctx.caller && !ctx.caller->is_peer_node()) {
    ctx.trail.denied = true;
    return SetError(Status::Forbidden("$register is for practices' nodes; staff update "
                                      "Patient.generalPractitioner"), out);
  }
  std::string org = ctx.caller ? ctx.caller->node_org : "";
  if (ctx.request.method == "GET" || ctx.request.method == "HEAD") {
    // Which practices the patient is registered with — the ODS codes only,
    // not the demographics: what an old practice checks before it releases
    // a record (GP2GP).
    ctx.trail.action = "registration";
    auto patient = store_.Read("Patient", nhs);
    if (!patient.ok() || patient->deleted) {
      if (!patient.ok() && patient.status().code() != Code::kNotFound) {
        return SetError(patient.status(), out);
      }
      return SetError(Status::NotFound("the national node holds no such patient"), out);
    }
    ctx.trail.patients.insert(nhs);
    boost::json::array practices;
    for (const auto& p : RegisteredPractices(store_, nhs)) {
      practices.push_back(boost::json::object{{"name", "practice"}, {"valueString", p}});
    }
    boost::json::object params{{"resourceType", "Parameters"}};
    if (!practices.empty()) params["parameter"] = std::move(practices);
    out->status = 200;
    out->SetHeader("Content-Type", std::string(kFhirJson));
    out->body = boost::json::serialize(params);
    return;
  }
  if (org.empty()) return SetError(Status::Invalid("no practice to register with"), out);
  ctx.trail.note = "registered with " + org;
  CommitOne(ctx, 'u', [&] { return PrepareRegistration(ctx, nhs, org); }, false, out);
}

void FhirApi::Create(RequestContext& ctx, std::string_view type, http::Response* out) {
  ctx.trail.action = "create";
  if (Status st = Allow(ctx, type, 'c'); !st.ok()) return SetError(st, out);
  if (auto criteria = ctx.request.headers.Get("if-none-exist"); !criteria.empty()) {
    // Check-then-create is not atomic against a concurrent identical create;
    // see the note in docs/search.md.
    auto ids = ConditionalMatches(ctx, type, criteria);
    if (!ids.ok()) return SetError(ids.status(), out);
    if (ids->size() > 1) {
      return SetError(Status(Code::kPreconditionFailed,
                             "If-None-Exist matches more than one resource"), out);
    }
    if (ids->size() == 1) {
      auto existing = store_.Read(type, ids->front());
      if (!existing.ok()) return SetError(existing.status(), out);
      if (!See(ctx, type, ids->front(), existing->access, 'u')) {
        return SetError(Status::Internal("conditional match not visible"), out);  // unreachable
      }
      Prepared p;
      p.status = 200;
      p.type = type;
      p.id = ids->front();
      p.version = existing->version;
      p.last_updated_ms = existing->last_updated_ms;
      p.body = std::move(existing->body);
      p.existed = true;
      p.existing = std::move(existing->access);
      return WriteResult(ctx, p, out);
    }
  }
  auto body = ParseJsonBody(ctx.request.body, options_.max_json_depth);
  if (!body.ok()) return SetError(body.status(), out);
  Env e = env(ctx);
  CommitOne(ctx, 'c', [&] { return PrepareCreate(e, type, *body, std::string()); }, false, out);
}

void FhirApi::Update(RequestContext& ctx, std::string_view type, std::string_view id,
                     http::Response* out) {
  ctx.trail.action = "update";
  if (Status st = Allow(ctx, type, 'u'); !st.ok()) return SetError(st, out);
  auto body = ParseJsonBody(ctx.request.body, options_.max_json_depth);
  if (!body.ok()) return SetError(body.status(), out);
  std::string_view if_match = ctx.request.headers.Get("if-match");
  Env e = env(ctx);
  CommitOne(ctx, 'u', [&] { return PrepareUpdate(e, type, id, *body, if_match); }, !if_match.empty(),
            out);
}

void FhirApi::Delete(RequestContext& ctx, std::string_view type, std::string_view id,
                     http::Response* out) {
  ctx.trail.action = "delete";
  if (Status st = Allow(ctx, type, 'd'); !st.ok()) return SetError(st, out);
  std::string_view if_match = ctx.request.headers.Get("if-match");
  Env e = env(ctx);
  CommitOne(ctx, 'd', [&] { return PrepareDelete(e, type, id, if_match); }, !if_match.empty(), out);
}

void FhirApi::Patch(RequestContext& ctx, std::string_view type, std::string_view id,
                    http::Response* out) {
  ctx.trail.action = "patch";
  if (Status st = Allow(ctx, type, 'u'); !st.ok()) return SetError(st, out);
  std::string_view ct = ctx.request.headers.Get("content-type");
  if (!ct.starts_with("application/json-patch+json")) {
    return SetError(Status(Code::kUnsupportedMedia,
                           "PATCH needs Content-Type application/json-patch+json (JSON Patch); "
                           "FHIRPath Patch is not supported"), out);
  }
  auto patch = ParseJsonBody(ctx.request.body, options_.max_json_depth);
  if (!patch.ok()) return SetError(patch.status(), out);
  std::string_view if_match = ctx.request.headers.Get("if-match");
  Env e = env(ctx);
  CommitOne(ctx, 'u', [&] { return PreparePatch(e, type, id, *patch, if_match); }, !if_match.empty(),
            out);
}

void FhirApi::ConditionalUpdate(RequestContext& ctx, std::string_view type, http::Response* out) {
  ctx.trail.action = "update";
  if (Status st = Allow(ctx, type, 'u'); !st.ok()) return SetError(st, out);
  if (ctx.request.query.empty()) {
    return SetError(Status(Code::kMethodNotAllowed, "PUT needs an id or search criteria"), out);
  }
  auto ids = ConditionalMatches(ctx, type, ctx.request.query);
  if (!ids.ok()) return SetError(ids.status(), out);
  if (ids->size() > 1) {
    return SetError(Status(Code::kPreconditionFailed,
                           "the criteria match more than one resource"), out);
  }
  auto body = ParseJsonBody(ctx.request.body, options_.max_json_depth);
  if (!body.ok()) return SetError(body.status(), out);
  const json::object* obj = body->if_object();
  const json::value* body_id = obj ? obj->if_contains("id") : nullptr;
  std::string id;
  if (ids->size() == 1) {
    id = ids->front();
    if (body_id && (!body_id->is_string() || body_id->get_string() != id)) {
      return SetError(Status::Invalid("the id in the body is not the id of the matched resource"),
                      out);
    }
  } else if (body_id && body_id->is_string()) {
    id = std::string(body_id->get_string());
  }
  Env e = env(ctx);
  std::string_view if_match = ctx.request.headers.Get("if-match");
  if (id.empty()) {
    return CommitOne(ctx, 'c', [&] { return PrepareCreate(e, type, *body, std::string()); }, false,
                     out);
  }
  if (json::object* o = body->if_object(); o && !body_id) (*o)["id"] = id;
  CommitOne(ctx, 'u', [&] { return PrepareUpdate(e, type, id, *body, if_match); }, !if_match.empty(),
            out);
}

void FhirApi::ConditionalDelete(RequestContext& ctx, std::string_view type, http::Response* out) {
  ctx.trail.action = "delete";
  if (Status st = Allow(ctx, type, 'd'); !st.ok()) return SetError(st, out);
  if (ctx.request.query.empty()) {
    return SetError(Status(Code::kMethodNotAllowed, "DELETE needs an id or search criteria"), out);
  }
  auto ids = ConditionalMatches(ctx, type, ctx.request.query);
  if (!ids.ok()) return SetError(ids.status(), out);
  if (ids->size() > 1) {
    return SetError(Status(Code::kPreconditionFailed,
                           "the criteria match more than one resource (single delete only)"), out);
  }
  if (ids->empty()) {
    out->status = 204;
    return;
  }
  Delete(ctx, type, ids->front(), out);
}

std::unique_ptr<http::Handler> NewFhirHandler(store::Store& store, const Clock& clock,
                                              const ApiOptions& options) {
  return std::make_unique<FhirHandler>(store, clock, options);
}

}  // namespace crs::api
