// Search through the real server. The Synthea test is differential: the
// expected result set of each query is computed independently here, by
// walking the JSON of the loaded resources, and compared id for id.
#include <filesystem>
#include <functional>
#include <set>
#include <thread>
#include <tuple>

#include "core/time.h"
#include "e2e/fixture.h"

namespace crs::e2e {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

class SearchTest : public ServerTest {
 protected:
  // Ids of every match, following next links.
  std::set<std::string> Ids(const std::string& query, int* pages = nullptr) {
    std::set<std::string> ids;
    std::string next = query;
    int n = 0;
    while (!next.empty() && n < 1000) {
      auto r = Get(next);
      EXPECT_EQ(r.status, 200) << next << ": " << r.body;
      if (r.status != 200) break;
      auto b = r.Json();
      ++n;
      if (auto* entries = b.as_object().if_contains("entry")) {
        for (auto& e : entries->as_array()) {
          if (e.at("search").at("mode") != "match") continue;
          EXPECT_TRUE(ids.insert(std::string(e.at("resource").at("id").as_string())).second)
              << "returned twice in " << query;
        }
      }
      next.clear();
      for (auto& l : b.at("link").as_array()) {
        if (l.at("relation") == "next") {
          std::string url(l.at("url").as_string());
          next = url.substr(url.find("/fhir"));
        }
      }
    }
    if (pages) *pages = n;
    return ids;
  }
  int64_t Total(const std::string& query) {
    auto b = Get(query).Json();
    return b.at("total").as_int64();
  }
  std::string CreateId(const std::string& type, const std::string& body) {
    auto r = Post("/fhir/" + type, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(r.Json().at("id").as_string());
  }
};

TEST_F(SearchTest, EveryParameterTypeAndModifier) {
  std::string a = CreateId("Patient", R"({"resourceType":"Patient","active":true,
    "identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018",
      "type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"NH"}]}}],
    "name":[{"family":"Müller","given":["Anna"]}],"gender":"female","birthDate":"1970-05-20",
    "address":[{"postalCode":"LS6 2AB","city":"Leeds"}]})");
  std::string b = CreateId("Patient", R"({"resourceType":"Patient","active":false,
    "identifier":[{"system":"urn:other","value":"X1"}],
    "name":[{"family":"Mullins","given":["Bob"]}],"gender":"male","birthDate":"1985"})");
  std::string c = CreateId("Patient", R"({"resourceType":"Patient",
    "name":[{"family":"Smith","given":["Cara","Anne"]}],"gender":"female","birthDate":"2001-02-03"})");
  std::string o1 = CreateId("Observation", R"({"resourceType":"Observation","status":"final",
    "code":{"coding":[{"system":"http://loinc.org","code":"29463-7","display":"Body weight"}]},
    "subject":{"reference":"Patient/)" + a + R"("},"effectiveDateTime":"2020-03-04T10:00:00Z",
    "valueQuantity":{"value":72.5,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}})");
  std::string o2 = CreateId("Observation", R"({"resourceType":"Observation","status":"preliminary",
    "code":{"coding":[{"system":"http://loinc.org","code":"8302-2"}],"text":"Body height"},
    "subject":{"reference":"Patient/)" + b + R"("},"effectivePeriod":{"start":"2021-01-01","end":"2021-01-31"},
    "valueQuantity":{"value":180,"unit":"cm","system":"http://unitsofmeasure.org","code":"cm"}})");
  std::string v1 = CreateId("ValueSet", R"({"resourceType":"ValueSet","status":"active",
    "url":"http://example.org/fhir/ValueSet/colours"})");
  using S = std::set<std::string>;
  struct Case { std::string query; S expected; };
  std::vector<Case> cases = {
      // string: prefix, accent- and case-insensitive; :exact; :contains
      {"Patient?family=mul", {a, b}},
      // phonetic: Soundex keys of family and given names (fhir/index/phonetic.h)
      {"Patient?phonetic=Mueller", {a}},
      {"Patient?phonetic=Ann", {a, c}},
      {"Patient?phonetic=Mulins", {b}},
      {"Patient?family=MUELLER", {}},
      {"Patient?family=muller", {a}},
      {"Patient?family:exact=Müller", {a}},
      {"Patient?family:exact=müller", {}},
      {"Patient?name:contains=ann", {a, c}},
      {"Patient?given=anne", {c}},
      // token forms and modifiers
      {"Patient?gender=female", {a, c}},
      {"Patient?gender:not=female", {b}},
      // implicit code systems from required bindings
      {"Patient?gender=http://hl7.org/fhir/administrative-gender|female", {a, c}},
      {"Patient?gender=http://hl7.org/fhir/administrative-gender|", {a, b, c}},
      {"Patient?gender=http://example.org/other|female", {}},
      {"Patient?gender:not=http://hl7.org/fhir/administrative-gender|female", {b}},
      {"Observation?status=http://hl7.org/fhir/observation-status|final", {o1}},
      {"Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018", {a}},
      {"Patient?identifier=|X1", {}},
      {"Patient?identifier=urn:other|", {b}},
      {"Patient?identifier=X1", {b}},
      {"Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|NH|9990000018", {a}},
      {"Patient?active=true", {a}},
      {"Observation?code:text=body", {o1, o2}},
      {"Observation?code:text=height", {o2}},
      // OR within a parameter, AND across parameters
      {"Observation?code=29463-7,8302-2", {o1, o2}},
      {"Patient?gender=female&birthdate=lt1980", {a}},
      {"Patient?family=mul&family=mulli", {b}},
      // date prefixes against precision ranges
      {"Patient?birthdate=1970", {a}},
      {"Patient?birthdate=1970-05", {a}},
      {"Patient?birthdate=1985-06-01", {}},
      {"Patient?birthdate=ge1985", {b, c}},
      {"Patient?birthdate=gt1985", {c}},
      {"Patient?birthdate=le1985", {a, b}},
      {"Patient?birthdate=ne1985", {a, c}},
      {"Patient?birthdate=sa1980", {b, c}},
      {"Patient?birthdate=eb1980", {a}},
      {"Observation?date=2021-01-15", {}},
      {"Observation?date=ge2021-01-15", {o2}},
      {"Observation?date=2020-03-04", {o1}},
      // quantity and number prefixes
      {"Observation?value-quantity=72.5", {o1}},
      {"Observation?value-quantity=72", {}},
      {"Observation?value-quantity=gt100", {o2}},
      {"Observation?value-quantity=le72.5|http://unitsofmeasure.org|kg", {o1}},
      {"Observation?value-quantity=180||cm", {o2}},
      {"Observation?value-quantity=ap180", {o2}},
      // reference forms
      {"Observation?subject=Patient/" + a, {o1}},
      {"Observation?subject=" + b, {o2}},
      {"Observation?subject:Patient=" + b, {o2}},
      {"Observation?patient=Patient/" + a, {o1}},
      {"Observation?subject=http://elsewhere.example/fhir/Patient/" + a, {o1}},
      // uri
      {"ValueSet?url=http://example.org/fhir/ValueSet/colours", {v1}},
      {"ValueSet?url:below=http://example.org/fhir", {v1}},
      {"ValueSet?url:above=http://example.org/fhir/ValueSet/colours/v2", {v1}},
      {"ValueSet?url:below=http://example.org/other", {}},
      // :missing, _id
      {"Patient?address-postalcode:missing=true", {b, c}},
      {"Patient?address-postalcode:missing=false", {a}},
      {"Patient?_id=" + a + "," + c, {a, c}},
      {"Patient", {a, b, c}},
      // chains (forward, with and without :Type) and reverse chains
      {"Observation?subject:Patient.family=muller", {o1}},
      {"Observation?subject.gender=male", {o2}},
      {"Observation?patient.birthdate=lt1980", {o1}},
      {"Observation?subject:Patient.identifier=urn:other|X1", {o2}},
      {"Patient?_has:Observation:subject:code=29463-7", {a}},
      {"Patient?_has:Observation:patient:value-quantity=gt100", {b}},
      {"Patient?_has:Observation:subject:code=29463-7&gender=male", {}},
      {"Patient?_has:Observation:subject:status=final,preliminary", {a, b}},
      // composites: every component on the same tuple
      {"Observation?code-value-quantity=http://loinc.org|29463-7$72.5", {o1}},
      {"Observation?code-value-quantity=http://loinc.org|29463-7$gt100", {}},
      {"Observation?code-value-quantity=8302-2$gt100||cm", {o2}},
      {"Observation?code-value-quantity=8302-2$gt100||kg", {}},
      {"Observation?code-value-quantity=http://loinc.org|8302-2$gt100,http://loinc.org|29463-7$lt80", {o1, o2}},
      {"Observation?code-value-quantity=8302-2$gt100&code-value-quantity=29463-7$lt80", {}},
      {"Observation?code-value-quantity:missing=false", {o1, o2}},
      {"Observation?code-value-concept:missing=true", {o1, o2}},
      {"Patient?_has:Observation:subject:code-value-quantity=29463-7$72.5", {a}},
  };
  for (const auto& cs : cases) EXPECT_EQ(Ids("/fhir/" + cs.query), cs.expected) << cs.query;

  // _lastUpdated, _summary=count, _total.
  std::string since(Get("/fhir/Patient/" + c).Json().at("meta").at("lastUpdated").as_string());
  S updated_since;  // patients created in the same millisecond as c count too
  for (const auto& id : {a, b, c}) {
    std::string lu(Get("/fhir/Patient/" + id).Json().at("meta").at("lastUpdated").as_string());
    if (lu >= since) updated_since.insert(id);
  }
  EXPECT_EQ(Ids("/fhir/Patient?_lastUpdated=ge" + since), updated_since);
  EXPECT_TRUE(updated_since.count(c));
  EXPECT_EQ(Ids("/fhir/Patient?_lastUpdated=gt2100-01-01"), S());
  EXPECT_EQ(Total("/fhir/Patient?gender=female&_summary=count"), 2);
  // Several values of the one predicate: a union of index ranges.
  EXPECT_EQ(Total("/fhir/Patient?gender=female,male&_summary=count"), 3);
  EXPECT_EQ(Total("/fhir/Patient?gender=female,male,female&_summary=count"), 3);
  EXPECT_EQ(Ids("/fhir/Patient?gender=male,female"), S({a, b, c}));
  EXPECT_EQ(Total("/fhir/Patient?_count=1&_total=accurate"), 3);
  // A deleted resource is no longer found; an update is re-indexed.
  ASSERT_EQ(client_->Send("DELETE", "/fhir/Patient/" + c).status, 204);
  EXPECT_EQ(Ids("/fhir/Patient?gender=female"), S({a}));
  EXPECT_EQ(Total("/fhir/Patient?gender=female&_summary=count"), 1);  // counted from the index
  EXPECT_EQ(Total("/fhir/Patient?gender=female,male&_summary=count"), 2);
  auto pb = Get("/fhir/Patient/" + b).Json();
  pb.as_object()["gender"] = "female";
  // A Patient's update names the version it replaces (docs/demographics.md).
  ASSERT_EQ(Put("/fhir/Patient/" + b, json::serialize(pb), {{"If-Match", "W/\"1\""}}).status, 200);
  EXPECT_EQ(Ids("/fhir/Patient?gender=female"), S({a, b}));
  EXPECT_EQ(Ids("/fhir/Patient?gender=male"), S());
}

