// Quantities and the part of UCUM that FHIRPath needs: reducing a unit to base
// dimensions so that 4 'g' = 4000 'mg', 7 days = 1 'wk' and 185 '[lb_av]' < 100 'kg'
// can be decided, and multiplying or dividing quantities.
//
// Covered: the SI base and derived units with all metric prefixes, time (s..a),
// customary length, mass and volume ([in_i], [lb_av], [gal_us], ...), pressure
// (mm[Hg], cm[H2O], bar), %, ppm, 10*n factors, annotations ({beats}), '.' '/'
// products, exponents and parentheses. Units with offsets (Cel, [degF]) and
// arbitrary units ([IU]) compare only with the same unit code.
//
// Calendar durations (FHIRPath keywords year, month, week, day, hour, minute, second,
// millisecond and plurals) are separate from UCUM: week and below equal their UCUM
// codes, year and month compare only with each other (1 year = 12 months).
//
// Thread safety: pure functions over immutable tables.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fhir/fhirpath/decimal.h"

namespace crs::fhirpath {

// A quantity as FHIRPath sees it; `unit` is a UCUM code or a calendar keyword
// (singular), "1" when dimensionless.
struct QuantityValue {
  Decimal value;
  std::string unit;
};

namespace ucum {

// Exponents of m, g, s, rad, K, C, cd, mol, and an arbitrary-unit marker.
using Dimensions = std::array<int8_t, 9>;

struct Canonical {
  Decimal factor;  // value in base units = value * factor
  Dimensions dims{};
};

// Reduces a UCUM code to base units; nullopt for unknown or offset units.
std::optional<Canonical> Canonicalize(std::string_view code);

// True for the FHIRPath calendar keywords, singular or plural.
bool IsCalendarKeyword(std::string_view unit);
// "days" -> "day"; other units unchanged.
std::string_view SingularCalendarKeyword(std::string_view unit);

// Orders two quantities: nullopt when their units cannot be compared.
std::optional<int> Compare(const Decimal& a, std::string_view a_unit, const Decimal& b,
                           std::string_view b_unit);
// Quantity equivalence (~): comparable units and equal at the precision of the less
// precise value.
bool Equivalent(const Decimal& a, std::string_view a_unit, const Decimal& b,
                std::string_view b_unit);
// Converts a value to `target` units; nullopt when not comparable.
std::optional<Decimal> Convert(const Decimal& value, std::string_view from,
                               std::string_view to);
// True when the two units measure the same kind of thing.
bool Comparable(std::string_view a_unit, std::string_view b_unit);

// Product and quotient of quantities, in base units ("m2", "g.m-1", "1").
std::optional<QuantityValue> Multiply(const QuantityValue& a, const QuantityValue& b);
std::optional<QuantityValue> Divide(const QuantityValue& a, const QuantityValue& b);

// Parses the text form used by toQuantity(): "4.5 'mg'", "1 day", "3" (unit "1").
std::optional<QuantityValue> ParseQuantityString(std::string_view text);
// FHIRPath text form: "4.5 'mg'", "1 day".
std::string FormatQuantity(const Decimal& value, std::string_view unit);

}  // namespace ucum
}  // namespace crs::fhirpath
