// Binary operators other than the boolean ones: union, equality and
// equivalence, comparison, membership, concatenation and arithmetic (numbers,
// strings, quantities with unit conversion, date/time plus duration).
#include "fhir/fhirpath/evaluator.h"
#include "fhir/fhirpath/ucum.h"

namespace crs::fhirpath {

namespace {

std::optional<Decimal> AsDecimal(const Item& v) {
  if (v.kind() == ItemKind::kInteger) return Decimal::FromInt(v.integer());
  if (v.kind() == ItemKind::kDecimal) return v.decimal();
  return std::nullopt;
}

const char* OpName(Op op) {
  switch (op) {
    case Op::kMul: return "*";
    case Op::kDiv: return "/";
    case Op::kDivInt: return "div";
    case Op::kMod: return "mod";
    case Op::kAdd: return "+";
    case Op::kSub: return "-";
    default: return "?";
  }
}

Collection FromDecimalResult(std::optional<Decimal> d) {
  if (!d) return Collection();
  return Collection{Item::FromDecimal(*d)};
}

Result<Collection> IntegerArithmetic(Op op, int64_t a, int64_t b) {
  int64_t r;
  switch (op) {
    case Op::kAdd:
      if (__builtin_add_overflow(a, b, &r)) return Collection();
      return Collection{Item::Integer(r)};
    case Op::kSub:
      if (__builtin_sub_overflow(a, b, &r)) return Collection();
      return Collection{Item::Integer(r)};
    case Op::kMul:
      if (__builtin_mul_overflow(a, b, &r)) return Collection();
      return Collection{Item::Integer(r)};
    case Op::kDiv: return FromDecimalResult(Decimal::Div(Decimal::FromInt(a), Decimal::FromInt(b)));
    case Op::kDivInt:
      if (b == 0 || (a == INT64_MIN && b == -1)) return Collection();
      return Collection{Item::Integer(a / b)};
    case Op::kMod:
      if (b == 0 || (a == INT64_MIN && b == -1)) return Collection();
      return Collection{Item::Integer(a % b)};
    default: return Collection();
  }
}

Result<Collection> DecimalArithmetic(Op op, const Decimal& a, const Decimal& b) {
  switch (op) {
    case Op::kAdd: return FromDecimalResult(Decimal::Add(a, b));
    case Op::kSub: return FromDecimalResult(Decimal::Sub(a, b));
    case Op::kMul: return FromDecimalResult(Decimal::Mul(a, b));
    case Op::kDiv: return FromDecimalResult(Decimal::Div(a, b));
    case Op::kDivInt: {
      auto q = Decimal::DivTrunc(a, b);
      if (!q) return Collection();
      if (auto i = q->ToInt64()) return Collection{Item::Integer(*i)};
      return Collection{Item::FromDecimal(*q)};
    }
    case Op::kMod: return FromDecimalResult(Decimal::Mod(a, b));
    default: return Collection();
  }
}

Result<Collection> QuantityArithmetic(Op op, const Item& a, const Item& b) {
  bool aq = a.kind() == ItemKind::kQuantity;
  bool bq = b.kind() == ItemKind::kQuantity;
  if (aq && bq) {
    QuantityValue x{a.decimal(), std::string(a.unit())};
    QuantityValue y{b.decimal(), std::string(b.unit())};
    if (op == Op::kMul || op == Op::kDiv) {
      auto r = op == Op::kMul ? ucum::Multiply(x, y) : ucum::Divide(x, y);
      if (!r) return Collection();
      return Collection{Item::Quantity(r->value, std::move(r->unit))};
    }
    if (op == Op::kAdd || op == Op::kSub) {
      auto converted = ucum::Convert(y.value, y.unit, x.unit);
      if (!converted) {
        return EvalError("cannot add or subtract " + b.DebugString() + " and " + a.DebugString());
      }
      auto v = op == Op::kAdd ? Decimal::Add(x.value, *converted)
                              : Decimal::Sub(x.value, *converted);
      if (!v) return Collection();
      return Collection{Item::Quantity(*v, std::move(x.unit))};
    }
    return EvalError(std::string(OpName(op)) + " cannot be applied to quantities");
  }
  // Quantity scaled by a number.
  const Item& q = aq ? a : b;
  auto factor = AsDecimal(aq ? b : a);
  if (!factor) return EvalError("cannot combine " + a.DebugString() + " and " + b.DebugString());
  std::optional<Decimal> v;
  if (op == Op::kMul) {
    v = Decimal::Mul(q.decimal(), *factor);
  } else if (op == Op::kDiv && aq) {
    v = Decimal::Div(q.decimal(), *factor);
  } else {
    return EvalError(std::string(OpName(op)) + " cannot be applied to " + a.DebugString() +
                     " and " + b.DebugString());
  }
  if (!v) return Collection();
  return Collection{Item::Quantity(*v, std::string(q.unit()))};
}

bool IsDateKind(ItemKind k) {
  return k == ItemKind::kDate || k == ItemKind::kDateTime || k == ItemKind::kTime;
}

Result<Collection> Arithmetic(Op op, Span lc, Span rc) {
  CRS_ASSIGN_OR_RETURN(std::optional<Item> a, SingleValue(lc, OpName(op)));
  CRS_ASSIGN_OR_RETURN(std::optional<Item> b, SingleValue(rc, OpName(op)));
  if (!a || !b) return Collection();
  ItemKind ka = a->kind();
  ItemKind kb = b->kind();
  if (ka == ItemKind::kInteger && kb == ItemKind::kInteger) {
    return IntegerArithmetic(op, a->integer(), b->integer());
  }
  auto da = AsDecimal(*a);
  auto db = AsDecimal(*b);
  if (da && db) return DecimalArithmetic(op, *da, *db);
  if (ka == ItemKind::kString && kb == ItemKind::kString && op == Op::kAdd) {
    CRS_RETURN_IF_ERROR(CheckStringLength(a->string().size() + b->string().size()));
    return Collection{Item::String(std::string(a->string()) + std::string(b->string()))};
  }
  if (IsDateKind(ka) && kb == ItemKind::kQuantity && (op == Op::kAdd || op == Op::kSub)) {
    Decimal amount = op == Op::kSub ? b->decimal().Negate() : b->decimal();
    auto r = AddToDateTime(a->date_time(), amount, b->unit());
    if (!r) {
      return EvalError("cannot add " + b->DebugString() + " to " + a->DebugString());
    }
    return Collection{Item::FromDateTime(*r)};
  }
  if (ka == ItemKind::kQuantity || kb == ItemKind::kQuantity) {
    return QuantityArithmetic(op, *a, *b);
  }
  return EvalError(std::string("operator ") + OpName(op) + " cannot be applied to " +
                   a->DebugString() + " and " + b->DebugString());
}

Result<std::string> ConcatOperand(Span c) {
  CRS_ASSIGN_OR_RETURN(std::optional<Item> v, SingleValue(c, "&"));
  if (!v) return std::string();
  auto s = ToStringValue(*v);
  if (!s) return EvalError("& expects strings, got " + v->DebugString());
  return *s;
}

}  // namespace

Result<Collection> Evaluator::Combine(const Node& n, Collection l, Collection r) {
  switch (n.op) {
    case Op::kUnion: {
      // The result of a union is already distinct: in chains such as the search
      // parameters' "Patient.address | Person.address | ...", an empty side costs
      // nothing.
      if (r.empty() && n.args[0]->kind == NodeKind::kBinary && n.args[0]->op == Op::kUnion) {
        return l;
      }
      Collection out;
      out.reserve(l.size() + r.size());
      AppendDistinct(l, &out);
      AppendDistinct(r, &out);
      return out;
    }
    case Op::kEq:
    case Op::kNe: {
      auto eq = CollectionsEqual(l, r);
      if (!eq) return Collection();
      return BooleanResult(n.op == Op::kEq ? *eq : !*eq);
    }
    case Op::kEquiv: return BooleanResult(CollectionsEquivalent(l, r));
    case Op::kNotEquiv: return BooleanResult(!CollectionsEquivalent(l, r));
    case Op::kLt:
    case Op::kGt:
    case Op::kLe:
    case Op::kGe: {
      CRS_ASSIGN_OR_RETURN(std::optional<Item> a, Single(l, "comparison"));
      CRS_ASSIGN_OR_RETURN(std::optional<Item> b, Single(r, "comparison"));
      if (!a || !b) return Collection();
      CRS_ASSIGN_OR_RETURN(std::optional<int> c, CompareItems(*a, *b));
      if (!c) return Collection();
      bool v = n.op == Op::kLt ? *c < 0 : n.op == Op::kGt ? *c > 0 : n.op == Op::kLe ? *c <= 0 : *c >= 0;
      return BooleanResult(v);
    }
    case Op::kIn:
    case Op::kContains: {
      Span needle = n.op == Op::kIn ? Span(l) : Span(r);
      Span haystack = n.op == Op::kIn ? Span(r) : Span(l);
      CRS_ASSIGN_OR_RETURN(std::optional<Item> item, Single(needle, n.op == Op::kIn ? "in" : "contains"));
      if (!item) return Collection();
      for (const Item& h : haystack) {
        auto eq = ItemsEqual(*item, h);
        if (eq && *eq) return BooleanResult(true);
      }
      return BooleanResult(false);
    }
    case Op::kConcat: {
      CRS_ASSIGN_OR_RETURN(std::string a, ConcatOperand(l));
      CRS_ASSIGN_OR_RETURN(std::string b, ConcatOperand(r));
      CRS_RETURN_IF_ERROR(CheckStringLength(a.size() + b.size()));
      return Collection{Item::String(a + b)};
    }
    default: return Arithmetic(n.op, l, r);
  }
}

}  // namespace crs::fhirpath
