#include "fhir/fhirpath/date_time.h"

#include <cstdio>

namespace crs::fhirpath {
namespace {

constexpr int64_t kMsPerDay = 86400000;

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

bool Peek(std::string_view s, size_t pos, char c) { return pos < s.size() && s[pos] == c; }

// YYYY(-MM(-DD)?)?
bool ParseDatePart(std::string_view s, size_t* pos, DateTimeValue* v) {
  int year;
  if (!Digits(s, pos, 4, &year) || year < 1) return false;
  v->year = static_cast<int16_t>(year);
  v->precision = DatePrecision::kYear;
  if (!Peek(s, *pos, '-')) return true;
  ++*pos;
  int month;
  if (!Digits(s, pos, 2, &month) || month < 1 || month > 12) return false;
  v->month = static_cast<uint8_t>(month);
  v->precision = DatePrecision::kMonth;
  if (!Peek(s, *pos, '-')) return true;
  ++*pos;
  int day;
  if (!Digits(s, pos, 2, &day) || day < 1 || day > DaysInMonth(year, month)) return false;
  v->day = static_cast<uint8_t>(day);
  v->precision = DatePrecision::kDay;
  return true;
}

// hh(:mm(:ss(.f+)?)?)?
bool ParseTimePart(std::string_view s, size_t* pos, DateTimeValue* v) {
  int hour;
  if (!Digits(s, pos, 2, &hour) || hour > 23) return false;
  v->hour = static_cast<uint8_t>(hour);
  v->precision = DatePrecision::kHour;
  if (!Peek(s, *pos, ':')) return true;
  ++*pos;
  int minute;
  if (!Digits(s, pos, 2, &minute) || minute > 59) return false;
  v->minute = static_cast<uint8_t>(minute);
  v->precision = DatePrecision::kMinute;
  if (!Peek(s, *pos, ':')) return true;
  ++*pos;
  int second;
  if (!Digits(s, pos, 2, &second) || second > 59) return false;
  v->second = static_cast<uint8_t>(second);
  v->precision = DatePrecision::kSecond;
  if (!Peek(s, *pos, '.')) return true;
  if (*pos + 1 >= s.size() || s[*pos + 1] < '0' || s[*pos + 1] > '9') return true;
  ++*pos;
  int ms = 0;
  int n = 0;
  while (*pos < s.size() && s[*pos] >= '0' && s[*pos] <= '9') {
    if (n < 3) ms = ms * 10 + (s[*pos] - '0');
    ++n;
    ++*pos;
  }
  for (; n < 3; ++n) ms *= 10;
  v->millisecond = static_cast<uint16_t>(ms);
  v->precision = DatePrecision::kMillisecond;
  return true;
}

// Z | (+|-)hh:mm, optional.
bool ParseZone(std::string_view s, size_t* pos, DateTimeValue* v) {
  if (Peek(s, *pos, 'Z')) {
    ++*pos;
    v->has_tz = true;
    v->tz_minutes = 0;
    return true;
  }
  if (!Peek(s, *pos, '+') && !Peek(s, *pos, '-')) return true;
  bool negative = s[*pos] == '-';
  ++*pos;
  int h, m;
  if (!Digits(s, pos, 2, &h) || !Peek(s, *pos, ':')) return false;
  ++*pos;
  if (!Digits(s, pos, 2, &m) || h > 14 || m > 59) return false;
  v->has_tz = true;
  v->tz_minutes = static_cast<int16_t>((negative ? -1 : 1) * (h * 60 + m));
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t MsOfDay(const DateTimeValue& v) {
  return ((v.hour * 60LL + v.minute) * 60 + v.second) * 1000 + v.millisecond;
}

// Sets the date and time fields from days since the epoch and ms into the day.
bool SetFromDaysAndMs(DateTimeValue* v, int64_t days, int64_t ms) {
  days += FloorDiv(ms, kMsPerDay);
  ms -= FloorDiv(ms, kMsPerDay) * kMsPerDay;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y < 1 || y > 9999) return false;
  v->year = static_cast<int16_t>(y);
  v->month = static_cast<uint8_t>(m);
  v->day = static_cast<uint8_t>(d);
  v->hour = static_cast<uint8_t>(ms / 3600000);
  v->minute = static_cast<uint8_t>(ms / 60000 % 60);
  v->second = static_cast<uint8_t>(ms / 1000 % 60);
  v->millisecond = static_cast<uint16_t>(ms % 1000);
  return true;
}

DateTimeValue ToUtc(const DateTimeValue& v) {
  if (!v.has_tz || v.tz_minutes == 0 || !v.HasTime() || v.kind == DateTimeKind::kTime) return v;
  DateTimeValue out = v;
  int64_t days = DaysFromCivil(v.year, v.month, v.day);
  if (!SetFromDaysAndMs(&out, days, MsOfDay(v) - v.tz_minutes * 60000LL)) return v;
  out.tz_minutes = 0;
  return out;
}

// Precision used for comparison: seconds and milliseconds are one level.
int Level(const DateTimeValue& v) {
  int p = static_cast<int>(v.precision);
  return p > static_cast<int>(DatePrecision::kSecond) ? static_cast<int>(DatePrecision::kSecond)
                                                       : p;
}

int64_t Field(const DateTimeValue& v, int level) {
  switch (level) {
    case 0: return v.year;
    case 1: return v.month;
    case 2: return v.day;
    case 3: return v.hour;
    case 4: return v.minute;
    default: return v.second * 1000LL + v.millisecond;
  }
}

// Milliseconds since the epoch of a value read as if it were UTC.
int64_t EpochMs(const DateTimeValue& v) {
  return DaysFromCivil(v.year, v.month, v.day) * kMsPerDay + MsOfDay(v);
}

enum class CalendarUnit { kYear, kMonth, kWeek, kDay, kHour, kMinute, kSecond, kMillisecond };

std::optional<CalendarUnit> UnitOf(std::string_view u) {
  if (u == "year" || u == "years") return CalendarUnit::kYear;
  if (u == "month" || u == "months") return CalendarUnit::kMonth;
  if (u == "week" || u == "weeks" || u == "wk") return CalendarUnit::kWeek;
  if (u == "day" || u == "days" || u == "d") return CalendarUnit::kDay;
  if (u == "hour" || u == "hours" || u == "h") return CalendarUnit::kHour;
  if (u == "minute" || u == "minutes" || u == "min") return CalendarUnit::kMinute;
  if (u == "second" || u == "seconds" || u == "s") return CalendarUnit::kSecond;
  if (u == "millisecond" || u == "milliseconds" || u == "ms") return CalendarUnit::kMillisecond;
  return std::nullopt;
}

}  // namespace

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
  return kDays[month - 1];
}

