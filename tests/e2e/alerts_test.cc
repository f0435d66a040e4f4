// The privacy officer's alert list end to end (docs/audit.md, "Alerts"):
// the server filters it by alert code, status, record time, user and
// patient, in the URL or a POST _search body alike; paging follows the
// filters; a value it does not know is a 400; and the index those filters
// read is rebuilt from the records when the schema adds it.
#include <signal.h>

#include <boost/json.hpp>
#include <set>

#include "e2e/fixture.h"

namespace crs::e2e {
namespace {

namespace json = boost::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

class AlertFilterTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_EQ(Put("/fhir/Organization/GP1", R"({"resourceType":"Organization","id":"GP1"})").status, 201);
    Headers gp = With(server_.Token("R8000", "GP1"), {});
    for (const char* nhs : {"9990000018", "9990000026"}) {
      ASSERT_EQ(Put(std::string("/fhir/Patient/") + nhs,
                    std::string(R"({"resourceType":"Patient","id":")") + nhs +
                        R"(","generalPractitioner":[{"reference":"Organization/GP1"}]})")
                    .status,
                201);
      ASSERT_EQ(Put(std::string("/fhir/AllergyIntolerance/al") + nhs,
                    std::string(R"({"resourceType":"AllergyIntolerance","id":"al)") + nhs +
                        R"(","code":{"text":"nuts"},"patient":{"reference":"Patient/)" + nhs +
                        R"("}})",
                    gp)
                    .status,
                201);
    }
    // Alerts for HOSP, oldest first: dr-ae's emergency access to 18, dr-ae's
    // self-claimed relationship with 26, nurse-x's emergency access to 26,
    // and patient 18 reporting dr-ae's access.
    std::string ae = server_.Token("R8000", "HOSP", "", {}, {}, "dr-ae");
    std::string nurse = server_.Token("R8000", "HOSP", "", {}, {}, "nurse-x");
    Headers emergency = {{"X-Purpose-Of-Use", "ETREAT"}, {"X-Access-Justification", "collapsed"}};
    Headers claim = {{"X-Legitimate-Relationship", "self-claimed"},
                     {"X-Permission-To-View", "granted"},
                     {"X-Access-Justification", "on the ward"}};
    ASSERT_EQ(Get("/fhir/AllergyIntolerance/al9990000018", With(ae, emergency)).status, 200);
    ASSERT_EQ(Get("/fhir/AllergyIntolerance/al9990000026", With(ae, claim)).status, 200);
    ASSERT_EQ(Get("/fhir/AllergyIntolerance/al9990000026", With(nurse, emergency)).status, 200);
    Headers patient = With(server_.Token("patient", "", "9990000018"), {});
    auto log = Get("/fhir/AuditEvent?patient=9990000018", patient);
    ASSERT_EQ(log.status, 200) << log.body;
    std::string reported;
    json::value entries = log.Json();
    for (const auto& e : entries.at("entry").as_array()) {
      if (json::serialize(e).find("ETREAT") != std::string::npos) {
        reported = std::string(e.at("resource").at("id").as_string());
      }
    }
    ASSERT_FALSE(reported.empty()) << log.body;
    ASSERT_EQ(Post("/fhir/AuditEvent/" + reported + "/$report", "", patient).status, 200);
    officer_ = With(server_.Token("R0001", "HOSP"), {});
  }

  static Headers With(const std::string& token, Headers more) {
    more.insert(more.begin(), {"Authorization", "Bearer " + token});
    return more;
  }

  // The alert codes of each entry of an alert list (codes joined by '+'),
  // newest first, following every next link; 0 entries when it failed.
  std::vector<std::string> Alerts(const std::string& query, std::string* error = nullptr) {
    std::vector<std::string> out;
    std::string target = "/fhir/AuditEvent?alert=true" + (query.empty() ? "" : "&" + query);
    for (int page = 0; page < 20 && !target.empty(); ++page) {
      auto r = Get(target, officer_);
      if (r.status != 200) {
        if (error) *error = std::to_string(r.status) + " " + r.body;
        return {};
      }
      auto bundle = r.Json();
      target.clear();
      for (const auto& link : bundle.at("link").as_array()) {
        if (link.at("relation") == "next") {
          std::string url(link.at("url").as_string());
          target = url.substr(url.find("/fhir/"));
        }
      }
      const json::value* entries = bundle.as_object().if_contains("entry");
      for (const auto& e : entries ? entries->as_array() : json::array{}) out.push_back(KindOf(e));
    }
    return out;
  }

  static std::string KindOf(const json::value& entry) {
    std::set<std::string> codes;
    std::string text = json::serialize(entry);
    for (const char* code : {"break-glass", "self-claimed", "patient-reported"}) {
      if (text.find(std::string("\"") + code + "\"") != std::string::npos) codes.insert(code);
    }
    std::string out;
    for (const auto& c : codes) out += (out.empty() ? "" : "+") + c;
    return out;
  }

  Headers officer_;
};

