#include "fhir/index/trace_keys.h"

#include <algorithm>
#include <boost/json.hpp>

#include "fhir/index/normalize.h"
#include "fhir/index/phonetic.h"
#include "fhir/index/value_shape.h"

namespace crs::fhir::index {

bool IsFullDate(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (d[i] < '0' || d[i] > '9') return false;
  }
  return true;
}

std::string TraceKey(std::string_view day, std::string_view value) {
  std::string key;
  key.reserve(day.size() + 1 + value.size());
  key.append(day);
  key.push_back(' ');
  key.append(value);
  return key;
}

void AppendTraceKeys(const boost::json::object& patient, IndexEntries* out) {
  using internal::ForEachObject;
  using internal::ForEachString;
  using internal::Str;
  std::string_view day = Str(patient, "birthDate");
  if (!IsFullDate(day)) return;
  auto add = [&](std::string_view param, std::string_view value) {
    if (value.empty()) return;
    // `exact` stays empty: the keys are only ever matched by prefix.
    out->strings.push_back(StringRow{param, TraceKey(day, value), std::string()});
  };
  ForEachObject(patient, "name", [&](const boost::json::object& name) {
    ForEachString(name, "family", [&](std::string_view family) {
      add(kTraceFamily, NormalizeForIndex(family));
      for (const auto& key : PhoneticKeys(family)) add(kTraceSound, key);
    });
    ForEachString(name, "given", [&](std::string_view given) {
      for (const auto& key : PhoneticKeys(given)) add(kTraceSound, key);
    });
  });
  ForEachObject(patient, "address", [&](const boost::json::object& address) {
    ForEachString(address, "postalCode",
                  [&](std::string_view pc) { add(kTracePostcode, NormalizeForIndex(pc)); });
  });
}

void AddTraceKeys(const boost::json::value& resource, IndexEntries* out) {
  const boost::json::object* o = resource.if_object();
  if (o == nullptr || internal::Str(*o, "resourceType") != "Patient") return;
  size_t before = out->strings.size();
  AppendTraceKeys(*o, out);
  if (out->strings.size() == before) return;
  std::sort(out->strings.begin(), out->strings.end());
  out->strings.erase(std::unique(out->strings.begin(), out->strings.end()), out->strings.end());
}

}  // namespace crs::fhir::index
