// GP2GP record transfer and pointer replacement (docs/federation.md,
// "Replacing a pointer" and "GP2GP"): a national node and two practices'
// nodes, each its own crs process and data directory.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <regex>
#include <thread>

#include "e2e/harness.h"

namespace crs::e2e {
namespace {

namespace json = boost::json;

constexpr const char* kPatient = "9990000018";
constexpr const char* kOld = "Y12345";  // practice A, the old practice
constexpr const char* kNew = "Y67890";  // practice C, the new practice

std::string Base(int port) { return "http://127.0.0.1:" + std::to_string(port) + "/fhir"; }

std::string Str(const json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

template <typename Probe>
bool Eventually(Probe probe, int seconds = 30) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (probe()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return probe();
}

std::string PatientAt(const std::string& ods) {
  return json::serialize(json::object{
      {"resourceType", "Patient"},
      {"id", kPatient},
      {"name", json::array{json::object{{"family", "Smith"}, {"given", json::array{"Jane"}}}}},
      {"gender", "female"},
      {"birthDate", "1945-07-14"},
      {"generalPractitioner",
       json::array{json::object{
           {"reference", "Organization/" + ods},
           {"identifier", json::object{{"system", "https://fhir.nhs.uk/Id/ods-organization-code"},
                                       {"value", ods}}}}}}});
}

// A pointer as practice `ods` writes it at the national node.
std::string PointerBody(const std::string& id, const std::string& ods,
                        const std::string& replaces = "") {
  json::object p{
      {"resourceType", "DocumentReference"},
      {"id", id},
      {"status", "current"},
      {"subject", json::object{{"reference", std::string("Patient/") + kPatient}}},
      {"custodian", json::object{{"identifier",
                                  json::object{{"system",
                                                "https://fhir.nhs.uk/Id/ods-organization-code"},
                                               {"value", ods}}}}},
      {"content", json::array{json::object{
                      {"attachment", json::object{{"url", "http://x.example/fhir/Encounter/" + id}}}}}}};
  if (!replaces.empty()) {
    p["relatesTo"] = json::array{json::object{
        {"code", "replaces"},
        {"target", json::object{{"reference", "DocumentReference/" + replaces}}}}};
  }
  return json::serialize(p);
}

// The ids the record locator's lookup (DocumentReference?patient=) shows.
std::vector<std::string> LookUp(Client& national) {
  std::vector<std::string> ids;
  json::value found =
      national.Send("GET", std::string("/fhir/DocumentReference?patient=") + kPatient).Json();
  if (!found.is_object() || !found.as_object().contains("entry")) return ids;
  for (const auto& e : found.at("entry").as_array()) {
    const auto* res = e.as_object().if_contains("resource");
    if (res && res->is_object() && res->as_object().contains("id")) ids.push_back(Str(res->at("id")));
  }
  return ids;
}

// A transfer's state as GET Patient/<nhs>/$gp2gp shows it (the first one).
struct Progress {
  std::string id, state, reason;
  int64_t done = -1, chunks = -1, received = -1, total = -1;
  bool notified = false;
};

// The first transfer the node lists for the patient, or the one named `id`.
Progress ProgressOf(Client& client, const std::string& id = "") {
  Progress p;
  auto r = client.Send("GET", std::string("/fhir/Patient/") + kPatient + "/$gp2gp");
  json::value v = r.Json();
  if (r.status != 200 || !v.is_object() || !v.as_object().contains("parameter")) return p;
  auto id_of = [](const json::value& t) {
    for (const auto& part : t.at("part").as_array()) {
      if (Str(part.at("name")) == "id") return Str(part.at("valueString"));
    }
    return std::string();
  };
  const json::value* chosen = nullptr;
  for (const auto& t : v.at("parameter").as_array()) {
    if (!chosen && (id.empty() || id_of(t) == id)) chosen = &t;
  }
  if (!chosen) return p;
  for (const auto& part : chosen->at("part").as_array()) {
    std::string name = Str(part.at("name"));
    const json::object& o = part.as_object();
    auto num = [&] { return o.at("valueInteger").to_number<int64_t>(); };
    if (name == "id") p.id = Str(o.at("valueString"));
    if (name == "state") p.state = Str(o.at("valueString"));
    if (name == "reason") p.reason = Str(o.at("valueString"));
    if (name == "chunksDone") p.done = num();
    if (name == "chunks") p.chunks = num();
    if (name == "received") p.received = num();
    if (name == "total") p.total = num();
    if (name == "notified") p.notified = o.at("valueBoolean").as_bool();
  }
  return p;
}

class FederationGp2gpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    national_port_ = crs::testing::ReservePort();
    a_port_ = crs::testing::ReservePort();
    c_port_ = crs::testing::ReservePort();
    ASSERT_TRUE(national_.Start({"--listen", "127.0.0.1:" + std::to_string(national_port_)}));
    std::string out;
    ASSERT_EQ(RunCrs({"node", "jwks", "--data", national_.data_dir() + "/data"}, &out), 0) << out;
    national_jwks_ = national_.data_dir() + "/national.jwks";
    std::ofstream(national_jwks_) << out;
    Register(a_, kOld, a_port_);
    Register(c_, kNew, c_port_);
    nat_ = std::make_unique<Client>(national_port_, national_.SystemToken());
    ASSERT_EQ(nat_->Send("PUT", std::string("/fhir/Patient/") + kPatient, PatientAt(kOld)).status,
              201);
  }

