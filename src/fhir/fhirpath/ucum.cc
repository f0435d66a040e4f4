#include "fhir/fhirpath/ucum.h"

#include <cctype>
#include <charconv>

namespace crs::fhirpath::ucum {
namespace {

enum Dim { kM, kG, kS, kRad, kK, kC, kCd, kMol, kArb };

struct Atom {
  std::string_view code;
  std::string_view factor;  // in base units
  Dimensions dims;
  bool metric;  // takes prefixes
};

constexpr Dimensions D(int m, int g, int s, int rad = 0, int k = 0, int c = 0, int cd = 0,
                       int mol = 0, int arb = 0) {
  return {static_cast<int8_t>(m),   static_cast<int8_t>(g),   static_cast<int8_t>(s),
          static_cast<int8_t>(rad), static_cast<int8_t>(k),   static_cast<int8_t>(c),
          static_cast<int8_t>(cd),  static_cast<int8_t>(mol), static_cast<int8_t>(arb)};
}

// Base units, SI derived units and the common non-SI units of clinical data.
constexpr Atom kAtoms[] = {
    {"m", "1", D(1, 0, 0), true},
    {"g", "1", D(0, 1, 0), true},
    {"s", "1", D(0, 0, 1), true},
    {"rad", "1", D(0, 0, 0, 1), true},
    {"K", "1", D(0, 0, 0, 0, 1), true},
    {"C", "1", D(0, 0, 0, 0, 0, 1), true},
    {"cd", "1", D(0, 0, 0, 0, 0, 0, 1), true},
    {"mol", "1", D(0, 0, 0, 0, 0, 0, 0, 1), true},
    {"sr", "1", D(0, 0, 0, 2), true},
    {"Hz", "1", D(0, 0, -1), true},
    {"N", "1000", D(1, 1, -2), true},
    {"Pa", "1000", D(-1, 1, -2), true},
    {"J", "1000", D(2, 1, -2), true},
    {"W", "1000", D(2, 1, -3), true},
    {"A", "1", D(0, 0, -1, 0, 0, 1), true},
    {"V", "1000", D(2, 1, -2, 0, 0, -1), true},
    {"F", "0.001", D(-2, -1, 2, 0, 0, 2), true},
    {"Ohm", "1000", D(2, 1, -1, 0, 0, -2), true},
    {"S", "0.001", D(-2, -1, 1, 0, 0, 2), true},
    {"Wb", "1000", D(2, 1, -1, 0, 0, -1), true},
    {"T", "1000", D(0, 1, -1, 0, 0, -1), true},
    {"H", "1000", D(2, 1, 0, 0, 0, -2), true},
    {"lm", "1", D(0, 0, 0, 2, 0, 0, 1), true},
    {"lx", "1", D(-2, 0, 0, 2, 0, 0, 1), true},
    {"Bq", "1", D(0, 0, -1), true},
    {"Gy", "1", D(2, 0, -2), true},
    {"Sv", "1", D(2, 0, -2), true},
    {"l", "0.001", D(3, 0, 0), true},
    {"L", "0.001", D(3, 0, 0), true},
    {"ar", "100", D(2, 0, 0), true},
    {"t", "1000000", D(0, 1, 0), true},
    {"bar", "100000000", D(-1, 1, -2), true},
    {"u", "0.0000000000000000000000016605402", D(0, 1, 0), true},
    {"eV", "0.000000000000000160217733", D(2, 1, -2), true},
    {"cal", "4184", D(2, 1, -2), true},
    {"[Cal]", "4184000", D(2, 1, -2), false},
    {"eq", "1", D(0, 0, 0, 0, 0, 0, 0, 1), true},
    {"osm", "1", D(0, 0, 0, 0, 0, 0, 0, 1), true},
    {"kat", "1", D(0, 0, -1, 0, 0, 0, 0, 1), true},
    {"U", "0.0000000166666666666666666667", D(0, 0, -1, 0, 0, 0, 0, 1), true},
    {"m[Hg]", "133322000", D(-1, 1, -2), true},
    {"m[H2O]", "9806650", D(-1, 1, -2), true},
    {"[iU]", "1", D(0, 0, 0, 0, 0, 0, 0, 0, 1), true},
    {"[IU]", "1", D(0, 0, 0, 0, 0, 0, 0, 0, 1), true},
    {"min", "60", D(0, 0, 1), false},
    {"h", "3600", D(0, 0, 1), false},
    {"d", "86400", D(0, 0, 1), false},
    {"wk", "604800", D(0, 0, 1), false},
    {"mo", "2629800", D(0, 0, 1), false},
    {"mo_j", "2629800", D(0, 0, 1), false},
    {"mo_g", "2629746", D(0, 0, 1), false},
    {"mo_s", "2551442.976", D(0, 0, 1), false},
    {"a", "31557600", D(0, 0, 1), false},
    {"a_j", "31557600", D(0, 0, 1), false},
    {"a_g", "31556952", D(0, 0, 1), false},
    {"a_t", "31556925.216", D(0, 0, 1), false},
    {"deg", "0.0174532925199432957692369077", D(0, 0, 0, 1), false},
    {"'", "0.000290888208665721596153948461", D(0, 0, 0, 1), false},
    {"''", "0.00000484813681109535993589914102", D(0, 0, 0, 1), false},
    {"[pi]", "3.14159265358979323846264338328", D(0, 0, 0), false},
    {"%", "0.01", D(0, 0, 0), false},
    {"[ppth]", "0.001", D(0, 0, 0), false},
    {"[ppm]", "0.000001", D(0, 0, 0), false},
    {"[ppb]", "0.000000001", D(0, 0, 0), false},
    {"[in_i]", "0.0254", D(1, 0, 0), false},
    {"[ft_i]", "0.3048", D(1, 0, 0), false},
    {"[yd_i]", "0.9144", D(1, 0, 0), false},
    {"[mi_i]", "1609.344", D(1, 0, 0), false},
    {"[nmi_i]", "1852", D(1, 0, 0), false},
    {"[lb_av]", "453.59237", D(0, 1, 0), false},
    {"[oz_av]", "28.349523125", D(0, 1, 0), false},
    {"[gr]", "0.06479891", D(0, 1, 0), false},
    {"[stone_av]", "6350.29318", D(0, 1, 0), false},
    {"[gal_us]", "0.003785411784", D(3, 0, 0), false},
    {"[qt_us]", "0.000946352946", D(3, 0, 0), false},
    {"[pt_us]", "0.000473176473", D(3, 0, 0), false},
    {"[foz_us]", "0.0000295735295625", D(3, 0, 0), false},
    {"[cup_us]", "0.0002365882365", D(3, 0, 0), false},
    {"[tsp_us]", "0.00000492892159375", D(3, 0, 0), false},
    {"[tbs_us]", "0.0000147867647812", D(3, 0, 0), false},
    {"[drp]", "0.00000005", D(3, 0, 0), false},
};

struct Prefix {
  std::string_view code;
  std::string_view factor;
};

constexpr Prefix kPrefixes[] = {
    {"da", "10"},         {"Y", "1e24"},  {"Z", "1e21"},  {"E", "1e18"},  {"P", "1e15"},
    {"T", "1e12"},        {"G", "1e9"},   {"M", "1e6"},   {"k", "1e3"},   {"h", "1e2"},
    {"d", "1e-1"},        {"c", "1e-2"},  {"m", "1e-3"},  {"u", "1e-6"},  {"n", "1e-9"},
    {"p", "1e-12"},       {"f", "1e-15"}, {"a", "1e-18"}, {"z", "1e-21"}, {"y", "1e-24"},
};

const Atom* FindAtom(std::string_view code) {
  for (const Atom& a : kAtoms) {
    if (a.code == code) return &a;
  }
  return nullptr;
}

Decimal Dec(std::string_view text) { return *Decimal::Parse(text); }

std::optional<Canonical> Power(const Canonical& c, int exp) {
  Canonical out;
  out.factor = Decimal::FromInt(1);
  for (int i = 0; i < 9; ++i) out.dims[i] = static_cast<int8_t>(c.dims[i] * exp);
  int n = exp < 0 ? -exp : exp;
  for (int i = 0; i < n; ++i) {
    auto f = Decimal::Mul(out.factor, c.factor);
    if (!f) return std::nullopt;
    out.factor = *f;
  }
  if (exp < 0) {
    auto f = Decimal::Div(Decimal::FromInt(1), out.factor);
    if (!f) return std::nullopt;
    out.factor = *f;
  }
  return out;
}

std::optional<Canonical> Combine(const Canonical& a, const Canonical& b, bool divide) {
  Canonical out;
  auto f = divide ? Decimal::Div(a.factor, b.factor) : Decimal::Mul(a.factor, b.factor);
  if (!f) return std::nullopt;
  out.factor = *f;
  for (int i = 0; i < 9; ++i) {
    out.dims[i] = static_cast<int8_t>(divide ? a.dims[i] - b.dims[i] : a.dims[i] + b.dims[i]);
  }
  return out;
}

// Parses a small signed exponent ("2", "-1", "+3").
bool ToInt(std::string_view text, int* out) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size() && *out >= -20 && *out <= 20;
}

class UnitParser {
 public:
  explicit UnitParser(std::string_view s) : s_(s) {}

