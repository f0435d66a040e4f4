// What people do with the audit log besides reading it: a privacy officer
// records the outcome of an alert's review, a patient reports an access
// they do not recognise (an alert for the accessing organisation's privacy
// officer), and a privacy officer checks that the chain is intact. Each is
// itself an audit record (docs/audit.md).
#include <boost/json.hpp>
#include <charconv>

#include "api/handler_internal.h"
#include "api/outcome.h"
#include "api/resource_io.h"
#include "audit/verify.h"

namespace crs::api {

namespace json = boost::json;

namespace {

constexpr size_t kMaxNote = 1000;

std::optional<int64_t> ParseSeq(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 1) return std::nullopt;
  return v;
}

// The named values of a Parameters body: {name: value} for valueCode and
// valueString parameters. An empty body is an empty Parameters.
Result<std::map<std::string, std::string>> ParametersOf(std::string_view body, int max_depth) {
  std::map<std::string, std::string> out;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;
  CRS_ASSIGN_OR_RETURN(json::value v, ParseJsonBody(body, max_depth));
  const json::object* o = v.if_object();
  const json::value* type = o ? o->if_contains("resourceType") : nullptr;
  if (!type || *type != "Parameters")
    return Status::Invalid("the body must be a Parameters resource");
  const json::value* params = o->if_contains("parameter");
  if (!params) return out;
  if (!params->is_array()) return Status::Invalid("Parameters.parameter must be an array");
  for (const json::value& p : params->get_array()) {
    const json::object* po = p.if_object();
    const json::value* name = po ? po->if_contains("name") : nullptr;
    if (!name || !name->is_string()) return Status::Invalid("every parameter needs a name");
    const json::value* value = po->if_contains("valueCode");
    if (!value) value = po->if_contains("valueString");
    if (!value || !value->is_string()) {
      return Status::Invalid("parameter '" + std::string(name->get_string()) +
                             "' needs a valueCode or valueString");
    }
    out[std::string(name->get_string())] = std::string(value->get_string());
  }
  return out;
}

Status CheckNote(const std::map<std::string, std::string>& params, std::string* note) {
  auto it = params.find("note");
  if (it == params.end()) return Status::Ok();
  if (it->second.size() > kMaxNote) return Status::Invalid("note is longer than 1000 characters");
  *note = it->second;
  return Status::Ok();
}

json::object Param(std::string_view name, json::value value, std::string_view type) {
  json::object p;
  p["name"] = name;
  p[type] = std::move(value);
  return p;
}

}  // namespace

void FhirApi::ReviewAlert(RequestContext& ctx, std::string_view seq_text, http::Response* out) {
  ctx.trail.action = "alert-review";
  const access::Caller* caller = ctx.caller.get();
  bool officer = caller && caller->Has(access::kReviewAlerts);
  auto seq = ParseSeq(seq_text);
  if (!officer || !seq) return SetError(Status::NotFound("no such alert"), out);
  auto stored = store_.ReadAudit(*seq);
  // Only alerts for the officer's own organisation exist for them.
  if (!stored.ok() || stored->alert_org.empty() || stored->alert_org != caller->org) {
    ctx.trail.denied = stored.ok();
    return SetError(Status::NotFound("no such alert"), out);
  }
  auto params = ParametersOf(ctx.request.body, options_.max_json_depth);
  if (!params.ok()) return SetError(params.status(), out);
  if (auto it = params->find("outcome"); it != params->end()) {
    if (it->second != "appropriate" && it->second != "inappropriate" && it->second != "escalated") {
      return SetError(Status::Invalid("outcome must be appropriate, inappropriate or escalated"),
                      out);
    }
    ctx.trail.review_outcome = it->second;
  }
  if (Status st = CheckNote(*params, &ctx.trail.note); !st.ok()) return SetError(st, out);
  if (stored->reviewed_by != 0) {
    return SetError(Status::Conflict("this alert was already reviewed (record " +
                                     std::to_string(stored->reviewed_by) + ")"),
                    out);
  }
  ctx.trail.id = std::string(seq_text);
  ctx.trail.reviews = *seq;
  SetOutcome(200,
             OperationOutcomeJson("information", "informational",
                                  "alert " + std::to_string(*seq) + " marked reviewed"),
             out);
}

