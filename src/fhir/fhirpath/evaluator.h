// The evaluator: walks an AST over a JSON document. Internal to crs_fhirpath.
//
// One Evaluator serves one Evaluate() call (it holds the item budget); the tree and
// the context are read-only. The code is split by concern: evaluator.cc (dispatch,
// operators), navigation.cc (members, children, types), compare.cc (equality,
// equivalence, ordering) and fn_*.cc (the function library).
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "fhir/fhirpath/ast.h"
#include "fhir/fhirpath/fhirpath.h"

namespace crs::fhirpath {

using Span = std::span<const Item>;
// A function's arguments, evaluated before the call; lambda arguments (where(),
// select(), iif() branches, ...) stay empty here and are evaluated per item.
using Args = std::span<const Collection>;

struct Scope {
  Span self;                          // $this, and the input of implicit invocations
  int64_t index = -1;                 // $index inside lambdas
  const Collection* total = nullptr;  // $total inside aggregate()
};

Status EvalError(std::string message);

// Longest string an expression may compute (concatenation, replace, join, ...):
// keeps repeat($this + $this) and the like from exhausting memory.
inline constexpr size_t kMaxStringLength = 1 << 20;
Status CheckStringLength(size_t length);

class Evaluator {
 public:
  Evaluator(const EvalContext& ctx, Span context);

  Result<Collection> Eval(const Node& n, const Scope& scope);

  const EvalContext& ctx() const { return ctx_; }
  const TypeProvider* types() const { return ctx_.types; }

  // Evaluates a lambda argument for items[i]: $this = items[i], $index = i.
  Result<Collection> Lambda(const Node& body, Span items, size_t i, const Scope& outer);

  // Charges `n` items to the evaluation's budget.
  Status Charge(size_t n);

  // --- navigation.cc ---
  // focus.name for every item of `input`; `implicit` when the name starts a path
  // (then a type name such as Patient selects matching items).
  Status Member(Span input, std::string_view name, bool implicit, Collection* out);
  // name on one JSON node (object members, or a primitive's "_name" sibling).
  Status NodeMember(const Item& item, std::string_view name, Collection* out) const;
  // Choice elements: "value" on an object holding "valueQuantity".
  void ChoiceMembers(const Item& item, std::string_view name, Collection* out) const;
  // The child nodes of one item (children()).
  Status Children(const Item& item, Collection* out);
  // The FHIR type of a node, inferred from the JSON when not known.
  std::string_view NodeType(const Item& item) const;
  bool IsSubtype(std::string_view type, std::string_view base) const;
  // Does `item` match the type? `exact` for as()/ofType() on FHIR primitives.
  // Error for a type name that the model does not know.
  Result<bool> MatchesType(const Item& item, const TypeSpec& spec, bool exact) const;
  Status CheckTypeName(const TypeSpec& spec) const;
  // The items of `input` that are of `type` (as/as()); in strict mode an error for
  // more than one input item.
  Result<Collection> AsFilter(const TypeSpec& type, Collection input, std::string_view what);
  // The item for a JSON resource: typed by resourceType.
  Item Resource(const boost::json::value* v) const;

  // --- fn_fhir.cc ---
  // A resource for a reference string, or nullopt.
  std::optional<Item> ResolveReference(std::string_view reference);

 private:
  Result<Collection> EvalFunction(const Node& n, const Scope& scope);
  [[gnu::noinline]] Result<Collection> Dispatch(const Node& n, Span input, Args args,
                                                const Scope& scope);
  Result<Collection> EvalBinary(const Node& n, const Scope& scope);
  // The non-recursive halves of Eval(); kept out of line to keep recursion frames small.
  [[gnu::noinline]] Result<Collection> Literal(const Node& n);
  [[gnu::noinline]] Result<Collection> Index(Collection base, Span index);
  [[gnu::noinline]] Result<Collection> Unary(const Node& n, Span operand);
  [[gnu::noinline]] Result<Collection> Combine(const Node& n, Collection l, Collection r);
  [[gnu::noinline]] Result<Collection> TypeOp(const Node& n, Collection input);
  Result<Collection> EvalBoolean(const Node& n, const Scope& scope);
  Result<Collection> EvalTypeOp(const Node& n, const Scope& scope);
  Result<Collection> Variable(const Node& n);
  Status CheckStrictMember(const Node& n) const;
  Status CheckStrictOrder(const Node& n) const;

