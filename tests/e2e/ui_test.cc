// The server side of the web UI (docs/ui.md): its files are served with a
// strict Content-Security-Policy and never from outside the UI directory;
// the demo sign-in exists only in demo mode; a patient reports an access
// they do not recognise and the accessing organisation's privacy officer
// gets the alert, reviews it with an outcome and checks the audit chain.
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "e2e/fixture.h"

namespace crs::e2e {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using Headers = std::vector<std::pair<std::string, std::string>>;

void WriteText(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

// A server whose UI directory holds a page, a script, a stylesheet, a hidden
// file and a symbolic link out of it; a secret lies next to the directory.
class UiFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ui_ = server_.data_dir() + "/ui";
    WriteText(ui_ + "/index.html", "<!doctype html><title>OpenCRS</title>");
    WriteText(ui_ + "/app.js", "console.log(1)");
    WriteText(ui_ + "/assets/app.css", "body{}");
    WriteText(ui_ + "/.env", "hidden");
    WriteText(server_.data_dir() + "/secret.txt", "TOP-SECRET");
    fs::create_symlink(server_.data_dir() + "/secret.txt", ui_ + "/link.txt");
    ASSERT_TRUE(server_.Start({"--ui", ui_}));
    client_ = std::make_unique<Client>(server_.port(), "");
  }
  ServerProcess server_;
  std::string ui_;
  std::unique_ptr<Client> client_;
};

void ExpectSecurityHeaders(const HttpResult& r) {
  std::string csp = r.Header("content-security-policy");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("http"), std::string::npos) << "no third-party origin: " << csp;
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.Header("referrer-policy"), "no-referrer");
}

TEST_F(UiFilesTest, FilesAreServedWithTheirTypeAndSecurityHeaders) {
  struct Case {
    const char* path;
    const char* type;
    const char* body;
  };
  for (const Case& c : {Case{"/", "text/html; charset=utf-8", "<title>OpenCRS</title>"},
                        Case{"/index.html", "text/html; charset=utf-8", "<title>OpenCRS"},
                        Case{"/app.js", "text/javascript; charset=utf-8", "console.log(1)"},
                        Case{"/assets/app.css", "text/css; charset=utf-8", "body{}"}}) {
    auto r = client_->Send("GET", c.path);
    EXPECT_EQ(r.status, 200) << c.path;
    EXPECT_EQ(r.Header("content-type"), c.type) << c.path;
    EXPECT_NE(r.body.find(c.body), std::string::npos) << c.path;
    ExpectSecurityHeaders(r);
  }
  auto missing = client_->Send("GET", "/nothing.js");
  EXPECT_EQ(missing.status, 404);
  ExpectSecurityHeaders(missing);
  // The FHIR API is untouched by the UI.
  EXPECT_EQ(client_->Send("GET", "/fhir/metadata").status, 200);
  EXPECT_EQ(client_->Send("GET", "/healthz").status, 200);
}

TEST_F(UiFilesTest, NothingOutsideTheUiDirectoryIsServed) {
  for (const char* path :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/assets/../../secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt", "/link.txt", "/.env", "/assets/", "//secret.txt",
        "/%5c..%5csecret.txt", "/%2fetc/passwd", "/assets/app.css%00.js"}) {
    auto r = client_->Send("GET", path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body.find("TOP-SECRET"), std::string::npos) << path;
    EXPECT_EQ(r.body.find("hidden"), std::string::npos) << path;
    EXPECT_EQ(r.Header("content-type").rfind("application/fhir+json", 0), 0u) << path;
  }
  // The UI is read-only.
  EXPECT_EQ(client_->Send("POST", "/index.html", "x").status, 404);
  EXPECT_EQ(client_->Send("PUT", "/index.html", "x").status, 404);
}

// ---------------------------------------------------------------------------

TEST(DemoSignInTest, ExistsOnlyInDemoMode) {
  ServerProcess plain;
  ASSERT_TRUE(plain.Start());
  Client c(plain.port(), "");
  EXPECT_EQ(c.Send("GET", "/demo/users").status, 404);
  auto refused = c.Send("POST", "/demo/token", R"({"user":"demo-gp"})",
                        {{"Content-Type", "application/json"}});
  EXPECT_EQ(refused.status, 404);
  EXPECT_EQ(refused.body.find("eyJ"), std::string::npos) << "a token outside demo mode";
}

