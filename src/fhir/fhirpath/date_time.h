// Partial-precision dates, date-times and times (FHIRPath Date, DateTime, Time).
//
// A value remembers how precisely it was written: @2015 is a year, 2015-02-04T14
// an hour. Comparisons follow FHIRPath: fields are compared from the year down
// to the coarser of the two precisions, seconds and milliseconds count as one
// precision, and when the values agree that far but one is more precise the
// result is unknown (nullopt), which the evaluator turns into empty.
//
// Thread safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fhir/fhirpath/decimal.h"

namespace crs::fhirpath {

enum class DateTimeKind : uint8_t { kDate, kDateTime, kTime };

enum class DatePrecision : uint8_t {
  kYear,
  kMonth,
  kDay,
  kHour,
  kMinute,
  kSecond,
  kMillisecond,
};

struct DateTimeValue {
  DateTimeKind kind = DateTimeKind::kDate;
  DatePrecision precision = DatePrecision::kYear;
  bool has_tz = false;
  int16_t tz_minutes = 0;  // offset east of UTC
  int16_t year = 0;
  uint8_t month = 1;
  uint8_t day = 1;
  uint8_t hour = 0;
  uint8_t minute = 0;
  uint8_t second = 0;
  uint16_t millisecond = 0;

  // FHIRPath literal text after '@': "2015", "2015-02-04T14:34:28.123+10:00",
  // "2015T" (a DateTime of year precision), "T14:34". Times may not carry a zone.
  static std::optional<DateTimeValue> ParseLiteral(std::string_view text);
  // A FHIR `date` or a string for toDate(): "2015", "2015-02", "2015-02-04".
  static std::optional<DateTimeValue> ParseDate(std::string_view text);
  // A FHIR `dateTime`/`instant` or a string for toDateTime(); partial times allowed
  // ("2015-02-04T14"). A value without a time part is a DateTime of day (or coarser)
  // precision.
  static std::optional<DateTimeValue> ParseDateTime(std::string_view text);
  // A FHIR `time` or a string for toTime(): "14", "14:34", "14:34:28.123".
  static std::optional<DateTimeValue> ParseTime(std::string_view text);

  // ISO 8601 text at the value's precision, without '@': "2015-02-04",
  // "2015-02-04T14:34:28.123+10:00", "14:34"; a zero offset prints as "Z".
  std::string ToString() const;
  // The number of digits of the precision (FHIRPath precision()): 4 for a year,
  // 17 for a date-time to the millisecond, 9 for a time to the millisecond.
  int PrecisionDigits() const;
  // True when the value has fields below the day (hour or finer).
  bool HasTime() const { return kind == DateTimeKind::kTime || precision >= DatePrecision::kHour; }
};

// Orders two values: <0, 0, >0, or nullopt when the answer is unknown (precision
// differs where the values agree, only one carries a time zone) or the kinds cannot
// be compared (a Time against a Date).
std::optional<int> CompareDateTimes(const DateTimeValue& a, const DateTimeValue& b);
// FHIRPath equivalence (~): equal at the same precision; false when precision differs.
bool DateTimesEquivalent(const DateTimeValue& a, const DateTimeValue& b);

// Adds `amount` of a time unit to a value. `unit` is a calendar keyword ("year",
// "months", ...) or a UCUM time code ("d", "wk", "h", "min", "s", "ms"). The amount is
// truncated to a whole number of the unit. nullopt when the unit does not apply
// ('mo' and 'a' are not calendar units; a Time has no years).
std::optional<DateTimeValue> AddToDateTime(const DateTimeValue& v, const Decimal& amount,
                                           std::string_view unit);

// lowBoundary()/highBoundary(): the earliest/latest value the input could stand for,
// at `digits` of precision (PrecisionDigits() scale); nullopt for invalid precision.
std::optional<DateTimeValue> DateTimeBoundary(const DateTimeValue& v, int digits, bool high);

// Days in a month (1-12) of a proleptic Gregorian year.
int DaysInMonth(int year, int month);

}  // namespace crs::fhirpath
