// Local and national nodes (docs/federation.md): a local node publishes
// record-locator pointers to the national node through its outbox; the
// national node trusts a registered node's service for its own pointers
// only; a local node trusts the national node's users.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

#include <chrono>
#include <fstream>
#include <thread>

#include "e2e/harness.h"

namespace crs::e2e {
namespace {

namespace json = boost::json;

constexpr const char* kPatient = "9990000018";
constexpr int kFanoutTimeoutMs = 1000;

std::string Base(int port) { return "http://127.0.0.1:" + std::to_string(port) + "/fhir"; }

std::string Str(const json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string Encounter(const std::string& id, const std::string& status = "finished") {
  return json::serialize(json::object{
      {"resourceType", "Encounter"},
      {"id", id},
      {"status", status},
      {"class", json::object{{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"},
                             {"code", "AMB"}}},
      {"subject", json::object{{"reference", std::string("Patient/") + kPatient}}}});
}

// Polls `probe` until it returns true or `seconds` pass.
template <typename Probe>
bool Eventually(Probe probe, int seconds = 20) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (probe()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return probe();
}

// A loopback peer that accepts connections and never answers (its socket
// stays listening until destroyed); base_url is "" when it could not listen.
struct SilentPeer {
  int fd = -1;
  std::string base_url;
  SilentPeer() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd, 64) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    base_url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/fhir";
  }
  ~SilentPeer() {
    if (fd >= 0) ::close(fd);
  }
};

class FederationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    national_port_ = crs::testing::ReservePort();
    local_port_ = crs::testing::ReservePort();
    ASSERT_GT(national_port_, 0);
    ASSERT_GT(local_port_, 0);
    ASSERT_TRUE(StartNational());
    std::string out;
    ASSERT_EQ(RunCrs({"node", "jwks", "--data", NationalData()}, &out), 0) << out;
    national_jwks_ = national_.data_dir() + "/national.jwks";
    WriteFile(national_jwks_, out);
    ASSERT_EQ(RunCrs({"node", "jwks", "--data", LocalData()}, &out), 0) << out;
    std::string local_jwks = local_.data_dir() + "/local.jwks";
    WriteFile(local_jwks, out);
    ASSERT_EQ(RunCrs({"node", "add", "--data", NationalData(), "--national", Base(national_port_),
                      "--ods", "Y12345", "--url", Base(local_port_), "--jwks", local_jwks},
                     &out),
              0)
        << out;
    ASSERT_TRUE(StartLocal());
    national_client_ = std::make_unique<Client>(national_port_, national_.SystemToken());
    local_client_ = std::make_unique<Client>(local_port_, local_.SystemToken());
  }

  bool StartNational() {
    return national_.Start(
        {"--listen", "127.0.0.1:" + std::to_string(national_port_), "--role", "national",
         "--fanout-timeout", std::to_string(kFanoutTimeoutMs)});
  }
  bool StartLocal(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {
        "--listen", "127.0.0.1:" + std::to_string(local_port_), "--role", "local", "--org",
        "Y12345", "--national", Base(national_port_), "--national-jwks", national_jwks_,
        "--base-url", Base(local_port_)};
    args.insert(args.end(), extra.begin(), extra.end());
    return local_.Start(args);
  }
  std::string NationalData() const { return national_.data_dir() + "/data"; }
  std::string LocalData() const { return local_.data_dir() + "/data"; }

  // The national node's pointer to local record Encounter/<id>.
  HttpResult Pointer(const std::string& id) {
    return national_client_->Send("GET", "/fhir/DocumentReference/Y12345-Encounter-" + id);
  }

