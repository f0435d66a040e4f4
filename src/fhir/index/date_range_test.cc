#include "fhir/index/date_range.h"

#include <gtest/gtest.h>

namespace crs::fhir::index {
namespace {

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

struct Case {
  const char* text;
  int64_t low;
  int64_t high;
};

class ParseSearchDateTest : public ::testing::TestWithParam<Case> {};

TEST_P(ParseSearchDateTest, Range) {
  std::optional<DateRange> r = ParseSearchDate(GetParam().text);
  ASSERT_TRUE(r.has_value()) << GetParam().text;
  EXPECT_EQ(r->low_ms, GetParam().low) << GetParam().text;
  EXPECT_EQ(r->high_ms, GetParam().high) << GetParam().text;
}

const int64_t k2020 = EpochMillis(2020, 1, 1);

INSTANTIATE_TEST_SUITE_P(
    Precisions, ParseSearchDateTest,
    ::testing::Values(
        Case{"1970", 0, 365 * kDay}, Case{"2020", k2020, EpochMillis(2021, 1, 1)},
        Case{"2020-02", EpochMillis(2020, 2, 1), EpochMillis(2020, 3, 1)},  // leap February
        Case{"2021-02", EpochMillis(2021, 2, 1), EpochMillis(2021, 2, 1) + 28 * kDay},
        Case{"2020-12", EpochMillis(2020, 12, 1), EpochMillis(2021, 1, 1)},
        Case{"2020-03-04", EpochMillis(2020, 3, 4), EpochMillis(2020, 3, 5)},
        Case{"2020-03-04T10", EpochMillis(2020, 3, 4, 10), EpochMillis(2020, 3, 4, 11)},
        Case{"2020-03-04T10:30", EpochMillis(2020, 3, 4, 10, 30), EpochMillis(2020, 3, 4, 10, 31)},
        Case{"2020-03-04T10:30Z", EpochMillis(2020, 3, 4, 10, 30), EpochMillis(2020, 3, 4, 10, 31)},
        Case{"2020-03-04T10:30:15Z", EpochMillis(2020, 3, 4, 10, 30, 15),
             EpochMillis(2020, 3, 4, 10, 30, 16)},
        // Fractions: as precise as their digits, to the millisecond.
        Case{"2020-03-04T10:30:15.2Z", EpochMillis(2020, 3, 4, 10, 30, 15, 200),
             EpochMillis(2020, 3, 4, 10, 30, 15, 300)},
        Case{"2020-03-04T10:30:15.25Z", EpochMillis(2020, 3, 4, 10, 30, 15, 250),
             EpochMillis(2020, 3, 4, 10, 30, 15, 260)},
        Case{"2020-03-04T10:30:15.123Z", EpochMillis(2020, 3, 4, 10, 30, 15, 123),
             EpochMillis(2020, 3, 4, 10, 30, 15, 124)},
        Case{"2020-03-04T10:30:15.123456Z", EpochMillis(2020, 3, 4, 10, 30, 15, 123),
             EpochMillis(2020, 3, 4, 10, 30, 15, 124)},
        // Offsets move the instant to UTC.
        Case{"2020-03-04T10:30:00+01:00", EpochMillis(2020, 3, 4, 9, 30),
             EpochMillis(2020, 3, 4, 9, 30, 1)},
        Case{"2020-03-04T10:30:00-05:30", EpochMillis(2020, 3, 4, 16, 0),
             EpochMillis(2020, 3, 4, 16, 0, 1)},
        Case{"2020-01-01T00:30:00+01:00", EpochMillis(2019, 12, 31, 23, 30),
             EpochMillis(2019, 12, 31, 23, 30, 1)},
        Case{"2020-03-04T10:30:00+00:00", EpochMillis(2020, 3, 4, 10, 30),
             EpochMillis(2020, 3, 4, 10, 30, 1)},
        Case{"1974-12-25T14:35:45-05:00", EpochMillis(1974, 12, 25, 19, 35, 45),
             EpochMillis(1974, 12, 25, 19, 35, 46)},
        // Before the epoch, and the ends of the range of years.
        Case{"1969-12-31", -kDay, 0}, Case{"0001", EpochMillis(1, 1, 1), EpochMillis(2, 1, 1)},
        Case{"9999-12-31", EpochMillis(9999, 12, 31), EpochMillis(10000, 1, 1)},
        // A leap second counts as the next minute's first second.
        Case{"2016-12-31T23:59:60Z", EpochMillis(2017, 1, 1), EpochMillis(2017, 1, 1, 0, 0, 1)}));

TEST(ParseSearchDateTest, KnownInstant) {
  // 2020-01-01T00:00:00Z is 1577836800 s after the epoch.
  EXPECT_EQ(k2020, 1577836800000);
}

constexpr const char* kMalformed[] = {"",
                                      "20",
                                      "2020-",
                                      "2020-13",
                                      "2020-00",
                                      "2020-02-30",
                                      "2021-02-29",
                                      "2020-1-01",
                                      "2020-01-01T",
                                      "2020-01-01T25:00",
                                      "2020-01-01T10:60",
                                      "2020-01-01T10:00:61",
                                      "2020-01-01T10:00:00.",
                                      "2020-01-01T10:00:00+1:00",
                                      "2020-01-01T10:00:00+15:00",
                                      "2020-01-01 10:00",
                                      "2020-01-01T10:00:00Zjunk",
                                      "0000",
                                      "abcd",
                                      "ge2020",
                                      "2020-01-01T10:00:00ZZ"};

TEST(ParseSearchDateTest, RejectsMalformed) {
  for (const char* bad : kMalformed) {
    EXPECT_FALSE(ParseSearchDate(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace crs::fhir::index