std::optional<DateTimeValue> DateTimeValue::ParseLiteral(std::string_view text) {
  DateTimeValue v;
  size_t pos = 0;
  if (Peek(text, 0, 'T')) {
    v.kind = DateTimeKind::kTime;
    pos = 1;
    if (!ParseTimePart(text, &pos, &v) || pos != text.size()) return std::nullopt;
    return v;
  }
  if (!ParseDatePart(text, &pos, &v)) return std::nullopt;
  if (Peek(text, pos, 'T')) {
    v.kind = DateTimeKind::kDateTime;
    ++pos;
    if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (v.precision != DatePrecision::kDay) return std::nullopt;
      if (!ParseTimePart(text, &pos, &v) || !ParseZone(text, &pos, &v)) return std::nullopt;
    }
  }
  if (pos != text.size()) return std::nullopt;
  return v;
}

std::optional<DateTimeValue> DateTimeValue::ParseDate(std::string_view text) {
  DateTimeValue v;
  size_t pos = 0;
  if (!ParseDatePart(text, &pos, &v) || pos != text.size()) return std::nullopt;
  return v;
}

std::optional<DateTimeValue> DateTimeValue::ParseDateTime(std::string_view text) {
  DateTimeValue v;
  v.kind = DateTimeKind::kDateTime;
  size_t pos = 0;
  if (!ParseDatePart(text, &pos, &v)) return std::nullopt;
  if (Peek(text, pos, 'T')) {
    ++pos;
    if (pos < text.size()) {
      if (v.precision != DatePrecision::kDay) return std::nullopt;
      if (!ParseTimePart(text, &pos, &v) || !ParseZone(text, &pos, &v)) return std::nullopt;
    }
  }
  if (pos != text.size()) return std::nullopt;
  return v;
}

