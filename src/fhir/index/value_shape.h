// Internal to crs_fhir_index: a FHIRPath result item seen as an indexable value (its
// shape: a Coding, a HumanName, a date...), plus the JSON helpers the row builders
// share. value_rows.cc and value_rows_numeric.cc build rows from it.
//
// Thread safety: pure functions.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "fhir/fhirpath/value.h"
#include "fhir/index/index_entries.h"
#include "fhir/index/numbers.h"

namespace crs::fhir::index::internal {

// What a value is, as far as indexing cares.
enum class Shape {
  kOther,
  kString,  // string, markdown, code, id and System String
  kUri,     // uri, url, oid, uuid
  kCanonical,
  kBoolean,
  kInteger,
  kDecimal,
  kDate,  // date, dateTime, instant
  kCoding,
  kCodeableConcept,
  kIdentifier,
  kContactPoint,
  kHumanName,
  kAddress,
  kQuantity,  // Quantity and its profiles (Age, Duration, Distance, Count, ...)
  kMoney,
  kRange,
  kPeriod,
  kTiming,
  kReference,
  kResource,
};

// A result item as a value: a JSON node of a known shape, or a System value.
struct Value {
  Shape shape = Shape::kOther;
  const boost::json::value* node = nullptr;  // null for System values
  const fhirpath::Item* item = nullptr;
  std::string_view text;  // string-form primitives
  const boost::json::object* object() const {
    return node != nullptr && node->is_object() ? &node->get_object() : nullptr;
  }
};

// nullopt for items with nothing to index (a primitive with only extensions, a
// string type whose JSON is not a string, a type descriptor).
std::optional<Value> ValueOf(const fhirpath::Item& item);

// A string member of `o`, or empty.
std::string_view Str(const boost::json::object& o, std::string_view key);
// An object member of `o`, or null.
const boost::json::object* Obj(const boost::json::object& o, std::string_view key);

// Calls f(string_view) for a string member or each string of an array member.
template <typename F>
void ForEachString(const boost::json::object& o, std::string_view key, F f) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr) return;
  if (v->is_string()) {
    f(std::string_view(v->get_string()));
  } else if (v->is_array()) {
    for (const boost::json::value& e : v->get_array()) {
      if (e.is_string()) f(std::string_view(e.get_string()));
    }
  }
}

// Calls f(object) for an object member or each object of an array member.
template <typename F>
void ForEachObject(const boost::json::object& o, std::string_view key, F f) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr) return;
  if (v->is_object()) {
    f(v->get_object());
  } else if (v->is_array()) {
    for (const boost::json::value& e : v->get_array()) {
      if (e.is_object()) f(e.get_object());
    }
  }
}

// `s` cut to kMaxExactBytes.
std::string Exact(std::string_view s);

// A JSON number with its precision; nullopt for anything else.
std::optional<NumberBounds> JsonNumberBounds(const boost::json::value* v);
// The number a value holds (JSON number, System Integer/Decimal/Quantity).
std::optional<NumberBounds> NumberOf(const Value& v);

// Row builders for the numeric and temporal parameter types (value_rows_numeric.cc).
// Each returns false when the value's shape has no row of that type.
bool AppendDate(std::string_view param, const Value& v, IndexEntries* out);
bool AppendNumber(std::string_view param, const Value& v, IndexEntries* out);
bool AppendQuantity(std::string_view param, const Value& v, IndexEntries* out);

}  // namespace crs::fhir::index::internal