  std::optional<Canonical> Parse() {
    auto c = Term();
    if (!c || pos_ != s_.size()) return std::nullopt;
    return c;
  }

 private:
  std::optional<Canonical> Term() {
    if (++depth_ > 16) return std::nullopt;
    Canonical result;
    result.factor = Decimal::FromInt(1);
    bool divide = false;
    if (pos_ < s_.size() && s_[pos_] == '/') {
      divide = true;
      ++pos_;
    }
    while (true) {
      auto c = Component();
      if (!c) return std::nullopt;
      auto r = Combine(result, *c, divide);
      if (!r) return std::nullopt;
      result = *r;
      if (pos_ < s_.size() && (s_[pos_] == '.' || s_[pos_] == '/')) {
        divide = s_[pos_] == '/';
        ++pos_;
        continue;
      }
      break;
    }
    --depth_;
    return result;
  }

  std::optional<Canonical> Component() {
    if (pos_ >= s_.size()) return std::nullopt;
    std::optional<Canonical> base;
    if (s_[pos_] == '(') {
      ++pos_;
      base = Term();
      if (!base || pos_ >= s_.size() || s_[pos_] != ')') return std::nullopt;
      ++pos_;
    } else if (s_[pos_] == '{') {
      if (!SkipAnnotation()) return std::nullopt;
      Canonical one;
      one.factor = Decimal::FromInt(1);
      return one;
    } else if (std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      base = Number();
    } else {
      base = Symbol();
    }
    if (!base) return std::nullopt;
    if (pos_ < s_.size() && s_[pos_] == '{' && !SkipAnnotation()) return std::nullopt;
    return base;
  }