std::optional<DateTimeValue> DateTimeValue::ParseTime(std::string_view text) {
  DateTimeValue v;
  v.kind = DateTimeKind::kTime;
  size_t pos = Peek(text, 0, 'T') ? 1 : 0;
  if (!ParseTimePart(text, &pos, &v) || pos != text.size()) return std::nullopt;
  return v;
}

std::string DateTimeValue::ToString() const {
  char buf[48];
  int n = 0;
  auto put = [&](const char* fmt, int value) {
    n += std::snprintf(buf + n, sizeof(buf) - n, fmt, value);
  };
  if (kind != DateTimeKind::kTime) {
    put("%04d", year);
    if (precision >= DatePrecision::kMonth) put("-%02d", month);
    if (precision >= DatePrecision::kDay) put("-%02d", day);
    if (kind == DateTimeKind::kDate || precision < DatePrecision::kHour) {
      return std::string(buf, n);
    }
    buf[n++] = 'T';
  }
  put("%02d", hour);
  if (precision >= DatePrecision::kMinute) put(":%02d", minute);
  if (precision >= DatePrecision::kSecond) put(":%02d", second);
  if (precision >= DatePrecision::kMillisecond) put(".%03d", millisecond);
  if (has_tz && kind == DateTimeKind::kDateTime) {
    if (tz_minutes == 0) {
      buf[n++] = 'Z';
    } else {
      int abs = tz_minutes < 0 ? -tz_minutes : tz_minutes;
      buf[n++] = tz_minutes < 0 ? '-' : '+';
      put("%02d", abs / 60);
      put(":%02d", abs % 60);
    }
  }
  return std::string(buf, n);
}

int DateTimeValue::PrecisionDigits() const {
  if (kind == DateTimeKind::kTime) {
    static constexpr int kTime[] = {0, 0, 0, 2, 4, 6, 9};
    return kTime[static_cast<int>(precision)];
  }
  static constexpr int kDigits[] = {4, 6, 8, 10, 12, 14, 17};
  return kDigits[static_cast<int>(precision)];
}

std::optional<int> CompareDateTimes(const DateTimeValue& a, const DateTimeValue& b) {
  bool a_time = a.kind == DateTimeKind::kTime;
  if (a_time != (b.kind == DateTimeKind::kTime)) return std::nullopt;
  DateTimeValue x = a;
  DateTimeValue y = b;
  if (x.has_tz && y.has_tz) {
    x = ToUtc(x);
    y = ToUtc(y);
  } else if (x.has_tz != y.has_tz && x.HasTime() && y.HasTime() && !a_time) {
    // One side is in an unknown zone, anywhere from UTC-12 to UTC+14: only a gap
    // wider than that decides.
    const DateTimeValue& zoned = x.has_tz ? x : y;
    const DateTimeValue& local = x.has_tz ? y : x;
    int64_t utc = EpochMs(ToUtc(zoned));
    int64_t lo = EpochMs(local) - 14 * 3600000LL;
    int64_t hi = EpochMs(local) + 13 * 3600000LL;  // +12h, plus up to an hour of precision
    int cmp = 0;
    if (utc < lo) cmp = -1;
    if (utc > hi) cmp = 1;
    if (cmp == 0) return std::nullopt;
    return x.has_tz ? cmp : -cmp;
  }
  int la = Level(x);
  int lb = Level(y);
  int start = a_time ? 3 : 0;
  int common = la < lb ? la : lb;
  for (int level = start; level <= common; ++level) {
    int64_t fa = Field(x, level);
    int64_t fb = Field(y, level);
    if (fa != fb) return fa < fb ? -1 : 1;
  }
  if (la != lb) return std::nullopt;
  return 0;
}

bool DateTimesEquivalent(const DateTimeValue& a, const DateTimeValue& b) {
  if ((a.kind == DateTimeKind::kTime) != (b.kind == DateTimeKind::kTime)) return false;
  if (Level(a) != Level(b)) return false;
  auto cmp = CompareDateTimes(a, b);
  return cmp.has_value() && *cmp == 0;
}

