// Equality (=), equivalence (~) and ordering (< >) of items and collections.
#include <boost/json.hpp>

#include "fhir/fhirpath/evaluator.h"
#include "fhir/fhirpath/ucum.h"

namespace crs::fhirpath {
namespace json = boost::json;

namespace {

bool IsNumber(ItemKind k) { return k == ItemKind::kInteger || k == ItemKind::kDecimal; }
bool IsDate(ItemKind k) {
  return k == ItemKind::kDate || k == ItemKind::kDateTime || k == ItemKind::kTime;
}

Decimal NumberOf(const Item& v) {
  return v.kind() == ItemKind::kInteger ? Decimal::FromInt(v.integer()) : v.decimal();
}

// An untyped JSON string (no TypeProvider) compared with a date: read the string as one.
std::optional<Item> DateFromUntyped(const Item& original, const Item& value, const Item& other) {
  if (!original.is_node() || !original.fhir_type().empty()) return std::nullopt;
  if (value.kind() != ItemKind::kString || !IsDate(other.kind())) return std::nullopt;
  std::optional<DateTimeValue> dt;
  if (other.kind() == ItemKind::kTime) {
    dt = DateTimeValue::ParseTime(value.string());
  } else if (other.kind() == ItemKind::kDate) {
    dt = DateTimeValue::ParseDate(value.string());
    if (!dt) dt = DateTimeValue::ParseDateTime(value.string());
  } else {
    dt = DateTimeValue::ParseDateTime(value.string());
  }
  if (!dt) return std::nullopt;
  return Item::FromDateTime(*dt);
}

// Converts both items to System values, reading untyped strings as dates when the
// other side is one. False when either has no System value.
bool Values(const Item& a, const Item& b, std::optional<Item>* va, std::optional<Item>* vb) {
  *va = ToSystemValue(a);
  *vb = ToSystemValue(b);
  if (!*va || !*vb) return false;
  if (auto d = DateFromUntyped(a, **va, **vb)) *va = d;
  if (auto d = DateFromUntyped(b, **vb, **va)) *vb = d;
  return true;
}

std::string NormalizeForEquivalence(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

bool DecimalsEquivalent(const Decimal& a, const Decimal& b) {
  int scale = std::min(a.scale(), b.scale());
  auto x = a.RoundTo(scale);
  auto y = b.RoundTo(scale);
  return x && y && *x == *y;
}

std::optional<Decimal> JsonDecimal(const json::value& v) {
  if (v.is_int64()) return Decimal::FromInt(v.get_int64());
  if (v.is_uint64()) return Decimal::Parse(std::to_string(v.get_uint64()));
  if (v.is_double()) return Decimal::FromDouble(v.get_double());
  return std::nullopt;
}

// Deep equality without copying (boost::json's object operator== copies each
// member). Numbers compare by value.
bool JsonEqual(const json::value& a, const json::value& b, int depth) {
  if (depth > 64) return false;
  if (a.is_number() && b.is_number()) {
    if (a.kind() == b.kind()) return a == b;
    auto x = JsonDecimal(a);
    auto y = JsonDecimal(b);
    return x && y && *x == *y;
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::array: {
      const json::array& x = a.get_array();
      const json::array& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!JsonEqual(x[i], y[i], depth + 1)) return false;
      }
      return true;
    }
    case json::kind::object: {
      const json::object& x = a.get_object();
      const json::object& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& kv : x) {
        const json::value* other = y.if_contains(kv.key());
        if (other == nullptr || !JsonEqual(kv.value(), *other, depth + 1)) return false;
      }
      return true;
    }
    default: return a == b;
  }
}

size_t Mix(size_t h, size_t v) { return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)); }

// Hashes the length and the ends of a string only: cheap, and equal strings still
// hash alike.
size_t StrHash(std::string_view s) {
  if (s.size() <= 24) return std::hash<std::string_view>()(s);
  return Mix(std::hash<std::string_view>()(s.substr(0, 16)),
             Mix(std::hash<std::string_view>()(s.substr(s.size() - 8)), s.size()));
}

size_t DecimalHash(const Decimal& d) {
  Decimal n = d.Normalized();
  Int128 m = n.mantissa();
  return Mix(std::hash<uint64_t>()(static_cast<uint64_t>(m)) ^
                 std::hash<uint64_t>()(static_cast<uint64_t>(m >> 64)),
             static_cast<size_t>(n.scale()));
}

