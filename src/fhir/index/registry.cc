#include "fhir/index/registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

// The generated search-parameter data, linked into crs_fhir by crs_embed().
extern "C" const char crs_fhir_search_parameters_json[];
extern "C" const unsigned long crs_fhir_search_parameters_json_size;

namespace crs::fhir::index {

namespace {

// One official component expression, Observation-code-value-date's
// `value.as(DateTime) | value.as(Period)`, names the System type where the FHIR
// type dateTime is meant; the engine holds FHIR primitives to their exact type in
// as() (as the R4 FHIRPath suite asks), so it would find nothing. Read it as the
// FHIR type. Harmless should the engine ever accept System names there.
std::string WithFhirDateTime(std::string_view text) {
  constexpr std::string_view kSystem = "as(DateTime)";
  std::string out(text);
  for (size_t at = out.find(kSystem); at != std::string::npos; at = out.find(kSystem, at)) {
    out.replace(at, kSystem.size(), "as(dateTime)");
  }
  return out;
}

CompiledParam CompileParam(const SearchParam& param, std::string_view resource_type) {
  CompiledParam out;
  out.param = &param;
  if (param.type == SearchParamType::kSpecial) {
    out.skip = SkipReason::kSpecial;
    return out;
  }
  std::string_view text = param.ExpressionFor(resource_type);
  if (text.empty()) {
    out.skip = SkipReason::kNoExpression;
    return out;
  }
  Result<fhirpath::Expression> e = fhirpath::Compile(text);
  if (!e.ok()) {
    out.skip = SkipReason::kCompileError;
    out.compile_error = e.status().message();
    return out;
  }
  out.expression = std::move(e).value();
  for (const SearchParamComponent& c : param.component) {
    Result<fhirpath::Expression> ce = fhirpath::Compile(WithFhirDateTime(c.expression));
    if (!ce.ok()) {
      out.skip = SkipReason::kCompileError;
      out.compile_error = c.code + ": " + ce.status().message();
      out.components.clear();
      return out;
    }
    out.components.push_back(std::move(ce).value());
  }
  return out;
}

}  // namespace

IndexRegistry::IndexRegistry(std::unique_ptr<SearchParamRegistry> params)
    : params_(std::move(params)) {
  for (const std::string& type : params_->ResourceTypes()) {
    std::vector<CompiledParam>& compiled = compiled_.emplace_back();
    for (const SearchParam* p : params_->ForType(type)) compiled.push_back(CompileParam(*p, type));
  }
}

IndexRegistry::~IndexRegistry() = default;

Result<std::unique_ptr<IndexRegistry>> IndexRegistry::Create(std::string_view json) {
  CRS_ASSIGN_OR_RETURN(std::unique_ptr<SearchParamRegistry> params,
                       SearchParamRegistry::Parse(json));
  return std::unique_ptr<IndexRegistry>(new IndexRegistry(std::move(params)));
}

std::string_view IndexRegistry::EmbeddedData() {
  return std::string_view(crs_fhir_search_parameters_json, crs_fhir_search_parameters_json_size);
}

const IndexRegistry& IndexRegistry::Get() {
  static const IndexRegistry* registry = [] {
    Result<std::unique_ptr<IndexRegistry>> r = Create(EmbeddedData());
    if (!r.ok()) {
      std::fprintf(stderr, "fatal: embedded search parameters: %s\n",
                   r.status().ToString().c_str());
      std::abort();
    }
    return std::move(r).value().release();  // lives for the process
  }();
  return *registry;
}

int IndexRegistry::Find(std::string_view resource_type) const {
  const std::vector<std::string>& types = params_->ResourceTypes();
  auto it = std::lower_bound(types.begin(), types.end(), resource_type);
  if (it == types.end() || *it != resource_type) return -1;
  return static_cast<int>(it - types.begin());
}

const std::vector<CompiledParam>* IndexRegistry::ForType(std::string_view resource_type) const {
  int i = Find(resource_type);
  return i < 0 ? nullptr : &compiled_[static_cast<size_t>(i)];
}

std::string_view IndexRegistry::TypeName(std::string_view resource_type) const {
  int i = Find(resource_type);
  return i < 0 ? std::string_view()
               : std::string_view(params_->ResourceTypes()[static_cast<size_t>(i)]);
}

size_t IndexRegistry::pair_count() const {
  size_t n = 0;
  for (const auto& c : compiled_) n += c.size();
  return n;
}

size_t IndexRegistry::skipped_count(SkipReason reason) const {
  size_t n = 0;
  for (const auto& c : compiled_) {
    n += static_cast<size_t>(std::count_if(
        c.begin(), c.end(), [reason](const CompiledParam& p) { return p.skip == reason; }));
  }
  return n;
}

}  // namespace crs::fhir::index
