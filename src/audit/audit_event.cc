#include "audit/audit_event.h"

#include <openssl/evp.h>

#include <boost/json.hpp>

#include "core/time.h"

namespace crs::audit {
namespace {

namespace json = boost::json;

constexpr const char* kActReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
constexpr const char* kRestful = "http://hl7.org/fhir/restful-interaction";
constexpr const char* kOurActions = "urn:opencrs:audit-action";
constexpr const char* kEntityType = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
constexpr const char* kObjectRole = "http://terminology.hl7.org/CodeSystem/object-role";
constexpr const char* kNhsNumber = "https://fhir.nhs.uk/Id/nhs-number";
constexpr const char* kOds = "https://fhir.nhs.uk/Id/ods-organization-code";

json::object Coding(std::string_view system, std::string_view code, std::string_view display = {}) {
  json::object c;
  c["system"] = system;
  c["code"] = code;
  if (!display.empty()) c["display"] = display;
  return c;
}

json::object Concept(json::object coding, std::string_view text = {}) {
  json::object cc;
  cc["coding"] = json::array{std::move(coding)};
  if (!text.empty()) cc["text"] = text;
  return cc;
}

// FHIR's restful-interaction code for an action, or empty when it is ours.
std::string_view RestfulCode(std::string_view action) {
  static constexpr std::string_view kCodes[] = {
      "read",   "vread",  "update",      "patch", "delete",    "history",
      "create", "search", "transaction", "batch", "operation", "capabilities"};
  for (std::string_view c : kCodes) {
    if (c == action) return c;
  }
  if (action == "everything" || action == "everything-federated" || action == "summary" ||
      action == "summary-upload" || action == "summary-index") {
    return "operation";
  }
  return {};
}

std::string_view ActionCode(std::string_view action) {
  if (action == "create") return "C";
  if (action == "read" || action == "vread" || action == "history" || action == "summary") {
    return "R";
  }
  if (action == "update" || action == "patch" || action == "alert-review" ||
      action == "summary-upload") {
    return "U";
  }
  if (action == "delete") return "D";
  return "E";  // search, everything, transaction, batch, operations, token failures
}

std::string_view OutcomeCode(const AuditRecord& r) {
  switch (r.outcome) {
    case AuditOutcome::kAllowed:
      return "0";
    case AuditOutcome::kDenied:
      return "4";
    case AuditOutcome::kError:
      return r.status >= 500 || r.status == 0 ? "8" : "4";
  }
  return "8";
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

json::object Detail(std::string_view type, std::string_view value) {
  json::object d;
  d["type"] = type;
  d["valueString"] = value;
  return d;
}

json::array ContextDetails(const AuditRecord& r) {
  json::array details;
  if (!r.justification.empty()) details.push_back(Detail("justification", r.justification));
  if (r.break_glass) details.push_back(Detail("break-glass", "true"));
  if (r.permission_to_view) details.push_back(Detail("permission-to-view", "granted"));
  if (r.self_claimed) details.push_back(Detail("legitimate-relationship", "self-claimed"));
  for (const std::string& a : r.alerts) details.push_back(Detail("alert", a));
  if (r.reports != 0) details.push_back(Detail("reports", std::to_string(r.reports)));
  if (r.reviews != 0) details.push_back(Detail("reviews", std::to_string(r.reviews)));
  if (!r.review_outcome.empty()) details.push_back(Detail("review-outcome", r.review_outcome));
  if (!r.note.empty()) details.push_back(Detail("note", r.note));
  if (!r.request_id.empty()) details.push_back(Detail("request-id", r.request_id));
  if (!r.correlation_id.empty()) details.push_back(Detail("correlation-id", r.correlation_id));
  return details;
}

json::object UserAgent(const AuditRecord& r) {
  json::object agent;
  bool patient = r.role == "patient";
  json::object who;
  json::object identifier;
  identifier["system"] = patient ? kNhsNumber : "https://fhir.nhs.uk/Id/sds-user-id";
  identifier["value"] = r.user.empty() ? "unknown" : r.user;
  who["identifier"] = std::move(identifier);
  if (!r.user_name.empty()) who["display"] = r.user_name;
  // A backend service (crs import, integrations) is not a person: the
  // patient's access log shows it apart from the people who looked.
  agent["type"] = Concept(
      r.role == "system" ? Coding("http://terminology.hl7.org/CodeSystem/extra-security-role-type",
                                  "dataprocessor", "data processor")
                         : Coding("http://terminology.hl7.org/CodeSystem/extra-security-role-type",
                                  "humanuser", "human user"));
  if (!r.role.empty()) {
    bool national = r.role.size() > 1 && r.role[0] == 'R';
    agent["role"] = json::array{Concept(Coding(
        national ? "https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode" : "urn:opencrs:role",
        r.role))};
  }
  agent["who"] = std::move(who);
  if (!r.user_name.empty()) agent["name"] = r.user_name;
  agent["requestor"] = true;
  if (!r.purpose.empty()) {
    agent["purposeOfUse"] = json::array{Concept(Coding(kActReason, r.purpose), r.justification)};
  }
  return agent;
}

json::object OrgAgent(const AuditRecord& r) {
  json::object agent;
  agent["type"] = Concept(
      Coding("http://terminology.hl7.org/CodeSystem/v3-RoleClass", "PROV", "healthcare provider"));
  json::object who;
  who["reference"] = "Organization/" + r.org;
  json::object identifier;
  identifier["system"] = kOds;
  identifier["value"] = r.org;
  who["identifier"] = std::move(identifier);
  agent["who"] = std::move(who);
  agent["requestor"] = false;
  return agent;
}

json::array Entities(const AuditRecord& r) {
  json::array entities;
  json::array details = ContextDetails(r);
  for (const std::string& p : r.patients) {
    json::object e;
    json::object what;
    what["reference"] = "Patient/" + p;
    json::object identifier;
    identifier["system"] = kNhsNumber;
    identifier["value"] = p;
    what["identifier"] = std::move(identifier);
    e["what"] = std::move(what);
    e["type"] = Coding(kEntityType, "1", "Person");
    e["role"] = Coding(kObjectRole, "1", "Patient");
    if (!details.empty()) e["detail"] = details;
    entities.push_back(std::move(e));
  }
  for (const std::string& res : r.resources) {
    json::object e;
    json::object what;
    what["reference"] = res;
    e["what"] = std::move(what);
    e["type"] = Coding(kEntityType, "2", "System Object");
    e["role"] = Coding(kObjectRole, "4", "Domain Resource");
    entities.push_back(std::move(e));
  }
  if (!r.query.empty() || r.action == "search") {
    json::object e;
    e["type"] = Coding(kEntityType, "2", "System Object");
    e["role"] = Coding(kObjectRole, "24", "Query");
    std::string text = r.resource_type + (r.query.empty() ? "" : "?" + r.query);
    e["description"] = text;
    e["query"] = Base64(text);
    entities.push_back(std::move(e));
  }
  // Without a patient, the access context rides on the first entity.
  if (r.patients.empty() && !details.empty()) {
    if (entities.empty()) {
      json::object e;
      e["description"] = "access context";
      entities.push_back(std::move(e));
    }
    entities.front().as_object()["detail"] = details;
  }
  return entities;
}

}  // namespace

std::string RenderAuditEvent(int64_t seq, const AuditRecord& r, const AuditEventOptions& options) {
  json::object ev;
  ev["resourceType"] = "AuditEvent";
  ev["id"] = std::to_string(seq);
  ev["type"] =
      Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "RESTful Operation");
  std::string_view restful = RestfulCode(r.action);
  if (!r.action.empty()) {
    json::array subtype{restful.empty() ? Coding(kOurActions, r.action)
                                        : Coding(kRestful, restful)};
    // An operation also names which one ($summary, $everything...), so a
    // reader can say what was done in plain words.
    if (!restful.empty() && restful != r.action) subtype.push_back(Coding(kOurActions, r.action));
    ev["subtype"] = std::move(subtype);
  }
  ev["action"] = ActionCode(r.action);
  ev["recorded"] = FormatInstant(r.time_ms);
  ev["outcome"] = OutcomeCode(r);
  std::string desc = OutcomeName(r.outcome);
  if (r.status != 0) desc += " (HTTP " + std::to_string(r.status) + ")";
  ev["outcomeDesc"] = desc;
  if (!r.purpose.empty())
    ev["purposeOfEvent"] = json::array{Concept(Coding(kActReason, r.purpose))};
  json::array agents{UserAgent(r)};
  if (!r.org.empty()) agents.push_back(OrgAgent(r));
  ev["agent"] = std::move(agents);
  json::object source;
  json::object observer;
  json::object node;
  if (!r.node.empty()) {
    // Forwarded by the peer node where it happened (docs/federation.md).
    node["system"] = "https://fhir.nhs.uk/Id/ods-organization-code";
    node["value"] = r.node;
    observer["identifier"] = std::move(node);
    observer["display"] = "OpenCRS node of " + r.node + " (audit record " +
                          std::to_string(r.node_seq) + " there)";
  } else {
    node["system"] = "urn:opencrs:node";
    node["value"] = options.node_id;
    observer["identifier"] = std::move(node);
    observer["display"] = options.node_name.empty() ? "OpenCRS node " + options.node_id
                                                    : options.node_name;
  }
  source["observer"] = std::move(observer);
  source["type"] = json::array{Coding("http://terminology.hl7.org/CodeSystem/security-source-type",
                                      "4", "Application Server")};
  ev["source"] = std::move(source);
  json::array entities = Entities(r);
  if (!entities.empty()) ev["entity"] = std::move(entities);
  return json::serialize(ev);
}

Result<std::string> RenderAuditEvent(const store::StoredAudit& stored,
                                     const AuditEventOptions& options) {
  auto record = FromJson(stored.record);
  if (!record.ok()) {
    return Status::Internal("audit record " + std::to_string(stored.seq) + " does not parse");
  }
  return RenderAuditEvent(stored.seq, *record, options);
}

}  // namespace crs::audit
