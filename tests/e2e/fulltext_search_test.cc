// _text and _content (the full-text index, crs serve --fulltext) and
// Location's special parameter `near`, through the real server on both
// stores: exact result sets, combined with other parameters, counts and
// access control.
#include <fstream>
#include <set>

#include "e2e/fixture.h"

namespace crs::e2e {
namespace {

namespace json = boost::json;
using Headers = std::vector<std::pair<std::string, std::string>>;
using S = std::set<std::string>;

S Ids(const HttpResult& r) {
  S out;
  auto v = r.Json();
  if (!v.is_object() || !v.as_object().contains("entry")) return out;
  for (const auto& e : v.at("entry").as_array()) {
    if (e.at("search").at("mode") != "match") continue;
    out.insert(std::string(e.at("resource").at("id").as_string()));
  }
  return out;
}

int64_t Total(const HttpResult& r) {
  auto v = r.Json();
  if (!v.is_object() || !v.as_object().contains("total")) return -1;
  return v.at("total").as_int64();
}

// A Condition with narrative `div` and a code text.
std::string Condition(const std::string& id, const std::string& patient, const std::string& div,
                      const std::string& code_text) {
  return R"({"resourceType":"Condition","id":")" + id +
         R"(","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">)" +
         div + R"(</div>"},"code":{"text":")" + code_text +
         R"("},"subject":{"reference":"Patient/)" + patient + R"("}})";
}

std::string PatientJson(const std::string& nhs, const std::string& gp) {
  return R"({"resourceType":"Patient","id":")" + nhs +
         R"(","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":")" + nhs +
         R"("}],"name":[{"family":"Test"}],"generalPractitioner":[{"reference":"Organization/)" +
         gp + R"("}]})";
}

class FullTextSearchTest : public ServerTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--fulltext"}; }

  void SetUp() override {
    ServerTest::SetUp();
    for (const char* ods : {"GP1", "GP2"}) {
      ASSERT_EQ(Put(std::string("/fhir/Organization/") + ods,
                    std::string(R"({"resourceType":"Organization","id":")") + ods + R"("})")
                    .status,
                201);
    }
    ASSERT_EQ(Put("/fhir/Patient/9990000018", PatientJson("9990000018", "GP1")).status, 201);
    ASSERT_EQ(Put("/fhir/Patient/9990000026", PatientJson("9990000026", "GP2")).status, 201);
    // c1..c3 belong to 9990000018, c4 to 9990000026.
    Put1("c1", "9990000018", "Chronic <b>asthma</b>, well controlled &amp; stable", "Asthma");
    Put1("c2", "9990000018", "Type 2 diabetes mellitus since 2015", "Diabetes");
    Put1("c3", "9990000018", "Café-au-lait spots; Fracture of the right wrist", "Wrist fracture");
    Put1("c4", "9990000026", "Chronic asthma (childhood onset)", "Asthma in remission");
  }

  void Put1(const std::string& id, const std::string& patient, const std::string& div,
            const std::string& code_text) {
    auto r = Put("/fhir/Condition/" + id, Condition(id, patient, div, code_text));
    ASSERT_TRUE(r.status == 200 || r.status == 201) << r.body;
  }

  S Search(const std::string& query, const Headers& h = {}) {
    auto r = Get(query, h);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    auto v = r.Json();
    EXPECT_FALSE(v.as_object().contains("entry") &&
                 v.at("entry").as_array().back().at("search").at("mode") == "outcome")
        << query << " warned: " << r.body;
    return Ids(r);
  }
};