TEST_F(SearchTest, BadAndUnknownParameters) {
  // Unknown parameters: ignored with a warning by default, 400 when strict.
  auto lenient = Get("/fhir/Patient?colour=blue");
  ASSERT_EQ(lenient.status, 200);
  EXPECT_NE(lenient.body.find(R"("mode":"outcome")"), std::string::npos) << lenient.body;
  EXPECT_NE(lenient.body.find("colour"), std::string::npos);
  EXPECT_EQ(Get("/fhir/Patient?colour=blue", {{"Prefer", "handling=strict"}}).status, 400);
  // Full text on a node without the index (crs serve --fulltext), and
  // _query, are not matched against nothing: they are ignored with the same
  // warning.
  for (const char* q : {"/fhir/Patient?_content=smith", "/fhir/Patient?_text=smith",
                        "/fhir/Patient?_content:missing=true", "/fhir/Patient?_query=x"}) {
    auto r = Get(q);
    ASSERT_EQ(r.status, 200) << q;
    EXPECT_NE(r.body.find(std::string(q).find("_query") != std::string::npos
                              ? "'_query' was ignored: not supported"
                              : "full-text search is not enabled"),
              std::string::npos)
        << q << ": " << r.body;
    EXPECT_EQ(Get(q, {{"Prefer", "handling=strict"}}).status, 400) << q;
  }
  for (const char* q : {"Patient?birthdate=notadate", "Patient?gender:exact=x",
                        "Observation?value-quantity=abc", "Patient?_count=-1",
                        "Patient?family:missing=maybe", "Patient?identifier=|",
                        "Patient?_cursor=xyz", "Patient?_total=sometimes",
                        "Observation?code.name=x", "Patient?_has:Observation:code:status=final",
                        "Patient?_has:Unicorn:patient:code=1",
                        "Observation?code-value-quantity=http://loinc.org|8480-6",
                        "Observation?code-value-quantity=a$1$2",
                        "Observation?code-value-quantity=http://loinc.org|8480-6$abc",
                        "Observation?code-value-quantity=$100",
                        "Observation?code-value-date=1234$notadate",
                        "Observation?code-value-quantity:exact=a$1",
                        "Observation?code-value-quantity=a|b|c$1",
                        "Observation?subject:Patient.link:Patient.link:Patient.link:Patient.link:Patient.link:Patient.gender=male"}) {
    auto r = Get(std::string("/fhir/") + q);
    EXPECT_EQ(r.status, 400) << q << ": " << r.body;
    EXPECT_EQ(OutcomeCode(r), "invalid") << q;
  }
}

