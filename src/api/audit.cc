// The audit side of the API: the record each request leaves (the handler
// holds the response until it is durable, or the record rides in the
// request's write batch), pattern alerts, and the audit log as FHIR
// AuditEvents: a patient's view of who accessed their record, and a privacy
// officer's list of alerts to review.
#include <boost/json.hpp>
#include <charconv>

#include "access/facts.h"
#include "fhir/json_util.h"
#include "api/handler_internal.h"
#include "api/outcome.h"
#include "api/resource_io.h"
#include "api/search.h"
#include "audit/audit_event.h"
#include "core/ids.h"
#include "fhir/index/date_range.h"

namespace crs::api {

namespace json = boost::json;

namespace {

const char* PurposeCode(access::Purpose p) {
  switch (p) {
    case access::Purpose::kTreat: return "TREAT";
    case access::Purpose::kEmergency: return "ETREAT";
    case access::Purpose::kPatientRequest: return "PATRQT";
    case access::Purpose::kOperations: return "HOPERAT";
    case access::Purpose::kResearch: return "HRESCH";
  }
  return "TREAT";
}

std::optional<int64_t> ParsePositive(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 1) return std::nullopt;
  return v;
}

// One filter of the alert list (docs/audit.md, "Alerts") into `q`.
Status ParseAlertFilter(std::string_view name, std::string_view value, store::AuditQuery* q) {
  auto bad = [&](std::string_view why) {
    return Status::Invalid("search parameter '" + std::string(name) + "': " + std::string(why));
  };
  if (name == "reviewed") {
    // The older spelling of status=open.
    if (value != "false") return bad("takes the value false");
    q->unreviewed_only = true;
  } else if (name == "status") {
    if (value == "open") {
      q->unreviewed_only = true;
    } else if (value == "reviewed") {
      q->reviewed_only = true;
    } else if (value != "open,reviewed" && value != "reviewed,open") {
      return bad("open or reviewed");
    }
  } else if (name == "code") {
    if (q->code_masks.size() >= 8) return bad("given too often");
    int64_t mask = 0;
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = std::min(value.find(',', start), value.size());
      int64_t bit = audit::AlertBit(value.substr(start, comma - start));
      if (bit == 0) {
        return bad("alert codes are break-glass, self-claimed, sealed-access, vip, volume and "
                   "patient-reported");
      }
      mask |= bit;
      start = comma + 1;
    }
    q->code_masks.push_back(mask);
  } else if (name == "date") {
    std::string_view prefix = value.size() > 2 && value[0] >= 'a' && value[0] <= 'z'
                                  ? value.substr(0, 2) : std::string_view();
    auto range = fhir::index::ParseSearchDate(value.substr(prefix.size()));
    if (!range) return bad("not a valid date, dateTime or instant");
    if (prefix.empty() || prefix == "eq") {
      q->from_ms = std::max(q->from_ms, range->low_ms);
      q->to_ms = std::min(q->to_ms, range->high_ms);
    } else if (prefix == "ge") {
      q->from_ms = std::max(q->from_ms, range->low_ms);
    } else if (prefix == "gt") {
      q->from_ms = std::max(q->from_ms, range->high_ms);
    } else if (prefix == "le") {
      q->to_ms = std::min(q->to_ms, range->high_ms);
    } else if (prefix == "lt") {
      q->to_ms = std::min(q->to_ms, range->low_ms);
    } else {
      return bad("takes the prefixes eq, ge, gt, le and lt");
    }
  } else if (name == "user") {
    if (value.empty() || value.size() > 200) return bad("a user id or part of a name");
    if (!q->user.empty()) return bad("given more than once");
    q->user = std::string(value);
  }
  return Status::Ok();
}

}  // namespace

audit::AuditRecord FhirApi::MakeAuditRecord(const http::Request& request,
                                            const access::Caller* caller,
                                            const AuditTrail& trail, int status) {
  audit::AuditRecord r;
  r.time_ms = clock_.NowMs();
  r.request_id = std::string(request.headers.Get("x-request-id"));
  if (r.request_id.empty()) r.request_id = request.request_id.empty() ? NewId() : request.request_id;
  r.correlation_id = std::string(request.headers.Get("x-correlation-id"));
  if (caller) {
    r.user = caller->user;
    r.user_name = caller->name;
    r.role = caller->role;
    r.org = caller->org;
    r.purpose = PurposeCode(caller->purpose);
    r.justification = caller->justification;
    r.permission_to_view = caller->permission_to_view;
    r.self_claimed = caller->self_claimed;
    r.break_glass = caller->break_glass();
  }
  r.action = trail.action.empty() ? "request" : trail.action;
  r.method = request.method;
  r.resource_type = trail.type;
  r.id = trail.id;
  r.query = request.query;
  r.status = status;
  r.outcome = trail.denied || status == 401 || status == 403 ? audit::AuditOutcome::kDenied
              : status >= 400                                ? audit::AuditOutcome::kError
                                                             : audit::AuditOutcome::kAllowed;
  r.patients.assign(trail.patients.begin(), trail.patients.end());
  r.resources = trail.resources;
  // Alerts are raised by what was actually shown or changed.
  if (r.outcome == audit::AuditOutcome::kAllowed) {
    r.alerts.assign(trail.alerts.begin(), trail.alerts.end());
  }
  r.reviews = trail.reviews;
  r.review_outcome = trail.review_outcome;
  r.reports = trail.reports;
  r.note = trail.note;
  return r;
}