TEST_F(FullTextSearchTest, WordsPrefixesPhrasesAndFolding) {
  struct Case {
    std::string query;
    S expected;
  };
  std::vector<Case> cases = {
      // one word; the narrative's tags and entities are not words
      {"/fhir/Condition?_text=asthma", {"c1", "c4"}},
      {"/fhir/Condition?_text=amp", {}},
      {"/fhir/Condition?_text=div", {}},
      // every word must match (AND), in any order
      {"/fhir/Condition?_text=asthma%20chronic", {"c1", "c4"}},
      {"/fhir/Condition?_text=asthma%20stable", {"c1"}},
      {"/fhir/Condition?_text=asthma%20diabetes", {}},
      // a comma is OR; a repeated parameter is AND
      {"/fhir/Condition?_text=diabetes,fracture", {"c2", "c3"}},
      {"/fhir/Condition?_text=chronic&_text=onset", {"c4"}},
      // prefixes
      {"/fhir/Condition?_text=diab*", {"c2"}},
      {"/fhir/Condition?_text=ast*%20well", {"c1"}},
      {"/fhir/Condition?_text=diab", {}},
      // case and accents fold as for string parameters
      {"/fhir/Condition?_text=CAFE", {"c3"}},
      {"/fhir/Condition?_text=caf%C3%A9", {"c3"}},
      {"/fhir/Condition?_text=ASTHMA", {"c1", "c4"}},
      // quoted phrases: adjacent words in order
      {"/fhir/Condition?_text=%22chronic%20asthma%22", {"c1", "c4"}},
      {"/fhir/Condition?_text=%22asthma%20chronic%22", {}},
      {"/fhir/Condition?_text=%22right%20wri%22*", {"c3"}},
      {"/fhir/Condition?_text=%22mellitus%20since%22,%22well%20controlled%22", {"c1", "c2"}},
      // punctuation splits words: "café-au-lait" is a phrase of three
      {"/fhir/Condition?_text=cafe-au-lait", {"c3"}},
      {"/fhir/Condition?_text=au-cafe", {}},
      // _text sees only the narrative; _content sees every text of the resource
      {"/fhir/Condition?_text=remission", {}},
      {"/fhir/Condition?_content=remission", {"c4"}},
      {"/fhir/Condition?_content=asthma", {"c1", "c4"}},
      {"/fhir/Condition?_content=9990000026", {"c4"}},
      // combined with other parameters
      {"/fhir/Condition?_text=asthma&subject=Patient/9990000026", {"c4"}},
      {"/fhir/Condition?_content=asthma&_id=c1,c2", {"c1"}},
      // system-level _content
      {"/fhir?_type=Condition&_content=wrist", {"c3"}},
  };
  for (const auto& c : cases) EXPECT_EQ(Search(c.query), c.expected) << c.query;
}

TEST_F(FullTextSearchTest, UpdatesAndDeletesReplaceTheWords) {
  EXPECT_EQ(Search("/fhir/Condition?_text=stable"), S({"c1"}));
  Put1("c1", "9990000018", "Chronic asthma, now worsening", "Asthma");
  EXPECT_EQ(Search("/fhir/Condition?_text=stable"), S());
  EXPECT_EQ(Search("/fhir/Condition?_text=worsening"), S({"c1"}));
  auto deleted = client_->Send("DELETE", "/fhir/Condition/c4");
  ASSERT_TRUE(deleted.status == 200 || deleted.status == 204) << deleted.body;
  EXPECT_EQ(Search("/fhir/Condition?_text=asthma"), S({"c1"}));
  EXPECT_EQ(Search("/fhir/Condition?_content=remission"), S());
}

// Long texts are indexed up to the limits (16,383 words, 512 KB of words per
// column; docs/search-index.md), never refused; a word repeated more often
// than PostgreSQL keeps positions of is still found.
TEST_F(FullTextSearchTest, LongTextsAreIndexedUpToTheLimits) {
  std::string note;
  for (int i = 0; i < 600; ++i) note += "wheeze ";
  for (int i = 0; i < 17000; ++i) note += "w" + std::to_string(i) + " ";
  std::string wide;
  for (int i = 0; i < 7000; ++i) wide += std::string(95, 'y') + std::to_string(i) + " ";
  auto r = Put("/fhir/Condition/long", R"({"resourceType":"Condition","id":"long",
      "subject":{"reference":"Patient/9990000018"},"note":[{"text":")" +
                                           note + R"("},
      {"text":")" + wide + R"("}]})");
  ASSERT_EQ(r.status, 201) << r.body.substr(0, 500);
  EXPECT_EQ(Search("/fhir/Condition?_content=wheeze"), S({"long"}));
  EXPECT_EQ(Search("/fhir/Condition?_content=w15000"), S({"long"}));
  EXPECT_EQ(Search("/fhir/Condition?_content=w16999"), S());  // past 16,383 words
  EXPECT_EQ(Search("/fhir/Condition?_content=%22w0%20w1%20w2%22"), S({"long"}));
  // (A phrase through the 600th "wheeze" is found on SQLite only: PostgreSQL
  // keeps the positions of a word's first 256 occurrences; docs/search.md.)
}

