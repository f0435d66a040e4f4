#include "api/demographics.h"

#include <boost/json.hpp>

#include "access/facts.h"
#include "core/time.h"
#include "nhs/nhs_number.h"
#include "store/store.h"

namespace crs::api {

namespace json = boost::json;

namespace {

const json::string* StringAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_string() : nullptr;
}

bool IsNhsNumberIdentifier(const json::value& identifier) {
  const json::object* o = identifier.if_object();
  const json::string* system = o ? StringAt(*o, "system") : nullptr;
  return system && *system == nhs::kNhsNumberSystem;
}

Status InvalidIdentifier(std::string message) {
  return Status::Invalid(std::move(message)).WithDetail("INVALID_IDENTIFIER_VALUE");
}

}  // namespace

Status CheckPatientId(std::string_view id) {
  Status valid = nhs::ValidateNhsNumber(id);
  if (valid.ok()) return valid;
  return Status::Invalid("a Patient's id must be its NHS number: " + valid.message())
      .WithDetail("INVALID_RESOURCE_ID");
}

Result<std::string> NhsNumberOf(const json::value& patient) {
  const json::object* o = patient.if_object();
  const json::value* ids = o ? o->if_contains("identifier") : nullptr;
  if (!ids || !ids->is_array()) return std::string();
  std::string found;
  for (const json::value& id : ids->get_array()) {
    if (!IsNhsNumberIdentifier(id)) continue;
    const json::string* value = StringAt(id.get_object(), "value");
    if (!value) return InvalidIdentifier("the NHS-number identifier has no value");
    if (Status st = nhs::ValidateNhsNumber(*value); !st.ok()) {
      return InvalidIdentifier("the NHS-number identifier is not a valid NHS number: " +
                               st.message());
    }
    if (!found.empty() && found != *value) {
      return InvalidIdentifier("the Patient carries two different NHS numbers");
    }
    found = std::string(*value);
  }
  return found;
}

Status BindNhsNumber(json::value& patient, std::string_view id) {
  CRS_ASSIGN_OR_RETURN(std::string number, NhsNumberOf(patient));
  if (!number.empty() && number != id) {
    return InvalidIdentifier("the NHS-number identifier does not match the resource id");
  }
  if (!number.empty()) return Status::Ok();
  json::object& o = patient.as_object();
  json::value& ids = o["identifier"];
  if (!ids.is_array()) ids = json::array();
  ids.get_array().push_back(json::object{{"system", nhs::kNhsNumberSystem}, {"value", id}});
  return Status::Ok();
}

Status PatientIfMatchRequired() {
  return Status::PreconditionFailed(
             "an update of a Patient needs If-Match with the version it replaces (its ETag)")
      .WithDetail("PRECONDITION_REQUIRED");
}

Status PatientVersionMismatch(std::string message) {
  return Status::Conflict(std::move(message)).WithDetail("RESOURCE_VERSION_MISMATCH");
}

void KeepDemographicHistory(const json::value& before, json::value& after, int64_t now_ms) {
  const json::object* old_obj = before.if_object();
  json::object* new_obj = after.if_object();
  if (!old_obj || !new_obj) return;
  std::string today = FormatInstant(now_ms).substr(0, 10);
  for (const char* field : {"name", "address"}) {
    const json::value* old_v = old_obj->if_contains(field);
    if (!old_v || !old_v->is_array()) continue;
    json::array kept;
    const json::value* new_v = new_obj->if_contains(field);
    const json::array* current = new_v ? new_v->if_array() : nullptr;
    for (const json::value& entry : old_v->get_array()) {
      if (!entry.is_object()) continue;
      if (current && std::find(current->begin(), current->end(), entry) != current->end()) {
        continue;  // still there, unchanged
      }
      json::value historic = entry;
      json::object& h = historic.get_object();
      // The element id names the current entry; the historic copy is a new element.
      h.erase("id");
      json::value& period = h["period"];
      if (!period.is_object()) period = json::object();
      json::object& p = period.get_object();
      if (!p.contains("end")) {
        const json::string* start = StringAt(p, "start");
        // An end before the start would make the period invalid.
        p["end"] = start && std::string_view(*start) > today ? json::string(*start)
                                                              : json::string(today);
      }
      kept.push_back(std::move(historic));
    }
    if (kept.empty()) continue;
    json::value& target = (*new_obj)[field];
    if (!target.is_array()) target = json::array();
    for (auto& h : kept) target.get_array().push_back(std::move(h));
  }
}

bool SeesRestrictedDemographics(const access::Caller* caller, std::string_view patient) {
  if (caller == nullptr || caller->is_system()) return true;
  return caller->is_patient() && !patient.empty() && caller->patient == patient;
}

bool IsRestrictedPatientBody(std::string_view body) {
  if (body.find(access::kConfidentialitySystem) == std::string_view::npos) return false;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return false;
  const json::value* meta = v.get_object().if_contains("meta");
  const json::value* security =
      meta && meta->is_object() ? meta->get_object().if_contains("security") : nullptr;
  if (!security || !security->is_array()) return false;
  for (const json::value& c : security->get_array()) {
    const json::object* o = c.if_object();
    const json::string* system = o ? StringAt(*o, "system") : nullptr;
    const json::string* code = o ? StringAt(*o, "code") : nullptr;
    if (system && code && *system == access::kConfidentialitySystem && *code == "R") return true;
  }
  return false;
}

bool WithholdsContactDetails(const access::Caller* caller, std::string_view type,
                             std::string_view patient, uint32_t labels) {
  return type == "Patient" && (labels & store::AccessFacts::kRestricted) &&
         !SeesRestrictedDemographics(caller, patient);
}

std::string WithoutContactDetails(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  // Stored bodies are valid JSON objects; anything else is withheld whole.
  if (ec || !v.is_object()) return "{}";
  json::object& o = v.get_object();
  for (const char* field : {"address", "telecom", "generalPractitioner"}) o.erase(field);
  return json::serialize(v);
}

std::optional<std::string> ReplacedBy(std::string_view patient_body) {
  if (patient_body.find("replaced-by") == std::string_view::npos) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(patient_body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::value* links = v.get_object().if_contains("link");
  if (!links || !links->is_array()) return std::nullopt;
  for (const json::value& l : links->get_array()) {
    const json::object* o = l.if_object();
    const json::string* type = o ? StringAt(*o, "type") : nullptr;
    const json::value* other = o ? o->if_contains("other") : nullptr;
    if (!type || *type != "replaced-by" || !other || !other->is_object()) continue;
    const json::string* ref = StringAt(other->get_object(), "reference");
    if (!ref) continue;
    std::string_view r = *ref;
    if (size_t at = r.rfind("Patient/"); at != std::string_view::npos) {
      r.remove_prefix(at + 8);
      if (!r.empty() && r.find('/') == std::string_view::npos) return std::string(r);
    }
  }
  return std::nullopt;
}

}  // namespace crs::api