using Kinds = std::vector<std::string>;

TEST_F(AlertFilterTest, FiltersAreAppliedByTheServer) {
  const Kinds all = {"patient-reported", "break-glass", "self-claimed", "break-glass"};
  struct Case {
    std::string query;
    Kinds expected;
  };
  for (const Case& c : std::vector<Case>{
           {"", all},
           {"code=break-glass", {"break-glass", "break-glass"}},
           {"code=self-claimed", {"self-claimed"}},
           {"code=break-glass,patient-reported", {"patient-reported", "break-glass", "break-glass"}},
           {"code=break-glass&code=self-claimed", {}},
           {"code=vip", {}},
           {"code=volume,sealed-access", {}},
           {"user=dr-ae", {"patient-reported", "self-claimed", "break-glass"}},
           {"user=nurse-x", {"break-glass"}},
           {"user=nobody", {}},
           {"patient=9990000026", {"break-glass", "self-claimed"}},
           {"patient=9990000018&code=break-glass", {"break-glass"}},
           {"status=open", all},
           {"status=reviewed", {}},
           {"status=open,reviewed", all},
           {"date=ge2020-01-01", all},
           {"date=gt2020-01-01&date=lt9999-01-01", all},
           {"date=le2020-01-01", {}},
           {"date=2020-01-01", {}},
           {"date=ge9000", {}},
           {"_count=1", all},
           {"_count=1&code=break-glass", {"break-glass", "break-glass"}},
           {"_count=2&user=dr-ae", {"patient-reported", "self-claimed", "break-glass"}},
       }) {
    std::string error;
    Kinds got = Alerts(c.query, &error);
    EXPECT_TRUE(error.empty()) << c.query << ": " << error;
    EXPECT_EQ(got, c.expected) << c.query;
  }
  // A single page says how many match; a filtered list counts what it holds.
  auto one = Get("/fhir/AuditEvent?alert=true&code=self-claimed", officer_).Json();
  EXPECT_EQ(one.at("total").as_int64(), 1) << json::serialize(one);
  // The next link keeps the filters.
  auto paged = Get("/fhir/AuditEvent?alert=true&code=break-glass&_count=1", officer_).Json();
  EXPECT_FALSE(paged.as_object().contains("total"));
  std::string next;
  for (const auto& link : paged.at("link").as_array()) {
    if (link.at("relation") == "next") next = std::string(link.at("url").as_string());
  }
  EXPECT_NE(next.find("code=break-glass"), std::string::npos) << next;
}

TEST_F(AlertFilterTest, ReviewMovesAnAlertFromOpenToReviewed) {
  auto open = Get("/fhir/AuditEvent?alert=true&code=self-claimed", officer_).Json();
  std::string seq(open.at("entry").at(0).at("resource").at("id").as_string());
  ASSERT_EQ(Post("/fhir/AuditEvent/" + seq + "/$review", "", officer_).status, 200);
  EXPECT_EQ(Alerts("status=reviewed"), Kinds{"self-claimed"});
  EXPECT_EQ(Alerts("status=open"), (Kinds{"patient-reported", "break-glass", "break-glass"}));
  EXPECT_EQ(Alerts("reviewed=false&code=self-claimed"), Kinds{});
}

TEST_F(AlertFilterTest, FiltersTravelInAPostBodyToo) {
  Headers form = officer_;
  form.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  auto r = Post("/fhir/AuditEvent/_search",
                "alert=true&code=break-glass&user=dr-ae&patient=9990000018&status=open"
                "&date=ge2020-01-01",
                form);
  ASSERT_EQ(r.status, 200) << r.body;
  auto entries = r.Json().at("entry").as_array();
  ASSERT_EQ(entries.size(), 1u) << r.body;
  EXPECT_EQ(KindOf(entries[0]), "break-glass");
}