  // The patient, registered at practice Y12345 on the national node.
  void RegisterPatient() {
    auto r = national_client_->Send(
        "PUT", std::string("/fhir/Patient/") + kPatient,
        R"({"resourceType":"Patient","id":"9990000018","name":[{"family":"Smith",)"
        R"("given":["Jane"]}],"gender":"female","birthDate":"1945-07-14",)"
        R"("generalPractitioner":[{"identifier":{"system":)"
        R"("https://fhir.nhs.uk/Id/ods-organization-code","value":"Y12345"}}]})");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  // A record on the local node, open with practice Y12345 (a relationship
  // there), once its pointer has reached the national node.
  void HoldRecord(const std::string& id) {
    json::value enc = json::parse(Encounter(id, "in-progress"));
    enc.as_object()["serviceProvider"] = json::object{
        {"identifier", json::object{{"system", "https://fhir.nhs.uk/Id/ods-organization-code"},
                                    {"value", "Y12345"}}}};
    ASSERT_EQ(local_client_->Send("PUT", "/fhir/Encounter/" + id, json::serialize(enc)).status,
              201);
    ASSERT_TRUE(Eventually([&] { return Pointer(id).status == 200; }));
  }

  ServerProcess national_;
  ServerProcess local_;
  int national_port_ = 0;
  int local_port_ = 0;
  std::string national_jwks_;
  std::unique_ptr<Client> national_client_;
  std::unique_ptr<Client> local_client_;
};

TEST_F(FederationTest, ALocalRecordIsPublishedAsAPointerAndWithdrawnWithIt) {
  auto created = local_client_->Send("PUT", "/fhir/Encounter/enc-1", Encounter("enc-1"));
  ASSERT_EQ(created.status, 201) << created.body;
  ASSERT_TRUE(Eventually([&] { return Pointer("enc-1").status == 200; }));
  json::value p = Pointer("enc-1").Json();
  EXPECT_EQ(Str(p.at("subject").at("reference")), std::string("Patient/") + kPatient);
  EXPECT_EQ(p.at("subject").at("identifier").at("value"), kPatient);
  EXPECT_EQ(p.at("custodian").at("identifier").at("value"), "Y12345");
  EXPECT_EQ(p.at("masterIdentifier").at("value"), "Encounter/enc-1");
  EXPECT_EQ(Str(p.at("content").at(0).at("attachment").at("url")),
            Base(local_port_) + "/Encounter/enc-1");
  EXPECT_EQ(p.at("type").at("coding").at(0).at("system"), "http://snomed.info/sct");
  EXPECT_EQ(p.at("meta").at("versionId"), "1");

  // A non-record resource gets no pointer; the pointer follows the record's
  // updates and its deletion.
  auto obs = local_client_->Send(
      "PUT", "/fhir/Observation/obs-1",
      R"({"resourceType":"Observation","id":"obs-1","status":"final","code":{"text":"x"},)"
      R"("subject":{"reference":"Patient/9990000018"}})");
  ASSERT_EQ(obs.status, 201);
  ASSERT_EQ(local_client_->Send("PUT", "/fhir/Encounter/enc-1", Encounter("enc-1", "cancelled"))
                .status,
            200);
  ASSERT_TRUE(Eventually([&] { return Pointer("enc-1").Json().at("meta").at("versionId") == "2"; }));
  EXPECT_EQ(national_client_->Send("GET", "/fhir/DocumentReference/Y12345-Observation-obs-1").status,
            404);
  ASSERT_EQ(local_client_->Send("DELETE", "/fhir/Encounter/enc-1").status, 204);
  EXPECT_TRUE(Eventually([&] { return Pointer("enc-1").status == 410; }));
}

TEST_F(FederationTest, ACliniciansFindsPointersAtTheNationalNodeAndFollowsThem) {
  ASSERT_EQ(national_client_
                ->Send("PUT", std::string("/fhir/Patient/") + kPatient,
                       R"({"resourceType":"Patient","id":"9990000018","name":[{"family":"Smith",)"
                       R"("given":["Jane"]}],"gender":"female","birthDate":"1945-07-14",)"
                       R"("generalPractitioner":[{"identifier":{"system":)"
                       R"("https://fhir.nhs.uk/Id/ods-organization-code","value":"Y12345"}}]})")
                .status,
            201);
  json::value enc = json::parse(Encounter("enc-9", "in-progress"));
  enc.as_object()["serviceProvider"] = json::object{
      {"identifier", json::object{{"system", "https://fhir.nhs.uk/Id/ods-organization-code"},
                                  {"value", "Y12345"}}}};
  ASSERT_EQ(local_client_->Send("PUT", "/fhir/Encounter/enc-9", json::serialize(enc)).status, 201);
  ASSERT_TRUE(Eventually([&] { return Pointer("enc-9").status == 200; }));

  // A clinician at the national node: pointers only with permission to view.
  Client gp(national_port_, national_.Token("R8000", "Y12345"));
  std::string lookup = std::string("/fhir/DocumentReference?patient=") + kPatient;
  auto urls = [](const HttpResult& r) {
    std::vector<std::string> out;
    auto v = r.Json();
    if (!v.is_object() || !v.as_object().contains("entry")) return out;
    for (const auto& e : v.at("entry").as_array()) {
      const auto& res = e.at("resource");
      if (res.at("resourceType") == "DocumentReference") {
        out.push_back(Str(res.at("content").at(0).at("attachment").at("url")));
      }
    }
    return out;
  };
  auto without = gp.Send("GET", lookup);
  ASSERT_EQ(without.status, 200) << without.body;
  EXPECT_TRUE(urls(without).empty()) << without.body;
  auto with = gp.Send("GET", lookup, "", {{"X-Permission-To-View", "granted"}});
  ASSERT_EQ(with.status, 200) << with.body;
  auto found = urls(with);
  ASSERT_EQ(found.size(), 1u) << with.body;
  EXPECT_EQ(found[0], Base(local_port_) + "/Encounter/enc-9");
  // Without a relationship: nothing, unless emergency access.
  Client ae(national_port_, national_.Token("R8000", "RXX01"));
  EXPECT_TRUE(urls(ae.Send("GET", lookup, "", {{"X-Permission-To-View", "granted"}})).empty());
  EXPECT_EQ(urls(ae.Send("GET", lookup, "",
                         {{"X-Purpose-Of-Use", "ETREAT"},
                          {"X-Access-Justification", "collapsed, unknown history"}}))
                .size(),
            1u);
  // Following the pointer: the holder serves it to the same token.
  Client holder(local_port_, national_.Token("R8000", "Y12345"));
  auto record = holder.Send("GET", "/fhir/Encounter/enc-9");
  EXPECT_EQ(record.status, 200);
}

TEST_F(FederationTest, APeerNodeMayOnlyWriteItsOwnPointers) {
  // Tokens signed by the local node's key, presented to the national node.
  std::string own = local_.Token("system", "Y12345");
  Client peer(national_port_, own);
  std::string pointer =
      R"({"resourceType":"DocumentReference","status":"current",)"
      R"("subject":{"reference":"Patient/9990000018"},"content":[{"attachment":{"url":"http://x/y"}}],)"
      R"("custodian":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"Y12345"}}})";
  auto with_id = [&](const std::string& id) {
    json::value v = json::parse(pointer);
    v.as_object()["id"] = id;
    return json::serialize(v);
  };
  EXPECT_EQ(peer.Send("PUT", "/fhir/DocumentReference/Y12345-own", with_id("Y12345-own")).status,
            201);
  // Outside its namespace, or naming another custodian: refused.
  EXPECT_EQ(peer.Send("PUT", "/fhir/DocumentReference/Y99999-x", with_id("Y99999-x")).status, 403);
  std::string other = with_id("Y12345-other");
  other.replace(other.find("\"Y12345\""), 8, "\"Y99999\"");
  EXPECT_EQ(peer.Send("PUT", "/fhir/DocumentReference/Y12345-other", other).status, 403);
  // Nothing else: no patients, no audit log, no registry, no other Bundles.
  EXPECT_EQ(peer.Send("POST", "/fhir/Bundle", R"({"resourceType":"Bundle","type":"collection"})")
                .status,
            403);
  EXPECT_EQ(peer.Send("GET", std::string("/fhir/Patient/") + kPatient).status, 403);
  EXPECT_EQ(peer.Send("GET", std::string("/fhir/AuditEvent?patient=") + kPatient).status, 403);
  EXPECT_EQ(peer.Send("PUT", "/fhir/Endpoint/node-Y12345",
                      R"({"resourceType":"Endpoint","id":"node-Y12345","status":"off",)"
                      R"("connectionType":{"code":"hl7-fhir-rest"},"payloadType":[{"text":"x"}],)"
                      R"("address":"http://evil"})")
                .status,
            403);
  // The node's key speaks only for the node's own organisation, as a service.
  Client impostor(national_port_, local_.Token("system", "Y99999"));
  EXPECT_EQ(impostor.Send("GET", "/fhir/DocumentReference/Y12345-own").status, 401);
  Client clinician(national_port_, local_.Token("R8000", "Y12345"));
  EXPECT_EQ(clinician.Send("GET", "/fhir/DocumentReference/Y12345-own").status, 401);
  // A clinician of the national node cannot change the node's pointers either.
  Client gp(national_port_, national_.Token("R8000", "Y23456", "", {"B0370", "X0371"}));
  EXPECT_EQ(gp.Send("PUT", "/fhir/DocumentReference/Y12345-own", with_id("Y12345-own")).status,
            403);
  EXPECT_EQ(gp.Send("DELETE", "/fhir/DocumentReference/Y12345-own").status, 403);
}

TEST_F(FederationTest, TheLocalNodeTrustsTheNationalNodesUsersAndAppliesItsRules) {
  // An open encounter at Y12345 gives that organisation a relationship.
  json::value enc = json::parse(Encounter("enc-2", "in-progress"));
  enc.as_object()["serviceProvider"] = json::object{
      {"identifier", json::object{{"system", "https://fhir.nhs.uk/Id/ods-organization-code"},
                                  {"value", "Y12345"}}}};
  ASSERT_EQ(local_client_->Send("PUT", "/fhir/Encounter/enc-2", json::serialize(enc)).status, 201);
  // Tokens issued by the national node are honoured on the local node.
  Client gp(local_port_, national_.Token("R8000", "Y12345"));
  EXPECT_EQ(gp.Send("GET", "/fhir/Encounter/enc-2").status, 200);
  // The same rules as anywhere: no relationship, no record, unless
  // break-glass, which alerts.
  Client ae(local_port_, national_.Token("R8000", "RXX01"));
  EXPECT_EQ(ae.Send("GET", "/fhir/Encounter/enc-2").status, 404);
  EXPECT_EQ(ae.Send("GET", "/fhir/Encounter/enc-2", "",
                    {{"X-Purpose-Of-Use", "ETREAT"},
                     {"X-Access-Justification", "unconscious in A&E"}})
                .status,
            200);
  bool alerted = false;
  for (const auto& r : AuditRecords(LocalData())) {
    alerted = alerted || (r.find("break-glass") != std::string::npos &&
                          r.find("RXX01") != std::string::npos);
  }
  EXPECT_TRUE(alerted);
  // The access reaches the patient's log on the national node, once.
  Client patient(national_port_, national_.Token("patient", "", kPatient));
  auto from_local = [&] {
    int n = 0;
    auto r = patient.Send("GET", std::string("/fhir/AuditEvent?patient=") + kPatient);
    auto v = r.Json();
    if (!v.is_object() || !v.as_object().contains("entry")) return 0;
    for (const auto& e : v.at("entry").as_array()) {
      const auto& ev = e.at("resource");
      if (ev.at("source").at("observer").at("identifier").at("value") != "Y12345") continue;
      if (!ev.as_object().contains("purposeOfEvent")) continue;
      if (ev.at("purposeOfEvent").at(0).at("coding").at(0).at("code") == "ETREAT") ++n;
    }
    return n;
  };
  EXPECT_TRUE(Eventually([&] { return from_local() == 1; })) << from_local();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(from_local(), 1);
  // A token from an unknown issuer is refused.
  ServerProcess stranger;
  Client other(local_port_, stranger.Token("R8000", "Y12345"));
  EXPECT_EQ(other.Send("GET", "/fhir/Encounter/enc-2").status, 401);
}

TEST_F(FederationTest, PointersArriveExactlyOnceAcrossANationalCrash) {
  // 1,000 records in one transaction on the local node.
  json::array entries;
  for (int i = 0; i < 1000; ++i) {
    std::string id = "bulk-" + std::to_string(i);
    entries.push_back(json::object{
        {"resource", json::parse(Encounter(id))},
        {"request", json::object{{"method", "PUT"}, {"url", "Encounter/" + id}}}});
  }
  json::object bundle{{"resourceType", "Bundle"}, {"type", "transaction"},
                      {"entry", std::move(entries)}};
  auto r = local_client_->Send("POST", "/fhir", json::serialize(bundle));
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  // Kill the national node once the first pointers have landed (the
  // publisher is mid-stream), then restart it on the same address.
  ASSERT_TRUE(Eventually([&] { return Pointer("bulk-0").status == 200; }));
  national_.Stop(SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(StartNational());
  national_client_ = std::make_unique<Client>(national_port_, national_.SystemToken());
  // Every pointer arrives, each exactly once (a single version).
  auto count = [&] {
    auto h = national_client_->Send("GET", "/fhir/DocumentReference/_history?_count=1000");
    if (h.status != 200) return -1;
    auto v = h.Json();
    if (v.as_object().contains("link")) {
      for (const auto& l : v.at("link").as_array()) {
        if (l.at("relation") == "next") return 1001;  // more than one page: duplicates
      }
    }
    auto* e = v.as_object().if_contains("entry");
    return e ? static_cast<int>(e->as_array().size()) : 0;
  };
  ASSERT_TRUE(Eventually([&] { return count() >= 1000; }, 60)) << count();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(count(), 1000);
  for (int i : {0, 499, 500, 999}) {
    auto p = Pointer("bulk-" + std::to_string(i));
    ASSERT_EQ(p.status, 200);
    EXPECT_EQ(p.Json().at("meta").at("versionId"), "1");
  }
}

TEST_F(FederationTest, ARefusedPointerIsSetAsideAndCanBeReplayed) {
  // An administrator of the national node squats the pointer id first.
  std::string squat =
      R"({"resourceType":"DocumentReference","id":"Y12345-Encounter-enc-3","status":"current",)"
      R"("content":[{"attachment":{"url":"http://x/y"}}]})";
  ASSERT_EQ(national_client_->Send("PUT", "/fhir/DocumentReference/Y12345-Encounter-enc-3", squat)
                .status,
            201);
  ASSERT_EQ(local_client_->Send("PUT", "/fhir/Encounter/enc-3", Encounter("enc-3")).status, 201);
  ASSERT_EQ(local_client_->Send("PUT", "/fhir/Encounter/enc-4", Encounter("enc-4")).status, 201);
  // The other pointer still arrives; the refused one waits in the dead letters.
  ASSERT_TRUE(Eventually([&] { return Pointer("enc-4").status == 200; }));
  std::string out;
  ASSERT_TRUE(Eventually([&] {
    RunCrs({"outbox", "list", "--data", LocalData()}, &out);
    return out.find("1 dead letter(s)") != std::string::npos;
  })) << out;
  EXPECT_NE(out.find("PUT DocumentReference/Y12345-Encounter-enc-3"), std::string::npos) << out;
  EXPECT_NE(out.find("403"), std::string::npos) << out;
  // The squatter is removed for good; the replay then succeeds.
  ASSERT_EQ(national_client_->Send("DELETE", "/fhir/DocumentReference/Y12345-Encounter-enc-3").status,
            204);
  ASSERT_EQ(RunCrs({"outbox", "replay", "--data", LocalData(), "--all"}, &out), 0) << out;
  EXPECT_TRUE(Eventually([&] {
    RunCrs({"outbox", "list", "--data", LocalData()}, &out);
    return out.find("0 dead letter(s)") != std::string::npos;
  })) << out;
  EXPECT_EQ(Pointer("enc-3").status, 200);
  EXPECT_EQ(Pointer("enc-3").Json().at("custodian").at("identifier").at("value"), "Y12345");
}

TEST_F(FederationTest, ForwardedAuditRecordsAreAppendedOnceAndOnlyFromPeers) {
  auto record = [](int n) {
    return json::object{
        {"seq", n},
        {"hash", "00"},
        {"record", R"({"v":1,"time":"2026-11-21T10:00:00Z","user":"u)" + std::to_string(n) +
                       R"(","role":"R8000","org":"RXX01","action":"read","status":200,)"
                       R"("outcome":"allowed","patients":["9990000034"]})"}};
  };
  auto body = [&](std::vector<int> seqs) {
    json::array a;
    for (int n : seqs) a.push_back(record(n));
    return json::serialize(json::object{{"records", std::move(a)}});
  };
  Client peer(national_port_, local_.Token("system", "Y12345"));
  ASSERT_EQ(peer.Send("POST", "/fhir/AuditEvent/$forward", body({1000001, 1000002})).status, 200);
  // A retry overlapping the first delivery appends only what is new.
  ASSERT_EQ(peer.Send("POST", "/fhir/AuditEvent/$forward", body({1000001, 1000002, 1000003})).status,
            200);
  EXPECT_EQ(peer.Send("POST", "/fhir/AuditEvent/$forward", body({1000002, 1000001})).status, 400);
  // Only peer nodes forward.
  EXPECT_EQ(national_client_->Send("POST", "/fhir/AuditEvent/$forward", body({1})).status, 403);
  auto log = national_client_->Send("GET", "/fhir/AuditEvent?patient=9990000034");
  ASSERT_EQ(log.status, 200);
  int forwarded = 0;
  json::value entries = log.Json();
  for (const auto& e : entries.at("entry").as_array()) {
    if (e.at("resource").at("source").at("observer").at("identifier").at("value") == "Y12345") {
      ++forwarded;
    }
  }
  EXPECT_EQ(forwarded, 3);
}

TEST_F(FederationTest, TheGpNodeKeepsTheNationalSummaryInStepAndSendsNothingUnderDissent) {
  ASSERT_EQ(local_.Stop(SIGTERM), 0);
  ASSERT_TRUE(StartLocal({"--upload-summaries"}));
  local_client_ = std::make_unique<Client>(local_port_, local_.SystemToken());
  // The patient is registered at Y12345 nationally.
  ASSERT_EQ(national_client_
                ->Send("PUT", std::string("/fhir/Patient/") + kPatient,
                       R"({"resourceType":"Patient","id":"9990000018","name":[{"family":"Smith"}],)"
                       R"("gender":"female","birthDate":"1945-07-14","generalPractitioner":[{)"
                       R"("identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code",)"
                       R"("value":"Y12345"}}]})")
                .status,
            201);
  auto allergy = [](const std::string& id, const std::string& code, const std::string& display) {
    return R"({"resourceType":"AllergyIntolerance","id":")" + id +
           R"(","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}]},)"
           R"("code":{"coding":[{"system":"http://snomed.info/sct","code":")" + code +
           R"(","display":")" + display + R"("}]},"patient":{"reference":"Patient/9990000018"},)"
           R"("recorder":{"reference":"Practitioner/dr-1"}})";
  };
  ASSERT_EQ(local_client_->Send("PUT", "/fhir/AllergyIntolerance/al-1",
                                allergy("al-1", "91936005", "Allergy to penicillin"))
                .status,
            201);
  // An item for a sensitive condition never leaves the practice.
  ASSERT_EQ(local_client_
                ->Send("PUT", "/fhir/MedicationStatement/ms-1",
                       R"({"resourceType":"MedicationStatement","id":"ms-1","status":"active",)"
                       R"("medicationCodeableConcept":{"text":"Benzathine benzylpenicillin"},)"
                       R"("subject":{"reference":"Patient/9990000018"},)"
                       R"("reasonCode":[{"coding":[{"system":"http://snomed.info/sct","code":"76272004"}]}]})")
                .status,
            201);
  auto summary = [&] {
    return national_client_->Send("GET", std::string("/fhir/Bundle/scr-") + kPatient);
  };
  ASSERT_TRUE(Eventually([&] {
    auto r = summary();
    return r.status == 200 && r.body.find("91936005") != std::string::npos;
  })) << summary().body;
  std::string held = summary().body;
  EXPECT_EQ(held.find("76272004"), std::string::npos);
  EXPECT_EQ(held.find("Benzathine"), std::string::npos);
  EXPECT_EQ(held.find("Practitioner/dr-1"), std::string::npos);
  auto prov = national_client_->Send("GET", std::string("/fhir/Provenance/scr-") + kPatient);
  EXPECT_NE(prov.body.find("Y12345"), std::string::npos);
  // A change is a new version.
  ASSERT_EQ(local_client_->Send("PUT", "/fhir/AllergyIntolerance/al-2",
                                allergy("al-2", "300913006", "Shellfish allergy"))
                .status,
            201);
  ASSERT_TRUE(Eventually([&] { return summary().body.find("300913006") != std::string::npos; }));

  // The patient dissents at the national node: the summary is purged there,
  // and the practice sends nothing more.
  std::string dissent =
      R"({"resourceType":"Consent","status":"active","dateTime":"2026-02-01T00:00:00Z",)"
      R"("scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},)"
      R"("category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],)"
      R"("patient":{"reference":"Patient/9990000018"},)"
      R"("policyRule":{"coding":[{"code":"urn:opencrs:consent:scr"}]},"provision":{"type":"deny"}})";
  Client patient(national_port_, national_.Token("patient", "", kPatient));
  ASSERT_EQ(patient.Send("POST", "/fhir/Consent", dissent).status, 201);
  EXPECT_EQ(summary().status, 404);
  auto summary_cursor = [&] {
    std::string out;
    RunCrs({"outbox", "list", "--data", LocalData()}, &out);
    size_t at = out.find("feed summaries: delivered through store seq ");
    return at == std::string::npos ? std::string() : out.substr(at, out.find('\n', at) - at);
  };
  std::string before = summary_cursor();
  ASSERT_EQ(local_client_->Send("PUT", "/fhir/AllergyIntolerance/al-3",
                                allergy("al-3", "227493005", "Cashew nut allergy"))
                .status,
            201);
  // The feed moves past the change without sending anything.
  ASSERT_TRUE(Eventually([&] { return summary_cursor() != before; })) << before;
  std::string out;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(summary().status, 404);
  RunCrs({"outbox", "list", "--data", LocalData()}, &out);
  EXPECT_NE(out.find("0 dead letter(s)"), std::string::npos) << out;
}

