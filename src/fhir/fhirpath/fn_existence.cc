// Existence, filtering and projection, types, tree navigation, aggregate(), not().
#include <set>
#include <utility>

#include <boost/json.hpp>

#include "fhir/fhirpath/evaluator.h"

namespace crs::fhirpath {
namespace {

// A Boolean item's value; nullopt for anything else.
std::optional<bool> BooleanOf(const Item& item) {
  if (item.kind() == ItemKind::kBoolean) return item.boolean();
  if (item.is_node() && item.node() != nullptr && item.node()->is_bool()) {
    return item.node()->get_bool();
  }
  return std::nullopt;
}

Result<Collection> AllAny(const Node& n, Span input) {
  bool want = n.fn == Fn::kAllTrue || n.fn == Fn::kAnyTrue;
  bool all = n.fn == Fn::kAllTrue || n.fn == Fn::kAllFalse;
  for (const Item& item : input) {
    auto b = BooleanOf(item);
    if (!b) return EvalError(n.name + "() expects Booleans, got " + item.DebugString());
    if (all && *b != want) return BooleanResult(false);
    if (!all && *b == want) return BooleanResult(true);
  }
  return BooleanResult(all);
}

bool ContainsEqual(Span haystack, const Item& needle) {
  for (const Item& h : haystack) {
    auto eq = ItemsEqual(h, needle);
    if (eq && *eq) return true;
  }
  return false;
}

}  // namespace

// repeat(): breadth first, each node once (JSON trees have no cycles, but a
// projection such as repeat('x') yields the same value again and again).
Result<Collection> FnRepeat(Evaluator& ev, const Node& n, Span input, const Scope& scope) {
  Collection result;
  std::set<std::pair<const void*, const void*>> seen_nodes;
  auto is_new = [&](const Item& item) {
    if (item.is_node() && item.node() != nullptr) {
      return seen_nodes.insert({item.node(), item.extension_node()}).second;
    }
    for (const Item& r : result) {
      if (r.is_node()) continue;
      auto eq = ItemsEqual(r, item);
      if (eq && *eq) return false;
    }
    return true;
  };
  Collection frontier(input.begin(), input.end());
  while (!frontier.empty()) {
    Collection next;
    for (size_t i = 0; i < frontier.size(); ++i) {
      CRS_ASSIGN_OR_RETURN(Collection r, ev.Lambda(*n.args[0], frontier, i, scope));
      for (Item& item : r) {
        if (!is_new(item)) continue;
        CRS_RETURN_IF_ERROR(ev.Charge(1));
        result.push_back(item);
        next.push_back(std::move(item));
      }
    }
    frontier = std::move(next);
  }
  return result;
}


// The lambda-taking functions, called straight from Evaluator::Dispatch().
Result<Collection> FnExistsOrAll(Evaluator& ev, const Node& n, Span input,
                                                 const Scope& scope) {
  bool all = n.fn == Fn::kAll;
  for (size_t i = 0; i < input.size(); ++i) {
    CRS_ASSIGN_OR_RETURN(Collection r, ev.Lambda(*n.args[0], input, i, scope));
    CRS_ASSIGN_OR_RETURN(std::optional<bool> b, ToBoolean(r, all ? "all()" : "exists()"));
    if (all && b != true) return BooleanResult(false);
    if (!all && b == true) return BooleanResult(true);
  }
  return BooleanResult(all);
}

Result<Collection> FnWhere(Evaluator& ev, const Node& n, Span input,
                                           const Scope& scope) {
  Collection out;
  for (size_t i = 0; i < input.size(); ++i) {
    CRS_ASSIGN_OR_RETURN(Collection r, ev.Lambda(*n.args[0], input, i, scope));
    CRS_ASSIGN_OR_RETURN(std::optional<bool> b, ToBoolean(r, "where()"));
    if (b == true) out.push_back(input[i]);
  }
  return out;
}

Result<Collection> FnSelect(Evaluator& ev, const Node& n, Span input,
                                            const Scope& scope) {
  Collection out;
  for (size_t i = 0; i < input.size(); ++i) {
    CRS_ASSIGN_OR_RETURN(Collection r, ev.Lambda(*n.args[0], input, i, scope));
    if (out.empty()) {
      out = std::move(r);
    } else {
      for (Item& item : r) out.push_back(std::move(item));
    }
  }
  return out;
}

Result<Collection> FnAggregate(Evaluator& ev, const Node& n, Span input,
                                               Args args, const Scope& scope) {
  Collection total;
  if (args.size() > 1) total = args[1];
  for (size_t i = 0; i < input.size(); ++i) {
    CRS_RETURN_IF_ERROR(ev.Charge(1));
    Scope s{input.subspan(i, 1), static_cast<int64_t>(i), &total};
    CRS_ASSIGN_OR_RETURN(Collection next, ev.Eval(*n.args[0], s));
    total = std::move(next);
  }
  return total;
}

Result<Collection> CallExistence(Evaluator& ev, const Node& n, Span input, Args args,
                              const Scope& scope) {
  switch (n.fn) {
    case Fn::kEmpty: return BooleanResult(input.empty());
    case Fn::kExists: return BooleanResult(!input.empty());
    case Fn::kAllTrue:
    case Fn::kAnyTrue:
    case Fn::kAllFalse:
    case Fn::kAnyFalse: return AllAny(n, input);
    case Fn::kSubsetOf:
    case Fn::kSupersetOf: {
      const Collection& other = args[0];
      Span small = n.fn == Fn::kSubsetOf ? input : Span(other);
      Span big = n.fn == Fn::kSubsetOf ? Span(other) : input;
      for (const Item& item : small) {
        if (!ContainsEqual(big, item)) return BooleanResult(false);
      }
      return BooleanResult(true);
    }
    case Fn::kCount: return Collection{Item::Integer(static_cast<int64_t>(input.size()))};
    case Fn::kDistinct: {
      Collection out;
      AppendDistinct(input, &out);
      return out;
    }
    case Fn::kIsDistinct: {
      Collection out;
      AppendDistinct(input, &out);
      return BooleanResult(out.size() == input.size());
    }
    case Fn::kOfType: {
      CRS_RETURN_IF_ERROR(ev.CheckTypeName(n.type));
      Collection out;
      for (const Item& item : input) {
        CRS_ASSIGN_OR_RETURN(bool match, ev.MatchesType(item, n.type, true));
        if (match) out.push_back(item);
      }
      return out;
    }
    case Fn::kIs: {
      CRS_RETURN_IF_ERROR(ev.CheckTypeName(n.type));
      CRS_ASSIGN_OR_RETURN(std::optional<Item> item, Single(input, "is()"));
      if (!item) return Collection();
      CRS_ASSIGN_OR_RETURN(bool match, ev.MatchesType(*item, n.type, false));
      return BooleanResult(match);
    }
    case Fn::kAs:
      CRS_RETURN_IF_ERROR(ev.CheckTypeName(n.type));
      return ev.AsFilter(n.type, Collection(input.begin(), input.end()), "as()");
    case Fn::kType: {
      Collection out;
      for (const Item& item : input) {
        if (item.is_node()) {
          std::string_view t = ev.NodeType(item);
          if (!t.empty()) out.push_back(Item::TypeInfo(false, t));
        } else if (!SystemTypeName(item.kind()).empty()) {
          out.push_back(Item::TypeInfo(true, SystemTypeName(item.kind())));
        }
      }
      return out;
    }
    case Fn::kNot: {
      CRS_ASSIGN_OR_RETURN(std::optional<bool> b, ToBoolean(input, "not()"));
      if (!b) return Collection();
      return BooleanResult(!*b);
    }
    case Fn::kChildren: {
      Collection out;
      for (const Item& item : input) CRS_RETURN_IF_ERROR(ev.Children(item, &out));
      return out;
    }
    case Fn::kDescendants: {
      Collection out;
      for (const Item& item : input) CRS_RETURN_IF_ERROR(ev.Children(item, &out));
      for (size_t i = 0; i < out.size(); ++i) {
        Item item = out[i];  // out grows below
        CRS_RETURN_IF_ERROR(ev.Children(item, &out));
      }
      return out;
    }
    default: break;
  }
  return EvalError("function " + n.name + " is not implemented");
}

}  // namespace crs::fhirpath
