// Patient demographics, PDS-style (docs/demographics.md): NHS numbers as ids,
// allocation on create, If-Match on updates, name and address history,
// restricted patients, superseded records.
#include <signal.h>

#include <boost/json.hpp>
#include <mutex>
#include <set>
#include <thread>

#include "e2e/fixture.h"
#include "nhs/nhs_number.h"

namespace crs::e2e {
namespace {

namespace json = boost::json;

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kNhsSystem = "https://fhir.nhs.uk/Id/nhs-number";

// The Spine-ErrorOrWarningCode of an OperationOutcome's first issue ("" if none).
std::string SpineCode(const json::value& oo) {
  if (!oo.is_object()) return "";
  const auto* issue = oo.as_object().if_contains("issue");
  if (!issue || !issue->is_array() || issue->as_array().empty()) return "";
  const auto* details = issue->as_array()[0].as_object().if_contains("details");
  if (!details) return "";
  const auto& coding = details->at("coding").at(0);
  if (coding.at("system") != "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode") {
    return "wrong system";
  }
  return std::string(coding.at("code").as_string());
}
std::string SpineCode(const HttpResult& r) { return SpineCode(r.Json()); }

// The NHS numbers a Patient's identifiers carry.
std::vector<std::string> NhsIdentifiers(const json::value& patient) {
  std::vector<std::string> out;
  if (const auto* ids = patient.as_object().if_contains("identifier")) {
    for (const auto& i : ids->as_array()) {
      if (i.as_object().contains("system") && i.at("system") == kNhsSystem) {
        out.emplace_back(i.at("value").as_string());
      }
    }
  }
  return out;
}

std::string PatientBody(const std::string& id, const std::string& extra = "") {
  return R"({"resourceType":"Patient","id":")" + id +
         R"(","name":[{"family":"Smith","given":["Ann"]}])" + extra + "}";
}

class DemographicsTest : public ServerTest {
 protected:
  HttpResult Send(const std::string& method, const std::string& path, const std::string& body,
                  const Headers& h = {}) {
    return client_->Send(method, path, body, h);
  }
};

TEST_F(DemographicsTest, APatientsIdMustBeAValidNhsNumber) {
  for (const char* id : {"123", "example", "9990000019", "999000001"}) {
    auto r = Put(std::string("/fhir/Patient/") + id, PatientBody(id));
    EXPECT_EQ(r.status, 400) << id << ": " << r.body;
    EXPECT_EQ(SpineCode(r), "INVALID_RESOURCE_ID") << id << ": " << r.body;
  }
  // Without an NHS-number identifier, the id is added as one.
  auto created = Put("/fhir/Patient/9990000018", PatientBody("9990000018"));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(NhsIdentifiers(created.Json()), std::vector<std::string>{"9990000018"});
  EXPECT_EQ(NhsIdentifiers(Get("/fhir/Patient/9990000018").Json()),
            std::vector<std::string>{"9990000018"});
  EXPECT_EQ(Get("/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018")
                .Json().at("total"), 1);
  // An identifier naming another number is refused.
  auto other = Put("/fhir/Patient/9990000026",
                   PatientBody("9990000026", std::string(R"(,"identifier":[{"system":")") +
                                                 kNhsSystem + R"(","value":"9990000034"}])"));
  EXPECT_EQ(other.status, 400) << other.body;
  EXPECT_EQ(SpineCode(other), "INVALID_IDENTIFIER_VALUE");
  EXPECT_EQ(Get("/fhir/Patient/9990000026").status, 404);
  // Other types keep their ids.
  EXPECT_EQ(Put("/fhir/Organization/Y1", R"({"resourceType":"Organization","id":"Y1"})").status,
            201);
}

