#include "fhir/json_patch.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace crs::fhir {
namespace {

namespace json = boost::json;

json::value ReadJsonFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return json::parse(buffer.str());
}

// One table row: `expected` is the patched document, or nullptr when the
// patch must fail with `code`.
struct PatchCase {
  const char* name;
  const char* doc;
  const char* patch;
  const char* expected;
  Code code = Code::kOk;
};

// Runs one case and checks it behaves as the table says.
void RunCase(const PatchCase& c) {
  SCOPED_TRACE(c.name);
  json::value doc = json::parse(c.doc);
  const json::value before = doc;
  auto result = ApplyJsonPatch(doc, json::parse(c.patch));
  EXPECT_EQ(doc, before) << "the input document must never change";
  if (c.expected != nullptr) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(*result, json::parse(c.expected)) << json::serialize(*result);
  } else {
    ASSERT_FALSE(result.ok()) << "unexpected success: " << json::serialize(*result);
    EXPECT_EQ(result.status().code(), c.code) << result.status().ToString();
    EXPECT_FALSE(result.status().message().empty());
  }
}

constexpr Code k400 = Code::kInvalid;
constexpr Code k422 = Code::kUnprocessable;

// RFC 6902 Appendix A, written out independently of the shared suite (A.13,
// duplicate "op" members, is a JSON-parser matter and is not expressible once
// parsed).
const PatchCase kRfcAppendix[] = {
    {"A.1 add object member", R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])",
     R"({"baz":"qux","foo":"bar"})"},
    {"A.2 add array element", R"({"foo":["bar","baz"]})",
     R"([{"op":"add","path":"/foo/1","value":"qux"}])", R"({"foo":["bar","qux","baz"]})"},
    {"A.3 remove object member", R"({"baz":"qux","foo":"bar"})",
     R"([{"op":"remove","path":"/baz"}])", R"({"foo":"bar"})"},
    {"A.4 remove array element", R"({"foo":["bar","qux","baz"]})",
     R"([{"op":"remove","path":"/foo/1"}])", R"({"foo":["bar","baz"]})"},
    {"A.5 replace", R"({"baz":"qux","foo":"bar"})",
     R"([{"op":"replace","path":"/baz","value":"boo"}])", R"({"baz":"boo","foo":"bar"})"},
    {"A.6 move value", R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
     R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])",
     R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})"},
    {"A.7 move array element", R"({"foo":["all","grass","cows","eat"]})",
     R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])",
     R"({"foo":["all","cows","eat","grass"]})"},
    {"A.8 test success", R"({"baz":"qux","foo":["a",2,"c"]})",
     R"([{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}])",
     R"({"baz":"qux","foo":["a",2,"c"]})"},
    {"A.9 test error", R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])",
     nullptr, k422},
    {"A.10 add nested object", R"({"foo":"bar"})",
     R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])",
     R"({"foo":"bar","child":{"grandchild":{}}})"},
    {"A.11 ignore unknown members", R"({"foo":"bar"})",
     R"([{"op":"add","path":"/baz","value":"qux","xyz":123}])", R"({"foo":"bar","baz":"qux"})"},
    {"A.12 add to non-existent target", R"({"foo":"bar"})",
     R"([{"op":"add","path":"/baz/bat","value":"qux"}])", nullptr, k422},
    {"A.14 escape ordering", R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":10}])",
     R"({"/":9,"~1":10})"},
    {"A.15 string is not number", R"({"/":9,"~1":10})",
     R"([{"op":"test","path":"/~01","value":"10"}])", nullptr, k422},
    {"A.16 add array value", R"({"foo":["bar"]})",
     R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])", R"({"foo":["bar",["abc","def"]]})"},
};

