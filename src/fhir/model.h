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

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fhir/primitives.h"

namespace crs::fhir {

// One element of a resource or datatype, as in StructureDefinition.snapshot.
struct ElementDef {
  std::string path;                // "Observation.value[x]", "HumanName.family"
  std::vector<std::string> types;  // type codes: "Quantity", "string", "BackboneElement", ...
  std::vector<std::string> target_profiles;  // for Reference/canonical: target type names
  int min = 0;
  bool many = false;               // max is not "0"/"1"
  bool choice = false;             // path ends in "[x]"
  bool summary = false;            // isSummary: part of the _summary=true subset
  std::string content_reference;   // "Questionnaire.item" when the element reuses another's
                                   // definition (contentReference "#Questionnaire.item")
  // Added: R4 types Element.id, Resource.id and Extension.url with a FHIRPath System type
  // (http://hl7.org/fhirpath/System.String); `types` then holds the FHIR type the spec names
  // for it ("string", "uri") and this flag is set. Such a value is a plain JSON value that
  // can carry no `_name` extension sibling.
  bool system_typed = false;
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

class Structure;

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

  // --- Added beyond the original contract ---

  // ResourceTypes() and IsResourceType() include the abstract Resource and DomainResource
  // (148 names in R4); this tells them apart. True for abstract datatypes (Element,
  // BackboneElement) too.
  bool IsAbstract(std::string_view type) const;
  // The FHIRPath System type of a primitive's value: "String", "Boolean", "Integer",
  // "Decimal", "Date", "DateTime", "Time"; empty when `type` is not a primitive.
  std::string_view PrimitiveSystemType(std::string_view type) const;
  // The structure for a Child() key (type name or inline element path), or nullptr.
  // Faster than Child(): look the structure up once, then use Structure::Find().
  const Structure* FindStructure(std::string_view key) const;
  // The FHIR version the model was generated from ("4.0.1").
  std::string_view FhirVersion() const;

  struct Impl;
  explicit Model(Impl* impl) : impl_(impl) {}

 private:
  Impl* impl_;  // owned for the process lifetime (R4() is a leaked singleton)
};

// Allocation-free form of ChildInfo: views into the model, valid for the model's lifetime.
struct ChildView {
  const ElementDef* def = nullptr;
  std::string_view type;            // as ChildInfo::type
  std::string_view name;            // the element's name without "[x]": "value" for valueQuantity
  const Structure* next = nullptr;  // the structure of this child's own children
                                    // (a datatype, an inline element, "Resource", a primitive)
  uint16_t index = 0;               // position of `def` in the parent's Structure::elements()
};

// A node whose children the model knows: a type ("Patient", "HumanName", "date") or an
// inline element ("Observation.component", "Questionnaire.item"). Owned by the Model.
class Structure {
 public:
  enum class Kind { kResource, kComplexType, kPrimitiveType, kInline };

  std::string_view key() const { return key_; }  // ChildInfo::next_key
  Kind kind() const { return kind_; }
  bool is_abstract() const { return abstract_; }
  // For kPrimitiveType structures, which primitive; nullopt otherwise.
  std::optional<PrimitiveType> primitive_type() const { return primitive_type_; }
  // Direct children in snapshot order; ChildView::index indexes this vector.
  const std::vector<const ElementDef*>& elements() const { return elements_; }
  // Indices into elements() of the children with min >= 1.
  const std::vector<uint16_t>& required() const { return required_; }
  // Resolves a JSON property name (choice elements by their suffix, as Model::Child());
  // nullptr when unknown. No allocation.
  const ChildView* Find(std::string_view json_name) const;
  // Resolves an element by its name without "[x]" ("value" finds Observation.value[x]),
  // as FHIRPath navigation names it; nullptr when unknown.
  const ElementDef* FindElement(std::string_view name) const;

 private:
  friend struct Model::Impl;
  std::string key_;
  Kind kind_ = Kind::kInline;
  bool abstract_ = false;
  std::optional<PrimitiveType> primitive_type_;
  std::vector<const ElementDef*> elements_;
  std::vector<uint16_t> required_;
  // Keys view strings owned by the Model.
  std::unordered_map<std::string_view, ChildView> children_;
  std::unordered_map<std::string_view, const ElementDef*> by_name_;
};

}  // namespace crs::fhir