std::optional<DateTimeValue> AddToDateTime(const DateTimeValue& v, const Decimal& amount,
                                           std::string_view unit) {
  auto u = UnitOf(unit);
  if (!u) return std::nullopt;
  auto whole = amount.TruncateTo(0);
  if (!whole) return std::nullopt;
  auto n64 = whole->ToInt64();
  if (!n64 || *n64 > 100000000000LL || *n64 < -100000000000LL) return std::nullopt;
  int64_t n = *n64;
  DateTimeValue out = v;
  if (v.kind == DateTimeKind::kTime) {
    int64_t unit_ms;
    switch (*u) {
      case CalendarUnit::kHour: unit_ms = 3600000; break;
      case CalendarUnit::kMinute: unit_ms = 60000; break;
      case CalendarUnit::kSecond: unit_ms = 1000; break;
      case CalendarUnit::kMillisecond: unit_ms = 1; break;
      default: return std::nullopt;
    }
    int64_t ms = MsOfDay(v) + n * unit_ms;
    ms -= FloorDiv(ms, kMsPerDay) * kMsPerDay;
    DateTimeValue tmp = v;
    SetFromDaysAndMs(&tmp, 0, ms);
    out.hour = tmp.hour;
    out.minute = tmp.minute;
    out.second = tmp.second;
    out.millisecond = tmp.millisecond;
    return out;
  }
  int64_t year = v.year;
  int64_t month = v.month;
  switch (*u) {
    case CalendarUnit::kYear: year += n; break;
    case CalendarUnit::kMonth: {
      int64_t total = year * 12 + (month - 1) + n;
      year = FloorDiv(total, 12);
      month = total - year * 12 + 1;
      break;
    }
    default: break;
  }
  if (year < 1 || year > 9999) return std::nullopt;
  int day = v.day;
  int dim = DaysInMonth(static_cast<int>(year), static_cast<int>(month));
  if (day > dim) day = dim;
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t ms = MsOfDay(v);
  switch (*u) {
    case CalendarUnit::kWeek: days += 7 * n; break;
    case CalendarUnit::kDay: days += n; break;
    case CalendarUnit::kHour: ms += n * 3600000; break;
    case CalendarUnit::kMinute: ms += n * 60000; break;
    case CalendarUnit::kSecond: ms += n * 1000; break;
    case CalendarUnit::kMillisecond: ms += n; break;
    default: break;
  }
  if (!SetFromDaysAndMs(&out, days, ms)) return std::nullopt;
  return out;
}

std::optional<DateTimeValue> DateTimeBoundary(const DateTimeValue& v, int digits, bool high) {
  DatePrecision target;
  if (v.kind == DateTimeKind::kTime) {
    switch (digits) {
      case 2: target = DatePrecision::kHour; break;
      case 4: target = DatePrecision::kMinute; break;
      case 6: target = DatePrecision::kSecond; break;
      case 9: target = DatePrecision::kMillisecond; break;
      default: return std::nullopt;
    }
  } else {
    switch (digits) {
      case 4: target = DatePrecision::kYear; break;
      case 6: target = DatePrecision::kMonth; break;
      case 8: target = DatePrecision::kDay; break;
      case 10: target = DatePrecision::kHour; break;
      case 12: target = DatePrecision::kMinute; break;
      case 14: target = DatePrecision::kSecond; break;
      case 17: target = DatePrecision::kMillisecond; break;
      default: return std::nullopt;
    }
    if (v.kind == DateTimeKind::kDate && target > DatePrecision::kDay) return std::nullopt;
  }
  DateTimeValue out = v;
  if (v.precision < DatePrecision::kMonth) out.month = high ? 12 : 1;
  if (v.precision < DatePrecision::kDay) {
    out.day = high ? static_cast<uint8_t>(DaysInMonth(out.year, out.month)) : 1;
  }
  if (v.precision < DatePrecision::kHour) out.hour = high ? 23 : 0;
  if (v.precision < DatePrecision::kMinute) out.minute = high ? 59 : 0;
  if (v.precision < DatePrecision::kSecond) out.second = high ? 59 : 0;
  if (v.precision < DatePrecision::kMillisecond) out.millisecond = high ? 999 : 0;
  out.precision = target;
  if (v.kind == DateTimeKind::kDateTime && target >= DatePrecision::kHour && !v.has_tz) {
    // An unzoned time could be in any zone: the earliest instant is at UTC+14,
    // the latest at UTC-12.
    out.has_tz = true;
    out.tz_minutes = static_cast<int16_t>(high ? -12 * 60 : 14 * 60);
  }
  return out;
}

}  // namespace crs::fhirpath
