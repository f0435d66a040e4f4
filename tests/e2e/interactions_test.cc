// The FHIR RESTful interactions through the real server: create, read,
// vread, update, delete, patch, history, Prefer, ETags, idempotent retries.
#include <boost/asio.hpp>
#include <thread>

#include "e2e/fixture.h"

namespace crs::e2e {
namespace {

namespace json = boost::json;

const char* kPatient =
    R"({"resourceType":"Patient","name":[{"family":"Chalmers","given":["Peter"]}],)"
    R"("gender":"male","birthDate":"1974-12-25"})";

// The generic interaction rules (If-Match optional, a stale one 412) are
// checked on a Practitioner: a Patient's own rules (NHS-number ids, If-Match
// required) are in demographics_test.cc.
const char* kPractitioner =
    R"({"resourceType":"Practitioner","name":[{"family":"Chalmers","given":["Peter"]}],)"
    R"("gender":"male","birthDate":"1974-12-25"})";

using InteractionsTest = ServerTest;

TEST_F(InteractionsTest, ServiceEndpoints) {
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/readyz").status, 200);
  auto m = Get("/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("crs_http_requests_total"), std::string::npos);
}

TEST_F(InteractionsTest, CreateReadUpdateDeleteLifecycle) {
  auto created = Post("/fhir/Practitioner", kPractitioner);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Header("etag"), "W/\"1\"");
  EXPECT_FALSE(created.Header("last-modified").empty());
  std::string ref = IdFromLocation(created.Header("location"));
  ASSERT_EQ(ref.rfind("Practitioner/", 0), 0u) << created.Header("location");
  EXPECT_NE(created.Header("location").find("/_history/1"), std::string::npos);
  auto body = created.Json();
  std::string id(body.at("id").as_string());
  EXPECT_EQ("Practitioner/" + id, ref);
  EXPECT_EQ(body.at("meta").at("versionId"), "1");
  EXPECT_TRUE(body.at("meta").as_object().contains("lastUpdated"));

  auto read = Get("/fhir/" + ref);
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(read.Json(), body);
  EXPECT_NE(read.Header("content-type").find("application/fhir+json"), std::string::npos);

  // Conditional read: the current ETag answers 304.
  EXPECT_EQ(Get("/fhir/" + ref, {{"If-None-Match", "W/\"1\""}}).status, 304);

  auto v2 = body;
  v2.as_object()["gender"] = "other";
  auto updated = Put("/fhir/" + ref, json::serialize(v2));
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.Header("etag"), "W/\"2\"");
  EXPECT_EQ(updated.Json().at("gender"), "other");

  // A stale If-Match is refused and changes nothing.
  auto stale = Put("/fhir/" + ref, json::serialize(body), {{"If-Match", "W/\"1\""}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(OutcomeCode(stale), "conflict");
  EXPECT_EQ(Get("/fhir/" + ref).Json().at("gender"), "other");
  // The current If-Match is accepted.
  EXPECT_EQ(Put("/fhir/" + ref, json::serialize(v2), {{"If-Match", "W/\"2\""}}).status, 200);

  auto vread1 = Get("/fhir/" + ref + "/_history/1");
  ASSERT_EQ(vread1.status, 200);
  EXPECT_EQ(vread1.Json().at("gender"), "male");
  EXPECT_EQ(Get("/fhir/" + ref + "/_history/9").status, 404);

  auto deleted = client_->Send("DELETE", "/fhir/" + ref);
  EXPECT_EQ(deleted.status, 204);
  auto gone = Get("/fhir/" + ref);
  EXPECT_EQ(gone.status, 410);
  EXPECT_EQ(OutcomeCode(gone), "deleted");
  // Deleting again is a no-op; old versions stay readable.
  EXPECT_EQ(client_->Send("DELETE", "/fhir/" + ref).status, 204);
  EXPECT_EQ(Get("/fhir/" + ref + "/_history/2").status, 200);
  EXPECT_EQ(Get("/fhir/" + ref + "/_history/4").status, 410);

  auto history = Get("/fhir/" + ref + "/_history");
  ASSERT_EQ(history.status, 200);
  auto h = history.Json();
  EXPECT_EQ(h.at("type"), "history");
  auto& entries = h.at("entry").as_array();
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].at("request").at("method"), "DELETE");
  EXPECT_EQ(entries[3].at("request").at("method"), "POST");
  EXPECT_EQ(entries[3].at("resource").at("meta").at("versionId"), "1");

