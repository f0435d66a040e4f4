// Math functions, lowBoundary()/highBoundary(), precision() and comparable().
#include <cmath>

#include "fhir/fhirpath/evaluator.h"
#include "fhir/fhirpath/ucum.h"

namespace crs::fhirpath {
namespace {

Collection DecimalResult(std::optional<Decimal> d) {
  if (!d) return Collection();
  return Collection{Item::FromDecimal(*d)};
}

Collection LongDoubleResult(long double v) {
  if (!std::isfinite(v)) return Collection();
  return DecimalResult(Decimal::FromLongDouble(v));
}

std::optional<Decimal> NumberOf(const Item& v) {
  if (v.kind() == ItemKind::kInteger) return Decimal::FromInt(v.integer());
  if (v.kind() == ItemKind::kDecimal) return v.decimal();
  return std::nullopt;
}

Decimal Unit(int scale) { return *Decimal::Parse("1e-" + std::to_string(scale)); }

std::optional<Decimal> FloorTo(const Decimal& d, int scale) {
  auto t = d.TruncateTo(scale);
  if (t && *t > d) return Decimal::Sub(*t, Unit(scale));
  return t;
}

std::optional<Decimal> CeilTo(const Decimal& d, int scale) {
  auto t = d.TruncateTo(scale);
  if (t && *t < d) return Decimal::Add(*t, Unit(scale));
  return t;
}

// The interval a decimal written with d.scale() digits stands for, at `precision`
// fractional digits: 1.587 is anything in [1.5865, 1.5875).
std::optional<Decimal> DecimalBoundary(const Decimal& d, int precision, bool high) {
  if (precision < 0 || precision > Decimal::kMaxScale) return std::nullopt;
  Decimal half = *Decimal::Parse("5e-" + std::to_string(d.scale() + 1));
  auto edge = high ? Decimal::Add(d, half) : Decimal::Sub(d, half);
  if (!edge) return std::nullopt;
  auto r = high ? CeilTo(*edge, precision) : FloorTo(*edge, precision);
  if (!r) return std::nullopt;
  return r->TruncateTo(precision);
}

Result<Collection> Boundary(const Node& n, const Item& v, Args args) {
  bool high = n.fn == Fn::kHighBoundary;
  std::optional<int64_t> precision;
  if (!n.args.empty()) {
    const Collection& p = args[0];
    CRS_ASSIGN_OR_RETURN(precision, SingleInteger(p, n.name + "() precision"));
    if (!precision) return Collection();
  }
  switch (v.kind()) {
    case ItemKind::kInteger:
    case ItemKind::kDecimal:
      return DecimalResult(DecimalBoundary(*NumberOf(v), static_cast<int>(precision.value_or(8)), high));
    case ItemKind::kQuantity: {
      auto d = DecimalBoundary(v.decimal(), static_cast<int>(precision.value_or(8)), high);
      if (!d) return Collection();
      return Collection{Item::Quantity(*d, std::string(v.unit()))};
    }
    case ItemKind::kDate:
    case ItemKind::kDateTime:
    case ItemKind::kTime: {
      int fallback = v.kind() == ItemKind::kDate ? 8 : v.kind() == ItemKind::kTime ? 9 : 17;
      auto r = DateTimeBoundary(v.date_time(), static_cast<int>(precision.value_or(fallback)), high);
      if (!r) return Collection();
      return Collection{Item::FromDateTime(*r)};
    }
    default: return Collection();
  }
}

Result<Collection> Power(const Item& base, const Item& exponent) {
  if (base.kind() == ItemKind::kInteger && exponent.kind() == ItemKind::kInteger &&
      exponent.integer() >= 0) {
    int64_t r = 1;
    for (int64_t i = 0; i < exponent.integer(); ++i) {
      if (__builtin_mul_overflow(r, base.integer(), &r)) return Collection();
      if (r == 0 || r == 1) break;
    }
    return Collection{Item::Integer(r)};
  }
  auto b = NumberOf(base);
  auto e = NumberOf(exponent);
  if (!b || !e) return EvalError("power() expects numbers");
  if (e->IsInteger() && *e >= Decimal::FromInt(0) && *e <= Decimal::FromInt(64)) {
    Decimal r = Decimal::FromInt(1);
    for (int64_t i = 0, k = *e->ToInt64(); i < k; ++i) {
      auto next = Decimal::Mul(r, *b);
      if (!next) return Collection();
      r = *next;
    }
    return DecimalResult(r);
  }
  return LongDoubleResult(std::pow(b->ToLongDouble(), e->ToLongDouble()));
}

}  // namespace

Result<Collection> CallMath(Evaluator& ev, const Node& n, Span input, Args args,
                              const Scope& scope) {
  CRS_ASSIGN_OR_RETURN(std::optional<Item> v, SingleValue(input, n.name + "()"));
  if (!v) {
    if (!input.empty() && input[0].is_node() && input[0].node() != nullptr) {
      return EvalError(n.name + "() expects a number, got " + input[0].DebugString());
    }
    return Collection();
  }
  switch (n.fn) {
    case Fn::kLowBoundary:
    case Fn::kHighBoundary: return Boundary(n, *v, args);
    case Fn::kPrecision:
      switch (v->kind()) {
        case ItemKind::kDecimal: return Collection{Item::Integer(v->decimal().scale())};
        case ItemKind::kInteger: return Collection{Item::Integer(0)};
        case ItemKind::kDate:
        case ItemKind::kDateTime:
        case ItemKind::kTime: return Collection{Item::Integer(v->date_time().PrecisionDigits())};
        default: return Collection();
      }
    case Fn::kComparable: {
      const Collection& other = args[0];
      CRS_ASSIGN_OR_RETURN(std::optional<Item> o, SingleValue(other, "comparable()"));
      if (!o) return Collection();
      if (v->kind() != ItemKind::kQuantity || o->kind() != ItemKind::kQuantity) {
        return EvalError("comparable() expects quantities");
      }
      return BooleanResult(ucum::Comparable(v->unit(), o->unit()));
    }
    case Fn::kAbs:
      if (v->kind() == ItemKind::kQuantity) {
        Decimal d = v->decimal().is_negative() ? v->decimal().Negate() : v->decimal();
        return Collection{Item::Quantity(d, std::string(v->unit()))};
      }
      break;
    default: break;
  }
  auto d = NumberOf(*v);
  if (!d) return EvalError(n.name + "() expects a number, got " + v->DebugString());
  bool integer = v->kind() == ItemKind::kInteger;
  switch (n.fn) {
    case Fn::kAbs:
      if (integer) {
        if (v->integer() == INT64_MIN) return Collection();
        return Collection{Item::Integer(v->integer() < 0 ? -v->integer() : v->integer())};
      }
      return DecimalResult(d->is_negative() ? d->Negate() : *d);
    case Fn::kCeiling:
    case Fn::kFloor:
    case Fn::kTruncate: {
      Decimal r = n.fn == Fn::kCeiling ? d->Ceiling()
                  : n.fn == Fn::kFloor ? d->Floor()
                                       : *d->TruncateTo(0);
      if (auto i = r.ToInt64()) return Collection{Item::Integer(*i)};
      return Collection();
    }
    case Fn::kRound: {
      int64_t precision = 0;
      if (!n.args.empty()) {
        const Collection& p = args[0];
        CRS_ASSIGN_OR_RETURN(std::optional<int64_t> pr, SingleInteger(p, "round() precision"));
        if (!pr) return Collection();
        if (*pr < 0 || *pr > Decimal::kMaxScale) return EvalError("round() precision out of range");
        precision = *pr;
      }
      return DecimalResult(d->RoundTo(static_cast<int>(precision)));
    }
    case Fn::kExp: return LongDoubleResult(std::exp(d->ToLongDouble()));
    case Fn::kLn:
      if (!(*d > Decimal::FromInt(0))) return Collection();
      return LongDoubleResult(std::log(d->ToLongDouble()));
    case Fn::kSqrt:
      if (d->is_negative()) return Collection();
      return LongDoubleResult(std::sqrt(d->ToLongDouble()));
    case Fn::kLog:
    case Fn::kPower: {
      const Collection& a = args[0];
      CRS_ASSIGN_OR_RETURN(std::optional<Item> arg, SingleValue(a, n.name + "() argument"));
      if (!arg) return Collection();
      if (n.fn == Fn::kPower) return Power(*v, *arg);
      auto base = NumberOf(*arg);
      if (!base) return EvalError("log() expects a numeric base");
      long double lb = std::log(base->ToLongDouble());
      if (!(*d > Decimal::FromInt(0)) || lb == 0) return Collection();
      return LongDoubleResult(std::log(d->ToLongDouble()) / lb);
    }
    default: break;
  }
  return EvalError("function " + n.name + " is not implemented");
}

}  // namespace crs::fhirpath