void FhirApi::AddPatternAlerts(const access::Caller& caller, AuditTrail* trail) {
  int limit = options_.volume_alert_patients_per_hour;
  if (limit <= 0 || caller.is_patient() || caller.is_system() || trail->patients.empty()) return;
  int64_t hour = clock_.NowMs() / 3600000;
  std::lock_guard<std::mutex> lock(volume_mu_);
  if (volume_.size() > 100000) volume_.clear();  // bounded: a new hour starts afresh anyway
  Volume& v = volume_[caller.user + "|" + caller.org];
  if (v.hour != hour) v = Volume{hour, {}, false};
  for (const auto& p : trail->patients) {
    if (static_cast<int>(v.patients.size()) > limit) break;
    v.patients.insert(p);
  }
  if (!v.alerted && static_cast<int>(v.patients.size()) > limit) {
    v.alerted = true;
    trail->alerts.insert(std::string(audit::kAlertVolume));
  }
}

void FhirApi::AuditEvents(RequestContext& ctx, const std::vector<std::string_view>& parts,
                          http::Response* out) {
  const std::string& m = ctx.request.method;
  bool get = m == "GET" || m == "HEAD";
  ctx.trail.type = "AuditEvent";
  if (Status st = Allow(ctx, "AuditEvent", 's'); !st.ok()) {
    ctx.trail.denied = true;
    return SetError(st, out);
  }
  const access::Caller* caller = ctx.caller.get();
  bool officer = caller && (caller->Has(access::kReviewAlerts));
  bool any_patient = !caller || caller->is_system() || officer;
  audit::AuditEventOptions render;
  render.node_id = options_.node_id;

  // POST /fhir/AuditEvent/{seq}/$review: a privacy officer marks an alert
  // reviewed; POST .../$report: a patient reports an access to their record
  // (api/audit_review.cc).
  if (parts.size() == 3 && (parts[2] == "$review" || parts[2] == "$report")) {
    if (m != "POST") {
      ctx.trail.action = parts[2] == "$review" ? "alert-review" : "patient-report";
      return SetError(Status(Code::kMethodNotAllowed, std::string(parts[2]) + " takes POST"), out);
    }
    return parts[2] == "$review" ? ReviewAlert(ctx, parts[1], out)
                                 : ReportAccess(ctx, parts[1], out);
  }
  // GET /fhir/AuditEvent/$verify: the chain's verification status.
  if (parts.size() == 2 && parts[1] == "$verify") {
    if (!get) return SetError(Status(Code::kMethodNotAllowed, "$verify takes GET"), out);
    return VerifyAudit(ctx, out);
  }
  // POST /fhir/AuditEvent/_search: the search below with its criteria in a
  // form body, so a patient's NHS number need not travel in a URL.
  bool form_search = m == "POST" && parts.size() == 2 && parts[1] == "_search";
  if (form_search) {
    std::string_view ct = ctx.request.headers.Get("content-type");
    if (!ct.empty() && !ct.starts_with("application/x-www-form-urlencoded")) {
      ctx.trail.action = "search";
      return SetError(Status(Code::kUnsupportedMedia,
                             "_search needs application/x-www-form-urlencoded"), out);
    }
    for (auto& p : http::ParseQuery(ctx.request.body)) ctx.params.push_back(std::move(p));
  } else if (!get) {
    return SetError(Status(Code::kMethodNotAllowed, "the audit log is append-only"), out);
  }

  // GET /fhir/AuditEvent/{seq}
  if (parts.size() == 2 && !form_search) {
    ctx.trail.action = "read";
    ctx.trail.id = std::string(parts[1]);
    auto seq = ParsePositive(parts[1]);
    auto stored = seq ? store_.ReadAudit(*seq) : Result<store::StoredAudit>(Status::NotFound(""));
    Result<audit::AuditRecord> rec =
        stored.ok() ? audit::FromJson(stored->record) : Result<audit::AuditRecord>(stored.status());
    bool visible = rec.ok() && (any_patient || (caller->is_patient() &&
                                                std::find(rec->patients.begin(), rec->patients.end(),
                                                          caller->patient) != rec->patients.end()));
    if (!visible) {
      ctx.trail.denied = rec.ok();
      return SetError(Status::NotFound("AuditEvent not found"), out);
    }
    out->status = 200;
    out->SetHeader("Content-Type", std::string(kFhirJson));
    out->body = audit::RenderAuditEvent(*seq, *rec, render);
    return;
  }
  if (parts.size() != 1 && !form_search) {
    return SetError(Status::NotFound("no such FHIR endpoint"), out);
  }

  // GET /fhir/AuditEvent?patient=NHS | ?alert=true[&filters] [&_count] [&_cursor]
  ctx.trail.action = "search";
  store::AuditQuery q;
  q.count = options_.default_page_size;
  std::string self;
  bool wants_alerts = false;
  bool alert_filters = false;  // a filter only the alert list takes
  for (const auto& [k, v] : ctx.params) {
    if (k == "patient" || k == "entity" || k == "patient:Patient") {
      q.patient = v.starts_with("Patient/") ? v.substr(8) : v;
      self += "&patient=" + QueryEscape(q.patient);
    } else if (k == "alert") {
      if (v != "true") return SetError(Status::Invalid("alert takes the value true"), out);
      wants_alerts = true;
      q.alert_org = caller ? caller->org : "";
      self += "&alert=true";
    } else if (k == "_count") {
      auto n = ParsePositive(v);
      if (!n) return SetError(Status::Invalid("_count must be a positive whole number"), out);
      q.count = static_cast<int>(std::min<int64_t>(*n, options_.max_page_size));
    } else if (k == "_cursor") {
      auto n = ParsePositive(v);
      if (!n) return SetError(Status::Invalid("_cursor is not a valid page token"), out);
      q.before_seq = *n;
    } else if (k == "reviewed" || k == "status" || k == "code" || k == "date" || k == "user") {
      if (Status st = ParseAlertFilter(k, v, &q); !st.ok()) return SetError(st, out);
      alert_filters = true;
      self += "&" + k + "=" + QueryEscape(v);
    } else if (k != "_format") {
      return SetError(Status::Invalid("AuditEvent is searched by patient, or alert=true "
                                      "(privacy officers) with status, code, date, user and "
                                      "patient; '" + k + "' is not supported"), out);
    }
  }
  if (wants_alerts && !officer) {
    ctx.trail.denied = true;
    return SetError(Status::Forbidden("alerts are for privacy officers (X0900)"), out);
  }
  if (wants_alerts && q.alert_org.empty()) {
    ctx.trail.denied = true;
    return SetError(Status::Forbidden("alerts go to an organisation; the token names none"), out);
  }
  if (alert_filters && !wants_alerts) {
    return SetError(Status::Invalid("status, code, date and user filter the alert list: "
                                    "give alert=true"), out);
  }
  if (q.patient.empty() && !wants_alerts) {
    return SetError(Status::Invalid(caller && caller->is_patient()
                                        ? "search your access log with patient=<your NHS number>"
                                        : "give either patient=<NHS number> or alert=true"),
                    out);
  }
  if (!q.patient.empty() && !wants_alerts && !any_patient &&
      !(caller->is_patient() && caller->patient == q.patient)) {
    ctx.trail.denied = true;
    return SetError(Status::Forbidden("a patient may see only their own access log"), out);
  }
  if (!q.patient.empty()) ctx.trail.patients.insert(q.patient);
  auto page = store_.QueryAudit(q);
  if (!page.ok()) return SetError(page.status(), out);
  std::string link = ctx.base + "/AuditEvent?" + self.substr(1) + "&_count=" + std::to_string(q.count);
  std::string s =
      BeginPagedSearchset(link, q.before_seq, page->next_before_seq, page->records.size());
  bool first = true;
  for (const auto& stored : page->records) {
    auto rec = audit::FromJson(stored.record);
    if (!rec.ok()) continue;
    std::string event = audit::RenderAuditEvent(stored.seq, *rec, render);
    s += first ? R"(,"entry":[)" : ",";
    first = false;
    s += R"({"fullUrl":)";
    AppendJsonString(ctx.base + "/AuditEvent/" + std::to_string(stored.seq), &s);
    s += R"(,"resource":)" + event + R"(,"search":{"mode":"match"})";
    if (wants_alerts) {
      // Whether (and by which record) the alert was reviewed.
      s += R"(,"response":{"status":")" +
           std::string(stored.reviewed_by ? "reviewed" : "open") + "\"";
      if (stored.reviewed_by) {
        s += R"(,"location":"AuditEvent/)" + std::to_string(stored.reviewed_by) + "\"";
      }
      s += "}";
    }
    s += "}";
  }
  if (!first) s += "]";
  s += "}";
  out->status = 200;
  out->SetHeader("Content-Type", std::string(kFhirJson));
  out->body = std::move(s);
}

}  // namespace crs::api