TEST_F(FullTextSearchTest, CountsSortingPagingAndExplain) {
  auto count = Get("/fhir/Condition?_text=asthma,diabetes&_summary=count");
  ASSERT_EQ(count.status, 200) << count.body;
  EXPECT_EQ(Total(count), 3);
  auto total = Get("/fhir/Condition?_content=asthma&_total=accurate");
  EXPECT_EQ(Total(total), 2);
  // Sorted and paged one at a time: every match once, in _id order.
  std::vector<std::string> order;
  std::string next = "/fhir/Condition?_text=asthma,diabetes,fracture&_sort=-_id&_count=1";
  for (int pages = 0; !next.empty() && pages < 10; ++pages) {
    auto r = Get(next);
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& id : Ids(r)) order.push_back(id);
    next.clear();
    json::value page = r.Json();
    for (const auto& l : page.at("link").as_array()) {
      if (l.at("relation") == "next") {
        std::string url(l.at("url").as_string());
        next = url.substr(url.find("/fhir"));
      }
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"c4", "c3", "c2", "c1"}));
  auto explain = Get("/fhir/Condition?_text=asthma&_explain=true");
  ASSERT_EQ(explain.status, 200) << explain.body;
  EXPECT_NE(explain.body.find("ix_text"), std::string::npos) << explain.body;
}

TEST_F(FullTextSearchTest, OnlyWhatTheCallerMaySeeIsFoundOrCounted) {
  Headers patient2 = {{"Authorization", "Bearer " + server_.Token("patient", "", "9990000026")}};
  EXPECT_EQ(Search("/fhir/Condition?_text=asthma", patient2), S({"c4"}));
  auto count = Get("/fhir/Condition?_text=asthma&_summary=count", patient2);
  ASSERT_EQ(count.status, 200) << count.body;
  EXPECT_EQ(Total(count), 1);
  EXPECT_EQ(Search("/fhir/Condition?_content=diabetes", patient2), S());
  auto total = Get("/fhir/Condition?_content=diabetes&_total=accurate", patient2);
  EXPECT_EQ(Total(total), 0);
}

TEST_F(FullTextSearchTest, BadValuesAreRefused) {
  for (const char* q : {"/fhir/Condition?_text=%22unclosed", "/fhir/Condition?_text=%20*%20",
                        "/fhir/Condition?_text:missing=true", "/fhir/Condition?_content:exact=x",
                        "/fhir/Condition?_sort=_text&_text=asthma"}) {
    auto r = Get(q);
    EXPECT_EQ(r.status, 400) << q << ": " << r.body;
    EXPECT_EQ(OutcomeCode(r), "invalid") << q << ": " << r.body;
  }
}

TEST_F(FullTextSearchTest, TheCapabilityStatementClaimsThem) {
  auto r = Get("/fhir/metadata");
  ASSERT_EQ(r.status, 200);
  std::set<std::string> condition, location, bundle;
  json::value cs = r.Json();
  for (const auto& res : cs.at("rest").at(0).at("resource").as_array()) {
    std::set<std::string>* into = res.at("type") == "Condition"  ? &condition
                                  : res.at("type") == "Location" ? &location
                                  : res.at("type") == "Bundle"   ? &bundle
                                                                 : nullptr;
    if (into == nullptr) continue;
    for (const auto& p : res.at("searchParam").as_array()) {
      into->insert(std::string(p.at("name").as_string()));
    }
  }
  EXPECT_TRUE(condition.count("_text") && condition.count("_content"));
  EXPECT_TRUE(bundle.count("_content"));
  EXPECT_FALSE(bundle.count("_text"));  // not a DomainResource
  EXPECT_TRUE(location.count("near"));
  EXPECT_FALSE(condition.count("_query"));
}

// Without --fulltext: ignored with a warning, 400 when strict, not claimed.
class FullTextOffTest : public ServerTest {};