TEST_F(FederationTest, TheNodeRegistryIsListedAndOnlyAdministratorsChangeIt) {
  std::string out;
  ASSERT_EQ(RunCrs({"node", "list", "--data", NationalData(), "--national", Base(national_port_)},
                   &out),
            0)
      << out;
  EXPECT_NE(out.find("Y12345\tactive\t" + Base(local_port_)), std::string::npos) << out;
  Client gp(national_port_, national_.Token("R8000", "Y12345", "", {"X0371"}));
  EXPECT_EQ(gp.Send("DELETE", "/fhir/Endpoint/node-Y12345").status, 403);
  // A bad key set is refused before anything is sent.
  WriteFile(national_.data_dir() + "/bad.jwks", "{\"keys\":[]}");
  EXPECT_EQ(RunCrs({"node", "add", "--data", NationalData(), "--national", Base(national_port_),
                    "--ods", "Y1", "--url", "http://x/fhir", "--jwks",
                    national_.data_dir() + "/bad.jwks"},
                   &out),
            2);
}



// The federated $everything's entries: records from other nodes (by
// fullUrl) and the texts of its OperationOutcome's issues.
struct Federated {
  int status = 0;
  std::vector<std::string> remote;    // fullUrls outside the national node
  std::vector<std::string> pointers;  // ids of the DocumentReferences (pointers)
  std::vector<std::string> unanswered;
};

