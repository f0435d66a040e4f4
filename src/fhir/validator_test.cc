#include "fhir/validator.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "fhir/outcome.h"
#include "fhir/primitives.h"

namespace crs::fhir {
namespace {

std::string Dump(const std::vector<Issue>& issues) {
  std::string out;
  for (const Issue& issue : issues) out += "  " + ToString(issue) + "\n";
  return out;
}

std::vector<Issue> Errors(const std::vector<Issue>& issues) {
  std::vector<Issue> errors;
  for (const Issue& issue : issues) {
    if (issue.severity == Severity::kError || issue.severity == Severity::kFatal) {
      errors.push_back(issue);
    }
  }
  return errors;
}

struct Case {
  const char* name;
  const char* json;
  // nullptr when the resource is valid; else the location ("" for the document itself)
  // and code of the first error.
  const char* location = nullptr;
  IssueType code = IssueType::kInvalid;
};

// Each rule of the validator, with the smallest resource that breaks it (and, where the
// rule has an allowed form, one that keeps it).
const Case kCases[] = {
    // --- Resource roots ---
    {"minimal patient", R"({"resourceType":"Patient"})"},
    {"empty Parameters", R"({"resourceType":"Parameters"})"},
    {"not an object", R"([{"resourceType":"Patient"}])", "", IssueType::kStructure},
    {"no resourceType", R"({"id":"x"})", "", IssueType::kStructure},
    {"resourceType not a string", R"({"resourceType":1})", "", IssueType::kStructure},
    {"unknown resourceType", R"({"resourceType":"Patientt"})", "", IssueType::kInvalid},
    {"datatype as resourceType", R"({"resourceType":"HumanName"})", "", IssueType::kInvalid},
    {"abstract resourceType", R"({"resourceType":"DomainResource"})", "", IssueType::kInvalid},
    {"resourceType inside a datatype",
     R"({"resourceType":"Patient","name":[{"resourceType":"HumanName","family":"x"}]})",
     "Patient.name[0]", IssueType::kStructure},

    // --- Resource ids ---
    {"good id", R"({"resourceType":"Patient","id":"a-b.C9"})"},
    {"id with underscore", R"({"resourceType":"Patient","id":"bad_id"})", "Patient.id",
     IssueType::kValue},
    {"id with space", R"({"resourceType":"Patient","id":"bad id"})", "Patient.id",
     IssueType::kValue},
    {"id too long",
     R"({"resourceType":"Patient","id":"12345678901234567890123456789012345678901234567890123456789012345"})",
     "Patient.id", IssueType::kValue},
    {"id not a string", R"({"resourceType":"Patient","id":12})", "Patient.id",
     IssueType::kStructure},
    {"element id is any string",
     R"({"resourceType":"Patient","name":[{"id":"/any thing==","family":"x"}]})"},
    {"extension on resource id",
     R"({"resourceType":"Patient","id":"p","_id":{"extension":[{"url":"http://x","valueCode":"masked"}]}})",
     "Patient.id", IssueType::kStructure},
    {"extension on Extension.url",
     R"({"resourceType":"Patient","extension":[{"url":"http://x","_url":{"id":"a"},"valueString":"v"}]})",
     "Patient.extension[0].url", IssueType::kStructure},

    // --- Unknown elements ---
    {"unknown property", R"({"resourceType":"Patient","unknownElement":"x"})", "Patient",
     IssueType::kStructure},
    {"unknown nested property", R"({"resourceType":"Patient","name":[{"familyName":"x"}]})",
     "Patient.name[0]", IssueType::kStructure},
    {"fhir_comments", R"({"resourceType":"Patient","fhir_comments":["x"]})", "Patient",
     IssueType::kStructure},
    {"DomainResource element on Bundle",
     R"({"resourceType":"Bundle","type":"collection","text":{"status":"generated","div":"<div/>"}})",
     "Bundle", IssueType::kStructure},
    {"unknown _property", R"({"resourceType":"Patient","_nope":{"id":"x"}})", "Patient",
     IssueType::kStructure},

    // --- Choice elements ---
    {"choice variant",
     R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1}})"},
    {"choice variant with primitive extension",
     R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"a","_valueString":{"id":"1"}})"},
    {"choice without suffix",
     R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"value":1})",
     "Observation", IssueType::kStructure},
    {"choice type not allowed",
     R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueAge":{"value":1}})",
     "Observation", IssueType::kStructure},
    {"two choice variants",
     R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"a","valueBoolean":true})",
     "Observation", IssueType::kStructure},
    {"choice variant is validated as its type",
     R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":"1"}})",
     "Observation.value.ofType(Quantity).value", IssueType::kStructure},

    // --- Arrays exactly where max is many ---
    {"single where array required", R"({"resourceType":"Patient","name":{"family":"x"}})",
     "Patient.name", IssueType::kStructure},
    {"array where single required", R"({"resourceType":"Patient","gender":["male"]})",
     "Patient.gender", IssueType::kStructure},
    {"array of primitives", R"({"resourceType":"Patient","name":[{"given":["a","b"]}]})"},
    {"single primitive where array required",
     R"({"resourceType":"Patient","name":[{"given":"a"}]})", "Patient.name[0].given",
     IssueType::kStructure},

    // --- Empty and null values ---
    {"empty array", R"({"resourceType":"Patient","name":[]})", "Patient.name", IssueType::kInvalid},
    {"empty nested array", R"({"resourceType":"Patient","name":[{"given":[]}]})",
     "Patient.name[0].given", IssueType::kInvalid},
    {"empty object", R"({"resourceType":"Patient","maritalStatus":{}})", "Patient.maritalStatus",
     IssueType::kInvalid},
    {"empty object in array", R"({"resourceType":"Patient","name":[{}]})", "Patient.name[0]",
     IssueType::kInvalid},
    {"empty string", R"({"resourceType":"Patient","gender":""})", "Patient.gender",
     IssueType::kInvalid},
    {"null value", R"({"resourceType":"Patient","gender":null})", "Patient.gender",
     IssueType::kInvalid},
    {"null object", R"({"resourceType":"Patient","maritalStatus":null})", "Patient.maritalStatus",
     IssueType::kInvalid},
    {"null in array", R"({"resourceType":"Patient","name":[{"given":["a",null]}]})",
     "Patient.name[0].given[1]", IssueType::kInvalid},

    // --- Primitive extensions (_name) ---
    {"primitive extension",
     R"({"resourceType":"Patient","birthDate":"2000-01-01","_birthDate":{"extension":[{"url":"http://x","valueDateTime":"2000-01-01T10:00:00Z"}]}})"},
    {"primitive extension without value",
     R"({"resourceType":"Patient","_birthDate":{"extension":[{"url":"http://x","valueCode":"unknown"}]}})"},
    {"aligned extension arrays",
     R"({"resourceType":"Patient","name":[{"given":["a",null,"c"],"_given":[null,{"id":"g2"},{"id":"g3"}]}]})"},
    {"extension array alone", R"({"resourceType":"Patient","name":[{"_given":[{"id":"g1"}]}]})"},
    {"primitive extension not an object",
     R"({"resourceType":"Patient","birthDate":"2000-01-01","_birthDate":"x"})", "Patient.birthDate",
     IssueType::kStructure},
    {"primitive extension empty object",
     R"({"resourceType":"Patient","birthDate":"2000-01-01","_birthDate":{}})", "Patient.birthDate",
     IssueType::kInvalid},
    {"primitive extension with a value",
     R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"_valueInteger":{"value":0}})",
     "Observation.value.ofType(integer)", IssueType::kStructure},
    {"primitive extension array where single",
     R"({"resourceType":"Patient","birthDate":"2000-01-01","_birthDate":[{"id":"x"}]})",
     "Patient.birthDate", IssueType::kStructure},
    {"primitive extension single where array",
     R"({"resourceType":"Patient","name":[{"given":["a"],"_given":{"id":"x"}}]})",
     "Patient.name[0].given", IssueType::kStructure},
    {"extension arrays of different length",
     R"({"resourceType":"Patient","name":[{"given":["a"],"_given":[{"id":"test"},null]}]})",
     "Patient.name[0].given", IssueType::kStructure},
    {"both null at one index",
     R"({"resourceType":"Patient","name":[{"given":["a",null],"_given":[null,null]}]})",
     "Patient.name[0].given[1]", IssueType::kInvalid},
    {"extension item not an object",
     R"({"resourceType":"Patient","name":[{"given":["a"],"_given":["x"]}]})",
     "Patient.name[0].given[0]", IssueType::kStructure},
    {"_name on a complex element",
     R"({"resourceType":"Patient","maritalStatus":{"text":"x"},"_maritalStatus":{"id":"x"}})",
     "Patient.maritalStatus", IssueType::kStructure},
    {"extension on xhtml (max 0)",
     R"({"resourceType":"Patient","text":{"status":"generated","div":"<div>x</div>","_div":{"extension":[{"url":"http://x","valueString":"y"}]}}})",
     "Patient.text.div", IssueType::kStructure},

    // --- Primitive JSON kinds and ranges ---
    {"boolean as string", R"({"resourceType":"Patient","active":"true"})", "Patient.active",
     IssueType::kStructure},
    {"boolean", R"({"resourceType":"Patient","active":false})"},
    {"integer", R"({"resourceType":"Patient","multipleBirthInteger":2})"},
    {"integer as string", R"({"resourceType":"Patient","multipleBirthInteger":"2"})",
     "Patient.multipleBirth.ofType(integer)", IssueType::kStructure},
    {"integer with fraction", R"({"resourceType":"Patient","multipleBirthInteger":2.5})",
     "Patient.multipleBirth.ofType(integer)", IssueType::kValue},
    {"integer out of range", R"({"resourceType":"Patient","multipleBirthInteger":2147483648})",
     "Patient.multipleBirth.ofType(integer)", IssueType::kValue},
    {"integer at the limit", R"({"resourceType":"Patient","multipleBirthInteger":-2147483648})"},
    {"uint64 out of range",
     R"({"resourceType":"Patient","multipleBirthInteger":18446744073709551615})",
     "Patient.multipleBirth.ofType(integer)", IssueType::kValue},
    {"unsignedInt zero",
     R"({"resourceType":"Patient","contact":[{"name":{"family":"x"}}],"photo":[{"size":0}]})"},
    {"positiveInt zero (Timing.repeat.count)",
     R"({"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"},"medicationCodeableConcept":{"text":"x"},"dosageInstruction":[{"timing":{"repeat":{"count":0}}}]})",
     "MedicationRequest.dosageInstruction[0].timing.repeat.count", IssueType::kValue},
    {"unsignedInt negative", R"({"resourceType":"Patient","photo":[{"size":-1}]})",
     "Patient.photo[0].size", IssueType::kValue},
    {"decimal integer-valued",
     R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":120}})"},
    {"decimal as exponent",
     R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.5e3}})"},
    {"decimal as string",
     R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":"1.5"}})",
     "Observation.value.ofType(Quantity).value", IssueType::kStructure},
    {"string as number", R"({"resourceType":"Patient","name":[{"family":42}]})",
     "Patient.name[0].family", IssueType::kStructure},
    {"string as object", R"({"resourceType":"Patient","gender":{"value":"male"}})",
     "Patient.gender", IssueType::kStructure},
    {"complex as string", R"({"resourceType":"Patient","maritalStatus":"married"})",
     "Patient.maritalStatus", IssueType::kStructure},

    // --- Primitive formats ---
    {"bad date", R"({"resourceType":"Patient","birthDate":"not a date"})", "Patient.birthDate",
     IssueType::kValue},
    {"impossible date", R"({"resourceType":"Patient","birthDate":"2023-02-29"})",
     "Patient.birthDate", IssueType::kValue},
    {"partial date", R"({"resourceType":"Patient","birthDate":"1970-06"})"},
    {"dateTime without zone",
     R"({"resourceType":"Patient","deceasedDateTime":"2015-02-07T13:28:17"})",
     "Patient.deceased.ofType(dateTime)", IssueType::kValue},
    {"instant without time", R"({"resourceType":"Patient","meta":{"lastUpdated":"2015-02-07"}})",
     "Patient.meta.lastUpdated", IssueType::kValue},
    {"code with double space", R"({"resourceType":"Patient","gender":"fe  male"})",
     "Patient.gender", IssueType::kValue},
    {"uri with space", R"({"resourceType":"Patient","implicitRules":"http://a b"})",
     "Patient.implicitRules", IssueType::kValue},
    {"bad base64",
     R"j({"resourceType":"Patient","photo":[{"contentType":"image/png","data":"%%%2@()()"}]})j",
     "Patient.photo[0].data", IssueType::kValue},
    {"good base64", R"({"resourceType":"Patient","photo":[{"data":"Zm9vYg=="}]})"},
    {"bad oid",
     R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2","value":"x","assigner":{"identifier":{"value":"y"}}}],"extension":[{"url":"http://x","valueOid":"1.2.3"}]})",
     "Patient.extension[0].value.ofType(oid)", IssueType::kValue},
    {"bad uuid",
     R"({"resourceType":"Patient","extension":[{"url":"http://x","valueUuid":"urn:uuid:ABC"}]})",
     "Patient.extension[0].value.ofType(uuid)", IssueType::kValue},
    {"bad time",
     R"({"resourceType":"Patient","extension":[{"url":"http://x","valueTime":"25:00:00"}]})",
     "Patient.extension[0].value.ofType(time)", IssueType::kValue},
    {"bad id type",
     R"({"resourceType":"Patient","extension":[{"url":"http://x","valueId":"a_b"}]})",
     "Patient.extension[0].value.ofType(id)", IssueType::kValue},
    {"string with vertical tab",
     "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"a\\u000bb\"}]}",
     "Patient.name[0].family", IssueType::kValue},

    // --- Required elements ---
    {"missing required", R"({"resourceType":"Observation","status":"final"})", "Observation",
     IssueType::kRequired},
    {"missing required choice",
     R"({"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"}})",
     "MedicationRequest", IssueType::kRequired},
    {"required satisfied by extension only",
     R"({"resourceType":"Observation","_status":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]},"code":{"text":"x"}})"},
    {"missing required in backbone",
     R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"component":[{"valueString":"x"}]})",
     "Observation.component[0]", IssueType::kRequired},
    {"missing Extension.url", R"({"resourceType":"Patient","extension":[{"valueString":"x"}]})",
     "Patient.extension[0]", IssueType::kRequired},

    // --- Nested resources ---
    {"contained resource",
     R"({"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o1","name":"x"}],"managingOrganization":{"reference":"#o1"}})"},
    {"invalid contained resource",
     R"({"resourceType":"Patient","contained":[{"resourceType":"Observation","id":"o1"}]})",
     "Patient.contained[0]", IssueType::kRequired},
    {"contained without resourceType", R"({"resourceType":"Patient","contained":[{"id":"o1"}]})",
     "Patient.contained[0]", IssueType::kStructure},
    {"contained id invalid",
     R"({"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"org_1","name":"x"}]})",
     "Patient.contained[0].id", IssueType::kValue},
    {"bundle entry resource",
     R"({"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:c757873d-ec9a-4326-a141-556f43239520","resource":{"resourceType":"Patient","gender":"other"}}]})"},
    {"bundle entry resource invalid",
     R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","gender":1}}]})",
     "Bundle.entry[0].resource.gender", IssueType::kStructure},
    {"bundle entry resource unknown type",
     R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Nope"}}]})",
     "Bundle.entry[0].resource", IssueType::kInvalid},
    {"parameters resource",
     R"({"resourceType":"Parameters","parameter":[{"name":"p","resource":{"resourceType":"Patient","birthDate":"x"}}]})",
     "Parameters.parameter[0].resource.birthDate", IssueType::kValue},
    {"questionnaire nested items",
     R"({"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"linkId":"1.1","type":"string","item":[{"linkId":"1.1.1","type":"display","text":"x"}]}]}]})"},
    {"questionnaire nested item missing linkId",
     R"({"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"type":"string"}]}]})",
     "Questionnaire.item[0].item[0]", IssueType::kRequired},
};