// Further behaviour a FHIR PATCH client relies on.
const PatchCase kSemantics[] = {
    {"empty patch", R"({"a":1})", "[]", R"({"a":1})"},
    {"add replaces existing member", R"({"a":1})", R"([{"op":"add","path":"/a","value":2}])",
     R"({"a":2})"},
    {"add null value", R"({})", R"([{"op":"add","path":"/a","value":null}])", R"({"a":null})"},
    {"add at root replaces document", R"({"a":1})", R"([{"op":"add","path":"","value":[1]}])",
     "[1]"},
    {"replace root", R"({"a":1})", R"([{"op":"replace","path":"","value":{"b":2}}])", R"({"b":2})"},
    {"empty key", R"({})", R"([{"op":"add","path":"/","value":1}])", R"({"":1})"},
    {"key of digits on object", R"({})", R"([{"op":"add","path":"/0","value":1}])", R"({"0":1})"},
    {"key with escapes", R"({})", R"([{"op":"add","path":"/a~1b~0c","value":1}])",
     R"({"a/b~c":1})"},
    {"add at array end by index", R"([1,2])", R"([{"op":"add","path":"/2","value":3}])", "[1,2,3]"},
    {"add at array start", R"([1,2])", R"([{"op":"add","path":"/0","value":0}])", "[0,1,2]"},
    {"add to top-level array with dash", R"([])", R"([{"op":"add","path":"/-","value":"x"}])",
     R"(["x"])"},
    {"remove last element", R"({"a":[1,2]})", R"([{"op":"remove","path":"/a/1"}])", R"({"a":[1]})"},
    {"replace array element", R"([1,2,3])", R"([{"op":"replace","path":"/1","value":"b"}])",
     R"([1,"b",3])"},
    {"move to same place is a no-op", R"({"a":1,"b":2})",
     R"([{"op":"move","from":"/a","path":"/a"}])", R"({"a":1,"b":2})"},
    {"move to root", R"({"a":{"b":1}})", R"([{"op":"move","from":"/a","path":""}])", R"({"b":1})"},
    {"move array element to the end with dash", R"([1,2,3])",
     R"([{"op":"move","from":"/0","path":"/-"}])", "[2,3,1]"},
    {"copy object", R"({"a":{"b":[1]}})", R"([{"op":"copy","from":"/a","path":"/c"}])",
     R"({"a":{"b":[1]},"c":{"b":[1]}})"},
    {"copy whole document into itself", R"({"a":1})", R"([{"op":"copy","from":"","path":"/self"}])",
     R"({"a":1,"self":{"a":1}})"},
    {"copy into array", R"({"a":[1,2]})", R"([{"op":"copy","from":"/a/0","path":"/a/1"}])",
     R"({"a":[1,1,2]})"},
    {"test number numerically", R"({"n":1})", R"([{"op":"test","path":"/n","value":1.0}])",
     R"({"n":1})"},
    {"test object ignores member order", R"({"o":{"a":1,"b":[true,null]}})",
     R"([{"op":"test","path":"/o","value":{"b":[true,null],"a":1}}])",
     R"({"o":{"a":1,"b":[true,null]}})"},
    {"test whole document", R"({"a":1})", R"([{"op":"test","path":"","value":{"a":1}}])",
     R"({"a":1})"},
    {"test null", R"({"a":null})", R"([{"op":"test","path":"/a","value":null}])", R"({"a":null})"},
    {"test array order matters", R"({"a":[1,2]})", R"([{"op":"test","path":"/a","value":[2,1]}])",
     nullptr, k422},
    {"test extra member fails", R"({"o":{"a":1}})",
     R"([{"op":"test","path":"/o","value":{"a":1,"b":2}}])", nullptr, k422},
    {"test 1 is not true", R"({"a":1})", R"([{"op":"test","path":"/a","value":true}])", nullptr,
     k422},
    {"test 1.5 is not 1", R"({"a":1})", R"([{"op":"test","path":"/a","value":1.5}])", nullptr,
     k422},
    {"test missing member", R"({})", R"([{"op":"test","path":"/a","value":null}])", nullptr, k422},
    {"remove missing member", R"({"a":1})", R"([{"op":"remove","path":"/b"}])", nullptr, k422},
    {"replace missing member", R"({"a":1})", R"([{"op":"replace","path":"/b","value":1}])", nullptr,
     k422},
    {"remove whole document", R"({"a":1})", R"([{"op":"remove","path":""}])", nullptr, k422},
    {"move missing source", R"({"a":1})", R"([{"op":"move","from":"/x","path":"/y"}])", nullptr,
     k422},
    {"move into own child", R"({"a":{"b":{}}})", R"([{"op":"move","from":"/a","path":"/a/b/c"}])",
     nullptr, k422},
    {"copy missing source", R"({})", R"([{"op":"copy","from":"/x","path":"/y"}])", nullptr, k422},
    {"add index past end", R"({"a":[1]})", R"([{"op":"add","path":"/a/2","value":1}])", nullptr,
     k422},
    {"add leading zero index", R"({"a":[1,2]})", R"([{"op":"add","path":"/a/01","value":1}])",
     nullptr, k422},
    {"add negative index", R"({"a":[1,2]})", R"([{"op":"add","path":"/a/-1","value":1}])", nullptr,
     k422},
    {"exponent is not an index", R"({"a":[1,2]})",
     R"([{"op":"replace","path":"/a/1e0","value":1}])", nullptr, k422},
    {"later failure undoes earlier ops", R"({"a":1})",
     R"([{"op":"add","path":"/b","value":2},{"op":"remove","path":"/a"},)"
     R"({"op":"test","path":"/b","value":3}])",
     nullptr, k422},
    {"ops see earlier results", R"({"a":[]})",
     R"([{"op":"add","path":"/a/-","value":{"x":1}},{"op":"test","path":"/a/0/x","value":1},)"
     R"({"op":"move","from":"/a/0/x","path":"/y"}])",
     R"({"a":[{}],"y":1})"},
};

