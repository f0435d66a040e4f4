// Parsing FHIR search parameters (https://hl7.org/fhir/R4/search.html) into
// store predicates.
#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <type_traits>
#include <variant>

#include "api/search.h"
#include "fhir/index/date_range.h"
#include "fhir/index/fulltext.h"
#include "fhir/index/geo.h"
#include "fhir/index/normalize.h"
#include "fhir/index/numbers.h"
#include "fhir/index/phonetic.h"
#include "fhir/index/registry.h"

namespace crs::api {

namespace {

// A query value cut where the index cuts what it stores (fhir/index/
// normalize.h): values longer than that are matched on the part indexed.
std::string IndexedExact(std::string_view v) {
  return std::string(fhir::index::CutUtf8(v, fhir::index::kMaxExactBytes));
}

using store::Condition;
using store::Predicate;
using store::Prefix;

// Splits on commas not escaped with a backslash, unescaping \, \| \$ \\.
std::vector<std::string> SplitOr(std::string_view v) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      out.back().push_back(v[++i]);
    } else if (v[i] == ',') {
      out.emplace_back();
    } else {
      out.back().push_back(v[i]);
    }
  }
  return out;
}

// Splits a token/quantity value on unescaped '|'.
std::vector<std::string> SplitBar(std::string_view v) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      out.back().push_back(v[++i]);
    } else if (v[i] == '|') {
      out.emplace_back();
    } else {
      out.back().push_back(v[i]);
    }
  }
  return out;
}

std::pair<Prefix, std::string_view> TakePrefix(std::string_view v) {
  static const std::pair<const char*, Prefix> kPrefixes[] = {
      {"eq", Prefix::kEq}, {"ne", Prefix::kNe}, {"gt", Prefix::kGt}, {"lt", Prefix::kLt},
      {"ge", Prefix::kGe}, {"le", Prefix::kLe}, {"sa", Prefix::kSa}, {"eb", Prefix::kEb},
      {"ap", Prefix::kAp}};
  if (v.size() > 2 && v[0] >= 'a' && v[0] <= 'z') {
    for (const auto& [text, prefix] : kPrefixes) {
      if (v.starts_with(text)) return {prefix, v.substr(2)};
    }
  }
  return {Prefix::kEq, v};
}

Status Bad(std::string_view name, std::string_view why) {
  return Status::Invalid("search parameter '" + std::string(name) + "': " + std::string(why));
}

Result<Condition> DateCondition(std::string_view name, std::string_view v) {
  auto [prefix, rest] = TakePrefix(v);
  auto range = fhir::index::ParseSearchDate(rest);
  if (!range) return Bad(name, "not a valid date, dateTime or instant");
  store::DateCond c;
  c.prefix = prefix;
  c.low_ms = range->low_ms;
  c.high_ms = range->high_ms;
  return Condition(c);
}

Result<Condition> NumberCondition(std::string_view name, std::string_view v, bool quantity) {
  auto [prefix, rest] = TakePrefix(v);
  store::NumberCond c;
  c.prefix = prefix;
  std::string_view number = rest;
  if (quantity) {
    auto parts = SplitBar(rest);
    if (parts.size() != 1 && parts.size() != 3) {
      return Bad(name, "a quantity is number, number|system|code or number||code");
    }
    if (parts.size() == 3) {
      c.system = parts[1];
      c.code = parts[2];
    }
    auto bounds = fhir::index::ParseSearchNumber(parts[0]);
    if (!bounds) return Bad(name, "not a valid number");
    c.value = bounds->value;
    c.low = bounds->low;
    c.high = bounds->high;
    return Condition(c);
  }
  auto bounds = fhir::index::ParseSearchNumber(number);
  if (!bounds) return Bad(name, "not a valid number");
  c.value = bounds->value;
  c.low = bounds->low;
  c.high = bounds->high;
  return Condition(c);
}

Result<Condition> TokenCondition(std::string_view name, std::string_view modifier,
                                 const std::string& v) {
  store::TokenCond c;
  if (modifier == "text") {
    c.text = fhir::index::NormalizeString(v);
    return Condition(c);
  }
  auto parts = SplitBar(v);
  if (modifier == "of-type") {
    if (parts.size() != 3 || parts[2].empty()) {
      return Bad(name, ":of-type needs system|code|value");
    }
    c.type_system = parts[0];
    c.type_code = parts[1];
    c.code = parts[2];
    return Condition(c);
  }
  if (parts.size() == 1) {
    if (parts[0].empty()) return Bad(name, "empty value");
    c.code = parts[0];
  } else if (parts.size() == 2) {
    c.system = parts[0];  // "|code" → no system; "system|" → any code in system
    if (!parts[1].empty()) c.code = parts[1];
    if (parts[0].empty() && parts[1].empty()) return Bad(name, "empty value");
  } else {
    return Bad(name, "a token is code, system|code, |code or system|");
  }
  return Condition(c);
}