TEST_F(DemographicsTest, TheSameRulesApplyInsideBatchesAndTransactions) {
  const std::string batch = R"({"resourceType":"Bundle","type":"batch","entry":[
    {"resource":{"resourceType":"Patient","id":"p1"},"request":{"method":"PUT","url":"Patient/p1"}},
    {"resource":{"resourceType":"Patient","id":"9990000018"},
     "request":{"method":"PUT","url":"Patient/9990000018"}},
    {"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]})";
  auto b = Post("/fhir", batch);
  ASSERT_EQ(b.status, 200) << b.body;
  auto bj = b.Json();
  auto& e = bj.at("entry").as_array();
  EXPECT_EQ(e[0].at("response").at("status"), "400 Bad Request");
  EXPECT_EQ(SpineCode(e[0].at("response").at("outcome")), "INVALID_RESOURCE_ID");
  EXPECT_EQ(e[1].at("response").at("status"), "201 Created");
  EXPECT_EQ(NhsIdentifiers(e[1].at("resource")), std::vector<std::string>{"9990000018"});
  EXPECT_EQ(e[2].at("response").at("status"), "201 Created");
  EXPECT_TRUE(nhs::IsValidNhsNumber(std::string(e[2].at("resource").at("id").as_string())));

  const std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":"9991234004"},
     "request":{"method":"PUT","url":"Patient/9991234004"}},
    {"resource":{"resourceType":"Patient","id":"bad"},"request":{"method":"PUT","url":"Patient/bad"}}]})";
  auto t = Post("/fhir", tx);
  EXPECT_EQ(t.status, 400) << t.body;
  EXPECT_EQ(SpineCode(t), "INVALID_RESOURCE_ID");
  EXPECT_EQ(Get("/fhir/Patient/9991234004").status, 404);  // all or nothing

  // A transaction's POSTed Patient gets its number before references follow it.
  const std::string tx2 = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:0f8e6c1a-2f5b-4f0e-9b1e-5c7a1d2e3f40",
     "resource":{"resourceType":"Observation","status":"final","code":{"text":"weight"},
       "subject":{"reference":"urn:uuid:9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"}},
     "request":{"method":"POST","url":"Observation"}},
    {"fullUrl":"urn:uuid:9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
     "resource":{"resourceType":"Patient","name":[{"family":"Ng"}]},
     "request":{"method":"POST","url":"Patient"}}]})";
  auto t2 = Post("/fhir", tx2);
  ASSERT_EQ(t2.status, 200) << t2.body;
  auto t2j = t2.Json();
  auto& e2 = t2j.at("entry").as_array();
  std::string patient(e2[1].at("resource").at("id").as_string());
  EXPECT_TRUE(nhs::IsValidNhsNumber(patient)) << patient;
  EXPECT_EQ(std::string(e2[0].at("resource").at("subject").at("reference").as_string()),
            "Patient/" + patient);
}

TEST_F(DemographicsTest, PostAllocatesANewNhsNumberOrUsesTheOneSent) {
  auto r = Post("/fhir/Patient", R"({"resourceType":"Patient","name":[{"family":"New"}]})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id(r.Json().at("id").as_string());
  EXPECT_TRUE(nhs::IsValidNhsNumber(id)) << id;
  EXPECT_EQ(id.substr(0, 3), "999");
  EXPECT_EQ(NhsIdentifiers(r.Json()), std::vector<std::string>{id});
  EXPECT_EQ(IdFromLocation(r.Header("location")), "Patient/" + id);

  // With an NHS number: that is the id; a second create of it is a conflict.
  const std::string with_number = std::string(R"({"resourceType":"Patient","identifier":[{"system":")") +
                                  kNhsSystem + R"(","value":"9990000077"}]})";
  auto sent = Post("/fhir/Patient", with_number);
  ASSERT_EQ(sent.status, 201) << sent.body;
  EXPECT_EQ(sent.Json().at("id"), "9990000077");
  auto again = Post("/fhir/Patient", with_number);
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(again.body.find("already exists"), std::string::npos) << again.body;
  auto invalid = Post("/fhir/Patient", std::string(R"({"resourceType":"Patient","identifier":[{"system":")") +
                                           kNhsSystem + R"(","value":"9990000078"}]})");
  EXPECT_EQ(invalid.status, 400) << invalid.body;
  EXPECT_EQ(SpineCode(invalid), "INVALID_IDENTIFIER_VALUE");

  // A number taken by a PUT is skipped by the allocator, never reused.
  ASSERT_EQ(Put("/fhir/Patient/9990000085", PatientBody("9990000085")).status, 201);
  std::set<std::string> seen = {id, "9990000077", "9990000085"};
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      Client c(server_.port(), server_.SystemToken());
      for (int i = 0; i < 30; ++i) {
        auto created = c.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient"})");
        EXPECT_EQ(created.status, 201) << created.body;
        if (created.status != 201) continue;
        std::string n(created.Json().at("id").as_string());
        EXPECT_TRUE(nhs::IsValidNhsNumber(n)) << n;
        std::lock_guard<std::mutex> lock(mu);
        EXPECT_TRUE(seen.insert(n).second) << "allocated twice: " << n;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen.size(), 3u + 120u);
  EXPECT_EQ(Get("/fhir/Patient?_summary=count").Json().at("total"), 123);
}

