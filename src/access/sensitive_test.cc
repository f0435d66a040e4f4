// The sensitive-code list: its file format (what `crs serve
// --sensitive-codes FILE` accepts and refuses) and where in a resource a
// code is recognised.
#include "access/sensitive.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>

namespace crs::access {
namespace {

namespace json = boost::json;

TEST(SensitiveCodesTest, ParsesCodesCommentsAndBlankLines) {
  auto codes = SensitiveCodes::Parse(
      "# sexual health\n"
      "86406008\n"
      "  76272004   # syphilis, indented, trailing comment\n"
      "\n"
      "\t\n"
      "123456\r\n"
      "123456789012345678");
  ASSERT_TRUE(codes.ok()) << codes.status().message();
  EXPECT_EQ(codes->size(), 4u);
  EXPECT_TRUE(codes->Contains("86406008"));
  EXPECT_TRUE(codes->Contains("76272004"));
  EXPECT_TRUE(codes->Contains("123456"));
  EXPECT_TRUE(codes->Contains("123456789012345678"));
  EXPECT_FALSE(codes->Contains("8640600"));   // a prefix is another code
  EXPECT_FALSE(codes->Contains("864060081"));
}

TEST(SensitiveCodesTest, RefusesAnythingButConceptIdsAndNamesTheLine) {
  struct Case {
    const char* text;
    const char* line;
  } cases[] = {
      {"86406008\n12345\n", "line 2"},                 // too short (< 6 digits)
      {"1234567890123456789\n", "line 1"},             // too long (> 18 digits)
      {"86406008\n\n# ok\n8640600X\n", "line 4"},      // not digits
      {"86406008 76272004\n", "line 1"},               // two codes on a line
      {"http://snomed.info/sct|86406008\n", "line 1"},  // a token, not an id
      {"-86406008\n", "line 1"},
  };
  for (const auto& c : cases) {
    auto codes = SensitiveCodes::Parse(c.text);
    ASSERT_FALSE(codes.ok()) << c.text;
    EXPECT_EQ(codes.status().code(), Code::kInvalid) << c.text;
    EXPECT_NE(codes.status().message().find(c.line), std::string::npos)
        << c.text << " -> " << codes.status().message();
  }
}

TEST(SensitiveCodesTest, EmptyListMentionsNothing) {
  auto codes = SensitiveCodes::Parse("# nothing here\n\n");
  ASSERT_TRUE(codes.ok());
  EXPECT_EQ(codes->size(), 0u);
  EXPECT_FALSE(codes->Mentions(json::parse(R"({"code":{"coding":[{"code":"86406008"}]}})")));
}

TEST(SensitiveCodesTest, ShippedListIsValidAndNotEmpty) {
  SensitiveCodes codes = SensitiveCodes::Default();
  EXPECT_GT(codes.size(), 10u);
  EXPECT_TRUE(codes.Contains("86406008"));  // HIV infection
}

TEST(SensitiveCodesTest, LoadReadsAFileAndReportsAMissingOne) {
  std::string path = ::testing::TempDir() + "/sensitive-codes-test.txt";
  {
    std::ofstream out(path);
    out << "# local additions\n999999991\n";
  }
  auto codes = SensitiveCodes::Load(path);
  ASSERT_TRUE(codes.ok()) << codes.status().message();
  EXPECT_TRUE(codes->Contains("999999991"));
  std::remove(path.c_str());
  auto missing = SensitiveCodes::Load(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(path), std::string::npos);
}

TEST(SensitiveCodesTest, MentionsSnomedOrSystemlessCodingsAnywhere) {
  auto codes = SensitiveCodes::Parse("86406008\n");
  ASSERT_TRUE(codes.ok());
  // The item's own code, a reason, a nested extension: all count.
  EXPECT_TRUE(codes->Mentions(json::parse(
      R"({"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"86406008"}]}})")));
  EXPECT_TRUE(codes->Mentions(json::parse(
      R"({"resourceType":"MedicationStatement","reasonCode":[{"coding":[{"code":"86406008"}]}]})")));
  EXPECT_TRUE(codes->Mentions(json::parse(
      R"({"extension":[{"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"86406008"}]}}]})")));
  // Another code system's code that happens to have the same digits is not
  // a SNOMED CT concept.
  EXPECT_FALSE(codes->Mentions(json::parse(
      R"({"code":{"coding":[{"system":"http://loinc.org","code":"86406008"}]}})")));
  // Other codes, text alone, and the digits in a non-code field do not count.
  EXPECT_FALSE(codes->Mentions(json::parse(
      R"({"code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006"}],"text":"86406008"}})")));
  EXPECT_FALSE(codes->Mentions(json::parse(R"({"id":"86406008","note":[{"text":"86406008"}]})")));
}

}  // namespace
}  // namespace crs::access
