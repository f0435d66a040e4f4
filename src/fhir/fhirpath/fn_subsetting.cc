// Subsetting and combining: single first last tail skip take intersect exclude
// union combine, and sort().
#include <algorithm>
#include <numeric>

#include "fhir/fhirpath/evaluator.h"

namespace crs::fhirpath {
Result<Collection> FnSort(Evaluator& ev, const Node& n, Span input, const Scope& scope) {
  size_t keys = std::max<size_t>(n.args.size(), 1);
  // keys[i * k + j]: key j of item i, empty when the key expression gave nothing.
  std::vector<std::optional<Item>> key_values(input.size() * keys);
  for (size_t i = 0; i < input.size(); ++i) {
    for (size_t j = 0; j < keys; ++j) {
      std::optional<Item> key;
      if (n.args.empty()) {
        key = input[i];
      } else {
        CRS_ASSIGN_OR_RETURN(Collection r, ev.Lambda(*n.args[j], input, i, scope));
        CRS_ASSIGN_OR_RETURN(key, Single(r, "sort() key"));
      }
      key_values[i * keys + j] = std::move(key);
    }
  }
  std::vector<size_t> order(input.size());
  std::iota(order.begin(), order.end(), 0);
  Status failure;
  auto less = [&](size_t a, size_t b) {
    for (size_t j = 0; j < keys; ++j) {
      const auto& ka = key_values[a * keys + j];
      const auto& kb = key_values[b * keys + j];
      bool desc = j < n.arg_descending.size() && n.arg_descending[j];
      int c = 0;
      if (!ka || !kb) {
        // Items without a key come first, whichever the direction.
        if (ka || kb) return !ka;
        continue;
      } else {
        auto r = CompareItems(*ka, *kb);
        if (!r.ok()) {
          if (failure.ok()) failure = r.status();
          return false;
        }
        c = r->value_or(0);
      }
      if (c != 0) return desc ? c > 0 : c < 0;
    }
    return false;
  };
  std::stable_sort(order.begin(), order.end(), less);
  if (!failure.ok()) return failure;
  Collection out;
  out.reserve(input.size());
  for (size_t i : order) out.push_back(input[i]);
  return out;
}

Result<Collection> CallSubsetting(Evaluator& ev, const Node& n, Span input, Args args,
                              const Scope& scope) {
  switch (n.fn) {
    case Fn::kSingle: {
      CRS_ASSIGN_OR_RETURN(std::optional<Item> item, Single(input, "single()"));
      if (!item) return Collection();
      return Collection{std::move(*item)};
    }
    case Fn::kFirst:
      if (input.empty()) return Collection();
      return Collection{input.front()};
    case Fn::kLast:
      if (input.empty()) return Collection();
      return Collection{input.back()};
    case Fn::kTail:
      if (input.size() <= 1) return Collection();
      return Collection(input.begin() + 1, input.end());
    case Fn::kSkip:
    case Fn::kTake: {
      const Collection& arg = args[0];
      CRS_ASSIGN_OR_RETURN(std::optional<int64_t> count, SingleInteger(arg, n.name + "()"));
      if (!count) return Collection();
      size_t k = *count <= 0 ? 0 : std::min<size_t>(static_cast<size_t>(*count), input.size());
      if (n.fn == Fn::kSkip) return Collection(input.begin() + k, input.end());
      return Collection(input.begin(), input.begin() + k);
    }
    case Fn::kIntersect: {
      const Collection& other = args[0];
      Collection both;
      for (const Item& item : input) {
        for (const Item& o : other) {
          auto eq = ItemsEqual(item, o);
          if (eq && *eq) {
            both.push_back(item);
            break;
          }
        }
      }
      Collection out;
      AppendDistinct(both, &out);
      return out;
    }
    case Fn::kExclude: {
      const Collection& other = args[0];
      Collection out;
      for (const Item& item : input) {
        bool found = false;
        for (const Item& o : other) {
          auto eq = ItemsEqual(item, o);
          if (eq && *eq) {
            found = true;
            break;
          }
        }
        if (!found) out.push_back(item);
      }
      return out;
    }
    case Fn::kUnion: {
      const Collection& other = args[0];
      Collection out;
      AppendDistinct(input, &out);
      AppendDistinct(other, &out);
      return out;
    }
    case Fn::kCombine: {
      const Collection& other = args[0];
      Collection out(input.begin(), input.end());
      out.insert(out.end(), other.begin(), other.end());
      return out;
    }
    default: break;
  }
  return EvalError("function " + n.name + " is not implemented");
}

}  // namespace crs::fhirpath
