// GP2GP record transfer between practices (docs/federation.md, "GP2GP"):
// the operations on Patient/{nhs}. The transfer itself is the federation
// layer's (federation/transfer.h), reached through ApiOptions::transfers;
// here the caller is checked and the request audited.
#include <boost/json.hpp>
#include <charconv>

#include "access/facts.h"
#include "api/handler_internal.h"
#include "api/outcome.h"
#include "api/resource_io.h"
#include "fhir/json_util.h"
#include "nhs/nhs_number.h"

namespace crs::api {

namespace json = boost::json;

namespace {

void Answer(int status, std::string body, http::Response* out) {
  out->status = status;
  out->SetHeader("Content-Type", std::string(kFhirJson));
  out->body = std::move(body);
}

std::string Param(const std::vector<std::pair<std::string, std::string>>& params,
                  std::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return "";
}

// The old practice's ODS code from a Parameters body: "from" as a
// valueString, valueCode or valueIdentifier.value.
std::string FromParameter(const json::value& body) {
  const json::object* o = body.if_object();
  const json::value* list = o ? o->if_contains("parameter") : nullptr;
  if (list == nullptr || !list->is_array()) return "";
  for (const auto& p : list->as_array()) {
    if (!p.is_object() || fhir::StringField(p.as_object(), "name") != "from") continue;
    const json::object& po = p.as_object();
    for (const char* k : {"valueString", "valueCode"}) {
      if (auto v = fhir::StringField(po, k); !v.empty()) return std::string(v);
    }
    if (const auto* id = po.if_contains("valueIdentifier"); id && id->is_object()) {
      return std::string(fhir::StringField(id->as_object(), "value"));
    }
  }
  return "";
}

}  // namespace

void FhirApi::Gp2gp(RequestContext& ctx, std::string_view nhs_view, std::string_view op,
                    http::Response* out) {
  const std::string nhs(nhs_view);
  const std::string& m = ctx.request.method;
  ctx.trail.action = "gp2gp";
  if (!nhs::IsValidNhsNumber(nhs)) {
    return SetError(Status::Invalid("the patient id must be a valid NHS number"), out);
  }
  const TransferHooks& hooks = options_.transfers;
  if (!hooks.request) {
    return SetError(Status::Invalid("this node takes no part in GP2GP transfers (a practice's "
                                    "node linked to a national node does)"), out);
  }
  ctx.trail.patients.insert(nhs);
  if (op == "$gp2gp-release" || op == "$gp2gp-ack") {
    // The other practice's node, as the national registry names it.
    if (ctx.caller && !ctx.caller->is_peer_node()) {
      ctx.trail.denied = true;
      return SetError(Status::Forbidden("only another practice's node takes part in a transfer"),
                      out);
    }
    std::string peer = ctx.caller ? ctx.caller->node_org : "";
    if (op == "$gp2gp-release") {
      ctx.trail.action = "gp2gp-release";
      if (m != "GET") return SetError(Status(Code::kMethodNotAllowed, "use GET"), out);
      std::string id = Param(ctx.params, "transfer");
      std::string chunk_text = Param(ctx.params, "chunk");
      int64_t chunk = -1;
      auto [p, ec] = std::from_chars(chunk_text.data(), chunk_text.data() + chunk_text.size(), chunk);
      if (id.empty() || ec != std::errc() || p != chunk_text.data() + chunk_text.size() ||
          chunk < 0) {
        return SetError(Status::Invalid("$gp2gp-release needs transfer=<id> and chunk=<n>"), out);
      }
      ctx.trail.note = "GP2GP transfer " + id + " chunk " + chunk_text + " released to " + peer;
      auto r = hooks.release(peer, nhs, id, chunk);
      if (!r.ok()) {
        if (r.status().code() == Code::kForbidden) ctx.trail.denied = true;
        return SetError(r.status(), out);
      }
      return Answer(200, std::move(*r), out);
    }
    ctx.trail.action = "gp2gp-ack";
    if (m != "POST") return SetError(Status(Code::kMethodNotAllowed, "use POST"), out);
    auto body = ParseJsonBody(ctx.request.body, options_.max_json_depth);
    if (!body.ok()) return SetError(body.status(), out);
    const json::object* o = body->if_object();
    if (o == nullptr) return SetError(Status::Invalid("the acknowledgement is not an object"), out);
    std::string id(fhir::StringField(*o, "transfer"));
    std::string outcome(fhir::StringField(*o, "outcome"));
    std::string reason(fhir::StringField(*o, "reason"));
    ctx.trail.note = "GP2GP transfer " + id + " " + outcome + " by " + peer;
    if (Status st = hooks.acknowledge(peer, nhs, id, outcome, reason); !st.ok()) {
      return SetError(st, out);
    }
    return Answer(200, R"({"resourceType":"OperationOutcome","issue":[{"severity":"information",)"
                       R"("code":"informational","diagnostics":"acknowledged"}]})",
                  out);
  }
  // $gp2gp: this practice's own staff (or its backend services).
  bool post = m == "POST";
  if (!post && m != "GET") return SetError(Status(Code::kMethodNotAllowed, "use GET or POST"), out);
  ctx.trail.action = post ? "gp2gp-request" : "gp2gp-status";
  if (ctx.caller) {
    const access::Caller& c = *ctx.caller;
    bool own = !c.is_peer_node() && !c.is_patient() && c.org == options_.org;
    bool may = c.is_system() || c.Has(post ? access::kAmendClinical : access::kViewClinical);
    if (!own || !may) {
      ctx.trail.denied = true;
      return SetError(Status::Forbidden("only this practice's clinical staff may request or "
                                        "follow a record transfer"), out);
    }
  }
  if (!post) {
    auto r = hooks.list(nhs);
    if (!r.ok()) return SetError(r.status(), out);
    return Answer(200, std::move(*r), out);
  }
  auto body = ParseJsonBody(ctx.request.body, options_.max_json_depth);
  if (!body.ok()) return SetError(body.status(), out);
  std::string from = FromParameter(*body);
  if (from.empty()) {
    return SetError(Status::Invalid("$gp2gp needs a Parameters body naming 'from' (the old "
                                    "practice's ODS code)"), out);
  }
  // The record follows the patient's registration here.
  if (!RegisteredWith(store_, nhs, options_.org)) {
    return SetError(Status::Unprocessable("register the patient with this practice "
                                          "(Patient.generalPractitioner) before requesting "
                                          "their record"), out);
  }
  ctx.trail.note = "GP2GP transfer requested from " + from;
  auto r = hooks.request(nhs, from);
  if (!r.ok()) return SetError(r.status(), out);
  Answer(202, std::move(*r), out);
}

Result<Prepared> FhirApi::PrepareRegistration(RequestContext& ctx, const std::string& nhs,
                                              const std::string& org) {
  auto cur = store_.Read("Patient", nhs);
  if (!cur.ok() && cur.status().code() != Code::kNotFound) return cur.status();
  if (!cur.ok() || cur->deleted) return Status::NotFound("the national node holds no such patient");
  CRS_ASSIGN_OR_RETURN(json::value doc, ParseJsonBody(cur->body, options_.max_json_depth));
  const json::value* now = doc.as_object().if_contains("generalPractitioner");
  if (now && now->is_array() && now->as_array().size() == 1 && RegisteredWith(store_, nhs, org)) {
    // Already registered with this practice alone: nothing to write (a retry).
    Prepared p;
    p.status = 200;
    p.type = "Patient";
    p.id = nhs;
    p.version = cur->version;
    p.last_updated_ms = cur->last_updated_ms;
    p.body = std::move(cur->body);
    p.existed = true;
    p.existing = std::move(cur->access);
    return p;
  }
  doc.as_object()["generalPractitioner"] = json::array{json::object{
      {"reference", "Organization/" + org},
      {"identifier", json::object{{"system", access::kOdsSystem}, {"value", org}}}}};
  Env e = env(ctx);
  return PrepareUpdate(e, "Patient", nhs, std::move(doc), ETagOf(cur->version));
}

}  // namespace crs::api
