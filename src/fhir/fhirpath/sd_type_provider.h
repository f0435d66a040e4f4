// A TypeProvider built from StructureDefinition resources, such as the official
// profiles-resources.json and profiles-types.json bundles.
//
// The reference implementation of the TypeProvider contract: the conformance tests
// use it, and it serves tools that load definitions at run time. The server itself
// uses the adapter over crs::fhir::Model (docs/fhirpath.md), which needs no parsing.
//
// Keys follow crs::fhir::Model: a type name for resources and datatypes, the element
// path for inline elements (BackboneElement and Element children, e.g.
// "Observation.component"); contentReference elements ("#Questionnaire.item") take
// the referenced path as their key. Elements typed with a FHIRPath System type
// (Element.id, Extension.url) get the FHIR type their structuredefinition-fhir-type
// extension names; Resource.id is typed "id".
//
// Thread safety: build it with AddBundle() first; after that it is immutable and
// safe to share.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>

#include "core/status.h"
#include "fhir/fhirpath/type_provider.h"

namespace boost::json {
class value;
class object;
}

namespace crs::fhirpath {

class StructureDefinitionTypeProvider : public TypeProvider {
 public:
  // Adds every StructureDefinition in a Bundle (or a single StructureDefinition):
  // resources, complex and primitive types that are specialisations (constraint
  // profiles are skipped). Invalid when the input is neither.
  Status Add(const boost::json::value& bundle_or_definition);

  std::optional<ChildType> Child(std::string_view parent_key,
                                 std::string_view json_name) const override;
  std::string_view BaseType(std::string_view type) const override;
  bool IsType(std::string_view type) const override;
  bool IsResourceType(std::string_view type) const override;
  bool HasElement(std::string_view parent_key, std::string_view name) const override;

  size_t type_count() const { return base_.size(); }

 private:
  struct Entry {
    std::string type;
    std::string key;
    bool choice = false;
  };
  // Lookup by string_view without building a std::string.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  template <typename V>
  using Map = std::unordered_map<std::string, V, Hash, std::equal_to<>>;
  using Set = std::unordered_set<std::string, Hash, std::equal_to<>>;

  struct Structure {
    Map<Entry> children;  // by JSON name
    Set names;            // FHIRPath element names
  };

  void AddDefinition(const boost::json::object& sd);

  Map<Structure> structures_;  // by key
  Map<std::string> base_;      // type -> base type ("" at roots)
  Set resources_;
};

}  // namespace crs::fhirpath