Result<Condition> ReferenceCondition(std::string_view name, std::string_view modifier,
                                     const std::string& v) {
  store::ReferenceCond c;
  if (!modifier.empty()) c.type = std::string(modifier);
  std::string_view ref = v;
  if (ref.empty()) return Bad(name, "empty value");
  if (ref.starts_with("http://") || ref.starts_with("https://") || ref.starts_with("urn:")) {
    // An absolute reference may point at this server; match by type/id when it
    // ends in Type/id, else by URL.
    size_t last = ref.rfind('/');
    size_t prev = last == std::string_view::npos ? last : ref.rfind('/', last - 1);
    if (last != std::string_view::npos && prev != std::string_view::npos &&
        fhir::index::IndexRegistry::Get().params().IsResourceType(ref.substr(prev + 1, last - prev - 1))) {
      c.type = std::string(ref.substr(prev + 1, last - prev - 1));
      c.id = std::string(ref.substr(last + 1));
    } else {
      c.url = std::string(ref);
    }
    return Condition(c);
  }
  size_t slash = ref.find('/');
  if (slash != std::string_view::npos) {
    std::string type(ref.substr(0, slash));
    if (c.type && *c.type != type) return Bad(name, "the :Type modifier disagrees with the value");
    c.type = type;
    c.id = std::string(ref.substr(slash + 1));
  } else {
    c.id = std::string(ref);
  }
  return Condition(c);
}

// Splits on unescaped `sep`, leaving every escape in place (a composite's
// parts are unescaped once split on both ',' and '$').
std::vector<std::string> SplitKeepingEscapes(std::string_view v, char sep) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      out.back().push_back(v[i]);
      out.back().push_back(v[++i]);
    } else if (v[i] == sep) {
      out.emplace_back();
    } else {
      out.back().push_back(v[i]);
    }
  }
  return out;
}

// Removes the escapes of ',', '$' and '\\' (those of '|' stay for SplitBar).
std::string UnescapeComponent(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size() &&
        (v[i + 1] == ',' || v[i + 1] == '$' || v[i + 1] == '\\')) {
      out.push_back(v[++i]);
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

// One composite value, "a$b[$c]": each part in its component's own syntax
// (a token's system|code, a quantity's prefix and units, a date's prefix).
Result<Condition> CompositeCondition(std::string_view name, const fhir::SearchParam& sp,
                                     std::string_view v) {
  using T = fhir::SearchParamType;
  auto parts = SplitKeepingEscapes(v, '$');
  if (parts.size() != sp.component.size()) {
    std::string form;
    for (const auto& c : sp.component) form += (form.empty() ? "" : "$") + c.code;
    return Bad(name, "a composite value has " + std::to_string(sp.component.size()) +
                         " parts separated by '$' (" + form + ")");
  }
  store::CompositeCond out;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string part = UnescapeComponent(parts[i]);
    const fhir::SearchParamComponent& comp = sp.component[i];
    std::string part_name = std::string(name) + " (" + comp.code + ")";
    if (part.empty()) return Bad(part_name, "empty component value");
    Condition c;
    switch (comp.type) {
      case T::kToken: {
        CRS_ASSIGN_OR_RETURN(c, TokenCondition(part_name, "", part));
        break;
      }
      case T::kQuantity:
      case T::kNumber: {
        CRS_ASSIGN_OR_RETURN(c, NumberCondition(part_name, part, comp.type == T::kQuantity));
        break;
      }
      case T::kDate: {
        CRS_ASSIGN_OR_RETURN(c, DateCondition(part_name, part));
        break;
      }
      case T::kString:
        c = store::StringCond{store::StringCond::Mode::kPrefix,
                              fhir::index::NormalizeForIndex(part)};
        break;
      case T::kReference: {
        CRS_ASSIGN_OR_RETURN(c, ReferenceCondition(part_name, "", part));
        break;
      }
      case T::kUri:
        c = store::UriCond{store::UriCond::Mode::kEq, part};
        break;
      default:
        return Bad(part_name, "this component type cannot be searched");
    }
    std::visit(
        [&](auto&& x) {
          using X = std::decay_t<decltype(x)>;
          if constexpr (std::is_constructible_v<store::ComponentCond, X>) {
            out.components.emplace_back(std::move(x));
          }
        },
        std::move(c));
  }
  if (out.components.size() != parts.size()) return Bad(name, "unsupported component");
  return Condition(std::move(out));
}