Federated AskEverything(Client& client, int national_port,
                        const std::vector<std::pair<std::string, std::string>>& headers) {
  Federated f;
  auto r = client.Send("GET", std::string("/fhir/Patient/") + kPatient +
                                  "/$everything?_federated=true", "", headers);
  f.status = r.status;
  auto v = r.Json();
  if (!v.is_object() || !v.as_object().contains("entry")) return f;
  for (const auto& e : v.at("entry").as_array()) {
    const auto& res = e.at("resource");
    if (Str(e.at("search").at("mode")) == "outcome") {
      EXPECT_EQ(res.at("resourceType"), "OperationOutcome");
      for (const auto& i : res.at("issue").as_array()) {
        f.unanswered.push_back(Str(i.at("details").at("coding").at(0).at("code")) + " " +
                               Str(i.at("details").at("text")));
      }
      continue;
    }
    std::string url = Str(e.at("fullUrl"));
    if (!url.starts_with(Base(national_port))) f.remote.push_back(url);
    if (res.at("resourceType") == "DocumentReference") f.pointers.push_back(Str(res.at("id")));
  }
  return f;
}


TEST_F(FederationTest, AFederatedEverythingMergesTheHoldersRecords) {
  RegisterPatient();
  HoldRecord("enc-f1");
  HoldRecord("enc-f2");
  Client gp(national_port_, national_.Token("R8000", "Y12345"));
  std::vector<std::pair<std::string, std::string>> ptv = {{"X-Permission-To-View", "granted"}};
  Federated f = AskEverything(gp, national_port_, ptv);
  ASSERT_EQ(f.status, 200);
  std::sort(f.remote.begin(), f.remote.end());
  EXPECT_EQ(f.remote, (std::vector<std::string>{Base(local_port_) + "/Encounter/enc-f1",
                                                Base(local_port_) + "/Encounter/enc-f2"}));
  EXPECT_TRUE(f.unanswered.empty());
  // The records themselves, as the holder served them.
  auto r = gp.Send("GET", std::string("/fhir/Patient/") + kPatient + "/$everything?_federated=true",
                   "", ptv);
  EXPECT_NE(r.body.find(R"("id":"enc-f1")"), std::string::npos);
  // Without _federated: the national node's own compartment only.
  auto plain = gp.Send("GET", std::string("/fhir/Patient/") + kPatient + "/$everything", "", ptv);
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.body.find(Base(local_port_) + "/Encounter/enc-f1\",\"resource\""),
            std::string::npos);
  // The holder served and audited the national user's reads, under the
  // correlation id the caller gave.
  gp.Send("GET", std::string("/fhir/Patient/") + kPatient + "/$everything?_federated=true", "",
          {{"X-Permission-To-View", "granted"}, {"X-Correlation-ID", "fanout-corr-1"}});
  EXPECT_TRUE(Eventually([&] {
    int reads = 0;
    for (const auto& a : AuditRecords(LocalData())) {
      reads += a.find("enc-f1") != std::string::npos && a.find("\"read\"") != std::string::npos &&
               a.find("fanout-corr-1") != std::string::npos;
    }
    return reads >= 1;
  }));
  // The national node audited the fan-out itself.
  bool noted = false;
  for (const auto& a : AuditRecords(NationalData())) {
    noted = noted || (a.find("everything-federated") != std::string::npos &&
                      a.find("Y12345 asked for 2, 2 returned") != std::string::npos);
  }
  EXPECT_TRUE(noted);
  // _type narrows the holders' records too (nothing is fetched for other types).
  auto typed = [&](const std::string& type) {
    return gp.Send("GET", std::string("/fhir/Patient/") + kPatient +
                              "/$everything?_federated=true&_type=" + type, "", ptv).body;
  };
  EXPECT_NE(typed("Encounter").find(Base(local_port_) + "/Encounter/enc-f1"), std::string::npos);
  EXPECT_EQ(typed("Observation").find(Base(local_port_) + "/Encounter/enc-f1"),
            std::string::npos);
  // Bad input is refused, never guessed at.
  EXPECT_EQ(gp.Send("GET", std::string("/fhir/Patient/") + kPatient +
                               "/$everything?_federated=maybe", "", ptv).status,
            400);
}

