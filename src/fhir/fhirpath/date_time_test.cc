#include "fhir/fhirpath/date_time.h"

#include <gtest/gtest.h>

namespace crs::fhirpath {
namespace {

DateTimeValue L(const char* text) {
  auto v = DateTimeValue::ParseLiteral(text);
  EXPECT_TRUE(v.has_value()) << text;
  return v.value_or(DateTimeValue());
}

TEST(DateTimeTest, LiteralsRoundTrip) {
  for (const char* text : {"2015", "2015-02", "2015-02-04", "2015-02-04T14", "2015-02-04T14:34",
                           "2015-02-04T14:34:28", "2015-02-04T14:34:28.123",
                           "2015-02-04T14:34:28Z", "2015-02-04T14:34:28.123+10:00",
                           "2015-02-04T14:34-05:30"}) {
    EXPECT_EQ(L(text).ToString(), text);
  }
  EXPECT_EQ(L("T14:34:28.5").ToString(), "14:34:28.500");
  EXPECT_EQ(L("2015T").kind, DateTimeKind::kDateTime);
  EXPECT_EQ(L("2015T").precision, DatePrecision::kYear);
  for (const char* bad : {"15", "2015-13", "2015-02-30", "2015-02-04T25", "T14:34Z", "2015-02T10",
                          "2015-02-04T14:60", "2015-02-04T14:34+15:00", "2015-02-04X"}) {
    EXPECT_FALSE(DateTimeValue::ParseLiteral(bad).has_value()) << bad;
  }
}

TEST(DateTimeTest, FhirStrings) {
  EXPECT_EQ(DateTimeValue::ParseDate("2012-02-29")->ToString(), "2012-02-29");
  EXPECT_FALSE(DateTimeValue::ParseDate("2013-02-29").has_value());
  auto dt = DateTimeValue::ParseDateTime("2013-06-08");
  ASSERT_TRUE(dt.has_value());
  EXPECT_EQ(dt->kind, DateTimeKind::kDateTime);
  EXPECT_EQ(dt->precision, DatePrecision::kDay);
  EXPECT_EQ(DateTimeValue::ParseDateTime("2013-06-08T10:57:34.2112+01:00")->millisecond, 211);
  EXPECT_EQ(DateTimeValue::ParseTime("14:34")->ToString(), "14:34");
}

TEST(DateTimeTest, ComparisonRespectsPrecision) {
  auto cmp = [](const char* a, const char* b) { return CompareDateTimes(L(a), L(b)); };
  EXPECT_EQ(cmp("2012-04-15", "2012-04-16"), -1);
  EXPECT_EQ(cmp("2012-04-15", "2012-04-15T10:00:00"), std::nullopt);
  EXPECT_EQ(cmp("2012-04", "2012-05-01"), -1);  // decided before precision runs out
  EXPECT_EQ(cmp("2012-04-15T15:30:31", "2012-04-15T15:30:31.0"), 0);
  EXPECT_EQ(cmp("2017-11-05T01:30:00.0-04:00", "2017-11-05T01:15:00.0-05:00"), -1);
  EXPECT_EQ(cmp("2012-04-15T15:00:00+02:00", "2012-04-15T16:00:00+03:00"), 0);
  EXPECT_EQ(cmp("2012-04-15T15:00:00Z", "2012-04-15T10:00:00"), std::nullopt);
  EXPECT_EQ(cmp("2012-04-15T15:00:00Z", "2012-04-17T10:00:00"), -1);
  EXPECT_EQ(cmp("T10:30", "T10:30:00"), std::nullopt);
  EXPECT_EQ(cmp("T10:30", "2012"), std::nullopt);
  EXPECT_TRUE(DateTimesEquivalent(L("2012-04-15T15:30:31"), L("2012-04-15T15:30:31.000")));
  EXPECT_FALSE(DateTimesEquivalent(L("2012-04-15"), L("2012-04-15T10:00:00")));
}

TEST(DateTimeTest, Arithmetic) {
  auto add = [](const char* v, const char* amount, const char* unit) {
    auto r = AddToDateTime(L(v), *Decimal::Parse(amount), unit);
    return r ? r->ToString() : std::string("none");
  };
  EXPECT_EQ(add("1973-12-25", "7", "days"), "1974-01-01");
  EXPECT_EQ(add("1973-12-25", "7.7", "day"), "1974-01-01");
  EXPECT_EQ(add("2012-01-31", "1", "month"), "2012-02-29");
  EXPECT_EQ(add("2012-02-29", "1", "year"), "2013-02-28");
  EXPECT_EQ(add("1974-12-25", "-1", "month"), "1974-11-25");
  EXPECT_EQ(add("1973-12-25T00:00:00.000+10:00", "10", "ms"), "1973-12-25T00:00:00.010+10:00");
  EXPECT_EQ(add("1973-12-31T23:30", "1", "h"), "1974-01-01T00:30");
  EXPECT_EQ(add("T23:30", "90", "minutes"), "01:00");
  EXPECT_EQ(add("1973-12-25", "1", "mo"), "none");
  EXPECT_EQ(add("1973-12-25", "1", "a"), "none");
  EXPECT_EQ(add("T10:00", "1", "day"), "none");
  EXPECT_EQ(add("9999-12-31", "1", "day"), "none");
}

TEST(DateTimeTest, Boundaries) {
  auto b = [](const char* v, int digits, bool high) {
    auto r = DateTimeBoundary(L(v), digits, high);
    return r ? r->ToString() : std::string("none");
  };
  EXPECT_EQ(b("2014", 6, false), "2014-01");
  EXPECT_EQ(b("2014", 6, true), "2014-12");
  EXPECT_EQ(b("2016-02", 8, true), "2016-02-29");
  EXPECT_EQ(b("2014-01-01T08", 17, false), "2014-01-01T08:00:00.000+14:00");
  EXPECT_EQ(b("2014-01-01T08:05-05:00", 17, true), "2014-01-01T08:05:59.999-05:00");
  EXPECT_EQ(b("T10:30", 9, false), "10:30:00.000");
  EXPECT_EQ(b("2014", 5, false), "none");
  EXPECT_EQ(L("2014-01-05T10:30:00.000").PrecisionDigits(), 17);
  EXPECT_EQ(L("T10:30").PrecisionDigits(), 4);
}

}  // namespace
}  // namespace crs::fhirpath
