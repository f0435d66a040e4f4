// Decimal: the exact base-10 number behind FHIRPath's Decimal type.
//
// A value is mantissa * 10^-scale with a 128-bit mantissa, so "1.0" and "1.00"
// keep their precision (scale 1 and 2) while comparing equal, sums and products
// of literals are exact (1.2 * 1.8 = 2.16), and 28 fractional digits fit, as the
// FHIRPath specification asks. Operations that would overflow return nullopt;
// the evaluator turns that into an empty result.
//
// Thread safety: a value type.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crs::fhirpath {

__extension__ using Int128 = __int128;

class Decimal {
 public:
  // The most fractional digits a result keeps (division, functions).
  static constexpr int kMaxScale = 28;

  Decimal() = default;
  static Decimal FromInt(int64_t v) { return Decimal(v, 0); }
  // Parses "-12.50", "3", "1e-3" (FHIR JSON may carry exponents); nullopt if malformed.
  static std::optional<Decimal> Parse(std::string_view text);
  // The shortest decimal that round-trips `v`; nullopt for NaN/infinity.
  static std::optional<Decimal> FromDouble(double v);
  // Rounds `v` to `digits` significant digits (for results of exp, ln, sqrt, ...).
  static std::optional<Decimal> FromLongDouble(long double v, int digits = 17);

  Int128 mantissa() const { return mantissa_; }
  int scale() const { return scale_; }
  bool is_zero() const { return mantissa_ == 0; }
  bool is_negative() const { return mantissa_ < 0; }
  // True when the value has no fractional part.
  bool IsInteger() const;
  // The integer value when IsInteger() and it fits in int64.
  std::optional<int64_t> ToInt64() const;
  long double ToLongDouble() const;

  // Canonical text: keeps the scale ("1.50"), no exponent.
  std::string ToString() const;

  // Arithmetic; nullopt on overflow or division by zero.
  static std::optional<Decimal> Add(const Decimal& a, const Decimal& b);
  static std::optional<Decimal> Sub(const Decimal& a, const Decimal& b);
  static std::optional<Decimal> Mul(const Decimal& a, const Decimal& b);
  static std::optional<Decimal> Div(const Decimal& a, const Decimal& b);
  // Truncated division and remainder (FHIRPath div / mod).
  static std::optional<Decimal> DivTrunc(const Decimal& a, const Decimal& b);
  static std::optional<Decimal> Mod(const Decimal& a, const Decimal& b);
  Decimal Negate() const { return Decimal(-mantissa_, scale_); }

  // Rounds half away from zero to `scale` fractional digits (may raise the scale).
  std::optional<Decimal> RoundTo(int scale) const;
  // Drops digits beyond `scale` (towards zero).
  std::optional<Decimal> TruncateTo(int scale) const;
  Decimal Floor() const;
  Decimal Ceiling() const;
  // Removes trailing fractional zeros ("1.500" -> "1.5", "2.0" -> "2").
  Decimal Normalized() const;
  // Number of significant fractional digits, i.e. the scale as written.
  int Precision() const { return scale_; }

  // Numeric comparison, ignoring scale: 1.0 == 1.00.
  static std::strong_ordering Compare(const Decimal& a, const Decimal& b);
  friend bool operator==(const Decimal& a, const Decimal& b) {
    return Compare(a, b) == std::strong_ordering::equal;
  }
  friend std::strong_ordering operator<=>(const Decimal& a, const Decimal& b) {
    return Compare(a, b);
  }

 private:
  Decimal(Int128 mantissa, int scale) : mantissa_(mantissa), scale_(scale) {}
  // Brings the value to `scale` exactly (no rounding); nullopt on overflow.
  std::optional<Decimal> Rescaled(int scale) const;

  Int128 mantissa_ = 0;
  int32_t scale_ = 0;
};

}  // namespace crs::fhirpath
