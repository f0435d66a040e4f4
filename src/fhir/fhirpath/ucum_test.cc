#include "fhir/fhirpath/ucum.h"

#include <gtest/gtest.h>

namespace crs::fhirpath::ucum {
namespace {

Decimal D(const char* text) { return *Decimal::Parse(text); }

TEST(UcumTest, Canonicalizes) {
  struct Case {
    const char* unit;
    const char* factor;
  } cases[] = {{"mg", "0.001"},       {"kg", "1000"},        {"[lb_av]", "453.59237"},
               {"cm", "0.01"},        {"m2", "1"},           {"mm[Hg]", "133322"},
               {"10*3/uL", "1000000000000"}, {"mL/min", "0.0000000166666666666666666667"},
               {"%", "0.01"},         {"{beats}/min", "0.0166666666666666666666666667"},
               {"kg/m2", "1000"},     {"/d", "0.0000115740740740740740740741"},
               {"ug/(kg.h)", "0.0000000000002777777777777778"}};
  for (const Case& c : cases) {
    auto canon = Canonicalize(c.unit);
    ASSERT_TRUE(canon.has_value()) << c.unit;
    EXPECT_EQ(canon->factor, D(c.factor)) << c.unit << " -> " << canon->factor.ToString();
  }
  for (const char* bad : {"", "furlong", "m/", "((m)", "k", "[lb_av"}) {
    EXPECT_FALSE(Canonicalize(bad).has_value()) << bad;
  }
}

TEST(UcumTest, ComparesAcrossUnits) {
  EXPECT_EQ(Compare(D("4"), "g", D("4000"), "mg"), 0);
  EXPECT_EQ(Compare(D("185"), "[lb_av]", D("84"), "kg"), -1);
  EXPECT_EQ(Compare(D("7"), "days", D("1"), "wk"), 0);
  EXPECT_EQ(Compare(D("6"), "day", D("1"), "week"), -1);
  EXPECT_EQ(Compare(D("1"), "year", D("12"), "months"), 0);
  EXPECT_EQ(Compare(D("1"), "year", D("1"), "a"), std::nullopt);
  EXPECT_EQ(Compare(D("1"), "cm", D("1"), "s"), std::nullopt);
  EXPECT_EQ(Compare(D("37"), "Cel", D("38"), "Cel"), -1);
  EXPECT_TRUE(Equivalent(D("4"), "g", D("4040"), "mg"));
  EXPECT_FALSE(Equivalent(D("4.00"), "g", D("4040"), "mg"));
  EXPECT_TRUE(Comparable("cm", "[in_i]"));
  EXPECT_FALSE(Comparable("cm", "s"));
  EXPECT_EQ(Convert(D("1"), "[in_i]", "cm")->ToString(), "2.54");
}

TEST(UcumTest, MultipliesAndDivides) {
  auto m = Multiply({D("2.0"), "cm"}, {D("2.0"), "m"});
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->unit, "m2");
  EXPECT_EQ(m->value, D("0.04"));
  auto d = Divide({D("4.0"), "g"}, {D("2.0"), "m"});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->unit, "g.m-1");
  auto one = Divide({D("1.0"), "m"}, {D("1.0"), "m"});
  EXPECT_EQ(one->unit, "1");
}

TEST(UcumTest, QuantityStrings) {
  auto q = ParseQuantityString("1.5 'mg'");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->unit, "mg");
  EXPECT_EQ(ParseQuantityString("4 days")->unit, "day");
  EXPECT_EQ(ParseQuantityString("3")->unit, "1");
  EXPECT_FALSE(ParseQuantityString("1 wk").has_value());
  EXPECT_FALSE(ParseQuantityString("abc").has_value());
  EXPECT_EQ(FormatQuantity(D("1"), "wk"), "1 'wk'");
  EXPECT_EQ(FormatQuantity(D("1"), "week"), "1 week");
}

}  // namespace
}  // namespace crs::fhirpath::ucum
