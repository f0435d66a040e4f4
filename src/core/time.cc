#include "core/time.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace crs {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

int64_t SystemClock::NowMs() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

const SystemClock& SystemClock::Get() {
  static const SystemClock clock;
  return clock;
}

namespace {

// Appends `value` as exactly `width` decimal digits (zero-padded; values
// outside the width keep their low digits, as no caller passes one).
void AppendDigits(std::string* out, int value, int width) {
  char digits[8];
  for (int i = width - 1; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out->append(digits, width);
}

}  // namespace

// Both formatters run for every audited request (the record's time, the
// Last-Modified header): digits by hand, not snprintf (~2% of a read's CPU).
std::string FormatInstant(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  int frac = static_cast<int>(ms - static_cast<int64_t>(secs) * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::string out;
  out.reserve(24);
  AppendDigits(&out, tm.tm_year + 1900, 4);
  out += '-';
  AppendDigits(&out, tm.tm_mon + 1, 2);
  out += '-';
  AppendDigits(&out, tm.tm_mday, 2);
  out += 'T';
  AppendDigits(&out, tm.tm_hour, 2);
  out += ':';
  AppendDigits(&out, tm.tm_min, 2);
  out += ':';
  AppendDigits(&out, tm.tm_sec, 2);
  out += '.';
  AppendDigits(&out, frac, 3);
  out += 'Z';
  return out;
}

std::string FormatHttpDate(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::string out;
  out.reserve(29);
  out += kDays[tm.tm_wday];
  out += ", ";
  AppendDigits(&out, tm.tm_mday, 2);
  out += ' ';
  out += kMonths[tm.tm_mon];
  out += ' ';
  AppendDigits(&out, tm.tm_year + 1900, 4);
  out += ' ';
  AppendDigits(&out, tm.tm_hour, 2);
  out += ':';
  AppendDigits(&out, tm.tm_min, 2);
  out += ':';
  AppendDigits(&out, tm.tm_sec, 2);
  out += " GMT";
  return out;
}

std::optional<int64_t> ParseFhirDateTime(std::string_view s) {
  int year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0;
  if (!Digits(s, 0, 4, &year)) return std::nullopt;
  size_t pos = 4;
  if (pos < s.size()) {
    if (s[pos] != '-' || !Digits(s, pos + 1, 2, &month) || month < 1 || month > 12) {
      return std::nullopt;
    }
    pos += 3;
  }
  if (pos < s.size()) {
    if (s[pos] != '-' || !Digits(s, pos + 1, 2, &day) || day < 1 ||
        day > DaysInMonth(year, month)) {
      return std::nullopt;
    }
    pos += 3;
  }
  int64_t offset_minutes = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' || !Digits(s, pos + 1, 2, &hour) || s.size() < pos + 6 || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &minute) || hour > 23 || minute > 59) {
      return std::nullopt;
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!Digits(s, pos + 1, 2, &second) || second > 60) return std::nullopt;
      pos += 3;
      if (pos < s.size() && s[pos] == '.') {
        size_t start = ++pos;
        int scale = 100;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          millis += (s[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
        if (pos == start) return std::nullopt;
      }
    }
    if (pos < s.size()) {
      if (s[pos] == 'Z') {
        ++pos;
      } else if (s[pos] == '+' || s[pos] == '-') {
        int oh = 0, om = 0;
        if (!Digits(s, pos + 1, 2, &oh) || s.size() < pos + 6 || s[pos + 3] != ':' ||
            !Digits(s, pos + 4, 2, &om) || oh > 14 || om > 59) {
          return std::nullopt;
        }
        offset_minutes = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
        pos += 6;
      } else {
        return std::nullopt;
      }
    }
  }
  if (pos != s.size()) return std::nullopt;
  int64_t days = DaysFromCivil(year, month, day);
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + std::min(second, 59);
  return (secs - offset_minutes * 60) * 1000 + millis;
}

}  // namespace crs
