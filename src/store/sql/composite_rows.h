// How a composite parameter's tuples (fhir/index CompositeRow) are laid out
// in the ix_comp table of both backends: one row per component, numbered by
// tuple (`tup`) and position (`comp`), with the value in the columns the
// component's own index table uses (docs/storage.md, docs/search-index.md),
// so that the shared query builder tests it with the same conditions.
//
// Thread safety: pure functions over plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fhir/index/index_entries.h"

namespace crs::store::sql {

struct ComponentColumns {
  std::string_view param;  // the composite parameter's code
  int64_t tup = 0;
  int64_t comp = 0;
  std::string system, code, norm, exact;
  std::optional<double> val;
  std::string unit;
  int64_t lo = 0, hi = 0;
  std::string ttype, tid, url, uri;
};

// Every component row of `composites`, tuples numbered from 0 in order.
inline std::vector<ComponentColumns> ComponentRows(
    const std::vector<fhir::index::CompositeRow>& composites) {
  namespace ix = fhir::index;
  std::vector<ComponentColumns> out;
  int64_t tup = 0;
  for (const ix::CompositeRow& row : composites) {
    int64_t comp = 0;
    for (const ix::ComponentValue& value : row.components) {
      ComponentColumns c;
      c.param = row.param;
      c.tup = tup;
      c.comp = comp++;
      if (auto* s = std::get_if<ix::StringRow>(&value)) {
        c.norm = s->normalized;
        c.exact = s->exact;
      } else if (auto* t = std::get_if<ix::TokenRow>(&value)) {
        c.system = t->system;
        c.code = t->code;
      } else if (auto* d = std::get_if<ix::DateRow>(&value)) {
        c.lo = d->low_ms;
        c.hi = d->high_ms;
      } else if (auto* n = std::get_if<ix::NumberRow>(&value)) {
        c.val = n->value;
      } else if (auto* q = std::get_if<ix::QuantityRow>(&value)) {
        c.val = q->value;
        c.system = q->system;
        c.code = q->code;
        c.unit = q->unit;
      } else if (auto* r = std::get_if<ix::ReferenceRow>(&value)) {
        c.ttype = r->target_type;
        c.tid = r->target_id;
        c.url = r->url;
      } else if (auto* u = std::get_if<ix::UriRow>(&value)) {
        c.uri = u->uri;
      }
      out.push_back(std::move(c));
    }
    ++tup;
  }
  return out;
}

}  // namespace crs::store::sql
