// Navigation over FHIR JSON: members, choice elements, primitive extension
// siblings, children(), and the type questions is/as/ofType ask.
#include <boost/json.hpp>

#include "fhir/fhirpath/evaluator.h"

namespace crs::fhirpath {
namespace json = boost::json;

namespace {

constexpr std::string_view kPrimitives[] = {
    "base64Binary", "boolean",  "canonical", "code",     "date",        "dateTime",
    "decimal",      "id",       "instant",   "integer",  "integer64",   "markdown",
    "oid",          "positiveInt", "string", "time",     "unsignedInt", "uri",
    "url",          "uuid",     "xhtml"};

constexpr std::string_view kSystemTypes[] = {"Boolean", "String",   "Integer", "Decimal",
                                             "Date",    "DateTime", "Time",    "Quantity"};

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }

// FHIR primitive type codes start in lower case; System-typed elements ("System.String")
// are primitives too.
bool IsPrimitiveType(std::string_view t) {
  return !t.empty() && ((t[0] >= 'a' && t[0] <= 'z') || t.substr(0, 7) == "System.");
}

bool IsSystemTypeName(std::string_view name) {
  for (std::string_view s : kSystemTypes) {
    if (s == name) return true;
  }
  return false;
}

// The type a choice suffix names when no provider is at hand: "Quantity" stays,
// "DateTime" becomes "dateTime".
std::string_view ChoiceSuffixType(std::string_view suffix) {
  for (std::string_view p : kPrimitives) {
    if (p.size() == suffix.size() && (p[0] == suffix[0] + ('a' - 'A')) &&
        p.substr(1) == suffix.substr(1)) {
      return p;
    }
  }
  return suffix;
}

// Type hierarchy used without a provider: primitives' specialisations, quantities,
// and the resource roots.
std::string_view UntypedBase(std::string_view t) {
  if (t == "code" || t == "id" || t == "markdown") return "string";
  if (t == "uuid" || t == "url" || t == "canonical" || t == "oid") return "uri";
  if (t == "positiveInt" || t == "unsignedInt") return "integer";
  if (t == "Age" || t == "Count" || t == "Distance" || t == "Duration" ||
      t == "SimpleQuantity" || t == "MoneyQuantity") {
    return "Quantity";
  }
  if (t == "DomainResource") return "Resource";
  return {};
}

bool IsNonDomainResource(std::string_view t) {
  return t == "Bundle" || t == "Binary" || t == "Parameters";
}

// The "_name" sibling carrying a primitive's id and extensions.
const json::value* Underscore(const json::object& obj, std::string_view name) {
  char buf[128];
  if (name.size() + 1 > sizeof(buf)) return nullptr;
  buf[0] = '_';
  name.copy(buf + 1, name.size());
  return obj.if_contains(std::string_view(buf, name.size() + 1));
}

bool MayBePrimitive(const json::value* v) {
  if (v == nullptr || v->is_null()) return true;
  if (v->is_array()) {
    const json::array& a = v->get_array();
    return a.empty() || !a[0].is_object();
  }
  return !v->is_object();
}

// A resource held inside another (contained, Bundle.entry.resource) is typed by its
// resourceType; the model only says "Resource" there.
bool MayHoldResource(std::string_view type) {
  return type.empty() || type == "Resource" || type == "DomainResource";
}

void PushNode(const json::value* v, const json::value* ext, std::string_view type,
              std::string_view key, Collection* out) {
  if (v != nullptr && v->is_object() && MayHoldResource(type)) {
    const json::value* rt = v->get_object().if_contains("resourceType");
    if (rt != nullptr && rt->is_string()) {
      std::string_view t(rt->get_string());
      out->push_back(Item::Node(v, nullptr, t, t));
      return;
    }
  }
  out->push_back(Item::Node(v, ext != nullptr && ext->is_object() ? ext : nullptr, type, key));
}

// Adds the value(s) of one JSON property: array elements one by one, null array
// elements only when an extension sibling gives them content.
void Append(const json::value* v, const json::value* ext, std::string_view type,
            std::string_view key, Collection* out) {
  const json::array* ext_array = ext != nullptr && ext->is_array() ? &ext->get_array() : nullptr;
  if (v != nullptr && v->is_array()) {
    const json::array& a = v->get_array();
    for (size_t i = 0; i < a.size(); ++i) {
      const json::value* x = nullptr;
      if (ext_array != nullptr && i < ext_array->size() && !(*ext_array)[i].is_null()) {
        x = &(*ext_array)[i];
      }
      if (a[i].is_null()) {
        if (x != nullptr) PushNode(nullptr, x, type, key, out);
        continue;
      }
      PushNode(&a[i], x, type, key, out);
    }
    return;
  }
  if (v != nullptr && !v->is_null()) {
    PushNode(v, ext, type, key, out);
    return;
  }
  if (ext_array != nullptr) {
    for (const json::value& x : *ext_array) {
      if (!x.is_null()) PushNode(nullptr, &x, type, key, out);
    }
  } else if (ext != nullptr && ext->is_object()) {
    PushNode(nullptr, ext, type, key, out);
  }
}

}  // namespace

