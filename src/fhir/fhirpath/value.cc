#include "fhir/fhirpath/value.h"

#include <boost/json.hpp>
#include <cmath>

#include "fhir/fhirpath/ucum.h"

namespace crs::fhirpath {
namespace json = boost::json;

namespace {

bool IsQuantityType(std::string_view t) {
  return t == "Quantity" || t == "Age" || t == "Duration" || t == "Distance" || t == "Count" ||
         t == "SimpleQuantity" || t == "MoneyQuantity";
}

std::optional<Decimal> JsonNumber(const json::value& v) {
  if (v.is_int64()) return Decimal::FromInt(v.get_int64());
  if (v.is_uint64()) {
    uint64_t u = v.get_uint64();
    return Decimal::Parse(std::to_string(u));
  }
  if (v.is_double()) return Decimal::FromDouble(v.get_double());
  if (v.is_string()) return Decimal::Parse(std::string_view(v.get_string()));
  return std::nullopt;
}

std::optional<Item> QuantityFromObject(const json::object& o) {
  const json::value* value = o.if_contains("value");
  if (value == nullptr) return std::nullopt;
  auto d = JsonNumber(*value);
  if (!d) return std::nullopt;
  const json::value* code = o.if_contains("code");
  const json::value* system = o.if_contains("system");
  const json::value* unit = o.if_contains("unit");
  bool ucum = system == nullptr ||
              (system->is_string() && system->get_string() == "http://unitsofmeasure.org");
  if (code != nullptr && code->is_string() && ucum) {
    return Item::QuantityRef(*d, std::string_view(code->get_string()));
  }
  if (unit != nullptr && unit->is_string()) {
    std::string_view u(unit->get_string());
    if (ucum::IsCalendarKeyword(u)) return Item::QuantityRef(*d, ucum::SingularCalendarKeyword(u));
    return Item::QuantityRef(*d, u);
  }
  if (code != nullptr && code->is_string()) {
    return Item::QuantityRef(*d, std::string_view(code->get_string()));
  }
  return Item::QuantityRef(*d, "1");
}

std::optional<Item> FromSystemType(const json::value& n, std::string_view sys) {
  if (sys == "Boolean") {
    if (n.is_bool()) return Item::Boolean(n.get_bool());
    return std::nullopt;
  }
  if (sys == "String") {
    if (n.is_string()) return Item::StringRef(std::string_view(n.get_string()));
    return std::nullopt;
  }
  if (sys == "Integer") {
    if (n.is_int64()) return Item::Integer(n.get_int64());
    if (n.is_uint64() && n.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
      return Item::Integer(static_cast<int64_t>(n.get_uint64()));
    }
    auto d = JsonNumber(n);
    if (d) {
      if (auto i = d->ToInt64()) return Item::Integer(*i);
    }
    return std::nullopt;
  }
  if (sys == "Decimal") {
    auto d = JsonNumber(n);
    if (d) return Item::FromDecimal(*d);
    return std::nullopt;
  }
  if (!n.is_string()) return std::nullopt;
  std::string_view s(n.get_string());
  std::optional<DateTimeValue> dt;
  if (sys == "Date") {
    dt = DateTimeValue::ParseDate(s);
    if (!dt) dt = DateTimeValue::ParseDateTime(s);
  } else if (sys == "DateTime") {
    dt = DateTimeValue::ParseDateTime(s);
  } else if (sys == "Time") {
    dt = DateTimeValue::ParseTime(s);
  }
  if (!dt) return std::nullopt;
  return Item::FromDateTime(*dt);
}

}  // namespace

Item::Item(const Item& other)
    : kind_(other.kind_),
      node_(other.node_),
      ext_(other.ext_),
      type_(other.type_),
      key_(other.key_),
      u_(other.u_) {
  CopyText(other);
}

Item::Item(Item&& other) noexcept
    : kind_(other.kind_),
      owns_text_(other.owns_text_),
      node_(other.node_),
      ext_(other.ext_),
      type_(other.type_),
      key_(other.key_),
      u_(other.u_),
      text_(other.text_) {
  if (owns_text_) {
    own_ = std::move(other.own_);
    text_ = own_;
  }
}

Item& Item::operator=(const Item& other) {
  if (this == &other) return *this;
  kind_ = other.kind_;
  node_ = other.node_;
  ext_ = other.ext_;
  type_ = other.type_;
  key_ = other.key_;
  u_ = other.u_;
  CopyText(other);
  return *this;
}

Item& Item::operator=(Item&& other) noexcept {
  if (this == &other) return *this;
  kind_ = other.kind_;
  node_ = other.node_;
  ext_ = other.ext_;
  type_ = other.type_;
  key_ = other.key_;
  u_ = other.u_;
  owns_text_ = other.owns_text_;
  if (owns_text_) {
    own_ = std::move(other.own_);
    text_ = own_;
  } else {
    text_ = other.text_;
  }
  return *this;
}

void Item::CopyText(const Item& other) {
  owns_text_ = other.owns_text_;
  if (owns_text_) {
    own_ = other.own_;
    text_ = own_;
  } else {
    text_ = other.text_;
  }
}

Item Item::Node(const json::value* node, const json::value* ext, std::string_view type,
                std::string_view key) {
  Item it;
  it.kind_ = ItemKind::kNode;
  it.node_ = node;
  it.ext_ = ext;
  it.type_ = type;
  it.key_ = key;
  return it;
}

Item Item::Boolean(bool v) {
  Item it;
  it.kind_ = ItemKind::kBoolean;
  it.u_.b = v;
  return it;
}

Item Item::Integer(int64_t v) {
  Item it;
  it.kind_ = ItemKind::kInteger;
  it.u_.i = v;
  return it;
}

Item Item::FromDecimal(const Decimal& v) {
  Item it;
  it.kind_ = ItemKind::kDecimal;
  it.u_.d = v;
  return it;
}

Item Item::String(std::string v) {
  Item it;
  it.kind_ = ItemKind::kString;
  it.owns_text_ = true;
  it.own_ = std::move(v);
  it.text_ = it.own_;
  return it;
}

Item Item::StringRef(std::string_view v) {
  Item it;
  it.kind_ = ItemKind::kString;
  it.text_ = v;
  return it;
}

Item Item::FromDateTime(const DateTimeValue& v) {
  Item it;
  switch (v.kind) {
    case DateTimeKind::kDate: it.kind_ = ItemKind::kDate; break;
    case DateTimeKind::kDateTime: it.kind_ = ItemKind::kDateTime; break;
    case DateTimeKind::kTime: it.kind_ = ItemKind::kTime; break;
  }
  it.u_.dt = v;
  return it;
}

Item Item::Quantity(const Decimal& value, std::string unit) {
  Item it;
  it.kind_ = ItemKind::kQuantity;
  it.u_.d = value;
  it.owns_text_ = true;
  it.own_ = std::move(unit);
  it.text_ = it.own_;
  return it;
}

Item Item::QuantityRef(const Decimal& value, std::string_view unit) {
  Item it;
  it.kind_ = ItemKind::kQuantity;
  it.u_.d = value;
  it.text_ = unit;
  return it;
}

Item Item::TypeInfo(bool system_namespace, std::string_view name) {
  Item it;
  it.kind_ = ItemKind::kTypeInfo;
  it.u_.b = system_namespace;
  it.text_ = name;
  return it;
}

std::string Item::DebugString() const {
  switch (kind_) {
    case ItemKind::kNode: {
      std::string out(type_.empty() ? "?" : type_);
      if (node_ == nullptr) return out + "{}";
      std::string text = json::serialize(*node_);
      if (text.size() > 60) text = text.substr(0, 57) + "...";
      return out + " " + text;
    }
    case ItemKind::kBoolean: return u_.b ? "true" : "false";
    case ItemKind::kInteger: return std::to_string(u_.i);
    case ItemKind::kDecimal: return u_.d.ToString();
    case ItemKind::kString: return "'" + std::string(text_) + "'";
    case ItemKind::kDate:
    case ItemKind::kDateTime: return "@" + u_.dt.ToString();
    case ItemKind::kTime: return "@T" + u_.dt.ToString();
    case ItemKind::kQuantity: return ucum::FormatQuantity(u_.d, text_);
    case ItemKind::kTypeInfo:
      return std::string(u_.b ? "System." : "FHIR.") + std::string(text_);
  }
  return "?";
}

std::string_view SystemTypeOf(std::string_view t) {
  if (t.substr(0, 7) == "System.") return t.substr(7);
  if (t.empty() || !(t[0] >= 'a' && t[0] <= 'z')) return {};
  if (t == "boolean") return "Boolean";
  if (t == "integer" || t == "unsignedInt" || t == "positiveInt" || t == "integer64") {
    return "Integer";
  }
  if (t == "decimal") return "Decimal";
  if (t == "date") return "Date";
  if (t == "dateTime" || t == "instant") return "DateTime";
  if (t == "time") return "Time";
  if (t == "string" || t == "code" || t == "id" || t == "uri" || t == "url" ||
      t == "canonical" || t == "oid" || t == "uuid" || t == "markdown" ||
      t == "base64Binary" || t == "xhtml") {
    return "String";
  }
  return {};
}

std::optional<Item> ToSystemValue(const Item& item) {
  if (!item.is_node()) return item;
  const json::value* n = item.node();
  if (n == nullptr || n->is_null()) return std::nullopt;
  std::string_view type = item.fhir_type();
  if (!type.empty()) {
    std::string_view sys = SystemTypeOf(type);
    if (!sys.empty()) return FromSystemType(*n, sys);
    if (IsQuantityType(type) && n->is_object()) return QuantityFromObject(n->get_object());
    return std::nullopt;
  }
  switch (n->kind()) {
    case json::kind::bool_: return Item::Boolean(n->get_bool());
    case json::kind::int64: return Item::Integer(n->get_int64());
    case json::kind::uint64:
    case json::kind::double_: {
      auto d = JsonNumber(*n);
      if (!d) return std::nullopt;
      return Item::FromDecimal(*d);
    }
    case json::kind::string: return Item::StringRef(std::string_view(n->get_string()));
    case json::kind::object: {
      const json::object& o = n->get_object();
      if (o.contains("resourceType")) return std::nullopt;
      const json::value* v = o.if_contains("value");
      if (v != nullptr && v->is_number() && (o.contains("code") || o.contains("unit"))) {
        return QuantityFromObject(o);
      }
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

}  // namespace crs::fhirpath