  bool SkipAnnotation() {
    size_t end = s_.find('}', pos_);
    if (end == std::string_view::npos) return false;
    pos_ = end + 1;
    return true;
  }

  // "10*3", "10^-2", "1000".
  std::optional<Canonical> Number() {
    size_t start = pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    auto base = Decimal::Parse(s_.substr(start, pos_ - start));
    if (!base) return std::nullopt;
    Canonical c;
    c.factor = *base;
    if (pos_ < s_.size() && (s_[pos_] == '*' || s_[pos_] == '^')) {
      ++pos_;
      int exp = 0;
      if (!Exponent(&exp)) return std::nullopt;
      return Power(c, exp);
    }
    return c;
  }

  bool Exponent(int* exp) {
    size_t start = pos_;
    if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
    size_t digits = pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    if (pos_ == digits || pos_ - digits > 2) return false;
    return ToInt(s_.substr(start, pos_ - start), exp);
  }

  // A prefixed atom with an optional exponent: "mg", "cm2", "s-1", "mm[Hg]".
  std::optional<Canonical> Symbol() {
    size_t start = pos_;
    int bracket = 0;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '[') ++bracket;
      if (c == ']') --bracket;
      if (bracket == 0 && (c == '.' || c == '/' || c == '(' || c == ')' || c == '{')) break;
      ++pos_;
    }
    std::string_view sym = s_.substr(start, pos_ - start);
    // A trailing exponent outside brackets.
    size_t end = sym.size();
    while (end > 0 && std::isdigit(static_cast<unsigned char>(sym[end - 1]))) --end;
    int exp = 1;
    if (end < sym.size()) {
      size_t e = end;
      if (e > 0 && (sym[e - 1] == '-' || sym[e - 1] == '+')) --e;
      if (e > 0) {
        if (!ToInt(sym.substr(e), &exp)) return std::nullopt;
        sym = sym.substr(0, e);
      }
    }
    auto atom = Atomic(sym);
    if (!atom) return std::nullopt;
    if (exp == 1) return atom;
    return Power(*atom, exp);
  }

  static std::optional<Canonical> Atomic(std::string_view sym) {
    if (sym.empty()) return std::nullopt;
    if (const Atom* a = FindAtom(sym)) return Canonical{Dec(a->factor), a->dims};
    for (const Prefix& p : kPrefixes) {
      if (sym.size() > p.code.size() && sym.substr(0, p.code.size()) == p.code) {
        const Atom* a = FindAtom(sym.substr(p.code.size()));
        if (a && a->metric) {
          auto f = Decimal::Mul(Dec(p.factor), Dec(a->factor));
          if (!f) return std::nullopt;
          return Canonical{*f, a->dims};
        }
      }
    }
    return std::nullopt;
  }

  std::string_view s_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// UCUM code standing in for a calendar keyword of a week or less.
