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

bool IsBirthDate(std::string_view d) {
  if (d.size() == 10) return IsFullDate(d);
  if (d.size() != 4 && d.size() != 7) return false;
  for (size_t i = 0; i < d.size(); ++i) {
    bool dash = i == 4;
    if (dash ? d[i] != '-' : (d[i] < '0' || d[i] > '9')) return false;
  }
  return true;
}

std::string PhoneticTraceKey(std::string_view sound, std::string_view date) {
  return TraceKey(sound, date);  // the same shape, the other way round
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
  std::string_view date = Str(patient, "birthDate");
  if (!IsBirthDate(date)) return;
  const bool day = IsFullDate(date);
  // `exact` stays empty: the keys are only ever matched by prefix.
  auto add = [&](std::string_view param, std::string key) {
    out->strings.push_back(StringRow{param, std::move(key), std::string()});
  };
  auto sounds = [&](std::string_view text) {
    for (const auto& key : PhoneticKeys(text)) {
      if (!key.empty()) add(kTracePhonetic, PhoneticTraceKey(key, date));
    }
  };
  ForEachObject(patient, "name", [&](const boost::json::object& name) {
    ForEachString(name, "family", [&](std::string_view family) {
      std::string norm = NormalizeForIndex(family);
      if (day && !norm.empty()) add(kTraceFamily, TraceKey(date, norm));
      sounds(family);
    });
    ForEachString(name, "given", sounds);
  });
  if (!day) return;
  ForEachObject(patient, "address", [&](const boost::json::object& address) {
    ForEachString(address, "postalCode", [&](std::string_view pc) {
      std::string norm = NormalizeForIndex(pc);
      if (!norm.empty()) add(kTracePostcode, TraceKey(date, norm));
    });
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
