// TypeProvider: what the FHIRPath engine needs to know about the FHIR model.
//
// The engine navigates plain JSON. With a provider it also knows the FHIR type of
// every node it reaches, which `is`, `as`, `ofType`, `type()`, choice elements
// (`Observation.value` finds `valueQuantity` and types it Quantity) and the
// conversion of primitives (a `date` string compares as a Date) rely on. Without
// one, the engine works untyped: see docs/fhirpath.md.
//
// The contract is shaped after crs::fhir::Model (src/fhir/model.h): a "key" is a
// type name ("Patient", "HumanName", "string") or, for inline structures, the
// element path ("Observation.component", "Questionnaire.item"); an adapter over
// Model is a few lines (docs/fhirpath.md has it). crs_fhirpath cannot depend on
// crs_fhir (crs_fhir depends on it), hence this interface.
//
// Thread safety: implementations must be safe to call from many threads at once;
// the engine calls them during evaluation. All returned string_views must stay
// valid for the provider's lifetime.
#pragma once

#include <optional>
#include <string_view>

namespace crs::fhirpath {

struct ChildType {
  // The child's type code: a FHIR type ("Quantity", "code", "BackboneElement") or,
  // for elements the specification types with a FHIRPath System type (Element.id,
  // Extension.url), "System.String" or the FHIR type it stands for ("string").
  std::string_view type;
  // The key to pass to Child() for this child's own children: a type name or, for
  // inline structures (BackboneElement, contentReference), an element path.
  std::string_view key;
  // The element is a choice ("value[x]") and the JSON name carried the type suffix.
  bool choice = false;
};

class TypeProvider {
 public:
  virtual ~TypeProvider() = default;

  // Resolves JSON property `json_name` (e.g. "name", "valueQuantity"; never a
  // "_name" extension sibling) beneath `parent_key`. Choice elements resolve from
  // their suffix. nullopt when there is no such element.
  virtual std::optional<ChildType> Child(std::string_view parent_key,
                                         std::string_view json_name) const = 0;

  // The type `type` derives from: "Patient" -> "DomainResource", "Age" -> "Quantity",
  // "code" -> "string", "BackboneElement" -> "Element"; empty for the roots
  // (Resource, Element) and for unknown names.
  virtual std::string_view BaseType(std::string_view type) const = 0;

  // True when `type` names a FHIR resource type or datatype (primitive or complex),
  // abstract ones included ("Resource", "Element", "BackboneElement").
  virtual bool IsType(std::string_view type) const = 0;

  // True when `type` names a resource type (abstract Resource/DomainResource included).
  virtual bool IsResourceType(std::string_view type) const = 0;

  // True when `parent_key` defines an element called `name` as FHIRPath names it:
  // choice elements without "[x]" ("value", not "valueQuantity"). Only strict mode
  // asks; the default accepts everything.
  virtual bool HasElement(std::string_view parent_key, std::string_view name) const {
    return true;
  }
};

}  // namespace crs::fhirpath
