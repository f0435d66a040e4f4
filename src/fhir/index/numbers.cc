#include "fhir/index/numbers.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "fhir/fhirpath/decimal.h"
#include "fhir/fhirpath/ucum.h"

namespace crs::fhir::index {

NumberBounds BoundsAt(double value, int exponent10) {
  double half = 0.5 * std::pow(10.0, exponent10);
  return NumberBounds{value, value - half, value + half};
}

std::optional<NumberBounds> ParseSearchNumber(std::string_view text) {
  size_t pos = 0;
  if (pos < text.size() && (text[pos] == '-' || text[pos] == '+')) ++pos;
  size_t int_digits = 0, frac_digits = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos, ++int_digits;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return std::nullopt;
  int exponent = 0;
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    if (pos < text.size() && text[pos] == '+') ++pos;
    auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), exponent);
    if (ec != std::errc() || end == text.data() + pos) return std::nullopt;
    pos = static_cast<size_t>(end - text.data());
    if (exponent < -300 || exponent > 300) return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  // strtod wants a NUL-terminated string; search values are short.
  std::string copy(text);
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(v)) return std::nullopt;
  return BoundsAt(v, exponent - static_cast<int>(frac_digits));
}

NumberBounds BoundsOfDouble(double value) {
  std::optional<fhirpath::Decimal> d = fhirpath::Decimal::FromDouble(value);
  int scale = d ? d->scale() : 0;
  return BoundsAt(value, -scale);
}

std::optional<CanonicalUnit> CanonicalizeUcum(std::string_view code) {
  std::optional<fhirpath::ucum::Canonical> c = fhirpath::ucum::Canonicalize(code);
  if (!c) return std::nullopt;
  static constexpr std::string_view kBase[] = {"m", "g", "s", "rad", "K", "C", "cd", "mol"};
  if (c->dims[8] != 0) return std::nullopt;  // arbitrary units compare only by code
  CanonicalUnit out;
  out.factor = static_cast<double>(c->factor.ToLongDouble());
  for (size_t i = 0; i < 8; ++i) {
    int e = c->dims[i];
    if (e == 0) continue;
    if (!out.key.empty()) out.key.push_back('.');
    out.key.append(kBase[i]);
    if (e != 1) out.key.append(std::to_string(e));
  }
  if (out.key.empty()) out.key.push_back('1');  // dimensionless
  return out;
}

}  // namespace crs::fhir::index