TEST_F(FederationTest, AHolderThatRefusesTheCallerContributesNothing) {
  RegisterPatient();
  HoldRecord("enc-r1");
  // A hospital episode known nationally: RXX01 has a relationship at the
  // national node, none at the holder.
  ASSERT_EQ(national_client_
                ->Send("PUT", "/fhir/EpisodeOfCare/eoc-1",
                       R"({"resourceType":"EpisodeOfCare","id":"eoc-1","status":"active",)"
                       R"("patient":{"reference":"Patient/9990000018"},"managingOrganization":)"
                       R"({"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code",)"
                       R"("value":"RXX01"}}})")
                .status,
            201);
  Client doctor(national_port_, national_.Token("R8000", "RXX01"));
  Federated f = AskEverything(doctor, national_port_, {{"X-Permission-To-View", "granted"}});
  ASSERT_EQ(f.status, 200);
  EXPECT_EQ(f.pointers, std::vector<std::string>{"Y12345-Encounter-enc-r1"});  // asked...
  EXPECT_TRUE(f.remote.empty());       // ...and refused by the holder
  EXPECT_TRUE(f.unanswered.empty());   // which is not a failure to answer
  // Under emergency access the holder decides otherwise, and says so to its
  // privacy officer.
  Federated bg = AskEverything(doctor, national_port_,
                               {{"X-Purpose-Of-Use", "ETREAT"},
                                {"X-Access-Justification", "unconscious in A&E"}});
  EXPECT_EQ(bg.remote, std::vector<std::string>{Base(local_port_) + "/Encounter/enc-r1"});
}

