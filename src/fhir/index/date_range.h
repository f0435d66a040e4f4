// Date precision for search: a FHIR date, dateTime or instant (or a search query's
// date value) as the half-open interval of UTC milliseconds it covers.
//
//   "2020"                         -> [2020-01-01T00:00:00Z, 2021-01-01T00:00:00Z)
//   "2020-03"                      -> the whole of March 2020
//   "2020-03-04"                   -> the whole day, in UTC
//   "2020-03-04T10:30+01:00"       -> the minute 09:30..09:31 UTC
//   "2020-03-04T10:30:15Z"         -> that second
//   "2020-03-04T10:30:15.25Z"      -> [.250, .260): a fraction is as precise as its
//                                     digits, to the millisecond; further digits are
//                                     dropped
//
// A value without a time zone (dates, and date-times that omit it against the FHIR
// rules) is read as UTC, not as server-local time: the index must not change with
// the server's TZ setting. Hours without minutes ("2020-03-04T10") are accepted
// (hour precision) for query values. Years 0001-9999; a leap second (:60) counts as
// :00 of the next minute.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace crs::fhir::index {

struct DateRange {
  int64_t low_ms = 0;   // inclusive
  int64_t high_ms = 0;  // exclusive
  friend bool operator==(const DateRange&, const DateRange&) = default;
};

// Parses a FHIR date / dateTime / instant, or a search value without its prefix
// ("ge2020-01" -> pass "2020-01"). nullopt when the text is not such a value.
std::optional<DateRange> ParseSearchDate(std::string_view text);

// Milliseconds since the epoch of a proleptic Gregorian UTC date and time.
int64_t EpochMillis(int year, int month, int day, int hour = 0, int minute = 0, int second = 0,
                    int millisecond = 0);

}  // namespace crs::fhir::index
