#include "fhir/index/value_rows.h"

#include <boost/json.hpp>
#include <string>

#include "fhir/index/extract.h"
#include "fhir/index/normalize.h"
#include "fhir/index/phonetic.h"
#include "fhir/index/reference.h"
#include "fhir/index/value_shape.h"

namespace crs::fhir::index::internal {
namespace {

namespace json = boost::json;
using fhirpath::Item;
using fhirpath::ItemKind;

// ---- string ----

void AddString(std::string_view param, std::string_view s, IndexEntries* out) {
  if (s.empty()) return;
  out->strings.push_back(StringRow{param, NormalizeForIndex(s), Exact(s)});
}

// `phonetic` (xpathUsage phonetic): one row per phonetic key of each family
// and given name (or of the string), key in both columns, instead of the text.
bool AppendPhonetic(std::string_view param, const Value& v, IndexEntries* out) {
  auto add = [&](std::string_view s) {
    for (auto& key : PhoneticKeys(s)) out->strings.push_back(StringRow{param, key, key});
  };
  switch (v.shape) {
    case Shape::kString:
      add(v.text);
      return true;
    case Shape::kHumanName:
      if (const json::object* o = v.object()) {
        ForEachString(*o, "family", add);
        ForEachString(*o, "given", add);
      }
      return true;
    default:
      return false;
  }
}

bool AppendString(std::string_view param, const Value& v, IndexEntries* out) {
  if (param == "phonetic") return AppendPhonetic(param, v, out);
  auto add = [&](std::string_view s) { AddString(param, s, out); };
  switch (v.shape) {
    case Shape::kString:
    case Shape::kUri:
    case Shape::kCanonical:
      add(v.text);
      return true;
    case Shape::kHumanName:
      if (const json::object* o = v.object()) {
        for (std::string_view key : {"family", "given", "prefix", "suffix", "text"}) {
          ForEachString(*o, key, add);
        }
      }
      return true;
    case Shape::kAddress:
      if (const json::object* o = v.object()) {
        for (std::string_view key :
             {"line", "city", "district", "state", "postalCode", "country", "text"}) {
          ForEachString(*o, key, add);
        }
      }
      return true;
    default:
      return false;
  }
}

// ---- token ----

void AddToken(std::string_view param, std::string_view system, std::string_view code,
              std::string_view text, IndexEntries* out, std::string_view type_system = {},
              std::string_view type_code = {}) {
  if (system.empty() && code.empty() && text.empty()) return;
  out->tokens.push_back(TokenRow{param, Exact(system), Exact(code),
                                 text.empty() ? std::string() : NormalizeForIndex(text),
                                 Exact(type_system), Exact(type_code)});
}

void AddCoding(std::string_view param, const json::object& coding, IndexEntries* out) {
  AddToken(param, Str(coding, "system"), Str(coding, "code"), Str(coding, "display"), out);
}

void AddCodeableConcept(std::string_view param, const json::object& cc, IndexEntries* out) {
  ForEachObject(cc, "coding", [&](const json::object& c) { AddCoding(param, c, out); });
  AddToken(param, {}, {}, Str(cc, "text"), out);
}

void AddIdentifier(std::string_view param, const json::object& id, IndexEntries* out) {
  std::string_view system = Str(id, "system");
  std::string_view value = Str(id, "value");
  if (system.empty() && value.empty()) return;
  const json::object* type = Obj(id, "type");
  std::string_view text = type != nullptr ? Str(*type, "text") : std::string_view();
  bool typed = false;
  if (type != nullptr) {
    ForEachObject(*type, "coding", [&](const json::object& c) {
      std::string_view ts = Str(c, "system"), tc = Str(c, "code");
      if (tc.empty()) return;
      AddToken(param, system, value, text, out, ts, tc);
      typed = true;
    });
  }
  if (!typed) AddToken(param, system, value, text, out);
}

bool AppendToken(std::string_view param, const Value& v, IndexEntries* out) {
  const json::object* o = v.object();
  switch (v.shape) {
    case Shape::kString:
    case Shape::kUri:
    case Shape::kCanonical:
      AddToken(param, {}, v.text, {}, out);
      return true;
    case Shape::kBoolean: {
      if (v.node != nullptr && !v.node->is_bool()) return false;
      bool b = v.node != nullptr ? v.node->get_bool() : v.item->boolean();
      AddToken(param, {}, b ? "true" : "false", {}, out);
      return true;
    }
    case Shape::kInteger: {
      std::optional<NumberBounds> n = NumberOf(v);
      if (!n) return false;
      AddToken(param, {}, std::to_string(static_cast<int64_t>(n->value)), {}, out);
      return true;
    }
    case Shape::kCoding:
      if (o != nullptr) AddCoding(param, *o, out);
      return true;
    case Shape::kCodeableConcept:
      if (o != nullptr) AddCodeableConcept(param, *o, out);
      return true;
    case Shape::kIdentifier:
      if (o != nullptr) AddIdentifier(param, *o, out);
      return true;
    case Shape::kContactPoint:
      // The R4 search page indexes ContactPoint.value alone (no system).
      if (o != nullptr) AddToken(param, {}, Str(*o, "value"), {}, out);
      return true;
    default:
      return false;
  }
}

// ---- uri ----

bool AppendUri(std::string_view param, const Value& v, IndexEntries* out) {
  if (v.shape != Shape::kUri && v.shape != Shape::kCanonical && v.shape != Shape::kString) {
    return false;
  }
  if (!v.text.empty()) out->uris.push_back(UriRow{param, Exact(v.text)});
  return true;
}

// ---- reference ----

// The resourceType of the contained resource with this id, if any.
std::string_view ContainedType(const json::value* resource, std::string_view id) {
  if (resource == nullptr || !resource->is_object()) return {};
  const json::object& r = resource->get_object();
  if (id.empty()) return Str(r, "resourceType");  // "#": the container itself
  const json::value* contained = r.if_contains("contained");
  if (contained == nullptr || !contained->is_array()) return {};
  for (const json::value& c : contained->get_array()) {
    if (c.is_object() && Str(c.get_object(), "id") == id) {
      return Str(c.get_object(), "resourceType");
    }
  }
  return {};
}

void AddReferenceRow(std::string_view param, const ParsedReference& p, IndexEntries* out) {
  out->references.push_back(ReferenceRow{param, p.kind, std::string(p.target_type),
                                         std::string(p.target_id), Exact(p.version), Exact(p.url)});
}

bool AppendReference(std::string_view param, const Value& v, const RowContext& ctx,
                     IndexEntries* out) {
  const json::object* o = v.object();
  switch (v.shape) {
    case Shape::kReference: {
      if (o == nullptr) return true;
      std::string_view ref = Str(*o, "reference");
      if (!ref.empty()) {
        ParsedReference p = ParseReference(ref);
        if (p.kind == ReferenceKind::kContained)
          p.target_type = ContainedType(ctx.resource, p.target_id);
        AddReferenceRow(param, p, out);
      }
      // Reference.identifier answers the :identifier modifier, as a token row.
      if (const json::object* id = Obj(*o, "identifier")) AddIdentifier(param, *id, out);
      return true;
    }
    case Shape::kCanonical:
    case Shape::kUri:
      if (!v.text.empty()) AddReferenceRow(param, ParseCanonical(v.text), out);
      return true;
    default:
      return false;
  }
}

std::string_view SystemKindName(ItemKind kind) {
  switch (kind) {
    case ItemKind::kBoolean:
      return "Boolean";
    case ItemKind::kInteger:
      return "Integer";
    case ItemKind::kDecimal:
      return "Decimal";
    case ItemKind::kString:
      return "String";
    case ItemKind::kDate:
      return "Date";
    case ItemKind::kDateTime:
      return "DateTime";
    case ItemKind::kTime:
      return "Time";
    case ItemKind::kQuantity:
      return "Quantity";
    default:
      return "Other";
  }
}

void CountUnindexed(SearchParamType type, std::string_view param, const Item& item,
                    const RowContext& ctx) {
  if (ctx.stats == nullptr) return;
  std::string key(SearchParamTypeName(type));
  key += ':';
  if (item.is_node()) {
    key += item.fhir_type().empty() ? std::string_view("(untyped)") : item.fhir_type();
  } else {
    key += "System.";
    key += SystemKindName(item.kind());
  }
  key += " (";
  key += ctx.resource_type;
  key += '.';
  key += param;
  key += ')';
  ++ctx.stats->unindexed[key];
}

}  // namespace

void AppendRows(SearchParamType type, std::string_view param, const Item& item,
                const RowContext& ctx, IndexEntries* out) {
  std::optional<Value> v = ValueOf(item);
  if (!v) return;
  bool handled = false;
  switch (type) {
    case SearchParamType::kString:
      handled = AppendString(param, *v, out);
      break;
    case SearchParamType::kToken:
      handled = AppendToken(param, *v, out);
      break;
    case SearchParamType::kDate:
      handled = AppendDate(param, *v, out);
      break;
    case SearchParamType::kNumber:
      handled = AppendNumber(param, *v, out);
      break;
    case SearchParamType::kQuantity:
      handled = AppendQuantity(param, *v, out);
      break;
    case SearchParamType::kReference:
      handled = AppendReference(param, *v, ctx, out);
      break;
    case SearchParamType::kUri:
      handled = AppendUri(param, *v, out);
      break;
    case SearchParamType::kComposite:
    case SearchParamType::kSpecial:
      break;
  }
  if (!handled) CountUnindexed(type, param, item, ctx);
}

}  // namespace crs::fhir::index::internal