TEST(DemoSignInTest, ListsTheDemoUsersAndIssuesTheirTokens) {
  ServerProcess demo;
  ASSERT_TRUE(demo.Start({"--demo"}));
  Client c(demo.port(), "");
  auto users = c.Send("GET", "/demo/users");
  ASSERT_EQ(users.status, 200) << users.body;
  ExpectSecurityHeaders(users);
  json::value users_json = users.Json();
  const auto& list = users_json.at("users").as_array();
  ASSERT_EQ(list.size(), 6u);
  std::set<std::string> roles;
  for (const auto& u : list) roles.insert(std::string(u.at("role").as_string()));
  EXPECT_EQ(roles, (std::set<std::string>{"R8000", "R8003", "R8008", "R0001", "patient"}));
  EXPECT_EQ(users.body.find("eyJ"), std::string::npos) << "the list carries no tokens";

  auto issued = c.Send("POST", "/demo/token", R"({"user":"demo-gp"})",
                       {{"Content-Type", "application/json"}});
  ASSERT_EQ(issued.status, 200) << issued.body;
  EXPECT_EQ(issued.Header("cache-control"), "no-store");
  std::string token(issued.Json().at("token").as_string());
  EXPECT_EQ(issued.Json().at("user").at("org"), "Y12345");
  // The token is a real one: the GP of practice Y12345 reads its patient.
  auto read = c.Send("GET", "/fhir/Patient/9990000018", "", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(read.status, 200) << read.body;
  // Patient data is never stored by a browser or proxy cache: a cached read
  // would be a read the audit log never saw.
  EXPECT_EQ(read.Header("cache-control"), "no-store");

  auto unknown =
      c.Send("POST", "/demo/token", R"({"user":"root"})", {{"Content-Type", "application/json"}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.Json().at("resourceType"), "OperationOutcome");
  EXPECT_EQ(c.Send("POST", "/demo/token", "{not json").status, 400);
  EXPECT_EQ(c.Send("POST", "/demo/token", R"({"user":7})").status, 400);
  EXPECT_EQ(c.Send("GET", "/demo/token").status, 405);
}

TEST(DemoSignInTest, IssuingATokenIsAudited) {
  ServerProcess demo;
  ASSERT_TRUE(demo.Start({"--demo"}));
  Client c(demo.port(), "");
  std::string data = demo.data_dir() + "/data";
  size_t before = AuditRecords(data).size();
  ASSERT_EQ(c.Send("GET", "/demo/users").status, 200);
  ASSERT_EQ(c.Send("POST", "/demo/token", R"({"user":"demo-privacy"})",
                   {{"Content-Type", "application/json"}}).status,
            200);
  ASSERT_EQ(c.Send("POST", "/demo/token", R"({"user":"demo-patient"})",
                   {{"Content-Type", "application/json"}}).status,
            200);
  ASSERT_EQ(c.Send("POST", "/demo/token", R"({"user":"root"})",
                   {{"Content-Type", "application/json"}}).status,
            404);
  // The answers were sent once their records were durable: one record per
  // token request (the list of users is not one).
  auto records = AuditRecords(data);
  ASSERT_EQ(records.size(), before + 3);
  json::value officer = json::parse(records[before]);
  EXPECT_EQ(officer.at("action"), "demo-token");
  EXPECT_EQ(officer.at("user"), "demo-privacy");
  EXPECT_EQ(officer.at("user_name"), "Lee Morgan");
  EXPECT_EQ(officer.at("role"), "R0001");
  EXPECT_EQ(officer.at("org"), "RXX01");
  EXPECT_EQ(officer.at("method"), "POST");
  EXPECT_EQ(officer.at("status").as_int64(), 200);
  EXPECT_EQ(officer.at("outcome"), "allowed");
  EXPECT_FALSE(officer.as_object().contains("purpose")) << records[before];
  EXPECT_FALSE(officer.as_object().contains("patients")) << records[before];
  // A patient's token: who and their role, never their NHS number.
  json::value patient = json::parse(records[before + 1]);
  EXPECT_EQ(patient.at("user"), "demo-patient");
  EXPECT_EQ(patient.at("role"), "patient");
  EXPECT_EQ(records[before + 1].find("9990000018"), std::string::npos) << records[before + 1];
  json::value refused = json::parse(records[before + 2]);
  EXPECT_EQ(refused.at("action"), "demo-token");
  EXPECT_FALSE(refused.as_object().contains("user")) << records[before + 2];
  EXPECT_EQ(refused.at("outcome"), "error");
  // The chain still verifies with them in it.
  ASSERT_EQ(demo.Stop(SIGTERM), 0);
  std::string out;
  EXPECT_EQ(RunCrs({"audit", "verify", "--data", data}, &out), 0) << out;
}

// ---------------------------------------------------------------------------

const char* kPatient =
    R"({"resourceType":"Patient","id":"9990000018","name":[{"family":"Report"}],)"
    R"("generalPractitioner":[{"reference":"Organization/GP1"}]})";
const char* kAllergy =
    R"({"resourceType":"AllergyIntolerance","id":"al1","code":{"text":"penicillin"},)"
    R"("patient":{"reference":"Patient/9990000018"}})";

// The detail `type` values of an AuditEvent's first entity, as "type=value".
std::set<std::string> Details(const json::value& event) {
  std::set<std::string> out;
  for (const auto& e : event.at("entity").as_array()) {
    const auto* d = e.as_object().if_contains("detail");
    if (!d) continue;
    for (const auto& item : d->as_array()) {
      out.insert(std::string(item.at("type").as_string()) + "=" +
                 std::string(item.at("valueString").as_string()));
    }
  }
  return out;
}

class ReportTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_EQ(Put("/fhir/Organization/GP1", R"({"resourceType":"Organization","id":"GP1"})").status,
              201);
    ASSERT_EQ(Put("/fhir/Patient/9990000018", kPatient).status, 201);
    ASSERT_EQ(Put("/fhir/Patient/9990000026",
                  R"({"resourceType":"Patient","id":"9990000026","name":[{"family":"Other"}]})")
                  .status,
              201);
    ASSERT_EQ(Put("/fhir/AllergyIntolerance/al1", kAllergy).status, 201);
    // An A&E doctor at HOSP breaks the glass.
    Headers bg = {
        {"Authorization", "Bearer " + server_.Token("R8000", "HOSP", "", {}, {}, "dr-ae")},
        {"X-Purpose-Of-Use", "ETREAT"},
        {"X-Access-Justification", "unconscious in resus"}};
    ASSERT_EQ(Get("/fhir/AllergyIntolerance/al1", bg).status, 200);
    me_ = {{"Authorization", "Bearer " + server_.Token("patient", "", "9990000018")}};
    auto log = Get("/fhir/AuditEvent?patient=9990000018", me_);
    ASSERT_EQ(log.status, 200) << log.body;
    json::value log_json = log.Json();
    for (const auto& e : log_json.at("entry").as_array()) {
      if (json::serialize(e).find("dr-ae") != std::string::npos) {
        access_seq_ = std::string(e.at("resource").at("id").as_string());
      }
      if (json::serialize(e).find("dataprocessor") != std::string::npos) saw_system_ = true;
    }
    ASSERT_FALSE(access_seq_.empty()) << log.body;
  }
  Headers Officer(const char* org) {
    return {{"Authorization", "Bearer " + server_.Token("R0001", org)}};
  }
  Headers me_;
  std::string access_seq_;
  bool saw_system_ = false;
};

