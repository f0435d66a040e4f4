// FHIRPath (N1, the version FHIR R4 uses) over FHIR JSON.
//
//   CRS_ASSIGN_OR_RETURN(Expression e, Compile("Patient.telecom.where(system='phone')"));
//   EvalContext ctx;
//   ctx.types = &provider;  // optional: FHIR types for is/as/ofType, choice elements
//   CRS_ASSIGN_OR_RETURN(Collection out, Evaluate(e, patient_json, ctx));
//
// Compile once, evaluate many times: an Expression is immutable and may be shared by
// any number of threads evaluating at once. Evaluation never copies the input
// document: result items point into it (and into the Expression for string
// literals), so keep both alive while using the results.
//
// Errors are Status::Invalid with a message naming the problem: syntax errors
// (with the offset), unknown functions, wrong argument counts (at Compile); at
// Evaluate, a singleton required but several items given, operands of the wrong
// type, unknown variables, an exhausted item budget. Nothing here throws.
//
// What is supported, and where the engine departs from the specification, is in
// docs/fhirpath.md.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "fhir/fhirpath/type_provider.h"
#include "fhir/fhirpath/value.h"

namespace crs::fhirpath {

struct Node;

// A compiled expression. Cheap to copy (shares the tree); thread-safe to share.
class Expression {
 public:
  Expression() = default;  // evaluates to empty
  const std::string& text() const { return text_; }
  // The tree (ast.h, internal to the engine); null for a default Expression.
  const Node* root() const { return root_.get(); }

 private:
  friend Result<Expression> Compile(std::string_view text);
  // Shared so that copies (one per search parameter table, per thread) cost a
  // reference count, never a re-parse.
  std::shared_ptr<const Node> root_;
  std::string text_;
};

// Parses and checks `text`: syntax, function names, argument counts, type names in
// is/as/ofType. Invalid on failure.
Result<Expression> Compile(std::string_view text);

// Returns the JSON resource a reference names, or nullptr if unknown. The JSON must
// outlive the evaluation's results.
using ResolveFn = std::function<const boost::json::value*(std::string_view reference)>;
// Is the coded item (code, Coding, CodeableConcept, string) in the value set?
// nullopt when unknown (memberOf() then returns empty).
using MemberOfFn =
    std::function<std::optional<bool>(const Item& coded, std::string_view value_set_url)>;
// Does the item conform to the profile? nullopt when the profile is unknown.
using ConformsToFn =
    std::function<std::optional<bool>(const Item& item, std::string_view profile_url)>;
using TraceFn = std::function<void(std::string_view name, const Collection& items)>;

// Everything an evaluation may consult besides the input. Build one per use site
// and reuse it; Evaluate only reads it.
struct EvalContext {
  // FHIR type information; nullptr evaluates untyped (docs/fhirpath.md).
  const TypeProvider* types = nullptr;
  // %resource and %rootResource; both default to the evaluation root.
  const boost::json::value* resource = nullptr;
  const boost::json::value* root_resource = nullptr;
  // User variables, referenced as %name (name without '%').
  std::map<std::string, Collection, std::less<>> variables;
  // resolve(): consulted after contained resources ("#id") and, when %rootResource
  // is a Bundle, its entries' fullUrls. Without an answer, a relative or absolute
  // reference "Patient/123" still resolves to a stub typed Patient that has no
  // content, so `resolve() is Patient` works without fetching anything.
  ResolveFn resolve;
  MemberOfFn member_of;      // memberOf(); absent: memberOf() returns empty
  ConformsToFn conforms_to;  // conformsTo(); absent: only core type profiles are known
  TraceFn trace;             // trace(); absent: ignored
  // The clock for now(), today() and timeOfDay(); absent: the system clock (UTC).
  std::optional<DateTimeValue> now;
  // Upper bound on items produced during one evaluation (guards descendants() and
  // repeat() on hostile input).
  size_t max_items = 1'000'000;
  // Strict mode: navigating to an element the model does not define (given1,
  // valueQuantity instead of value, Encounter.name on a Patient) is an error
  // instead of empty. Needs `types`.
  bool strict = false;
};

// Evaluates `expr` with `root` as %context and $this.
Result<Collection> Evaluate(const Expression& expr, const boost::json::value& root,
                            const EvalContext& ctx);
// Evaluates `expr` on an arbitrary input collection (for example an element inside a
// resource, for invariants); %resource must then be set in `ctx` if used.
Result<Collection> Evaluate(const Expression& expr, const Collection& input,
                            const EvalContext& ctx);

// The item for a whole resource (typed by its resourceType).
Item ResourceItem(const boost::json::value& resource);

}  // namespace crs::fhirpath