TEST(ValidatorTest, Rules) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(c.json, ec);
    ASSERT_FALSE(ec) << c.name;
    std::vector<Issue> issues;
    Status status = Validate(value, &issues);
    std::vector<Issue> errors = Errors(issues);
    if (c.location == nullptr) {
      EXPECT_TRUE(status.ok()) << c.name << "\n" << Dump(issues);
      EXPECT_TRUE(errors.empty()) << c.name << "\n" << Dump(issues);
      continue;
    }
    ASSERT_FALSE(status.ok()) << c.name;
    ASSERT_FALSE(errors.empty()) << c.name;
    EXPECT_EQ(errors[0].location, c.location) << c.name << "\n" << Dump(issues);
    EXPECT_EQ(IssueTypeCode(errors[0].code), std::string(IssueTypeCode(c.code))) << c.name << "\n"
                                                                                 << Dump(issues);
  }
}

TEST(ValidatorTest, MessagesQuoteABoundedValidUtf8Prefix) {
  std::string long_value = "a";  // then "é" x 100: byte 60 is inside a character
  for (int i = 0; i < 100; ++i) long_value += "\xc3\xa9";
  boost::json::object patient{{"resourceType", "Patient"}, {"birthDate", long_value}};
  std::vector<Issue> issues;
  EXPECT_FALSE(Validate(patient, &issues).ok());
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_LT(issues[0].message.size(), 120u);
  EXPECT_NE(issues[0].message.find("...'"), std::string::npos);
  // The serialized outcome parses back: the cut did not split a character.
  boost::system::error_code ec;
  boost::json::parse(boost::json::serialize(MakeOperationOutcome(issues)), ec);
  EXPECT_FALSE(ec) << ec.message();
}

