#include "fhir/fhirpath/decimal.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace crs::fhirpath {
namespace {

__extension__ using UInt128 = unsigned __int128;

// 10^38 is the largest power of ten an Int128 holds.
constexpr int kMaxDigits = 38;

constexpr std::array<Int128, kMaxDigits + 1> MakePow10() {
  std::array<Int128, kMaxDigits + 1> p{};
  p[0] = 1;
  for (int i = 1; i <= kMaxDigits; ++i) p[i] = p[i - 1] * 10;
  return p;
}
constexpr auto kPow10 = MakePow10();

Int128 Abs(Int128 v) { return v < 0 ? -v : v; }

bool MulOverflow(Int128 a, Int128 b, Int128* out) { return __builtin_mul_overflow(a, b, out); }

}  // namespace

std::optional<Decimal> Decimal::Parse(std::string_view text) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  if (i >= text.size() || text[i] < '0' || text[i] > '9') return std::nullopt;
  Int128 mantissa = 0;
  int digits = 0;      // significant digits accumulated
  int frac = 0;        // digits after the point
  bool any = false;
  bool point = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      if (point) return std::nullopt;
      point = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    any = true;
    if (mantissa == 0 && c == '0') {
      if (point) ++frac;
      continue;
    }
    if (++digits > kMaxDigits) return std::nullopt;
    mantissa = mantissa * 10 + (c - '0');
    if (point) ++frac;
  }
  if (!any || (point && text[i - 1] == '.')) return std::nullopt;
  int exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    auto [p, ec] = std::from_chars(text.data() + i, text.data() + text.size(), exponent);
    if (ec != std::errc() || p == text.data() + i) {
      // from_chars rejects a leading '+'.
      if (i < text.size() && text[i] == '+') {
        auto [p2, ec2] = std::from_chars(text.data() + i + 1, text.data() + text.size(), exponent);
        if (ec2 != std::errc() || p2 != text.data() + text.size()) return std::nullopt;
      } else {
        return std::nullopt;
      }
    } else if (p != text.data() + text.size()) {
      return std::nullopt;
    }
    i = text.size();
  }
  if (i != text.size()) return std::nullopt;
  if (exponent > 2 * kMaxDigits || exponent < -2 * kMaxDigits) return std::nullopt;
  int scale = frac - exponent;
  if (scale < 0) {
    if (-scale > kMaxDigits || MulOverflow(mantissa, kPow10[-scale], &mantissa)) {
      return std::nullopt;
    }
    scale = 0;
  }
  if (scale > kMaxDigits) {
    // Too many fractional digits to hold: keep the leading ones, rounded.
    Int128 drop = scale - kMaxDigits;
    if (drop > kMaxDigits) return Decimal();
    Int128 p = kPow10[static_cast<int>(drop)];
    Int128 q = mantissa / p;
    if ((mantissa % p) * 2 >= p) ++q;
    return Decimal(negative ? -q : q, kMaxDigits);
  }
  return Decimal(negative ? -mantissa : mantissa, scale);
}

std::optional<Decimal> Decimal::FromDouble(double v) {
  if (!std::isfinite(v)) return std::nullopt;
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return std::nullopt;
  return Parse(std::string_view(buf, p - buf));
}

std::optional<Decimal> Decimal::FromLongDouble(long double v, int digits) {
  if (!std::isfinite(v)) return std::nullopt;
  char buf[96];
  int n = std::snprintf(buf, sizeof(buf), "%.*Le", digits - 1, v);
  if (n <= 0 || n >= static_cast<int>(sizeof(buf))) return std::nullopt;
  auto d = Parse(std::string_view(buf, n));
  if (!d) return std::nullopt;
  return d->Normalized();
}

bool Decimal::IsInteger() const { return scale_ == 0 || mantissa_ % kPow10[scale_] == 0; }

std::optional<int64_t> Decimal::ToInt64() const {
  if (!IsInteger()) return std::nullopt;
  Int128 v = mantissa_ / kPow10[scale_];
  if (v > std::numeric_limits<int64_t>::max() || v < std::numeric_limits<int64_t>::min()) {
    return std::nullopt;
  }
  return static_cast<int64_t>(v);
}

long double Decimal::ToLongDouble() const {
  return static_cast<long double>(mantissa_) / std::pow(10.0L, static_cast<long double>(scale_));
}

std::string Decimal::ToString() const {
  UInt128 m = mantissa_ < 0 ? static_cast<UInt128>(-mantissa_) : static_cast<UInt128>(mantissa_);
  char digits[48];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(m % 10));
    m /= 10;
  } while (m != 0);
  while (n <= scale_) digits[n++] = '0';  // at least one integer digit
  std::string out;
  out.reserve(n + 2);
  if (mantissa_ < 0) out.push_back('-');
  for (int i = n - 1; i >= 0; --i) {
    out.push_back(digits[i]);
    if (i == scale_ && i != 0) out.push_back('.');
  }
  return out;
}

std::optional<Decimal> Decimal::Rescaled(int scale) const {
  if (scale <= scale_) return *this;
  int diff = scale - scale_;
  if (diff > kMaxDigits) return mantissa_ == 0 ? std::optional(Decimal(0, scale)) : std::nullopt;
  Int128 m;
  if (MulOverflow(mantissa_, kPow10[diff], &m)) return std::nullopt;
  return Decimal(m, scale);
}

std::optional<Decimal> Decimal::Add(const Decimal& a, const Decimal& b) {
  int scale = std::max(a.scale_, b.scale_);
  auto x = a.Rescaled(scale);
  auto y = b.Rescaled(scale);
  if (!x || !y) return std::nullopt;
  Int128 m;
  if (__builtin_add_overflow(x->mantissa_, y->mantissa_, &m)) return std::nullopt;
  return Decimal(m, scale);
}