  // Update of a deleted resource brings it back as a new version.
  auto revived = Put("/fhir/" + ref, json::serialize(body));
  EXPECT_EQ(revived.status, 201);
  EXPECT_EQ(revived.Header("etag"), "W/\"5\"");
}

TEST_F(InteractionsTest, UpdateAsCreateWithClientId) {
  auto r = Put("/fhir/Observation/obs-1",
               R"({"resourceType":"Observation","id":"obs-1","status":"final",)"
               R"("code":{"text":"weight"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.Header("location").find("/fhir/Observation/obs-1/_history/1"), std::string::npos);
  EXPECT_EQ(Get("/fhir/Observation/obs-1").status, 200);
  EXPECT_EQ(Get("/fhir/Observation/obs-2").status, 404);
}

TEST_F(InteractionsTest, PreferReturn) {
  auto minimal = Post("/fhir/Patient", kPatient, {{"Prefer", "return=minimal"}});
  EXPECT_EQ(minimal.status, 201);
  EXPECT_TRUE(minimal.body.empty());
  EXPECT_FALSE(minimal.Header("location").empty());
  auto oo = Post("/fhir/Patient", kPatient, {{"Prefer", "return=OperationOutcome"}});
  EXPECT_EQ(oo.status, 201);
  EXPECT_EQ(oo.Json().at("resourceType"), "OperationOutcome");
}

TEST_F(InteractionsTest, JsonPatch) {
  auto created = Post("/fhir/Practitioner", kPractitioner);
  std::string ref = IdFromLocation(created.Header("location"));
  std::vector<std::pair<std::string, std::string>> h = {
      {"Content-Type", "application/json-patch+json"}};
  auto patched = client_->Send(
      "PATCH", "/fhir/" + ref,
      R"([{"op":"test","path":"/gender","value":"male"},)"
      R"({"op":"replace","path":"/birthDate","value":"1975-01-01"}])", h);
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.Json().at("birthDate"), "1975-01-01");
  EXPECT_EQ(patched.Header("etag"), "W/\"2\"");
  // A failing test op: 422 and no new version.
  auto failed = client_->Send("PATCH", "/fhir/" + ref,
                              R"([{"op":"test","path":"/gender","value":"female"}])", h);
  EXPECT_EQ(failed.status, 422);
  // A patch that would make the resource invalid is refused.
  auto invalid = client_->Send("PATCH", "/fhir/" + ref,
                               R"([{"op":"replace","path":"/birthDate","value":"1975-13-01"}])", h);
  EXPECT_EQ(invalid.status, 422);
  // Stale If-Match.
  auto h2 = h;
  h2.push_back({"If-Match", "W/\"1\""});
  EXPECT_EQ(client_->Send("PATCH", "/fhir/" + ref, R"([])", h2).status, 412);
  // Wrong media type.
  EXPECT_EQ(client_->Send("PATCH", "/fhir/" + ref, R"([])").status, 415);
  EXPECT_EQ(Get("/fhir/" + ref).Header("etag"), "W/\"2\"");
}

TEST_F(InteractionsTest, RetriedWriteWithSameRequestIdIsAppliedOnce) {
  std::vector<std::pair<std::string, std::string>> h = {
      {"X-Request-ID", "5b0c1c86-3f39-4d55-9b7e-7f6f5b0e1a11"}};
  auto first = Post("/fhir/Patient", kPatient, h);
  auto second = Post("/fhir/Patient", kPatient, h);
  ASSERT_EQ(first.status, 201);
  EXPECT_EQ(second.Header("location"), first.Header("location"));
  EXPECT_EQ(first.Header("x-request-id"), "5b0c1c86-3f39-4d55-9b7e-7f6f5b0e1a11");
  auto history = Get("/fhir/Patient/_history").Json();
  EXPECT_EQ(history.at("entry").as_array().size(), 1u);
}

TEST_F(InteractionsTest, HistoryPagingIsStableWhileWritesContinue) {
  for (int i = 0; i < 25; ++i) ASSERT_EQ(Post("/fhir/Patient", kPatient).status, 201);
  std::set<std::string> seen;
  std::string next = "/fhir/Patient/_history?_count=10";
  int pages = 0;
  while (!next.empty()) {
    auto page = Get(next).Json();
    ++pages;
    // Writes land between pages; they must not shift what later pages hold.
    ASSERT_EQ(Post("/fhir/Patient", kPatient).status, 201);
    if (auto* entries = page.as_object().if_contains("entry")) {
      for (auto& e : entries->as_array()) {
        EXPECT_TRUE(seen.insert(std::string(e.at("fullUrl").as_string())).second)
            << "seen twice: " << e.at("fullUrl");
      }
    }
    next.clear();
    for (auto& l : page.at("link").as_array()) {
      if (l.at("relation") == "next") {
        std::string url(l.at("url").as_string());
        next = url.substr(url.find("/fhir/"));
      }
    }
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(pages, 3);
}

TEST_F(InteractionsTest, HistorySinceAndSystemLevel) {
  ASSERT_EQ(Post("/fhir/Patient", kPatient).status, 201);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto second = Post("/fhir/Observation",
                     R"({"resourceType":"Observation","status":"final","code":{"text":"x"}})");
  std::string since(second.Json().at("meta").at("lastUpdated").as_string());
  auto sys = Get("/fhir/_history?_since=" + since).Json();
  ASSERT_EQ(sys.at("entry").as_array().size(), 1u);
  EXPECT_EQ(sys.at("entry").at(0).at("resource").at("resourceType"), "Observation");
  EXPECT_EQ(Get("/fhir/_history").Json().at("entry").as_array().size(), 2u);
  EXPECT_EQ(Get("/fhir/_history?_since=yesterday").status, 400);
  EXPECT_EQ(Get("/fhir/Patient/nope/_history").status, 404);
}

TEST_F(InteractionsTest, CapabilityStatementClaimsOnlyWhatIsServed) {
  auto r = Get("/fhir/metadata");
  ASSERT_EQ(r.status, 200);
  auto cs = r.Json();
  EXPECT_EQ(cs.at("resourceType"), "CapabilityStatement");
  EXPECT_EQ(cs.at("fhirVersion"), "4.0.1");
  auto& resources = cs.at("rest").at(0).at("resource").as_array();
  EXPECT_EQ(resources.size(), 146u);  // every concrete R4 resource type
  bool composite_claimed = false;
  for (auto& res : resources) {
    std::set<std::string> codes;
    for (auto& i : res.at("interaction").as_array()) codes.insert(std::string(i.at("code").as_string()));
    EXPECT_TRUE(codes.count("search-type"));
    EXPECT_TRUE(codes.count("read"));
    for (auto& p : res.at("searchParam").as_array()) {
      // Of the special parameters only Location's near is searched, so claimed.
      if (p.at("type") == "special") {
        EXPECT_TRUE(res.at("type") == "Location" && p.at("name") == "near") << res.at("type");
      }
      // Full text only with crs serve --fulltext; _query never.
      EXPECT_NE(p.at("name"), "_text") << res.at("type");
      EXPECT_NE(p.at("name"), "_content") << res.at("type");
      EXPECT_NE(p.at("name"), "_query") << res.at("type");
      if (res.at("type") == "Observation" && p.at("name") == "code-value-quantity") {
        composite_claimed = true;
      }
    }
  }
  EXPECT_TRUE(composite_claimed);
  // System-level interactions: transaction, batch, history and search.
  std::set<std::string> system;
  for (auto& i : cs.at("rest").at(0).at("interaction").as_array()) {
    system.insert(std::string(i.at("code").as_string()));
  }
  EXPECT_EQ(system, (std::set<std::string>{"transaction", "batch", "history-system", "search-system"}));
  std::set<std::string> system_params;
  for (auto& p : cs.at("rest").at(0).at("searchParam").as_array()) {
    system_params.insert(std::string(p.at("name").as_string()));
  }
  EXPECT_EQ(system_params, (std::set<std::string>{"_id", "_lastUpdated", "_tag", "_profile",
                                                  "_security", "_source"}));
}

}  // namespace
}  // namespace crs::e2e

namespace crs::e2e {
namespace {

// curl sends "Expect: 100-continue" with large bodies and waits a second for
// the interim answer; the server must send it at once.
TEST_F(InteractionsTest, AnswersExpect100ContinueBeforeTheBody) {
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket sock(ioc);
  sock.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server_.port())});
  std::string body = kPatient;
  std::string head = "POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
                     "Authorization: Bearer " + server_.SystemToken() + "\r\n"
                     "Expect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\n\r\n";
  net::write(sock, net::buffer(head));
  std::string interim;
  char c;
  while (interim.find("\r\n\r\n") == std::string::npos && interim.size() < 200) {
    net::read(sock, net::buffer(&c, 1));
    interim.push_back(c);
  }
  EXPECT_EQ(interim.rfind("HTTP/1.1 100", 0), 0u) << interim;
  net::write(sock, net::buffer(body));
  std::string final_head;
  while (final_head.find("\r\n\r\n") == std::string::npos && final_head.size() < 4000) {
    net::read(sock, net::buffer(&c, 1));
    final_head.push_back(c);
  }
  EXPECT_EQ(final_head.rfind("HTTP/1.1 201", 0), 0u) << final_head;
}

}  // namespace
}  // namespace crs::e2e
