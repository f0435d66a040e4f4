#include "fhir/index/numbers.h"

#include <gtest/gtest.h>

namespace crs::fhir::index {
namespace {

struct Case {
  const char* text;
  double value;
  double low;
  double high;
};

class ParseSearchNumberTest : public ::testing::TestWithParam<Case> {};

TEST_P(ParseSearchNumberTest, Bounds) {
  std::optional<NumberBounds> n = ParseSearchNumber(GetParam().text);
  ASSERT_TRUE(n.has_value()) << GetParam().text;
  EXPECT_DOUBLE_EQ(n->value, GetParam().value) << GetParam().text;
  EXPECT_DOUBLE_EQ(n->low, GetParam().low) << GetParam().text;
  EXPECT_DOUBLE_EQ(n->high, GetParam().high) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Precisions, ParseSearchNumberTest,
    ::testing::Values(Case{"100", 100, 99.5, 100.5}, Case{"0", 0, -0.5, 0.5},
                      Case{"100.00", 100, 99.995, 100.005}, Case{"1.5", 1.5, 1.45, 1.55},
                      Case{"-1.5", -1.5, -1.55, -1.45}, Case{"+7", 7, 6.5, 7.5},
                      Case{"0.001", 0.001, 0.0005, 0.0015}, Case{"1e2", 100, 50, 150},
                      Case{"1.00e2", 100, 99.5, 100.5}, Case{"1.0E-3", 0.001, 0.00095, 0.00105},
                      Case{"5.", 5, 4.5, 5.5}, Case{".5", 0.5, 0.45, 0.55}));

TEST(ParseSearchNumberTest, RejectsMalformed) {
  for (const char* bad :
       {"", "-", ".", "1e", "1e+", "abc", "1,5", "1.5.2", "0x10", "1 ", "nan", "inf", "1e999"}) {
    EXPECT_FALSE(ParseSearchNumber(bad).has_value()) << bad;
  }
}

TEST(BoundsOfDoubleTest, ShortestRoundTripDecidesPrecision) {
  NumberBounds a = BoundsOfDouble(1.5);
  EXPECT_DOUBLE_EQ(a.low, 1.45);
  EXPECT_DOUBLE_EQ(a.high, 1.55);
  NumberBounds b = BoundsOfDouble(0.1);
  EXPECT_DOUBLE_EQ(b.low, 0.05);
  EXPECT_DOUBLE_EQ(b.high, 0.15);
  NumberBounds c = BoundsOfDouble(72.0);  // "72.0" in JSON reads back as 72
  EXPECT_DOUBLE_EQ(c.low, 71.5);
  EXPECT_DOUBLE_EQ(c.high, 72.5);
}

TEST(CanonicalizeUcumTest, SameDimensionsShareAKey) {
  std::optional<CanonicalUnit> mg = CanonicalizeUcum("mg");
  std::optional<CanonicalUnit> kg = CanonicalizeUcum("kg");
  std::optional<CanonicalUnit> lb = CanonicalizeUcum("[lb_av]");
  ASSERT_TRUE(mg && kg && lb);
  EXPECT_EQ(mg->key, "g");
  EXPECT_EQ(kg->key, "g");
  EXPECT_EQ(lb->key, "g");
  EXPECT_DOUBLE_EQ(mg->factor, 0.001);
  EXPECT_DOUBLE_EQ(kg->factor, 1000);
  EXPECT_NEAR(lb->factor, 453.59237, 1e-9);

  std::optional<CanonicalUnit> conc = CanonicalizeUcum("mg/dL");
  ASSERT_TRUE(conc);
  EXPECT_EQ(conc->key, "m-3.g");
  std::optional<CanonicalUnit> min = CanonicalizeUcum("min");
  ASSERT_TRUE(min);
  EXPECT_EQ(min->key, "s");
  EXPECT_DOUBLE_EQ(min->factor, 60);
  std::optional<CanonicalUnit> pct = CanonicalizeUcum("%");
  ASSERT_TRUE(pct);
  EXPECT_EQ(pct->key, "1");
  EXPECT_DOUBLE_EQ(pct->factor, 0.01);
}

TEST(CanonicalizeUcumTest, UnknownOffsetAndArbitraryUnitsAreNotCanonical) {
  EXPECT_FALSE(CanonicalizeUcum("Cel").has_value());
  EXPECT_FALSE(CanonicalizeUcum("[IU]").has_value());
  EXPECT_FALSE(CanonicalizeUcum("not-a-unit").has_value());
  EXPECT_FALSE(CanonicalizeUcum("").has_value());
}

}  // namespace
}  // namespace crs::fhir::index