TEST_F(SearchTest, PostSearchAndExplain) {
  std::string a = CreateId("Patient", R"({"resourceType":"Patient","gender":"other"})");
  auto r = client_->Send("POST", "/fhir/Patient/_search", "gender=other",
                         {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("entry").at(0).at("resource").at("id").as_string(), a);
  auto plan = Get("/fhir/Patient?gender=other&_explain=true");
  ASSERT_EQ(plan.status, 200);
  EXPECT_NE(plan.body.find("ix_token"), std::string::npos) << plan.body;
}

// PostgreSQL's btree refuses index entries over ~2.7 KB; a long value in an
// indexed element must still be stored, read back and found exactly as on
// SQLite (issue 7). The index keeps the first 512 normalised / 2,048 exact
// bytes of a value (docs/search-index.md), and a query is cut the same way.
TEST_F(SearchTest, LongIndexedValuesAreStoredAndFound) {
  std::string text;
  for (int i = 0; text.size() < 10000; ++i) text += "segment" + std::to_string(i) + "x";
  std::string other = text.substr(0, 1000) + "Q" + text.substr(1000);  // differs inside 2,048
  std::string accented;  // 2-byte characters
  for (int i = 0; i < 3000; ++i) accented += "\xc3\xa9";  // é
  std::string uri = "https://example.org/" + text;
  std::string ident = "id-" + text;
  std::string code = "C" + text.substr(0, 3000), system = "https://example.org/cs/" + text.substr(0, 3000);
  auto observation = [&](const std::string& value) {
    return CreateId("Observation", R"({"resourceType":"Observation","status":"final",
      "code":{"coding":[{"system":"http://loinc.org","code":"8302-2"}]},"valueString":")" +
                                       value + R"("})");
  };
  std::string obs = observation(text), obs2 = observation(other);
  // Code and system of ~3 KB each: one index entry of ~6 KB before schema version 3.
  std::string coded = CreateId("Observation", R"({"resourceType":"Observation","status":"final",
    "code":{"coding":[{"system":")" + system + R"(","code":")" + code + R"("}]}})");
  std::string doc = CreateId("DocumentReference", R"({"resourceType":"DocumentReference",
    "status":"current","description":")" + accented + R"(",
    "content":[{"attachment":{"url":"https://example.org/a"}}]})");
  std::string vs = CreateId("ValueSet", R"({"resourceType":"ValueSet","status":"active","url":")" +
                                            uri + R"("})");
  std::string pat = CreateId("Patient", R"({"resourceType":"Patient",
    "identifier":[{"system":"urn:long","value":")" + ident + R"("}]})");

  auto r = Get("/fhir/Observation/" + obs);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("valueString").as_string(), text);
  r = Get("/fhir/Observation/" + coded);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("code").at("coding").at(0).at("code").as_string(), code);
  r = Get("/fhir/DocumentReference/" + doc);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json().at("description").as_string(), accented);

  using Set = std::set<std::string>;
  const std::string vstr = "/fhir/Observation?value-string";
  EXPECT_EQ(Set({obs, obs2}), Ids(vstr + "=" + text.substr(0, 50)));
  EXPECT_EQ(Set({obs, obs2}), Ids(vstr + "=" + text.substr(0, 400)));
  // A prefix longer than the 512 bytes indexed is matched on those bytes.
  EXPECT_EQ(Set({obs, obs2}), Ids(vstr + "=" + text));
  EXPECT_EQ(Set(), Ids(vstr + "=" + text.substr(0, 400) + "nomatch"));
  EXPECT_EQ(Set({obs}), Ids(vstr + ":exact=" + text));
  EXPECT_EQ(Set({obs2}), Ids(vstr + ":exact=" + other));
  EXPECT_EQ(Set(), Ids(vstr + ":exact=" + text.substr(0, 1000)));
  EXPECT_EQ(Set({obs, obs2}), Ids(vstr + ":contains=" + text.substr(200, 40)));
  EXPECT_EQ(Set({coded}), Ids("/fhir/Observation?code=" + system + "%7C" + code));
  EXPECT_EQ(Set({coded}), Ids("/fhir/Observation?code=" + code));
  EXPECT_EQ(Set(), Ids("/fhir/Observation?code=" + code.substr(0, 1000)));
  std::string pct;  // é percent-encoded
  for (int i = 0; i < 3000; ++i) pct += "%C3%A9";
  EXPECT_EQ(Set({doc}), Ids("/fhir/DocumentReference?description:exact=" + pct));
  EXPECT_EQ(Set({doc}), Ids("/fhir/DocumentReference?description=" + pct.substr(0, 6 * 2000)));
  EXPECT_EQ(Set({doc}), Ids("/fhir/DocumentReference?description=eee"));
  EXPECT_EQ(Set(), Ids("/fhir/DocumentReference?description:exact=" + pct.substr(0, 6 * 500)));
  EXPECT_EQ(Set({vs}), Ids("/fhir/ValueSet?url=" + uri));
  EXPECT_EQ(Set(), Ids("/fhir/ValueSet?url=" + uri.substr(0, 1000)));
  EXPECT_EQ(Set({vs}), Ids("/fhir/ValueSet?url:below=" + uri.substr(0, 1000)));
  EXPECT_EQ(Set({vs}), Ids("/fhir/ValueSet?url:below=" + uri.substr(0, 5000)));
  EXPECT_EQ(Set({pat}), Ids("/fhir/Patient?identifier=urn:long%7C" + ident));
  EXPECT_EQ(Set(), Ids("/fhir/Patient?identifier=urn:long%7C" + ident.substr(0, 1000)));
}

TEST_F(SearchTest, PagingUnderConcurrentWritesReturnsEveryMatchOnce) {
  for (int i = 0; i < 60; ++i) {
    ASSERT_EQ(Post("/fhir/Patient", R"({"resourceType":"Patient","gender":"unknown"})").status, 201);
  }
  std::set<std::string> before = Ids("/fhir/Patient?gender=unknown&_count=1000");
  ASSERT_EQ(before.size(), 60u);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    Client w(server_.port());
    while (!stop) {
      w.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient","gender":"unknown"})");
    }
  });
  int pages = 0;
  std::set<std::string> paged = Ids("/fhir/Patient?gender=unknown&_count=7", &pages);
  stop = true;
  writer.join();
  EXPECT_GE(pages, 9);
  // Every resource that existed before is returned exactly once (Ids asserts
  // no duplicates); resources created meanwhile may or may not appear.
  for (const auto& id : before) EXPECT_TRUE(paged.count(id)) << id;
}

TEST_F(SearchTest, ConditionalCreateUpdateDelete) {
  const std::string body =
      R"({"resourceType":"Patient","identifier":[{"system":"urn:t","value":"1"}],"gender":"male"})";
  auto first = Post("/fhir/Patient", body, {{"If-None-Exist", "identifier=urn:t|1"}});
  ASSERT_EQ(first.status, 201);
  auto again = Post("/fhir/Patient", body, {{"If-None-Exist", "identifier=urn:t|1"}});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.Json().at("id"), first.Json().at("id"));
  EXPECT_EQ(Ids("/fhir/Patient?identifier=urn:t|1").size(), 1u);
  // Conditional update: one match → update it; none → create.
  auto upd = Put("/fhir/Patient?identifier=urn:t|1",
                 R"({"resourceType":"Patient","identifier":[{"system":"urn:t","value":"1"}],"gender":"female"})",
                 {{"If-Match", "W/\"1\""}});  // a Patient's update names the version it replaces
  EXPECT_EQ(upd.status, 200) << upd.body;
  EXPECT_EQ(upd.Json().at("id"), first.Json().at("id"));
  auto created = Put("/fhir/Patient?identifier=urn:t|2",
                     R"({"resourceType":"Patient","identifier":[{"system":"urn:t","value":"2"}]})");
  EXPECT_EQ(created.status, 201) << created.body;
  // Several matches → 412 for create, update and delete.
  ASSERT_EQ(Post("/fhir/Patient", R"({"resourceType":"Patient","identifier":[{"system":"urn:t","value":"2"}]})").status, 201);
  EXPECT_EQ(Post("/fhir/Patient", body, {{"If-None-Exist", "identifier=urn:t|2"}}).status, 412);
  EXPECT_EQ(Put("/fhir/Patient?identifier=urn:t|2", R"({"resourceType":"Patient"})").status, 412);
  EXPECT_EQ(client_->Send("DELETE", "/fhir/Patient?identifier=urn:t|2").status, 412);
  // Conditional delete of one.
  EXPECT_EQ(client_->Send("DELETE", "/fhir/Patient?identifier=urn:t|1").status, 204);
  EXPECT_EQ(Ids("/fhir/Patient?identifier=urn:t|1").size(), 0u);
  EXPECT_EQ(client_->Send("DELETE", "/fhir/Patient?identifier=urn:t|1").status, 204);
  // Bad criteria are a 400, not a silent create.
  EXPECT_EQ(Post("/fhir/Patient", body, {{"If-None-Exist", "nonsense=1"}}).status, 400);
}

