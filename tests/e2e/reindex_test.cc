// crs reindex: a node whose derived rows (search index, access facts,
// relationships) are missing or stale, as after an upgrade that changed
// their extraction, gets them back from the stored bodies, on both stores.
#include <set>

#include "e2e/fixture.h"

namespace crs::e2e {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

std::set<std::string> Ids(const HttpResult& r) {
  std::set<std::string> out;
  auto v = r.Json();
  const auto* o = v.if_object();
  const auto* entries = o ? o->if_contains("entry") : nullptr;
  if (!entries || !entries->is_array()) return out;
  for (const auto& e : entries->as_array()) {
    const auto& res = e.as_object().at("resource").as_object();
    out.insert(std::string(res.at("resourceType").as_string()) + "/" +
               std::string(res.at("id").as_string()));
  }
  return out;
}

TEST(ReindexTest, RebuildsTheIndexAccessFactsAndRelationshipsWithoutNewVersions) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  std::string dir = server.data_dir() + "/data";
  {
    Client c(server.port(), server.SystemToken());
    ASSERT_EQ(c.Send("PUT", "/fhir/Organization/GP1",
                     R"({"resourceType":"Organization","id":"GP1","name":"GP1"})")
                  .status,
              201);
    ASSERT_EQ(c.Send("PUT", "/fhir/Patient/9990000018",
                     R"({"resourceType":"Patient","id":"9990000018",)"
                     R"("name":[{"family":"Reindexwood","given":["Ada"]}],"birthDate":"1950-02-03",)"
                     R"("generalPractitioner":[{"reference":"Organization/GP1"}]})")
                  .status,
              201);
    ASSERT_EQ(c.Send("PUT", "/fhir/Observation/o1",
                     R"({"resourceType":"Observation","id":"o1","status":"final",)"
                     R"("code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},)"
                     R"("subject":{"reference":"Patient/9990000018"},)"
                     R"("valueQuantity":{"value":72.5,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}})")
                  .status,
              201);
    // Sealed by the patient's GP: hidden from other organisations.
    Client gp(server.port(), server.Token("R8000", "GP1"));
    ASSERT_EQ(gp.Send("PUT", "/fhir/AllergyIntolerance/sealed",
                      R"({"resourceType":"AllergyIntolerance","id":"sealed",)"
                      R"("meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},)"
                      R"("code":{"text":"latex"},"patient":{"reference":"Patient/9990000018"}})")
                  .status,
              201);
  }
  const std::vector<std::pair<std::string, std::set<std::string>>> searches = {
      {"/fhir/Patient?family=reindexw&birthdate=1950-02-03", {"Patient/9990000018"}},
      {"/fhir/Patient?phonetic=Rindexwood", {"Patient/9990000018"}},
      {"/fhir/Observation?code-value-quantity=http://loinc.org|29463-7$72.5", {"Observation/o1"}},
      {"/fhir/Observation?subject:Patient.family=Reindexwood", {"Observation/o1"}},
  };
  auto check = [&](const std::string& when, bool indexed) {
    SCOPED_TRACE(when);
    Client sys(server.port(), server.SystemToken());
    for (const auto& [query, expected] : searches) {
      auto r = sys.Send("GET", query);
      ASSERT_EQ(r.status, 200) << query << ": " << r.body;
      EXPECT_EQ(Ids(r), indexed ? expected : std::set<std::string>{}) << query;
    }
    // The GP's registration is a legitimate relationship (without one a
    // read answers 404, as if absent); the sealed allergy is withheld from
    // another organisation even in an emergency, which shows it the rest.
    Client gp(server.port(), server.Token("R8000", "GP1"));
    auto g = gp.Send("GET", "/fhir/Observation/o1", "", {{"X-Permission-To-View", "granted"}});
    EXPECT_EQ(g.status, indexed ? 200 : 404) << g.body;
    Client other(server.port(), server.Token("R8000", "GP2", "", {"B0168"}));
    Headers emergency = {{"X-Purpose-Of-Use", "ETREAT"},
                         {"X-Access-Justification", "collapsed in clinic"},
                         {"X-Permission-To-View", "granted"}};
    if (indexed) {
      auto o = other.Send("GET", "/fhir/Observation/o1", "", emergency);
      EXPECT_EQ(o.status, 200) << o.body;
      auto a = other.Send("GET", "/fhir/AllergyIntolerance/sealed", "", emergency);
      EXPECT_EQ(a.status, 404) << a.body;
    }
  };
  check("as written", true);
  ASSERT_EQ(server.Stop(SIGTERM), 0);

  // What an older store looks like: no index rows of the newer kinds, no
  // access facts, no relationships.
  ASSERT_TRUE(StoreExec(dir,
                        "DELETE FROM ix_string; DELETE FROM ix_token; DELETE FROM ix_date; "
                        "DELETE FROM ix_ref; DELETE FROM ix_quantity; DELETE FROM ix_comp; "
                        "DELETE FROM rel; UPDATE resources SET patient = '?', labels = 0"));
  ASSERT_TRUE(server.Start());
  check("derived rows dropped", false);
  ASSERT_EQ(server.Stop(SIGTERM), 0);

  std::string out;
  ASSERT_EQ(RunCrs({"reindex", "--data", dir, "--batch-size", "2"}, &out), 0) << out;
  EXPECT_NE(out.find("reindexed 4 resources in 2 batches"), std::string::npos) << out;
  ASSERT_TRUE(server.Start());
  check("reindexed", true);
  // No new versions; the audit log says what ran, and its chain holds.
  Client sys(server.port(), server.SystemToken());
  auto p = sys.Send("GET", "/fhir/Patient/9990000018/_history");
  EXPECT_EQ(Ids(p).size(), 1u) << p.body;
  EXPECT_EQ(sys.Send("GET", "/fhir/Patient/9990000018").Json().at("meta").at("versionId"), "1");
  int reindex_records = 0;
  for (const auto& text : AuditRecords(dir)) {
    if (text.find(R"("action":"reindex")") != std::string::npos) ++reindex_records;
  }
  EXPECT_EQ(reindex_records, 2);
  ASSERT_EQ(server.Stop(SIGTERM), 0);
  EXPECT_EQ(RunCrs({"audit", "verify", "--data", dir}, &out), 0) << out;
}

TEST(ReindexTest, RefusesUnknownTypesAndARunningNode) {
  ServerProcess server;
  ASSERT_TRUE(server.Start());
  std::string out;
  EXPECT_EQ(RunCrs({"reindex", "--data", server.data_dir() + "/data", "--type", "Patients"}, &out),
            2)
      << out;
  EXPECT_NE(out.find("not an R4 resource type"), std::string::npos) << out;
  EXPECT_EQ(RunCrs({"reindex", "--data", server.data_dir() + "/data"}, &out), 1) << out;
  EXPECT_NE(out.find("crs serve"), std::string::npos) << out;
}

}  // namespace
}  // namespace crs::e2e
