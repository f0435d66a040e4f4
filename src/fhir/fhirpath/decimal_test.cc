#include "fhir/fhirpath/decimal.h"

#include <gtest/gtest.h>

namespace crs::fhirpath {
namespace {

Decimal D(const char* text) {
  auto d = Decimal::Parse(text);
  EXPECT_TRUE(d.has_value()) << text;
  return d.value_or(Decimal());
}

TEST(DecimalTest, ParseKeepsScale) {
  struct Case {
    const char* in;
    const char* out;
    int scale;
  } cases[] = {{"1", "1", 0},          {"1.50", "1.50", 2},   {"-0.001", "-0.001", 3},
               {"0.0", "0.0", 1},      {"1e3", "1000", 0},    {"1.5E-2", "0.015", 3},
               {"+7", "7", 0},         {"007.10", "7.10", 2},
               {"1234567890987654321.0", "1234567890987654321.0", 1}};
  for (const Case& c : cases) {
    Decimal d = D(c.in);
    EXPECT_EQ(d.ToString(), c.out) << c.in;
    EXPECT_EQ(d.scale(), c.scale) << c.in;
  }
  for (const char* bad : {"", ".", "1.", ".5", "1..2", "1a", "e5", "--1", "1e", "1e+"}) {
    EXPECT_FALSE(Decimal::Parse(bad).has_value()) << bad;
  }
  EXPECT_FALSE(Decimal::Parse("123456789012345678901234567890123456789").has_value());
}

TEST(DecimalTest, ArithmeticIsExact) {
  EXPECT_EQ(Decimal::Mul(D("1.2"), D("1.8"))->ToString(), "2.16");
  EXPECT_EQ(Decimal::Add(D("0.1"), D("0.2"))->ToString(), "0.3");
  EXPECT_EQ(Decimal::Sub(D("1.8"), D("1.2"))->ToString(), "0.6");
  EXPECT_EQ(Decimal::Div(D("1"), D("2"))->ToString(), "0.5");
  EXPECT_EQ(Decimal::Div(D("4.0"), D("2.0"))->ToString(), "2");
  EXPECT_EQ(Decimal::Div(D("2"), D("3"))->ToString(), "0.6666666666666666666666666667");
  EXPECT_FALSE(Decimal::Div(D("1"), D("0")).has_value());
  EXPECT_EQ(Decimal::DivTrunc(D("2.2"), D("1.8"))->ToString(), "1");
  EXPECT_EQ(Decimal::Mod(D("2.2"), D("1.8"))->ToString(), "0.4");
  EXPECT_EQ(Decimal::Mod(D("-5"), D("2"))->ToString(), "-1");
}

TEST(DecimalTest, CompareIgnoresScale) {
  EXPECT_EQ(D("1.0"), D("1.00"));
  EXPECT_LT(D("-1.5"), D("-1.25"));
  EXPECT_LT(D("-0.5"), D("0.25"));
  EXPECT_GT(D("10"), D("9.99999"));
  EXPECT_EQ(D("0"), D("-0.000"));
}

TEST(DecimalTest, Rounding) {
  EXPECT_EQ(D("3.14159").RoundTo(3)->ToString(), "3.142");
  EXPECT_EQ(D("-2.5").RoundTo(0)->ToString(), "-3");
  EXPECT_EQ(D("2.5").RoundTo(0)->ToString(), "3");
  EXPECT_EQ(D("1.5").RoundTo(3)->ToString(), "1.500");
  EXPECT_EQ(D("-1.56").TruncateTo(0)->ToString(), "-1");
  EXPECT_EQ(D("-2.1").Floor().ToString(), "-3");
  EXPECT_EQ(D("-1.1").Ceiling().ToString(), "-1");
  EXPECT_EQ(D("1.1").Ceiling().ToString(), "2");
  EXPECT_EQ(D("1.500").Normalized().ToString(), "1.5");
}

TEST(DecimalTest, OverflowIsReportedNotWrapped) {
  Decimal big = D("99999999999999999999999999999999999999");
  EXPECT_FALSE(Decimal::Add(big, big).has_value());
  EXPECT_FALSE(Decimal::Mul(big, big).has_value());
  // Precision gives way before magnitude does.
  auto m = Decimal::Mul(D("1.23456789012345678901234567"), D("9.87654321098765432109876543"));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->ToString().substr(0, 12), "12.193263113");
}

TEST(DecimalTest, FromDoubleIsShortest) {
  EXPECT_EQ(Decimal::FromDouble(0.1)->ToString(), "0.1");
  EXPECT_EQ(Decimal::FromDouble(185.0)->ToString(), "185");
  EXPECT_EQ(Decimal::FromDouble(1e-7)->ToString(), "0.0000001");
  EXPECT_FALSE(Decimal::FromDouble(std::numeric_limits<double>::infinity()).has_value());
  EXPECT_EQ(Decimal::FromLongDouble(0.1L + 0.2L)->ToString(), "0.3");
}

}  // namespace
}  // namespace crs::fhirpath
