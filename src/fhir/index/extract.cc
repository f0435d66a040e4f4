#include "fhir/index/extract.h"

#include <algorithm>
#include <boost/json.hpp>
#include <exception>
#include <utility>

#include "fhir/fhirpath/fhirpath.h"
#include "fhir/index/geo.h"
#include "fhir/index/registry.h"
#include "fhir/index/type_provider_adapter.h"
#include "fhir/index/value_rows.h"

namespace crs::fhir::index {
namespace {

namespace json = boost::json;
using fhirpath::Collection;
using fhirpath::Item;

// Tuples one composite item may produce; beyond it the rest are dropped (a
// CodeableConcept with many codings times many values would otherwise multiply).
constexpr size_t kMaxTuplesPerItem = 64;

template <typename T>
void SortUnique(std::vector<T>* rows) {
  std::sort(rows->begin(), rows->end());
  rows->erase(std::unique(rows->begin(), rows->end()), rows->end());
}

// Moves the rows of the table that `type` fills out of `scratch` as component values.
void TakeComponentValues(SearchParamType type, IndexEntries* scratch,
                         std::vector<ComponentValue>* out) {
  auto take = [out](auto* rows) {
    SortUnique(rows);
    for (auto& r : *rows) out->emplace_back(std::move(r));
  };
  switch (type) {
    case SearchParamType::kString:
      take(&scratch->strings);
      break;
    case SearchParamType::kToken:
      // A text-only row (CodeableConcept.text) names no code to pair with.
      std::erase_if(scratch->tokens, [](const TokenRow& t) { return t.code.empty(); });
      take(&scratch->tokens);
      break;
    case SearchParamType::kDate:
      take(&scratch->dates);
      break;
    case SearchParamType::kNumber:
      take(&scratch->numbers);
      break;
    case SearchParamType::kQuantity:
      take(&scratch->quantities);
      break;
    case SearchParamType::kReference:
      take(&scratch->references);
      break;
    case SearchParamType::kUri:
      take(&scratch->uris);
      break;
    case SearchParamType::kComposite:
    case SearchParamType::kSpecial:
      break;
  }
}

class Extractor {
 public:
  Extractor(const json::value& resource, IndexEntries* out, ExtractStats* stats)
      : resource_(resource), out_(out), stats_(stats) {
    row_ctx_.resource_type = out->resource_type;
    ctx_.types = &ModelTypeProvider::R4();
    ctx_.resource = &resource;
    ctx_.root_resource = &resource;
    row_ctx_.resource = &resource;
    row_ctx_.stats = stats;
  }

  void Run(const std::vector<CompiledParam>& params) {
    for (const CompiledParam& p : params) {
      if (p.skip != SkipReason::kNone) continue;
      size_t before = out_->RowCount();
      try {
        Extract(p);
      } catch (const std::exception& e) {
        // Nothing here is meant to throw; a failure (allocation) must still not fail
        // the write.
        Warn(p, std::string("exception: ") + e.what());
      }
      if (out_->RowCount() > before) out_->present.push_back(p.param->code);
    }
  }

 private:
  void Warn(const CompiledParam& p, std::string message) {
    out_->warnings.push_back(IndexWarning{p.param->code, std::move(message)});
    if (stats_ != nullptr) ++stats_->warnings;
  }

  void Extract(const CompiledParam& p) {
    if (stats_ != nullptr) ++stats_->evaluations;
    Result<Collection> items = fhirpath::Evaluate(p.expression, resource_, ctx_);
    if (!items.ok()) {
      Warn(p, items.status().message());
      return;
    }
    if (p.param->type == SearchParamType::kComposite) {
      Composite(p, *items);
      return;
    }
    for (const Item& item : *items) {
      internal::AppendRows(p.param->type, p.param->code, item, row_ctx_, out_);
    }
  }