TEST_F(ReportTest, APatientsLogShowsAutomatedAccessApartFromPeople) {
  EXPECT_TRUE(saw_system_) << "the system token's writes are labelled as a data processor";
  auto event = Get("/fhir/AuditEvent/" + access_seq_, me_).Json();
  EXPECT_EQ(event.at("agent").at(0).at("type").at("coding").at(0).at("code"), "humanuser");
}

TEST_F(ReportTest, AReportedAccessAlertsTheAccessingOrganisationsPrivacyOfficer) {
  std::string body =
      R"({"resourceType":"Parameters","parameter":[{"name":"note","valueString":"I was not in hospital"}]})";
  auto reported = Post("/fhir/AuditEvent/" + access_seq_ + "/$report", body, me_);
  ASSERT_EQ(reported.status, 200) << reported.body;
  EXPECT_NE(reported.body.find("HOSP"), std::string::npos);

  // The patient's log shows the report, tied to the row.
  json::value log = Get("/fhir/AuditEvent?patient=9990000018", me_).Json();
  std::string latest = json::serialize(log.at("entry").at(0));
  EXPECT_NE(latest.find("patient-report"), std::string::npos) << latest;
  EXPECT_TRUE(Details(log.at("entry").at(0).at("resource")).count("reports=" + access_seq_));

  // HOSP's officer sees it beside the break-glass alert; GP1's does not.
  auto alerts = Get("/fhir/AuditEvent?alert=true&reviewed=false", Officer("HOSP"));
  ASSERT_EQ(alerts.status, 200);
  std::string report_seq;
  json::value alerts_json = alerts.Json();
  for (const auto& e : alerts_json.at("entry").as_array()) {
    auto details = Details(e.at("resource"));
    if (details.count("alert=patient-reported")) {
      report_seq = std::string(e.at("resource").at("id").as_string());
      EXPECT_TRUE(details.count("reports=" + access_seq_));
      EXPECT_TRUE(details.count("note=I was not in hospital"));
    }
  }
  ASSERT_FALSE(report_seq.empty()) << alerts.body;
  auto elsewhere = Get("/fhir/AuditEvent?alert=true", Officer("GP1"));
  EXPECT_EQ(elsewhere.body.find("patient-reported"), std::string::npos) << elsewhere.body;

  // The officer closes it with an outcome; the list points at the review.
  std::string review =
      R"({"resourceType":"Parameters","parameter":[{"name":"outcome","valueCode":"inappropriate"},)"
      R"({"name":"note","valueString":"raised with the clinician"}]})";
  EXPECT_EQ(Post("/fhir/AuditEvent/" + report_seq + "/$review", review, Officer("GP1")).status,
            404);
  ASSERT_EQ(Post("/fhir/AuditEvent/" + report_seq + "/$review", review, Officer("HOSP")).status,
            200);
  auto all = Get("/fhir/AuditEvent?alert=true", Officer("HOSP"));
  std::string location;
  json::value all_json = all.Json();
  for (const auto& e : all_json.at("entry").as_array()) {
    if (e.at("resource").at("id") == report_seq.c_str()) {
      EXPECT_EQ(e.at("response").at("status"), "reviewed");
      location = std::string(e.at("response").at("location").as_string());
    }
  }
  ASSERT_FALSE(location.empty()) << all.body;
  auto outcome = Get("/fhir/" + location, Officer("HOSP"));
  ASSERT_EQ(outcome.status, 200);
  auto details = Details(outcome.Json());
  EXPECT_TRUE(details.count("review-outcome=inappropriate")) << outcome.body;
  EXPECT_TRUE(details.count("note=raised with the clinician")) << outcome.body;
}