TEST(ValidatorTest, CheckId) {
  EXPECT_TRUE(CheckId("abc").ok());
  EXPECT_TRUE(CheckId("A-1.b").ok());
  EXPECT_TRUE(CheckId(std::string(64, 'a')).ok());
  EXPECT_FALSE(CheckId(std::string(65, 'a')).ok());
  EXPECT_FALSE(CheckId("").ok());
  EXPECT_FALSE(CheckId("a_b").ok());
  EXPECT_FALSE(CheckId("a/b").ok());
  EXPECT_EQ(CheckId("a b").code(), Code::kInvalid);
  EXPECT_NE(CheckId(std::string(90, 'a')).message().find("Too long (90 chars)"), std::string::npos);
}

TEST(ValidatorTest, StringsLongerThanOneMebibyteAreRejected) {
  boost::json::object patient{{"resourceType", "Patient"}};
  patient["name"] =
      boost::json::array{boost::json::object{{"family", std::string(kMaxStringBytes + 1, 'a')}}};
  std::vector<Issue> issues;
  EXPECT_FALSE(Validate(patient, &issues).ok());
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].code, IssueType::kTooLong);
  EXPECT_EQ(issues[0].location, "Patient.name[0].family");

  patient["name"] =
      boost::json::array{boost::json::object{{"family", std::string(kMaxStringBytes, 'a')}}};
  issues.clear();
  EXPECT_TRUE(Validate(patient, &issues).ok()) << Dump(issues);
}