// Consistent with JsonEqual: members in any order, numbers by value. Looks two
// levels deep only: enough to tell elements apart cheaply.
size_t JsonHash(const json::value& v, int depth) {
  if (depth > 1) {
    if (v.is_array()) return 5 + v.get_array().size();
    if (v.is_object()) return 6 + v.get_object().size();
  }
  switch (v.kind()) {
    case json::kind::string: return StrHash(v.get_string());
    case json::kind::bool_: return v.get_bool() ? 1 : 2;
    case json::kind::null: return 3;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: {
      auto d = JsonDecimal(v);
      return d ? DecimalHash(*d) : 4;
    }
    case json::kind::array: {
      size_t h = 5;
      for (const json::value& x : v.get_array()) h = Mix(h, JsonHash(x, depth + 1));
      return h;
    }
    case json::kind::object: {
      size_t h = 6;
      for (const auto& kv : v.get_object()) {
        h += Mix(StrHash(kv.key()), JsonHash(kv.value(), depth + 1));
      }
      return h;
    }
  }
  return 0;
}

bool JsonEquivalent(const json::value& a, const json::value& b, int depth) {
  if (depth > 64) return false;
  if (a.is_number() && b.is_number()) {
    auto x = JsonDecimal(a);
    auto y = JsonDecimal(b);
    return x && y && DecimalsEquivalent(*x, *y);
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::string:
      return NormalizeForEquivalence(a.get_string()) == NormalizeForEquivalence(b.get_string());
    case json::kind::array: {
      const json::array& x = a.get_array();
      const json::array& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!JsonEquivalent(x[i], y[i], depth + 1)) return false;
      }
      return true;
    }
    case json::kind::object: {
      const json::object& x = a.get_object();
      const json::object& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& kv : x) {
        const json::value* other = y.if_contains(kv.key());
        if (other == nullptr || !JsonEquivalent(kv.value(), *other, depth + 1)) return false;
      }
      return true;
    }
    default: return a == b;
  }
}

std::optional<bool> ValuesEqual(const Item& x, const Item& y) {
  ItemKind kx = x.kind();
  ItemKind ky = y.kind();
  if (IsNumber(kx) && IsNumber(ky)) {
    if (kx == ItemKind::kInteger && ky == ItemKind::kInteger) return x.integer() == y.integer();
    return NumberOf(x) == NumberOf(y);
  }
  if (IsDate(kx) && IsDate(ky)) {
    if ((kx == ItemKind::kTime) != (ky == ItemKind::kTime)) return false;
    auto c = CompareDateTimes(x.date_time(), y.date_time());
    if (!c) return std::nullopt;
    return *c == 0;
  }
  if (kx != ky) return false;
  switch (kx) {
    case ItemKind::kString: return x.string() == y.string();
    case ItemKind::kBoolean: return x.boolean() == y.boolean();
    case ItemKind::kQuantity: {
      auto c = ucum::Compare(x.decimal(), x.unit(), y.decimal(), y.unit());
      if (!c) return std::nullopt;
      return *c == 0;
    }
    case ItemKind::kTypeInfo:
      return x.type_is_system() == y.type_is_system() && x.type_name() == y.type_name();
    default: return false;
  }
}

bool ValuesEquivalent(const Item& x, const Item& y) {
  ItemKind kx = x.kind();
  ItemKind ky = y.kind();
  if (IsNumber(kx) && IsNumber(ky)) return DecimalsEquivalent(NumberOf(x), NumberOf(y));
  if (IsDate(kx) && IsDate(ky)) return DateTimesEquivalent(x.date_time(), y.date_time());
  if (kx != ky) return false;
  switch (kx) {
    case ItemKind::kString:
      return NormalizeForEquivalence(x.string()) == NormalizeForEquivalence(y.string());
    case ItemKind::kQuantity:
      return ucum::Equivalent(x.decimal(), x.unit(), y.decimal(), y.unit());
    default: {
      auto eq = ValuesEqual(x, y);
      return eq && *eq;
    }
  }
}

// Two JSON strings of the same FHIR type are equal exactly when their text is,
// except for dates and times, where different text may denote the same instant.
bool SameTextSemantics(std::string_view type) {
  return type != "date" && type != "dateTime" && type != "instant" && type != "time";
}

bool IsComplexNode(const Item& a) {
  return a.is_node() && a.node() != nullptr && !a.node()->is_null();
}

}  // namespace

