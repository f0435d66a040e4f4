// Small helpers for reading FHIR JSON with Boost.JSON.
//
// Thread safety: pure functions.
#pragma once

#include <boost/json/object.hpp>
#include <string_view>

namespace crs::fhir {

// The string value of `key` in `o`, or empty when absent or not a string.
inline std::string_view StringField(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

}  // namespace crs::fhir