  // For each item of the composite's base expression: the values of each component
  // evaluated on that item, and one row per combination.
  void Composite(const CompiledParam& p, const Collection& bases) {
    const std::vector<SearchParamComponent>& defs = p.param->component;
    for (const Item& base : bases) {
      std::vector<std::vector<ComponentValue>> values(defs.size());
      bool complete = true;
      // Last component first: it is usually the value (value.as(Quantity), ...), which
      // most items lack, so the shared code component is rarely converted in vain.
      for (size_t i = defs.size(); i-- > 0 && complete;) {
        Result<Collection> items = fhirpath::Evaluate(p.components[i], Collection{base}, ctx_);
        if (!items.ok()) {
          Warn(p, defs[i].code + ": " + items.status().message());
          return;
        }
        IndexEntries scratch;
        for (const Item& item : *items) {
          internal::AppendRows(defs[i].type, defs[i].code, item, row_ctx_, &scratch);
        }
        TakeComponentValues(defs[i].type, &scratch, &values[i]);
        complete = !values[i].empty();
      }
      if (complete) AddTuples(p.param->code, values);
    }
  }

  void AddTuples(std::string_view param, const std::vector<std::vector<ComponentValue>>& values) {
    std::vector<size_t> pick(values.size(), 0);
    for (size_t n = 0; n < kMaxTuplesPerItem; ++n) {
      CompositeRow row{param, {}};
      for (size_t i = 0; i < values.size(); ++i) row.components.push_back(values[i][pick[i]]);
      out_->composites.push_back(std::move(row));
      // Advance the odometer; done when it wraps.
      size_t i = values.size();
      while (i > 0) {
        --i;
        if (++pick[i] < values[i].size()) break;
        pick[i] = 0;
        if (i == 0) return;
      }
      if (values.empty()) return;
    }
  }

  const json::value& resource_;
  IndexEntries* out_;
  ExtractStats* stats_;
  fhirpath::EvalContext ctx_;
  internal::RowContext row_ctx_;
};

// Location.position for the special parameter `near`, which has no
// expression the registry compiles: latitude and longitude in range, or
// nothing.
void AddPosition(const json::value& resource, IndexEntries* out) {
  const json::value* pos = resource.get_object().if_contains("position");
  const json::object* p = pos != nullptr ? pos->if_object() : nullptr;
  if (p == nullptr) return;
  const json::value* lat = p->if_contains("latitude");
  const json::value* lon = p->if_contains("longitude");
  if (lat == nullptr || lon == nullptr || !lat->is_number() || !lon->is_number()) return;
  double la = lat->to_number<double>(), lo = lon->to_number<double>();
  if (!(la >= -90 && la <= 90 && lo >= -180 && lo <= 180)) return;
  out->geo.push_back(GeoRow{kNearParam, la, lo});
  out->present.insert(std::lower_bound(out->present.begin(), out->present.end(), kNearParam),
                      kNearParam);
}

}  // namespace

Result<IndexEntries> ExtractIndex(const json::value& resource) {
  return ExtractIndex(resource, nullptr);
}

Result<IndexEntries> ExtractIndex(const json::value& resource, ExtractStats* stats) {
  return ExtractIndex(IndexRegistry::Get(), resource, stats);
}

Result<IndexEntries> ExtractIndex(const IndexRegistry& registry, const json::value& resource,
                                  ExtractStats* stats) {
  const json::object* obj = resource.if_object();
  const json::value* rt = obj != nullptr ? obj->if_contains("resourceType") : nullptr;
  if (rt == nullptr || !rt->is_string()) {
    return Status::Invalid("index extraction: not a resource (no resourceType)");
  }
  std::string_view type(rt->get_string());
  const std::vector<CompiledParam>* params = registry.ForType(type);
  if (params == nullptr) {
    return Status::Invalid("index extraction: unknown resource type " + std::string(type));
  }
  IndexEntries out;
  out.resource_type = registry.TypeName(type);
  Extractor(resource, &out, stats).Run(*params);
  SortUnique(&out.strings);
  SortUnique(&out.tokens);
  SortUnique(&out.dates);
  SortUnique(&out.numbers);
  SortUnique(&out.quantities);
  SortUnique(&out.references);
  SortUnique(&out.uris);
  SortUnique(&out.composites);
  if (type == "Location") AddPosition(resource, &out);
  if (stats != nullptr) ++stats->resources;
  return out;
}

}  // namespace crs::fhir::index