std::string_view CalendarUcum(std::string_view keyword) {
  std::string_view k = SingularCalendarKeyword(keyword);
  if (k == "week") return "wk";
  if (k == "day") return "d";
  if (k == "hour") return "h";
  if (k == "minute") return "min";
  if (k == "second") return "s";
  if (k == "millisecond") return "ms";
  return {};
}

// Months in a calendar year/month keyword; 0 for any other unit.
int CalendarMonths(std::string_view unit) {
  std::string_view k = SingularCalendarKeyword(unit);
  if (k == "year") return 12;
  if (k == "month") return 1;
  return 0;
}

// Both quantities in a common unit, or nullopt when incomparable.
bool ToCommon(const Decimal& a, std::string_view a_unit, const Decimal& b,
              std::string_view b_unit, Decimal* ca, Decimal* cb) {
  if (a_unit == b_unit) {
    *ca = a;
    *cb = b;
    return true;
  }
  int ma = CalendarMonths(a_unit);
  int mb = CalendarMonths(b_unit);
  if (ma != 0 || mb != 0) {
    if (ma == 0 || mb == 0) return false;
    auto x = Decimal::Mul(a, Decimal::FromInt(ma));
    auto y = Decimal::Mul(b, Decimal::FromInt(mb));
    if (!x || !y) return false;
    *ca = *x;
    *cb = *y;
    return true;
  }
  std::string_view ua = IsCalendarKeyword(a_unit) ? CalendarUcum(a_unit) : a_unit;
  std::string_view ub = IsCalendarKeyword(b_unit) ? CalendarUcum(b_unit) : b_unit;
  if (ua == ub) {
    *ca = a;
    *cb = b;
    return true;
  }
  auto fa = Canonicalize(ua);
  auto fb = Canonicalize(ub);
  if (!fa || !fb || fa->dims != fb->dims || fa->dims[kArb] != 0) return false;
  auto x = Decimal::Mul(a, fa->factor);
  auto y = Decimal::Mul(b, fb->factor);
  if (!x || !y) return false;
  *ca = *x;
  *cb = *y;
  return true;
}

std::string UnitFromDims(const Dimensions& dims) {
  static constexpr std::string_view kNames[] = {"m", "g", "s", "rad", "K", "C", "cd", "mol"};
  std::string out;
  for (bool positive : {true, false}) {
    for (int i = 0; i < 8; ++i) {
      if (dims[i] == 0 || (dims[i] > 0) != positive) continue;
      if (!out.empty()) out += '.';
      out += kNames[i];
      if (dims[i] != 1) out += std::to_string(dims[i]);
    }
  }
  return out.empty() ? "1" : out;
}

std::optional<QuantityValue> MulDiv(const QuantityValue& a, const QuantityValue& b, bool divide) {
  auto one = [](std::string_view u) { return u.empty() || u == "1"; };
  if (one(b.unit) || (one(a.unit) && !divide)) {
    auto v = divide ? Decimal::Div(a.value, b.value) : Decimal::Mul(a.value, b.value);
    if (!v) return std::nullopt;
    return QuantityValue{*v, one(b.unit) ? a.unit : b.unit};
  }
  std::string_view ua = IsCalendarKeyword(a.unit) ? CalendarUcum(a.unit) : a.unit;
  std::string_view ub = IsCalendarKeyword(b.unit) ? CalendarUcum(b.unit) : b.unit;
  auto ca = Canonicalize(ua.empty() ? "1" : ua);
  auto cb = Canonicalize(ub.empty() ? "1" : ub);
  if (!ca || !cb || ca->dims[kArb] != 0 || cb->dims[kArb] != 0) return std::nullopt;
  auto x = Decimal::Mul(a.value, ca->factor);
  auto y = Decimal::Mul(b.value, cb->factor);
  if (!x || !y) return std::nullopt;
  auto v = divide ? Decimal::Div(*x, *y) : Decimal::Mul(*x, *y);
  if (!v) return std::nullopt;
  Dimensions dims{};
  for (int i = 0; i < 9; ++i) {
    dims[i] = static_cast<int8_t>(divide ? ca->dims[i] - cb->dims[i] : ca->dims[i] + cb->dims[i]);
  }
  return QuantityValue{*v, UnitFromDims(dims)};
}

}  // namespace

