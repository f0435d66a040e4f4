#include "access/facts.h"
#include "fhir/json_util.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>

extern "C" const char crs_compartment_patient_json[];
extern "C" const unsigned long crs_compartment_patient_json_size;

namespace crs::access {

namespace json = boost::json;
using fhir::StringField;

namespace {

using LinkMap = std::map<std::string, std::vector<std::string>, std::less<>>;

const LinkMap& Links() {
  static const LinkMap* links = [] {
    auto* out = new LinkMap();
    for (const auto& [type, code] : PatientCompartmentLinks()) (*out)[type].push_back(code);
    return out;
  }();
  return *links;
}


// The ODS code an Organization reference names ("Organization/X" or an ODS identifier).
std::string OrgOf(const json::value& ref) {
  if (!ref.is_object()) return "";
  const auto& o = ref.get_object();
  std::string_view r = StringField(o, "reference");
  constexpr std::string_view kPrefix = "Organization/";
  if (r.substr(0, kPrefix.size()) == kPrefix && r.size() > kPrefix.size()) {
    return std::string(r.substr(kPrefix.size()));
  }
  if (const json::value* id = o.if_contains("identifier"); id && id->is_object()) {
    if (StringField(id->get_object(), "system") == kOdsSystem) {
      return std::string(StringField(id->get_object(), "value"));
    }
  }
  return "";
}

void AddOrgs(const json::object& o, std::string_view key, std::vector<std::string>* out) {
  const json::value* v = o.if_contains(key);
  if (!v) return;
  auto add = [&](const json::value& ref) {
    std::string org = OrgOf(ref);
    if (!org.empty()) out->push_back(std::move(org));
  };
  if (v->is_array()) {
    for (const auto& e : v->get_array()) add(e);
  } else {
    add(*v);
  }
}

bool StatusIn(const json::object& o, std::initializer_list<std::string_view> statuses) {
  std::string_view s = StringField(o, "status");
  return std::find(statuses.begin(), statuses.end(), s) != statuses.end();
}

// Every patient a JSON value names: references "Patient/<id>" (relative or
// at the end of an absolute URL), a contained or bundled Patient's id, and
// identifiers with the NHS-number system.
void CollectPatients(const json::value& v, std::set<std::string>* out, int depth = 0) {
  if (depth > 64) return;
  if (const json::object* o = v.if_object()) {
    if (StringField(*o, "resourceType") == "Patient" && !StringField(*o, "id").empty()) {
      out->insert(std::string(StringField(*o, "id")));
    }
    std::string_view ref = StringField(*o, "reference");
    if (size_t at = ref.rfind("Patient/"); at != std::string_view::npos &&
                                           (at == 0 || ref[at - 1] == '/')) {
      std::string_view id = ref.substr(at + 8);
      id = id.substr(0, id.find('/'));
      if (!id.empty()) out->insert(std::string(id));
    }
    if (StringField(*o, "system") == kNhsNumberSystem && !StringField(*o, "value").empty()) {
      out->insert(std::string(StringField(*o, "value")));
    }
    for (const auto& [k, child] : *o) CollectPatients(child, out, depth + 1);
  } else if (const json::array* a = v.if_array()) {
    for (const auto& child : *a) CollectPatients(child, out, depth + 1);
  }
}

// The patient a document Bundle is about: its Composition's subject, by
// "Patient/<id>", by NHS-number identifier, or by a reference to a Patient
// entry of the Bundle (whose NHS number then decides). "?" when the subject
// cannot be resolved (visible only to system), "" when there is no subject.
std::string DocumentPatient(const json::object& bundle) {
  const json::value* entries = bundle.if_contains("entry");
  if (!entries || !entries->is_array() || entries->get_array().empty()) return "";
  const json::value& first = entries->get_array()[0];
  const json::value* comp = first.is_object() ? first.get_object().if_contains("resource") : nullptr;
  if (!comp || !comp->is_object() || StringField(comp->get_object(), "resourceType") != "Composition") {
    return "";
  }
  const json::value* subject = comp->get_object().if_contains("subject");
  if (!subject || !subject->is_object()) return "";
  const json::object& s = subject->get_object();
  auto nhs_of = [](const json::object& o) -> std::string {
    const json::value* id = o.if_contains("identifier");
    if (id && id->is_object() && StringField(id->get_object(), "system") == kNhsNumberSystem) {
      return std::string(StringField(id->get_object(), "value"));
    }
    if (id && id->is_array()) {
      for (const auto& i : id->get_array()) {
        if (i.is_object() && StringField(i.get_object(), "system") == kNhsNumberSystem) {
          return std::string(StringField(i.get_object(), "value"));
        }
      }
    }
    return "";
  };
  std::string ref(StringField(s, "reference"));
  for (const auto& e : entries->get_array()) {
    if (ref.empty() || !e.is_object()) break;
    const json::value* r = e.get_object().if_contains("resource");
    if (!r || !r->is_object() || StringField(r->get_object(), "resourceType") != "Patient") continue;
    std::string local = "Patient/" + std::string(StringField(r->get_object(), "id"));
    if (StringField(e.get_object(), "fullUrl") == ref || local == ref) {
      std::string nhs = nhs_of(r->get_object());
      if (!nhs.empty()) return nhs;
    }
  }
  constexpr std::string_view kPrefix = "Patient/";
  if (ref.starts_with(kPrefix) && ref.size() > kPrefix.size() &&
      ref.find('/', kPrefix.size()) == std::string::npos) {
    return ref.substr(kPrefix.size());
  }
  std::string nhs = nhs_of(s);
  return nhs.empty() ? "?" : nhs;
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& PatientCompartmentLinks() {
  static const auto* links = [] {
    auto* out = new std::vector<std::pair<std::string, std::string>>();
    json::error_code ec;
    auto v = json::parse(
        std::string_view(crs_compartment_patient_json, crs_compartment_patient_json_size), ec);
    if (ec || !v.is_object()) return out;  // the build embeds a generated, valid file
    for (const auto& [type, params] : v.at("links").as_object()) {
      for (const auto& p : params.as_array()) {
        out->emplace_back(std::string(type), std::string(p.as_string()));
      }
    }
    return out;
  }();
  return *links;
}

std::vector<std::string_view> PatientLinkParams(std::string_view type) {
  std::vector<std::string_view> out;
  auto it = Links().find(type);
  if (it != Links().end()) {
    for (const auto& p : it->second) out.push_back(p);
  }
  return out;
}

store::AccessFacts ComputeFacts(std::string_view type, std::string_view id,
                                const json::value& resource,
                                const fhir::index::IndexEntries* entries,
                                std::string_view author_org) {
  store::AccessFacts f;
  f.author_org = author_org;
  if (type == "Patient") {
    f.patient = id;
  } else if (entries != nullptr) {
    std::vector<std::string_view> params = PatientLinkParams(type);
    auto linked = [&](std::string_view param) {
      return std::find(params.begin(), params.end(), param) != params.end();
    };
    std::set<std::string> patients;
    for (const auto& r : entries->references) {
      if (r.target_type == "Patient" && !r.target_id.empty() && linked(r.param)) {
        patients.insert(r.target_id);
      }
    }
    // Reference.identifier rows (the :identifier modifier) carrying an NHS number.
    for (const auto& t : entries->tokens) {
      if (t.system == kNhsNumberSystem && !t.code.empty() && linked(t.param)) {
        patients.insert(t.code);
      }
    }
    if (params.empty() && resource.is_object()) {
      // A type outside the patient compartment (Bundle, Binary, Linkage...)
      // may still carry a patient's data: any reference to a Patient, or
      // NHS-number identifier, anywhere in it binds it to that patient.
      CollectPatients(resource, &patients);
    }
    if (patients.size() == 1) {
      f.patient = *patients.begin();
    } else if (patients.size() > 1) {
      f.patient = "*";
    }
  }
  if (!resource.is_object()) return f;
  const json::object& o = resource.get_object();
  if (type == "Bundle" && StringField(o, "type") == "document") {
    // A Bundle has no patient-compartment link, but a document (a Summary
    // Care Record) belongs to its subject: every access rule applies to it.
    // Without a subject, what the generic scan found stands.
    if (std::string p = DocumentPatient(o); !p.empty()) f.patient = std::move(p);
  }
  if (const json::value* meta = o.if_contains("meta"); meta && meta->is_object()) {
    if (const json::value* sec = meta->get_object().if_contains("security");
        sec && sec->is_array()) {
      for (const auto& c : sec->get_array()) {
        if (!c.is_object()) continue;
        std::string_view system = StringField(c.get_object(), "system");
        std::string_view code = StringField(c.get_object(), "code");
        if (system == kConfidentialitySystem && code == "R") {
          f.labels |= type == "Patient" ? store::AccessFacts::kRestricted
                                        : store::AccessFacts::kSealed;
        } else if (system == kConfidentialitySystem && code == "V") {
          f.labels |= store::AccessFacts::kLocked;
        } else if (system == kActCodeSystem && (code == "CEL" || code == "EMP")) {
          f.labels |= store::AccessFacts::kVip;
        }
      }
    }
  }
  if (type == "Patient") {
    AddOrgs(o, "generalPractitioner", &f.relationship_orgs);
  } else if (type == "EpisodeOfCare") {
    if (StatusIn(o, {"planned", "waitlist", "active", "onhold"})) {
      AddOrgs(o, "managingOrganization", &f.relationship_orgs);
    }
  } else if (type == "CareTeam") {
    if (StatusIn(o, {"proposed", "active", "suspended"})) {
      AddOrgs(o, "managingOrganization", &f.relationship_orgs);
    }
  } else if (type == "Encounter") {
    if (StatusIn(o, {"planned", "arrived", "triaged", "in-progress", "onleave"})) {
      AddOrgs(o, "serviceProvider", &f.relationship_orgs);
    }
  } else if (type == "ServiceRequest") {
    if (StatusIn(o, {"active", "on-hold"})) AddOrgs(o, "performer", &f.relationship_orgs);
  }
  std::sort(f.relationship_orgs.begin(), f.relationship_orgs.end());
  f.relationship_orgs.erase(std::unique(f.relationship_orgs.begin(), f.relationship_orgs.end()),
                            f.relationship_orgs.end());
  return f;
}

}  // namespace crs::access
