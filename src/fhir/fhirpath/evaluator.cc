#include "fhir/fhirpath/evaluator.h"

#include <boost/json.hpp>
#include <algorithm>


namespace crs::fhirpath {
namespace json = boost::json;

Status EvalError(std::string message) {
  return Status::Invalid("FHIRPath evaluation error: " + std::move(message));
}

Status CheckStringLength(size_t length) {
  if (length <= kMaxStringLength) return Status::Ok();
  return EvalError("string result longer than " + std::to_string(kMaxStringLength) + " bytes");
}

// --- shared helpers ---

Result<std::optional<Item>> Single(Span c, std::string_view what) {
  if (c.empty()) return std::optional<Item>();
  if (c.size() > 1) {
    return EvalError(std::string(what) + " expects a single item, got " +
                     std::to_string(c.size()));
  }
  return std::optional<Item>(c[0]);
}

Result<std::optional<Item>> SingleValue(Span c, std::string_view what) {
  CRS_ASSIGN_OR_RETURN(std::optional<Item> item, Single(c, what));
  if (!item) return item;
  return ToSystemValue(*item);
}

Result<std::optional<bool>> ToBoolean(Span c, std::string_view what) {
  if (c.empty()) return std::optional<bool>();
  if (c.size() > 1) {
    return EvalError(std::string(what) + " expects a single Boolean, got " +
                     std::to_string(c.size()) + " items");
  }
  const Item& item = c[0];
  if (item.kind() == ItemKind::kBoolean) return std::optional<bool>(item.boolean());
  if (item.is_node() && item.node() != nullptr && item.node()->is_bool()) {
    return std::optional<bool>(item.node()->get_bool());
  }
  return std::optional<bool>(true);
}

Result<std::optional<std::string_view>> SingleString(Span c, std::string_view what) {
  if (c.empty()) return std::optional<std::string_view>();
  if (c.size() > 1) {
    return EvalError(std::string(what) + " expects a single String, got " +
                     std::to_string(c.size()) + " items");
  }
  const Item& item = c[0];
  // Views point into `c` itself or into the JSON, never into a temporary.
  if (item.kind() == ItemKind::kString) return std::optional<std::string_view>(item.string());
  if (item.is_node()) {
    if (item.node() == nullptr || item.node()->is_null()) return std::optional<std::string_view>();
    std::optional<Item> v = ToSystemValue(item);
    if (v && v->kind() == ItemKind::kString) return std::optional<std::string_view>(v->string());
  }
  return EvalError(std::string(what) + " expects a String, got " + item.DebugString());
}

Result<std::optional<int64_t>> SingleInteger(Span c, std::string_view what) {
  CRS_ASSIGN_OR_RETURN(std::optional<Item> v, SingleValue(c, what));
  if (!v) return std::optional<int64_t>();
  if (v->kind() != ItemKind::kInteger) {
    return EvalError(std::string(what) + " expects an Integer, got " + v->DebugString());
  }
  return std::optional<int64_t>(v->integer());
}

Collection BooleanResult(bool v) { return Collection{Item::Boolean(v)}; }

void AppendDistinct(Span add, Collection* out) {
  auto contains = [](Span items, const Item& item) {
    for (const Item& existing : items) {
      auto eq = ItemsEqual(existing, item);
      if (eq && *eq) return true;
    }
    return false;
  };
  if (add.empty()) return;
  if (out->size() + add.size() <= 8) {
    for (const Item& item : add) {
      if (!contains(*out, item)) out->push_back(item);
    }
    return;
  }
  // Larger collections: an open-addressing table of hashes, so that only items
  // whose hashes agree are compared.
  size_t capacity = 16;
  while (capacity < 2 * (out->size() + add.size())) capacity *= 2;
  std::vector<size_t> hashes;
  hashes.reserve(out->size() + add.size());
  std::vector<uint32_t> slots(capacity, 0);  // index into *out + 1; 0 = free
  auto find_or_insert = [&](const Item& item, size_t index) {
    size_t h = ItemHash(item);
    for (size_t s = h & (capacity - 1);; s = (s + 1) & (capacity - 1)) {
      if (slots[s] == 0) {
        slots[s] = static_cast<uint32_t>(index + 1);
        hashes.push_back(h);
        return false;
      }
      size_t i = slots[s] - 1;
      if (hashes[i] == h) {
        auto eq = ItemsEqual((*out)[i], item);
        if (eq && *eq) return true;
      }
    }
  };
  for (size_t i = 0; i < out->size(); ++i) find_or_insert((*out)[i], i);
  for (const Item& item : add) {
    if (!find_or_insert(item, out->size())) out->push_back(item);
  }
}

// --- Evaluator ---

Evaluator::Evaluator(const EvalContext& ctx, Span context)
    : ctx_(ctx), context_(context), budget_(ctx.max_items) {}

Status Evaluator::Charge(size_t n) {
  if (n > budget_) {
    return EvalError("more than " + std::to_string(ctx_.max_items) +
                     " items produced; evaluation stopped");
  }
  budget_ -= n;
  return Status::Ok();
}

Result<Collection> Evaluator::Lambda(const Node& body, Span items, size_t i, const Scope& outer) {
  // Each lambda invocation counts against the budget too, bounding the work of
  // nested where()/select() over large collections.
  CRS_RETURN_IF_ERROR(Charge(1));
  Scope s{items.subspan(i, 1), static_cast<int64_t>(i), outer.total};
  return Eval(body, s);
}

// Eval() and EvalBinary() recurse once per level of the tree: they keep only
// collections on the stack and leave item-sized work to non-inlined helpers, so a
// tree of the maximum depth evaluates within a few hundred KiB of stack.
Result<Collection> Evaluator::Eval(const Node& n, const Scope& scope) {
  switch (n.kind) {
    case NodeKind::kLiteral: return Literal(n);
    case NodeKind::kEmpty: return Collection();
    case NodeKind::kThis: return Collection(scope.self.begin(), scope.self.end());
    case NodeKind::kIndex:
      if (scope.index < 0) return Collection();
      return Collection{Item::Integer(scope.index)};
    case NodeKind::kTotal: return scope.total ? *scope.total : Collection();
    case NodeKind::kVariable: return Variable(n);
    case NodeKind::kMember: {
      if (ctx_.strict) CRS_RETURN_IF_ERROR(CheckStrictMember(n));
      Collection out;
      if (n.focus) {
        CRS_ASSIGN_OR_RETURN(Collection focus, Eval(*n.focus, scope));
        CRS_RETURN_IF_ERROR(Member(focus, n.name, false, &out));
      } else {
        CRS_RETURN_IF_ERROR(Member(scope.self, n.name, true, &out));
      }
      return out;
    }
    case NodeKind::kFunction: return EvalFunction(n, scope);
    case NodeKind::kIndexer: {
      CRS_ASSIGN_OR_RETURN(Collection base, Eval(*n.focus, scope));
      CRS_ASSIGN_OR_RETURN(Collection index, Eval(*n.args[0], scope));
      return Index(std::move(base), index);
    }
    case NodeKind::kUnary: {
      CRS_ASSIGN_OR_RETURN(Collection operand, Eval(*n.args[0], scope));
      return Unary(n, operand);
    }
    case NodeKind::kBinary: return EvalBinary(n, scope);
    case NodeKind::kTypeOp: return EvalTypeOp(n, scope);
  }
  return Collection();
}

Result<Collection> Evaluator::Literal(const Node& n) {
  const Item& lit = n.literal;
  // Views into the tree, so a literal costs no allocation.
  if (lit.kind() == ItemKind::kString) return Collection{Item::StringRef(lit.string())};
  if (lit.kind() == ItemKind::kQuantity) {
    return Collection{Item::QuantityRef(lit.decimal(), lit.unit())};
  }
  return Collection{lit};
}

Result<Collection> Evaluator::Index(Collection base, Span index) {
  CRS_ASSIGN_OR_RETURN(std::optional<int64_t> i, SingleInteger(index, "indexer"));
  if (!i || *i < 0 || static_cast<size_t>(*i) >= base.size()) return Collection();
  return Collection{std::move(base[static_cast<size_t>(*i)])};
}

Result<Collection> Evaluator::Unary(const Node& n, Span operand) {
  CRS_ASSIGN_OR_RETURN(std::optional<Item> v, SingleValue(operand, "unary operator"));
  if (!v) return Collection();
  if (n.op == Op::kAdd) {
    if (v->kind() == ItemKind::kInteger || v->kind() == ItemKind::kDecimal ||
        v->kind() == ItemKind::kQuantity) {
      return Collection{*v};
    }
  } else if (v->kind() == ItemKind::kInteger) {
    return Collection{Item::Integer(-v->integer())};
  } else if (v->kind() == ItemKind::kDecimal) {
    return Collection{Item::FromDecimal(v->decimal().Negate())};
  } else if (v->kind() == ItemKind::kQuantity) {
    return Collection{Item::Quantity(v->decimal().Negate(), std::string(v->unit()))};
  }
  return EvalError("unary " + std::string(n.op == Op::kAdd ? "+" : "-") +
                   " cannot be applied to " + v->DebugString());
}

Result<Collection> Evaluator::Variable(const Node& n) {
  const std::string& name = n.name;
  if (auto it = ctx_.variables.find(name); it != ctx_.variables.end()) return it->second;
  if (name == "context") return Collection(context_.begin(), context_.end());
  if (name == "resource" || name == "rootResource") {
    const json::value* r = name == "rootResource" && ctx_.root_resource ? ctx_.root_resource
                                                                          : ctx_.resource;
    if (r != nullptr) return Collection{Resource(r)};
    return Collection(context_.begin(), context_.end());
  }
  if (name == "ucum") return Collection{Item::StringRef("http://unitsofmeasure.org")};
  if (name == "sct") return Collection{Item::StringRef("http://snomed.info/sct")};
  if (name == "loinc") return Collection{Item::StringRef("http://loinc.org")};
  if (name.rfind("vs-", 0) == 0) {
    return Collection{Item::String("http://hl7.org/fhir/ValueSet/" + name.substr(3))};
  }
  if (name.rfind("ext-", 0) == 0) {
    return Collection{Item::String("http://hl7.org/fhir/StructureDefinition/" + name.substr(4))};
  }
  return EvalError("undefined variable %" + name);
}

Result<Collection> Evaluator::EvalTypeOp(const Node& n, const Scope& scope) {
  CRS_RETURN_IF_ERROR(CheckTypeName(n.type));
  CRS_ASSIGN_OR_RETURN(Collection input, Eval(*n.args[0], scope));
  return TypeOp(n, std::move(input));
}

Result<Collection> Evaluator::TypeOp(const Node& n, Collection input) {
  if (n.op == Op::kIs) {
    CRS_ASSIGN_OR_RETURN(std::optional<Item> item, Single(input, "is"));
    if (!item) return Collection();
    CRS_ASSIGN_OR_RETURN(bool match, MatchesType(*item, n.type, false));
    return BooleanResult(match);
  }
  return AsFilter(n.type, std::move(input), "as");
}

Result<Collection> Evaluator::AsFilter(const TypeSpec& type, Collection input,
                                       std::string_view what) {
  // FHIRPath wants a single item. R4 practice applies `as` to collections: search
  // parameters ("Group.characteristic.value as CodeableConcept") and the invariant
  // dom-3 ("descendants().as(canonical)"); outside strict mode it filters.
  if (ctx_.strict && input.size() > 1) {
    return EvalError(std::string(what) + " expects a single item, got " +
                     std::to_string(input.size()));
  }
  Collection out;
  for (Item& item : input) {
    CRS_ASSIGN_OR_RETURN(bool match, MatchesType(item, type, true));
    if (match) out.push_back(std::move(item));
  }
  return out;
}

Result<Collection> Evaluator::EvalBoolean(const Node& n, const Scope& scope) {
  static constexpr std::string_view kNames[] = {"and", "or", "xor", "implies"};
  std::string_view name = kNames[n.op == Op::kAnd ? 0 : n.op == Op::kOr ? 1 : n.op == Op::kXor ? 2 : 3];
  CRS_ASSIGN_OR_RETURN(Collection lc, Eval(*n.args[0], scope));
  CRS_ASSIGN_OR_RETURN(std::optional<bool> l, ToBoolean(lc, name));
  // Short cuts that do not depend on the right operand.
  if (n.op == Op::kAnd && l == false) return BooleanResult(false);
  if (n.op == Op::kOr && l == true) return BooleanResult(true);
  if (n.op == Op::kImplies && l == false) return BooleanResult(true);
  CRS_ASSIGN_OR_RETURN(Collection rc, Eval(*n.args[1], scope));
  CRS_ASSIGN_OR_RETURN(std::optional<bool> r, ToBoolean(rc, name));
  switch (n.op) {
    case Op::kAnd:
      if (r == false) return BooleanResult(false);
      if (l == true && r == true) return BooleanResult(true);
      return Collection();
    case Op::kOr:
      if (r == true) return BooleanResult(true);
      if (l == false && r == false) return BooleanResult(false);
      return Collection();
    case Op::kXor:
      if (!l || !r) return Collection();
      return BooleanResult(*l != *r);
    default:  // implies
      if (r == true) return BooleanResult(true);
      if (l == true && r == false) return BooleanResult(false);
      return Collection();
  }
}

Result<Collection> Evaluator::EvalBinary(const Node& n, const Scope& scope) {
  switch (n.op) {
    case Op::kAnd:
    case Op::kOr:
    case Op::kXor:
    case Op::kImplies: return EvalBoolean(n, scope);
    default: break;
  }
  CRS_ASSIGN_OR_RETURN(Collection l, Eval(*n.args[0], scope));
  CRS_ASSIGN_OR_RETURN(Collection r, Eval(*n.args[1], scope));
  return Combine(n, std::move(l), std::move(r));
}

Status Evaluator::CheckStrictMember(const Node& n) const {
  // (Observation.value as Period).unit: wrong whatever the data, even when the
  // cast yields nothing to navigate.
  const Node* f = n.focus.get();
  if (f == nullptr || types() == nullptr) return Status::Ok();
  bool cast = (f->kind == NodeKind::kTypeOp && f->op == Op::kAs) ||
              (f->kind == NodeKind::kFunction && (f->fn == Fn::kAs || f->fn == Fn::kOfType));
  if (!cast || f->type.ns == "System" || !types()->IsType(f->type.name)) return Status::Ok();
  if (!types()->HasElement(f->type.name, n.name)) {
    return EvalError("unknown element '" + n.name + "' on " + f->type.name);
  }
  return Status::Ok();
}

Status Evaluator::CheckStrictOrder(const Node& n) const {
  // children() and descendants() promise no order; order-dependent functions on
  // them are errors in strict mode.
  const Node* f = n.focus.get();
  if (f == nullptr || f->kind != NodeKind::kFunction ||
      (f->fn != Fn::kChildren && f->fn != Fn::kDescendants)) {
    return Status::Ok();
  }
  switch (n.fn) {
    case Fn::kFirst: case Fn::kLast: case Fn::kTail: case Fn::kSkip: case Fn::kTake:
      return EvalError(n.name + "() depends on order, but " + f->name + "() is unordered");
    default: return Status::Ok();
  }
}

Result<Collection> Evaluator::EvalFunction(const Node& n, const Scope& scope) {
  if (ctx_.strict) CRS_RETURN_IF_ERROR(CheckStrictOrder(n));
  Collection focus;
  Span input = scope.self;
  if (n.focus) {
    CRS_ASSIGN_OR_RETURN(focus, Eval(*n.focus, scope));
    input = focus;
  }
  // Arguments other than lambdas are evaluated here, once, in the enclosing scope.
  std::vector<Collection> args(n.args.size());
  for (size_t i = 0; i < n.args.size(); ++i) {
    if (i < 8 && (n.lambda_mask & (1u << i))) continue;
    CRS_ASSIGN_OR_RETURN(args[i], Eval(*n.args[i], scope));
  }
  return Dispatch(n, input, args, scope);
}

Result<Collection> Evaluator::Dispatch(const Node& n, Span input, Args args, const Scope& scope) {
  switch (n.fn) {
    case Fn::kExists:
      if (n.args.empty()) break;
      return FnExistsOrAll(*this, n, input, scope);
    case Fn::kAll: return FnExistsOrAll(*this, n, input, scope);
    case Fn::kWhere: return FnWhere(*this, n, input, scope);
    case Fn::kSelect: return FnSelect(*this, n, input, scope);
    case Fn::kRepeat: return FnRepeat(*this, n, input, scope);
    case Fn::kAggregate: return FnAggregate(*this, n, input, args, scope);
    case Fn::kIif: return FnIif(*this, n, input, scope);
    case Fn::kSort: return FnSort(*this, n, input, scope);
    case Fn::kTrace: return FnTrace(*this, n, input, args, scope);
    default: break;
  }
  switch (n.fn) {
    case Fn::kEmpty: case Fn::kExists: case Fn::kAll: case Fn::kAllTrue: case Fn::kAnyTrue:
    case Fn::kAllFalse: case Fn::kAnyFalse: case Fn::kSubsetOf: case Fn::kSupersetOf:
    case Fn::kCount: case Fn::kDistinct: case Fn::kIsDistinct: case Fn::kWhere:
    case Fn::kSelect: case Fn::kRepeat: case Fn::kOfType: case Fn::kNot: case Fn::kAggregate:
    case Fn::kIs: case Fn::kAs: case Fn::kType: case Fn::kChildren: case Fn::kDescendants:
      return CallExistence(*this, n, input, args, scope);
    case Fn::kSingle: case Fn::kFirst: case Fn::kLast: case Fn::kTail: case Fn::kSkip:
    case Fn::kTake: case Fn::kIntersect: case Fn::kExclude: case Fn::kUnion: case Fn::kCombine:
    case Fn::kSort:
      return CallSubsetting(*this, n, input, args, scope);
    case Fn::kIif: case Fn::kToBoolean: case Fn::kConvertsToBoolean: case Fn::kToInteger:
    case Fn::kConvertsToInteger: case Fn::kToDecimal: case Fn::kConvertsToDecimal:
    case Fn::kToString: case Fn::kConvertsToString: case Fn::kToDate: case Fn::kConvertsToDate:
    case Fn::kToDateTime: case Fn::kConvertsToDateTime: case Fn::kToTime:
    case Fn::kConvertsToTime: case Fn::kToQuantity: case Fn::kConvertsToQuantity:
      return CallConversion(*this, n, input, args, scope);
    case Fn::kIndexOf: case Fn::kSubstring: case Fn::kStartsWith: case Fn::kEndsWith:
    case Fn::kContainsStr: case Fn::kUpper: case Fn::kLower: case Fn::kReplace:
    case Fn::kMatches: case Fn::kMatchesFull: case Fn::kReplaceMatches: case Fn::kLength:
    case Fn::kToChars: case Fn::kTrim: case Fn::kSplit: case Fn::kJoin: case Fn::kEncode:
    case Fn::kDecode: case Fn::kEscape: case Fn::kUnescape:
      return CallString(*this, n, input, args, scope);
    case Fn::kAbs: case Fn::kCeiling: case Fn::kExp: case Fn::kFloor: case Fn::kLn:
    case Fn::kLog: case Fn::kPower: case Fn::kRound: case Fn::kSqrt: case Fn::kTruncate:
    case Fn::kLowBoundary: case Fn::kHighBoundary: case Fn::kPrecision: case Fn::kComparable:
      return CallMath(*this, n, input, args, scope);
    case Fn::kExtension: case Fn::kHasValue: case Fn::kGetValue: case Fn::kResolve:
    case Fn::kMemberOf: case Fn::kConformsTo: case Fn::kHtmlChecks:
      return CallFhir(*this, n, input, args, scope);
    case Fn::kTrace: case Fn::kNow: case Fn::kToday: case Fn::kTimeOfDay:
      return CallUtility(*this, n, input, args, scope);
  }
  return EvalError("function " + n.name + " is not implemented");
}

}  // namespace crs::fhirpath
