#include "fhir/outcome.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "fhir/validator.h"

namespace crs::fhir {
namespace {

TEST(OutcomeTest, OneIssuePerEntry) {
  std::vector<Issue> issues = {
      {Severity::kError, IssueType::kStructure, "Unrecognized property 'foo'", "Patient"},
      {Severity::kWarning, IssueType::kValue, "odd", ""},
  };
  boost::json::value outcome = MakeOperationOutcome(issues);
  EXPECT_EQ(outcome, boost::json::parse(R"({
    "resourceType": "OperationOutcome",
    "issue": [
      {"severity": "error", "code": "structure", "diagnostics": "Unrecognized property 'foo'",
       "expression": ["Patient"]},
      {"severity": "warning", "code": "value", "diagnostics": "odd"}
    ]})"));
  std::vector<Issue> own;
  EXPECT_TRUE(Validate(outcome, &own).ok());  // what we send is valid FHIR
}

TEST(OutcomeTest, NoIssuesIsAllOk) {
  boost::json::value outcome = MakeOperationOutcome({});
  const auto& issue = outcome.at("issue").at(0);
  EXPECT_EQ(issue.at("severity"), "information");
  EXPECT_EQ(issue.at("code"), "informational");
  EXPECT_TRUE(Validate(outcome, nullptr).ok());
}

TEST(OutcomeTest, CodesAndFormatting) {
  EXPECT_STREQ(SeverityCode(Severity::kFatal), "fatal");
  EXPECT_STREQ(SeverityCode(Severity::kInformation), "information");
  EXPECT_STREQ(IssueTypeCode(IssueType::kTooLong), "too-long");
  EXPECT_STREQ(IssueTypeCode(IssueType::kBusinessRule), "business-rule");
  EXPECT_STREQ(IssueTypeCode(IssueType::kRequired), "required");
  EXPECT_EQ(ToString({Severity::kError, IssueType::kRequired, "missing", "Observation"}),
            "error [required] Observation: missing");
  EXPECT_EQ(ToString({Severity::kWarning, IssueType::kValue, "odd", ""}), "warning [value] odd");
  EXPECT_FALSE(HasErrors({{Severity::kWarning, IssueType::kValue, "x", ""}}));
  EXPECT_TRUE(HasErrors({{Severity::kFatal, IssueType::kValue, "x", ""}}));
}

}  // namespace
}  // namespace crs::fhir