std::optional<Decimal> Decimal::Sub(const Decimal& a, const Decimal& b) {
  return Add(a, b.Negate());
}

std::optional<Decimal> Decimal::Mul(const Decimal& a, const Decimal& b) {
  Decimal x = a;
  Decimal y = b;
  Int128 m;
  while (MulOverflow(x.mantissa_, y.mantissa_, &m)) {
    // Give up the least significant digit of the more precise operand.
    Decimal& finer = x.scale_ >= y.scale_ ? x : y;
    if (finer.scale_ == 0) return std::nullopt;
    auto r = finer.RoundTo(finer.scale_ - 1);
    if (!r) return std::nullopt;
    finer = *r;
  }
  Decimal out(m, x.scale_ + y.scale_);
  if (out.scale_ > kMaxScale) return out.RoundTo(kMaxScale);
  return out;
}

std::optional<Decimal> Decimal::Div(const Decimal& a, const Decimal& b) {
  if (b.mantissa_ == 0) return std::nullopt;
  Decimal divisor = b;
  // Keep the divisor below 10^37 so that remainder * 10 cannot overflow.
  while (Abs(divisor.mantissa_) >= kPow10[37]) {
    auto r = divisor.RoundTo(divisor.scale_ - 1);
    if (!r || r->mantissa_ == 0) return std::nullopt;
    divisor = *r;
  }
  bool negative = (a.mantissa_ < 0) != (divisor.mantissa_ < 0);
  UInt128 num = static_cast<UInt128>(Abs(a.mantissa_));
  UInt128 den = static_cast<UInt128>(Abs(divisor.mantissa_));
  UInt128 q = num / den;
  UInt128 r = num % den;
  int scale = a.scale_ - divisor.scale_;
  const UInt128 limit = static_cast<UInt128>(kPow10[37]);
  while (scale < 0) {
    if (q >= limit) return std::nullopt;
    r *= 10;
    q = q * 10 + r / den;
    r %= den;
    ++scale;
  }
  while (r != 0 && scale < kMaxScale && q < limit) {
    r *= 10;
    q = q * 10 + r / den;
    r %= den;
    ++scale;
  }
  if (r * 2 >= den && r != 0) ++q;  // round the last kept digit half up
  Int128 m = static_cast<Int128>(q);
  return Decimal(negative ? -m : m, scale).Normalized();
}

std::optional<Decimal> Decimal::DivTrunc(const Decimal& a, const Decimal& b) {
  if (b.mantissa_ == 0) return std::nullopt;
  int scale = std::max(a.scale_, b.scale_);
  auto x = a.Rescaled(scale);
  auto y = b.Rescaled(scale);
  if (!x || !y) return std::nullopt;
  return Decimal(x->mantissa_ / y->mantissa_, 0);
}

std::optional<Decimal> Decimal::Mod(const Decimal& a, const Decimal& b) {
  if (b.mantissa_ == 0) return std::nullopt;
  int scale = std::max(a.scale_, b.scale_);
  auto x = a.Rescaled(scale);
  auto y = b.Rescaled(scale);
  if (!x || !y) return std::nullopt;
  return Decimal(x->mantissa_ % y->mantissa_, scale);
}

std::optional<Decimal> Decimal::RoundTo(int scale) const {
  if (scale >= scale_) return Rescaled(scale);
  int drop = scale_ - scale;
  if (drop > kMaxDigits) return Decimal(0, scale);
  Int128 p = kPow10[drop];
  Int128 q = mantissa_ / p;
  Int128 r = Abs(mantissa_ % p);
  if (r * 2 >= p) q += mantissa_ < 0 ? -1 : 1;
  return Decimal(q, scale);
}

std::optional<Decimal> Decimal::TruncateTo(int scale) const {
  if (scale >= scale_) return Rescaled(scale);
  int drop = scale_ - scale;
  if (drop > kMaxDigits) return Decimal(0, scale);
  return Decimal(mantissa_ / kPow10[drop], scale);
}

Decimal Decimal::Floor() const {
  if (scale_ == 0) return *this;
  Int128 p = kPow10[scale_];
  Int128 q = mantissa_ / p;
  if (mantissa_ % p != 0 && mantissa_ < 0) --q;
  return Decimal(q, 0);
}

Decimal Decimal::Ceiling() const {
  if (scale_ == 0) return *this;
  Int128 p = kPow10[scale_];
  Int128 q = mantissa_ / p;
  if (mantissa_ % p != 0 && mantissa_ > 0) ++q;
  return Decimal(q, 0);
}

Decimal Decimal::Normalized() const {
  Decimal d = *this;
  while (d.scale_ > 0 && d.mantissa_ % 10 == 0) {
    d.mantissa_ /= 10;
    --d.scale_;
  }
  return d;
}

std::strong_ordering Decimal::Compare(const Decimal& a, const Decimal& b) {
  if (a.scale_ == b.scale_) return a.mantissa_ <=> b.mantissa_;
  // Integer parts first, then fractional parts at a common scale; both parts of a
  // value share its sign, so the pair orders like the value.
  Int128 ia = a.mantissa_ / kPow10[a.scale_];
  Int128 ib = b.mantissa_ / kPow10[b.scale_];
  if (ia != ib) return ia <=> ib;
  int scale = std::max(a.scale_, b.scale_);
  Int128 fa = (a.mantissa_ % kPow10[a.scale_]) * kPow10[scale - a.scale_];
  Int128 fb = (b.mantissa_ % kPow10[b.scale_]) * kPow10[scale - b.scale_];
  return fa <=> fb;
}

}  // namespace crs::fhirpath
