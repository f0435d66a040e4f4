// Test helpers (header-only): the rows of one parameter as short strings, so
// expectations read as data.
#pragma once

#include <cmath>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/index/index_entries.h"

namespace crs::fhir::index::testing {

// "normalized|exact"
inline std::vector<std::string> StringsOf(const IndexEntries& e, std::string_view param) {
  std::vector<std::string> out;
  for (const StringRow& r : e.strings) {
    if (r.param == param) out.push_back(r.normalized + "|" + r.exact);
  }
  return out;
}

// "system|code", with " text=..." and " type=system|code" when set.
inline std::string Format(const TokenRow& r) {
  std::string s = r.system + "|" + r.code;
  if (!r.text.empty()) s += " text=" + r.text;
  if (!r.type_code.empty()) s += " type=" + r.type_system + "|" + r.type_code;
  return s;
}

inline std::vector<std::string> TokensOf(const IndexEntries& e, std::string_view param) {
  std::vector<std::string> out;
  for (const TokenRow& r : e.tokens) {
    if (r.param == param) out.push_back(Format(r));
  }
  return out;
}

inline std::vector<DateRow> DatesOf(const IndexEntries& e, std::string_view param) {
  std::vector<DateRow> out;
  for (const DateRow& r : e.dates) {
    if (r.param == param) out.push_back(r);
  }
  return out;
}

inline std::string Num(double v) {
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  std::ostringstream os;
  os << v;
  return os.str();
}

// "value [low,high)" or "[low,high)" for ranges.
inline std::string Format(const NumberRow& r) {
  return (r.value ? Num(*r.value) + " " : "") + "[" + Num(r.low) + "," + Num(r.high) + ")";
}

inline std::vector<std::string> NumbersOf(const IndexEntries& e, std::string_view param) {
  std::vector<std::string> out;
  for (const NumberRow& r : e.numbers) {
    if (r.param == param) out.push_back(Format(r));
  }
  return out;
}

// "value [low,high) system|code unit", plus " = canonical_value canonical_unit".
inline std::string Format(const QuantityRow& r) {
  std::string s = (r.value ? Num(*r.value) + " " : "") + "[" + Num(r.low) + "," + Num(r.high) +
                  ") " + r.system + "|" + r.code;
  if (!r.unit.empty()) s += " " + r.unit;
  if (!r.canonical_unit.empty()) {
    s += " = " + (r.canonical_value ? Num(*r.canonical_value) : std::string("range")) + " " +
         r.canonical_unit;
  }
  return s;
}

inline std::vector<std::string> QuantitiesOf(const IndexEntries& e, std::string_view param) {
  std::vector<std::string> out;
  for (const QuantityRow& r : e.quantities) {
    if (r.param == param) out.push_back(Format(r));
  }
  return out;
}

inline const char* KindName(ReferenceKind k) {
  switch (k) {
    case ReferenceKind::kRelative:
      return "relative";
    case ReferenceKind::kAbsolute:
      return "absolute";
    case ReferenceKind::kContained:
      return "contained";
    case ReferenceKind::kCanonical:
      return "canonical";
    case ReferenceKind::kOther:
      return "other";
  }
  return "?";
}

// "kind Type/id" plus " v=version" and " url=url" when set.
inline std::string Format(const ReferenceRow& r) {
  std::string s = std::string(KindName(r.kind)) + " " + r.target_type + "/" + r.target_id;
  if (!r.version.empty()) s += " v=" + r.version;
  if (!r.url.empty()) s += " url=" + r.url;
  return s;
}

inline std::vector<std::string> ReferencesOf(const IndexEntries& e, std::string_view param) {
  std::vector<std::string> out;
  for (const ReferenceRow& r : e.references) {
    if (r.param == param) out.push_back(Format(r));
  }
  return out;
}

inline std::vector<std::string> UrisOf(const IndexEntries& e, std::string_view param) {
  std::vector<std::string> out;
  for (const UriRow& r : e.uris) {
    if (r.param == param) out.push_back(r.uri);
  }
  return out;
}

// Components joined by " $ ", each as its row type's Format() (strings as exact).
inline std::string Format(const CompositeRow& r) {
  std::string s;
  for (const ComponentValue& c : r.components) {
    if (!s.empty()) s += " $ ";
    if (const auto* t = std::get_if<TokenRow>(&c)) s += Format(*t);
    if (const auto* q = std::get_if<QuantityRow>(&c)) s += Format(*q);
    if (const auto* d = std::get_if<DateRow>(&c)) {
      s += std::to_string(d->low_ms) + ".." + std::to_string(d->high_ms);
    }
    if (const auto* n = std::get_if<NumberRow>(&c)) s += Format(*n);
    if (const auto* st = std::get_if<StringRow>(&c)) s += st->exact;
    if (const auto* ref = std::get_if<ReferenceRow>(&c)) s += Format(*ref);
    if (const auto* u = std::get_if<UriRow>(&c)) s += u->uri;
  }
  return s;
}

inline std::vector<std::string> CompositesOf(const IndexEntries& e, std::string_view param) {
  std::vector<std::string> out;
  for (const CompositeRow& r : e.composites) {
    if (r.param == param) out.push_back(Format(r));
  }
  return out;
}

inline std::vector<std::string> Present(const IndexEntries& e) {
  return std::vector<std::string>(e.present.begin(), e.present.end());
}

}  // namespace crs::fhir::index::testing