  void Register(ServerProcess& node, const std::string& ods, int port) {
    std::string out;
    ASSERT_EQ(RunCrs({"node", "jwks", "--data", node.data_dir() + "/data"}, &out), 0) << out;
    std::string jwks = node.data_dir() + "/node.jwks";
    std::ofstream(jwks) << out;
    ASSERT_EQ(RunCrs({"node", "add", "--data", national_.data_dir() + "/data", "--national",
                      Base(national_port_), "--ods", ods, "--url", Base(port), "--jwks", jwks},
                     &out),
              0)
        << out;
  }

  bool StartPractice(ServerProcess& node, const std::string& ods, int port,
                     const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"--listen", "127.0.0.1:" + std::to_string(port), "--role",
                                     "local", "--org", ods, "--national", Base(national_port_),
                                     "--national-jwks", national_jwks_, "--base-url", Base(port)};
    args.insert(args.end(), extra.begin(), extra.end());
    return node.Start(args);
  }
  bool StartA(const std::vector<std::string>& extra = {}) {
    if (!StartPractice(a_, kOld, a_port_, extra)) return false;
    a_client_ = std::make_unique<Client>(a_port_, OwnToken(a_, kOld));
    return true;
  }
  bool StartC(const std::vector<std::string>& extra = {}) {
    if (!StartPractice(c_, kNew, c_port_, extra)) return false;
    c_client_ = std::make_unique<Client>(c_port_, OwnToken(c_, kNew));
    return true;
  }
  // A backend-service token of the practice's own organisation.
  static std::string OwnToken(const ServerProcess& node, const std::string& ods) {
    return node.Token("system", ods, "", {}, {"system/*.cruds"});
  }
  // The practice node's own service token, as other nodes see it.
  static std::string PeerToken(const ServerProcess& node, const std::string& ods) {
    return node.Token("system", ods, "", {}, {}, "node:" + ods);
  }

  HttpResult RequestTransfer() {
    return c_client_->Send(
        "POST", std::string("/fhir/Patient/") + kPatient + "/$gp2gp",
        R"({"resourceType":"Parameters","parameter":[{"name":"from","valueString":"Y12345"}]})");
  }

  ServerProcess national_, a_, c_;
  int national_port_ = 0, a_port_ = 0, c_port_ = 0;
  std::string national_jwks_;
  std::unique_ptr<Client> nat_, a_client_, c_client_;
};