store::IndexTable TableFor(fhir::SearchParamType type) {
  using T = fhir::SearchParamType;
  switch (type) {
    case T::kString: return store::IndexTable::kString;
    case T::kToken: return store::IndexTable::kToken;
    case T::kDate: return store::IndexTable::kDate;
    case T::kNumber: return store::IndexTable::kNumber;
    case T::kQuantity: return store::IndexTable::kQuantity;
    case T::kReference: return store::IndexTable::kReference;
    case T::kUri: return store::IndexTable::kUri;
    case T::kComposite: return store::IndexTable::kComposite;
    case T::kSpecial: return store::IndexTable::kGeo;  // Location.near, the only one searched
    default: return store::IndexTable::kNone;
  }
}

// _text / _content = value: each comma-separated alternative a TextCond.
Result<std::optional<Predicate>> TextPredicate(const std::string& raw_name, const std::string& name,
                                               const std::string& value) {
  Predicate pred;
  pred.param = name;
  pred.table = store::IndexTable::kText;
  for (const auto& alternative : SplitOr(value)) {
    auto terms = fhir::index::ParseFullTextQuery(alternative);
    if (!terms.ok()) return Bad(raw_name, terms.status().message());
    store::TextCond c;
    for (auto& t : *terms) c.terms.push_back(store::TextCond::Term{std::move(t.words), t.prefix});
    pred.any_of.push_back(std::move(c));
  }
  return std::optional<Predicate>(std::move(pred));
}

// near = latitude|longitude|distance|units (R4 Location-near): degrees
// (WGS84); the distance in km, m, [mi_i] (or mi) or [nmi_i]; kilometres
// when no units are given, kDefaultNearKm when no distance is.
Result<Condition> NearCondition(std::string_view name, std::string_view v) {
  constexpr double kDefaultNearKm = 5;
  constexpr double kMaxNearKm = 20037.6;  // half the Earth's circumference: everywhere
  auto parts = SplitBar(v);
  if (parts.size() < 2 || parts.size() > 4) {
    return Bad(name, "near takes latitude|longitude|distance|units");
  }
  auto number = [](const std::string& s, double* out) {
    if (s.empty()) return false;
    const char* end = s.data() + s.size();
    auto [p, ec] = std::from_chars(s.data(), end, *out);
    return ec == std::errc() && p == end && std::isfinite(*out);
  };
  store::GeoCond g;
  if (!number(parts[0], &g.latitude) || g.latitude < -90 || g.latitude > 90) {
    return Bad(name, "the latitude must be a number of degrees from -90 to 90");
  }
  if (!number(parts[1], &g.longitude) || g.longitude < -180 || g.longitude > 180) {
    return Bad(name, "the longitude must be a number of degrees from -180 to 180");
  }
  g.km = kDefaultNearKm;
  if (parts.size() >= 3 && !parts[2].empty()) {
    double d = 0;
    if (!number(parts[2], &d) || d < 0) return Bad(name, "the distance must be a number, 0 or more");
    std::string units = parts.size() == 4 && !parts[3].empty() ? parts[3] : "km";
    double km_per_unit = units == "km"                     ? 1.0
                         : units == "m"                    ? 0.001
                         : units == "[mi_i]" || units == "mi" ? 1.609344
                         : units == "[nmi_i]"              ? 1.852
                                                           : -1;
    if (km_per_unit < 0) return Bad(name, "distance units must be km, m, [mi_i] or [nmi_i]");
    g.km = std::min(d * km_per_unit, kMaxNearKm);
  }
  return Condition(g);
}

// The types a search spans: one type, or (system-level search, `type`
// empty) `types`, or every type when that is empty too.
struct Scope {
  std::string_view type;
  const std::vector<std::string>* types = nullptr;
  bool fulltext = false;  // the store keeps a full-text index (_text, _content)

