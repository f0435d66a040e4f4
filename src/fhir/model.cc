#include "fhir/model.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/status.h"

// The generated model, linked in by crs_embed() (see src/CMakeLists.txt).
extern "C" const char crs_fhir_model_json[];
extern "C" const unsigned long crs_fhir_model_json_size;

namespace crs::fhir {
namespace {

namespace json = boost::json;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

struct TypeInfo {
  Structure::Kind kind = Structure::Kind::kComplexType;
  std::string base;
  std::string regex;
  std::string system;  // primitives only
  bool abstract = false;
};

std::string_view Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  const json::string& s = v->get_string();
  return {s.data(), s.size()};
}

std::string_view ParentPath(std::string_view path) {
  size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : path.substr(0, dot);
}

std::string_view LastSegment(std::string_view path) {
  size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

}  // namespace

struct Model::Impl {
  std::string fhir_version;
  std::deque<ElementDef> elements;  // stable addresses
  std::deque<std::string> names;    // backing store for choice JSON names
  StringMap<Structure> structures;  // by type name or inline element path
  StringMap<TypeInfo> types;
  StringMap<const ElementDef*> by_path;
  std::vector<std::string> resource_types;

  Status Load(std::string_view text);
  Status LoadType(std::string_view name, const json::object& type);
  Status LoadElement(std::string_view type_name, const json::object& e);
  Status Resolve(Structure& structure);
  const Structure* Find(std::string_view key) const {
    auto it = structures.find(key);
    return it == structures.end() ? nullptr : &it->second;
  }
  const TypeInfo* Type(std::string_view name) const {
    auto it = types.find(name);
    return it == types.end() ? nullptr : &it->second;
  }
};

Status Model::Impl::Load(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 16;
  json::value root = json::parse(json::string_view(text.data(), text.size()), ec, {}, options);
  if (ec) return Status::Internal("model.json does not parse: " + ec.message());
  const json::object* top = root.if_object();
  const json::value* types_value = top ? top->if_contains("types") : nullptr;
  if (types_value == nullptr || !types_value->is_object()) {
    return Status::Internal("model.json has no \"types\" object");
  }
  fhir_version = std::string(Str(*top, "fhirVersion"));
  for (const auto& [name, type] : types_value->get_object()) {
    if (!type.is_object()) return Status::Internal("model.json: type is not an object");
    CRS_RETURN_IF_ERROR(LoadType({name.data(), name.size()}, type.get_object()));
  }
  // A content-reference element reuses the types of the element it points at.
  for (ElementDef& def : elements) {
    if (def.content_reference.empty() || !def.types.empty()) continue;
    auto ref = by_path.find(def.content_reference);
    if (ref == by_path.end()) {
      return Status::Internal("model.json: unresolved contentRef " + def.content_reference);
    }
    def.types = ref->second->types;
  }
  for (auto& [key, structure] : structures) CRS_RETURN_IF_ERROR(Resolve(structure));
  std::sort(resource_types.begin(), resource_types.end());
  return Status::Ok();
}

Status Model::Impl::LoadType(std::string_view name, const json::object& type) {
  TypeInfo info;
  std::string_view kind = Str(type, "kind");
  if (kind == "resource") {
    info.kind = Structure::Kind::kResource;
    resource_types.emplace_back(name);
  } else if (kind == "primitive-type") {
    info.kind = Structure::Kind::kPrimitiveType;
  } else if (kind != "complex-type") {
    return Status::Internal("model.json: unknown kind for " + std::string(name));
  }
  info.base = Str(type, "base");
  info.regex = Str(type, "regex");
  info.system = Str(type, "system");
  const json::value* abstract = type.if_contains("abstract");
  info.abstract = abstract != nullptr && abstract->is_bool() && abstract->get_bool();

  Structure& structure = structures[std::string(name)];
  structure.key_ = name;
  structure.kind_ = info.kind;
  structure.abstract_ = info.abstract;
  if (info.kind == Structure::Kind::kPrimitiveType) {
    structure.primitive_type_ = PrimitiveTypeFromName(name);
    if (!structure.primitive_type_) {
      return Status::Internal("model.json: unknown primitive type " + std::string(name));
    }
  }
  types.emplace(std::string(name), std::move(info));

  const json::value* elements_value = type.if_contains("elements");
  if (elements_value == nullptr || !elements_value->is_array()) {
    return Status::Internal("model.json: no elements for " + std::string(name));
  }
  for (const json::value& e : elements_value->get_array()) {
    if (!e.is_object()) return Status::Internal("model.json: element is not an object");
    CRS_RETURN_IF_ERROR(LoadElement(name, e.get_object()));
  }
  return Status::Ok();
}

Status Model::Impl::LoadElement(std::string_view type_name, const json::object& e) {
  ElementDef& def = elements.emplace_back();
  def.path = Str(e, "path");
  auto strings = [&e](std::string_view key, std::vector<std::string>* out) {
    if (const json::value* v = e.if_contains(key); v != nullptr && v->is_array()) {
      for (const json::value& s : v->get_array()) {
        if (s.is_string()) out->emplace_back(s.get_string().data(), s.get_string().size());
      }
    }
  };
  strings("types", &def.types);
  strings("targets", &def.target_profiles);
  if (const json::value* min = e.if_contains("min"); min != nullptr && min->is_int64()) {
    def.min = static_cast<int>(min->get_int64());
  }
  auto flag = [&e](std::string_view key) {
    const json::value* v = e.if_contains(key);
    return v != nullptr && v->is_bool() && v->get_bool();
  };
  def.many = flag("many");
  def.system_typed = flag("system");
  def.summary = flag("summary");
  def.choice = def.path.ends_with("[x]");
  def.content_reference = Str(e, "contentRef");

  std::string_view parent = ParentPath(def.path);
  if (parent.empty()) return Status::Internal("model.json: bad element path " + def.path);
  auto [it, inserted] = structures.try_emplace(std::string(parent));
  Structure& structure = it->second;
  if (inserted) {
    // An inline element (BackboneElement / Element) whose children follow it.
    if (!parent.starts_with(type_name)) {
      return Status::Internal("model.json: element outside its type: " + def.path);
    }
    structure.key_ = parent;
    structure.kind_ = Structure::Kind::kInline;
  }
  if (structure.elements_.size() >= UINT16_MAX) return Status::Internal("too many elements");
  if (def.min > 0) structure.required_.push_back(static_cast<uint16_t>(structure.elements_.size()));
  structure.elements_.push_back(&def);
  by_path.emplace(def.path, &def);
  return Status::Ok();
}

// Fills in the lookup tables of one structure once every element is loaded: JSON names
// (one per type for choice elements) and the structure each child's children live in.
Status Model::Impl::Resolve(Structure& structure) {
  for (size_t i = 0; i < structure.elements_.size(); ++i) {
    const ElementDef& def = *structure.elements_[i];
    // Inline children live under the element's own path, or the path it reuses.
    const Structure* inline_structure =
        Find(def.content_reference.empty() ? def.path : def.content_reference);
    if (!def.content_reference.empty() && inline_structure == nullptr) {
      return Status::Internal("model.json: contentRef without children " + def.content_reference);
    }
    if (def.types.empty()) return Status::Internal("model.json: no type for " + def.path);

    std::string_view name = LastSegment(def.path);
    if (def.choice) name.remove_suffix(3);
    structure.by_name_.emplace(name, &def);
    for (const std::string& type : def.types) {
      ChildView view;
      view.def = &def;
      view.type = type;
      view.name = name;
      view.index = static_cast<uint16_t>(i);
      view.next = inline_structure != nullptr ? inline_structure : Find(type);
      if (view.next == nullptr) return Status::Internal("model.json: unknown type " + type);
      std::string_view json_name = name;
      if (def.choice) {
        std::string& owned = names.emplace_back(name);
        owned.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(type[0]))));
        owned.append(type, 1);
        json_name = owned;
      }
      if (!structure.children_.emplace(json_name, view).second) {
        return Status::Internal("model.json: duplicate JSON name " + std::string(json_name));
      }
      if (!def.choice) break;  // non-choice elements have one type
    }
  }
  return Status::Ok();
}

