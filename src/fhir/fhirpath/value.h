// Item and Collection: what FHIRPath expressions produce.
//
// An Item is either a node of the input JSON, referenced and never copied (with
// its FHIR type when a TypeProvider knows it), or a System value computed by the
// expression (Boolean, Integer, Decimal, String, Date, DateTime, Time, Quantity,
// or a type() descriptor). Items referencing JSON are valid only while that JSON
// lives; strings may likewise point into the JSON or into the compiled
// Expression.
//
// Thread safety: value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/fhirpath/date_time.h"
#include "fhir/fhirpath/decimal.h"

namespace boost::json {
class value;
}

namespace crs::fhirpath {

enum class ItemKind : uint8_t {
  kNode,  // a JSON node of the input (or a typed stub from resolve())
  kBoolean,
  kInteger,
  kDecimal,
  kString,
  kDate,
  kDateTime,
  kTime,
  kQuantity,
  kTypeInfo,  // type(): a namespace ("System"/"FHIR") and a type name
};

class Item {
 public:
  Item() = default;
  Item(const Item& other);
  Item(Item&& other) noexcept;
  Item& operator=(const Item& other);
  Item& operator=(Item&& other) noexcept;
  ~Item() = default;

  // A JSON node. `node` is null for a primitive that has only an extension sibling
  // (`"_given": [...]`) and for stubs. `ext` is the "_name" sibling of a primitive.
  // `type` is the FHIR type code ("" when unknown), `key` the TypeProvider key for
  // navigating into it. The views must outlive the item (provider or JSON storage).
  static Item Node(const boost::json::value* node, const boost::json::value* ext,
                   std::string_view type, std::string_view key);
  static Item Boolean(bool v);
  static Item Integer(int64_t v);
  static Item FromDecimal(const Decimal& v);
  static Item String(std::string v);
  // A string that lives elsewhere for at least as long as the item (JSON, AST).
  static Item StringRef(std::string_view v);
  // kind follows v.kind.
  static Item FromDateTime(const DateTimeValue& v);
  static Item Quantity(const Decimal& value, std::string unit);
  static Item QuantityRef(const Decimal& value, std::string_view unit);
  static Item TypeInfo(bool system_namespace, std::string_view name);

  ItemKind kind() const { return kind_; }
  bool is_node() const { return kind_ == ItemKind::kNode; }

  // kNode accessors.
  const boost::json::value* node() const { return node_; }
  const boost::json::value* extension_node() const { return ext_; }
  std::string_view fhir_type() const { return type_; }
  std::string_view type_key() const { return key_; }

  // System value accessors; each requires the matching kind.
  bool boolean() const { return u_.b; }
  int64_t integer() const { return u_.i; }
  const Decimal& decimal() const { return u_.d; }  // kDecimal and kQuantity
  std::string_view string() const { return text_; }  // kString
  const DateTimeValue& date_time() const { return u_.dt; }  // kDate, kDateTime, kTime
  std::string_view unit() const { return text_; }  // kQuantity
  bool type_is_system() const { return u_.b; }     // kTypeInfo
  std::string_view type_name() const { return text_; }  // kTypeInfo

  // Readable form for messages and tests: "'abc'", "@2015-02", "4 'mg'", "Patient{...}".
  std::string DebugString() const;

 private:
  void CopyText(const Item& other);

  ItemKind kind_ = ItemKind::kNode;
  bool owns_text_ = false;
  const boost::json::value* node_ = nullptr;
  const boost::json::value* ext_ = nullptr;
  std::string_view type_;
  std::string_view key_;
  union Payload {
    bool b;
    int64_t i;
    Decimal d;
    DateTimeValue dt;
    Payload() : d() {}
  } u_;
  std::string_view text_;
  std::string own_;
};

using Collection = std::vector<Item>;

// The System value behind an item: itself for System values; for JSON primitives of
// a known FHIR type the converted value (code/uri/id/... -> String, date -> Date,
// dateTime/instant -> DateTime, integer/positiveInt/unsignedInt -> Integer, decimal ->
// Decimal, boolean -> Boolean, time -> Time); for untyped JSON primitives by their
// JSON kind (string -> String, number -> Integer/Decimal, bool -> Boolean); for
// Quantity-typed objects (Quantity, Age, Duration, ...; untyped objects with a numeric
// "value" and a "code" or "unit") a Quantity. nullopt otherwise (complex nodes,
// primitives without a value, malformed primitives).
std::optional<Item> ToSystemValue(const Item& item);

// The System type a FHIR primitive type converts to ("String", "Date", ...), or "" for
// non-primitive types.
std::string_view SystemTypeOf(std::string_view fhir_type);

}  // namespace crs::fhirpath
