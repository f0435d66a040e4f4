// The FHIRPath TypeProvider over the built-in R4 model (crs::fhir::Model::R4()).
//
// crs_fhirpath cannot depend on crs_fhir (the dependency points the other way), so
// the engine asks its questions through fhirpath::TypeProvider; this adapter answers
// them from the generated model, with no parsing at start-up. With it, expressions
// such as `Observation.value as Quantity`, `ofType(Reference)` and
// `where(resolve() is Patient)` are evaluated typed.
//
// Typing follows fhirpath::StructureDefinitionTypeProvider (the reference
// implementation): choice elements resolve from their JSON suffix, inline elements
// (BackboneElement, Element) are keyed by their path, contentReference elements by
// the path they reuse, Resource.id is typed `id`, other System-typed elements
// (Element.id, Extension.url) by the FHIR type the model records for them.
//
// Thread safety: stateless over the immutable model; share freely.
#pragma once

#include "fhir/fhirpath/type_provider.h"

namespace crs::fhir {
class Model;
}

namespace crs::fhir::index {

class ModelTypeProvider : public fhirpath::TypeProvider {
 public:
  // `model` must outlive the provider.
  explicit ModelTypeProvider(const Model& model) : model_(model) {}

  // The process-wide provider over Model::R4().
  static const ModelTypeProvider& R4();

  std::optional<fhirpath::ChildType> Child(std::string_view parent_key,
                                           std::string_view json_name) const override;
  std::string_view BaseType(std::string_view type) const override;
  bool IsType(std::string_view type) const override;
  bool IsResourceType(std::string_view type) const override;
  bool HasElement(std::string_view parent_key, std::string_view name) const override;

 private:
  const Model& model_;
};

}  // namespace crs::fhir::index