// A create answers before its commit is durable only in form: the response
// is held until then (FhirApi::CommitDeferred). A number the allocator's
// block check found free but a PUT took just after makes that commit a
// conflict; the create is then handled again, answered with the next free
// number, and the Patient the PUT wrote is left alone.
TEST_F(DemographicsTest, ANumberTakenAfterTheBlockCheckIsSkippedByACreate) {
  auto first = Post("/fhir/Patient", R"({"resourceType":"Patient","name":[{"family":"First"}]})");
  ASSERT_EQ(first.status, 201) << first.body;
  std::string id(first.Json().at("id").as_string());
  auto serial = nhs::SerialOfNhsNumber(std::stoull(id));
  ASSERT_TRUE(serial.ok());
  auto next = nhs::NhsNumberFromSerial(*serial + 1);
  ASSERT_TRUE(next.ok());
  // Within the allocator's recheck interval (1 s), so its check still says free.
  ASSERT_EQ(Put("/fhir/Patient/" + *next, PatientBody(*next)).status, 201);
  auto second = Post("/fhir/Patient", R"({"resourceType":"Patient","name":[{"family":"Second"}]})");
  ASSERT_EQ(second.status, 201) << second.body;
  std::string second_id(second.Json().at("id").as_string());
  EXPECT_NE(second_id, *next);
  EXPECT_NE(second_id, id);
  EXPECT_EQ(IdFromLocation(second.Header("location")), "Patient/" + second_id);
  auto read = Get("/fhir/Patient/" + second_id);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.Json().at("name").at(0).at("family"), "Second");
  auto taken = Get("/fhir/Patient/" + *next);
  ASSERT_EQ(taken.status, 200);
  EXPECT_EQ(taken.Json().at("meta").at("versionId"), "1");
  EXPECT_EQ(taken.Json().at("name").at(0).at("family"), "Smith") << taken.body;
  EXPECT_NE(Get("/metrics").body.find("crs_write_conflicts_retried_total 1"), std::string::npos);
}

class NhsRangeTest : public ServerTest {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    return {"--nhs-number-range", "9990500000-9990509999"};
  }
};

TEST_F(NhsRangeTest, AllocatesFromTheConfiguredRangeAcrossRestarts) {
  std::set<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    auto r = Post("/fhir/Patient", R"({"resourceType":"Patient"})");
    ASSERT_EQ(r.status, 201) << r.body;
    std::string n(r.Json().at("id").as_string());
    EXPECT_GE(n, "9990500000");
    EXPECT_LE(n, "9990509999");
    EXPECT_TRUE(seen.insert(n).second);
  }
  ASSERT_EQ(server_.Stop(SIGTERM), 0);
  ASSERT_TRUE(server_.Start(ExtraArgs()));
  Client c(server_.port(), server_.SystemToken());
  auto r = c.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient"})");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string n(r.Json().at("id").as_string());
  EXPECT_TRUE(seen.insert(n).second) << "reused after restart: " << n;
  EXPECT_LE(n, "9990509999");
}