TEST_F(FullTextOffTest, FullTextParametersAreIgnoredOrRefused) {
  ASSERT_EQ(Put("/fhir/Organization/GP1", R"({"resourceType":"Organization","id":"GP1",
                  "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}})")
                .status,
            201);
  auto lenient = Get("/fhir/Organization?_text=nothing");
  ASSERT_EQ(lenient.status, 200) << lenient.body;
  EXPECT_EQ(Ids(lenient), S({"GP1"}));  // the parameter was ignored
  EXPECT_NE(lenient.body.find("full-text search is not enabled"), std::string::npos)
      << lenient.body;
  auto strict = Get("/fhir/Organization?_content=nothing", {{"Prefer", "handling=strict"}});
  EXPECT_EQ(strict.status, 400) << strict.body;
  EXPECT_EQ(OutcomeCode(strict), "invalid");
  auto metadata = Get("/fhir/metadata");
  EXPECT_EQ(metadata.body.find(R"("name":"_text")"), std::string::npos);
  EXPECT_EQ(metadata.body.find(R"("name":"_content")"), std::string::npos);
}

// Turning the index on for a store that holds resources needs a reindex.
TEST_F(FullTextOffTest, AnExistingStoreNeedsAReindexFirst) {
  ASSERT_EQ(Put("/fhir/Organization/GP1", R"({"resourceType":"Organization","id":"GP1",
                  "name":"Leeds Road Surgery"})")
                .status,
            201);
  ASSERT_EQ(server_.Stop(SIGTERM), 0);
  ASSERT_FALSE(server_.Start({"--fulltext"})) << "served an incomplete full-text index";
  std::string out;
  ASSERT_EQ(RunCrs({"reindex", "--data", server_.data_dir() + "/data", "--fulltext"}, &out), 0)
      << out;
  ASSERT_TRUE(server_.Start({"--fulltext"}));
  client_ = std::make_unique<Client>(server_.port(), server_.SystemToken());
  auto r = Get("/fhir/Organization?_content=surgery");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Ids(r), S({"GP1"}));
  // crs import --fulltext keeps it complete and indexes what it loads.
  ASSERT_EQ(server_.Stop(SIGTERM), 0);
  std::string file = server_.data_dir() + "/orgs.ndjson";
  {
    std::ofstream f(file);
    f << R"({"resourceType":"Organization","id":"GP2","name":"Harehills Medical Practice"})"
      << "\n";
  }
  ASSERT_EQ(RunCrs({"import", "--data", server_.data_dir() + "/data", "--fulltext", file}, &out), 0)
      << out;
  ASSERT_TRUE(server_.Start({"--fulltext"}));
  client_ = std::make_unique<Client>(server_.port(), server_.SystemToken());
  EXPECT_EQ(Ids(Get("/fhir/Organization?_content=harehills")), S({"GP2"}));
  EXPECT_EQ(Ids(Get("/fhir/Organization?_content=surgery,practice")), S({"GP1", "GP2"}));
  // Served once without it, the index is incomplete again.
  ASSERT_EQ(server_.Stop(SIGTERM), 0);
  ASSERT_TRUE(server_.Start());
  ASSERT_EQ(server_.Stop(SIGTERM), 0);
  EXPECT_FALSE(server_.Start({"--fulltext"}));
  // And so it is after an import without it.
  ASSERT_EQ(RunCrs({"reindex", "--data", server_.data_dir() + "/data", "--fulltext"}, &out), 0)
      << out;
  ASSERT_EQ(RunCrs({"import", "--data", server_.data_dir() + "/data", file}, &out), 0) << out;
  EXPECT_FALSE(server_.Start({"--fulltext"}));
}

std::string LocationJson(const std::string& id, double lat, double lon) {
  return R"({"resourceType":"Location","id":")" + id + R"(","position":{"latitude":)" +
         std::to_string(lat) + R"(,"longitude":)" + std::to_string(lon) + "}}";
}

class NearSearchTest : public ServerTest {};

