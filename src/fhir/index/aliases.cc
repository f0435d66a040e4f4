#include "fhir/index/aliases.h"

#include "fhir/index/registry.h"

namespace crs::fhir::index {

std::string_view StoredParamFor(std::string_view type, std::string_view code) {
  if (code != "phonetic") return code;
  const SearchParamRegistry& params = IndexRegistry::Get().params();
  const SearchParam* phonetic = params.Find(type, "phonetic");
  const SearchParam* name = params.Find(type, "name");
  if (phonetic && name && phonetic->ExpressionFor(type) == name->ExpressionFor(type)) {
    return "name";
  }
  return code;
}

}  // namespace crs::fhir::index
