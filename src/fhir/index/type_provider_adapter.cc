#include "fhir/index/type_provider_adapter.h"

#include "fhir/model.h"

namespace crs::fhir::index {

const ModelTypeProvider& ModelTypeProvider::R4() {
  static const ModelTypeProvider* provider = new ModelTypeProvider(Model::R4());
  return *provider;
}

std::optional<fhirpath::ChildType> ModelTypeProvider::Child(std::string_view parent_key,
                                                            std::string_view json_name) const {
  const Structure* parent = model_.FindStructure(parent_key);
  if (parent == nullptr) return std::nullopt;
  const ChildView* child = parent->Find(json_name);
  if (child == nullptr || child->def == nullptr || child->next == nullptr) return std::nullopt;
  // The model types Resource.id as the System String it is; FHIRPath (and the
  // reference provider) call it `id`, so `Patient.id is id` holds.
  if (child->def->system_typed && json_name == "id" &&
      parent->kind() == Structure::Kind::kResource) {
    if (const Structure* id = model_.FindStructure("id")) {
      return fhirpath::ChildType{id->key(), id->key(), false};
    }
  }
  return fhirpath::ChildType{child->type, child->next->key(), child->def->choice};
}

std::string_view ModelTypeProvider::BaseType(std::string_view type) const {
  return model_.BaseType(type);
}

bool ModelTypeProvider::IsType(std::string_view type) const {
  return model_.IsDatatype(type) || model_.IsResourceType(type);
}

bool ModelTypeProvider::IsResourceType(std::string_view type) const {
  return model_.IsResourceType(type);
}

bool ModelTypeProvider::HasElement(std::string_view parent_key, std::string_view name) const {
  const Structure* parent = model_.FindStructure(parent_key);
  return parent != nullptr && parent->FindElement(name) != nullptr;
}

}  // namespace crs::fhir::index