TEST_F(DemographicsTest, UpdatesOfAPatientNeedIfMatch) {
  ASSERT_EQ(Put("/fhir/Patient/9990000018", PatientBody("9990000018")).status, 201);
  auto v1 = Get("/fhir/Patient/9990000018").Json();
  auto missing = Put("/fhir/Patient/9990000018", json::serialize(v1));
  EXPECT_EQ(missing.status, 412) << missing.body;
  EXPECT_EQ(SpineCode(missing), "PRECONDITION_REQUIRED");
  auto ok = Put("/fhir/Patient/9990000018", json::serialize(v1), {{"If-Match", "W/\"1\""}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  auto stale = Put("/fhir/Patient/9990000018", json::serialize(v1), {{"If-Match", "W/\"1\""}});
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(SpineCode(stale), "RESOURCE_VERSION_MISMATCH");

  Headers patch = {{"Content-Type", "application/json-patch+json"}};
  const std::string gender = R"([{"op":"add","path":"/gender","value":"female"}])";
  auto p_missing = Send("PATCH", "/fhir/Patient/9990000018", gender, patch);
  EXPECT_EQ(p_missing.status, 412) << p_missing.body;
  EXPECT_EQ(SpineCode(p_missing), "PRECONDITION_REQUIRED");
  auto with_stale = patch;
  with_stale.push_back({"If-Match", "W/\"1\""});
  auto p_stale = Send("PATCH", "/fhir/Patient/9990000018", gender, with_stale);
  EXPECT_EQ(p_stale.status, 409) << p_stale.body;
  EXPECT_EQ(SpineCode(p_stale), "RESOURCE_VERSION_MISMATCH");
  auto with_current = patch;
  with_current.push_back({"If-Match", "W/\"2\""});
  // PDS wraps its operations in {"patches": [...]}; both forms are accepted.
  auto p_ok = Send("PATCH", "/fhir/Patient/9990000018", R"({"patches":)" + gender + "}",
                   with_current);
  EXPECT_EQ(p_ok.status, 200) << p_ok.body;
  EXPECT_EQ(Get("/fhir/Patient/9990000018").Json().at("gender"), "female");
  // A patch may not change the NHS number.
  with_current.back().second = "W/\"3\"";
  auto renumber = Send("PATCH", "/fhir/Patient/9990000018",
                       R"([{"op":"replace","path":"/identifier/0/value","value":"9990000026"}])",
                       with_current);
  EXPECT_EQ(renumber.status, 400) << renumber.body;
  EXPECT_EQ(SpineCode(renumber), "INVALID_IDENTIFIER_VALUE");

  // Other types keep today's rules: If-Match optional, a stale one is 412.
  const char* obs = R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"}})";
  ASSERT_EQ(Put("/fhir/Observation/o1", obs).status, 201);
  EXPECT_EQ(Put("/fhir/Observation/o1", obs).status, 200);
  EXPECT_EQ(Put("/fhir/Observation/o1", obs, {{"If-Match", "W/\"1\""}}).status, 412);
}

TEST_F(DemographicsTest, ChangedNamesAndAddressesAreKeptAsHistory) {
  ASSERT_EQ(Put("/fhir/Patient/9990000018",
                PatientBody("9990000018", R"(,"address":[{"line":["1 Old Road"],"postalCode":"LS1 1AA"}])"))
                .status, 201);
  auto v1 = Get("/fhir/Patient/9990000018").Json();
  auto v2 = v1;
  v2.as_object()["name"] = json::array{json::object{{"family", "Jones"}, {"given", json::array{"Ann"}}}};
  v2.as_object()["address"] = json::array{json::object{{"line", json::array{"2 New Street"}},
                                                       {"postalCode", "LS2 2BB"}}};
  auto r = Put("/fhir/Patient/9990000018", json::serialize(v2), {{"If-Match", "W/\"1\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto p = r.Json();
  auto& names = p.at("name").as_array();
  ASSERT_EQ(names.size(), 2u) << p;
  EXPECT_EQ(names[0].at("family"), "Jones");
  EXPECT_FALSE(names[0].as_object().contains("period"));
  EXPECT_EQ(names[1].at("family"), "Smith");
  EXPECT_TRUE(names[1].at("period").as_object().contains("end"));
  auto& addresses = p.at("address").as_array();
  ASSERT_EQ(addresses.size(), 2u);
  EXPECT_EQ(addresses[1].at("postalCode"), "LS1 1AA");
  EXPECT_TRUE(addresses[1].at("period").as_object().contains("end"));
  EXPECT_EQ(Get("/fhir/Patient/9990000018").Json(), p);
  // The old name still finds the patient.
  EXPECT_EQ(Get("/fhir/Patient?family=smith").Json().at("total"), 1);
  EXPECT_EQ(Get("/fhir/Patient?address-postalcode=LS1%201AA").Json().at("total"), 1);
  // An update that leaves them alone adds nothing; removing history brings it back.
  auto v3 = p;
  v3.as_object()["name"].as_array().pop_back();
  auto r3 = Put("/fhir/Patient/9990000018", json::serialize(v3), {{"If-Match", "W/\"2\""}});
  ASSERT_EQ(r3.status, 200) << r3.body;
  EXPECT_EQ(r3.Json().at("name"), p.at("name"));
  EXPECT_EQ(r3.Json().at("address"), p.at("address"));
  // A PDS patch removing a name keeps it too.
  auto removed = client_->Send("PATCH", "/fhir/Patient/9990000018",
                               R"({"patches":[{"op":"remove","path":"/name/0"}]})",
                               {{"Content-Type", "application/json-patch+json"}, {"If-Match", "W/\"3\""}});
  ASSERT_EQ(removed.status, 200) << removed.body;
  auto after = removed.Json().at("name").as_array();
  ASSERT_EQ(after.size(), 2u);
  for (auto& n : after) EXPECT_TRUE(n.as_object().contains("period")) << n;
}

class RestrictedTest : public DemographicsTest {
 protected:
  void SetUp() override {
    DemographicsTest::SetUp();
    ASSERT_EQ(Put("/fhir/Organization/GP1", R"({"resourceType":"Organization","id":"GP1"})").status, 201);
    ASSERT_EQ(Put("/fhir/Patient/9990000018", Restricted("9990000018")).status, 201);
    ASSERT_EQ(Put("/fhir/Patient/9990000026",
                  PatientBody("9990000026", R"(,"address":[{"postalCode":"LS2 2BB"}],)"
                                            R"("generalPractitioner":[{"reference":"Organization/GP1"}])"))
                  .status, 201);
  }
  static std::string Restricted(const std::string& id) {
    return PatientBody(id,
                       R"(,"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},)"
                       R"("address":[{"postalCode":"LS1 1AA"}],"telecom":[{"system":"phone","value":"0113 000 0000"}],)"
                       R"("generalPractitioner":[{"reference":"Organization/GP1"}])");
  }
  static bool HasContactDetails(const json::value& p) {
    const auto& o = p.as_object();
    return o.contains("address") || o.contains("telecom") || o.contains("generalPractitioner");
  }
  Headers As(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }
  // Every resource entry of a Bundle that is a Patient.
  static std::vector<json::value> Patients(const json::value& bundle) {
    std::vector<json::value> out;
    if (const auto* entries = bundle.as_object().if_contains("entry")) {
      for (const auto& e : entries->as_array()) {
        const auto* res = e.as_object().if_contains("resource");
        if (res && res->at("resourceType") == "Patient") out.push_back(*res);
        if (const auto* resp = e.as_object().if_contains("response")) (void)resp;
      }
    }
    return out;
  }
};

TEST_F(RestrictedTest, ContactDetailsAreWithheldFromEveryResponseButSystemAndThePatient) {
  Headers clerk = As(server_.Token("R8008", "GP1"));
  auto read = Get("/fhir/Patient/9990000018", clerk);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_FALSE(HasContactDetails(read.Json())) << read.body;
  EXPECT_EQ(read.Json().at("name").at(0).at("family"), "Smith");  // the rest is there
  auto vread = Get("/fhir/Patient/9990000018/_history/1", clerk);
  ASSERT_EQ(vread.status, 200);
  EXPECT_FALSE(HasContactDetails(vread.Json())) << vread.body;
  // Searches (matches and includes), history, $everything, batches.
  auto search = Get("/fhir/Patient?family=smith", clerk).Json();
  auto found = Patients(search);
  ASSERT_EQ(found.size(), 2u) << search;
  for (auto& p : found) {
    EXPECT_EQ(HasContactDetails(p), p.at("id") == "9990000026") << p;
  }
  auto history = Get("/fhir/Patient/9990000018/_history", clerk).Json();
  ASSERT_EQ(Patients(history).size(), 1u);
  EXPECT_FALSE(HasContactDetails(Patients(history)[0]));
  auto type_history = Get("/fhir/Patient/_history", clerk).Json();
  for (auto& p : Patients(type_history)) EXPECT_EQ(HasContactDetails(p), p.at("id") == "9990000026");
  auto batch = Post("/fhir", R"({"resourceType":"Bundle","type":"batch","entry":[
      {"request":{"method":"GET","url":"Patient/9990000018"}},
      {"request":{"method":"GET","url":"Patient?_id=9990000018"}}]})", clerk).Json();
  EXPECT_FALSE(HasContactDetails(batch.at("entry").at(0).at("resource")));
  EXPECT_FALSE(HasContactDetails(Patients(batch.at("entry").at(1).at("resource"))[0]));
  // A clinician on break-glass: $everything shows no contact details either.
  Headers er = As(server_.Token("R8000", "GP2"));
  er.push_back({"X-Purpose-Of-Use", "ETREAT"});
  er.push_back({"X-Access-Justification", "unconscious in A&E"});
  auto everything = Get("/fhir/Patient/9990000018/$everything", er);
  ASSERT_EQ(everything.status, 200) << everything.body;
  ASSERT_EQ(Patients(everything.Json()).size(), 1u);
  EXPECT_FALSE(HasContactDetails(Patients(everything.Json())[0]));

  // The system role and the patient themselves see everything.
  EXPECT_TRUE(HasContactDetails(Get("/fhir/Patient/9990000018").Json()));
  auto self = Get("/fhir/Patient/9990000018", As(server_.Token("patient", "", "9990000018")));
  ASSERT_EQ(self.status, 200) << self.body;
  EXPECT_TRUE(HasContactDetails(self.Json()));
  // An update's response is no way round it: an amending clerk gets it withheld too.
  Headers writer = As(server_.Token("R8008", "GP1"));
  writer.push_back({"If-Match", "W/\"1\""});
  auto v1 = Get("/fhir/Patient/9990000018").Json();
  v1.as_object()["gender"] = "female";
  auto updated = Put("/fhir/Patient/9990000018", json::serialize(v1), writer);
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_FALSE(HasContactDetails(updated.Json())) << updated.body;
  EXPECT_TRUE(HasContactDetails(Get("/fhir/Patient/9990000018").Json()));  // stored in full
}

TEST_F(DemographicsTest, ASupersededRecordLeadsToTheSurvivingOne) {
  ASSERT_EQ(Put("/fhir/Patient/9990000018", PatientBody("9990000018")).status, 201);
  ASSERT_EQ(Put("/fhir/Patient/9990000026",
                PatientBody("9990000026",
                            R"(,"active":false,"link":[{"other":{"reference":"Patient/9990000018"},"type":"replaced-by"}])"))
                .status, 201);
  auto r = Get("/fhir/Patient/9990000026");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("id"), "9990000018");
  EXPECT_EQ(r.Header("etag"), "W/\"1\"");
  // Only a read by id follows the link: the old record stays in its history,
  // versions and searches.
  EXPECT_EQ(Get("/fhir/Patient/9990000026/_history/1").Json().at("id"), "9990000026");
  EXPECT_EQ(Get("/fhir/Patient?_id=9990000026").Json().at("total"), 1);
  // A link to a record that does not exist leaves the record as it is.
  ASSERT_EQ(Put("/fhir/Patient/9990000034",
                PatientBody("9990000034",
                            R"(,"link":[{"other":{"reference":"Patient/9990000042"},"type":"replaced-by"}])"))
                .status, 201);
  EXPECT_EQ(Get("/fhir/Patient/9990000034").Json().at("id"), "9990000034");
}

}  // namespace
}  // namespace crs::e2e