TEST(ValidatorTest, ReportsEveryErrorWithLocations) {
  boost::json::value value = boost::json::parse(R"({
    "resourceType": "Patient", "id": "bad_id", "gender": ["male"], "foo": 1,
    "name": [{"given": ["a", ""], "family": null}]})");
  std::vector<Issue> issues;
  Status status = Validate(value, &issues);
  EXPECT_EQ(status.code(), Code::kInvalid);
  EXPECT_NE(status.message().find("Patient.id"), std::string::npos) << status.message();
  std::vector<std::string> locations;
  for (const Issue& issue : issues) locations.push_back(issue.location);
  EXPECT_EQ(locations,
            (std::vector<std::string>{"Patient.id", "Patient.gender", "Patient",
                                      "Patient.name[0].given[1]", "Patient.name[0].family"}))
      << Dump(issues);
}

TEST(ValidatorTest, MaxIssuesBoundsTheWork) {
  boost::json::object patient{{"resourceType", "Patient"}};
  for (int i = 0; i < 50; ++i) patient["unknown" + std::to_string(i)] = i;
  std::vector<Issue> issues;
  ValidateOptions options;
  options.max_issues = 10;
  EXPECT_FALSE(Validate(patient, &issues, options).ok());
  EXPECT_EQ(issues.size(), 10u);
  // Without an issue list only the verdict is computed.
  EXPECT_FALSE(Validate(patient, nullptr).ok());
  EXPECT_TRUE(Validate(boost::json::parse(R"({"resourceType":"Patient"})"), nullptr).ok());
}