  const EvalContext& ctx_;
  Span context_;
  size_t budget_;
};

// --- helpers shared by the function files (evaluator.cc) ---

// The single item of a collection: nullopt if empty, error if several.
Result<std::optional<Item>> Single(Span c, std::string_view what);
// As Single, converted to a System value (nullopt also for complex nodes).
Result<std::optional<Item>> SingleValue(Span c, std::string_view what);
// Singleton evaluation as a Boolean: empty -> nullopt, a Boolean -> itself, any other
// single item -> true; error for several items.
Result<std::optional<bool>> ToBoolean(Span c, std::string_view what);
// A single String argument; nullopt when empty, error for other types.
Result<std::optional<std::string_view>> SingleString(Span c, std::string_view what);
Result<std::optional<int64_t>> SingleInteger(Span c, std::string_view what);
Collection BooleanResult(bool v);
// Appends the items of `add` that equal no item already in `out`, which must itself
// hold no duplicates (union semantics).
void AppendDistinct(Span add, Collection* out);

// --- compare.cc ---
// a = b for single items: nullopt when unknown (dates of different precision).
std::optional<bool> ItemsEqual(const Item& a, const Item& b);
bool ItemsEquivalent(const Item& a, const Item& b);
// A hash consistent with ItemsEqual: items that are equal hash alike.
size_t ItemHash(const Item& item);
// Ordering; nullopt when unknown, error for incomparable types.
Result<std::optional<int>> CompareItems(const Item& a, const Item& b);
std::optional<bool> CollectionsEqual(Span a, Span b);
bool CollectionsEquivalent(Span a, Span b);
// The System kind's name: "Boolean", "Integer", ...
std::string_view SystemTypeName(ItemKind kind);

// --- fn_*.cc: the function library, by group ---
Result<Collection> CallExistence(Evaluator& ev, const Node& n, Span input, Args args,
                                 const Scope& scope);
Result<Collection> CallSubsetting(Evaluator& ev, const Node& n, Span input, Args args,
                                  const Scope& scope);
Result<Collection> CallConversion(Evaluator& ev, const Node& n, Span input, Args args,
                                  const Scope& scope);
Result<Collection> CallString(Evaluator& ev, const Node& n, Span input, Args args,
                              const Scope& scope);
Result<Collection> CallMath(Evaluator& ev, const Node& n, Span input, Args args,
                            const Scope& scope);
Result<Collection> CallFhir(Evaluator& ev, const Node& n, Span input, Args args,
                            const Scope& scope);
Result<Collection> CallUtility(Evaluator& ev, const Node& n, Span input, Args args,
                               const Scope& scope);

// The functions that take lambdas, called straight from Evaluator::Dispatch() so
// that their recursion into the evaluator carries small frames.
Result<Collection> FnExistsOrAll(Evaluator& ev, const Node& n, Span input, const Scope& scope);
Result<Collection> FnWhere(Evaluator& ev, const Node& n, Span input, const Scope& scope);
Result<Collection> FnSelect(Evaluator& ev, const Node& n, Span input, const Scope& scope);
Result<Collection> FnRepeat(Evaluator& ev, const Node& n, Span input, const Scope& scope);
Result<Collection> FnAggregate(Evaluator& ev, const Node& n, Span input, Args args,
                               const Scope& scope);
Result<Collection> FnIif(Evaluator& ev, const Node& n, Span input, const Scope& scope);
Result<Collection> FnSort(Evaluator& ev, const Node& n, Span input, const Scope& scope);
Result<Collection> FnTrace(Evaluator& ev, const Node& n, Span input, Args args,
                           const Scope& scope);

// Conversions shared by functions and operators (fn_conversion.cc).
std::optional<std::string> ToStringValue(const Item& system_value);

}  // namespace crs::fhirpath
