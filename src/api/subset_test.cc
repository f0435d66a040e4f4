#include "api/subset.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

namespace crs::api {
namespace {

namespace json = boost::json;
using P = std::pair<std::string, std::string>;

std::set<std::string> Keys(const std::string& text) {
  std::set<std::string> out;
  json::value doc = json::parse(text);
  for (const auto& [k, v] : doc.as_object()) out.insert(std::string(k));
  return out;
}

Subsetting Parse(std::vector<std::pair<std::string, std::string>> params) {
  auto s = ParseSubsetting(params);
  EXPECT_TRUE(s.ok());
  return s.ok() ? *s : Subsetting();
}

const char* kPatient =
    R"({"resourceType":"Patient","id":"p","meta":{"versionId":"1"},"text":{"status":"empty",)"
    R"("div":"<div/>"},"birthDate":"1970","_birthDate":{"extension":[]},"deceasedBoolean":false,)"
    R"("maritalStatus":{"text":"x"},"unknownThing":1})";

TEST(SubsetTest, SummaryTrueKeepsSummaryElementsAndTheirExtensions) {
  auto out = SubsetResource("Patient", kPatient, Parse({P{"_summary", "true"}}));
  EXPECT_EQ(Keys(out), (std::set<std::string>{"resourceType", "id", "meta", "birthDate",
                                              "_birthDate", "deceasedBoolean"}));
  json::value doc = json::parse(out);
  const auto& tags = doc.at("meta").at("tag").as_array();
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags[0].at("code"), "SUBSETTED");
  // Subsetting again does not tag twice.
  auto twice = SubsetResource("Patient", out, Parse({P{"_summary", "true"}}));
  EXPECT_EQ(json::parse(twice).at("meta").at("tag").as_array().size(), 1u);
}

TEST(SubsetTest, ElementsMatchChoiceNamesAndTypePrefixes) {
  auto out = SubsetResource("Patient", kPatient, Parse({P{"_elements", "deceased,Patient.text"}}));
  EXPECT_EQ(Keys(out),
            (std::set<std::string>{"resourceType", "id", "meta", "deceasedBoolean", "text"}));
  // Not applied when asked to leave _elements out (included resources).
  EXPECT_EQ(SubsetResource("Patient", kPatient, Parse({P{"_elements", "text"}}), false), kPatient);
}

TEST(SubsetTest, TextDataFalseAndBadValues) {
  EXPECT_EQ(Keys(SubsetResource("Patient", kPatient, Parse({P{"_summary", "text"}}))),
            (std::set<std::string>{"resourceType", "id", "meta", "text"}));
  EXPECT_EQ(Keys(SubsetResource("Patient", kPatient, Parse({P{"_summary", "data"}}))).count("text"),
            0u);
  EXPECT_EQ(SubsetResource("Patient", kPatient, Parse({P{"_summary", "false"}})), kPatient);
  EXPECT_FALSE(ParseSubsetting({P{"_summary", "yes"}}).ok());
  EXPECT_FALSE(ParseSubsetting({P{"_elements", ","}}).ok());
  // Not JSON: returned as it is rather than failing the request.
  EXPECT_EQ(SubsetResource("Patient", "not json", Parse({P{"_summary", "true"}})), "not json");
}

}  // namespace
}  // namespace crs::api