const ChildView* Structure::Find(std::string_view json_name) const {
  auto it = children_.find(json_name);
  return it == children_.end() ? nullptr : &it->second;
}

const ElementDef* Structure::FindElement(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const Model& Model::R4() {
  static const Model* model = [] {
    auto* impl = new Impl();
    Status status = impl->Load(std::string_view(crs_fhir_model_json, crs_fhir_model_json_size));
    if (!status.ok()) {
      // The data is compiled in: failing here is a build defect, not a runtime condition.
      std::fprintf(stderr, "fatal: embedded FHIR model: %s\n", status.message().c_str());
      std::abort();
    }
    return new Model(impl);
  }();
  return *model;
}

bool Model::IsResourceType(std::string_view name) const {
  const TypeInfo* t = impl_->Type(name);
  return t != nullptr && t->kind == Structure::Kind::kResource;
}

bool Model::IsDatatype(std::string_view name) const {
  const TypeInfo* t = impl_->Type(name);
  return t != nullptr && t->kind != Structure::Kind::kResource;
}

bool Model::IsPrimitiveType(std::string_view name) const {
  const TypeInfo* t = impl_->Type(name);
  return t != nullptr && t->kind == Structure::Kind::kPrimitiveType;
}

const std::vector<std::string>& Model::ResourceTypes() const { return impl_->resource_types; }

std::optional<ChildInfo> Model::Child(std::string_view key, std::string_view json_name) const {
  const Structure* structure = impl_->Find(key);
  if (structure == nullptr) return std::nullopt;
  const ChildView* view = structure->Find(json_name);
  if (view == nullptr) return std::nullopt;
  ChildInfo info;
  info.def = view->def;
  info.type = view->type;
  info.next_key = view->next->key();
  return info;
}

std::vector<const ElementDef*> Model::Children(std::string_view key) const {
  const Structure* structure = impl_->Find(key);
  if (structure == nullptr) return {};
  return structure->elements();
}

std::string_view Model::BaseType(std::string_view type) const {
  const TypeInfo* t = impl_->Type(type);
  return t == nullptr ? std::string_view() : std::string_view(t->base);
}

std::string_view Model::PrimitiveRegex(std::string_view type) const {
  const TypeInfo* t = impl_->Type(type);
  return t == nullptr ? std::string_view() : std::string_view(t->regex);
}

bool Model::IsAbstract(std::string_view type) const {
  const TypeInfo* t = impl_->Type(type);
  return t != nullptr && t->abstract;
}

std::string_view Model::PrimitiveSystemType(std::string_view type) const {
  const TypeInfo* t = impl_->Type(type);
  return t == nullptr ? std::string_view() : std::string_view(t->system);
}

const Structure* Model::FindStructure(std::string_view key) const { return impl_->Find(key); }

std::string_view Model::FhirVersion() const { return impl_->fhir_version; }

}  // namespace crs::fhir