TEST_F(FederationGp2gpTest, ReplacingAPointerIsAtomicAndOnlyForItsCustodianOrTheNewPractice) {
  Client a_peer(national_port_, PeerToken(a_, kOld));
  Client c_peer(national_port_, PeerToken(c_, kNew));
  ASSERT_EQ(a_peer.Send("PUT", "/fhir/DocumentReference/Y12345-x", PointerBody("Y12345-x", kOld))
                .status,
            201);
  // The custodian replaces its own pointer: the old one is superseded.
  auto r = a_peer.Send("PUT", "/fhir/DocumentReference/Y12345-y",
                       PointerBody("Y12345-y", kOld, "Y12345-x"));
  ASSERT_EQ(r.status, 201) << r.body;
  json::value x = nat_->Send("GET", "/fhir/DocumentReference/Y12345-x").Json();
  EXPECT_EQ(x.at("status"), "superseded");
  EXPECT_EQ(x.at("meta").at("versionId"), "2");
  // A superseded pointer does not become current again (its custodian
  // republishing it is refused), though it may still be deleted.
  EXPECT_EQ(a_peer.Send("PUT", "/fhir/DocumentReference/Y12345-x", PointerBody("Y12345-x", kOld))
                .status,
            409);

  // The replaced pointer must exist; nothing is written when it does not.
  r = a_peer.Send("PUT", "/fhir/DocumentReference/Y12345-z",
                  PointerBody("Y12345-z", kOld, "Y12345-missing"));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(nat_->Send("GET", "/fhir/DocumentReference/Y12345-z").status, 404);

  // Another practice, while the patient is not registered with it, may not.
  r = c_peer.Send("PUT", "/fhir/DocumentReference/Y67890-w",
                  PointerBody("Y67890-w", kNew, "Y12345-y"));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(nat_->Send("GET", "/fhir/DocumentReference/Y67890-w").status, 404);
  EXPECT_EQ(nat_->Send("GET", "/fhir/DocumentReference/Y12345-y").Json().at("status"), "current");
  // A transaction with such an entry fails as a whole.
  json::object bundle{
      {"resourceType", "Bundle"},
      {"type", "transaction"},
      {"entry",
       json::array{
           json::object{{"resource", json::parse(PointerBody("Y67890-v", kNew))},
                        {"request", json::object{{"method", "PUT"},
                                                 {"url", "DocumentReference/Y67890-v"}}}},
           json::object{{"resource", json::parse(PointerBody("Y67890-w", kNew, "Y12345-y"))},
                        {"request", json::object{{"method", "PUT"},
                                                 {"url", "DocumentReference/Y67890-w"}}}}}}};
  r = c_peer.Send("POST", "/fhir", json::serialize(bundle));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(nat_->Send("GET", "/fhir/DocumentReference/Y67890-v").status, 404);

  // A practice's node learns where the patient is registered (ODS codes
  // only: it may not read the Patient), and registers them with itself.
  auto reg = c_peer.Send("GET", std::string("/fhir/Patient/") + kPatient + "/$register");
  ASSERT_EQ(reg.status, 200) << reg.body;
  EXPECT_EQ(Str(reg.Json().at("parameter").at(0).at("valueString")), kOld);
  EXPECT_EQ(reg.body.find("Smith"), std::string::npos);
  EXPECT_EQ(c_peer.Send("GET", std::string("/fhir/Patient/") + kPatient).status, 403);
  // Registered with the new practice, it takes the pointer over, in the
  // same transaction as its own.
  ASSERT_EQ(c_peer.Send("POST", std::string("/fhir/Patient/") + kPatient + "/$register").status,
            200);
  r = c_peer.Send("POST", "/fhir", json::serialize(bundle));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nat_->Send("GET", "/fhir/DocumentReference/Y12345-y").Json().at("status"),
            "superseded");
  // The record locator's lookup shows current pointers only.
  std::vector<std::string> ids = LookUp(*nat_);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "Y67890-w"), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "Y67890-v"), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "Y12345-x"), 0);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "Y12345-y"), 0);
}

