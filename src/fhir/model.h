// The FHIR R4 structure model: which resource types and datatypes exist and
// which elements each has, generated from the official StructureDefinitions
// (../shared/fhir-r4/profiles-{resources,types}.json) by
// tools/gen_fhir_model.py into src/fhir/data/model.json, embedded in the binary.
//
// Used by the validator (unknown elements, cardinality, primitive formats) and
// by the FHIRPath engine (types of nodes for is/as/ofType and choice elements).
//
// Thread safety: Model::R4() is immutable after first use; safe to share.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crs::fhir {

// One element of a resource or datatype, as in StructureDefinition.snapshot.
struct ElementDef {
  std::string path;                // "Observation.value[x]", "HumanName.family"
  std::vector<std::string> types;  // type codes: "Quantity", "string", "BackboneElement", ...
  std::vector<std::string> target_profiles;  // for Reference/canonical: target type names
  int min = 0;
  bool many = false;               // max is not "0"/"1"
  bool choice = false;             // path ends in "[x]"
  std::string content_reference;   // "Questionnaire.item" when the element reuses another's
                                   // definition (contentReference "#Questionnaire.item")
};

// What a JSON property resolves to under a given parent.
struct ChildInfo {
  const ElementDef* def = nullptr;
  std::string type;      // the concrete type code: for "valueQuantity" under Observation,
                         // "Quantity"; "BackboneElement"/"Element" for inline structures
  std::string next_key;  // the key to pass to Child() for this child's own children: the
                         // datatype name (e.g. "HumanName") or, for inline structures, the
                         // element path (e.g. "Observation.component")
};

class Model {
 public:
  // The built-in R4 model (parsed from the embedded data on first use).
  static const Model& R4();

  bool IsResourceType(std::string_view name) const;
  bool IsDatatype(std::string_view name) const;       // complex or primitive
  bool IsPrimitiveType(std::string_view name) const;  // "string", "date", ...
  const std::vector<std::string>& ResourceTypes() const;  // sorted

  // Resolves JSON property `json_name` (e.g. "valueQuantity", "name", "_birthDate" is NOT
  // accepted: strip the underscore first) beneath `key`, which is a resource type, a
  // datatype name, or an inline element path (ChildInfo::next_key). Choice elements are
  // resolved from the suffix. Returns nullopt when no such element exists.
  std::optional<ChildInfo> Child(std::string_view key, std::string_view json_name) const;

  // All elements directly beneath `key` (same keys as Child()).
  std::vector<const ElementDef*> Children(std::string_view key) const;

  // Base type of a type ("Patient" -> "DomainResource", "Age" -> "Quantity",
  // "code" -> "string"); empty for roots (Resource, Element).
  std::string_view BaseType(std::string_view type) const;

  // The FHIR regex for a primitive type's value (from the StructureDefinition), or empty.
  std::string_view PrimitiveRegex(std::string_view type) const;

  struct Impl;
  explicit Model(Impl* impl) : impl_(impl) {}

 private:
  Impl* impl_;  // owned for the process lifetime (R4() is a leaked singleton)
};

}  // namespace crs::fhir
