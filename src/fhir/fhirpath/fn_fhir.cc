// FHIR-specific functions: extension(), hasValue(), getValue(), resolve(),
// memberOf(), conformsTo(), htmlChecks().
#include <boost/json.hpp>
#include <mutex>
#include <set>
#include <string>

#include "fhir/fhirpath/evaluator.h"

namespace crs::fhirpath {
namespace json = boost::json;

namespace {

constexpr std::string_view kCoreProfile = "http://hl7.org/fhir/StructureDefinition/";

bool LooksLikeTypeName(std::string_view s) {
  if (s.empty() || s[0] < 'A' || s[0] > 'Z') return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

std::string_view StringField(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v != nullptr && v->is_string()) return v->get_string();
  return {};
}

// "Patient/123", ".../fhir/Patient/123/_history/2" -> ("Patient", "123").
bool SplitReference(std::string_view ref, std::string_view* type, std::string_view* id) {
  size_t cut = ref.find_first_of("?#");
  if (cut != std::string_view::npos) ref = ref.substr(0, cut);
  size_t history = ref.find("/_history/");
  if (history != std::string_view::npos) ref = ref.substr(0, history);
  size_t slash = ref.rfind('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == ref.size()) return false;
  *id = ref.substr(slash + 1);
  std::string_view head = ref.substr(0, slash);
  size_t prev = head.rfind('/');
  *type = prev == std::string_view::npos ? head : head.substr(prev + 1);
  return LooksLikeTypeName(*type);
}

// A process-lifetime copy of a type name: a reference may come from a computed
// string that dies before the stub built from it. Bounded, since without a
// TypeProvider any capitalised word passes for a type.
std::string_view InternTypeName(std::string_view name) {
  static std::mutex* mu = new std::mutex();
  static auto* names = new std::set<std::string, std::less<>>();  // GUARDED_BY(*mu)
  std::lock_guard<std::mutex> lock(*mu);
  auto it = names->find(name);
  if (it != names->end()) return *it;
  if (names->size() >= 4096 || name.size() > 64) return {};
  return *names->emplace(name).first;
}

Result<Collection> Extension(Evaluator& ev, Span input, Args args) {
  const Collection& arg = args[0];
  CRS_ASSIGN_OR_RETURN(std::optional<std::string_view> url, SingleString(arg, "extension()"));
  if (!url) return Collection();
  Collection out;
  for (const Item& item : input) {
    if (!item.is_node()) continue;
    const json::value* holder = item.node();
    if (holder == nullptr || !holder->is_object()) holder = item.extension_node();
    if (holder == nullptr || !holder->is_object()) continue;
    const json::value* ext = holder->get_object().if_contains("extension");
    if (ext == nullptr || !ext->is_array()) continue;
    for (const json::value& e : ext->get_array()) {
      if (e.is_object() && StringField(e.get_object(), "url") == *url) {
        out.push_back(Item::Node(&e, nullptr, "Extension", "Extension"));
      }
    }
  }
  CRS_RETURN_IF_ERROR(ev.Charge(out.size()));
  return out;
}

bool HasPrimitiveValue(const Item& item) {
  if (!item.is_node()) return item.kind() != ItemKind::kTypeInfo;
  const json::value* v = item.node();
  return v != nullptr && !v->is_null() && !v->is_object() && !v->is_array();
}

Result<Collection> Resolve(Evaluator& ev, Span input) {
  Collection out;
  for (const Item& item : input) {
    std::string_view ref;
    if (item.is_node() && item.node() != nullptr && item.node()->is_object()) {
      ref = StringField(item.node()->get_object(), "reference");
    } else if (item.is_node() && item.node() != nullptr && item.node()->is_string()) {
      ref = item.node()->get_string();
    } else if (item.kind() == ItemKind::kString) {
      ref = item.string();
    }
    if (ref.empty()) continue;
    if (auto r = ev.ResolveReference(ref)) out.push_back(std::move(*r));
  }
  return out;
}

Result<Collection> ConformsTo(Evaluator& ev, Span input, Args args) {
  const Collection& arg = args[0];
  CRS_ASSIGN_OR_RETURN(std::optional<std::string_view> url, SingleString(arg, "conformsTo()"));
  CRS_ASSIGN_OR_RETURN(std::optional<Item> item, Single(input, "conformsTo()"));
  if (!url || !item) return Collection();
  if (ev.ctx().conforms_to) {
    if (auto r = ev.ctx().conforms_to(*item, *url)) return BooleanResult(*r);
  }
  if (url->substr(0, kCoreProfile.size()) == kCoreProfile) {
    std::string_view type = url->substr(kCoreProfile.size());
    bool known = ev.types() != nullptr ? ev.types()->IsType(type) : LooksLikeTypeName(type);
    if (known) {
      std::string_view t = ev.NodeType(*item);
      return BooleanResult(!t.empty() && ev.IsSubtype(t, type));
    }
  }
  return EvalError("conformsTo(): unknown profile " + std::string(*url));
}

}  // namespace

std::optional<Item> Evaluator::ResolveReference(std::string_view ref) {
  if (ref.empty()) return std::nullopt;
  const json::value* resource = ctx_.resource;
  if (resource == nullptr && !context_.empty() && context_[0].is_node()) {
    resource = context_[0].node();
  }
  if (ref[0] == '#') {
    if (resource == nullptr || !resource->is_object()) return std::nullopt;
    if (ref.size() == 1) return Resource(resource);
    const json::value* contained = resource->get_object().if_contains("contained");
    if (contained == nullptr || !contained->is_array()) return std::nullopt;
    for (const json::value& c : contained->get_array()) {
      if (c.is_object() && StringField(c.get_object(), "id") == ref.substr(1)) return Resource(&c);
    }
    return std::nullopt;
  }
  std::string_view type, id;
  bool typed = SplitReference(ref, &type, &id);
  const json::value* root = ctx_.root_resource != nullptr ? ctx_.root_resource : resource;
  if (root != nullptr && root->is_object() &&
      StringField(root->get_object(), "resourceType") == "Bundle") {
    const json::value* entries = root->get_object().if_contains("entry");
    if (entries != nullptr && entries->is_array()) {
      for (const json::value& e : entries->get_array()) {
        if (!e.is_object()) continue;
        const json::value* r = e.get_object().if_contains("resource");
        if (r == nullptr || !r->is_object()) continue;
        std::string_view full = StringField(e.get_object(), "fullUrl");
        if (full == ref) return Resource(r);
        if (typed && StringField(r->get_object(), "resourceType") == type &&
            StringField(r->get_object(), "id") == id) {
          return Resource(r);
        }
      }
    }
  }
  if (ctx_.resolve) {
    if (const json::value* r = ctx_.resolve(ref)) return Resource(r);
  }
  if (!typed) return std::nullopt;
  if (types() != nullptr && !types()->IsResourceType(type)) return std::nullopt;
  // A stub: typed by the reference, without content.
  std::string_view stable = InternTypeName(type);
  if (stable.empty()) return std::nullopt;
  return Item::Node(nullptr, nullptr, stable, stable);
}

Result<Collection> CallFhir(Evaluator& ev, const Node& n, Span input, Args args,
                              const Scope& scope) {
  switch (n.fn) {
    case Fn::kExtension: return Extension(ev, input, args);
    case Fn::kHasValue:
      return BooleanResult(input.size() == 1 && HasPrimitiveValue(input[0]));
    case Fn::kGetValue: {
      if (input.size() != 1 || !HasPrimitiveValue(input[0])) return Collection();
      std::optional<Item> v = ToSystemValue(input[0]);
      if (!v) return Collection();
      return Collection{std::move(*v)};
    }
    case Fn::kResolve: return Resolve(ev, input);
    case Fn::kMemberOf: {
      const Collection& arg = args[0];
      CRS_ASSIGN_OR_RETURN(std::optional<std::string_view> vs, SingleString(arg, "memberOf()"));
      CRS_ASSIGN_OR_RETURN(std::optional<Item> item, Single(input, "memberOf()"));
      if (!vs || !item || !ev.ctx().member_of) return Collection();
      std::optional<bool> r = ev.ctx().member_of(*item, *vs);
      if (!r) return Collection();
      return BooleanResult(*r);
    }
    case Fn::kConformsTo: return ConformsTo(ev, input, args);
    case Fn::kHtmlChecks: return BooleanResult(true);
    default: break;
  }
  return EvalError("function " + n.name + " is not implemented");
}

}  // namespace crs::fhirpath