TEST_F(NearSearchTest, LocationsWithinTheDistance) {
  // Leeds General Infirmary; St James's, Leeds (2.18 km); York (35.9 km);
  // London (272.6 km); one without a position.
  ASSERT_EQ(Put("/fhir/Location/lgi", LocationJson("lgi", 53.8018, -1.5519)).status, 201);
  ASSERT_EQ(Put("/fhir/Location/sj", LocationJson("sj", 53.8076, -1.5202)).status, 201);
  ASSERT_EQ(Put("/fhir/Location/york", LocationJson("york", 53.9690, -1.0830)).status, 201);
  ASSERT_EQ(Put("/fhir/Location/ldn", LocationJson("ldn", 51.5074, -0.1278)).status, 201);
  ASSERT_EQ(Put("/fhir/Location/none", R"({"resourceType":"Location","id":"none"})").status, 201);
  struct Case {
    std::string query;
    S expected;
  };
  std::vector<Case> cases = {
      {"/fhir/Location?near=53.8018|-1.5519|1|km", {"lgi"}},
      {"/fhir/Location?near=53.8018|-1.5519|2.1|km", {"lgi"}},
      {"/fhir/Location?near=53.8018|-1.5519|2.3|km", {"lgi", "sj"}},
      {"/fhir/Location?near=53.8018|-1.5519|2.3", {"lgi", "sj"}},  // km by default
      {"/fhir/Location?near=53.8018|-1.5519|2100|m", {"lgi"}},
      {"/fhir/Location?near=53.8018|-1.5519|2300|m", {"lgi", "sj"}},
      {"/fhir/Location?near=53.8018|-1.5519|1.3|[mi_i]", {"lgi"}},        // 2.09 km
      {"/fhir/Location?near=53.8018|-1.5519|1.4|[mi_i]", {"lgi", "sj"}},  // 2.25 km
      {"/fhir/Location?near=53.8018|-1.5519|35|km", {"lgi", "sj"}},
      {"/fhir/Location?near=53.8018|-1.5519|37|km", {"lgi", "sj", "york"}},
      {"/fhir/Location?near=53.8018|-1.5519|272|km", {"lgi", "sj", "york"}},
      {"/fhir/Location?near=53.8018|-1.5519|273|km", {"lgi", "sj", "york", "ldn"}},
      {"/fhir/Location?near=53.8018|-1.5519", {"lgi", "sj"}},  // 5 km when no distance
      {"/fhir/Location?near=51.5|-0.12|2|km,53.97|-1.08|1|km", {"ldn", "york"}},
      {"/fhir/Location?near=53.8018|-1.5519|40|km&_id=york,ldn", {"york"}},
      {"/fhir/Location?near:missing=true", {"none"}},
      {"/fhir?_type=Location&near=53.97|-1.08|1|km", {"york"}},
  };
  for (const auto& c : cases) {
    auto r = Get(c.query);
    ASSERT_EQ(r.status, 200) << c.query << ": " << r.body;
    EXPECT_EQ(Ids(r), c.expected) << c.query;
    EXPECT_EQ(r.body.find("was ignored"), std::string::npos) << c.query << ": " << r.body;
  }
  // A moved location is found at its new position only.
  ASSERT_EQ(Put("/fhir/Location/sj", LocationJson("sj", 51.5080, -0.1280)).status, 200);
  EXPECT_EQ(Ids(Get("/fhir/Location?near=53.8018|-1.5519|2.3|km")), S({"lgi"}));
  auto count = Get("/fhir/Location?near=51.5074|-0.1278|1|km&_summary=count");
  EXPECT_EQ(Total(count), 2);
}

TEST_F(NearSearchTest, BadValuesAreRefused) {
  for (const char* q :
       {"/fhir/Location?near=53.8", "/fhir/Location?near=91|0|1|km", "/fhir/Location?near=0|181",
        "/fhir/Location?near=a|b|1|km", "/fhir/Location?near=53.8|-1.5|-1|km",
        "/fhir/Location?near=53.8|-1.5|1|parsecs", "/fhir/Location?near=1|2|3|km|5",
        "/fhir/Location?near:exact=53.8|-1.5", "/fhir/Location?_sort=near"}) {
    auto r = Get(q);
    EXPECT_EQ(r.status, 400) << q << ": " << r.body;
    EXPECT_EQ(OutcomeCode(r), "invalid") << q << ": " << r.body;
  }
}

}  // namespace
}  // namespace crs::e2e