TEST_F(FederationTest, AFederatedEverythingReportsNodesThatDidNotAnswer) {
  RegisterPatient();
  HoldRecord("enc-k1");
  // A second holder that accepts connections and never answers.
  SilentPeer silent;
  ASSERT_FALSE(silent.base_url.empty());
  const std::string& silent_base = silent.base_url;
  ServerProcess other;  // only for its keys
  std::string out;
  std::string other_data = other.data_dir() + "/data";
  ASSERT_EQ(RunCrs({"node", "jwks", "--data", other_data}, &out), 0) << out;
  WriteFile(other.data_dir() + "/other.jwks", out);
  ASSERT_EQ(RunCrs({"node", "add", "--data", NationalData(), "--national", Base(national_port_),
                    "--ods", "Y99999", "--url", silent_base, "--jwks",
                    other.data_dir() + "/other.jwks"},
                   &out),
            0)
      << out;
  ASSERT_EQ(national_client_
                ->Send("PUT", "/fhir/DocumentReference/Y99999-Encounter-s1",
                       R"({"resourceType":"DocumentReference","id":"Y99999-Encounter-s1",)"
                       R"("status":"current","subject":{"reference":"Patient/9990000018"},)"
                       R"("custodian":{"identifier":{"system":)"
                       R"("https://fhir.nhs.uk/Id/ods-organization-code","value":"Y99999"}},)"
                       R"("content":[{"attachment":{"url":")" + silent_base +
                           R"(/Encounter/s1"}}]})")
                .status,
            201);
  // The national node re-reads its registry at most once a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Client gp(national_port_, national_.Token("R8000", "Y12345"));
  std::vector<std::pair<std::string, std::string>> ptv = {{"X-Permission-To-View", "granted"}};
  // The silent node times out; the answering one is still merged.
  auto start = std::chrono::steady_clock::now();
  Federated f = AskEverything(gp, national_port_, ptv);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(f.status, 200);
  EXPECT_EQ(f.remote, std::vector<std::string>{Base(local_port_) + "/Encounter/enc-k1"});
  ASSERT_EQ(f.unanswered.size(), 1u);
  EXPECT_TRUE(f.unanswered[0].starts_with("Y99999 ")) << f.unanswered[0];
  EXPECT_NE(f.unanswered[0].find("no answer within 1000 ms"), std::string::npos)
      << f.unanswered[0];
  EXPECT_GE(took, kFanoutTimeoutMs - 50);
  EXPECT_LT(took, kFanoutTimeoutMs + 1500);
  // The local node killed: reported unavailable, within the timeout.
  local_.Stop(SIGKILL);
  start = std::chrono::steady_clock::now();
  f = AskEverything(gp, national_port_, ptv);
  took = std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(f.status, 200);
  EXPECT_TRUE(f.remote.empty());
  ASSERT_EQ(f.unanswered.size(), 2u);
  std::sort(f.unanswered.begin(), f.unanswered.end());
  EXPECT_TRUE(f.unanswered[0].starts_with("Y12345 node Y12345 did not answer: unreachable"))
      << f.unanswered[0];
  EXPECT_TRUE(f.unanswered[1].starts_with("Y99999 ")) << f.unanswered[1];
  EXPECT_LT(took, kFanoutTimeoutMs + 1500);
}


