#include "fhir/index/normalize.h"

#include <gtest/gtest.h>

namespace crs::fhir::index {
namespace {

struct Case {
  const char* input;
  const char* expected;
};

class NormalizeTest : public ::testing::TestWithParam<Case> {};

TEST_P(NormalizeTest, Normalizes) {
  EXPECT_EQ(NormalizeString(GetParam().input), GetParam().expected) << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, NormalizeTest,
    ::testing::Values(
        // Accents and case.
        Case{"Müller", "muller"}, Case{"ÅSA", "asa"}, Case{"Bénédicte", "benedicte"},
        Case{"du Marché", "du marche"}, Case{"ZOË", "zoe"}, Case{"Łukasz", "łukasz"},
        Case{"Ñuñez", "nunez"}, Case{"Ørsted", "ørsted"},
        // Decomposed input (e + combining acute) meets composed input.
        Case{"Ame\u0301lie", "amelie"}, Case{"Am\u00e9lie", "amelie"},
        // Compatibility forms: ligatures, full-width letters, superscripts.
        Case{"\uFB01nn", "finn"}, Case{"\uFB00", "ff"}, Case{"ＡＢＣ", "abc"}, Case{"x²", "x2"},
        // Case folding beyond ASCII.
        Case{"STRASSE", "strasse"}, Case{"Straße", "strasse"}, Case{"ΣΊΣΥΦΟΣ", "σισυφοσ"},
        // Whitespace: collapsed and trimmed, Unicode spaces included.
        Case{"  Peter   James ", "peter james"}, Case{"a\tb\nc", "a b c"}, Case{"a\u00a0b", "a b"},
        Case{"a\u2003\u2003b", "a b"}, Case{" \t ", ""},
        // Ignorables removed; punctuation kept.
        Case{"soft\u00adhyphen", "softhyphen"}, Case{"O'Brien-Smith", "o'brien-smith"},
        Case{"", ""}, Case{"plain ascii 123", "plain ascii 123"}));

TEST(NormalizeTest, InvalidUtf8IsFoldedBytewise) {
  std::string bad = "AB\xff\xfe cd";
  EXPECT_EQ(NormalizeString(bad), "ab\xff\xfe cd");
}

TEST(NormalizeTest, AsciiFastPathAgreesWithUtf8Proc) {
  // "é" sends a string down the utf8proc path and folds to "e", so each pair below
  // differs only in which path normalises it.
  for (int c = 1; c < 0x80; ++c) {
    std::string prefix = std::string("X") + static_cast<char>(c);
    EXPECT_EQ(NormalizeString(prefix + "\u00e9"), NormalizeString(prefix + "e")) << "char " << c;
  }
}

TEST(NormalizeTest, ForIndexCutsAtCharacterBoundary) {
  std::string long_name(600, 'a');
  EXPECT_EQ(NormalizeForIndex(long_name).size(), kMaxNormalizedBytes);
  // "é" folds to "e"; "ł" stays two bytes: a cut never splits it.
  std::string polish;
  for (int i = 0; i < 300; ++i) polish += "ł";
  std::string cut = NormalizeForIndex(polish, 5);
  EXPECT_EQ(cut, "łł");
  EXPECT_EQ(CutUtf8("ałb", 2), "a");
  EXPECT_EQ(CutUtf8("ałb", 3), "ał");
  EXPECT_EQ(NormalizeForIndex("ab cd", 3), "ab");
}

}  // namespace
}  // namespace crs::fhir::index
