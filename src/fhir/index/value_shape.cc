#include "fhir/index/value_shape.h"

#include <unordered_map>

#include "fhir/index/normalize.h"
#include "fhir/model.h"

namespace crs::fhir::index::internal {
namespace {

namespace json = boost::json;
using fhirpath::Item;
using fhirpath::ItemKind;

Shape ShapeOfType(std::string_view type) {
  static const auto* kShapes = new std::unordered_map<std::string_view, Shape>{
      {"string", Shape::kString},
      {"markdown", Shape::kString},
      {"code", Shape::kString},
      {"id", Shape::kString},
      {"uri", Shape::kUri},
      {"url", Shape::kUri},
      {"oid", Shape::kUri},
      {"uuid", Shape::kUri},
      {"canonical", Shape::kCanonical},
      {"boolean", Shape::kBoolean},
      {"integer", Shape::kInteger},
      {"positiveInt", Shape::kInteger},
      {"unsignedInt", Shape::kInteger},
      {"integer64", Shape::kInteger},
      {"decimal", Shape::kDecimal},
      {"date", Shape::kDate},
      {"dateTime", Shape::kDate},
      {"instant", Shape::kDate},
      {"Coding", Shape::kCoding},
      {"CodeableConcept", Shape::kCodeableConcept},
      {"Identifier", Shape::kIdentifier},
      {"ContactPoint", Shape::kContactPoint},
      {"HumanName", Shape::kHumanName},
      {"Address", Shape::kAddress},
      {"Quantity", Shape::kQuantity},
      {"Age", Shape::kQuantity},
      {"Duration", Shape::kQuantity},
      {"Distance", Shape::kQuantity},
      {"Count", Shape::kQuantity},
      {"SimpleQuantity", Shape::kQuantity},
      {"MoneyQuantity", Shape::kQuantity},
      {"Money", Shape::kMoney},
      {"Range", Shape::kRange},
      {"Period", Shape::kPeriod},
      {"Timing", Shape::kTiming},
      {"Reference", Shape::kReference},
  };
  auto it = kShapes->find(type);
  if (it != kShapes->end()) return it->second;
  if (type.starts_with("System.")) return Shape::kString;
  if (Model::R4().IsResourceType(type)) return Shape::kResource;
  return Shape::kOther;
}

// Untyped JSON (no model type known): guessed from its form.
Shape ShapeOfJson(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return Shape::kString;
    case json::kind::bool_:
      return Shape::kBoolean;
    case json::kind::int64:
    case json::kind::uint64:
      return Shape::kInteger;
    case json::kind::double_:
      return Shape::kDecimal;
    case json::kind::object:
      break;
    default:
      return Shape::kOther;
  }
  const json::object& o = v.get_object();
  if (o.contains("resourceType")) return Shape::kResource;
  if (o.contains("reference")) return Shape::kReference;
  if (o.contains("coding")) return Shape::kCodeableConcept;
  if (o.contains("family") || o.contains("given")) return Shape::kHumanName;
  if (o.contains("start") || o.contains("end")) return Shape::kPeriod;
  if (const json::value* value = o.if_contains("value"); value != nullptr && value->is_number()) {
    return o.contains("currency") ? Shape::kMoney : Shape::kQuantity;
  }
  if (o.contains("code")) return Shape::kCoding;
  return Shape::kOther;
}

std::optional<NumberBounds> SystemNumberBounds(const Item& item) {
  if (item.kind() == ItemKind::kInteger) return BoundsAt(static_cast<double>(item.integer()), 0);
  if (item.kind() == ItemKind::kDecimal || item.kind() == ItemKind::kQuantity) {
    const fhirpath::Decimal& d = item.decimal();
    return BoundsAt(static_cast<double>(d.ToLongDouble()), -d.scale());
  }
  return std::nullopt;
}

}  // namespace

std::optional<Value> ValueOf(const Item& item) {
  Value v;
  v.item = &item;
  if (!item.is_node()) {
    switch (item.kind()) {
      case ItemKind::kString:
        v.shape = Shape::kString;
        v.text = item.string();
        break;
      case ItemKind::kBoolean:
        v.shape = Shape::kBoolean;
        break;
      case ItemKind::kInteger:
        v.shape = Shape::kInteger;
        break;
      case ItemKind::kDecimal:
        v.shape = Shape::kDecimal;
        break;
      case ItemKind::kDate:
      case ItemKind::kDateTime:
        v.shape = Shape::kDate;
        break;
      case ItemKind::kQuantity:
        v.shape = Shape::kQuantity;
        break;
      default:
        return std::nullopt;
    }
    return v;
  }
  // A primitive with only extensions (`"_given": [...]`) has no value to index.
  if (item.node() == nullptr || item.node()->is_null()) return std::nullopt;
  v.node = item.node();
  v.shape = item.fhir_type().empty() ? ShapeOfJson(*v.node) : ShapeOfType(item.fhir_type());
  if (v.node->is_string()) {
    v.text = v.node->get_string();
  } else if (v.shape == Shape::kString || v.shape == Shape::kUri || v.shape == Shape::kCanonical ||
             v.shape == Shape::kDate) {
    return std::nullopt;  // malformed: a string type without a JSON string
  }
  return v;
}

std::string_view Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

const json::object* Obj(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

std::string Exact(std::string_view s) { return std::string(CutUtf8(s, kMaxExactBytes)); }

std::optional<NumberBounds> JsonNumberBounds(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return BoundsAt(static_cast<double>(v->get_int64()), 0);
  if (v->is_uint64()) return BoundsAt(static_cast<double>(v->get_uint64()), 0);
  if (v->is_double()) return BoundsOfDouble(v->get_double());
  return std::nullopt;
}

std::optional<NumberBounds> NumberOf(const Value& v) {
  return v.node != nullptr ? JsonNumberBounds(v.node) : SystemNumberBounds(*v.item);
}

}  // namespace crs::fhir::index::internal