namespace crs::api {

namespace {

// Basic/audit-receipt-<ODS>: how far this node has recorded a peer node's
// forwarded audit records (the seq in the peer's log), so a retried or
// overlapping delivery appends nothing twice.
constexpr std::string_view kForwardedThrough = "urn:opencrs:audit-forwarded-through";

int64_t ForwardedThrough(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return 0;
  const json::value* ext = v.as_object().if_contains("extension");
  if (ext == nullptr || !ext->is_array()) return 0;
  for (const auto& e : ext->as_array()) {
    if (!e.is_object() || fhir::StringField(e.as_object(), "url") != kForwardedThrough) continue;
    std::string_view text = fhir::StringField(e.as_object(), "valueString");
    int64_t n = 0;
    std::from_chars(text.data(), text.data() + text.size(), n);
    return n;
  }
  return 0;
}

}  // namespace

void FhirApi::ForwardedAudit(RequestContext& ctx, http::Response* out) {
  ctx.trail.action = "audit-forward";
  ctx.trail.type = "AuditEvent";
  if (ctx.request.method != "POST") {
    return SetError(Status(Code::kMethodNotAllowed, "$forward takes POST"), out);
  }
  if (!ctx.caller || !ctx.caller->is_peer_node()) {
    ctx.trail.denied = true;
    return SetError(Status::Forbidden("only registered peer nodes forward audit records"), out);
  }
  const std::string& node = ctx.caller->node_org;
  boost::system::error_code ec;
  json::value body = json::parse(ctx.request.body, ec);
  const json::value* list =
      !ec && body.is_object() ? body.as_object().if_contains("records") : nullptr;
  if (list == nullptr || !list->is_array() || list->as_array().size() > 10000) {
    return SetError(Status::Invalid("expected {\"records\":[{\"seq\",\"hash\",\"record\"}...]} "
                                    "with at most 10,000 records"), out);
  }
  struct Forwarded {
    int64_t seq;
    audit::AuditRecord record;
  };
  std::vector<Forwarded> records;
  int64_t previous = 0;
  for (const auto& item : list->as_array()) {
    const json::object* o = item.if_object();
    const json::value* seq = o ? o->if_contains("seq") : nullptr;
    if (seq == nullptr || !seq->is_int64() || seq->as_int64() <= previous) {
      return SetError(Status::Invalid("forwarded records need increasing positive seq"), out);
    }
    previous = seq->as_int64();
    auto rec = audit::FromJson(fhir::StringField(*o, "record"));
    if (!rec.ok()) return SetError(Status::Invalid("a forwarded record does not parse"), out);
    rec->node = node;
    rec->node_seq = previous;
    rec->node_hash = std::string(fhir::StringField(*o, "hash"));
    records.push_back(Forwarded{previous, std::move(*rec)});
  }
  std::string receipt_id = "audit-receipt-" + node;
  Env e = env(ctx);
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto current = store_.Read("Basic", receipt_id);
    if (!current.ok() && current.status().code() != Code::kNotFound) {
      return SetError(current.status(), out);
    }
    int64_t through = current.ok() && !current->deleted ? ForwardedThrough(current->body) : 0;
    store::WriteBatch batch;
    for (const auto& f : records) {
      if (f.seq <= through) continue;  // recorded by an earlier delivery
      batch.audit.push_back(audit::ToAuditInput(f.record));
      for (const auto& p : f.record.patients) ctx.trail.patients.insert(p);
    }
    if (batch.audit.empty()) break;
    json::object receipt{
        {"resourceType", "Basic"},
        {"id", receipt_id},
        {"code", json::object{{"text", "audit records forwarded by node " + node}}},
        {"extension", json::array{json::object{{"url", kForwardedThrough},
                                               {"valueString", std::to_string(previous)}}}}};
    auto p = PrepareUpdate(e, "Basic", receipt_id, std::move(receipt), "");
    if (!p.ok()) return SetError(p.status(), out);
    if (p->write) batch.writes.push_back(*p->write);
    auto committed = store_.Commit(batch);
    if (committed.ok()) break;
    if (committed.status().code() != Code::kConflict || attempt == 7) {
      return SetError(committed.status(), out);
    }
  }
  // The forwarded records name patients, not this request: its own record
  // keeps only the count.
  ctx.trail.patients.clear();
  SetOutcome(200, OperationOutcomeJson("information", "informational",
                                       std::to_string(records.size()) + " record(s) received"),
             out);
}

}  // namespace crs::api