std::string_view SystemTypeName(ItemKind kind) {
  switch (kind) {
    case ItemKind::kBoolean: return "Boolean";
    case ItemKind::kInteger: return "Integer";
    case ItemKind::kDecimal: return "Decimal";
    case ItemKind::kString: return "String";
    case ItemKind::kDate: return "Date";
    case ItemKind::kDateTime: return "DateTime";
    case ItemKind::kTime: return "Time";
    case ItemKind::kQuantity: return "Quantity";
    default: return {};
  }
}

Item Evaluator::Resource(const json::value* v) const {
  std::string_view type;
  if (v != nullptr && v->is_object()) {
    const json::value* rt = v->get_object().if_contains("resourceType");
    if (rt != nullptr && rt->is_string()) type = rt->get_string();
  }
  return Item::Node(v, nullptr, type, type);
}

std::string_view Evaluator::NodeType(const Item& item) const {
  if (!item.fhir_type().empty()) {
    std::string_view t = item.fhir_type();
    if (t.substr(0, 7) == "System.") return "string";
    return t;
  }
  const json::value* n = item.node();
  if (n == nullptr) return {};
  switch (n->kind()) {
    case json::kind::object: {
      const json::value* rt = n->get_object().if_contains("resourceType");
      if (rt != nullptr && rt->is_string()) return rt->get_string();
      return {};
    }
    case json::kind::string: return "string";
    case json::kind::bool_: return "boolean";
    case json::kind::int64:
    case json::kind::uint64: return "integer";
    case json::kind::double_: return "decimal";
    default: return {};
  }
}

bool Evaluator::IsSubtype(std::string_view type, std::string_view base) const {
  if (type == base) return true;
  if (type.empty()) return false;
  const TypeProvider* tp = types();
  if (tp != nullptr && tp->IsType(type)) {
    std::string_view t = type;
    for (int i = 0; i < 32; ++i) {
      t = tp->BaseType(t);
      if (t.empty()) return false;
      if (t == base) return true;
    }
    return false;
  }
  // Untyped: a resource is recognised by its resourceType alone.
  if (base == "Resource" && IsUpper(type[0]) && tp == nullptr && UntypedBase(type).empty()) {
    return true;
  }
  if (base == "DomainResource" && IsUpper(type[0]) && tp == nullptr &&
      UntypedBase(type).empty() && !IsNonDomainResource(type)) {
    return true;
  }
  std::string_view t = type;
  for (int i = 0; i < 4; ++i) {
    t = UntypedBase(t);
    if (t.empty()) return false;
    if (t == base) return true;
  }
  return false;
}

Status Evaluator::CheckTypeName(const TypeSpec& spec) const {
  const TypeProvider* tp = types();
  if (tp == nullptr || spec.ns == "System") return Status::Ok();
  if (tp->IsType(spec.name)) return Status::Ok();
  if (spec.ns.empty() && IsSystemTypeName(spec.name)) return Status::Ok();
  return EvalError("unknown type " + (spec.ns.empty() ? "" : spec.ns + ".") + spec.name);
}

Result<bool> Evaluator::MatchesType(const Item& item, const TypeSpec& spec, bool exact) const {
  if (!item.is_node()) {
    if (spec.ns == "FHIR") return false;
    return SystemTypeName(item.kind()) == spec.name;
  }
  if (spec.ns == "System") return false;
  std::string_view t = NodeType(item);
  if (t.empty()) return false;
  // The R4 suite holds FHIR primitives to their exact type for as()/ofType():
  // a code is a string for `is`, but `as(string)` does not re-type it.
  if (exact && IsPrimitiveType(t)) return t == spec.name;
  return IsSubtype(t, spec.name);
}

Status Evaluator::Member(Span input, std::string_view name, bool implicit, Collection* out) {
  if (name.empty()) return Status::Ok();  // a `` identifier names nothing
  size_t before = out->size();
  for (const Item& item : input) {
    switch (item.kind()) {
      case ItemKind::kTypeInfo:
        if (name == "name") out->push_back(Item::StringRef(item.type_name()));
        if (name == "namespace") {
          out->push_back(Item::StringRef(item.type_is_system() ? "System" : "FHIR"));
        }
        continue;
      case ItemKind::kQuantity:
        if (name == "value") out->push_back(Item::FromDecimal(item.decimal()));
        if (name == "unit" || name == "code") out->push_back(Item::StringRef(item.unit()));
        continue;
      case ItemKind::kNode: break;
      default: continue;
    }
    if (implicit && IsUpper(name[0])) {
      // A path may start with a type name: Patient.name on a Patient.
      std::string_view t = NodeType(item);
      if (!t.empty() && IsSubtype(t, name)) {
        out->push_back(item);
        continue;
      }
    }
    CRS_RETURN_IF_ERROR(NodeMember(item, name, out));
  }
  return Charge(out->size() - before);
}

