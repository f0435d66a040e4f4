// Who may see what, end to end: a table of callers (role x relationship x
// purpose x labels) against every query path, asserting the same answer on
// each path -- read, search, totals, _revinclude, _has, $everything and
// history -- so that nothing leaks through a side path.
#include <boost/json.hpp>
#include <set>

#include "e2e/fixture.h"

namespace crs::e2e {
namespace {

namespace json = boost::json;

using Headers = std::vector<std::pair<std::string, std::string>>;

std::string Org(const std::string& ods) {
  return R"({"resourceType":"Organization","id":")" + ods + R"(","name":"Org )" + ods + R"("})";
}

std::string PatientJson(const std::string& nhs, const std::string& gp, const std::string& extra = "") {
  return R"({"resourceType":"Patient","id":")" + nhs +
         R"(","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":")" + nhs +
         R"("}],"name":[{"family":"Test","given":["P)" + nhs + R"("]}],"generalPractitioner":[{"reference":"Organization/)" +
         gp + R"("}])" + extra + "}";
}

std::string Allergy(const std::string& id, const std::string& patient, const std::string& code,
                    const std::string& label = "") {
  std::string meta;
  if (!label.empty()) {
    meta = R"(,"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":")" +
           label + R"("}]})";
  }
  return R"({"resourceType":"AllergyIntolerance","id":")" + id + R"(")" + meta +
         R"(,"code":{"coding":[{"system":"http://snomed.info/sct","code":")" + code +
         R"("}]},"patient":{"reference":"Patient/)" + patient + R"("}})";
}

std::set<std::string> Ids(const HttpResult& r, const std::string& type) {
  std::set<std::string> out;
  auto v = r.Json();
  if (!v.is_object() || !v.as_object().contains("entry")) return out;
  for (const auto& e : v.at("entry").as_array()) {
    const auto& res = e.at("resource").as_object();
    if (res.at("resourceType").as_string() == type) out.insert(std::string(res.at("id").as_string()));
  }
  return out;
}

int64_t Total(const HttpResult& r) {
  auto v = r.Json();
  if (!v.is_object() || !v.as_object().contains("total")) return -1;
  return v.at("total").as_int64();
}

class AccessTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    // Organisations and patients, loaded by a backend service.
    for (const char* ods : {"GP1", "GP2", "HOSP"}) {
      ASSERT_EQ(Put(std::string("/fhir/Organization/") + ods, Org(ods)).status, 201);
    }
    ASSERT_EQ(Put("/fhir/Patient/9990000018", PatientJson("9990000018", "GP1")).status, 201);
    ASSERT_EQ(Put("/fhir/Patient/9990000026", PatientJson("9990000026", "GP2")).status, 201);
    ASSERT_EQ(Put("/fhir/Patient/9990000034", PatientJson("9990000034", "GP2")).status, 201);
    // HOSP has an active episode of care for 9990000034: a legitimate relationship.
    ASSERT_EQ(Put("/fhir/EpisodeOfCare/ep1",
                  R"({"resourceType":"EpisodeOfCare","id":"ep1","status":"active",)"
                  R"("patient":{"reference":"Patient/9990000034"},)"
                  R"("managingOrganization":{"reference":"Organization/HOSP"}})")
                  .status,
              201);
    // The patient's GP writes their allergies: plain, sealed (R), sealed and locked (V).
    std::string gp1 = server_.Token("R8000", "GP1");
    Headers as_gp1 = {{"Authorization", "Bearer " + gp1}};
    ASSERT_EQ(Put("/fhir/AllergyIntolerance/a1", Allergy("a1", "9990000018", "91936005"), as_gp1).status, 201);
    ASSERT_EQ(Put("/fhir/AllergyIntolerance/a1s", Allergy("a1s", "9990000018", "111111", "R"), as_gp1).status, 201);
    ASSERT_EQ(Put("/fhir/AllergyIntolerance/a1v", Allergy("a1v", "9990000018", "222222", "V"), as_gp1).status, 201);
    Headers as_gp2 = {{"Authorization", "Bearer " + server_.Token("R8000", "GP2")}};
    ASSERT_EQ(Put("/fhir/AllergyIntolerance/a2", Allergy("a2", "9990000026", "91936005"), as_gp2).status, 201);
    ASSERT_EQ(Put("/fhir/AllergyIntolerance/a3", Allergy("a3", "9990000034", "91936005"), as_gp2).status, 201);
  }

  // Asserts that `expected` (a subset of a1, a1s, a1v) is exactly what the
  // caller sees of patient 9990000018's allergies, on every path.
  void ExpectSees(const std::string& label, const Headers& h, const std::set<std::string>& expected,
                  const std::set<std::string>& alerts = {}) {
    SCOPED_TRACE(label);
    auto search = Get("/fhir/AllergyIntolerance?patient=9990000018&_total=accurate", h);
    ASSERT_EQ(search.status, 200) << search.body;
    EXPECT_EQ(Ids(search, "AllergyIntolerance"), expected);
    EXPECT_EQ(Total(search), static_cast<int64_t>(expected.size()));
    // Its audit record names what was shown, whose it was, and the alerts.
    auto records = AuditRecords(server_.data_dir() + "/data");
    ASSERT_FALSE(records.empty());
    auto rec = json::parse(records.back()).as_object();
    EXPECT_EQ(rec.at("action").as_string(), "search");
    std::set<std::string> patients, shown, raised;
    if (auto* p = rec.if_contains("patients")) {
      for (const auto& v : p->as_array()) patients.insert(std::string(v.as_string()));
    }
    if (auto* r = rec.if_contains("resources")) {
      for (const auto& v : r->as_array()) {
        std::string ref(v.as_string());
        shown.insert(ref.substr(ref.find('/') + 1));
      }
    }
    if (auto* a = rec.if_contains("alerts")) {
      for (const auto& v : a->as_array()) raised.insert(std::string(v.as_string()));
    }
    EXPECT_EQ(shown, expected);
    EXPECT_EQ(patients, expected.empty() ? std::set<std::string>{}
                                         : std::set<std::string>{"9990000018"});
    EXPECT_EQ(raised, alerts);
    auto count = Get("/fhir/AllergyIntolerance?patient=9990000018&_summary=count", h);
    EXPECT_EQ(Total(count), static_cast<int64_t>(expected.size()));
    // A type-wide search (no patient named) sees no more of this patient.
    auto all = Get("/fhir/AllergyIntolerance?_count=100", h);
    std::set<std::string> of_p1;
    for (const auto& id : Ids(all, "AllergyIntolerance")) {
      if (id.rfind("a1", 0) == 0) of_p1.insert(id);
    }
    if (!(expected.size() > of_p1.size())) {
      // Break-glass and self-claimed access open only the patient a request
      // names, so a type-wide search may see less -- never more.
      EXPECT_EQ(of_p1, expected);
    }
    ExpectSystemSearchSees(h, of_p1, expected);
    for (const char* id : {"a1", "a1s", "a1v"}) {
      auto read = Get(std::string("/fhir/AllergyIntolerance/") + id, h);
      if (expected.count(id)) {
        EXPECT_EQ(read.status, 200) << id;
      } else {
        // Answered exactly like a resource that does not exist.
        auto missing = Get("/fhir/AllergyIntolerance/never-existed", h);
        EXPECT_EQ(read.status, 404) << id;
        EXPECT_EQ(OutcomeCode(read), OutcomeCode(missing)) << id;
        auto vread = Get(std::string("/fhir/AllergyIntolerance/") + id + "/_history/1", h);
        EXPECT_EQ(vread.status, 404) << id;
        auto hist = Get(std::string("/fhir/AllergyIntolerance/") + id + "/_history", h);
        EXPECT_EQ(hist.status, 404) << id;
      }
    }
    auto rev = Get("/fhir/Patient?_id=9990000018&_revinclude=AllergyIntolerance:patient", h);
    ASSERT_EQ(rev.status, 200);
    EXPECT_EQ(Ids(rev, "AllergyIntolerance"), expected);
    // No inference through search criteria: _has on the sealed item's code.
    auto has = Get("/fhir/Patient?_id=9990000018&_has:AllergyIntolerance:patient:code=111111", h);
    EXPECT_EQ(Ids(has, "Patient").size(), expected.count("a1s")) << has.body;
    auto has_v = Get("/fhir/Patient?_id=9990000018&_has:AllergyIntolerance:patient:code=222222&_total=accurate", h);
    EXPECT_EQ(Total(has_v), static_cast<int64_t>(expected.count("a1v")));
    auto chain = Get("/fhir/AllergyIntolerance?code=222222&patient.name=Test&_total=accurate", h);
    EXPECT_EQ(Total(chain), static_cast<int64_t>(expected.count("a1v")));
    auto everything = Get("/fhir/Patient/9990000018/$everything", h);
    if (everything.status == 200) {
      EXPECT_EQ(Ids(everything, "AllergyIntolerance"), expected);
    }
    auto history = Get("/fhir/AllergyIntolerance/_history?_count=100", h);
    std::set<std::string> hist_p1;
    for (const auto& id : Ids(history, "AllergyIntolerance")) {
      if (id.rfind("a1", 0) == 0) hist_p1.insert(id);
    }
    EXPECT_TRUE(std::includes(expected.begin(), expected.end(), hist_p1.begin(), hist_p1.end()));
  }

  // System-level search (GET /fhir?..., POST /fhir/_search) narrows exactly
  // as the type-level search does: `type_wide` is what the caller saw of
  // a1, a1s, a1v with no patient named, `named` what it saw naming the patient.
  void ExpectSystemSearchSees(const Headers& h, const std::set<std::string>& type_wide,
                              const std::set<std::string>& named) {
    auto of_p1 = [](const HttpResult& r) {
      std::set<std::string> out;
      for (const auto& id : Ids(r, "AllergyIntolerance")) {
        if (id.rfind("a1", 0) == 0) out.insert(id);
      }
      return out;
    };
    for (const char* q : {"/fhir?_type=AllergyIntolerance,Patient&_id=a1,a1s,a1v&_total=accurate",
                          "/fhir?_id=a1,a1s,a1v&_total=accurate"}) {
      auto sys = Get(q, h);
      ASSERT_EQ(sys.status, 200) << q << ": " << sys.body;
      EXPECT_EQ(of_p1(sys), type_wide) << q;
      EXPECT_EQ(Total(sys), static_cast<int64_t>(type_wide.size())) << q;
    }
    // Its audit record names exactly what was shown.
    auto records = AuditRecords(server_.data_dir() + "/data");
    ASSERT_FALSE(records.empty());
    auto rec = json::parse(records.back()).as_object();
    EXPECT_EQ(rec.at("action").as_string(), "search");
    std::set<std::string> shown;
    if (auto* r = rec.if_contains("resources")) {
      for (const auto& v : r->as_array()) shown.insert(std::string(v.as_string()));
    }
    std::set<std::string> want;
    for (const auto& id : type_wide) want.insert("AllergyIntolerance/" + id);
    EXPECT_EQ(shown, want);
    // Paged one by one: the same set, through the cursor.
    std::set<std::string> paged;
    std::string next = "/fhir?_id=a1,a1s,a1v&_count=1";
    for (int pages = 0; !next.empty() && pages < 10; ++pages) {
      auto page = Get(next, h);
      ASSERT_EQ(page.status, 200) << page.body;
      for (const auto& id : of_p1(page)) paged.insert(id);
      next.clear();
      auto body = page.Json();
      for (const auto& l : body.at("link").as_array()) {
        if (l.at("relation") == "next") {
          std::string url(l.at("url").as_string());
          next = url.substr(url.find("/fhir"));
        }
      }
    }
    EXPECT_EQ(paged, type_wide);
    // Included resources are filtered too; the patient named by _id opens
    // what break-glass or a self-claimed relationship may open.
    auto rev = client_->Send("POST", "/fhir/_search",
                             "_type=Patient&_id=9990000018&_revinclude=AllergyIntolerance:patient",
                             [&] {
                               Headers more = h;
                               more.emplace_back("Content-Type",
                                                 "application/x-www-form-urlencoded");
                               return more;
                             }());
    ASSERT_EQ(rev.status, 200) << rev.body;
    EXPECT_EQ(Ids(rev, "AllergyIntolerance"), named);
    auto inc = Get("/fhir?_type=AllergyIntolerance&_id=a1,a1s,a1v&_include=AllergyIntolerance:patient", h);
    ASSERT_EQ(inc.status, 200) << inc.body;
    EXPECT_EQ(of_p1(inc), type_wide);
  }

  Headers As(const std::string& token, Headers more = {}) {
    more.emplace_back("Authorization", "Bearer " + token);
    return more;
  }
};

