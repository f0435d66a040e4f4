#include "fhir/fhirpath/fhirpath.h"

#include <boost/json.hpp>

#include "fhir/fhirpath/evaluator.h"
#include "fhir/fhirpath/parser.h"

namespace crs::fhirpath {

Result<Expression> Compile(std::string_view text) {
  CRS_ASSIGN_OR_RETURN(std::unique_ptr<Node> root, Parse(text));
  Expression e;
  e.root_ = std::shared_ptr<const Node>(std::move(root));
  e.text_ = std::string(text);
  return e;
}

Item ResourceItem(const boost::json::value& resource) {
  std::string_view type;
  if (resource.is_object()) {
    const boost::json::value* rt = resource.get_object().if_contains("resourceType");
    if (rt != nullptr && rt->is_string()) type = rt->get_string();
  }
  return Item::Node(&resource, nullptr, type, type);
}

Result<Collection> Evaluate(const Expression& expr, const Collection& input,
                            const EvalContext& ctx) {
  if (expr.root() == nullptr) return Collection();
  Evaluator ev(ctx, input);
  Scope scope{input, -1, nullptr};
  return ev.Eval(*expr.root(), scope);
}

Result<Collection> Evaluate(const Expression& expr, const boost::json::value& root,
                            const EvalContext& ctx) {
  Collection input{ResourceItem(root)};
  return Evaluate(expr, input, ctx);
}

}  // namespace crs::fhirpath
