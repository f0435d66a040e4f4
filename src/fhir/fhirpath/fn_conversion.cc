// iif() and the conversion functions toX() / convertsToX().
#include "fhir/fhirpath/evaluator.h"
#include "fhir/fhirpath/ucum.h"

namespace crs::fhirpath {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsIntegerText(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (i >= s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

bool IsDecimalText(std::string_view s) {
  size_t dot = s.find('.');
  if (dot == std::string_view::npos) return IsIntegerText(s);
  std::string_view frac = s.substr(dot + 1);
  if (frac.empty()) return false;
  for (char c : frac) {
    if (c < '0' || c > '9') return false;
  }
  std::string_view whole = s.substr(0, dot);
  return IsIntegerText(whole);
}

std::optional<Item> ToBooleanValue(const Item& v) {
  switch (v.kind()) {
    case ItemKind::kBoolean: return v;
    case ItemKind::kInteger:
      if (v.integer() == 1) return Item::Boolean(true);
      if (v.integer() == 0) return Item::Boolean(false);
      return std::nullopt;
    case ItemKind::kDecimal:
      if (v.decimal() == Decimal::FromInt(1)) return Item::Boolean(true);
      if (v.decimal() == Decimal::FromInt(0)) return Item::Boolean(false);
      return std::nullopt;
    case ItemKind::kString: {
      std::string s = Lower(v.string());
      if (s == "true" || s == "t" || s == "yes" || s == "y" || s == "1" || s == "1.0") {
        return Item::Boolean(true);
      }
      if (s == "false" || s == "f" || s == "no" || s == "n" || s == "0" || s == "0.0") {
        return Item::Boolean(false);
      }
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

std::optional<Item> ToIntegerValue(const Item& v) {
  switch (v.kind()) {
    case ItemKind::kInteger: return v;
    case ItemKind::kBoolean: return Item::Integer(v.boolean() ? 1 : 0);
    case ItemKind::kString: {
      if (!IsIntegerText(v.string())) return std::nullopt;
      auto d = Decimal::Parse(v.string());
      if (!d) return std::nullopt;
      auto i = d->ToInt64();
      if (!i) return std::nullopt;
      return Item::Integer(*i);
    }
    default: return std::nullopt;
  }
}

std::optional<Item> ToDecimalValue(const Item& v) {
  switch (v.kind()) {
    case ItemKind::kDecimal: return v;
    case ItemKind::kInteger: return Item::FromDecimal(Decimal::FromInt(v.integer()));
    case ItemKind::kBoolean: return Item::FromDecimal(*Decimal::Parse(v.boolean() ? "1.0" : "0.0"));
    case ItemKind::kString: {
      if (!IsDecimalText(v.string())) return std::nullopt;
      auto d = Decimal::Parse(v.string());
      if (!d) return std::nullopt;
      return Item::FromDecimal(*d);
    }
    default: return std::nullopt;
  }
}

std::optional<Item> ToDateValue(const Item& v) {
  if (v.kind() == ItemKind::kDate) return v;
  std::optional<DateTimeValue> dt;
  if (v.kind() == ItemKind::kDateTime) {
    dt = v.date_time();
  } else if (v.kind() == ItemKind::kString) {
    dt = DateTimeValue::ParseDate(v.string());
    if (!dt) dt = DateTimeValue::ParseDateTime(v.string());
  }
  if (!dt) return std::nullopt;
  dt->kind = DateTimeKind::kDate;
  dt->has_tz = false;
  if (dt->precision > DatePrecision::kDay) dt->precision = DatePrecision::kDay;
  return Item::FromDateTime(*dt);
}

std::optional<Item> ToDateTimeValue(const Item& v) {
  if (v.kind() == ItemKind::kDateTime) return v;
  std::optional<DateTimeValue> dt;
  if (v.kind() == ItemKind::kDate) {
    dt = v.date_time();
  } else if (v.kind() == ItemKind::kString) {
    dt = DateTimeValue::ParseDateTime(v.string());
  }
  if (!dt) return std::nullopt;
  dt->kind = DateTimeKind::kDateTime;
  return Item::FromDateTime(*dt);
}

std::optional<Item> ToTimeValue(const Item& v) {
  if (v.kind() == ItemKind::kTime) return v;
  if (v.kind() != ItemKind::kString) return std::nullopt;
  auto dt = DateTimeValue::ParseTime(v.string());
  if (!dt) return std::nullopt;
  return Item::FromDateTime(*dt);
}

std::optional<Item> ToQuantityValue(const Item& v, std::optional<std::string_view> unit) {
  std::optional<QuantityValue> q;
  switch (v.kind()) {
    case ItemKind::kQuantity: q = QuantityValue{v.decimal(), std::string(v.unit())}; break;
    case ItemKind::kInteger: q = QuantityValue{Decimal::FromInt(v.integer()), "1"}; break;
    case ItemKind::kDecimal: q = QuantityValue{v.decimal(), "1"}; break;
    case ItemKind::kBoolean:
      q = QuantityValue{*Decimal::Parse(v.boolean() ? "1.0" : "0.0"), "1"};
      break;
    case ItemKind::kString: q = ucum::ParseQuantityString(v.string()); break;
    default: break;
  }
  if (!q) return std::nullopt;
  if (unit && *unit != q->unit) {
    auto converted = ucum::Convert(q->value, q->unit, *unit);
    if (!converted) return std::nullopt;
    return Item::Quantity(*converted, std::string(*unit));
  }
  return Item::Quantity(q->value, std::move(q->unit));
}

}  // namespace

Result<Collection> FnIif(Evaluator& ev, const Node& n, Span input, const Scope& scope) {
  if (input.size() > 1) {
    return EvalError("iif() expects at most one input item, got " + std::to_string(input.size()));
  }
  // The branches see the iif() input as $this, and the enclosing $index.
  Scope inner{input, scope.index, scope.total};
  CRS_ASSIGN_OR_RETURN(Collection crit, ev.Eval(*n.args[0], inner));
  if (crit.size() > 1) return EvalError("iif() criterion must be a single Boolean");
  bool take = false;
  if (!crit.empty()) {
    std::optional<Item> v = ToSystemValue(crit[0]);
    if (!v || v->kind() != ItemKind::kBoolean) {
      return EvalError("iif() criterion must be a Boolean, got " + crit[0].DebugString());
    }
    take = v->boolean();
  }
  if (take) return ev.Eval(*n.args[1], inner);
  if (n.args.size() > 2) return ev.Eval(*n.args[2], inner);
  return Collection();
}

std::optional<std::string> ToStringValue(const Item& v) {
  switch (v.kind()) {
    case ItemKind::kString: return std::string(v.string());
    case ItemKind::kBoolean: return std::string(v.boolean() ? "true" : "false");
    case ItemKind::kInteger: return std::to_string(v.integer());
    case ItemKind::kDecimal: return v.decimal().ToString();
    case ItemKind::kDate:
    case ItemKind::kDateTime:
    case ItemKind::kTime: return v.date_time().ToString();
    case ItemKind::kQuantity: return ucum::FormatQuantity(v.decimal(), v.unit());
    default: return std::nullopt;
  }
}

Result<Collection> CallConversion(Evaluator& ev, const Node& n, Span input, Args args,
                              const Scope& scope) {
  std::optional<std::string_view> unit;
  if (n.fn == Fn::kToQuantity || n.fn == Fn::kConvertsToQuantity) {
    if (!n.args.empty()) {
      const Collection& u = args[0];
      CRS_ASSIGN_OR_RETURN(unit, SingleString(u, n.name + "() unit"));
      if (!unit) return Collection();
    }
  }
  CRS_ASSIGN_OR_RETURN(std::optional<Item> v, SingleValue(input, n.name + "()"));
  if (!v) {
    if (input.empty() || !input[0].is_node()) return Collection();
    // A complex node converts to nothing.
    if (n.fn == Fn::kConvertsToBoolean || n.fn == Fn::kConvertsToInteger ||
        n.fn == Fn::kConvertsToDecimal || n.fn == Fn::kConvertsToString ||
        n.fn == Fn::kConvertsToDate || n.fn == Fn::kConvertsToDateTime ||
        n.fn == Fn::kConvertsToTime || n.fn == Fn::kConvertsToQuantity) {
      return input[0].node() == nullptr ? Collection() : BooleanResult(false);
    }
    return Collection();
  }
  std::optional<Item> out;
  bool converts_to = false;
  switch (n.fn) {
    case Fn::kConvertsToBoolean: converts_to = true; [[fallthrough]];
    case Fn::kToBoolean: out = ToBooleanValue(*v); break;
    case Fn::kConvertsToInteger: converts_to = true; [[fallthrough]];
    case Fn::kToInteger: out = ToIntegerValue(*v); break;
    case Fn::kConvertsToDecimal: converts_to = true; [[fallthrough]];
    case Fn::kToDecimal: out = ToDecimalValue(*v); break;
    case Fn::kConvertsToString: converts_to = true; [[fallthrough]];
    case Fn::kToString: {
      if (v->kind() == ItemKind::kString) {
        out = input[0].kind() == ItemKind::kString ? input[0] : *v;
      } else if (auto s = ToStringValue(*v)) {
        out = Item::String(std::move(*s));
      }
      break;
    }
    case Fn::kConvertsToDate: converts_to = true; [[fallthrough]];
    case Fn::kToDate: out = ToDateValue(*v); break;
    case Fn::kConvertsToDateTime: converts_to = true; [[fallthrough]];
    case Fn::kToDateTime: out = ToDateTimeValue(*v); break;
    case Fn::kConvertsToTime: converts_to = true; [[fallthrough]];
    case Fn::kToTime: out = ToTimeValue(*v); break;
    case Fn::kConvertsToQuantity: converts_to = true; [[fallthrough]];
    case Fn::kToQuantity: out = ToQuantityValue(*v, unit); break;
    default: return EvalError("function " + n.name + " is not implemented");
  }
  if (converts_to) return BooleanResult(out.has_value());
  if (!out) return Collection();
  return Collection{std::move(*out)};
}

}  // namespace crs::fhirpath
