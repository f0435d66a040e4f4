// Where the API asks the access layer (src/access/policy.h) and records what a
// request touched for its audit record. Every interaction handler calls these.
#include <algorithm>
#include <boost/json.hpp>

#include "access/facts.h"
#include "api/demographics.h"
#include "api/handler_internal.h"
#include "fhir/json_util.h"
#include "fhir/model.h"

namespace crs::api {

namespace {

// The types a caller's SMART scopes let it read or search (null: no limit).
std::optional<std::vector<std::string>> ScopedTypes(const access::Caller& c) {
  if (!c.scope_allows) return std::nullopt;
  // A wildcard grant (system/*.rs, user/*.r...) reaches every type: no
  // narrowing, without testing ~150 types and copying their names on every
  // request (6% of an audited read's CPU).
  if (c.scope_allows("*", 'r') || c.scope_allows("*", 's')) return std::nullopt;
  std::vector<std::string> types;
  const auto& all = fhir::Model::R4().ResourceTypes();
  for (const auto& t : all) {
    if (c.scope_allows(t, 'r') || c.scope_allows(t, 's')) types.push_back(t);
  }
  if (types.size() == all.size()) return std::nullopt;  // e.g. system/*.rs: no narrowing
  return types;
}

}  // namespace

Status FhirApi::Allow(RequestContext& ctx, std::string_view type, char interaction) {
  if (!ctx.caller) return Status::Ok();
  return access::TypeAllowed(*ctx.caller, type, interaction);
}

std::shared_ptr<const store::AccessFilter> FhirApi::FilterOf(RequestContext& ctx,
                                                             char interaction) {
  if (!ctx.caller) return nullptr;
  auto f = std::make_shared<store::AccessFilter>(
      access::FilterFor(*ctx.caller, options_.policy, interaction));
  if (!f->types) f->types = ScopedTypes(*ctx.caller);
  if ((interaction == 'r' || interaction == 's') && SharedBeyondHolder(*ctx.caller)) {
    NarrowToConsented(ctx, f.get());
  }
  return f;
}

bool FhirApi::SharedBeyondHolder(const access::Caller& c) const {
  if (!options_.national_consent || c.is_patient() || c.is_peer_node()) return false;
  if (!options_.org.empty() && c.org == options_.org) return false;  // the holder's own staff
  const auto& issuers = options_.national_issuers;
  return std::find(issuers.begin(), issuers.end(), c.issuer) != issuers.end();
}

bool FhirApi::ConsentShares(RequestContext& ctx, std::string_view patient) {
  auto state = options_.national_consent(patient);
  if (!state.ok()) {
    ctx.trail.consent_unavailable = true;
    ctx.trail.denied = true;
    return false;
  }
  bool shares = state->ScrAllowed(options_.policy.consent_model) &&
                !(ctx.caller->purpose == access::Purpose::kResearch &&
                  state->ndop_opted_out.value_or(false));
  if (!shares) ctx.trail.denied = true;
  return shares;
}

void FhirApi::NarrowToConsented(RequestContext& ctx, store::AccessFilter* f) {
  // Only patients the request names, within the caller's reach, whose
  // consent allows sharing: the consent check happens here, before the
  // query, so searches, counts and includes never see anyone else.
  // At most kMaxNamed patients are considered, bounding the consent look-ups
  // one request can cause.
  constexpr size_t kMaxNamed = 100;
  std::vector<std::string> allowed;
  size_t considered = 0;
  for (const auto& p : ctx.caller->named_patients) {
    if (p.empty() || p == "*" || p == "?" || ++considered > kMaxNamed) continue;
    bool reach = f->any_patient ||
                 std::find(f->patients.begin(), f->patients.end(), p) != f->patients.end();
    if (!reach && f->related && !f->org.empty()) {
      auto r = store_.HasRelationship(f->org, p);
      reach = r.ok() && *r;
    }
    if (reach && ConsentShares(ctx, p)) allowed.push_back(p);
  }
  f->any_patient = false;
  f->any_patient_types.clear();
  f->related = false;
  f->patients = std::move(allowed);
}

bool FhirApi::See(RequestContext& ctx, std::string_view type, std::string_view id,
                  const store::AccessFacts& facts, char interaction) {
  if (!ctx.caller) return true;
  auto filter = FilterOf(ctx, interaction);
  auto related = [&](std::string_view patient) {
    auto r = store_.HasRelationship(ctx.caller->org, patient);
    return r.ok() && *r;
  };
  if (!access::Visible(*filter, type, facts, related)) return false;
  // Writes on a linked local node by national users of other organisations
  // follow the patient's consent too (reads did so in FilterOf).
  bool write = interaction == 'c' || interaction == 'u' || interaction == 'd';
  if (write && SharedBeyondHolder(*ctx.caller) && !facts.patient.empty() &&
      facts.patient != "*" && facts.patient != "?" && !ConsentShares(ctx, facts.patient)) {
    return false;
  }
  for (auto& a : access::AlertsFor(*ctx.caller, *filter, type, facts, related)) {
    ctx.trail.alerts.insert(std::move(a));
  }
  if (!ctx.caller->is_patient() && IsVipPatient(facts.patient)) ctx.trail.alerts.insert("vip");
  if (!facts.patient.empty() && facts.patient != "*" && facts.patient != "?") {
    ctx.trail.patients.insert(facts.patient);
  }
  ctx.trail.resources.push_back(std::string(type) + "/" + std::string(id));
  return true;
}

namespace {

// The ODS code of a DocumentReference's custodian, "" when it names none.
std::string CustodianOf(const std::string& body) {
  boost::system::error_code ec;
  auto doc = boost::json::parse(body, ec);
  if (ec || !doc.is_object()) return "";
  const auto* custodian = doc.as_object().if_contains("custodian");
  if (custodian == nullptr || !custodian->is_object()) return "";
  const auto* identifier = custodian->as_object().if_contains("identifier");
  if (identifier == nullptr || !identifier->is_object()) return "";
  return std::string(fhir::StringField(identifier->as_object(), "value"));
}

// A resource's top-level status ("" when it has none).
std::string StatusOf(const std::string& body) {
  boost::system::error_code ec;
  auto doc = boost::json::parse(body, ec);
  if (ec || !doc.is_object()) return "";
  return std::string(fhir::StringField(doc.as_object(), "status"));
}

// Record-locator pointers on the national node (docs/federation.md): every
// DocumentReference there is a pointer that belongs to its custodian, with
// an id in the custodian's namespace "<ODS>-...". Only that organisation
// (or the node's own administrators) may write one, or change or delete
// one it wrote; a deleted pointer's id may be taken up again.
Status CheckCustodian(const access::Caller& c, const Prepared& p) {
  if (c.is_system() && !c.is_peer_node()) return Status::Ok();  // administrators
  std::string org = c.is_peer_node() ? c.node_org : c.org;
  if (!p.body.empty()) {
    if (CustodianOf(p.body) != org) {
      return Status::Forbidden("a pointer's custodian must be the writer's organisation");
    }
  }
  if (!p.id.starts_with(org + "-")) {
    return Status::Forbidden("a pointer's id must start with its custodian's ODS code and '-'");
  }
  if (p.existed && !p.existing_deleted && p.existing.author_org != org) {
    return Status::Forbidden("only the custodian organisation may change this pointer");
  }
  return Status::Ok();
}

}  // namespace

Status FhirApi::CheckSupersededStays(const Prepared& p) {
  // A superseded pointer (docs/federation.md, "Replacing a pointer") stays
  // superseded: its replacement is the current one, and making the old one
  // current again would show two. Its custodian may still delete it.
  if (!p.existed || p.existing_deleted || !p.write || p.write->method == store::Method::kDelete) {
    return Status::Ok();
  }
  auto cur = store_.Read("DocumentReference", p.id);
  if (!cur.ok() || cur->deleted || StatusOf(cur->body) != "superseded") return Status::Ok();
  if (StatusOf(p.body) == "superseded") return Status::Ok();
  return Status::Conflict("this pointer has been replaced (status superseded); it cannot become "
                          "current again");
}

Status FhirApi::CheckWrite(RequestContext& ctx, const Prepared& p, char interaction) {
  if (!ctx.caller) return Status::Ok();
  if (p.type == "DocumentReference" && options_.policy.national) {
    CRS_RETURN_IF_ERROR(CheckCustodian(*ctx.caller, p));
    CRS_RETURN_IF_ERROR(CheckSupersededStays(p));
  }
  // The node registry (docs/federation.md) decides whose tokens this node
  // trusts: only its own administrators change it.
  if (p.type == "Endpoint" && p.id.starts_with("node-") &&
      !(ctx.caller->is_system() && !ctx.caller->is_peer_node())) {
    return Status::Forbidden("only this node's administrators may change the node registry");
  }
  // Changing what one may not see is answered as if it were not there.
  if (p.existed && !See(ctx, p.type, p.id, p.existing, interaction)) {
    return Status::NotFound(p.type + " not found");
  }
  if (p.write && p.write->access && !See(ctx, p.type, p.id, *p.write->access, interaction)) {
    return Status::Forbidden("no legitimate relationship with the patient this " + p.type +
                             " belongs to (or its security labels forbid it)");
  }
  return Status::Ok();
}

std::string FhirApi::Shown(const RequestContext& ctx, std::string_view type,
                           std::string_view patient, uint32_t labels, std::string body) {
  if (!WithholdsContactDetails(ctx.caller.get(), type, patient, labels)) return body;
  return WithoutContactDetails(body);
}

void FhirApi::AppendShown(const RequestContext& ctx, std::string_view type,
                          std::string_view patient, uint32_t labels, const std::string& body,
                          std::string* out) {
  if (!WithholdsContactDetails(ctx.caller.get(), type, patient, labels)) {
    out->append(body);
  } else {
    out->append(WithoutContactDetails(body));
  }
}

void FhirApi::Saw(RequestContext& ctx, const store::SearchResult& result,
                  std::string_view match_type) {
  if (!ctx.caller) return;
  auto note = [&](const store::SearchMatch& m, std::string_view type) {
    if (!m.patient.empty() && m.patient != "*" && m.patient != "?") {
      ctx.trail.patients.insert(m.patient);
      if (!ctx.caller->is_patient() && IsVipPatient(m.patient)) ctx.trail.alerts.insert("vip");
    }
    if (ctx.trail.resources.size() < 1000) {
      ctx.trail.resources.push_back(std::string(type) + "/" + m.id);
    }
  };
  auto related = [&](std::string_view patient) {
    auto r = store_.HasRelationship(ctx.caller->org, patient);
    return r.ok() && *r;
  };
  store::AccessFilter none;
  auto alerts = [&](const store::SearchMatch& m, std::string_view type) {
    store::AccessFacts facts{m.patient, m.labels, m.author_org, {}};
    for (auto& a : access::AlertsFor(*ctx.caller, none, type, facts, related)) {
      ctx.trail.alerts.insert(std::move(a));
    }
  };
  for (const auto& m : result.matches) {
    note(m, m.type.empty() ? match_type : m.type);
    if (m.labels != 0) alerts(m, m.type.empty() ? match_type : m.type);
  }
  for (const auto& m : result.included) {
    note(m, m.type);
    if (m.labels != 0) alerts(m, m.type);
  }
  if (ctx.caller->break_glass()) ctx.trail.alerts.insert("break-glass");
  if (ctx.caller->self_claimed) ctx.trail.alerts.insert("self-claimed");
}

bool FhirApi::IsVipPatient(const std::string& patient) {
  if (patient.empty() || patient == "*" || patient == "?") return false;
  std::lock_guard<std::mutex> lock(vip_mu_);
  if (!vip_loaded_) {
    // Once per process: every Patient labelled CEL or EMP.
    for (const char* code : {"CEL", "EMP"}) {
      store::SearchQuery q;
      q.type = "Patient";
      q.count = 1000;
      store::Predicate p;
      p.param = "_security";
      p.table = store::IndexTable::kToken;
      store::TokenCond t;
      t.system = std::string(access::kActCodeSystem);
      t.code = code;
      p.any_of.push_back(t);
      q.all_of.push_back(p);
      while (true) {
        auto r = store_.Search(q);
        if (!r.ok()) return false;  // not loaded: try again next time
        for (const auto& m : r->matches) vip_.insert(m.id);
        if (r->next_after_rid == 0) break;
        q.after_rid = r->next_after_rid;
      }
    }
    vip_loaded_ = true;
  }
  return vip_.count(patient) > 0;
}

void FhirApi::NoteVip(const Prepared& p) {
  if (p.type != "Patient" || !p.write) return;
  bool vip = p.write->access && (p.write->access->labels & store::AccessFacts::kVip);
  std::lock_guard<std::mutex> lock(vip_mu_);
  if (vip) {
    vip_.insert(p.id);
  } else {
    vip_.erase(p.id);
  }
}

}  // namespace crs::api