const std::pair<std::string, std::string> kPtv{"X-Permission-To-View", "granted"};
const std::pair<std::string, std::string> kEmergency{"X-Purpose-Of-Use", "ETREAT"};
const std::pair<std::string, std::string> kReason{"X-Access-Justification", "unconscious in resus"};
const std::pair<std::string, std::string> kSelfClaim{"X-Legitimate-Relationship", "self-claimed"};

TEST_F(AccessTest, TheDecisionIsTheSameOnEveryPath) {
  std::string gp1 = server_.Token("R8000", "GP1"), gp2 = server_.Token("R8000", "GP2");
  std::string ae = server_.Token("R8000", "HOSP");
  std::string ae_sealed = server_.Token("R8000", "HOSP", "", {"B0168", "B0083"});
  std::string pharmacist = server_.Token("R8003", "PHARM1");
  std::string clerk = server_.Token("R8008", "GP1");
  std::string patient = server_.Token("patient", "", "9990000018");
  std::string other_patient = server_.Token("patient", "", "9990000026");
  std::string system = server_.SystemToken();

  ExpectSees("registered GP, permission to view", As(gp1, {kPtv}), {"a1", "a1s", "a1v"});
  ExpectSees("registered GP, no permission to view", As(gp1), {});
  ExpectSees("GP elsewhere, no relationship", As(gp2, {kPtv}), {});
  ExpectSees("GP elsewhere, self-claimed relationship", As(gp2, {kPtv, kSelfClaim, kReason}), {"a1"},
             {"self-claimed"});
  ExpectSees("A&E break-glass", As(ae, {kEmergency, kReason}), {"a1"}, {"break-glass"});
  ExpectSees("A&E break-glass with sealed-data access", As(ae_sealed, {kEmergency, kReason}),
             {"a1", "a1s"}, {"break-glass", "sealed-access"});
  ExpectSees("pharmacist, no relationship", As(pharmacist, {kPtv}), {});
  ExpectSees("admin clerk at the practice", As(clerk, {kPtv}), {});
  ExpectSees("the patient", As(patient), {"a1"});
  ExpectSees("another patient", As(other_patient), {});
  ExpectSees("backend service", As(system), {"a1"});
}