// The differential test over the 20 Synthea bundles.
TEST_F(SearchTest, SyntheaDifferential) {
  fs::path dir = fs::path(CRS_SHARED_DIR) / "synthea" / "smart-generated-sample-data-R4";
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) files.push_back(e.path());
  if (files.empty()) GTEST_SKIP() << "no Synthea data at " << dir;
  std::sort(files.begin(), files.end());
  // Load, remembering each resource's server id and its JSON with references
  // rewritten the way the server rewrites them.
  std::vector<std::pair<std::string, json::value>> resources;  // (type, resource)
  for (const auto& f : files) {
    std::string text = ReadFile(f.string());
    auto r = Post("/fhir", text);
    ASSERT_EQ(r.status, 200) << f;
    auto response = r.Json();
    auto request = json::parse(text);
    auto& req_entries = request.at("entry").as_array();
    auto& resp_entries = response.at("entry").as_array();
    ASSERT_EQ(req_entries.size(), resp_entries.size());
    for (size_t i = 0; i < resp_entries.size(); ++i) {
      auto& res = resp_entries[i].at("resource");
      resources.emplace_back(std::string(res.at("resourceType").as_string()), res);
    }
  }
  auto expect = [&](const std::string& type, const std::function<bool(const json::value&)>& pred) {
    std::set<std::string> ids;
    for (auto& [t, r] : resources) {
      if (t == type && pred(r)) ids.insert(std::string(r.at("id").as_string()));
    }
    return ids;
  };
  auto str = [](const json::value& v, const char* k) -> std::string {
    auto* x = v.as_object().if_contains(k);
    return x && x->is_string() ? std::string(x->as_string()) : std::string();
  };
  auto has_coding = [](const json::value& cc, const std::string& system, const std::string& code) {
    auto* codings = cc.as_object().if_contains("coding");
    if (!codings) return false;
    for (auto& c : codings->as_array()) {
      auto* s = c.as_object().if_contains("system");
      auto* k = c.as_object().if_contains("code");
      if (k && k->as_string() == code && (system.empty() || (s && s->as_string() == system))) return true;
    }
    return false;
  };
  auto first_patient = expect("Patient", [](const json::value&) { return true; });
  ASSERT_FALSE(first_patient.empty());
  std::string pid = *first_patient.begin();

  struct Q { std::string query; std::set<std::string> expected; };
  std::vector<Q> queries = {
      {"Patient?gender=female", expect("Patient", [&](auto& r) { return str(r, "gender") == "female"; })},
      {"Patient?birthdate=ge1970-01-01", expect("Patient", [&](auto& r) {
         return ParseFhirDateTime(str(r, "birthDate")).value_or(0) >=
                *ParseFhirDateTime("1970-01-01"); })},
      {"Observation?code=http://loinc.org|8302-2", expect("Observation", [&](auto& r) {
         return has_coding(r.at("code"), "http://loinc.org", "8302-2"); })},
      {"Observation?code=8302-2,29463-7", expect("Observation", [&](auto& r) {
         return has_coding(r.at("code"), "", "8302-2") || has_coding(r.at("code"), "", "29463-7"); })},
      {"Observation?code=http://loinc.org|8302-2&value-quantity=gt150", expect("Observation", [&](auto& r) {
         auto* q = r.as_object().if_contains("valueQuantity");
         return has_coding(r.at("code"), "http://loinc.org", "8302-2") && q &&
                q->at("value").template to_number<double>() > 150; })},
      {"Observation?subject=Patient/" + pid, expect("Observation", [&](auto& r) {
         auto* s = r.as_object().if_contains("subject");
         return s && str(*s, "reference") == "Patient/" + pid; })},
      {"Immunization?status:not=completed", expect("Immunization", [&](auto& r) {
         return str(r, "status") != "completed"; })},
      {"MedicationRequest?status=active", expect("MedicationRequest", [&](auto& r) {
         return str(r, "status") == "active"; })},
      {"Encounter?date=lt2000-01-01", expect("Encounter", [&](auto& r) {
         auto* p = r.as_object().if_contains("period");
         if (!p) return false;
         auto start = ParseFhirDateTime(str(*p, "start"));
         return start && *start < *ParseFhirDateTime("2000-01-01T00:00:00Z"); })},
      {"AllergyIntolerance?patient=" + pid, expect("AllergyIntolerance", [&](auto& r) {
         return str(r.at("patient"), "reference") == "Patient/" + pid; })},
      {"Observation?_count=50", expect("Observation", [](auto&) { return true; })},
      {"Observation?subject:Patient.gender=female", expect("Observation", [&](auto& r) {
         auto* s = r.as_object().if_contains("subject");
         if (!s) return false;
         std::string ref = str(*s, "reference");
         for (auto& [t, p] : resources) {
           if (t == "Patient" && "Patient/" + std::string(p.at("id").as_string()) == ref) {
             return str(p, "gender") == "female";
           }
         }
         return false; })},
      {"Patient?_has:Observation:patient:code=http://loinc.org|8302-2", expect("Patient", [&](auto& p) {
         std::string ref = "Patient/" + std::string(p.at("id").as_string());
         for (auto& [t, o] : resources) {
           if (t != "Observation") continue;
           auto* s = o.as_object().if_contains("subject");
           if (s && str(*s, "reference") == ref &&
               has_coding(o.at("code"), "http://loinc.org", "8302-2")) {
             return true;
           }
         }
         return false; })},
  };
  // Composite parameters: every component's condition on the same item (the
  // Observation itself, or one of its components), computed from the JSON.
  using Test = std::function<bool(const json::value& item)>;
  auto items = [](const json::value& r, bool self, bool components) {
    std::vector<const json::value*> out;
    if (self) out.push_back(&r);
    if (auto* c = components ? r.as_object().if_contains("component") : nullptr) {
      for (auto& x : c->as_array()) out.push_back(&x);
    }
    return out;
  };
  auto coded = [&](const std::string& system, const std::string& code) -> Test {
    return [=](const json::value& item) {
      auto* c = item.as_object().if_contains("code");
      return c && has_coding(*c, system, code);
    };
  };
  auto quantity = [](const std::function<bool(double)>& ok, const std::string& unit = "") -> Test {
    return [=](const json::value& item) {
      auto* q = item.as_object().if_contains("valueQuantity");
      if (!q || !q->as_object().contains("value")) return false;
      if (!unit.empty()) {
        auto* code = q->as_object().if_contains("code");
        auto* u = q->as_object().if_contains("unit");
        if (!(code && code->as_string() == unit) && !(u && u->as_string() == unit)) return false;
      }
      return ok(q->at("value").to_number<double>());
    };
  };
  auto any_item = [&](bool self, bool components, const std::vector<std::vector<Test>>& any_of) {
    return expect("Observation", [=, &items](const json::value& r) {
      for (const json::value* item : items(r, self, components)) {
        for (const auto& all : any_of) {
          bool ok = true;
          for (const auto& t : all) ok = ok && t(*item);
          if (ok) return true;
        }
      }
      return false;
    });
  };
  const std::string loinc = "http://loinc.org";
  auto gt = [](double v) { return [v](double x) { return x > v; }; };
  auto lt = [](double v) { return [v](double x) { return x < v; }; };
  // A coded value the data has, to search it back by code$value.
  std::string concept_code, concept_value_system, concept_value;
  for (auto& [t, r] : resources) {
    auto* v = t == "Observation" ? r.as_object().if_contains("valueCodeableConcept") : nullptr;
    if (!v || !v->as_object().contains("coding")) continue;
    auto& coding = v->at("coding").at(0);
    concept_code = std::string(r.at("code").at("coding").at(0).at("code").as_string());
    concept_value_system = str(coding, "system");
    concept_value = str(coding, "code");
    break;
  }
  ASSERT_FALSE(concept_code.empty());
  auto concept_is = [&](const std::string& system, const std::string& code) -> Test {
    return [=](const json::value& item) {
      auto* v = item.as_object().if_contains("valueCodeableConcept");
      return v && has_coding(*v, system, code);
    };
  };
  std::vector<Q> composites = {
      {"Observation?code-value-quantity=http://loinc.org|8302-2$gt150",
       any_item(true, false, {{coded(loinc, "8302-2"), quantity(gt(150))}})},
      {"Observation?code-value-quantity=http://loinc.org|29463-7$gt80|http://unitsofmeasure.org|kg",
       any_item(true, false, {{coded(loinc, "29463-7"), quantity(gt(80), "kg")}})},
      // Same tuple: the diastolic component above 85, not any component above 85.
      {"Observation?component-code-value-quantity=http://loinc.org|8462-4$gt85",
       any_item(false, true, {{coded(loinc, "8462-4"), quantity(gt(85))}})},
      {"Observation?component-code-value-quantity=8480-6$lt110",
       any_item(false, true, {{coded("", "8480-6"), quantity(lt(110))}})},
      // OR within the parameter, AND across repeats.
      {"Observation?component-code-value-quantity=http://loinc.org|8480-6$gt135,http://loinc.org|8462-4$lt65",
       any_item(false, true, {{coded(loinc, "8480-6"), quantity(gt(135))},
                              {coded(loinc, "8462-4"), quantity(lt(65))}})},
      {"Observation?component-code-value-quantity=http://loinc.org|8480-6$gt120"
       "&component-code-value-quantity=http://loinc.org|8462-4$lt80",
       [&] {
         auto a = any_item(false, true, {{coded(loinc, "8480-6"), quantity(gt(120))}});
         auto b = any_item(false, true, {{coded(loinc, "8462-4"), quantity(lt(80))}});
         std::set<std::string> both;
         for (const auto& id : a) {
           if (b.count(id)) both.insert(id);
         }
         return both;
       }()},
      {"Observation?combo-code-value-quantity=http://loinc.org|8480-6$gt130",
       any_item(true, true, {{coded(loinc, "8480-6"), quantity(gt(130))}})},
      {"Observation?code-value-concept=" + loinc + "|" + concept_code + "$" + concept_value_system +
           "|" + concept_value,
       any_item(true, false, {{coded(loinc, concept_code), concept_is(concept_value_system, concept_value)}})},
      {"Observation?component-code-value-quantity:missing=false",
       any_item(false, true, {{[](const json::value& item) {
                                 auto* c = item.as_object().if_contains("code");
                                 return c && c->as_object().contains("coding");
                               }, quantity([](double) { return true; })}})},
      {"Observation?code-value-quantity:missing=true", [&] {
         auto with = any_item(true, false, {{[](const json::value& item) {
                                                return item.at("code").as_object().contains("coding");
                                              }, [](const json::value& item) {
                                                return item.as_object().contains("valueQuantity");
                                              }}});
         return expect("Observation", [&](const json::value& r) {
           return !with.count(std::string(r.at("id").as_string()));
         });
       }()},
  };
  for (auto& c : composites) queries.push_back(std::move(c));
  for (const auto& q : queries) {
    EXPECT_EQ(Ids("/fhir/" + q.query), q.expected) << q.query;
  }
  // The queries must not be vacuous.
  EXPECT_GT(queries[2].expected.size(), 10u);
  EXPECT_GT(queries[4].expected.size(), 0u);
  EXPECT_LT(queries[4].expected.size(), queries[2].expected.size());
  for (size_t i = queries.size() - composites.size(); i < queries.size(); ++i) {
    EXPECT_GT(queries[i].expected.size(), 0u) << "vacuous: " << queries[i].query;
  }
  // The same-tuple rule matters here: many blood pressures have a diastolic
  // component and some component above 85 (the systolic one).
  auto diastolic = any_item(false, true, {{coded(loinc, "8462-4")}});
  auto above = any_item(false, true, {{quantity(gt(85))}});
  std::set<std::string> loose;
  for (const auto& id : diastolic) {
    if (above.count(id)) loose.insert(id);
  }
  EXPECT_GT(loose.size(), queries[queries.size() - composites.size() + 2].expected.size());
}

}  // namespace
}  // namespace crs::e2e

