// IndexRegistry: the search parameters of every resource type, with their FHIRPath
// expressions compiled for index extraction.
//
// Holds the embedded SearchParamRegistry (src/fhir/data/search_parameters.json)
// and, per concrete resource type, one CompiledParam for each parameter that
// applies to it (SearchParamRegistry::ForType order: sorted by code), its
// expression being SearchParam::ExpressionFor(type).
//
// Everything is compiled when the registry is built: all 3,008 (parameter, type)
// pairs (1,706 type-specific plus the common ones on every type) compile in a few
// milliseconds, about as long as parsing the parameter data itself
// (docs/search-index.md has the figures), so compiling per type on first use
// would save nothing worth a lazily-initialised structure.
//
// Thread safety: immutable once built; Get() and every method may be called from any
// number of threads. Get()'s registry and what it returns live for the process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/fhirpath/fhirpath.h"
#include "fhir/search_params.h"

namespace crs::fhir::index {

// Why a parameter yields no rows for a type, whatever the resource.
enum class SkipReason : uint8_t {
  kNone,          // extracted
  kNoExpression,  // _text, _content, _query: left to the server
  kSpecial,       // type "special" (Location near): not indexed yet
  kCompileError,  // the expression (or a component's) failed to compile
};

struct CompiledParam {
  const SearchParam* param = nullptr;
  fhirpath::Expression expression;  // ExpressionFor(type), compiled
  // Composite parameters: the components' expressions (relative to each item of
  // `expression`), in SearchParam::component order.
  std::vector<fhirpath::Expression> components;
  SkipReason skip = SkipReason::kNone;
  std::string compile_error;  // for kCompileError
};

class IndexRegistry {
 public:
  // The process-wide registry over the embedded parameter data. The data is
  // compiled into the binary, so a failure to parse it is a build defect: the
  // process aborts with a message (as Model::R4() does).
  static const IndexRegistry& Get();

  // The embedded parameter data (src/fhir/data/search_parameters.json).
  static std::string_view EmbeddedData();

  // Builds a registry from parameter data in the SearchParamRegistry format.
  static Result<std::unique_ptr<IndexRegistry>> Create(std::string_view json);

  ~IndexRegistry();
  IndexRegistry(const IndexRegistry&) = delete;
  IndexRegistry& operator=(const IndexRegistry&) = delete;

  const SearchParamRegistry& params() const { return *params_; }

  // The compiled parameters of a concrete resource type, sorted by code; nullptr
  // for a name that is not one.
  const std::vector<CompiledParam>* ForType(std::string_view resource_type) const;

  // The type name as the registry holds it (a view valid for the registry's
  // lifetime); empty for a name that is not a concrete resource type.
  std::string_view TypeName(std::string_view resource_type) const;

  // The number of (parameter, type) pairs compiled, and how many were skipped for
  // each reason (see CompiledParam::skip).
  size_t pair_count() const;
  size_t skipped_count(SkipReason reason) const;

 private:
  explicit IndexRegistry(std::unique_ptr<SearchParamRegistry> params);
  // Index into types_ / compiled_ of a type name; -1 when unknown.
  int Find(std::string_view resource_type) const;

  std::unique_ptr<SearchParamRegistry> params_;
  // compiled_[i] holds the parameters of params_->ResourceTypes()[i].
  std::vector<std::vector<CompiledParam>> compiled_;
};

}  // namespace crs::fhir::index