TEST_F(ReportTest, OnlyThePatientReportsAndOnlyAnotherOrganisationsAccess) {
  std::string path = "/fhir/AuditEvent/" + access_seq_ + "/$report";
  Headers other = {{"Authorization", "Bearer " + server_.Token("patient", "", "9990000026")}};
  EXPECT_EQ(Post(path, "", other).status, 404)
      << "another patient's access does not exist for them";
  Headers gp = {{"Authorization", "Bearer " + server_.Token("R8000", "GP1")}};
  EXPECT_EQ(Post(path, "", gp).status, 403);
  EXPECT_EQ(Post(path, "", Officer("HOSP")).status, 404);
  EXPECT_EQ(Post("/fhir/AuditEvent/999999/$report", "", me_).status, 404);
  EXPECT_EQ(Post("/fhir/AuditEvent/abc/$report", "", me_).status, 404);
  EXPECT_EQ(Get(path, me_).status, 405);
  std::string too_long =
      R"({"resourceType":"Parameters","parameter":[{"name":"note","valueString":")" +
      std::string(1001, 'x') + R"("}]})";
  EXPECT_EQ(Post(path, too_long, me_).status, 400);
  EXPECT_EQ(Post(path, R"({"resourceType":"Patient"})", me_).status, 400);
  // The patient's own reading of their log is not someone else's access.
  auto log = Get("/fhir/AuditEvent?patient=9990000018", me_);
  std::string own = std::string(log.Json().at("entry").at(0).at("resource").at("id").as_string());
  auto refused = Post("/fhir/AuditEvent/" + own + "/$report", "", me_);
  EXPECT_EQ(refused.status, 400) << refused.body;
  // No alert came of any of these.
  auto alerts = Get("/fhir/AuditEvent?alert=true", Officer("HOSP"));
  EXPECT_EQ(alerts.body.find("patient-reported"), std::string::npos);
}

TEST_F(ReportTest, AReviewOutcomeMustBeOneOfTheKnownOnes) {
  auto alerts = Get("/fhir/AuditEvent?alert=true", Officer("HOSP"));
  std::string seq(alerts.Json().at("entry").at(0).at("resource").at("id").as_string());
  std::string bad =
      R"({"resourceType":"Parameters","parameter":[{"name":"outcome","valueCode":"whatever"}]})";
  auto refused = Post("/fhir/AuditEvent/" + seq + "/$review", bad, Officer("HOSP"));
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(OutcomeCode(refused), "invalid");
  EXPECT_EQ(Post("/fhir/AuditEvent/" + seq + "/$review", "[1]", Officer("HOSP")).status, 400);
  // Nothing was reviewed by the refusals.
  auto open = Get("/fhir/AuditEvent?alert=true&reviewed=false", Officer("HOSP"));
  EXPECT_NE(open.body.find(seq), std::string::npos);
}