// Counts for callers who may see any patient are taken from the index
// alone, less the labelled matches they may not see: sealed and locked
// items count only for their author's organisation.
TEST_F(AccessTest, CountsLeaveOutWhatTheCallerMayNotSee) {
  ASSERT_EQ(Put("/fhir/AllergyIntolerance/a4s", Allergy("a4s", "9990000026", "91936005", "R"),
                {{"Authorization", "Bearer " + server_.Token("R8000", "GP2")}})
                .status,
            201);
  auto count = [&](const std::string& org, const std::string& query) {
    Headers h = {{"Authorization", "Bearer " + server_.Token("system", org, "", {}, {"system/*.cruds"})}};
    auto r = Get(query + (query.find('?') == std::string::npos ? "?" : "&") + "_summary=count", h);
    EXPECT_EQ(r.status, 200) << r.body;
    auto page = Get(query + (query.find('?') == std::string::npos ? "?" : "&") + "_total=accurate&_count=100", h);
    EXPECT_EQ(Total(page), static_cast<int64_t>(Ids(page, "AllergyIntolerance").size())) << query;
    return Total(r);
  };
  const std::string plain = "/fhir/AllergyIntolerance?code=http://snomed.info/sct|91936005";
  EXPECT_EQ(count("TEST", plain), 3);  // a1 a2 a3, not GP2's sealed a4s
  EXPECT_EQ(count("GP2", plain), 4);
  EXPECT_EQ(count("GP1", plain), 3);
  EXPECT_EQ(count("TEST", "/fhir/AllergyIntolerance?code=91936005"), 3);
  EXPECT_EQ(count("TEST", "/fhir/AllergyIntolerance?code=http://snomed.info/sct|111111"), 0);
  EXPECT_EQ(count("GP1", "/fhir/AllergyIntolerance?code=http://snomed.info/sct|111111"), 1);
  EXPECT_EQ(count("GP1", "/fhir/AllergyIntolerance?code=http://snomed.info/sct|222222"), 1);
  EXPECT_EQ(count("GP2", "/fhir/AllergyIntolerance?code=http://snomed.info/sct|222222"), 0);
  EXPECT_EQ(count("TEST", "/fhir/AllergyIntolerance"), 3);
  EXPECT_EQ(count("GP1", "/fhir/AllergyIntolerance"), 5);
  // A bare code of a parameter with an implicit system (gender).
  EXPECT_EQ(count("TEST", "/fhir/Patient?gender=unknown"), 0);
}