  bool system() const { return type.empty(); }
  const std::vector<std::string>& SystemTypes() const {
    if (types && !types->empty()) return *types;
    return fhir::index::IndexRegistry::Get().params().ResourceTypes();
  }
  bool Spans(std::string_view t) const {
    if (!system()) return t == type;
    const auto& all = SystemTypes();
    return std::find(all.begin(), all.end(), t) != all.end();
  }
  // Parameter `code` of the searched type; for a system-level search, of
  // every type it spans, with one parameter type on all (else nullptr).
  const fhir::SearchParam* Find(std::string_view code) const {
    const auto& registry = fhir::index::IndexRegistry::Get().params();
    if (!system()) return registry.Find(type, code);
    const fhir::SearchParam* first = nullptr;
    for (const auto& t : SystemTypes()) {
      const fhir::SearchParam* sp = registry.Find(t, code);
      if (!sp || (first && first->type != sp->type)) return nullptr;
      if (!first) first = sp;
    }
    return first;
  }
  std::string Name() const { return system() ? "every type searched" : std::string(type); }
};

// Builds the predicate for one search parameter on `type` (recursing into
// chains and _has). Returns nullopt with `why` set for a parameter to ignore
// (unknown or unsupported); Invalid for a malformed one.
Result<std::optional<Predicate>> BuildPredicate(const Scope& scope, const std::string& raw_name,
                                                const std::string& value, int depth,
                                                std::string* why) {
  constexpr int kMaxChainDepth = 4;
  const auto& registry = fhir::index::IndexRegistry::Get().params();
  std::string_view type = scope.type;
  if (depth > kMaxChainDepth) return Bad(raw_name, "chains are limited to 4 levels");
  if (scope.system() &&
      (raw_name.starts_with("_has:") || raw_name.find('.') != std::string::npos)) {
    *why = "chains and _has are not supported in a system-level search";
    return std::optional<Predicate>();
  }
  // Reverse chain: _has:Type:reference-param:rest
  if (raw_name.starts_with("_has:")) {
    std::string_view rest = std::string_view(raw_name).substr(5);
    size_t c1 = rest.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : rest.find(':', c1 + 1);
    if (c2 == std::string_view::npos) return Bad(raw_name, "_has needs _has:Type:reference:parameter");
    std::string has_type(rest.substr(0, c1));
    std::string ref(rest.substr(c1 + 1, c2 - c1 - 1));
    std::string inner(rest.substr(c2 + 1));
    if (!registry.IsResourceType(has_type)) return Bad(raw_name, "unknown resource type " + has_type);
    const fhir::SearchParam* rp = registry.Find(has_type, ref);
    if (!rp || rp->type != fhir::SearchParamType::kReference) {
      return Bad(raw_name, ref + " is not a reference parameter of " + has_type);
    }
    CRS_ASSIGN_OR_RETURN(std::optional<Predicate> sub,
                         BuildPredicate(Scope{has_type, nullptr, scope.fulltext}, inner, value, depth + 1, why));
    if (!sub) return std::optional<Predicate>();
    Predicate pred;
    pred.param = ref;
    pred.table = store::IndexTable::kReference;
    pred.has_type = has_type;
    pred.chain.push_back(std::move(*sub));
    return std::optional<Predicate>(std::move(pred));
  }
  std::string name = raw_name;
  std::string modifier;
  // Forward chain: ref[:Type].rest
  if (size_t dot = name.find('.'); dot != std::string::npos) {
    std::string head = name.substr(0, dot), inner = name.substr(dot + 1);
    std::string target;
    if (size_t colon = head.find(':'); colon != std::string::npos) {
      target = head.substr(colon + 1);
      head.resize(colon);
    }
    const fhir::SearchParam* rp = registry.Find(type, head);
    if (!rp) {
      *why = "unknown for " + std::string(type);
      return std::optional<Predicate>();
    }
    if (rp->type != fhir::SearchParamType::kReference) {
      return Bad(raw_name, head + " is not a reference parameter, so it cannot be chained");
    }
    if (target.empty()) {
      // The reference's possible targets that have the chained parameter.
      std::string inner_name = inner.substr(0, inner.find_first_of(".:"));
      std::vector<std::string> targets;
      for (const auto& t : rp->target) {
        if (t == "*" || !registry.IsResourceType(t)) continue;
        if (inner_name.starts_with("_") || registry.Find(t, inner_name)) targets.push_back(t);
      }
      if (targets.size() != 1) {
        return Bad(raw_name, head + " may reference several types: name one, e.g. " + head +
                                 ":Patient." + inner);
      }
      target = targets.front();
    }
    if (!registry.IsResourceType(target)) return Bad(raw_name, "unknown resource type " + target);
    CRS_ASSIGN_OR_RETURN(std::optional<Predicate> sub,
                         BuildPredicate(Scope{target, nullptr, scope.fulltext}, inner, value, depth + 1, why));
    if (!sub) return std::optional<Predicate>();
    Predicate pred;
    pred.param = head;
    pred.table = store::IndexTable::kReference;
    pred.chain_type = target;
    pred.chain.push_back(std::move(*sub));
    return std::optional<Predicate>(std::move(pred));
  }
  if (size_t colon = name.find(':'); colon != std::string::npos) {
    modifier = name.substr(colon + 1);
    name.resize(colon);
  }
  Predicate pred;
  pred.param = name;
  if (name == "_id") {
    if (!modifier.empty()) return Bad(raw_name, "_id takes no modifier");
    for (auto& v : SplitOr(value)) pred.any_of.push_back(store::IdCond{v});
    return std::optional<Predicate>(std::move(pred));
  }
  if (name == "_lastUpdated") {
    if (!modifier.empty()) return Bad(raw_name, "_lastUpdated takes no modifier");
    pred.last_updated = true;
    for (auto& v : SplitOr(value)) {
      CRS_ASSIGN_OR_RETURN(Condition c, DateCondition(raw_name, v));
      pred.any_of.push_back(std::move(c));
    }
    return std::optional<Predicate>(std::move(pred));
  }
  const fhir::SearchParam* sp = scope.Find(name);
  if (!sp) {
    *why = "unknown for " + scope.Name();
    return std::optional<Predicate>();
  }
  using T = fhir::SearchParamType;
  if (name == "_text" || name == "_content") {
    // No expression: answered from the full-text index, which a node keeps
    // only when started with --fulltext.
    if (!scope.fulltext) {
      *why = "full-text search is not enabled on this server (crs serve --fulltext)";
      return std::optional<Predicate>();
    }
    if (!modifier.empty()) return Bad(raw_name, name + " takes no modifier");
    return TextPredicate(raw_name, name, value);
  }
  // _query has no expression: nothing is indexed for it, so a predicate on
  // it would silently match nothing.
  if (sp->expression.empty()) {
    *why = "not supported";
    return std::optional<Predicate>();
  }
  pred.table = TableFor(sp->type);
  if (modifier == "missing") {
    if (value != "true" && value != "false") return Bad(raw_name, ":missing takes true or false");
    pred.any_of.push_back(store::MissingCond{value == "true"});
    return std::optional<Predicate>(std::move(pred));
  }
  if (sp->type == T::kSpecial) {
    // near is R4's only special parameter (Location's); any other would be new.
    if (name != fhir::index::kNearParam) {
      *why = "special parameters other than Location near are not supported";
      return std::optional<Predicate>();
    }
    if (!modifier.empty()) return Bad(raw_name, "near takes no modifier but :missing");
    pred.table = store::IndexTable::kGeo;
    for (auto& v : SplitOr(value)) {
      CRS_ASSIGN_OR_RETURN(Condition c, NearCondition(raw_name, v));
      pred.any_of.push_back(std::move(c));
    }
    return std::optional<Predicate>(std::move(pred));
  }
  if (sp->type == T::kComposite) {
    if (!modifier.empty()) return Bad(raw_name, "composite parameters take only :missing");
    pred.table = store::IndexTable::kComposite;
    for (const auto& v : SplitKeepingEscapes(value, ',')) {
      CRS_ASSIGN_OR_RETURN(Condition c, CompositeCondition(raw_name, *sp, v));
      pred.any_of.push_back(std::move(c));
    }
    return std::optional<Predicate>(std::move(pred));
  }
  auto values = SplitOr(value);
  switch (sp->type) {
    case T::kString: {
      pred.table = store::IndexTable::kString;
      store::StringCond::Mode mode;
      if (modifier.empty()) {
        mode = store::StringCond::Mode::kPrefix;
      } else if (modifier == "exact") {
        mode = store::StringCond::Mode::kExact;
      } else if (modifier == "contains") {
        mode = store::StringCond::Mode::kContains;
      } else {
        return Bad(raw_name, "string parameters take :exact, :contains or :missing");
      }
      if (sp->xpath_usage == "phonetic") {
        // Rows hold phonetic keys (fhir/index/phonetic.h), all four characters
        // long, so a prefix range on a whole key is equality and uses the index.
        if (mode != store::StringCond::Mode::kPrefix) {
          return Bad(raw_name, "phonetic parameters take no modifier but :missing");
        }
        for (auto& v : values) {
          for (auto& key : fhir::index::PhoneticKeys(v)) {
            pred.any_of.push_back(store::StringCond{mode, std::move(key)});
          }
        }
        if (pred.any_of.empty()) return Bad(raw_name, "no letters to match by sound");
        break;
      }
      for (auto& v : values) {
        std::string text = mode == store::StringCond::Mode::kExact     ? IndexedExact(v)
                           : mode == store::StringCond::Mode::kPrefix ? fhir::index::NormalizeForIndex(v)
                                                                       : fhir::index::NormalizeString(v);
        pred.any_of.push_back(store::StringCond{mode, std::move(text)});
      }
      break;
    }
    case T::kToken: {
      pred.table = store::IndexTable::kToken;
      if (!modifier.empty() && modifier != "not" && modifier != "text" && modifier != "of-type") {
        return Bad(raw_name, "token parameters take :not, :text, :of-type or :missing");
      }
      pred.negate = modifier == "not";
      // Codes bound to one CodeSystem are stored without it; a query naming
      // that system means them (gender=http://hl7.org/fhir/administrative-gender|male).
      std::string_view implicit = scope.system() ? std::string_view() : sp->ImplicitSystemFor(type);
      for (auto& v : values) {
        CRS_ASSIGN_OR_RETURN(Condition c, TokenCondition(raw_name, modifier, v));
        auto& token = std::get<store::TokenCond>(c);
        if (!implicit.empty() && token.system && *token.system == implicit) token.system = "";
        // Every stored value of such a parameter has no system (the
        // parameter is a plain path to the bound code element, checked in
        // search_params_test), so a bare code means exactly that: an equality
        // on the whole index prefix, which a count reads without sorting.
        if (!implicit.empty() && !token.system && token.code && !token.text && !token.type_code) {
          token.system = "";
        }
        if (token.code) token.code = IndexedExact(*token.code);
        if (token.system) token.system = IndexedExact(*token.system);
        pred.any_of.push_back(std::move(c));
      }
      break;
    }
    case T::kDate: {
      pred.table = store::IndexTable::kDate;
      if (!modifier.empty()) return Bad(raw_name, "date parameters take only :missing");
      for (auto& v : values) {
        CRS_ASSIGN_OR_RETURN(Condition c, DateCondition(raw_name, v));
        pred.any_of.push_back(std::move(c));
      }
      break;
    }
    case T::kNumber:
    case T::kQuantity: {
      bool quantity = sp->type == T::kQuantity;
      pred.table = quantity ? store::IndexTable::kQuantity : store::IndexTable::kNumber;
      if (!modifier.empty()) return Bad(raw_name, "number and quantity parameters take only :missing");
      for (auto& v : values) {
        CRS_ASSIGN_OR_RETURN(Condition c, NumberCondition(raw_name, v, quantity));
        pred.any_of.push_back(std::move(c));
      }
      break;
    }
    case T::kReference: {
      pred.table = store::IndexTable::kReference;
      if (!modifier.empty() && !registry.IsResourceType(modifier)) {
        return Bad(raw_name, modifier == "identifier" || modifier == "above" || modifier == "below"
                                 ? "this modifier is not supported yet"
                                 : "unknown modifier (reference parameters take :Type)");
      }
      for (auto& v : values) {
        CRS_ASSIGN_OR_RETURN(Condition c, ReferenceCondition(raw_name, modifier, v));
        pred.any_of.push_back(std::move(c));
      }
      break;
    }
    case T::kUri: {
      pred.table = store::IndexTable::kUri;
      store::UriCond::Mode mode = store::UriCond::Mode::kEq;
      if (modifier == "below") {
        mode = store::UriCond::Mode::kBelow;
      } else if (modifier == "above") {
        mode = store::UriCond::Mode::kAbove;
      } else if (!modifier.empty()) {
        return Bad(raw_name, "uri parameters take :below, :above or :missing");
      }
      for (auto& v : values) {
        // :above asks for stored uris that start the value: never cut it.
        pred.any_of.push_back(
            store::UriCond{mode, mode == store::UriCond::Mode::kAbove ? v : IndexedExact(v)});
      }
      break;
    }
    default:
      break;
  }
  return std::optional<Predicate>(std::move(pred));
}

}  // namespace