std::string ScrConsent(const std::string& id, const std::string& type) {
  return R"({"resourceType":"Consent","id":")" + id +
         R"(","status":"active","scope":{"coding":[{"system":)"
         R"("http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},)"
         R"("category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],)"
         R"("patient":{"reference":"Patient/9990000018"},)"
         R"("policyRule":{"coding":[{"code":"urn:opencrs:consent:scr"}]},)"
         R"("provision":{"type":")" + type + R"("}})";
}


TEST_F(FederationTest, TheHolderFollowsTheNationalConsentAndADissentReachesItBeforeTheTtl) {
  RegisterPatient();
  HoldRecord("enc-c1");
  std::vector<std::pair<std::string, std::string>> bg = {
      {"X-Purpose-Of-Use", "ETREAT"}, {"X-Access-Justification", "unconscious in A&E"}};
  Client ae(local_port_, national_.Token("R8000", "RXX01"));
  Client gp(local_port_, national_.Token("R8000", "Y12345"));
  std::string search = std::string("/fhir/Encounter?patient=") + kPatient;
  ASSERT_EQ(ae.Send("GET", "/fhir/Encounter/enc-c1", "", bg).status, 200);
  auto found = ae.Send("GET", search, "", bg);
  ASSERT_EQ(found.status, 200);
  EXPECT_EQ(found.Json().at("total"), 1);
  // Without naming the patient another organisation finds nobody here.
  auto unnamed = ae.Send("GET", "/fhir/Encounter?status=in-progress", "", bg);
  ASSERT_EQ(unnamed.status, 200);
  EXPECT_EQ(unnamed.Json().at("total"), 0);

  // The patient dissents at the national node; the local node had the
  // consent state cached for up to 60 s, and honours the dissent sooner.
  ASSERT_EQ(national_client_->Send("PUT", "/fhir/Consent/dissent-1", ScrConsent("dissent-1", "deny"))
                .status,
            201);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually([&] {
    return ae.Send("GET", "/fhir/Encounter/enc-c1", "", bg).status == 404;
  }, 10));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(took, 5000) << "the dissent took " << took << " ms to reach the holder";

  auto withheld = ae.Send("GET", search, "", bg);
  ASSERT_EQ(withheld.status, 200);
  EXPECT_EQ(withheld.Json().at("total"), 0);
  // The holder's own clinicians still see their records.
  EXPECT_EQ(gp.Send("GET", "/fhir/Encounter/enc-c1").status, 200);
  // A federated $everything from the national node brings nothing from it.
  Client nat_ae(national_port_, national_.Token("R8000", "RXX01"));
  EXPECT_TRUE(AskEverything(nat_ae, national_port_, bg).remote.empty());
  // The patient changes their mind: shared again.
  ASSERT_EQ(national_client_->Send("PUT", "/fhir/Consent/permit-1", ScrConsent("permit-1", "permit"))
                .status,
            201);
  EXPECT_TRUE(Eventually([&] {
    return ae.Send("GET", "/fhir/Encounter/enc-c1", "", bg).status == 200;
  }, 10));
}