// Malformed patch documents (400) are rejected before anything is applied.
const PatchCase kMalformed[] = {
    {"patch is an object", R"({})", R"({"op":"add","path":"/a","value":1})", nullptr, k400},
    {"patch is a string", R"({})", R"("[]")", nullptr, k400},
    {"patch is null", R"({})", "null", nullptr, k400},
    {"operation is not an object", R"({})", R"([["add","/a",1]])", nullptr, k400},
    {"missing op", R"({})", R"([{"path":"/a","value":1}])", nullptr, k400},
    {"op not a string", R"({})", R"([{"op":1,"path":"/a","value":1}])", nullptr, k400},
    {"unknown op", R"({})", R"([{"op":"spam","path":"/a","value":1}])", nullptr, k400},
    {"op is case sensitive", R"({})", R"([{"op":"ADD","path":"/a","value":1}])", nullptr, k400},
    {"missing path", R"({})", R"([{"op":"add","value":1}])", nullptr, k400},
    {"path not a string", R"({})", R"([{"op":"add","path":1,"value":1}])", nullptr, k400},
    {"path without leading slash", R"({"a":1})", R"([{"op":"remove","path":"a"}])", nullptr, k400},
    {"bad escape ~2", R"({})", R"([{"op":"add","path":"/a~2","value":1}])", nullptr, k400},
    {"dangling tilde", R"({})", R"([{"op":"add","path":"/a~","value":1}])", nullptr, k400},
    {"add without value", R"({})", R"([{"op":"add","path":"/a"}])", nullptr, k400},
    {"replace without value", R"({"a":1})", R"([{"op":"replace","path":"/a"}])", nullptr, k400},
    {"test without value", R"({"a":1})", R"([{"op":"test","path":"/a"}])", nullptr, k400},
    {"move without from", R"({"a":1})", R"([{"op":"move","path":"/b"}])", nullptr, k400},
    {"copy with non-string from", R"({"a":1})", R"([{"op":"copy","from":[],"path":"/b"}])", nullptr,
     k400},
    {"malformed op after a failing one is still 400", R"({})",
     R"([{"op":"remove","path":"/missing"},{"op":"bogus","path":"/a"}])", nullptr, k400},
};

