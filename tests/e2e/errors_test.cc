// Bad input gets a clear OperationOutcome with the right status, and loses
// nothing already stored.
#include "e2e/fixture.h"

namespace crs::e2e {
namespace {

struct ErrorCase {
  const char* name;
  const char* method;
  std::string path;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int status;
};

class ErrorsTest : public ServerTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--max-body", "65536"}; }
};

TEST_F(ErrorsTest, EveryErrorIsAnOperationOutcomeWithTheRightStatus) {
  // A Patient's id is its NHS number (docs/demographics.md).
  const std::string p1 = "/fhir/Patient/9990000018";
  ASSERT_EQ(Put(p1, R"({"resourceType":"Patient","id":"9990000018","gender":"male"})").status,
            201);
  std::string deep(200, '[');
  deep += std::string(200, ']');
  std::string big = R"({"resourceType":"Patient","text":{"status":"generated","div":")" +
                    std::string(70000, 'x') + "\"}}";
  const std::vector<ErrorCase> cases = {
      {"malformed JSON", "POST", "/fhir/Patient", R"({"resourceType":"Patient",)", {}, 400},
      {"not an object", "POST", "/fhir/Patient", R"([1,2])", {}, 400},
      {"unknown resource type in URL", "GET", "/fhir/Unicorn/1", "", {}, 404},
      {"unknown resourceType in body", "POST", "/fhir/Patient",
       R"({"resourceType":"Unicorn"})", {}, 400},
      {"type mismatch URL/body", "POST", "/fhir/Observation", R"({"resourceType":"Patient"})",
       {}, 400},
      {"id mismatch URL/body", "PUT", p1,
       R"({"resourceType":"Patient","id":"p2"})", {}, 400},
      {"update without id", "PUT", p1, R"({"resourceType":"Patient"})", {}, 400},
      {"Patient id not an NHS number", "PUT", "/fhir/Patient/p1",
       R"({"resourceType":"Patient","id":"p1"})", {}, 400},
      {"Patient update without If-Match", "PUT", p1,
       R"({"resourceType":"Patient","id":"9990000018"})", {}, 412},
      {"invalid id in URL", "GET", "/fhir/Patient/bad_id!", "", {}, 400},
      {"id too long", "PUT", "/fhir/Patient/" + std::string(65, 'a'), "", {}, 400},
      {"unknown element", "POST", "/fhir/Patient",
       R"({"resourceType":"Patient","colour":"blue"})", {}, 400},
      {"bad date", "POST", "/fhir/Patient", R"({"resourceType":"Patient","birthDate":"1990-02-30"})",
       {}, 400},
      {"bad dateTime", "POST", "/fhir/Observation",
       R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"effectiveDateTime":"2020-01-01T25:00:00Z"})",
       {}, 400},
      {"bad instant", "POST", "/fhir/Observation",
       R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"issued":"2020-01-01"})",
       {}, 400},
      {"bad boolean", "POST", "/fhir/Patient", R"({"resourceType":"Patient","active":"yes"})", {},
       400},
      {"bad integer", "POST", "/fhir/Patient",
       R"({"resourceType":"Patient","multipleBirthInteger":1.5})", {}, 400},
      {"bad decimal", "POST", "/fhir/Observation",
       R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":"12"}})",
       {}, 400},
      {"bad uri", "POST", "/fhir/Patient",
       R"({"resourceType":"Patient","identifier":[{"system":"has space"}]})", {}, 400},
      {"bad code", "POST", "/fhir/Patient", R"({"resourceType":"Patient","gender":" male"})", {},
       400},
      {"array expected", "POST", "/fhir/Patient",
       R"({"resourceType":"Patient","name":{"family":"X"}})", {}, 400},
      {"required element missing", "POST", "/fhir/Observation",
       R"({"resourceType":"Observation","code":{"text":"x"}})", {}, 400},
      {"body too large", "POST", "/fhir/Patient", big, {}, 413},
      {"nested too deep", "POST", "/fhir/Patient", deep, {}, 400},
      {"unsupported media type", "POST", "/fhir/Patient", "<Patient/>",
       {{"Content-Type", "application/fhir+xml"}}, 415},
      {"not acceptable", "GET", p1, "", {{"Accept", "application/fhir+xml"}}, 406},
      {"_format xml", "GET", p1 + "?_format=xml", "", {}, 406},
      {"method not allowed", "POST", p1, "{}", {}, 405},
      {"method not allowed on metadata", "DELETE", "/fhir/metadata", "", {}, 405},
      {"version conflict", "PUT", "/fhir/Organization/o1",
       R"({"resourceType":"Organization","id":"o1"})", {{"If-Match", "W/\"7\""}}, 412},
      {"Patient version mismatch", "PUT", p1,
       R"({"resourceType":"Patient","id":"9990000018"})", {{"If-Match", "W/\"7\""}}, 409},
      {"bad If-Match", "PUT", p1, R"({"resourceType":"Patient","id":"9990000018"})",
       {{"If-Match", "banana"}}, 400},
      {"POST to base with a non-Bundle", "POST", "/fhir", R"({"resourceType":"Patient"})", {},
       400},
      {"Bundle of the wrong type", "POST", "/fhir",
       R"({"resourceType":"Bundle","type":"collection"})", {}, 400},
      // FHIR strings hold no code point below U+0020 but tab, CR and LF, and
      // JSON text is UTF-8: both backends refuse alike (PostgreSQL's text
      // cannot hold NUL at all).
      {"NUL in an indexed string", "POST", "/fhir/Patient",
       R"({"resourceType":"Patient","name":[{"family":"Sm\u0000ith"}]})", {}, 400},
      {"NUL in a long string", "POST", "/fhir/Observation",
       R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"a\u0000"})",
       {}, 400},
      {"control character in a uri", "POST", "/fhir/Patient",
       R"({"resourceType":"Patient","identifier":[{"system":"urn:a\u0001b","value":"1"}]})", {},
       400},
      {"escape character in a code", "PUT", "/fhir/Organization/o2",
       R"({"resourceType":"Organization","id":"o2","name":"A\u001bB"})", {}, 400},
      {"invalid UTF-8", "POST", "/fhir/Patient",
       "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Sm\xffith\"}]}", {}, 400},
      {"overlong UTF-8 NUL", "POST", "/fhir/Patient",
       "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"a\xc0\x80\"}]}", {}, 400},
      {"lone surrogate", "POST", "/fhir/Patient",
       R"({"resourceType":"Patient","name":[{"family":"a\ud800"}]})", {}, 400},
      {"NUL in a transaction entry", "POST", "/fhir",
       R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":
         {"resourceType":"Patient","name":[{"family":"a\u0000"}]},
         "request":{"method":"POST","url":"Patient"}}]})",
       {}, 400},
      {"NUL through a JSON Patch (the patched resource is invalid)", "PATCH", p1,
       R"([{"op":"add","path":"/name","value":[{"family":"a\u0000"}]}])",
       {{"Content-Type", "application/json-patch+json"}, {"If-Match", "W/\"1\""}}, 422},
  };
  for (const auto& c : cases) {
    auto r = client_->Send(c.method, c.path, c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    EXPECT_FALSE(OutcomeCode(r).empty()) << c.name << " did not answer an OperationOutcome: "
                                         << r.body;
  }
  // Nothing stored was lost or changed.
  auto stored = Get(p1);
  ASSERT_EQ(stored.status, 200);
  EXPECT_EQ(stored.Header("etag"), "W/\"1\"");
  EXPECT_EQ(stored.Json().at("gender"), "male");
  auto history = Get("/fhir/_history").Json();
  EXPECT_EQ(history.at("entry").as_array().size(), 1u) << "a rejected write left something";
}