TEST_F(AccessTest, RelationshipsComeFromRecordsOnFile) {
  std::string hosp = server_.Token("R8000", "HOSP"), gp1 = server_.Token("R8000", "GP1");
  auto by_episode = Get("/fhir/AllergyIntolerance?patient=9990000034", As(hosp, {kPtv}));
  EXPECT_EQ(Ids(by_episode, "AllergyIntolerance"), std::set<std::string>{"a3"});
  auto unrelated = Get("/fhir/AllergyIntolerance?patient=9990000034", As(gp1, {kPtv}));
  EXPECT_TRUE(Ids(unrelated, "AllergyIntolerance").empty());
  // The episode ends: the relationship goes with it.
  ASSERT_EQ(Put("/fhir/EpisodeOfCare/ep1",
                R"({"resourceType":"EpisodeOfCare","id":"ep1","status":"finished",)"
                R"("patient":{"reference":"Patient/9990000034"},)"
                R"("managingOrganization":{"reference":"Organization/HOSP"}})")
                .status,
            200);
  auto ended = Get("/fhir/AllergyIntolerance?patient=9990000034", As(hosp, {kPtv}));
  EXPECT_TRUE(Ids(ended, "AllergyIntolerance").empty());
  // Demographics (trace) need no relationship.
  EXPECT_EQ(Get("/fhir/Patient/9990000034", As(gp1)).status, 200);
  EXPECT_EQ(Get("/fhir/Patient/9990000034", As(server_.Token("R8008", "GP1"))).status, 200);
}

TEST_F(AccessTest, AnActiveReferralIsARelationship) {
  std::string clinic = server_.Token("R8000", "CLINIC");
  auto before = Get("/fhir/AllergyIntolerance?patient=9990000026", As(clinic, {kPtv}));
  EXPECT_TRUE(Ids(before, "AllergyIntolerance").empty());
  ASSERT_EQ(Put("/fhir/ServiceRequest/ref1",
                R"({"resourceType":"ServiceRequest","id":"ref1","status":"active","intent":"order",)"
                R"("subject":{"reference":"Patient/9990000026"},)"
                R"("performer":[{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"CLINIC"}}]})")
                .status,
            201);
  auto after = Get("/fhir/AllergyIntolerance?patient=9990000026", As(clinic, {kPtv}));
  EXPECT_EQ(Ids(after, "AllergyIntolerance"), std::set<std::string>{"a2"});
  // Not the referred patient's neighbours.
  EXPECT_EQ(Get("/fhir/AllergyIntolerance/a1", As(clinic, {kPtv})).status, 404);
}

