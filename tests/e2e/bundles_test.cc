// batch and transaction Bundles: atomicity, ordering, urn:uuid resolution.
#include "e2e/fixture.h"

namespace crs::e2e {
namespace {

namespace json = boost::json;
using BundlesTest = ServerTest;

TEST_F(BundlesTest, TransactionResolvesUrnReferencesAndIsAtomic) {
  const char* tx = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:0f8e6c1a-2f5b-4f0e-9b1e-5c7a1d2e3f40",
     "resource":{"resourceType":"Observation","status":"final","code":{"text":"weight"},
       "subject":{"reference":"urn:uuid:9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"}},
     "request":{"method":"POST","url":"Observation"}},
    {"fullUrl":"urn:uuid:9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
     "resource":{"resourceType":"Patient","name":[{"family":"Ng"}]},
     "request":{"method":"POST","url":"Patient"}},
    {"resource":{"resourceType":"Patient","id":"9990000018","gender":"female"},
     "request":{"method":"PUT","url":"Patient/9990000018"}},
    {"request":{"method":"GET","url":"Patient/9990000018"}}
  ]})";
  auto r = Post("/fhir", tx);
  ASSERT_EQ(r.status, 200) << r.body;
  auto b = r.Json();
  EXPECT_EQ(b.at("type"), "transaction-response");
  auto& e = b.at("entry").as_array();
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].at("response").at("status"), "201 Created");
  EXPECT_EQ(e[1].at("response").at("status"), "201 Created");
  EXPECT_EQ(e[2].at("response").at("status"), "201 Created");
  // The GET runs after the writes and sees them.
  EXPECT_EQ(e[3].at("response").at("status"), "200 OK");
  EXPECT_EQ(e[3].at("resource").at("gender"), "female");
  std::string patient = IdFromLocation(std::string(e[1].at("response").at("location").as_string()));
  std::string obs = IdFromLocation(std::string(e[0].at("response").at("location").as_string()));
  auto o = Get("/fhir/" + obs).Json();
  EXPECT_EQ(o.at("subject").at("reference").as_string(), patient);
}

TEST_F(BundlesTest, FailedTransactionWritesNothing) {
  const char* tx = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":"9990000018","gender":"female"},
     "request":{"method":"PUT","url":"Patient/9990000018"}},
    {"resource":{"resourceType":"Patient","birthDate":"not-a-date"},
     "request":{"method":"POST","url":"Patient"}}
  ]})";
  auto r = Post("/fhir", tx);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(OutcomeCode(r), "invalid");
  EXPECT_NE(r.body.find("entry[1]"), std::string::npos) << r.body;
  EXPECT_EQ(Get("/fhir/Patient/9990000018").status, 404);
  // A stale ifMatch fails the whole transaction too.
  ASSERT_EQ(Put("/fhir/Patient/9990000026", R"({"resourceType":"Patient","id":"9990000026"})").status, 201);
  const char* tx2 = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":"9990000034"},"request":{"method":"PUT","url":"Patient/9990000034"}},
    {"request":{"method":"DELETE","url":"Patient/9990000026","ifMatch":"W/\"3\""}}
  ]})";
  EXPECT_EQ(Post("/fhir", tx2).status, 412);
  EXPECT_EQ(Get("/fhir/Patient/9990000034").status, 404);
  EXPECT_EQ(Get("/fhir/Patient/9990000026").status, 200);
}

TEST_F(BundlesTest, TransactionProcessesDeletesBeforeCreates) {
  ASSERT_EQ(Put("/fhir/Patient/9990000018", R"({"resourceType":"Patient","id":"9990000018"})").status, 201);
  // Listed PUT first, DELETE second: deletes run first, so the same resource
  // may not appear twice — the spec calls that an error.
  const char* dup = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":"9990000018"},"request":{"method":"PUT","url":"Patient/9990000018"}},
    {"request":{"method":"DELETE","url":"Patient/9990000018"}}]})";
  EXPECT_EQ(Post("/fhir", dup).status, 400);
  const char* tx = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":"9990000026"},"request":{"method":"PUT","url":"Patient/9990000026"}},
    {"request":{"method":"DELETE","url":"Patient/9990000018"}}]})";
  auto r = Post("/fhir", tx);
  ASSERT_EQ(r.status, 200) << r.body;
  auto h = Get("/fhir/_history?_count=2").Json();
  // Newest first: the PUT (processed after the DELETE) is the newest version.
  EXPECT_EQ(h.at("entry").at(0).at("request").at("method"), "POST");
  EXPECT_EQ(h.at("entry").at(1).at("request").at("method"), "DELETE");
}