TEST(ValidatorTest, DepthIsLimited) {
  // Contained resources nest without bound in the model; the validator does not.
  boost::json::value inner = boost::json::parse(R"({"resourceType":"Basic","code":{"text":"x"}})");
  for (int i = 0; i < 40; ++i) {
    boost::json::object outer{{"resourceType", "Basic"}, {"code", {{"text", "x"}}}};
    outer["contained"] = boost::json::array{inner};
    inner = std::move(outer);
  }
  std::vector<Issue> issues;
  EXPECT_TRUE(Validate(inner, &issues).ok()) << Dump(issues);
  ValidateOptions options;
  options.max_depth = 20;
  issues.clear();
  EXPECT_FALSE(Validate(inner, &issues, options).ok());
  ASSERT_FALSE(issues.empty());
  EXPECT_NE(issues[0].message.find("nested too deeply"), std::string::npos);
}

TEST(ValidatorTest, ParseJsonIsStrict) {
  struct ParseCase {
    const char* text;
    bool ok;
    const char* where;
  };
  const ParseCase cases[] = {
      {R"({"resourceType":"Patient"})", true, ""},
      {"{\"resourceType\":\"Patient\",}", false, "line 1, column 27"},
      {"{\n  \"resourceType\": \"Patient\", // comment\n}", false, "line 2"},
      {"{\"a\":[1,2,]}", false, "line 1"},
      {"{resourceType:\"Patient\"}", false, "line 1, column 2"},
      {"{\"a\":1} trailing", false, "line 1"},
      {"{\"a\":", false, ""},
      {"", false, ""},
      {"{\"a\":\"\xff\"}", false, ""},  // invalid UTF-8
  };
  for (const ParseCase& c : cases) {
    std::vector<Issue> issues;
    Result<boost::json::value> parsed = ParseJson(c.text, &issues);
    EXPECT_EQ(parsed.ok(), c.ok) << c.text;
    if (c.ok) continue;
    ASSERT_EQ(issues.size(), 1u) << c.text;
    EXPECT_EQ(issues[0].code, IssueType::kStructure);
    EXPECT_NE(issues[0].message.find(c.where), std::string::npos) << issues[0].message;
  }
  ParseOptions small;
  small.max_bytes = 10;
  std::vector<Issue> issues;
  EXPECT_FALSE(ParseJson(R"({"resourceType":"Patient"})", &issues, small).ok());
  EXPECT_EQ(issues.at(0).code, IssueType::kTooLong);

  std::string deep(200, '[');
  deep += std::string(200, ']');
  EXPECT_FALSE(ParseJson(deep, nullptr).ok());
}

TEST(ValidatorTest, ParseAndValidate) {
  std::vector<Issue> issues;
  Result<boost::json::value> ok =
      ParseAndValidate(R"({"resourceType":"Patient","gender":"male"})", &issues);
  ASSERT_TRUE(ok.ok()) << Dump(issues);
  EXPECT_EQ(ok->at("gender"), "male");
  EXPECT_FALSE(ParseAndValidate(R"({"resourceType":"Patient","gender":1})", &issues).ok());
  EXPECT_FALSE(ParseAndValidate(R"({"resourceType":"Patient",)", &issues).ok());
}

}  // namespace
}  // namespace crs::fhir