Status Evaluator::NodeMember(const Item& item, std::string_view name, Collection* out) const {
  const json::value* node = item.node();
  if (node == nullptr || !node->is_object()) {
    // A primitive: its id and extensions live in the "_name" sibling.
    const json::value* ext = item.extension_node();
    if (ext != nullptr && ext->is_object()) {
      if (const json::value* v = ext->get_object().if_contains(name)) {
        std::string_view t = name == "extension" ? "Extension" : name == "id" ? "string" : "";
        Append(v, nullptr, t, t, out);
      }
    }
    return Status::Ok();
  }
  const TypeProvider* tp = types();
  const json::object& obj = node->get_object();
  bool typed = tp != nullptr && !item.type_key().empty();
  if (ctx_.strict && typed && !tp->HasElement(item.type_key(), name)) {
    return EvalError("unknown element '" + std::string(name) + "' on " +
                     std::string(NodeType(item)));
  }
  const json::value* v = obj.if_contains(name);
  std::optional<ChildType> ct;
  if (typed && (v != nullptr || !IsUpper(name[0]))) ct = tp->Child(item.type_key(), name);
  // "valueQuantity" is how JSON spells a choice element; FHIRPath names it "value".
  if (ct && ct->choice) return Status::Ok();
  bool primitive = ct ? IsPrimitiveType(ct->type) : MayBePrimitive(v);
  const json::value* ext = primitive ? Underscore(obj, name) : nullptr;
  if (v != nullptr || ext != nullptr) {
    if (ct) {
      Append(v, ext, ct->type, ct->key, out);
    } else {
      Append(v, ext, {}, {}, out);
    }
    return Status::Ok();
  }
  if (!ct) ChoiceMembers(item, name, out);  // a known element that is absent has none
  return Status::Ok();
}

void Evaluator::ChoiceMembers(const Item& item, std::string_view name, Collection* out) const {
  // "value" finds "valueQuantity": a property that continues the name with an
  // upper-case letter, confirmed as a choice by the provider when there is one.
  const TypeProvider* tp = types();
  bool typed = tp != nullptr && !item.type_key().empty();
  const json::object& obj = item.node()->get_object();
  for (const auto& kv : obj) {
    std::string_view key = kv.key();
    if (key.size() <= name.size() || key.substr(0, name.size()) != name ||
        !IsUpper(key[name.size()])) {
      continue;
    }
    std::string_view type, nkey;
    if (typed) {
      auto c = tp->Child(item.type_key(), key);
      if (!c || !c->choice) continue;
      type = c->type;
      nkey = c->key;
    } else {
      type = ChoiceSuffixType(key.substr(name.size()));
      nkey = type;
    }
    Append(&kv.value(), IsPrimitiveType(type) ? Underscore(obj, key) : nullptr, type, nkey, out);
  }
}

Status Evaluator::Children(const Item& item, Collection* out) {
  size_t before = out->size();
  if (!item.is_node()) return Status::Ok();
  const json::value* node = item.node();
  if (node == nullptr || !node->is_object()) {
    const json::value* ext = item.extension_node();
    if (ext != nullptr && ext->is_object()) {
      for (const auto& kv : ext->get_object()) {
        std::string_view t = kv.key() == "extension" ? "Extension" : "string";
        Append(&kv.value(), nullptr, t, t, out);
      }
    }
    return Charge(out->size() - before);
  }
  const TypeProvider* tp = types();
  bool typed = tp != nullptr && !item.type_key().empty();
  const json::object& obj = node->get_object();
  for (const auto& kv : obj) {
    std::string_view key = kv.key();
    if (key == "resourceType") continue;
    std::string_view name = key;
    const json::value* v = &kv.value();
    const json::value* ext = nullptr;
    if (!key.empty() && key[0] == '_') {
      name = key.substr(1);
      if (obj.contains(name)) continue;  // visited with its value
      ext = v;
      v = nullptr;
    }
    std::optional<ChildType> ct;
    if (typed) ct = tp->Child(item.type_key(), name);
    bool primitive = ct ? IsPrimitiveType(ct->type) : MayBePrimitive(v);
    if (v != nullptr && primitive) ext = Underscore(obj, name);
    if (ct) {
      Append(v, ext, ct->type, ct->key, out);
    } else {
      Append(v, ext, {}, {}, out);
    }
  }
  return Charge(out->size() - before);
}

}  // namespace crs::fhirpath