TEST_F(FederationGp2gpTest, ARecordMovesWholeOnceWithItsPointersThroughRestartsOfBothSides) {
  constexpr int kEncounters = 20;
  constexpr int kObservations = 1200;
  ASSERT_TRUE(StartA({"--transfer-chunk", "40"}));
  ASSERT_TRUE(StartC());
  ASSERT_EQ(a_client_->Send("PUT", std::string("/fhir/Patient/") + kPatient, PatientAt(kOld)).status,
            201);
  ASSERT_EQ(c_client_->Send("PUT", std::string("/fhir/Patient/") + kPatient, PatientAt(kNew)).status,
            201);
  // The record at practice A: encounters (with pointers), observations
  // referring to them, and one item sealed and locked by A.
  json::array entries;
  auto put = [&](json::object resource) {
    std::string url = Str(resource.at("resourceType")) + "/" + Str(resource.at("id"));
    entries.push_back(json::object{{"resource", std::move(resource)},
                                   {"request", json::object{{"method", "PUT"}, {"url", url}}}});
  };
  for (int i = 0; i < kEncounters; ++i) {
    put(json::object{{"resourceType", "Encounter"},
                     {"id", "enc-" + std::to_string(i)},
                     {"status", "finished"},
                     {"class", json::object{{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"},
                                            {"code", "AMB"}}},
                     {"subject", json::object{{"reference", std::string("Patient/") + kPatient}}}});
  }
  for (int i = 0; i < kObservations; ++i) {
    put(json::object{{"resourceType", "Observation"},
                     {"id", "obs-" + std::to_string(i)},
                     {"status", "final"},
                     {"code", json::object{{"text", "reading " + std::to_string(i)}}},
                     {"subject", json::object{{"reference", std::string("Patient/") + kPatient}}},
                     {"encounter", json::object{{"reference", "Encounter/enc-" + std::to_string(i % kEncounters)}}}});
  }
  put(json::object{{"resourceType", "Observation"},
                   {"id", "obs-locked"},
                   {"meta", json::object{{"security", json::array{json::object{
                                {"system", "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"},
                                {"code", "V"}}}}}},
                   {"status", "final"},
                   {"code", json::object{{"text", "locked"}}},
                   {"subject", json::object{{"reference", std::string("Patient/") + kPatient}}}});
  auto loaded = a_client_->Send(
      "POST", "/fhir",
      json::serialize(json::object{{"resourceType", "Bundle"}, {"type", "transaction"},
                                   {"entry", std::move(entries)}}));
  ASSERT_EQ(loaded.status, 200) << loaded.body.substr(0, 500);
  ASSERT_TRUE(Eventually([&] {
    return nat_->Send("GET", "/fhir/DocumentReference/Y12345-Encounter-enc-" +
                                 std::to_string(kEncounters - 1))
               .status == 200;
  }));

  auto requested = RequestTransfer();
  ASSERT_EQ(requested.status, 202) << requested.body;
  // A second request while it runs names the first.
  EXPECT_EQ(RequestTransfer().status, 409);

  // C dies (kill -9) with part of the record in, and comes back.
  Progress p;
  ASSERT_TRUE(Eventually([&] {
    p = ProgressOf(*c_client_);
    return p.done >= 3 || p.state == "accepted";
  }));
  ASSERT_EQ(c_.Stop(SIGKILL), -SIGKILL);
  EXPECT_EQ(p.state, "receiving") << "C should die mid-transfer";
  EXPECT_LT(p.done, p.chunks);
  ASSERT_TRUE(StartC());
  // Then A dies, later in the transfer, and comes back.
  int64_t before = p.done;
  ASSERT_TRUE(Eventually([&] {
    p = ProgressOf(*c_client_);
    return p.done >= before + 6 || p.state == "accepted";
  }));
  ASSERT_EQ(a_.Stop(SIGKILL), -SIGKILL);
  EXPECT_EQ(p.state, "receiving") << "A should die mid-transfer";
  EXPECT_LT(p.done, p.chunks);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(StartA({"--transfer-chunk", "40"}));

  ASSERT_TRUE(Eventually([&] {
    p = ProgressOf(*c_client_);
    return p.state == "accepted" || p.state == "failed" || p.state == "rejected";
  }, 90));
  ASSERT_EQ(p.state, "accepted") << p.reason;
  EXPECT_EQ(p.received, kEncounters + kObservations);
  EXPECT_EQ(p.total, kEncounters + kObservations);
  EXPECT_NE(p.reason.find("1 record(s) sealed and locked"), std::string::npos) << p.reason;
  // The old practice hears the outcome.
  EXPECT_TRUE(Eventually([&] { return ProgressOf(*a_client_).state == "accepted"; }));

  // Whole and once: every record, each a single version, ids namespaced,
  // references following them; the locked item stayed with its author.
  auto count = [&](const std::string& type) {
    auto r = c_client_->Send("GET", "/fhir/" + type + "?patient=" + kPatient + "&_summary=count");
    return r.Json().at("total").to_number<int64_t>();
  };
  EXPECT_EQ(count("Encounter"), kEncounters);
  EXPECT_EQ(count("Observation"), kObservations);
  std::string target = std::string("/fhir/Observation?patient=") + kPatient + "&_count=1000";
  int seen = 0;
  while (!target.empty()) {
    json::value page = c_client_->Send("GET", target).Json();
    target.clear();
    for (const auto& e : page.at("entry").as_array()) {
      const auto& res = e.at("resource");
      EXPECT_EQ(res.at("meta").at("versionId"), "1");
      EXPECT_TRUE(Str(res.at("id")).starts_with("Y12345-obs-"));
      EXPECT_TRUE(Str(res.at("encounter").at("reference")).starts_with("Encounter/Y12345-enc-"));
      ++seen;
    }
    for (const auto& l : page.at("link").as_array()) {
      if (l.at("relation") == "next") {
        std::string url = Str(l.at("url"));
        target = url.substr(url.find("/fhir/"));
      }
    }
  }
  EXPECT_EQ(seen, kObservations);
  EXPECT_EQ(c_client_->Send("GET", "/fhir/Observation/Y12345-obs-locked").status, 404);

  // The registration moved (the old registration is replaced), and the
  // pointers followed the record.
  json::value patient = nat_->Send("GET", std::string("/fhir/Patient/") + kPatient).Json();
  EXPECT_EQ(patient.at("generalPractitioner").at(0).at("identifier").at("value"), kNew);
  for (int i = 0; i < kEncounters; ++i) {
    std::string old_id = "Y12345-Encounter-enc-" + std::to_string(i);
    std::string new_id = "Y67890-Encounter-Y12345-enc-" + std::to_string(i);
    ASSERT_TRUE(Eventually([&] {
      return nat_->Send("GET", "/fhir/DocumentReference/" + new_id).status == 200;
    })) << new_id;
    json::value np = nat_->Send("GET", "/fhir/DocumentReference/" + new_id).Json();
    EXPECT_EQ(Str(np.at("relatesTo").at(0).at("target").at("reference")), "DocumentReference/" + old_id);
    EXPECT_EQ(Str(np.at("content").at(0).at("attachment").at("url")),
              Base(c_port_) + "/Encounter/Y12345-enc-" + std::to_string(i));
    EXPECT_EQ(nat_->Send("GET", "/fhir/DocumentReference/" + old_id).Json().at("status"),
              "superseded");
  }
  int current_new = 0, current_old = 0;
  for (const std::string& id : LookUp(*nat_)) {
    current_new += id.starts_with("Y67890-");
    current_old += id.starts_with("Y12345-");
  }
  EXPECT_EQ(current_new, kEncounters);
  EXPECT_EQ(current_old, 0);
  // The release is in the patient's log at the national node.
  EXPECT_TRUE(Eventually([&] {
    for (const auto& rec : AuditRecords(national_.data_dir() + "/data")) {
      if (rec.find("\"gp2gp-release\"") != std::string::npos &&
          rec.find("\"node\":\"Y12345\"") != std::string::npos) {
        return true;
      }
    }
    return false;
  }));
}

TEST_F(FederationGp2gpTest, ATransferThatWouldOverwriteTheNewPracticesOwnRecordIsRejected) {
  ASSERT_TRUE(StartA());
  ASSERT_TRUE(StartC());
  ASSERT_EQ(c_client_->Send("PUT", std::string("/fhir/Patient/") + kPatient, PatientAt(kNew)).status,
            201);
  auto observation = [](const std::string& id, const std::string& text) {
    return json::serialize(json::object{
        {"resourceType", "Observation"}, {"id", id}, {"status", "final"},
        {"code", json::object{{"text", text}}},
        {"subject", json::object{{"reference", std::string("Patient/") + kPatient}}}});
  };
  ASSERT_EQ(a_client_->Send("PUT", "/fhir/Observation/obs-1", observation("obs-1", "old")).status,
            201);
  // C's own record happens to have the id A's would get.
  ASSERT_EQ(c_client_->Send("PUT", "/fhir/Observation/Y12345-obs-1",
                            observation("Y12345-obs-1", "mine"))
                .status,
            201);
  ASSERT_EQ(RequestTransfer().status, 202);
  Progress p;
  ASSERT_TRUE(Eventually([&] {
    p = ProgressOf(*c_client_);
    return p.state == "rejected" || p.state == "accepted" || p.state == "failed";
  }));
  EXPECT_EQ(p.state, "rejected");
  EXPECT_NE(p.reason.find("Observation/Y12345-obs-1 already exists here"), std::string::npos)
      << p.reason;
  json::value mine = c_client_->Send("GET", "/fhir/Observation/Y12345-obs-1").Json();
  EXPECT_EQ(mine.at("code").at("text"), "mine");
  EXPECT_EQ(mine.at("meta").at("versionId"), "1");
  // The old practice hears the rejection and its reason.
  Progress a;
  EXPECT_TRUE(Eventually([&] {
    a = ProgressOf(*a_client_);
    return a.state == "rejected";
  }));
  EXPECT_EQ(a.reason, p.reason);
}

TEST_F(FederationGp2gpTest, AStalledTransferFailsOnBothSidesWithAReason) {
  ASSERT_TRUE(StartA({"--transfer-timeout", "3"}));
  ASSERT_TRUE(StartC({"--transfer-timeout", "3"}));
  ASSERT_EQ(c_client_->Send("PUT", std::string("/fhir/Patient/") + kPatient, PatientAt(kNew)).status,
            201);
  // The old practice releases only to the practice the patient is
  // registered with nationally, and only to the GP2GP operations.
  Client c_as_peer(a_port_, PeerToken(c_, kNew));
  std::string release = std::string("/fhir/Patient/") + kPatient +
                        "/$gp2gp-release?transfer=Y67890-stall&chunk=0";
  EXPECT_EQ(c_as_peer.Send("GET", release).status, 403);
  EXPECT_EQ(c_as_peer.Send("GET", std::string("/fhir/Observation?patient=") + kPatient).status, 403);
  // Unregistered requesting staff of another organisation get nothing either.
  Client stranger(c_port_, c_.Token("system", "Y99999", "", {}, {"system/*.cruds"}));
  EXPECT_EQ(stranger.Send("POST", std::string("/fhir/Patient/") + kPatient + "/$gp2gp",
                          R"({"resourceType":"Parameters","parameter":[{"name":"from","valueString":"Y12345"}]})")
                .status,
            403);

  // C asks while A is down: it registers, retries, and fails after 3 s.
  ASSERT_EQ(a_.Stop(SIGKILL), -SIGKILL);
  ASSERT_EQ(RequestTransfer().status, 202);
  Progress p;
  ASSERT_TRUE(Eventually([&] {
    p = ProgressOf(*c_client_);
    return p.state == "failed";
  }, 30));
  EXPECT_NE(p.reason.find("not complete within 3 s"), std::string::npos) << p.reason;
  EXPECT_NE(p.reason.find("last error"), std::string::npos) << p.reason;
  // The operator sees it too, while the node runs.
  std::string listed;
  ASSERT_EQ(RunCrs({"transfer", "list", "--data", c_.data_dir() + "/data"}, &listed), 0) << listed;
  EXPECT_NE(listed.find("from Y12345\tfailed"), std::string::npos) << listed;
  EXPECT_NE(listed.find("reason: not complete within 3 s"), std::string::npos) << listed;
  EXPECT_EQ(listed.find(kPatient), std::string::npos) << listed;

  // A, back, serves a chunk (the patient is registered with C now) but
  // never hears back: it fails there too, with its own reason.
  ASSERT_TRUE(StartA({"--transfer-timeout", "3"}));
  ASSERT_TRUE(Eventually([&] { return c_as_peer.Send("GET", release).status == 200; }, 15));
  Progress a;
  ASSERT_TRUE(Eventually([&] {
    a = ProgressOf(*a_client_);
    return a.state == "failed";
  }, 30));
  EXPECT_NE(a.reason.find("no acknowledgement from practice Y67890 within 3 s"), std::string::npos)
      << a.reason;
  // C told A of its own failure (A never began that one).
  EXPECT_TRUE(Eventually([&] { return ProgressOf(*c_client_).notified; }, 40));

  // Failed transfers are the transfers' dead letters: the operator sees
  // them in `crs outbox list` and asks again with `crs outbox replay`,
  // while the node runs; the new transfer completes now that A is back.
  std::string box;
  ASSERT_EQ(RunCrs({"outbox", "list", "--data", c_.data_dir() + "/data"}, &box), 0) << box;
  EXPECT_NE(box.find("1 failed transfer(s)"), std::string::npos) << box;
  EXPECT_NE(box.find(p.id + "\t"), std::string::npos) << box;
  EXPECT_NE(box.find("(replay: --transfer " + p.id + ")"), std::string::npos) << box;
  EXPECT_EQ(box.find(kPatient), std::string::npos) << box;
  std::string a_box;
  ASSERT_EQ(RunCrs({"outbox", "list", "--data", a_.data_dir() + "/data"}, &a_box), 0) << a_box;
  EXPECT_NE(a_box.find("the receiving practice asks again"), std::string::npos) << a_box;
  std::string refused;
  EXPECT_EQ(RunCrs({"outbox", "replay", "--data", a_.data_dir() + "/data", "--transfer", a.id},
                   &refused),
            1)
      << refused;
  std::string replayed;
  ASSERT_EQ(RunCrs({"outbox", "replay", "--data", c_.data_dir() + "/data", "--transfer", p.id},
                   &replayed),
            0)
      << replayed;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(replayed, m, std::regex("asked for again as (\\S+)"))) << replayed;
  std::string again = m[1];
  Progress done;
  ASSERT_TRUE(Eventually([&] {
    done = ProgressOf(*c_client_, again);
    return done.state == "accepted" || done.state == "failed";
  }, 30));
  EXPECT_EQ(done.state, "accepted") << done.reason;
  EXPECT_EQ(done.received, done.total);
  // Replayed once: not listed any more, and not replayable twice.
  ASSERT_EQ(RunCrs({"outbox", "list", "--data", c_.data_dir() + "/data"}, &box), 0) << box;
  EXPECT_NE(box.find("0 failed transfer(s)"), std::string::npos) << box;
  EXPECT_EQ(RunCrs({"outbox", "replay", "--data", c_.data_dir() + "/data", "--transfer", p.id},
                   &refused),
            1);
  EXPECT_NE(refused.find("replayed already as " + again), std::string::npos) << refused;
}

}  // namespace
}  // namespace crs::e2e