void FhirApi::ReportAccess(RequestContext& ctx, std::string_view seq_text, http::Response* out) {
  ctx.trail.action = "patient-report";
  ctx.trail.id = std::string(seq_text);
  const access::Caller* caller = ctx.caller.get();
  auto seq = ParseSeq(seq_text);
  if (!caller || !caller->is_patient() || !seq) {
    ctx.trail.denied = caller && !caller->is_patient();
    return SetError(Status::NotFound("no such access in your record's log"), out);
  }
  auto stored = store_.ReadAudit(*seq);
  Result<audit::AuditRecord> rec =
      stored.ok() ? audit::FromJson(stored->record) : Result<audit::AuditRecord>(stored.status());
  // Only accesses to the patient's own record exist for them.
  bool theirs = rec.ok() && std::find(rec->patients.begin(), rec->patients.end(),
                                      caller->patient) != rec->patients.end();
  if (!theirs) {
    ctx.trail.denied = rec.ok();
    return SetError(Status::NotFound("no such access in your record's log"), out);
  }
  if (rec->org.empty() || rec->role == "patient") {
    return SetError(Status::Invalid("this access was made by you, not by an organisation"), out);
  }
  auto params = ParametersOf(ctx.request.body, options_.max_json_depth);
  if (!params.ok()) return SetError(params.status(), out);
  if (Status st = CheckNote(*params, &ctx.trail.note); !st.ok()) return SetError(st, out);
  ctx.trail.patients.insert(caller->patient);
  ctx.trail.reports = *seq;
  ctx.trail.alerts.insert(std::string(audit::kAlertPatientReported));
  // The accessing organisation's privacy officer, about the accessing user.
  ctx.trail.alert_to = audit::AlertRouting{rec->org, rec->user, rec->user_name};
  SetOutcome(200,
             OperationOutcomeJson("information", "informational",
                                  "reported to the privacy officer of " + rec->org),
             out);
}

void FhirApi::VerifyAudit(RequestContext& ctx, http::Response* out) {
  ctx.trail.action = "audit-verify";
  const access::Caller* caller = ctx.caller.get();
  if (caller && !caller->Has(access::kReviewAlerts) && !caller->is_system()) {
    ctx.trail.denied = true;
    return SetError(Status::Forbidden("verifying the audit log is for privacy officers (X0900)"),
                    out);
  }
  audit::VerifyOptions options;
  options.public_keys = options_.audit_public_keys;
  auto report = audit::VerifyAuditLog(store_, options);
  if (!report.ok()) return SetError(report.status(), out);
  json::array params;
  params.push_back(Param("intact", report->intact, "valueBoolean"));
  params.push_back(Param("records", report->records, "valueInteger"));
  params.push_back(Param("checkpoints", report->checkpoints, "valueInteger"));
  params.push_back(Param("lastSeq", report->last_seq, "valueInteger"));
  params.push_back(Param("lastCheckpointSeq", report->last_checkpoint_seq, "valueInteger"));
  params.push_back(Param("uncovered", report->uncovered, "valueInteger"));
  if (!report->intact) {
    params.push_back(Param("firstBadSeq", report->first_bad_seq, "valueInteger"));
    params.push_back(Param("reason", json::string(report->reason), "valueString"));
  }
  json::object body;
  body["resourceType"] = "Parameters";
  body["parameter"] = std::move(params);
  out->status = 200;
  out->SetHeader("Content-Type", std::string(kFhirJson));
  out->body = json::serialize(body);
}

}  // namespace crs::api
