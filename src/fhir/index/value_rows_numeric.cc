// Rows for date, number and quantity parameters; declared in value_shape.h, called
// from AppendRows() (value_rows.cc).
#include <algorithm>
#include <cmath>
#include <limits>

#include "fhir/index/date_range.h"
#include "fhir/index/value_shape.h"

namespace crs::fhir::index::internal {
namespace {

namespace json = boost::json;
using fhirpath::ItemKind;

constexpr double kInf = std::numeric_limits<double>::infinity();

// ---- date ----

void AddDate(std::string_view param, std::optional<DateRange> r, IndexEntries* out) {
  if (r) out->dates.push_back(DateRow{param, r->low_ms, r->high_ms});
}

// Widens `acc` to cover `r`.
void Cover(std::optional<DateRange>* acc, const DateRange& r) {
  if (!*acc) {
    *acc = r;
    return;
  }
  (*acc)->low_ms = std::min((*acc)->low_ms, r.low_ms);
  (*acc)->high_ms = std::max((*acc)->high_ms, r.high_ms);
}

std::optional<DateRange> PeriodRange(const json::object& period) {
  std::string_view start = Str(period, "start"), end = Str(period, "end");
  if (start.empty() && end.empty()) return std::nullopt;
  DateRange r{kDateMin, kDateMax};
  if (!start.empty()) {
    std::optional<DateRange> s = ParseSearchDate(start);
    if (!s) return std::nullopt;
    r.low_ms = s->low_ms;
  }
  if (!end.empty()) {
    std::optional<DateRange> e = ParseSearchDate(end);
    if (!e) return std::nullopt;
    r.high_ms = e->high_ms;
  }
  return r;
}

// A Timing's outer limits: its events and repeat.boundsPeriod.
std::optional<DateRange> TimingRange(const json::object& timing) {
  std::optional<DateRange> acc;
  ForEachString(timing, "event", [&](std::string_view e) {
    if (std::optional<DateRange> r = ParseSearchDate(e)) Cover(&acc, *r);
  });
  if (const json::object* repeat = Obj(timing, "repeat")) {
    if (const json::object* bounds = Obj(*repeat, "boundsPeriod")) {
      if (std::optional<DateRange> r = PeriodRange(*bounds)) Cover(&acc, *r);
    }
  }
  return acc;
}

}  // namespace

bool AppendDate(std::string_view param, const Value& v, IndexEntries* out) {
  const json::object* o = v.object();
  switch (v.shape) {
    case Shape::kDate:
    case Shape::kString:
      if (v.node == nullptr && v.item->kind() != ItemKind::kString) {
        AddDate(param, ParseSearchDate(v.item->date_time().ToString()), out);
      } else {
        AddDate(param, ParseSearchDate(v.text), out);
      }
      return true;
    case Shape::kPeriod:
      if (o != nullptr) AddDate(param, PeriodRange(*o), out);
      return true;
    case Shape::kTiming:
      if (o != nullptr) AddDate(param, TimingRange(*o), out);
      return true;
    default:
      return false;
  }
}

namespace {

// ---- number and quantity ----

// A Range's bounds, each widened by its precision; infinite when open.
bool RangeBounds(const json::object& range, double* low, double* high,
                 const json::object** unit_source) {
  const json::object* lo = Obj(range, "low");
  const json::object* hi = Obj(range, "high");
  std::optional<NumberBounds> l =
      lo != nullptr ? JsonNumberBounds(lo->if_contains("value")) : std::nullopt;
  std::optional<NumberBounds> h =
      hi != nullptr ? JsonNumberBounds(hi->if_contains("value")) : std::nullopt;
  if (!l && !h) return false;
  *low = l ? l->low : -kInf;
  *high = h ? h->high : kInf;
  *unit_source = l ? lo : hi;
  return true;
}

}  // namespace

bool AppendNumber(std::string_view param, const Value& v, IndexEntries* out) {
  const json::object* o = v.object();
  switch (v.shape) {
    case Shape::kInteger:
    case Shape::kDecimal:
      if (std::optional<NumberBounds> n = NumberOf(v)) {
        out->numbers.push_back(NumberRow{param, n->value, n->low, n->high});
      }
      return true;
    case Shape::kQuantity:
      if (std::optional<NumberBounds> n =
              o != nullptr ? JsonNumberBounds(o->if_contains("value")) : NumberOf(v)) {
        out->numbers.push_back(NumberRow{param, n->value, n->low, n->high});
      }
      return true;
    case Shape::kRange: {
      double low = 0, high = 0;
      const json::object* unused = nullptr;
      if (o != nullptr && RangeBounds(*o, &low, &high, &unused)) {
        out->numbers.push_back(NumberRow{param, std::nullopt, low, high});
      }
      return true;
    }
    default:
      return false;
  }
}

namespace {

QuantityRow MakeQuantity(std::string_view param, std::optional<double> value, double low,
                         double high) {
  QuantityRow row;
  row.param = param;
  row.value = value;
  row.low = low;
  row.high = high;
  return row;
}

void Canonicalize(QuantityRow* row) {
  if (row->system != kUcumSystem || row->code.empty()) return;
  std::optional<CanonicalUnit> c = CanonicalizeUcum(row->code);
  if (!c) return;
  if (row->value) row->canonical_value = *row->value * c->factor;
  row->canonical_low = row->low * c->factor;
  row->canonical_high = row->high * c->factor;
  row->canonical_unit = std::move(c->key);
}

void AddQuantity(std::string_view param, const json::object& q, IndexEntries* out) {
  std::optional<NumberBounds> n = JsonNumberBounds(q.if_contains("value"));
  if (!n) return;
  QuantityRow row = MakeQuantity(param, n->value, n->low, n->high);
  row.system = Exact(Str(q, "system"));
  row.code = Exact(Str(q, "code"));
  row.unit = Exact(Str(q, "unit"));
  Canonicalize(&row);
  out->quantities.push_back(std::move(row));
}

}  // namespace

bool AppendQuantity(std::string_view param, const Value& v, IndexEntries* out) {
  const json::object* o = v.object();
  switch (v.shape) {
    case Shape::kQuantity:
      if (o != nullptr) {
        AddQuantity(param, *o, out);
      } else if (v.node == nullptr) {
        if (std::optional<NumberBounds> n = NumberOf(v)) {
          QuantityRow row = MakeQuantity(param, n->value, n->low, n->high);
          row.code = std::string(v.item->unit());
          out->quantities.push_back(std::move(row));
        }
      }
      return true;
    case Shape::kMoney:
      if (o != nullptr) {
        if (std::optional<NumberBounds> n = JsonNumberBounds(o->if_contains("value"))) {
          QuantityRow row = MakeQuantity(param, n->value, n->low, n->high);
          row.system = kCurrencySystem;
          row.code = Exact(Str(*o, "currency"));
          out->quantities.push_back(std::move(row));
        }
      }
      return true;
    case Shape::kRange: {
      double low = 0, high = 0;
      const json::object* units = nullptr;
      if (o != nullptr && RangeBounds(*o, &low, &high, &units)) {
        QuantityRow row = MakeQuantity(param, std::nullopt, low, high);
        row.system = Exact(Str(*units, "system"));
        row.code = Exact(Str(*units, "code"));
        row.unit = Exact(Str(*units, "unit"));
        Canonicalize(&row);
        out->quantities.push_back(std::move(row));
      }
      return true;
    }
    case Shape::kInteger:
    case Shape::kDecimal:
      if (std::optional<NumberBounds> n = NumberOf(v)) {
        out->quantities.push_back(MakeQuantity(param, n->value, n->low, n->high));
      }
      return true;
    default:
      return false;
  }
}

}  // namespace crs::fhir::index::internal