// Hostile input: must fail cleanly, never crash.
const PatchCase kHostile[] = {
    {"huge index", R"({"a":[1]})",
     R"([{"op":"add","path":"/a/99999999999999999999999999","value":1}])", nullptr, k422},
    {"max size_t index", R"({"a":[1]})",
     R"([{"op":"replace","path":"/a/18446744073709551615","value":1}])", nullptr, k422},
    {"index just past 18 digits", R"({"a":[1]})",
     R"([{"op":"remove","path":"/a/1000000000000000000"}])", nullptr, k422},
    {"dash in remove", R"({"a":[1]})", R"([{"op":"remove","path":"/a/-"}])", nullptr, k422},
    {"dash in replace", R"({"a":[1]})", R"([{"op":"replace","path":"/a/-","value":2}])", nullptr,
     k422},
    {"dash in test", R"({"a":[1]})", R"([{"op":"test","path":"/a/-","value":1}])", nullptr, k422},
    {"dash as move source", R"({"a":[1]})", R"([{"op":"move","from":"/a/-","path":"/b"}])", nullptr,
     k422},
    {"dash as copy source", R"({"a":[1]})", R"([{"op":"copy","from":"/a/-","path":"/b"}])", nullptr,
     k422},
    {"dash mid-pointer", R"({"a":[{"b":1}]})", R"([{"op":"add","path":"/a/-/b","value":1}])",
     nullptr, k422},
    {"dash on an object is a key", R"({"a":{}})", R"([{"op":"add","path":"/a/-","value":1}])",
     R"({"a":{"-":1}})"},
    {"through a string", R"({"a":"text"})", R"([{"op":"add","path":"/a/b","value":1}])", nullptr,
     k422},
    {"through a string deeper", R"({"a":"text"})",
     R"([{"op":"replace","path":"/a/0/c","value":1}])", nullptr, k422},
    {"through a number", R"({"a":5})", R"([{"op":"remove","path":"/a/0"}])", nullptr, k422},
    {"through null", R"({"a":null})", R"([{"op":"test","path":"/a/b","value":1}])", nullptr, k422},
    {"through bool", R"({"a":true})", R"([{"op":"copy","from":"/a/x","path":"/b"}])", nullptr,
     k422},
    {"primitive document", "42", R"([{"op":"add","path":"/a","value":1}])", nullptr, k422},
    {"primitive root replaced", "42", R"([{"op":"replace","path":"","value":"x"}])", R"("x")"},
    {"missing intermediate", R"({})", R"([{"op":"add","path":"/a/b/c/d/e","value":1}])", nullptr,
     k422},
    {"index into empty array", R"({"a":[]})", R"([{"op":"replace","path":"/a/0","value":1}])",
     nullptr, k422},
    {"empty token on array", R"({"a":[1]})", R"([{"op":"remove","path":"/a/"}])", nullptr, k422},
    {"plus-signed index", R"({"a":[1,2]})", R"([{"op":"remove","path":"/a/+1"}])", nullptr, k422},
    {"space in index", R"({"a":[1,2]})", R"([{"op":"remove","path":"/a/ 1"}])", nullptr, k422},
};

TEST(JsonPatchTest, RfcAppendix) {
  for (const PatchCase& c : kRfcAppendix) RunCase(c);
}

TEST(JsonPatchTest, Semantics) {
  for (const PatchCase& c : kSemantics) RunCase(c);
}

TEST(JsonPatchTest, MalformedPatchesAre400) {
  for (const PatchCase& c : kMalformed) RunCase(c);
}

TEST(JsonPatchTest, HostileInputFailsCleanly) {
  for (const PatchCase& c : kHostile) RunCase(c);
}

// The official FHIR test-cases JSON Patch suite: {comment, doc, patch,
// expected | error}. Every error there is a patch that cannot apply (422).
TEST(JsonPatchTest, OfficialFhirSuite) {
  const json::value suite = ReadJsonFile(std::filesystem::path(CRS_SHARED_DIR) /
                                         "fhir-patch-tests/json-patch-tests.json");
  ASSERT_TRUE(suite.is_array());
  int passed = 0;
  int run = 0;
  for (const json::value& test : suite.get_array()) {
    const json::object& t = test.as_object();
    if (t.contains("disabled") && t.at("disabled").as_bool()) continue;
    ++run;
    SCOPED_TRACE(std::string(t.at("comment").as_string()));
    auto result = ApplyJsonPatch(t.at("doc"), t.at("patch"));
    if (t.contains("expected")) {
      EXPECT_TRUE(result.ok()) << result.status().ToString();
      if (result.ok() && *result == t.at("expected")) {
        ++passed;
      } else if (result.ok()) {
        ADD_FAILURE() << "got " << json::serialize(*result);
      }
    } else {
      ASSERT_TRUE(t.contains("error"));
      EXPECT_FALSE(result.ok());
      if (!result.ok()) {
        EXPECT_EQ(result.status().code(), Code::kUnprocessable) << result.status().ToString();
        if (result.status().code() == Code::kUnprocessable) ++passed;
      }
    }
  }
  EXPECT_EQ(run, 16);
  EXPECT_EQ(passed, run);
}