TEST_F(AlertFilterTest, UnknownValuesAreRefused) {
  for (const char* query :
       {"alert=true&code=nope", "alert=true&code=break-glass,", "alert=true&code=",
        "alert=true&status=closed", "alert=true&reviewed=true", "alert=true&date=notadate",
        "alert=true&date=ne2020-01-01", "alert=true&date=sa2020", "alert=true&user=",
        "alert=true&user=a&user=b", "alert=true&colour=red",
        "patient=9990000018&code=break-glass", "patient=9990000018&status=open"}) {
    auto r = Get(std::string("/fhir/AuditEvent?") + query, officer_);
    EXPECT_EQ(r.status, 400) << query << ": " << r.body;
    EXPECT_EQ(OutcomeCode(r), "invalid") << query << ": " << r.body;
  }
  // Filters do not open the alert list to anyone else.
  Headers clinician = With(server_.Token("R8000", "HOSP"), {});
  EXPECT_EQ(Get("/fhir/AuditEvent?alert=true&code=break-glass", clinician).status, 403);
}

TEST_F(AlertFilterTest, TheIndexIsRebuiltFromTheRecords) {
  // A store from before the filter columns: the columns gone, the schema a
  // version back (on SQLite also before the patient index in runs: a
  // (patient, seq) table). Starting again migrates and fills them from the
  // records, and the patient index keeps every entry.
  Headers patient = With(server_.Token("patient", "", "9990000018"), {});
  auto ids = [&] {
    auto log = Get("/fhir/AuditEvent?patient=9990000018&_count=100", patient);
    EXPECT_EQ(log.status, 200) << log.body;
    std::vector<std::string> out;
    auto doc = boost::json::parse(log.body);
    for (const auto& e : doc.at("entry").as_array()) {
      out.emplace_back(e.at("resource").at("id").as_string());
    }
    return out;
  };
  std::vector<std::string> before = ids();
  ASSERT_GE(before.size(), 3u);
  ASSERT_EQ(server_.Stop(SIGTERM), 0);
  std::string data = server_.data_dir() + "/data";
  ASSERT_TRUE(AuditLogExec(data,
                           "ALTER TABLE audit_alert DROP COLUMN codes;"
                           "ALTER TABLE audit_alert DROP COLUMN user_id;"
                           "ALTER TABLE audit_alert DROP COLUMN user_name;"
                           "CREATE TABLE audit_patient (patient TEXT NOT NULL, seq INTEGER NOT "
                           "NULL, PRIMARY KEY (patient, seq)) WITHOUT ROWID;"
                           "INSERT OR IGNORE INTO audit_patient SELECT p.value, a.seq FROM audit a,"
                           " json_each(CAST(a.record AS TEXT), '$.patients') p"
                           " WHERE p.type = 'text';"
                           "DROP TABLE audit_pblk; DROP TABLE audit_run; DROP TABLE audit_meta;"
                           "PRAGMA user_version = 1;",
                           "ALTER TABLE audit_alert DROP COLUMN codes, DROP COLUMN user_id,"
                           " DROP COLUMN user_name; DROP TABLE ix_text; DROP TABLE ix_geo;"
                           "UPDATE schema_meta SET value = 4 WHERE key = 'version';"));
  ASSERT_TRUE(server_.Start());
  client_ = std::make_unique<Client>(server_.port(), server_.SystemToken());
  EXPECT_EQ(Alerts("code=break-glass"), (Kinds{"break-glass", "break-glass"}));
  EXPECT_EQ(Alerts("code=patient-reported"), Kinds{"patient-reported"});
  // The patient's report is about the access reported: dr-ae's.
  EXPECT_EQ(Alerts("user=dr-ae"), (Kinds{"patient-reported", "self-claimed", "break-glass"}));
  EXPECT_EQ(Alerts("user=nurse-x"), Kinds{"break-glass"});
  // The list read before the restart is still there, after the records the
  // reads since appended (the patient's own first read among them).
  std::vector<std::string> after = ids();
  ASSERT_GT(after.size(), before.size());
  EXPECT_EQ(std::vector<std::string>(after.end() - before.size(), after.end()), before);
}

}  // namespace
}  // namespace crs::e2e