TEST_F(AccessTest, RequestHeadersAreChecked) {
  std::string clerk = server_.Token("R8008", "GP1"), ae = server_.Token("R8000", "HOSP");
  auto no_reason = Get("/fhir/AllergyIntolerance/a1", As(ae, {kEmergency}));
  EXPECT_EQ(no_reason.status, 400);
  auto clerk_bg = Get("/fhir/AllergyIntolerance/a1", As(clerk, {kEmergency, kReason}));
  EXPECT_EQ(clerk_bg.status, 403);
  auto bad_purpose = Get("/fhir/AllergyIntolerance/a1", As(ae, {{"X-Purpose-Of-Use", "SNOOP"}}));
  EXPECT_EQ(bad_purpose.status, 400);
  auto claim_no_reason = Get("/fhir/AllergyIntolerance/a1", As(ae, {kSelfClaim}));
  EXPECT_EQ(claim_no_reason.status, 400);
  // Break-glass opens the record a request names, not every record.
  auto bg_read = Get("/fhir/AllergyIntolerance/a1", As(ae, {kEmergency, kReason}));
  EXPECT_EQ(bg_read.status, 200);
  auto bg_wide = Get("/fhir/AllergyIntolerance?code=91936005", As(ae, {kEmergency, kReason}));
  EXPECT_EQ(Ids(bg_wide, "AllergyIntolerance"), std::set<std::string>{"a3"})  // HOSP's own episode
      << bg_wide.body;
}

TEST_F(AccessTest, TokensAreRequiredAndVerified) {
  EXPECT_EQ(Get("/fhir/Patient/9990000018", {{"Authorization", ""}}).status, 401);
  EXPECT_EQ(Get("/fhir/Patient/9990000018", {{"Authorization", "Bearer nonsense"}}).status, 401);
  std::string t = server_.Token("R8000", "GP1");
  std::string tampered = t;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Get("/fhir/Patient/9990000018", As(tampered)).status, 401);
  auto r = Get("/fhir/Patient/9990000018", {{"Authorization", "Basic dXNlcjpwYXNz"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(OutcomeCode(r), "login");
  EXPECT_EQ(Get("/fhir/metadata", {{"Authorization", ""}}).status, 200);
  // A token from another node's key is not trusted here.
  ServerProcess other;
  ASSERT_TRUE(other.Start());
  EXPECT_EQ(Get("/fhir/Patient/9990000018", As(other.SystemToken())).status, 401);
}

TEST_F(AccessTest, WritesNeedTheRightRoleAndRelationship) {
  std::string gp2 = server_.Token("R8000", "GP2"), clerk = server_.Token("R8008", "GP1");
  std::string patient = server_.Token("patient", "", "9990000018");
  // No relationship: cannot write into the patient's record, nor change what
  // it cannot see (answered as absent).
  EXPECT_EQ(Put("/fhir/AllergyIntolerance/x1", Allergy("x1", "9990000018", "1"), As(gp2)).status, 403);
  EXPECT_EQ(Put("/fhir/AllergyIntolerance/a1", Allergy("a1", "9990000018", "1"), As(gp2)).status, 404);
  EXPECT_EQ(client_->Send("DELETE", "/fhir/AllergyIntolerance/a1", "", As(gp2)).status, 404);
  // The clerk may amend demographics but not clinical records.
  EXPECT_EQ(Put("/fhir/AllergyIntolerance/x2", Allergy("x2", "9990000026", "1"), As(clerk)).status, 403);
  EXPECT_EQ(Put("/fhir/Patient/9990000042", PatientJson("9990000042", "GP1"), As(clerk)).status, 201);
  // A patient records their own consent, nobody else's, and nothing else.
  std::string consent = R"({"resourceType":"Consent","status":"active",)"
                        R"("scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},)"
                        R"("category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],)"
                        R"("patient":{"reference":"Patient/PID"},)"
                        R"("policyRule":{"coding":[{"code":"urn:opencrs:consent:ndop"}]},)"
                        R"("provision":{"type":"deny"}})";
  auto own = consent;
  own.replace(own.find("PID"), 3, "9990000018");
  auto other = consent;
  other.replace(other.find("PID"), 3, "9990000026");
  EXPECT_EQ(Post("/fhir/Consent", own, As(patient)).status, 201);
  EXPECT_EQ(Post("/fhir/Consent", other, As(patient)).status, 403);
  EXPECT_EQ(Put("/fhir/AllergyIntolerance/x3", Allergy("x3", "9990000018", "1"), As(patient)).status, 403);
  // A transaction is all or nothing, entry by entry under the same rules.
  std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[)"
                   R"({"resource":)" + Allergy("t1", "9990000026", "1") +
                   R"(,"request":{"method":"PUT","url":"AllergyIntolerance/t1"}},)"
                   R"({"resource":)" + Allergy("t2", "9990000018", "1") +
                   R"(,"request":{"method":"PUT","url":"AllergyIntolerance/t2"}}]})";
  EXPECT_EQ(Post("/fhir", tx, As(gp2)).status, 403);
  EXPECT_EQ(Get("/fhir/AllergyIntolerance/t1").status, 404);
}