TEST_F(ErrorsTest, ControlCharactersAreNamedInTheOutcome) {
  auto r = Post("/fhir/Patient", R"({"resourceType":"Patient","name":[{"family":"Sm\u0000ith"}]})");
  ASSERT_EQ(r.status, 400) << r.body;
  auto issue = r.Json().at("issue").at(0);
  EXPECT_EQ(issue.at("code"), "invalid");
  EXPECT_NE(r.body.find("control character U+0000"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("Patient.name[0].family"), std::string::npos) << r.body;
  // Tab, CR and LF are allowed.
  EXPECT_EQ(Post("/fhir/Patient",
                 R"({"resourceType":"Patient","name":[{"family":"a\tb\r\nc"}]})").status,
            201);
}

TEST_F(ErrorsTest, GarbageHttpDoesNotCrashTheServer) {
  // Raw hostile bytes on a socket, then a normal request still works.
  Client raw(server_.port());
  auto r = raw.Send("BREW", "/fhir/Patient/p1\x01\x02", "");
  (void)r;
  EXPECT_EQ(Get("/healthz").status, 200);
  // Very long header.
  auto big = Get("/fhir/metadata", {{"X-Junk", std::string(100000, 'a')}});
  EXPECT_EQ(big.status == 431 || big.status == 400 || big.status == 0, true);
  Client after(server_.port());
  EXPECT_EQ(after.Send("GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace crs::e2e
