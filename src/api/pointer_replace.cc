// Replacing a record-locator pointer on the national node
// (docs/federation.md, "Replacing a pointer"): a DocumentReference written
// with relatesTo[].code = replaces marks the pointer it names `superseded`
// in the same store transaction as its own write, so the old pointer is
// never lost (it stays, with its history, as superseded) nor left current
// beside its replacement, and a refused write changes neither.
#include <boost/json.hpp>

#include "api/handler_internal.h"
#include "api/resource_io.h"
#include "fhir/json_util.h"

namespace crs::api {

namespace json = boost::json;

namespace {

// The ids of the pointers `body`'s relatesTo replaces ("DocumentReference/<id>",
// relative or ending an absolute URL); Invalid for a malformed target.
Result<std::vector<std::string>> ReplacedIds(const std::string& body) {
  std::vector<std::string> ids;
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) return ids;
  const json::value* relates = doc.as_object().if_contains("relatesTo");
  if (relates == nullptr || !relates->is_array()) return ids;
  for (const auto& r : relates->as_array()) {
    if (!r.is_object() || fhir::StringField(r.as_object(), "code") != "replaces") continue;
    const json::value* target = r.as_object().if_contains("target");
    std::string_view ref;
    if (target && target->is_object()) ref = fhir::StringField(target->as_object(), "reference");
    constexpr std::string_view kPrefix = "DocumentReference/";
    size_t at = ref.rfind(kPrefix);
    if (at == std::string_view::npos || (at != 0 && ref[at - 1] != '/')) {
      return Status::Invalid("relatesTo replaces must target a DocumentReference/<id>");
    }
    std::string id(ref.substr(at + kPrefix.size()));
    if (Status st = CheckIdSyntax(id); !st.ok()) return st;
    ids.push_back(std::move(id));
  }
  return ids;
}

}  // namespace

std::vector<std::string> RegisteredPractices(store::Store& store, const std::string& patient) {
  std::vector<std::string> out;
  auto p = store.Read("Patient", patient);
  if (!p.ok() || p->deleted) return out;
  boost::system::error_code ec;
  json::value doc = json::parse(p->body, ec);
  if (ec || !doc.is_object()) return out;
  const json::value* gps = doc.as_object().if_contains("generalPractitioner");
  if (gps == nullptr || !gps->is_array()) return out;
  for (const auto& gp : gps->as_array()) {
    if (!gp.is_object()) continue;
    const json::object& o = gp.as_object();
    std::string_view ref = fhir::StringField(o, "reference");
    if (const auto* id = o.if_contains("identifier"); id && id->is_object()) {
      std::string_view v = fhir::StringField(id->as_object(), "value");
      if (!v.empty()) {
        out.emplace_back(v);
        continue;
      }
    }
    if (ref.starts_with("Organization/")) out.emplace_back(ref.substr(13));
  }
  return out;
}

bool RegisteredWith(store::Store& store, const std::string& patient, const std::string& org) {
  for (const auto& p : RegisteredPractices(store, patient)) {
    if (p == org) return true;
  }
  return false;
}

Status FhirApi::Supersede(RequestContext& ctx, const Prepared& p,
                          const std::set<std::pair<std::string, std::string>>& also_written,
                          std::vector<store::Write>* writes) {
  if (!options_.policy.national || p.type != "DocumentReference" || !p.write ||
      p.write->method == store::Method::kDelete) {
    return Status::Ok();
  }
  CRS_ASSIGN_OR_RETURN(std::vector<std::string> ids, ReplacedIds(p.body));
  if (ids.empty()) return Status::Ok();
  std::string org;
  bool admin = false;
  if (ctx.caller) {
    admin = ctx.caller->is_system() && !ctx.caller->is_peer_node();
    org = ctx.caller->is_peer_node() ? ctx.caller->node_org : ctx.caller->org;
  } else {
    admin = true;  // no access control (tests of lower layers)
  }
  const std::string patient = p.write->access ? p.write->access->patient : "";
  for (const std::string& id : ids) {
    if (id == p.id) return Status::Invalid("a pointer cannot replace itself");
    if (also_written.count({"DocumentReference", id})) {
      return Status::Invalid("a pointer replaced by relatesTo may not be written in the same "
                             "transaction");
    }
    auto old = store_.Read("DocumentReference", id);
    if (!old.ok() && old.status().code() != Code::kNotFound) return old.status();
    if (!old.ok() || old->deleted) {
      return Status::Unprocessable("the pointer that relatesTo replaces (DocumentReference/" + id +
                                   ") does not exist");
    }
    // The custodian replaces its own pointers; the patient's registered
    // practice takes over those of the patient's previous holders (a GP2GP
    // transfer); administrators may do either.
    bool own = old->access.author_org == org;
    bool transferable = !org.empty() && !patient.empty() && old->access.patient == patient &&
                        RegisteredWith(store_, patient, org);
    if (!admin && !own && !transferable) {
      return Status::Forbidden("only the pointer's custodian, or the patient's registered "
                               "practice, may replace it");
    }
    if (!admin && old->access.patient != patient) {
      return Status::Forbidden("a pointer can only be replaced by a pointer to the same patient");
    }
    boost::system::error_code ec;
    json::value doc = json::parse(old->body, ec);
    if (ec || !doc.is_object()) return Status::Internal("a stored pointer is not JSON");
    if (fhir::StringField(doc.as_object(), "status") == "superseded") continue;  // already done
    doc.as_object()["status"] = "superseded";
    Env e = env(ctx);
    CRS_ASSIGN_OR_RETURN(Prepared replaced,
                         PrepareUpdate(e, "DocumentReference", id, std::move(doc),
                                       ETagOf(old->version)));
    if (!replaced.write) continue;
    ctx.trail.resources.push_back("DocumentReference/" + id + "/_history/" +
                                  std::to_string(replaced.version));
    writes->push_back(std::move(*replaced.write));
  }
  return Status::Ok();
}

}  // namespace crs::api
