// The audit log end to end: every request leaves a record before its
// response; a patient sees who accessed their record (and nothing of anyone
// else's); privacy officers review alerts for their organisation; `crs audit
// verify` passes on an intact log and names the first tampered record; a
// kill -9 under load loses no acknowledged request's record.
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <set>
#include <thread>

#include "e2e/fixture.h"

namespace crs::e2e {
namespace {

namespace json = boost::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

const char* kPatient =
    R"({"resourceType":"Patient","id":"9990000018","name":[{"family":"Audit"}],)"
    R"("generalPractitioner":[{"reference":"Organization/GP1"}]})";
const char* kAllergy =
    R"({"resourceType":"AllergyIntolerance","id":"al1","code":{"text":"penicillin"},)"
    R"("patient":{"reference":"Patient/9990000018"}})";

// Every audit record, oldest first, read straight from the database.
std::vector<json::value> Records(const std::string& data_dir) {
  std::vector<json::value> out;
  for (const auto& text : AuditRecords(data_dir)) out.push_back(json::parse(text));
  return out;
}

std::string Str(const json::value& v, const char* key) {
  const auto* o = v.if_object();
  const json::value* f = o ? o->if_contains(key) : nullptr;
  return f && f->is_string() ? std::string(f->as_string()) : "";
}

class AuditTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_EQ(Put("/fhir/Organization/GP1", R"({"resourceType":"Organization","id":"GP1"})").status, 201);
    ASSERT_EQ(Put("/fhir/Patient/9990000018", kPatient).status, 201);
    ASSERT_EQ(Put("/fhir/Patient/9990000026",
                  R"({"resourceType":"Patient","id":"9990000026","name":[{"family":"Other"}]})")
                  .status,
              201);
    Headers gp = {{"Authorization", "Bearer " + server_.Token("R8000", "GP1", "", {}, {}, "dr-who")}};
    ASSERT_EQ(Put("/fhir/AllergyIntolerance/al1", kAllergy, gp).status, 201);
  }
  std::string data() const { return server_.data_dir() + "/data"; }
};

TEST_F(AuditTest, EveryRequestLeavesARecordBeforeItsResponse) {
  size_t before = Records(data()).size();
  Headers gp = {{"Authorization", "Bearer " + server_.Token("R8000", "GP1", "", {}, {}, "dr-who")},
                {"X-Permission-To-View", "granted"},
                {"X-Correlation-ID", "corr-42"}};
  EXPECT_EQ(Get("/fhir/AllergyIntolerance/al1", gp).status, 200);
  EXPECT_EQ(Get("/fhir/AllergyIntolerance?patient=9990000018", gp).status, 200);
  EXPECT_EQ(Get("/fhir/Patient/9990000018", {{"Authorization", "Bearer forged"}}).status, 401);
  EXPECT_EQ(Get("/fhir/AllergyIntolerance/al1",
                {{"Authorization", "Bearer " + server_.Token("R8000", "GP2")},
                 {"X-Permission-To-View", "granted"}})
                .status,
            404);
  // The responses above were sent only once their records were durable.
  auto records = Records(data());
  ASSERT_EQ(records.size(), before + 4);
  const auto& read = records[before];
  EXPECT_EQ(Str(read, "action"), "read");
  EXPECT_EQ(Str(read, "user"), "dr-who");
  EXPECT_EQ(Str(read, "org"), "GP1");
  EXPECT_EQ(Str(read, "correlation"), "corr-42");
  EXPECT_NE(json::serialize(read).find("9990000018"), std::string::npos);
  const auto& search = records[before + 1];
  EXPECT_EQ(Str(search, "action"), "search");
  EXPECT_NE(json::serialize(search).find("AllergyIntolerance/al1"), std::string::npos);
  EXPECT_EQ(Str(records[before + 2], "action"), "token-failure");
  EXPECT_EQ(Str(records[before + 2], "outcome"), "denied");
  // A refusal answered as "not found" is recorded as what it was.
  EXPECT_EQ(Str(records[before + 3], "outcome"), "denied");
}

TEST_F(AuditTest, ATransactionIsOneRecordListingWhatItWrote) {
  size_t before = Records(data()).size();
  std::string tx =
      R"({"resourceType":"Bundle","type":"transaction","entry":[)"
      R"({"resource":{"resourceType":"Observation","status":"final","code":{"text":"bp"},)"
      R"("subject":{"reference":"Patient/9990000018"}},"request":{"method":"POST","url":"Observation"}},)"
      R"({"resource":{"resourceType":"Observation","status":"final","code":{"text":"hr"},)"
      R"("subject":{"reference":"Patient/9990000026"}},"request":{"method":"POST","url":"Observation"}}]})";
  ASSERT_EQ(Post("/fhir", tx).status, 200);
  auto records = Records(data());
  ASSERT_EQ(records.size(), before + 1);
  const auto& rec = records.back();
  EXPECT_EQ(Str(rec, "action"), "transaction");
  std::string text = json::serialize(rec);
  EXPECT_NE(text.find("9990000018"), std::string::npos);
  EXPECT_NE(text.find("9990000026"), std::string::npos);
  EXPECT_NE(text.find("Observation/"), std::string::npos);
}

