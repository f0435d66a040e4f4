#include "fhir/index/reference.h"

#include <gtest/gtest.h>

namespace crs::fhir::index {
namespace {

struct Case {
  const char* text;
  ReferenceKind kind;
  const char* type;
  const char* id;
  const char* version;
  const char* url;
};

class ParseReferenceTest : public ::testing::TestWithParam<Case> {};

TEST_P(ParseReferenceTest, Parses) {
  const Case& c = GetParam();
  ParsedReference p = ParseReference(c.text);
  EXPECT_EQ(p.kind, c.kind) << c.text;
  EXPECT_EQ(p.target_type, c.type) << c.text;
  EXPECT_EQ(p.target_id, c.id) << c.text;
  EXPECT_EQ(p.version, c.version) << c.text;
  EXPECT_EQ(p.url, c.url) << c.text;
}

constexpr auto kRel = ReferenceKind::kRelative;
constexpr auto kAbs = ReferenceKind::kAbsolute;
constexpr auto kCon = ReferenceKind::kContained;
constexpr auto kOth = ReferenceKind::kOther;

INSTANTIATE_TEST_SUITE_P(
    Forms, ParseReferenceTest,
    ::testing::Values(Case{"Patient/123", kRel, "Patient", "123", "", ""},
                      Case{"Patient/123/_history/4", kRel, "Patient", "123", "4", ""},
                      Case{"Observation/a.b-C", kRel, "Observation", "a.b-C", "", ""},
                      Case{"https://h.org/fhir/Patient/123", kAbs, "Patient", "123", "",
                           "https://h.org/fhir/Patient/123"},
                      Case{"http://h.org/fhir/Practitioner/p1/_history/3", kAbs, "Practitioner",
                           "p1", "3", "http://h.org/fhir/Practitioner/p1"},
                      Case{"https://h.org/not/a/resource", kAbs, "", "", "",
                           "https://h.org/not/a/resource"},
                      Case{"#med1", kCon, "", "med1", "", ""},
                      Case{"urn:uuid:0c1f7b5a-1c4e-4a5e-8c1e-1a2b3c4d5e6f", kOth, "", "", "",
                           "urn:uuid:0c1f7b5a-1c4e-4a5e-8c1e-1a2b3c4d5e6f"},
                      Case{"Patient?identifier=x|1", kOth, "", "", "", "Patient?identifier=x|1"},
                      Case{"Unknown/123", kOth, "", "", "", "Unknown/123"},
                      Case{"Resource/123", kOth, "", "", "", "Resource/123"},  // abstract type
                      Case{"Patient/bad_id!", kOth, "", "", "", "Patient/bad_id!"},
                      Case{"fhir/Patient/123", kOth, "", "", "", "fhir/Patient/123"},
                      Case{"Patient/123/_history/", kOth, "", "", "", "Patient/123/_history/"},
                      Case{"Patient", kOth, "", "", "", "Patient"},
                      Case{"", kOth, "", "", "", ""}));

TEST(ParseCanonicalTest, UrlVersionAndType) {
  ParsedReference p = ParseCanonical("http://hl7.org/fhir/ValueSet/example|1.2.0");
  EXPECT_EQ(p.kind, ReferenceKind::kCanonical);
  EXPECT_EQ(p.url, "http://hl7.org/fhir/ValueSet/example");
  EXPECT_EQ(p.version, "1.2.0");
  EXPECT_EQ(p.target_type, "ValueSet");
  EXPECT_EQ(p.target_id, "example");

  ParsedReference q = ParseCanonical("http://example.org/profiles/my-profile#frag");
  EXPECT_EQ(q.url, "http://example.org/profiles/my-profile#frag");
  EXPECT_EQ(q.version, "");
  EXPECT_EQ(q.target_type, "");
}

}  // namespace
}  // namespace crs::fhir::index