TEST_F(BundlesTest, BatchEntriesSucceedOrFailOnTheirOwn) {
  const char* batch = R"({"resourceType":"Bundle","type":"batch","entry":[
    {"resource":{"resourceType":"Patient","gender":"male"},"request":{"method":"POST","url":"Patient"}},
    {"resource":{"resourceType":"Patient","birthDate":"nope"},"request":{"method":"POST","url":"Patient"}},
    {"request":{"method":"GET","url":"Patient/missing"}},
    {"resource":{"resourceType":"Patient","id":"9991234004"},"request":{"method":"PUT","url":"Patient/9991234004"}}
  ]})";
  auto r = Post("/fhir", batch);
  ASSERT_EQ(r.status, 200) << r.body;
  auto b = r.Json();
  EXPECT_EQ(b.at("type"), "batch-response");
  auto& e = b.at("entry").as_array();
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].at("response").at("status"), "201 Created");
  EXPECT_EQ(e[1].at("response").at("status"), "400 Bad Request");
  EXPECT_EQ(e[1].at("response").at("outcome").at("resourceType"), "OperationOutcome");
  EXPECT_EQ(e[2].at("response").at("status"), "404 Not Found");
  EXPECT_EQ(e[3].at("response").at("status"), "201 Created");
  EXPECT_EQ(Get("/fhir/Patient/9991234004").status, 200);
}

TEST_F(BundlesTest, PatchEntryInTransaction) {
  ASSERT_EQ(Put("/fhir/Patient/9990000018",
                R"({"resourceType":"Patient","id":"9990000018","gender":"male"})").status, 201);
  // [{"op":"replace","path":"/gender","value":"female"}] in base64
  const char* tx = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Binary","contentType":"application/json-patch+json",
      "data":"W3sib3AiOiJyZXBsYWNlIiwicGF0aCI6Ii9nZW5kZXIiLCJ2YWx1ZSI6ImZlbWFsZSJ9XQ=="},
     "request":{"method":"PATCH","url":"Patient/9990000018","ifMatch":"W/\"1\""}}]})";
  auto r = Post("/fhir", tx);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Get("/fhir/Patient/9990000018").Json().at("gender"), "female");
}

TEST_F(BundlesTest, UnresolvableUrnReferenceIsRejected) {
  const char* tx = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
      "subject":{"reference":"urn:uuid:11111111-2222-4333-8444-555555555555"}},
     "request":{"method":"POST","url":"Observation"}}]})";
  EXPECT_EQ(Post("/fhir", tx).status, 400);
  EXPECT_EQ(Get("/fhir/_history").Json().as_object().contains("entry"), false);
}

}  // namespace
}  // namespace crs::e2e

namespace crs::e2e {
namespace {

TEST_F(BundlesTest, ARetriedTransactionIsAnsweredFromItsFirstCommit) {
  const char* tx = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Observation","status":"final","code":{"text":"pulse"}},
     "request":{"method":"POST","url":"Observation"}},
    {"resource":{"resourceType":"Organization","id":"org-retry","name":"Retry"},
     "request":{"method":"PUT","url":"Organization/org-retry"}}
  ]})";
  std::vector<std::pair<std::string, std::string>> key = {{"X-Request-ID", "tx-retry-0001"}};
  auto first = Post("/fhir", tx, key);
  ASSERT_EQ(first.status, 200) << first.body;
  auto again = Post("/fhir", tx, key);
  ASSERT_EQ(again.status, 200) << again.body;
  auto a = first.Json().at("entry").as_array();
  auto b = again.Json().at("entry").as_array();
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(a[i].at("response").at("location"), b[i].at("response").at("location"));
    EXPECT_EQ(a[i].at("response").at("status"), b[i].at("response").at("status"));
  }
  // Nothing was written twice: one Observation, Organization still version 1.
  EXPECT_EQ(Get("/fhir/Observation?_summary=count").Json().at("total"), 1);
  EXPECT_EQ(Get("/fhir/Organization/org-retry").Json().at("meta").at("versionId"), "1");
  // The same key on a different request is a conflict, not a silent replay.
  const char* other = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Organization","id":"org-other","name":"Other"},
     "request":{"method":"PUT","url":"Organization/org-other"}}]})";
  EXPECT_EQ(Post("/fhir", other, key).status, 409);
}

}  // namespace
}  // namespace crs::e2e