TEST(JsonPatchTest, ResultIsIndependentOfInput) {
  json::value doc = json::parse(R"({"a":{"b":[1,2]}})");
  auto patched = ApplyJsonPatch(doc, json::parse(R"([{"op":"add","path":"/a/b/-","value":3}])"));
  ASSERT_TRUE(patched.ok());
  doc.as_object()["a"].as_object()["b"].as_array().clear();
  EXPECT_EQ(*patched, json::parse(R"({"a":{"b":[1,2,3]}})"));
}

TEST(JsonPatchTest, RemoveKeepsMemberOrder) {
  auto patched = ApplyJsonPatch(
      json::parse(R"({"resourceType":"Patient","id":"x","gender":"male","active":true})"),
      json::parse(R"([{"op":"remove","path":"/id"}])"));
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ(json::serialize(*patched),
            R"({"resourceType":"Patient","gender":"male","active":true})");
}

TEST(JsonPatchTest, ErrorsNameTheOperationButNotDocumentValues) {
  auto result = ApplyJsonPatch(json::parse(R"({"secret":"Jane Smith"})"),
                               json::parse(R"([{"op":"add","path":"/ok","value":1},)"
                                           R"({"op":"test","path":"/secret","value":"x"}])"));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("operation 1"), std::string::npos);
  EXPECT_NE(result.status().message().find("/secret"), std::string::npos);
  EXPECT_EQ(result.status().message().find("Jane"), std::string::npos);
}

TEST(JsonPatchTest, LargeIndexesAndDeepPathsDoNotCrash) {
  json::value doc = json::parse(R"({"a":[]})");
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "/x";
  json::array patch;
  patch.push_back(json::object{{"op", "add"}, {"path", deep}, {"value", 1}});
  patch.push_back(json::object{{"op", "add"}, {"path", "/a/4294967296"}, {"value", 1}});
  auto result = ApplyJsonPatch(doc, patch);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kUnprocessable);
}

// The NHS PDS JSON Patch request examples ({"patches": [...]}) applied to the
// PDS sandbox Patient. delete-name-alternative tests /name/0 against a name
// whose period (2020-2021) differs from the sandbox's (2024-2025), so it must
// fail its test op; every other example applies.
TEST(JsonPatchTest, NhsPdsPatchExamples) {
  const std::filesystem::path pds = std::filesystem::path(CRS_SHARED_DIR) / "nhs/pds";
  const json::value patient = ReadJsonFile(pds / "sandbox-mocks/Patient.json");
  int applied = 0;
  int seen = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(pds / "spec-request-examples/PatientPatch")) {
    ++seen;
    const std::string name = entry.path().stem().string();
    SCOPED_TRACE(name);
    const json::value body = ReadJsonFile(entry.path());
    auto result = ApplyJsonPatch(patient, body.at("patches"));
    if (name == "delete-name-alternative") {
      ASSERT_FALSE(result.ok());
      EXPECT_EQ(result.status().code(), Code::kUnprocessable);
      continue;
    }
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    ++applied;
    const json::object& out = result->as_object();
    if (name == "update-gender") {
      EXPECT_EQ(out.at("gender"), "male");
    }
    if (name == "delete-gender") {
      EXPECT_FALSE(out.contains("gender"));
    }
    if (name == "add-deceased-date-time") {
      EXPECT_TRUE(out.contains("deceasedDateTime"));
    }
    if (name == "add-name") {
      EXPECT_EQ(out.at("name").as_array().size(), patient.at("name").as_array().size() + 1);
    }
    if (name == "delete-extension") {
      EXPECT_EQ(out.at("extension").as_array().size(),
                patient.at("extension").as_array().size() - 1);
    }
    if (name == "update-address") {
      EXPECT_EQ(out.at("address").at(0).at("postalCode"), "LS1 4BU");
    }
  }
  EXPECT_EQ(seen, 11);
  EXPECT_EQ(applied, 10);
}

}  // namespace
}  // namespace crs::fhir