TEST_F(AuditTest, APatientSeesWhoAccessedTheirRecordAndNothingElse) {
  std::string ae = server_.Token("R8000", "HOSP", "", {}, {}, "dr-ae");
  Headers bg = {{"Authorization", "Bearer " + ae}, {"X-Purpose-Of-Use", "ETREAT"},
                {"X-Access-Justification", "collapsed in A&E"}};
  ASSERT_EQ(Get("/fhir/AllergyIntolerance/al1", bg).status, 200);
  Headers me = {{"Authorization", "Bearer " + server_.Token("patient", "", "9990000018")}};
  auto log = Get("/fhir/AuditEvent?patient=9990000018", me);
  ASSERT_EQ(log.status, 200) << log.body;
  std::string body = log.body;
  EXPECT_NE(body.find("dr-ae"), std::string::npos) << body;
  EXPECT_NE(body.find("HOSP"), std::string::npos);
  EXPECT_NE(body.find("collapsed in A&E"), std::string::npos);
  EXPECT_NE(body.find("ETREAT"), std::string::npos);
  EXPECT_EQ(body.find("9990000026"), std::string::npos) << "another patient's access leaked";
  EXPECT_EQ(Get("/fhir/AuditEvent?patient=9990000026", me).status, 403);
  EXPECT_EQ(Get("/fhir/AuditEvent?alert=true", me).status, 403);
  // Clinicians do not read the audit log.
  EXPECT_EQ(Get("/fhir/AuditEvent?patient=9990000018", {{"Authorization", "Bearer " + ae}}).status, 403);
}

TEST_F(AuditTest, PrivacyOfficersReviewTheirOrganisationsAlerts) {
  std::string ae = server_.Token("R8000", "HOSP", "", {}, {}, "dr-ae");
  ASSERT_EQ(Get("/fhir/AllergyIntolerance/al1",
                {{"Authorization", "Bearer " + ae}, {"X-Purpose-Of-Use", "ETREAT"},
                 {"X-Access-Justification", "collapsed"}})
                .status,
            200);
  Headers officer = {{"Authorization", "Bearer " + server_.Token("R0001", "HOSP")}};
  auto open = Get("/fhir/AuditEvent?alert=true&reviewed=false", officer);
  ASSERT_EQ(open.status, 200) << open.body;
  auto bundle = open.Json();
  ASSERT_TRUE(bundle.as_object().contains("entry")) << open.body;
  const auto& entries = bundle.at("entry").as_array();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_NE(json::serialize(entries[0]).find("break-glass"), std::string::npos);
  std::string seq(entries[0].at("resource").at("id").as_string());
  // Another organisation's officer cannot see or review it.
  Headers elsewhere = {{"Authorization", "Bearer " + server_.Token("R0001", "GP1")}};
  auto theirs = Get("/fhir/AuditEvent?alert=true", elsewhere);
  EXPECT_FALSE(theirs.Json().as_object().contains("entry")) << theirs.body;
  EXPECT_EQ(Post("/fhir/AuditEvent/" + seq + "/$review", "", elsewhere).status, 404);
  EXPECT_EQ(Post("/fhir/AuditEvent/" + seq + "/$review", "", officer).status, 200);
  EXPECT_EQ(Post("/fhir/AuditEvent/" + seq + "/$review", "", officer).status, 409);
  auto after = Get("/fhir/AuditEvent?alert=true&reviewed=false", officer);
  EXPECT_FALSE(after.Json().as_object().contains("entry")) << after.body;
}

TEST_F(AuditTest, VipRecordsAlertOnEveryAccess) {
  ASSERT_EQ(Put("/fhir/Patient/9990000034",
                R"({"resourceType":"Patient","id":"9990000034","name":[{"family":"Famous"}],)"
                R"("meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"CEL"}]},)"
                R"("generalPractitioner":[{"reference":"Organization/GP1"}]})")
                .status,
            201);
  Headers gp = {{"Authorization", "Bearer " + server_.Token("R8000", "GP1")},
                {"X-Permission-To-View", "granted"}};
  ASSERT_EQ(Put("/fhir/AllergyIntolerance/vip1",
                R"({"resourceType":"AllergyIntolerance","id":"vip1","code":{"text":"nuts"},)"
                R"("patient":{"reference":"Patient/9990000034"}})", gp)
                .status,
            201);
  ASSERT_EQ(Get("/fhir/AllergyIntolerance?patient=9990000034", gp).status, 200);
  Headers officer = {{"Authorization", "Bearer " + server_.Token("R0001", "GP1")}};
  auto alerts = Get("/fhir/AuditEvent?alert=true", officer);
  ASSERT_EQ(alerts.status, 200);
  EXPECT_NE(alerts.body.find("vip"), std::string::npos) << alerts.body;
  // A clinician sees why a search without permission to view shows nothing.
  auto warned = Get("/fhir/AllergyIntolerance?patient=9990000034",
                    {{"Authorization", "Bearer " + server_.Token("R8000", "GP1")}});
  EXPECT_NE(warned.body.find("X-Permission-To-View"), std::string::npos) << warned.body;
}