namespace crs::e2e {
namespace {

TEST_F(SearchTest, IncludeRevincludeAndIterate) {
  ASSERT_EQ(Put("/fhir/Organization/Y1", R"({"resourceType":"Organization","id":"Y1","name":"Practice"})").status, 201);
  std::string p = CreateId("Patient", R"({"resourceType":"Patient","gender":"female",
    "generalPractitioner":[{"reference":"Organization/Y1"}]})");
  std::string q = CreateId("Patient", R"({"resourceType":"Patient","gender":"male"})");
  std::string o1 = CreateId("Observation", R"({"resourceType":"Observation","status":"final",
    "code":{"text":"a"},"subject":{"reference":"Patient/)" + p + R"("}})");
  std::string o2 = CreateId("Observation", R"({"resourceType":"Observation","status":"final",
    "code":{"text":"b"},"subject":{"reference":"Patient/)" + p + R"("}})");
  auto entries = [&](const std::string& query) {
    std::multiset<std::string> out;  // "mode type/id"
    auto b = Get(query).Json();
    if (auto* e = b.as_object().if_contains("entry")) {
      for (auto& x : e->as_array()) {
        std::string mode(x.at("search").at("mode").as_string());
        auto& r = x.at("resource");
        std::string rt(r.at("resourceType").as_string());
        out.insert(mode + " " + rt + (mode == "outcome" ? "" : "/" + std::string(r.at("id").as_string())));
      }
    }
    return out;
  };
  using M = std::multiset<std::string>;
  // Forward include: each referenced Patient once, however many matches point at it.
  EXPECT_EQ(entries("/fhir/Observation?status=final&_include=Observation:subject"),
            M({"match Observation/" + o1, "match Observation/" + o2, "include Patient/" + p}));
  EXPECT_EQ(entries("/fhir/Observation?status=final&_include=Observation:subject:Group"),
            M({"match Observation/" + o1, "match Observation/" + o2}));
  // Reverse include.
  EXPECT_EQ(entries("/fhir/Patient?_id=" + p + "," + q + "&_revinclude=Observation:subject"),
            M({"match Patient/" + p, "match Patient/" + q, "include Observation/" + o1,
               "include Observation/" + o2}));
  // :iterate follows includes of includes; without it, it does not.
  EXPECT_EQ(entries("/fhir/Observation?_id=" + o1 +
                    "&_include=Observation:subject&_include:iterate=Patient:general-practitioner"),
            M({"match Observation/" + o1, "include Patient/" + p, "include Organization/Y1"}));
  EXPECT_EQ(entries("/fhir/Observation?_id=" + o1 +
                    "&_include=Observation:subject&_include=Patient:general-practitioner"),
            M({"match Observation/" + o1, "include Patient/" + p, "outcome OperationOutcome"}));
  EXPECT_EQ(Get("/fhir/Observation?_include=Observation:status").status, 400);
  EXPECT_EQ(Get("/fhir/Observation?_include=Unicorn:subject").status, 400);
}

TEST_F(SearchTest, IncludesBeyondTheLimitAreReportedNotDropped) {
  std::string p = CreateId("Patient", R"({"resourceType":"Patient"})");
  std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[)";
  for (int i = 0; i < 1005; ++i) {
    if (i) tx += ",";
    tx += R"({"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
      "subject":{"reference":"Patient/)" + p + R"("}},"request":{"method":"POST","url":"Observation"}})";
  }
  tx += "]}";
  ASSERT_EQ(Post("/fhir", tx).status, 200);
  auto b = Get("/fhir/Patient?_id=" + p + "&_revinclude=Observation:subject").Json();
  int included = 0;
  std::string warning;
  for (auto& e : b.at("entry").as_array()) {
    if (e.at("search").at("mode") == "include") ++included;
    if (e.at("search").at("mode") == "outcome") {
      warning = std::string(e.at("resource").at("issue").at(0).at("diagnostics").as_string());
    }
  }
  EXPECT_EQ(included, 1000);
  EXPECT_NE(warning.find("5 included resources were left out"), std::string::npos) << warning;
}

}  // namespace
}  // namespace crs::e2e

