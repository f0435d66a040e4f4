// Number and quantity precision for search, shared by index extraction and the
// search layer.
//
// A number is as precise as it is written: the interval it stands for is half a
// unit of its last significant digit either side, [value - h, value + h) with
// h = 0.5 * 10^-fraction_digits: 100 -> [99.5, 100.5), 1.5 -> [1.45, 1.55),
// 1e2 -> [50, 150) (one significant digit), 1.00e2 -> [99.5, 100.5).
//
// Quantities in UCUM units are also kept in base units (CanonicalizeUcum), so that a
// search for 5 'mg' finds 0.005 'g'.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crs::fhir::index {

inline constexpr std::string_view kUcumSystem = "http://unitsofmeasure.org";
inline constexpr std::string_view kCurrencySystem = "urn:iso:std:iso:4217";

struct NumberBounds {
  double value = 0;
  double low = 0;   // inclusive
  double high = 0;  // exclusive
};

// The interval of `value` written with `exponent10` as the power of ten of its last
// significant digit (-2 for "1.25", 0 for "100", 2 for "1e2").
NumberBounds BoundsAt(double value, int exponent10);

// Parses a number as written in a search ("100", "-1.50", "1e2", "1.00E-3"), with
// its precision. nullopt when the text is not a number.
std::optional<NumberBounds> ParseSearchNumber(std::string_view text);

// The precision of a double read from JSON, whose written form is lost: the shortest
// decimal that round-trips it ("1.50" in the document reads back as 1.5).
NumberBounds BoundsOfDouble(double value);

// A UCUM unit reduced to base units: value_in_base = value * factor, and a key
// naming the dimensions ("g.m-3", "s", "1" for dimensionless) that two units
// share exactly when they measure the same kind of thing.
struct CanonicalUnit {
  double factor = 1;
  std::string key;
};

// nullopt for codes the UCUM subset does not know, for units with offsets
// (Cel, [degF]) and for arbitrary units ([IU]).
std::optional<CanonicalUnit> CanonicalizeUcum(std::string_view code);

}  // namespace crs::fhir::index