TEST_F(AccessTest, DissentWithholdsTheSummary) {
  std::string patient = server_.Token("patient", "", "9990000018");
  std::string gp1 = server_.Token("R8000", "GP1");
  auto dissent = [](const std::string& type, const std::string& date) {
    return R"({"resourceType":"Consent","status":"active","dateTime":")" + date + R"(",)"
           R"("scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},)"
           R"("category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],)"
           R"("patient":{"reference":"Patient/9990000018"},)"
           R"("policyRule":{"coding":[{"code":"urn:opencrs:consent:scr"}]},)"
           R"("provision":{"type":")" + type + R"("}})";
  };
  ASSERT_EQ(Post("/fhir/Consent", dissent("deny", "2026-01-01T00:00:00Z"), As(patient)).status, 201);
  // Purged, not hidden: gone for every caller, history included.
  for (const char* id : {"a1", "a1s", "a1v"}) {
    EXPECT_EQ(Get(std::string("/fhir/AllergyIntolerance/") + id).status, 404) << id;
    EXPECT_EQ(Get(std::string("/fhir/AllergyIntolerance/") + id + "/_history/1").status, 404) << id;
  }
  auto hist = Get("/fhir/AllergyIntolerance/_history?_count=100");
  EXPECT_EQ(Ids(hist, "AllergyIntolerance").count("a1"), 0u);
  // Other patients' summaries are untouched.
  EXPECT_EQ(Get("/fhir/AllergyIntolerance/a2").status, 200);
  // Further uploads are refused with a clear outcome.
  auto refused = Put("/fhir/AllergyIntolerance/n1", Allergy("n1", "9990000018", "1"), As(gp1));
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("dissented"), std::string::npos) << refused.body;
  // Consent given again: summary uploads are accepted again.
  ASSERT_EQ(Post("/fhir/Consent", dissent("permit", "2026-02-01T00:00:00Z"), As(patient)).status, 201);
  EXPECT_EQ(Put("/fhir/AllergyIntolerance/n1", Allergy("n1", "9990000018", "1"), As(gp1)).status, 201);
}

}  // namespace
}  // namespace crs::e2e

namespace crs::e2e {
namespace {

// Explicit consent: the national record holds a summary only with a permit.
class ExplicitConsentTest : public ServerTest {
  std::vector<std::string> ExtraArgs() const override { return {"--consent-model", "explicit"}; }
};

TEST_F(ExplicitConsentTest, NoSummaryWithoutAPermit) {
  ASSERT_EQ(Put("/fhir/Organization/GP1", Org("GP1")).status, 201);
  ASSERT_EQ(Put("/fhir/Patient/9990000018", PatientJson("9990000018", "GP1")).status, 201);
  Headers gp = {{"Authorization", "Bearer " + server_.Token("R8000", "GP1")}};
  auto refused = Put("/fhir/AllergyIntolerance/e1", Allergy("e1", "9990000018", "1"), gp);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("not consented"), std::string::npos) << refused.body;
  Headers me = {{"Authorization", "Bearer " + server_.Token("patient", "", "9990000018")}};
  ASSERT_EQ(Post("/fhir/Consent",
                 R"({"resourceType":"Consent","status":"active",)"
                 R"("scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},)"
                 R"("category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],)"
                 R"("patient":{"reference":"Patient/9990000018"},)"
                 R"("policy":[{"uri":"urn:opencrs:consent:scr"}],"provision":{"type":"permit"}})",
                 me)
                .status,
            201);
  EXPECT_EQ(Put("/fhir/AllergyIntolerance/e1", Allergy("e1", "9990000018", "1"), gp).status, 201);
  // Demographics are not part of the summary: always held.
  EXPECT_EQ(Put("/fhir/Patient/9990000026", PatientJson("9990000026", "GP1"), gp).status, 201);
}

}  // namespace
}  // namespace crs::e2e