namespace crs::e2e {
namespace {

TEST_F(SearchTest, SortWithKeysetPaging) {
  // Birth dates with duplicates and gaps; two patients without one.
  std::vector<std::pair<std::string, std::string>> born;  // (birthDate or "", id)
  const char* dates[] = {"1990-01-01", "1980-05-05", "", "1990-01-01", "2001-12-31",
                         "1955-07-07", "", "1980-05-05", "1999-09-09", "1990-01-01"};
  int n = 0;
  for (const char* d : dates) {
    std::string body = std::string(R"({"resourceType":"Patient","name":[{"family":"F)") +
                       std::to_string(n++ % 3) + R"("}])" +
                       (*d ? std::string(R"(,"birthDate":")") + d + "\"" : std::string()) + "}";
    born.emplace_back(d, CreateId("Patient", body));
  }
  auto ordered = [&](const std::string& query) {
    std::vector<std::string> ids;
    std::string next = query;
    while (!next.empty()) {
      auto b = Get(next).Json();
      EXPECT_EQ(b.at("resourceType"), "Bundle") << next << " " << json::serialize(b);
      if (!b.is_object() || b.at("resourceType") != "Bundle") break;
      if (auto* e = b.as_object().if_contains("entry")) {
        for (auto& x : e->as_array()) ids.push_back(std::string(x.at("resource").at("id").as_string()));
      }
      next.clear();
      for (auto& l : b.at("link").as_array()) {
        if (l.at("relation") == "next") {
          std::string url(l.at("url").as_string());
          next = url.substr(url.find("/fhir/"));
        }
      }
    }
    return ids;
  };
  // Expected: by date, ties in creation order (the server's position), no date last.
  auto expected = [&](bool desc) {
    auto v = born;
    std::stable_sort(v.begin(), v.end(), [&](const auto& a, const auto& b) {
      if (a.first.empty() != b.first.empty()) return b.first.empty();
      return desc ? a.first > b.first : a.first < b.first;
    });
    std::vector<std::string> ids;
    for (auto& [d, id] : v) ids.push_back(id);
    return ids;
  };
  EXPECT_EQ(ordered("/fhir/Patient?_sort=birthdate&_count=3"), expected(false));
  EXPECT_EQ(ordered("/fhir/Patient?_sort=-birthdate&_count=3"), expected(true));
  EXPECT_EQ(ordered("/fhir/Patient?_sort=-birthdate&_count=100"), expected(true));
  // Two keys: family then birth date descending, paged by 2.
  auto two = ordered("/fhir/Patient?_sort=family,-birthdate&_count=2");
  EXPECT_EQ(two.size(), born.size());
  EXPECT_EQ(std::set<std::string>(two.begin(), two.end()).size(), born.size());
  EXPECT_EQ(Get("/fhir/Patient?_sort=colour").status, 400);
  EXPECT_EQ(Get("/fhir/Patient?_sort=birthdate&_cursor=%5B1,2,3%5D").status, 400);
}

TEST_F(SearchTest, SystemLevelSearch) {
  // (creation order) type, id, lastUpdated
  std::vector<std::tuple<std::string, std::string, std::string>> made;
  auto make = [&](const std::string& type, const std::string& body) {
    auto r = Post("/fhir/" + type, body);
    EXPECT_EQ(r.status, 201) << r.body;
    auto v = r.Json();
    made.emplace_back(type, std::string(v.at("id").as_string()),
                      std::string(v.at("meta").at("lastUpdated").as_string()));
    return std::string(v.at("id").as_string());
  };
  const std::string tag = R"("meta":{"tag":[{"system":"urn:t","code":"blue"}]})";
  std::string p1 = make("Patient", R"({"resourceType":"Patient","gender":"male",)" + tag + "}");
  std::string p2 = make("Patient", R"({"resourceType":"Patient","gender":"female"})");
  std::string o1 = make("Observation", R"({"resourceType":"Observation","status":"final",)" + tag +
                                           R"(,"code":{"text":"x"},"subject":{"reference":"Patient/)" +
                                           p1 + R"("}})");
  std::string r1 = make("Person", R"({"resourceType":"Person","gender":"male"})");
  std::string g1 = make("Organization", R"({"resourceType":"Organization","name":"Org",)" + tag + "}");
  using S = std::set<std::string>;
  struct Case { std::string query; S expected; };
  std::vector<Case> cases = {
      {"/fhir?_type=Patient,Observation", {p1, p2, o1}},
      {"/fhir?_type=Patient,Observation&_count=1", {p1, p2, o1}},
      {"/fhir?_type=Patient&_type=Observation", {p1, p2, o1}},
      {"/fhir?_tag=urn:t|blue", {p1, o1, g1}},
      {"/fhir?_tag=urn:t|blue&_count=2", {p1, o1, g1}},
      {"/fhir?_type=Patient,Organization&_tag=urn:t|blue", {p1, g1}},
      {"/fhir?_tag:not=urn:t|blue&_type=Patient,Person", {p2, r1}},
      {"/fhir?_id=" + p2 + "," + o1 + "," + r1, {p2, o1, r1}},
      {"/fhir?_type=Patient,Person&gender=male", {p1, r1}},
      {"/fhir?_type=Observation,Organization&_tag:missing=true", {}},
      {"/fhir?_type=Observation,Patient&_lastUpdated=gt2000-01-01", {p1, p2, o1}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Ids(c.query), c.expected) << c.query;
  }
  // Paging through the cursor: one page per match.
  int pages = 0;
  EXPECT_EQ(Ids("/fhir?_type=Patient,Observation,Person,Organization&_count=1", &pages).size(), 5u);
  EXPECT_EQ(pages, 5);
  // Totals, with and without paging; the entries name their own types.
  auto page = Get("/fhir?_type=Patient,Observation&_total=accurate&_count=1");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.Json().at("total").as_int64(), 3);
  auto count = Get("/fhir?_tag=urn:t|blue&_summary=count").Json();
  EXPECT_EQ(count.at("total").as_int64(), 3);
  auto typed = Get("/fhir?_id=" + o1 + "," + g1).Json();
  S full_urls;
  for (auto& e : typed.at("entry").as_array()) {
    std::string url(e.at("fullUrl").as_string());
    full_urls.insert(url.substr(url.find("/fhir/") + 6));
  }
  EXPECT_EQ(full_urls, (S{"Observation/" + o1, "Organization/" + g1}));
  // _sort by _lastUpdated (descending) and _id, paged by the keyset cursor.
  auto ordered = [&](const std::string& query) {
    std::vector<std::string> ids;
    std::string next = query;
    for (int n = 0; !next.empty() && n < 20; ++n) {
      auto b = Get(next).Json();
      if (!b.is_object() || b.at("resourceType") != "Bundle") {
        ADD_FAILURE() << next << ": " << json::serialize(b);
        break;
      }
      if (auto* e = b.as_object().if_contains("entry")) {
        for (auto& x : e->as_array()) ids.push_back(std::string(x.at("resource").at("id").as_string()));
      }
      next.clear();
      for (auto& l : b.at("link").as_array()) {
        if (l.at("relation") == "next") {
          std::string url(l.at("url").as_string());
          next = url.substr(url.find("/fhir"));
        }
      }
    }
    return ids;
  };
  auto by_updated_desc = made;
  std::stable_sort(by_updated_desc.begin(), by_updated_desc.end(),
                   [](const auto& a, const auto& b) { return std::get<2>(a) > std::get<2>(b); });
  std::vector<std::string> want_desc, want_id;
  for (auto& m : by_updated_desc) want_desc.push_back(std::get<1>(m));
  for (auto& m : made) want_id.push_back(std::get<1>(m));
  std::sort(want_id.begin(), want_id.end());
  EXPECT_EQ(ordered("/fhir?_type=Patient,Observation,Person,Organization&_sort=-_lastUpdated&_count=2"),
            want_desc);
  EXPECT_EQ(ordered("/fhir?_type=Patient,Observation,Person,Organization&_sort=_id&_count=2"), want_id);
  // _include from a listed type.
  auto inc = Get("/fhir?_type=Observation,Organization&_tag=urn:t|blue&_include=Observation:subject").Json();
  S matched, included;
  for (auto& e : inc.at("entry").as_array()) {
    std::string id(e.at("resource").at("id").as_string());
    (e.at("search").at("mode") == "match" ? matched : included).insert(id);
  }
  EXPECT_EQ(matched, (S{o1, g1}));
  EXPECT_EQ(included, S{p1});
  // POST /fhir/_search (form-encoded) is the same search.
  auto post = client_->Send("POST", "/fhir/_search", "_type=Patient,Person&gender=male",
                            {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(post.status, 200) << post.body;
  S posted;
  auto posted_bundle = post.Json();
  for (auto& e : posted_bundle.at("entry").as_array()) {
    posted.insert(std::string(e.at("resource").at("id").as_string()));
  }
  EXPECT_EQ(posted, (S{p1, r1}));
  // A parameter some listed type lacks: a warning, or 400 when strict.
  auto lenient = Get("/fhir?_type=Patient,Observation&gender=male");
  ASSERT_EQ(lenient.status, 200);
  EXPECT_NE(lenient.body.find(R"("mode":"outcome")"), std::string::npos) << lenient.body;
  EXPECT_EQ(Get("/fhir?gender=male", {{"Prefer", "handling=strict"}}).status, 400);
  EXPECT_EQ(Get("/fhir?_type=Patient,Observation&gender=male", {{"Prefer", "handling=strict"}}).status,
            400);
  for (const char* q : {"/fhir?_type=Unicorn", "/fhir?_type=", "/fhir?_lastUpdated=notadate",
                        "/fhir?_type=Patient&_sort=colour", "/fhir?_cursor=xyz"}) {
    auto r = Get(q);
    EXPECT_EQ(r.status, 400) << q << ": " << r.body;
  }
  EXPECT_EQ(client_->Send("PUT", "/fhir/_search", "").status, 405);
  // The CapabilityStatement says so.
  auto cs = Get("/fhir/metadata").Json();
  S system_interactions;
  for (auto& i : cs.at("rest").at(0).at("interaction").as_array()) {
    system_interactions.insert(std::string(i.at("code").as_string()));
  }
  EXPECT_TRUE(system_interactions.count("search-system"));
}

}  // namespace
}  // namespace crs::e2e

