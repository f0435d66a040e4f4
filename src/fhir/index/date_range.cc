#include "fhir/index/date_range.h"

namespace crs::fhir::index {
namespace {

constexpr int64_t kMsPerMinute = 60'000;
constexpr int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;

// Days from 1970-01-01 to y-m-d (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysIn(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at `*pos`.
bool Digits(std::string_view s, size_t* pos, int n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

// A parsed value: the lower bound in local fields plus the width of its precision.
struct Fields {
  int year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0;
  int offset_minutes = 0;
  enum class Span { kYear, kMonth, kDay, kFixed } span = Span::kYear;
  int64_t fixed_ms = 0;  // for kFixed: hour, minute, second or fraction width
};

bool ParseTime(std::string_view s, size_t* pos, Fields* f) {
  if (!Digits(s, pos, 2, &f->hour) || f->hour > 23) return false;
  f->span = Fields::Span::kFixed;
  f->fixed_ms = kMsPerHour;
  if (!Expect(s, pos, ':')) return true;
  if (!Digits(s, pos, 2, &f->minute) || f->minute > 59) return false;
  f->fixed_ms = kMsPerMinute;
  if (!Expect(s, pos, ':')) return true;
  if (!Digits(s, pos, 2, &f->second) || f->second > 60) return false;
  f->fixed_ms = 1000;
  if (!Expect(s, pos, '.')) return true;
  int digits = 0;
  int64_t width = 1000;
  while (*pos < s.size() && s[*pos] >= '0' && s[*pos] <= '9') {
    if (digits < 3) {
      f->millis = f->millis * 10 + (s[*pos] - '0');
      width /= 10;
    }
    ++digits;
    ++*pos;
  }
  if (digits == 0) return false;
  for (int i = digits; i < 3; ++i) f->millis *= 10;
  f->fixed_ms = width;
  return true;
}

bool ParseZone(std::string_view s, size_t* pos, Fields* f) {
  if (*pos == s.size()) return true;  // no zone: read as UTC
  if (Expect(s, pos, 'Z')) return true;
  char sign = s[*pos];
  if (sign != '+' && sign != '-') return false;
  ++*pos;
  int h = 0, m = 0;
  if (!Digits(s, pos, 2, &h) || !Expect(s, pos, ':') || !Digits(s, pos, 2, &m)) return false;
  if (h > 14 || m > 59) return false;
  f->offset_minutes = (sign == '-' ? -1 : 1) * (h * 60 + m);
  return true;
}

std::optional<Fields> Parse(std::string_view s) {
  Fields f;
  size_t pos = 0;
  if (!Digits(s, &pos, 4, &f.year) || f.year < 1) return std::nullopt;
  if (pos == s.size()) return f;
  if (!Expect(s, &pos, '-') || !Digits(s, &pos, 2, &f.month) || f.month < 1 || f.month > 12) {
    return std::nullopt;
  }
  f.span = Fields::Span::kMonth;
  if (pos == s.size()) return f;
  if (!Expect(s, &pos, '-') || !Digits(s, &pos, 2, &f.day) || f.day < 1 ||
      f.day > DaysIn(f.year, f.month)) {
    return std::nullopt;
  }
  f.span = Fields::Span::kDay;
  if (pos == s.size()) return f;
  if (!Expect(s, &pos, 'T') || !ParseTime(s, &pos, &f) || !ParseZone(s, &pos, &f) ||
      pos != s.size()) {
    return std::nullopt;
  }
  return f;
}

}  // namespace

int64_t EpochMillis(int year, int month, int day, int hour, int minute, int second,
                    int millisecond) {
  return DaysFromCivil(year, month, day) * kMsPerDay + hour * kMsPerHour + minute * kMsPerMinute +
         second * int64_t{1000} + millisecond;
}

std::optional<DateRange> ParseSearchDate(std::string_view text) {
  std::optional<Fields> f = Parse(text);
  if (!f) return std::nullopt;
  DateRange r;
  r.low_ms = EpochMillis(f->year, f->month, f->day, f->hour, f->minute, f->second, f->millis) -
             f->offset_minutes * kMsPerMinute;
  switch (f->span) {
    case Fields::Span::kYear:
      r.high_ms = EpochMillis(f->year + 1, 1, 1);
      break;
    case Fields::Span::kMonth:
      r.high_ms =
          f->month == 12 ? EpochMillis(f->year + 1, 1, 1) : EpochMillis(f->year, f->month + 1, 1);
      break;
    case Fields::Span::kDay:
      r.high_ms = r.low_ms + kMsPerDay;
      break;
    case Fields::Span::kFixed:
      r.high_ms = r.low_ms + f->fixed_ms;
      break;
  }
  return r;
}

}  // namespace crs::fhir::index