TEST_F(FederationTest, WithoutTheNationalNodeTheHolderRefusesOtherOrganisationsOnly) {
  RegisterPatient();
  HoldRecord("enc-u1");
  ASSERT_EQ(local_.Stop(SIGTERM), 0);
  ASSERT_TRUE(StartLocal({"--consent-ttl", "1"}));
  std::vector<std::pair<std::string, std::string>> bg = {
      {"X-Purpose-Of-Use", "ETREAT"}, {"X-Access-Justification", "unconscious in A&E"}};
  Client ae(local_port_, national_.Token("R8000", "RXX01"));
  Client gp(local_port_, national_.Token("R8000", "Y12345"));
  ASSERT_EQ(ae.Send("GET", "/fhir/Encounter/enc-u1", "", bg).status, 200);
  national_.Stop(SIGKILL);
  // Once the cached state has expired, the holder cannot know the patient's
  // consent: it refuses other organisations (503, audited) rather than
  // guess, and keeps serving its own clinicians and writers.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto refused = ae.Send("GET", "/fhir/Encounter/enc-u1", "", bg);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.body.find("enc-u1"), std::string::npos);
  EXPECT_EQ(ae.Send("GET", std::string("/fhir/Encounter?patient=") + kPatient, "", bg).status,
            503);
  EXPECT_EQ(gp.Send("GET", "/fhir/Encounter/enc-u1").status, 200);
  EXPECT_EQ(local_client_->Send("PUT", "/fhir/Encounter/enc-u2", Encounter("enc-u2")).status, 201);
  bool audited = false;
  for (const auto& a : AuditRecords(LocalData())) {
    audited = audited || (a.find("RXX01") != std::string::npos &&
                          a.find("503") != std::string::npos);
  }
  EXPECT_TRUE(audited);
}


TEST_F(FederationTest, AHungNationalNodeCostsOneTimeoutNotOnePerRequest) {
  // A local node whose national node accepts connections and never answers.
  SilentPeer silent;
  ASSERT_FALSE(silent.base_url.empty());
  const std::string& silent_base = silent.base_url;
  ServerProcess hung_linked;
  int port = crs::testing::ReservePort();
  ASSERT_TRUE(hung_linked.Start({"--listen", "127.0.0.1:" + std::to_string(port), "--role",
                                 "local", "--org", "Y55555", "--national", silent_base,
                                 "--national-jwks", national_jwks_, "--base-url", Base(port)}));
  json::value enc = json::parse(Encounter("enc-h1", "in-progress"));
  enc.as_object()["serviceProvider"] = json::object{
      {"identifier", json::object{{"system", "https://fhir.nhs.uk/Id/ods-organization-code"},
                                  {"value", "Y55555"}}}};
  Client writer(port, hung_linked.SystemToken());
  ASSERT_EQ(writer.Send("PUT", "/fhir/Encounter/enc-h1", json::serialize(enc)).status, 201);
  std::vector<std::pair<std::string, std::string>> bg = {
      {"X-Purpose-Of-Use", "ETREAT"}, {"X-Access-Justification", "unconscious in A&E"}};
  Client ae(port, national_.Token("R8000", "RXX01"));
  Client own(port, national_.Token("R8000", "Y55555"));
  auto ms_of = [](auto f) {
    auto t0 = std::chrono::steady_clock::now();
    int status = f();
    return std::make_pair(status, std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - t0).count());
  };
  auto [first, first_ms] = ms_of([&] { return ae.Send("GET", "/fhir/Encounter/enc-h1", "", bg).status; });
  EXPECT_EQ(first, 503);
  EXPECT_GE(first_ms, 1500);  // the consent look-up's 2 s timeout
  auto [second, second_ms] = ms_of([&] { return ae.Send("GET", "/fhir/Encounter/enc-h1", "", bg).status; });
  EXPECT_EQ(second, 503);
  EXPECT_LT(second_ms, 500);  // failed at once: no second wait
  auto [mine, mine_ms] = ms_of([&] { return own.Send("GET", "/fhir/Encounter/enc-h1").status; });
  EXPECT_EQ(mine, 200);
  EXPECT_LT(mine_ms, 500);
  hung_linked.Stop(SIGKILL);  // its publisher would wait out a 10 s call to the silent node
}

}  // namespace
}  // namespace crs::e2e