namespace crs::e2e {
namespace {

bool ReferencesAnywhere(const json::value& v, const std::string& ref) {
  if (auto* o = v.if_object()) {
    for (auto& [k, c] : *o) {
      if (k == "reference" && c.is_string() && c.as_string() == ref) return true;
      if (ReferencesAnywhere(c, ref)) return true;
    }
  } else if (auto* a = v.if_array()) {
    for (auto& c : *a) {
      if (ReferencesAnywhere(c, ref)) return true;
    }
  }
  return false;
}

TEST_F(SearchTest, PatientEverythingIsTheCompartmentPaged) {
  fs::path dir = fs::path(CRS_SHARED_DIR) / "synthea" / "smart-generated-sample-data-R4";
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) files.push_back(e.path());
  if (files.size() < 2) GTEST_SKIP() << "no Synthea data";
  std::sort(files.begin(), files.end());
  std::vector<json::value> loaded;
  for (int i = 0; i < 2; ++i) {  // two patients: the other one's data must not leak in
    auto r = Post("/fhir", ReadFile(files[i].string()));
    ASSERT_EQ(r.status, 200);
    auto response = r.Json();
    for (auto& e : response.at("entry").as_array()) loaded.push_back(e.at("resource"));
  }
  std::string pid;
  for (auto& r : loaded) {
    if (r.at("resourceType") == "Patient") {
      pid = std::string(r.at("id").as_string());
      break;
    }
  }
  // Expected: the patient and every resource of a compartment type that
  // references it (Synthea links only through the compartment's parameters).
  std::set<std::string> compartment_types;
  auto compartment = json::parse(
      ReadFile(std::string(CRS_SOURCE_DIR_E2E) + "/src/fhir/data/compartment_patient.json"));
  for (auto& [type, params] : compartment.at("links").as_object()) {
    compartment_types.insert(std::string(type));
  }
  std::set<std::string> expected;
  for (auto& r : loaded) {
    std::string type(r.at("resourceType").as_string()), id(r.at("id").as_string());
    if ((type == "Patient" && id == pid) ||
        (compartment_types.count(type) && ReferencesAnywhere(r, "Patient/" + pid))) {
      expected.insert(type + "/" + id);
    }
  }
  std::set<std::string> got;
  std::string next = "/fhir/Patient/" + pid + "/$everything?_count=25";
  int pages = 0;
  while (!next.empty() && pages < 100) {
    auto page = Get(next);
    ASSERT_EQ(page.status, 200) << next << ": " << page.body;
    auto b = page.Json();
    ++pages;
    for (auto& e : b.at("entry").as_array()) {
      auto& r = e.at("resource");
      EXPECT_TRUE(got.insert(std::string(r.at("resourceType").as_string()) + "/" +
                             std::string(r.at("id").as_string())).second);
    }
    next.clear();
    for (auto& l : b.at("link").as_array()) {
      if (l.at("relation") == "next") {
        std::string url(l.at("url").as_string());
        next = url.substr(url.find("/fhir/"));
      }
    }
  }
  EXPECT_GT(pages, 2);
  EXPECT_EQ(got, expected);
  // _type narrows; unknown patients are 404.
  auto obs = Get("/fhir/Patient/" + pid + "/$everything?_type=Observation&_count=1000").Json();
  for (auto& e : obs.at("entry").as_array()) {
    EXPECT_EQ(e.at("resource").at("resourceType"), "Observation");
  }
  EXPECT_EQ(Get("/fhir/Patient/nobody/$everything").status, 404);
}

}  // namespace
}  // namespace crs::e2e