std::optional<Canonical> Canonicalize(std::string_view code) {
  if (code.empty() || code.size() > 128) return std::nullopt;
  if (code == "1") return Canonical{Decimal::FromInt(1), {}};
  return UnitParser(code).Parse();
}

bool IsCalendarKeyword(std::string_view unit) {
  static constexpr std::string_view kWords[] = {
      "year",  "years",  "month",  "months",  "week",   "weeks",   "day",          "days",
      "hour",  "hours",  "minute", "minutes", "second", "seconds", "millisecond", "milliseconds"};
  for (std::string_view w : kWords) {
    if (unit == w) return true;
  }
  return false;
}

std::string_view SingularCalendarKeyword(std::string_view unit) {
  if (IsCalendarKeyword(unit) && unit.back() == 's') return unit.substr(0, unit.size() - 1);
  return unit;
}

std::optional<int> Compare(const Decimal& a, std::string_view a_unit, const Decimal& b,
                           std::string_view b_unit) {
  Decimal x, y;
  if (!ToCommon(a, a_unit, b, b_unit, &x, &y)) return std::nullopt;
  auto c = Decimal::Compare(x, y);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

bool Equivalent(const Decimal& a, std::string_view a_unit, const Decimal& b,
                std::string_view b_unit) {
  Decimal x, y;
  if (!ToCommon(a, a_unit, b, b_unit, &x, &y)) return false;
  int scale = std::min(x.scale(), y.scale());
  auto rx = x.RoundTo(scale);
  auto ry = y.RoundTo(scale);
  return rx && ry && *rx == *ry;
}

std::optional<Decimal> Convert(const Decimal& value, std::string_view from, std::string_view to) {
  Decimal x, one;
  if (!ToCommon(value, from, Decimal::FromInt(1), to, &x, &one)) return std::nullopt;
  return Decimal::Div(x, one);
}

bool Comparable(std::string_view a_unit, std::string_view b_unit) {
  Decimal x, y;
  return ToCommon(Decimal::FromInt(1), a_unit, Decimal::FromInt(1), b_unit, &x, &y);
}

std::optional<QuantityValue> Multiply(const QuantityValue& a, const QuantityValue& b) {
  return MulDiv(a, b, false);
}

std::optional<QuantityValue> Divide(const QuantityValue& a, const QuantityValue& b) {
  return MulDiv(a, b, true);
}

std::optional<QuantityValue> ParseQuantityString(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  size_t start = i;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    ++i;
  }
  auto value = Decimal::Parse(text.substr(start, i - start));
  if (!value) return std::nullopt;
  while (i < text.size() && text[i] == ' ') ++i;
  std::string_view rest = text.substr(i);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  if (rest.empty()) return QuantityValue{*value, "1"};
  if (rest.size() >= 2 && rest.front() == '\'' && rest.back() == '\'') {
    std::string_view unit = rest.substr(1, rest.size() - 2);
    if (unit.empty() || unit.find('\'') != std::string_view::npos) return std::nullopt;
    return QuantityValue{*value, std::string(unit)};
  }
  if (IsCalendarKeyword(rest)) {
    return QuantityValue{*value, std::string(SingularCalendarKeyword(rest))};
  }
  return std::nullopt;
}

std::string FormatQuantity(const Decimal& value, std::string_view unit) {
  std::string out = value.ToString();
  out += ' ';
  if (IsCalendarKeyword(unit)) {
    out += unit;
  } else {
    out += '\'';
    out += unit;
    out += '\'';
  }
  return out;
}

}  // namespace crs::fhirpath::ucum
