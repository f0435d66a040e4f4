#include "fhir/primitives.h"

#include <array>
#include <utility>

namespace crs::fhir {
namespace {

constexpr std::array<std::pair<std::string_view, PrimitiveType>, 20> kNames = {{
    {"base64Binary", PrimitiveType::kBase64Binary},
    {"boolean", PrimitiveType::kBoolean},
    {"canonical", PrimitiveType::kCanonical},
    {"code", PrimitiveType::kCode},
    {"date", PrimitiveType::kDate},
    {"dateTime", PrimitiveType::kDateTime},
    {"decimal", PrimitiveType::kDecimal},
    {"id", PrimitiveType::kId},
    {"instant", PrimitiveType::kInstant},
    {"integer", PrimitiveType::kInteger},
    {"markdown", PrimitiveType::kMarkdown},
    {"oid", PrimitiveType::kOid},
    {"positiveInt", PrimitiveType::kPositiveInt},
    {"string", PrimitiveType::kString},
    {"time", PrimitiveType::kTime},
    {"unsignedInt", PrimitiveType::kUnsignedInt},
    {"uri", PrimitiveType::kUri},
    {"url", PrimitiveType::kUrl},
    {"uuid", PrimitiveType::kUuid},
    {"xhtml", PrimitiveType::kXhtml},
}};

// Java's \s.
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLowerHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }

// A cursor over the string for the date/time grammars.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool done() const { return pos_ == s_.size(); }
  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool Take(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  // Reads exactly `n` digits into *value.
  bool Digits(int n, int* value) {
    if (s_.size() - pos_ < static_cast<size_t>(n)) return false;
    int v = 0;
    for (int i = 0; i < n; ++i) {
      char c = s_[pos_ + i];
      if (!IsDigit(c)) return false;
      v = v * 10 + (c - '0');
    }
    pos_ += n;
    *value = v;
    return true;
  }
  // (\.[0-9]+)?
  bool OptionalFraction() {
    if (!Take('.')) return true;
    size_t start = pos_;
    while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    return pos_ > start;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// YYYY(-MM(-DD)?)?; *full is set when the day is present. The year 0000 is excluded by the
// R4 regex.
bool ScanDate(Scanner& in, bool* full) {
  int year, month, day;
  *full = false;
  if (!in.Digits(4, &year) || year == 0) return false;
  if (!in.Take('-')) return true;
  if (!in.Digits(2, &month) || month < 1 || month > 12) return false;
  if (!in.Take('-')) return true;
  if (!in.Digits(2, &day) || day < 1 || day > DaysInMonth(year, month)) return false;
  *full = true;
  return true;
}

// hh:mm:ss(\.[0-9]+)?, seconds up to 60 (leap second), as the regex allows.
bool ScanTime(Scanner& in) {
  int h, m, s;
  return in.Digits(2, &h) && h <= 23 && in.Take(':') && in.Digits(2, &m) && m <= 59 &&
         in.Take(':') && in.Digits(2, &s) && s <= 60 && in.OptionalFraction();
}

// Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)
bool ScanZone(Scanner& in) {
  if (in.Take('Z')) return true;
  if (!in.Take('+') && !in.Take('-')) return false;
  int h, m;
  if (!in.Digits(2, &h) || !in.Take(':') || !in.Digits(2, &m)) return false;
  return (h <= 13 && m <= 59) || (h == 14 && m == 0);
}

}  // namespace

std::optional<PrimitiveType> PrimitiveTypeFromName(std::string_view name) {
  for (const auto& [n, type] : kNames) {
    if (n == name) return type;
  }
  return std::nullopt;
}

std::string_view PrimitiveTypeName(PrimitiveType type) {
  return kNames[static_cast<size_t>(type)].first;
}

JsonForm JsonFormOf(PrimitiveType type) {
  switch (type) {
    case PrimitiveType::kBoolean:
      return JsonForm::kBoolean;
    case PrimitiveType::kInteger:
    case PrimitiveType::kPositiveInt:
    case PrimitiveType::kUnsignedInt:
      return JsonForm::kInteger;
    case PrimitiveType::kDecimal:
      return JsonForm::kDecimal;
    default:
      return JsonForm::kString;
  }
}

bool IsValidDate(std::string_view s) {
  Scanner in(s);
  bool full;
  return ScanDate(in, &full) && in.done();
}

bool IsValidDateTime(std::string_view s) {
  Scanner in(s);
  bool full;
  if (!ScanDate(in, &full)) return false;
  if (in.done()) return true;
  // A time needs a full date and a time zone.
  return full && in.Take('T') && ScanTime(in) && ScanZone(in) && in.done();
}

bool IsValidInstant(std::string_view s) {
  Scanner in(s);
  bool full;
  return ScanDate(in, &full) && full && in.Take('T') && ScanTime(in) && ScanZone(in) && in.done();
}

bool IsValidTime(std::string_view s) {
  Scanner in(s);
  return ScanTime(in) && in.done();
}

bool IsValidId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool IsValidCode(std::string_view s) {
  if (s.empty() || IsSpace(s.front()) || IsSpace(s.back())) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    if (IsSpace(s[i]) && IsSpace(s[i - 1])) return false;
  }
  return true;
}

bool IsValidUri(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (IsSpace(c)) return false;
  }
  return true;
}