namespace crs::e2e {
namespace {

std::set<std::string> Keys(const json::value& v) {
  std::set<std::string> out;
  for (auto& [k, x] : v.as_object()) out.insert(std::string(k));
  return out;
}

bool Subsetted(const json::value& r) {
  auto* meta = r.as_object().if_contains("meta");
  auto* tags = meta ? meta->as_object().if_contains("tag") : nullptr;
  if (!tags) return false;
  for (auto& t : tags->as_array()) {
    if (t.at("code") == "SUBSETTED" &&
        t.at("system") == "http://terminology.hl7.org/CodeSystem/v3-ObservationValue") {
      return true;
    }
  }
  return false;
}

TEST_F(SearchTest, SummaryAndElementsOnReadVreadAndSearch) {
  std::string p = CreateId("Patient", R"({"resourceType":"Patient",
    "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Ann</div>"},
    "name":[{"family":"Ash","given":["Ann"]}],"gender":"female","birthDate":"1970-01-01",
    "maritalStatus":{"text":"married"},"contact":[{"name":{"family":"Kin"}}],
    "communication":[{"language":{"text":"English"}}]})");
  std::string o = CreateId("Observation", R"({"resourceType":"Observation","status":"final",
    "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">BP</div>"},
    "code":{"text":"BP"},"subject":{"reference":"Patient/)" + p + R"("},
    "referenceRange":[{"text":"normal"}],
    "component":[{"code":{"text":"sys"},"valueQuantity":{"value":120},"interpretation":[{"text":"N"}]}]})");
  using S = std::set<std::string>;
  const std::string read = "/fhir/Patient/" + p;
  // Which elements each mode keeps follows the definitions' isSummary flags
  // and cardinalities (Observation.status and .code are mandatory). The
  // server adds the NHS number (identifier) to a created Patient.
  struct Case { std::string url; S keys; bool subsetted; };
  std::vector<Case> cases = {
      {read + "?_summary=true", {"resourceType", "id", "meta", "identifier", "name", "gender", "birthDate"}, true},
      {read + "?_summary=text", {"resourceType", "id", "meta", "text"}, true},
      {read + "?_summary=data", {"resourceType", "id", "meta", "identifier", "name", "gender", "birthDate",
                                 "maritalStatus", "contact", "communication"}, true},
      {read + "?_summary=false", {"resourceType", "id", "meta", "identifier", "text", "name", "gender", "birthDate",
                                  "maritalStatus", "contact", "communication"}, false},
      {read, {"resourceType", "id", "meta", "identifier", "text", "name", "gender", "birthDate", "maritalStatus",
              "contact", "communication"}, false},
      {read + "?_elements=gender,maritalStatus", {"resourceType", "id", "meta", "gender", "maritalStatus"}, true},
      {read + "?_elements=Patient.name", {"resourceType", "id", "meta", "name"}, true},
      {read + "/_history/1?_summary=true", {"resourceType", "id", "meta", "identifier", "name", "gender", "birthDate"}, true},
      {read + "/_history/1?_elements=birthDate", {"resourceType", "id", "meta", "birthDate"}, true},
      {"/fhir/Observation/" + o + "?_summary=text", {"resourceType", "id", "meta", "text", "status", "code"}, true},
      {"/fhir/Observation/" + o + "?_elements=subject", {"resourceType", "id", "meta", "status", "code", "subject"}, true},
      {"/fhir/Observation/" + o + "?_summary=true", {"resourceType", "id", "meta", "status", "code", "subject", "component"}, true},
  };
  for (const auto& c : cases) {
    auto r = Get(c.url);
    ASSERT_EQ(r.status, 200) << c.url << ": " << r.body;
    auto v = r.Json();
    EXPECT_EQ(Keys(v), c.keys) << c.url;
    EXPECT_EQ(Subsetted(v), c.subsetted) << c.url;
  }
  // Inside a kept BackboneElement, the children's own flags apply.
  auto obs = Get("/fhir/Observation/" + o + "?_summary=true").Json();
  EXPECT_EQ(Keys(obs.at("component").at(0)), (S{"code", "valueQuantity"}));
  // Search: matches are subsetted by _elements, included resources are not.
  auto b = Get("/fhir/Patient?_id=" + p + "&_elements=gender&_revinclude=Observation:subject").Json();
  int seen = 0;
  for (auto& e : b.at("entry").as_array()) {
    auto& r = e.at("resource");
    if (e.at("search").at("mode") == "match") {
      EXPECT_EQ(Keys(r), (S{"resourceType", "id", "meta", "gender"}));
      EXPECT_TRUE(Subsetted(r));
      ++seen;
    } else {
      EXPECT_TRUE(r.as_object().contains("referenceRange"));
      EXPECT_FALSE(Subsetted(r));
      ++seen;
    }
  }
  EXPECT_EQ(seen, 2);
  // _summary=true applies to every entry; the links keep it.
  auto sum = Get("/fhir/Patient?_id=" + p + "&_summary=true&_revinclude=Observation:subject").Json();
  for (auto& e : sum.at("entry").as_array()) {
    EXPECT_TRUE(Subsetted(e.at("resource")));
    EXPECT_FALSE(e.at("resource").as_object().contains("text"));
  }
  std::string self(sum.at("link").at(0).at("url").as_string());
  EXPECT_NE(self.find("_summary=true"), std::string::npos) << self;
  // The search no longer warns about _elements.
  auto elements = Get("/fhir/Patient?_id=" + p + "&_elements=gender");
  EXPECT_EQ(elements.body.find(R"("mode":"outcome")"), std::string::npos) << elements.body;
  for (const std::string& bad : std::vector<std::string>{read + "?_summary=maybe", read + "?_elements=",
                                                         "/fhir/Patient?_summary=everything"}) {
    EXPECT_EQ(Get(bad).status, 400) << bad;
  }
}

TEST_F(SearchTest, EverythingSinceStartAndEnd) {
  std::vector<std::tuple<std::string, std::string, std::string>> made;  // Type/id, lastUpdated, care date
  auto make = [&](const std::string& type, const std::string& body, const std::string& care) {
    auto r = Post("/fhir/" + type, body);
    EXPECT_EQ(r.status, 201) << r.body;
    auto v = r.Json();
    std::string ref = type + "/" + std::string(v.at("id").as_string());
    made.emplace_back(ref, std::string(v.at("meta").at("lastUpdated").as_string()), care);
    return std::string(v.at("id").as_string());
  };
  std::string p = make("Patient", R"({"resourceType":"Patient","gender":"male"})", "");
  std::string subject = R"("subject":{"reference":"Patient/)" + p + R"("})";
  make("Observation", R"({"resourceType":"Observation","status":"final","code":{"text":"a"},)" +
                          subject + R"(,"effectiveDateTime":"2019-05-01T10:00:00Z"})", "2019-05-01");
  make("Observation", R"({"resourceType":"Observation","status":"final","code":{"text":"b"},)" +
                          subject + R"(,"effectiveDateTime":"2021-03-03"})", "2021-03-03");
  make("Condition", R"({"resourceType":"Condition",)" + subject + R"(,"onsetDateTime":"2020-06-01"})",
       "2020-06-01");
  make("MedicationRequest", R"({"resourceType":"MedicationRequest","status":"active","intent":"order",)"
                            R"("medicationCodeableConcept":{"text":"x"},)" + subject +
                                R"(,"authoredOn":"2021-01-01"})", "2021-01-01");
  make("Observation", R"({"resourceType":"Observation","status":"final","code":{"text":"undated"},)" +
                          subject + "}", "none");
  // Another patient's record never appears.
  std::string other = CreateId("Patient", R"({"resourceType":"Patient"})");
  CreateId("Observation", R"({"resourceType":"Observation","status":"final","code":{"text":"c"},)"
                          R"("subject":{"reference":"Patient/)" + other +
                              R"("},"effectiveDateTime":"2020-02-02"})");
  auto everything = [&](const std::string& params) {
    std::set<std::string> got;
    std::string next = "/fhir/Patient/" + p + "/$everything?_count=2" + params;
    for (int n = 0; !next.empty() && n < 20; ++n) {
      auto page = Get(next);
      EXPECT_EQ(page.status, 200) << next << ": " << page.body;
      if (page.status != 200) break;
      auto b = page.Json();
      if (auto* e = b.as_object().if_contains("entry")) {
        for (auto& x : e->as_array()) {
          got.insert(std::string(x.at("resource").at("resourceType").as_string()) + "/" +
                     std::string(x.at("resource").at("id").as_string()));
        }
      }
      next.clear();
      for (auto& l : b.at("link").as_array()) {
        if (l.at("relation") == "next") {
          std::string url(l.at("url").as_string());
          next = url.substr(url.find("/fhir"));
        }
      }
    }
    return got;
  };
  // Expected from what was written: the patient always (it has no date of
  // care); dated records whose date falls in [start, end]; undated ones never.
  auto expected = [&](const std::string& start, const std::string& end, const std::string& since) {
    std::set<std::string> out;
    for (auto& [ref, updated, care] : made) {
      if (!since.empty() && updated < since) continue;
      if (!care.empty() && (!start.empty() || !end.empty())) {
        if (care == "none") continue;
        if (!start.empty() && care.substr(0, start.size()) < start) continue;
        if (!end.empty() && care.substr(0, end.size()) > end) continue;
      }
      out.insert(ref);
    }
    return out;
  };
  EXPECT_EQ(everything(""), expected("", "", ""));
  EXPECT_EQ(everything("&start=2020-01-01&end=2020-12-31"), expected("2020-01-01", "2020-12-31", ""));
  EXPECT_EQ(everything("&start=2021"), expected("2021", "", ""));
  EXPECT_EQ(everything("&end=2019"), expected("", "2019", ""));
  EXPECT_EQ(everything("&start=2020-06-01&end=2020-06-01"), expected("2020-06-01", "2020-06-01", ""));
  EXPECT_EQ(everything("&start=2020-06-01&end=2020-06-01").size(), 2u);
  std::string since = std::get<1>(made[2]);
  EXPECT_EQ(everything("&_since=" + since), expected("", "", since));
  EXPECT_EQ(everything("&_since=" + since + "&start=2021"), expected("2021", "", since));
  EXPECT_EQ(everything("&_since=2999-01-01T00:00:00Z"), std::set<std::string>{});
  for (const char* bad : {"?start=notadate", "?_since=2020-01-01", "?start=2021&end=2020",
                          "?_since=2020-01-01T00:00:00Z&_federated=true"}) {
    auto r = Get("/fhir/Patient/" + p + "/$everything" + bad);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
  }
}

}  // namespace
}  // namespace crs::e2e
