// The summary document's medication rules: acute medication counts for 12
// months (left out of an upload once older, and hidden by the view once it
// ages past that), repeat medication stays.
#include "api/summary_doc.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/time.h"

namespace crs::api {
namespace {

namespace json = boost::json;

int64_t At(const char* instant) { return *ParseFhirDateTime(instant); }

// A summary with three medication items: `old_acute` under AcuteMedsHeader,
// `recent_acute` a MedicationRequest marked acute (not in any section), and
// `repeat` under RepeatMedsHeader; each dated as given.
json::value Upload(const std::string& old_acute, const std::string& recent_acute,
                   const std::string& repeat) {
  return json::parse(R"({"resourceType":"Bundle","type":"document","entry":[
    {"fullUrl":"urn:uuid:c","resource":{"resourceType":"Composition","id":"c","status":"final",
      "type":{"coding":[{"system":"http://snomed.info/sct","code":"196981000000101"}]},
      "subject":{"reference":"Patient/9990000018"},"date":"2026-01-01T00:00:00Z","title":"t",
      "author":[{"display":"a"}],"section":[
        {"title":"Acute","code":{"coding":[{"code":"AcuteMedsHeader"}]},"entry":[{"reference":"urn:uuid:old"}]},
        {"title":"Repeat","code":{"coding":[{"code":"RepeatMedsHeader"}]},"entry":[{"reference":"urn:uuid:rep"}]}]}},
    {"fullUrl":"urn:uuid:p","resource":{"resourceType":"Patient","id":"9990000018"}},
    {"fullUrl":"urn:uuid:old","resource":{"resourceType":"MedicationStatement","id":"old","status":"active",
      "medicationCodeableConcept":{"coding":[{"code":"1"}]},"subject":{"reference":"Patient/9990000018"},
      "effectivePeriod":{"start":")" + old_acute + R"("}}},
    {"fullUrl":"urn:uuid:new","resource":{"resourceType":"MedicationRequest","id":"new","status":"active",
      "intent":"order","courseOfTherapyType":{"coding":[{"code":"acute"}]},
      "medicationCodeableConcept":{"coding":[{"code":"2"}]},"subject":{"reference":"Patient/9990000018"},
      "authoredOn":")" + recent_acute + R"("}},
    {"fullUrl":"urn:uuid:rep","resource":{"resourceType":"MedicationStatement","id":"rep","status":"active",
      "medicationCodeableConcept":{"coding":[{"code":"3"}]},"subject":{"reference":"Patient/9990000018"},
      "dateAsserted":")" + repeat + R"("}}]})");
}

std::set<std::string> Held(const json::value& doc) {
  std::set<std::string> out;
  for (const auto& e : doc.at("entry").as_array()) {
    const auto& r = e.at("resource").as_object();
    out.insert(std::string(r.at("resourceType").as_string()) + "/" +
               std::string(r.at("id").as_string()));
  }
  return out;
}

TEST(SummaryDocTest, AcuteMedicationOlderThanTwelveMonthsIsLeftOut) {
  access::SensitiveCodes none;
  SummaryRules rules;
  rules.sensitive = &none;
  rules.now_ms = At("2026-11-21T12:00:00Z");
  auto built = BuildSummary(Upload("2025-11-20", "2026-06-01", "2019-01-01"), rules);
  ASSERT_TRUE(built.ok()) << built.status().message();
  EXPECT_EQ(built->acute_expired_dropped, 1);
  std::set<std::string> held = Held(built->document);
  EXPECT_FALSE(held.count("MedicationStatement/old"));
  EXPECT_TRUE(held.count("MedicationRequest/new"));
  EXPECT_TRUE(held.count("MedicationStatement/rep")) << "repeat medication has no 12-month limit";
  std::string text = json::serialize(built->document);
  EXPECT_EQ(text.find("urn:uuid:old"), std::string::npos) << "its section reference goes too";

  // Exactly 12 months old is still in. A month-precision date counts to its
  // last day: October 2025 is out, November 2025 would be in.
  auto edge = BuildSummary(Upload("2025-11-21T12:00:00Z", "2025-10", "2019"), rules);
  ASSERT_TRUE(edge.ok());
  EXPECT_EQ(edge->acute_expired_dropped, 1);
  EXPECT_TRUE(Held(edge->document).count("MedicationStatement/old"));
  EXPECT_FALSE(Held(edge->document).count("MedicationRequest/new"));

  // Without a time, nothing is filtered.
  rules.now_ms = 0;
  auto all = BuildSummary(Upload("2001-01-01", "2001-01-01", "2001-01-01"), rules);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->acute_expired_dropped, 0);
  EXPECT_EQ(Held(all->document).size(), 5u);
}

TEST(SummaryDocTest, StoredAcuteMedicationAgesOutOfTheView) {
  access::SensitiveCodes none;
  SummaryRules rules;
  rules.sensitive = &none;
  rules.now_ms = At("2026-11-21T12:00:00Z");
  auto built = BuildSummary(Upload("2026-01-15", "2026-06-01", "2019-01-01"), rules);
  ASSERT_TRUE(built.ok());
  std::string stored = json::serialize(built->document);
  const json::object& doc = built->document.as_object();
  // Until the oldest acute item turns 12 months, the view need not look.
  EXPECT_FALSE(MayHoldExpiredAcute(stored, At("2026-12-01T00:00:00Z")));
  EXPECT_TRUE(ExpiredAcuteItems(doc, At("2026-12-01T00:00:00Z")).empty());
  EXPECT_TRUE(MayHoldExpiredAcute(stored, At("2027-02-01T00:00:00Z")));
  EXPECT_EQ(ExpiredAcuteItems(doc, At("2027-02-01T00:00:00Z")),
            std::set<std::string>{"MedicationStatement/old"});
  EXPECT_EQ(ExpiredAcuteItems(doc, At("2027-07-01T00:00:00Z")),
            (std::set<std::string>{"MedicationRequest/new", "MedicationStatement/old"}));
  // A summary without acute medication never needs the look.
  EXPECT_FALSE(MayHoldExpiredAcute(R"({"resourceType":"Bundle","entry":[]})", At("2030-01-01T00:00:00Z")));
}

}  // namespace
}  // namespace crs::api