bool IsValidOid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:oid:";
  if (!s.starts_with(kPrefix)) return false;
  s.remove_prefix(kPrefix.size());
  // [0-2](\.(0|[1-9][0-9]*))+
  if (s.size() < 3 || s[0] < '0' || s[0] > '2') return false;
  size_t i = 1;
  int arcs = 0;
  while (i < s.size()) {
    if (s[i] != '.') return false;
    ++i;
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start || (s[start] == '0' && i - start > 1)) return false;
    ++arcs;
  }
  return arcs > 0;
}

bool IsValidUuid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:uuid:";
  if (!s.starts_with(kPrefix)) return false;
  s.remove_prefix(kPrefix.size());
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsLowerHex(s[i])) return false;
  }
  return true;
}

bool IsValidBase64(std::string_view s) {
  // (\s*([0-9a-zA-Z\+/=]){4}\s*)+ : whitespace only between complete groups of four.
  // Beyond the regex, '=' padding may only end the data (it cannot be decoded otherwise).
  size_t count = 0;
  size_t padding = 0;
  for (char c : s) {
    if (IsSpace(c)) {
      if (count % 4 != 0) return false;
      continue;
    }
    bool alpha =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || IsDigit(c) || c == '+' || c == '/';
    if (c == '=') {
      ++padding;
    } else if (!alpha || padding > 0) {
      return false;
    }
    ++count;
  }
  // At most two '=' and only within the final group of four.
  return count > 0 && count % 4 == 0 && padding <= 2;
}

bool IsValidString(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c == '\v' || c == '\f') return false;
  }
  return true;
}

size_t FindForbiddenControl(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return i;
  }
  return std::string_view::npos;
}

bool IsValidStringForm(PrimitiveType type, std::string_view s) {
  switch (type) {
    case PrimitiveType::kBase64Binary:
      return IsValidBase64(s);
    case PrimitiveType::kCanonical:
    case PrimitiveType::kUri:
    case PrimitiveType::kUrl:
      return IsValidUri(s);
    case PrimitiveType::kCode:
      return IsValidCode(s);
    case PrimitiveType::kDate:
      return IsValidDate(s);
    case PrimitiveType::kDateTime:
      return IsValidDateTime(s);
    case PrimitiveType::kId:
      return IsValidId(s);
    case PrimitiveType::kInstant:
      return IsValidInstant(s);
    case PrimitiveType::kMarkdown:
    case PrimitiveType::kString:
      return IsValidString(s);
    case PrimitiveType::kOid:
      return IsValidOid(s);
    case PrimitiveType::kTime:
      return IsValidTime(s);
    case PrimitiveType::kUuid:
      return IsValidUuid(s);
    case PrimitiveType::kXhtml:
      return !s.empty();
    case PrimitiveType::kBoolean:
    case PrimitiveType::kDecimal:
    case PrimitiveType::kInteger:
    case PrimitiveType::kPositiveInt:
    case PrimitiveType::kUnsignedInt:
      return false;
  }
  return false;
}

bool IsInIntegerRange(PrimitiveType type, int64_t v) {
  constexpr int64_t kMax = 2147483647;
  switch (type) {
    case PrimitiveType::kInteger:
      return v >= -kMax - 1 && v <= kMax;
    case PrimitiveType::kPositiveInt:
      return v >= 1 && v <= kMax;
    case PrimitiveType::kUnsignedInt:
      return v >= 0 && v <= kMax;
    default:
      return false;
  }
}

}  // namespace crs::fhir