std::optional<bool> ItemsEqual(const Item& a, const Item& b) {
  if (a.is_node() && b.is_node() && a.node() != nullptr && b.node() != nullptr) {
    if (a.node() == b.node() && a.extension_node() == b.extension_node()) return true;
    if (a.node()->is_string() && b.node()->is_string() && a.fhir_type() == b.fhir_type() &&
        !a.fhir_type().empty() && SameTextSemantics(a.fhir_type())) {
      return a.node()->get_string() == b.node()->get_string();
    }
  }
  std::optional<Item> va, vb;
  if (Values(a, b, &va, &vb)) return ValuesEqual(*va, *vb);
  if (va || vb) return false;
  if (IsComplexNode(a) && IsComplexNode(b)) return JsonEqual(*a.node(), *b.node(), 0);
  if (a.kind() == ItemKind::kTypeInfo && b.kind() == ItemKind::kTypeInfo) {
    return a.type_is_system() == b.type_is_system() && a.type_name() == b.type_name();
  }
  return false;
}

size_t ItemHash(const Item& item) {
  std::optional<Item> v = ToSystemValue(item);
  if (!v) {
    if (IsComplexNode(item)) return JsonHash(*item.node(), 0);
    if (item.kind() == ItemKind::kTypeInfo) return std::hash<std::string_view>()(item.type_name());
    return std::hash<const void*>()(item.extension_node());
  }
  switch (v->kind()) {
    case ItemKind::kBoolean: return v->boolean() ? 11 : 12;
    case ItemKind::kInteger: return DecimalHash(Decimal::FromInt(v->integer()));
    case ItemKind::kDecimal: return DecimalHash(v->decimal());
    case ItemKind::kString: return StrHash(v->string());
    // Equal dates may be written differently (zones), equal quantities in different
    // units: one bucket each, compared pairwise.
    case ItemKind::kDate:
    case ItemKind::kDateTime:
    case ItemKind::kTime: return 13;
    case ItemKind::kQuantity: return 14;
    default: return 15;
  }
}

bool ItemsEquivalent(const Item& a, const Item& b) {
  std::optional<Item> va, vb;
  if (Values(a, b, &va, &vb)) return ValuesEquivalent(*va, *vb);
  if (va || vb) return false;
  if (IsComplexNode(a) && IsComplexNode(b)) return JsonEquivalent(*a.node(), *b.node(), 0);
  auto eq = ItemsEqual(a, b);
  return eq && *eq;
}

Result<std::optional<int>> CompareItems(const Item& a, const Item& b) {
  std::optional<Item> va, vb;
  if (!Values(a, b, &va, &vb)) {
    return EvalError("cannot compare " + a.DebugString() + " with " + b.DebugString());
  }
  ItemKind kx = va->kind();
  ItemKind ky = vb->kind();
  if (IsNumber(kx) && IsNumber(ky)) {
    auto c = Decimal::Compare(NumberOf(*va), NumberOf(*vb));
    return std::optional<int>(c < 0 ? -1 : (c > 0 ? 1 : 0));
  }
  if (kx == ItemKind::kString && ky == ItemKind::kString) {
    int c = va->string().compare(vb->string());
    return std::optional<int>(c < 0 ? -1 : (c > 0 ? 1 : 0));
  }
  if (IsDate(kx) && IsDate(ky) && (kx == ItemKind::kTime) == (ky == ItemKind::kTime)) {
    return CompareDateTimes(va->date_time(), vb->date_time());
  }
  if (kx == ItemKind::kQuantity && ky == ItemKind::kQuantity) {
    return ucum::Compare(va->decimal(), va->unit(), vb->decimal(), vb->unit());
  }
  if (kx == ItemKind::kBoolean && ky == ItemKind::kBoolean) {
    return std::optional<int>(static_cast<int>(va->boolean()) - static_cast<int>(vb->boolean()));
  }
  return EvalError("cannot compare " + va->DebugString() + " with " + vb->DebugString());
}

std::optional<bool> CollectionsEqual(Span a, Span b) {
  if (a.empty() || b.empty()) return std::nullopt;
  if (a.size() != b.size()) return false;
  bool unknown = false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto eq = ItemsEqual(a[i], b[i]);
    if (!eq) {
      unknown = true;
    } else if (!*eq) {
      return false;
    }
  }
  if (unknown) return std::nullopt;
  return true;
}

bool CollectionsEquivalent(Span a, Span b) {
  if (a.empty() && b.empty()) return true;
  if (a.size() != b.size()) return false;
  std::vector<bool> used(b.size(), false);
  for (const Item& x : a) {
    bool found = false;
    for (size_t j = 0; j < b.size(); ++j) {
      if (!used[j] && ItemsEquivalent(x, b[j])) {
        used[j] = true;
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace crs::fhirpath
