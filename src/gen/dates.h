// Civil-date arithmetic on day numbers (days since 1970-01-01), after Howard
// Hinnant's public-domain algorithms. Proleptic Gregorian calendar.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace crs::gen {

inline int DaysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

struct CivilDate {
  int year;
  unsigned month;
  unsigned day;
};

inline CivilDate CivilFromDays(int z) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int y = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

// "YYYY-MM-DD" of a day number.
inline std::string FormatDate(int days) {
  CivilDate c = CivilFromDays(days);
  // Years 0..9999 only (the generator's dates are all 1900-2025).
  unsigned y = static_cast<unsigned>(c.year) % 10000;
  char buf[10] = {static_cast<char>('0' + y / 1000), static_cast<char>('0' + y / 100 % 10),
                  static_cast<char>('0' + y / 10 % 10), static_cast<char>('0' + y % 10), '-',
                  static_cast<char>('0' + c.month / 10), static_cast<char>('0' + c.month % 10), '-',
                  static_cast<char>('0' + c.day / 10), static_cast<char>('0' + c.day % 10)};
  return std::string(buf, sizeof buf);
}

}  // namespace crs::gen