TEST_F(ReportTest, SearchesByPatientCanCarryTheirCriteriaInTheBody) {
  Headers form = me_;
  form.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  auto posted = Post("/fhir/AuditEvent/_search", "patient=9990000018&_count=100", form);
  ASSERT_EQ(posted.status, 200) << posted.body;
  EXPECT_NE(posted.body.find("dr-ae"), std::string::npos);
  EXPECT_EQ(posted.body.find("9990000026"), std::string::npos);
  EXPECT_EQ(Post("/fhir/AuditEvent/_search", "patient=9990000026", form).status, 403);
  Headers json_body = me_;
  json_body.emplace_back("Content-Type", "application/fhir+json");
  EXPECT_EQ(Post("/fhir/AuditEvent/_search", "{}", json_body).status, 415);
  Headers officer = Officer("HOSP");
  officer.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  auto alerts = Post("/fhir/AuditEvent/_search", "alert=true&reviewed=false", officer);
  ASSERT_EQ(alerts.status, 200);
  EXPECT_NE(alerts.body.find("break-glass"), std::string::npos);
  // The Summary Care Record index lookup too.
  auto index = Post("/fhir/DocumentReference/_search", "patient=9990000018", form);
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_NE(index.body.find("urn:opencrs:scr-consent"), std::string::npos) << index.body;
}

TEST_F(ReportTest, PrivacyOfficersSeeTheAuditChainsVerificationStatus) {
  auto status = Get("/fhir/AuditEvent/$verify", Officer("HOSP"));
  ASSERT_EQ(status.status, 200) << status.body;
  std::map<std::string, json::value> params;
  json::value status_json = status.Json();
  for (const auto& p : status_json.at("parameter").as_array()) {
    for (const auto& [k, v] : p.as_object()) {
      if (k != "name") params[std::string(p.at("name").as_string())] = v;
    }
  }
  EXPECT_EQ(params["intact"], true) << status.body;
  EXPECT_GE(params["records"].to_number<int64_t>(), 6);
  EXPECT_EQ(Get("/fhir/AuditEvent/$verify", me_).status, 403);
  EXPECT_EQ(Get("/fhir/AuditEvent/$verify",
                {{"Authorization", "Bearer " + server_.Token("R8000", "GP1")}})
                .status,
            403);
  EXPECT_EQ(Post("/fhir/AuditEvent/$verify", "", Officer("HOSP")).status, 405);
}

TEST_F(ReportTest, AChainThatDoesNotVerifySaysWhereItBreaks) {
  ASSERT_EQ(server_.Stop(SIGTERM), 0);
  // Someone with access to the database rewrites record 3 (the verdict
  // below shows the rewrite landed: record 3 is where the chain breaks).
  ASSERT_TRUE(AuditLogExec(
      server_.data_dir() + "/data",
      "UPDATE audit SET record = CAST(replace(CAST(record AS TEXT), "
      "'\"outcome\":\"allowed\"', '\"outcome\":\"denied\"') AS BLOB) WHERE seq = 3",
      "UPDATE audit SET record = convert_to(replace(convert_from(record, 'UTF8'), "
      "'\"outcome\":\"allowed\"', '\"outcome\":\"denied\"'), 'UTF8') WHERE seq = 3"));
  ASSERT_TRUE(server_.Start());
  Client c(server_.port(), "");
  auto status = c.Send("GET", "/fhir/AuditEvent/$verify", "", Officer("HOSP"));
  ASSERT_EQ(status.status, 200) << status.body;
  std::map<std::string, json::value> params;
  json::value status_json = status.Json();
  for (const auto& p : status_json.at("parameter").as_array()) {
    for (const auto& [k, v] : p.as_object()) {
      if (k != "name") params[std::string(p.at("name").as_string())] = v;
    }
  }
  EXPECT_EQ(params["intact"], false) << status.body;
  EXPECT_EQ(params["firstBadSeq"].to_number<int64_t>(), 3) << status.body;
  EXPECT_TRUE(params["reason"].is_string()) << status.body;
}

}  // namespace
}  // namespace crs::e2e