std::string QueryEscape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '|' || c == ',';
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

namespace {

Result<ParsedSearch> ParseIn(const Scope& scope,
                             const std::vector<std::pair<std::string, std::string>>& params,
                             bool strict, int default_count, int max_count) {
  std::string_view type = scope.type;
  ParsedSearch out;
  out.query.type = std::string(type);
  if (scope.types) out.query.types = *scope.types;
  out.query.count = default_count;
  const auto& registry = fhir::index::IndexRegistry::Get().params();
  auto add_canonical = [&](const std::string& k, const std::string& v) {
    if (!out.canonical_params.empty()) out.canonical_params += "&";
    out.canonical_params += QueryEscape(k) + "=" + QueryEscape(v);
  };
  auto ignore = [&](const std::string& name, const std::string& why) -> Status {
    if (strict) return Status::Invalid("search parameter '" + name + "': " + why);
    out.warnings.push_back("search parameter '" + name + "' was ignored: " + why);
    return Status::Ok();
  };
  for (const auto& [raw_name, value] : params) {
    std::string name = raw_name;
    std::string modifier;
    if (size_t colon = name.find(':'); colon != std::string::npos) {
      modifier = name.substr(colon + 1);
      name.resize(colon);
    }
    // Result parameters.
    if (name == "_count") {
      int n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size() || n < 0) {
        return Status::Invalid("_count must be a whole number");
      }
      out.query.count = std::min(n, max_count);
      continue;
    }
    if (name == "_format" || name == "_pretty") continue;
    if (name == "_cursor" && value.starts_with("[")) {
      // A sorted page's cursor: [sort values..., rid] (see SearchCursor()).
      boost::json::error_code ec;
      auto cursor = boost::json::parse(value, ec);
      if (ec || !cursor.is_array() || cursor.as_array().empty() ||
          !cursor.as_array().back().is_int64()) {
        return Status::Invalid("_cursor is not a valid page token");
      }
      auto& arr = cursor.as_array();
      out.query.after_sort.clear();
      for (size_t i = 0; i + 1 < arr.size(); ++i) {
        const auto& v = arr[i];
        if (v.is_null()) {
          out.query.after_sort.emplace_back(std::monostate());
        } else if (v.is_int64()) {
          out.query.after_sort.emplace_back(v.get_int64());
        } else if (v.is_double()) {
          out.query.after_sort.emplace_back(v.get_double());
        } else if (v.is_string()) {
          out.query.after_sort.emplace_back(std::string(v.get_string()));
        } else {
          return Status::Invalid("_cursor is not a valid page token");
        }
      }
      out.query.after_rid = arr.back().get_int64();
      continue;
    }
    if (name == "_sort") {
      for (const auto& key : SplitOr(value)) {
        store::SortKey k;
        std::string code = key;
        if (code.starts_with("-")) {
          k.descending = true;
          code.erase(0, 1);
        }
        if (code != "_id" && code != "_lastUpdated") {
          const fhir::SearchParam* sp = scope.Find(code);
          if (!sp || TableFor(sp->type) == store::IndexTable::kNone ||
              sp->type == fhir::SearchParamType::kComposite ||
              sp->type == fhir::SearchParamType::kSpecial || sp->expression.empty()) {
            return Bad(raw_name, "cannot sort by '" + code + "'");
          }
          k.table = TableFor(sp->type);
        }
        k.param = code;
        out.query.sort.push_back(std::move(k));
      }
      add_canonical(raw_name, value);
      continue;
    }
    if (name == "_cursor") {
      int64_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size() || n < 0) {
        return Status::Invalid("_cursor is not a valid page token");
      }
      out.query.after_rid = n;
      continue;
    }
    if (name == "_total") {
      if (value == "accurate" || value == "estimate") {
        out.total_requested = true;
      } else if (value != "none") {
        return Status::Invalid("_total must be none, estimate or accurate");
      }
      add_canonical(raw_name, value);
      continue;
    }
    if (name == "_summary") {
      if (value == "count") {
        out.summary_count = true;
      } else {
        CRS_ASSIGN_OR_RETURN(Subsetting one, ParseSubsetting({{raw_name, value}}));
        out.subset.summary = one.summary;
      }
      add_canonical(raw_name, value);
      continue;
    }
    if (name == "_elements") {
      CRS_ASSIGN_OR_RETURN(Subsetting one, ParseSubsetting({{raw_name, value}}));
      for (auto& e : one.elements) out.subset.elements.push_back(std::move(e));
      add_canonical(raw_name, value);
      continue;
    }
    if (name == "_explain") {
      out.query.explain = value == "true";
      continue;
    }
    if (name == "_include" || name == "_revinclude") {
      if (!modifier.empty() && modifier != "iterate" && modifier != "recurse") {
        return Bad(raw_name, "takes only the :iterate modifier");
      }
      for (const auto& v : SplitOr(value)) {
        // Type:param[:targetType], or "*" for every reference of the searched type.
        store::Include inc;
        inc.reverse = name == "_revinclude";
        inc.iterate = !modifier.empty();
        std::vector<std::string> parts;
        size_t start = 0;
        while (true) {
          size_t c = v.find(':', start);
          parts.push_back(v.substr(start, c == std::string::npos ? c : c - start));
          if (c == std::string::npos) break;
          start = c + 1;
        }
        if (parts.size() == 1 && parts[0] == "*") {
          if (scope.system()) return Bad(raw_name, "_include=* needs a resource type");
          parts = {std::string(type), "*"};
        }
        if (parts.size() < 2 || parts.size() > 3) {
          return Bad(raw_name, "expects Type:parameter or Type:parameter:TargetType");
        }
        inc.source_type = parts[0];
        inc.param = parts[1];
        if (parts.size() == 3) inc.target_type = parts[2];
        if (!registry.IsResourceType(inc.source_type)) {
          return Bad(raw_name, "unknown resource type " + inc.source_type);
        }
        if (inc.param != "*") {
          const fhir::SearchParam* rp = registry.Find(inc.source_type, inc.param);
          if (!rp || rp->type != fhir::SearchParamType::kReference) {
            return Bad(raw_name, inc.param + " is not a reference parameter of " + inc.source_type);
          }
        }
        if (!inc.target_type.empty() && !registry.IsResourceType(inc.target_type)) {
          return Bad(raw_name, "unknown resource type " + inc.target_type);
        }
        if (!inc.reverse && !inc.iterate && !scope.Spans(inc.source_type)) {
          CRS_RETURN_IF_ERROR(
              ignore(raw_name, "_include must start from " + scope.Name() + " (or use :iterate)"));
          continue;
        }
        out.query.includes.push_back(std::move(inc));
      }
      add_canonical(raw_name, value);
      continue;
    }
    if (name == "_contained" || name == "_containedType") {
      CRS_RETURN_IF_ERROR(ignore(raw_name, "not supported yet"));
      continue;
    }
    std::string why;
    CRS_ASSIGN_OR_RETURN(std::optional<Predicate> pred,
                         BuildPredicate(scope, raw_name, value, 0, &why));
    if (!pred) {
      CRS_RETURN_IF_ERROR(ignore(raw_name, why));
      continue;
    }
    out.query.all_of.push_back(std::move(*pred));
    add_canonical(raw_name, value);
  }
  if (!out.query.after_sort.empty() && out.query.after_sort.size() != out.query.sort.size()) {
    return Status::Invalid("_cursor does not belong to this _sort");
  }
  return out;
}

}  // namespace

Result<ParsedSearch> ParseSearch(std::string_view type,
                                 const std::vector<std::pair<std::string, std::string>>& params,
                                 bool strict, int default_count, int max_count, bool fulltext) {
  return ParseIn(Scope{type, nullptr, fulltext}, params, strict, default_count, max_count);
}

Result<ParsedSearch> ParseSystemSearch(
    const std::vector<std::string>& types,
    const std::vector<std::pair<std::string, std::string>>& params, bool strict, int default_count,
    int max_count, bool fulltext) {
  return ParseIn(Scope{"", &types, fulltext}, params, strict, default_count, max_count);
}

std::string SearchCursor(const std::vector<store::SortValue>& keys, int64_t rid) {
  boost::json::array arr;
  for (const auto& k : keys) {
    if (auto* i = std::get_if<int64_t>(&k)) {
      arr.emplace_back(*i);
    } else if (auto* d = std::get_if<double>(&k)) {
      arr.emplace_back(*d);
    } else if (auto* t = std::get_if<std::string>(&k)) {
      arr.emplace_back(*t);
    } else {
      arr.emplace_back(nullptr);
    }
  }
  arr.emplace_back(rid);
  return boost::json::serialize(arr);
}

}  // namespace crs::api