class VolumeAlertTest : public ServerTest {
  std::vector<std::string> ExtraArgs() const override { return {"--volume-alert", "2"}; }
};

TEST_F(VolumeAlertTest, OneUserOpeningManyPatientsRaisesAnAlert) {
  for (const char* nhs : {"9990000018", "9990000026", "9990000034"}) {
    ASSERT_EQ(Put(std::string("/fhir/Patient/") + nhs,
                  std::string(R"({"resourceType":"Patient","id":")") + nhs + R"("})")
                  .status,
              201);
  }
  Headers clerk = {{"Authorization", "Bearer " + server_.Token("R8008", "GP1", "", {}, {}, "nosy")}};
  Headers officer = {{"Authorization", "Bearer " + server_.Token("R0001", "GP1")}};
  EXPECT_EQ(Get("/fhir/Patient/9990000018", clerk).status, 200);
  EXPECT_EQ(Get("/fhir/Patient/9990000026", clerk).status, 200);
  EXPECT_FALSE(Get("/fhir/AuditEvent?alert=true", officer).Json().as_object().contains("entry"));
  EXPECT_EQ(Get("/fhir/Patient/9990000034", clerk).status, 200);
  auto alerts = Get("/fhir/AuditEvent?alert=true", officer);
  EXPECT_NE(alerts.body.find("volume"), std::string::npos) << alerts.body;
}

TEST_F(AuditTest, VerifyPassesAndNamesTheFirstTamperedRecord) {
  for (int i = 0; i < 20; ++i) ASSERT_EQ(Get("/fhir/Patient/9990000018").status, 200);
  ASSERT_EQ(server_.Stop(SIGTERM), 0);
  std::string out;
  EXPECT_EQ(RunCrs({"audit", "verify", "--data", data()}, &out), 0) << out;
  // Someone with access to the file turns a refusal-free read into another status.
  ASSERT_TRUE(AuditLogExec(data(),
                           "UPDATE audit SET record = CAST(replace(CAST(record AS TEXT), "
                           "'\"status\":200', '\"status\":404') AS BLOB) WHERE seq = 7",
                           "UPDATE audit SET record = convert_to(replace(convert_from(record, "
                           "'UTF8'), '\"status\":200', '\"status\":404'), 'UTF8') WHERE seq = 7"));
  EXPECT_EQ(RunCrs({"audit", "verify", "--data", data()}, &out), 1) << out;
  EXPECT_NE(out.find(" 7"), std::string::npos) << out;
}

TEST(AuditCrashTest, KillNineLosesNoAcknowledgedRecord) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  std::string token = server.SystemToken();
  {
    Client c(server.port(), token);
    ASSERT_EQ(c.Send("PUT", "/fhir/Patient/9990000018", kPatient).status, 201);
  }
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::set<std::string> acknowledged;  // X-Request-IDs answered 2xx
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Client c(server.port(), token);
      for (int i = 0; !stop; ++i) {
        std::string id = "req-" + std::to_string(t) + "-" + std::to_string(i);
        auto r = (i % 3 == 0)
                     ? c.Send("POST", "/fhir/Observation",
                              R"({"resourceType":"Observation","status":"final","code":{"text":"x"},)"
                              R"("subject":{"reference":"Patient/9990000018"}})",
                              {{"X-Request-ID", id}})
                     : c.Send("GET", "/fhir/Patient/9990000018", "", {{"X-Request-ID", id}});
        if (r.status == 0) break;
        if (r.status < 300) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.insert(id);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  server.Stop(SIGKILL);
  stop = true;
  for (auto& th : threads) th.join();
  ASSERT_GT(acknowledged.size(), 20u);
  std::string data = server.data_dir() + "/data";
  std::set<std::string> recorded;
  for (const auto& r : Records(data)) recorded.insert(Str(r, "request"));
  for (const auto& id : acknowledged) EXPECT_TRUE(recorded.count(id)) << id << " has no audit record";
  std::string out;
  EXPECT_EQ(RunCrs({"audit", "verify", "--data", data}, &out), 0) << out;
}

}  // namespace
}  // namespace crs::e2e
