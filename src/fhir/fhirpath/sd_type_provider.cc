#include "fhir/fhirpath/sd_type_provider.h"

#include <boost/json.hpp>

namespace crs::fhirpath {
namespace json = boost::json;

namespace {

constexpr std::string_view kSystemPrefix = "http://hl7.org/fhirpath/System.";
constexpr std::string_view kFhirTypeExtension =
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";

std::string_view Str(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v != nullptr && v->is_string()) return v->get_string();
  return {};
}

// The FHIR type an element typed with a FHIRPath System type stands for.
std::string FhirTypeOfSystemType(const json::object& type) {
  if (const json::value* ext = type.if_contains("extension"); ext && ext->is_array()) {
    for (const json::value& e : ext->get_array()) {
      if (!e.is_object() || Str(e.get_object(), "url") != kFhirTypeExtension) continue;
      std::string_view t = Str(e.get_object(), "valueUrl");
      if (t.empty()) t = Str(e.get_object(), "valueUri");
      if (!t.empty()) return std::string(t);
    }
  }
  std::string_view code = Str(type, "code");
  return code.substr(0, kSystemPrefix.size()) == kSystemPrefix ? "string" : std::string(code);
}

}  // namespace

Status StructureDefinitionTypeProvider::Add(const json::value& input) {
  if (!input.is_object()) return Status::Invalid("expected a Bundle or StructureDefinition");
  const json::object& o = input.get_object();
  std::string_view rt = Str(o, "resourceType");
  if (rt == "StructureDefinition") {
    AddDefinition(o);
    return Status::Ok();
  }
  if (rt != "Bundle") return Status::Invalid("expected a Bundle or StructureDefinition");
  const json::value* entries = o.if_contains("entry");
  if (entries == nullptr || !entries->is_array()) return Status::Ok();
  for (const json::value& e : entries->get_array()) {
    if (!e.is_object()) continue;
    const json::value* r = e.get_object().if_contains("resource");
    if (r != nullptr && r->is_object() && Str(r->get_object(), "resourceType") == "StructureDefinition") {
      AddDefinition(r->get_object());
    }
  }
  return Status::Ok();
}

void StructureDefinitionTypeProvider::AddDefinition(const json::object& sd) {
  std::string_view kind = Str(sd, "kind");
  if (kind != "resource" && kind != "complex-type" && kind != "primitive-type") return;
  if (Str(sd, "derivation") == "constraint") return;
  std::string type(Str(sd, "type"));
  if (type.empty()) return;
  std::string_view base_url = Str(sd, "baseDefinition");
  size_t slash = base_url.rfind('/');
  base_[type] = slash == std::string_view::npos ? std::string() : std::string(base_url.substr(slash + 1));
  if (kind == "resource") resources_.insert(type);
  structures_.try_emplace(type);

  const json::value* snapshot = sd.if_contains("snapshot");
  if (snapshot == nullptr || !snapshot->is_object()) return;
  const json::value* elements = snapshot->get_object().if_contains("element");
  if (elements == nullptr || !elements->is_array()) return;
  std::unordered_map<std::string, std::string> path_types;
  for (const json::value& ev : elements->get_array()) {
    if (!ev.is_object()) continue;
    const json::object& el = ev.get_object();
    std::string path(Str(el, "path"));
    size_t dot = path.rfind('.');
    if (dot == std::string::npos) continue;
    std::string parent = path.substr(0, dot);
    std::string name = path.substr(dot + 1);
    Structure& s = structures_[parent];
    const json::value* types = el.if_contains("type");
    const json::array* type_list = types != nullptr && types->is_array() ? &types->get_array() : nullptr;
    if (name.size() > 3 && name.compare(name.size() - 3, 3, "[x]") == 0) {
      std::string base_name = name.substr(0, name.size() - 3);
      s.names.insert(base_name);
      if (type_list == nullptr) continue;
      for (const json::value& t : *type_list) {
        if (!t.is_object()) continue;
        std::string code(Str(t.get_object(), "code"));
        if (code.empty()) continue;
        std::string json_name = base_name + static_cast<char>(std::toupper(code[0])) + code.substr(1);
        s.children[json_name] = Entry{code, code, true};
      }
      continue;
    }
    s.names.insert(name);
    std::string_view content_ref = Str(el, "contentReference");
    if (!content_ref.empty()) {
      std::string target(content_ref.substr(content_ref[0] == '#' ? 1 : 0));
      auto it = path_types.find(target);
      std::string t = it != path_types.end() ? it->second : "BackboneElement";
      s.children[name] = Entry{t, target, false};
      path_types[path] = t;
      continue;
    }
    if (type_list == nullptr || type_list->empty() || !(*type_list)[0].is_object()) continue;
    const json::object& t0 = (*type_list)[0].get_object();
    std::string code(Str(t0, "code"));
    if (code.substr(0, kSystemPrefix.size()) == kSystemPrefix) {
      code = (kind == "resource" && name == "id" && parent == type) ? "id" : FhirTypeOfSystemType(t0);
    }
    std::string key = (code == "BackboneElement" || code == "Element") ? path : code;
    s.children[name] = Entry{code, key, false};
    path_types[path] = code;
  }
}

std::optional<ChildType> StructureDefinitionTypeProvider::Child(std::string_view parent_key,
                                                                std::string_view json_name) const {
  auto s = structures_.find(parent_key);
  if (s == structures_.end()) return std::nullopt;
  auto c = s->second.children.find(json_name);
  if (c == s->second.children.end()) return std::nullopt;
  return ChildType{c->second.type, c->second.key, c->second.choice};
}

std::string_view StructureDefinitionTypeProvider::BaseType(std::string_view type) const {
  auto it = base_.find(type);
  return it == base_.end() ? std::string_view() : std::string_view(it->second);
}

bool StructureDefinitionTypeProvider::IsType(std::string_view type) const {
  return base_.find(type) != base_.end();
}

bool StructureDefinitionTypeProvider::IsResourceType(std::string_view type) const {
  return resources_.find(type) != resources_.end();
}

bool StructureDefinitionTypeProvider::HasElement(std::string_view parent_key,
                                                 std::string_view name) const {
  auto s = structures_.find(parent_key);
  return s != structures_.end() && s->second.names.find(name) != s->second.names.end();
}

}  // namespace crs::fhirpath
