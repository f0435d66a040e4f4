#include "nhs/trace.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace crs::nhs::trace {
namespace {

TracePatient Read(std::string_view json, std::string_view today = "2025-01-01") {
  return ReadPatient(boost::json::parse(json).as_object(), today);
}

// A patient with a current and an old name and address, as `crs gen` writes them.
constexpr std::string_view kJane = R"({"resourceType":"Patient","id":"9990000018",
  "name":[{"use":"official","family":"Smith","given":["Jane","Anne"],
           "period":{"start":"2010-06-01"}},
          {"use":"old","family":"Watson","given":["Jane"],"period":{"end":"2010-06-01"}}],
  "gender":"female","birthDate":"1980-03-07",
  "address":[{"use":"home","postalCode":"LS1 4AB"},
             {"postalCode":"YO10 5DD","period":{"start":"2001-01-01","end":"2015-02-01"}}],
  "telecom":[{"system":"phone","value":"07700 900123"},{"system":"email","value":"jane@example.com"}],
  "generalPractitioner":[{"reference":"Organization/L10007",
    "identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"L10007"}}]})";

TraceQuery Fuzzy(std::string family, std::vector<std::string> given, std::string dob) {
  TraceQuery q;
  q.family = std::move(family);
  q.given = std::move(given);
  q.birth_date = std::move(dob);
  q.gender = "female";
  return q;
}

TEST(TraceRulesTest, EditDistanceCountsTranspositionsOnce) {
  const std::tuple<const char*, const char*, int> kCases[] = {
      {"smith", "smith", 0}, {"smith", "smyth", 1}, {"jones", "jnoes", 1}, {"jones", "jone", 1},
      {"kitten", "sitting", 3}, {"", "abc", 3}, {"ca", "abc", 3}};
  for (const auto& [a, b, d] : kCases) EXPECT_EQ(EditDistance(a, b), d) << a << " " << b;
}

TEST(TraceRulesTest, NameSimilarityRanksSoundAndTypos) {
  EXPECT_EQ(NameSimilarity("SMITH", "smith"), 1);
  EXPECT_EQ(NameSimilarity("O'Brien", "OBrien"), 1);
  EXPECT_EQ(NameSimilarity("Smyth", "Smith"), 0.9);      // same sound, one edit
  EXPECT_EQ(NameSimilarity("Jnoes", "Jones"), 0.9);      // transposed letters
  EXPECT_EQ(NameSimilarity("Kones", "Jones"), 0.85);     // first-letter typo: another sound
  EXPECT_EQ(NameSimilarity("Ashcroft", "Ashcraft"), 0.9);
  EXPECT_EQ(NameSimilarity("Robertson", "Rabertsen"), 0.9);
  EXPECT_EQ(NameSimilarity("Tymczak", "Tomsiak"), 0.75);  // sound only
  EXPECT_EQ(NameSimilarity("Jane", "John"), 0.5);        // short: sound is weak
  EXPECT_EQ(NameSimilarity("Smith", "Jones"), 0);
}

TEST(TraceRulesTest, NicknamesAndInitials) {
  EXPECT_TRUE(AreNicknames("Bill", "William"));
  EXPECT_TRUE(AreNicknames("william", "BILLY"));
  EXPECT_TRUE(AreNicknames("Kate", "Catherine"));
  EXPECT_FALSE(AreNicknames("Bill", "Robert"));
  EXPECT_FALSE(AreNicknames("John", "John"));
  EXPECT_EQ(GivenSimilarity("Bob", "Robert"), 0.9);
  EXPECT_EQ(GivenSimilarity("J", "John"), 0.6);
  EXPECT_EQ(GivenSimilarity("Jon", "John"), 0.9);
  EXPECT_EQ(GivenSimilarity("Mary", "John"), 0);
  EXPECT_EQ(GivenSimilarity("Jane", "John"), 0.3);  // twins differ by a sound-alike name
}

TEST(TraceRulesTest, DayAndMonthSwapped) {
  EXPECT_EQ(SwapDayMonth("1980-03-07"), "1980-07-03");
  EXPECT_EQ(SwapDayMonth("1980-03-13"), std::nullopt);  // no 13th month
  EXPECT_EQ(SwapDayMonth("1980-04-04"), std::nullopt);  // the same date
  EXPECT_EQ(SwapDayMonth("1980-3-7"), std::nullopt);
  EXPECT_EQ(BirthDateSimilarity("1980-03-07", "1980-03-07"), 1);
  EXPECT_EQ(BirthDateSimilarity("1980-07-03", "1980-03-07"), 0.85);
  EXPECT_EQ(BirthDateSimilarity("1981-03-07", "1980-03-07"), 0.6);
  EXPECT_EQ(BirthDateSimilarity("1980-03-08", "1980-03-07"), 0.5);
  EXPECT_EQ(BirthDateSimilarity("1980-03-07", "1980"), 0.8);
  EXPECT_EQ(BirthDateSimilarity("1975-11-20", "1980-03-07"), 0);
}

TEST(TraceRulesTest, PartialAndFullPostcodes) {
  EXPECT_EQ(NormalizePostcode("ls1 4ab"), "LS14AB");
  EXPECT_EQ(PostcodeSimilarity("LS1 4AB", "ls14ab"), 1);
  EXPECT_EQ(PostcodeSimilarity("LS1", "LS1 4AB"), 0.9);    // outward code only
  EXPECT_EQ(PostcodeSimilarity("LS1 4", "LS1 4AB"), 0.9);  // and sector
  EXPECT_EQ(PostcodeSimilarity("LS1 5", "LS1 4AB"), 0);
  EXPECT_EQ(PostcodeSimilarity("LS1", "LS14 4AB"), 0);     // LS14 is another district
  EXPECT_EQ(PostcodeSimilarity("LS1 9ZZ", "LS1 4AB"), 0.5);
  EXPECT_EQ(PostcodeSimilarity("LS6 9ZZ", "LS1 4AB"), 0.2);
  EXPECT_EQ(PostcodeSimilarity("M1 1AA", "LS1 4AB"), 0);
}

TEST(TraceRulesTest, Wildcards) {
  EXPECT_TRUE(WildcardMatch("sm*", "smith"));
  EXPECT_TRUE(WildcardMatch("sm*th", "smyth"));
  EXPECT_TRUE(WildcardMatch("sm*th", "smith-smyth"));
  EXPECT_FALSE(WildcardMatch("sm*th", "smithe"));
  EXPECT_FALSE(WildcardMatch("smith", "smit"));
}

TEST(TracePatientTest, ReadsHistoricNamesAddressesAndPractice) {
  TracePatient p = Read(kJane);
  ASSERT_EQ(p.names.size(), 2u);
  EXPECT_FALSE(p.names[0].historic);
  EXPECT_TRUE(p.names[1].historic);  // use old
  ASSERT_EQ(p.addresses.size(), 2u);
  EXPECT_TRUE(p.addresses[1].historic);  // period ended
  EXPECT_EQ(p.practices, (std::vector<std::string>{"L10007", "L10007"}));
  EXPECT_FALSE(p.restricted);
  // A period ending after today is still current.
  EXPECT_FALSE(Read(kJane, "2014-01-01").addresses[1].historic);
}

TEST(TraceExactTest, CurrentDataHistoryAndWildcards) {
  TracePatient p = Read(kJane);
  TraceQuery q;
  q.family = "smith";
  EXPECT_EQ(MatchExact(q, p), 1.0);
  q.family = "Sm*";
  EXPECT_EQ(MatchExact(q, p), 1.0);
  q.family = "Watson";
  EXPECT_EQ(MatchExact(q, p), std::nullopt);  // an old name needs _history
  q.history = true;
  EXPECT_EQ(MatchExact(q, p), 0.9);
  q.family = "Smith";
  q.given = {"Anne"};
  q.postcode = "YO10 5DD";  // the old address
  EXPECT_EQ(MatchExact(q, p), 0.9);
  q.history = false;
  EXPECT_EQ(MatchExact(q, p), std::nullopt);
  q.postcode = "ls1 4ab";
  q.phone = "+44 7700 900123";
  q.practice = "l10007";
  EXPECT_EQ(MatchExact(q, p), 1.0);
  q.exact = true;
  EXPECT_EQ(MatchExact(q, p), std::nullopt);  // as written: "ls1 4ab" is not "LS1 4AB"
  q.postcode = "LS1 4AB";
  EXPECT_EQ(MatchExact(q, p), 1.0);
  q.given = {"anne"};
  EXPECT_EQ(MatchExact(q, p), std::nullopt);
}

TEST(TraceExactTest, RestrictedIsNeverMatchedByContactDetails) {
  std::string json(kJane);
  json.insert(1, R"("meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},)");
  TracePatient p = Read(json);
  ASSERT_TRUE(p.restricted);
  TraceQuery q;
  q.postcode = "LS1 4AB";
  EXPECT_EQ(MatchExact(q, p), std::nullopt);
  q.postcode.clear();
  q.practice = "L10007";
  EXPECT_EQ(MatchExact(q, p), std::nullopt);
  q.family = "Smith";
  q.postcode = "M1 1AA";  // neither for nor against
  EXPECT_EQ(MatchExact(q, p), 1.0);
  // Fuzzy: the postcode earns a restricted record nothing.
  TraceQuery f = Fuzzy("Smith", {"Jane"}, "1980-03-07");
  f.postcode = "LS1 4AB";
  EXPECT_EQ(ScoreFuzzy(f, p), 1.0);
  f.postcode = "M1 1AA";
  EXPECT_EQ(ScoreFuzzy(f, p), 1.0);
}

TEST(TraceFuzzyTest, EachRealisticErrorStaysAboveTheThreshold) {
  TracePatient p = Read(kJane);
  auto score = [&](TraceQuery q) { return ScoreFuzzy(q, p); };
  TraceQuery exact = Fuzzy("Smith", {"Jane"}, "1980-03-07");
  exact.postcode = "LS1 4AB";
  EXPECT_DOUBLE_EQ(score(exact), 1.0);
  struct Case {
    const char* what;
    TraceQuery q;
  };
  std::vector<Case> cases = {
      {"phonetic family", Fuzzy("Smyth", {"Jane"}, "1980-03-07")},
      {"typo in family", Fuzzy("Smiht", {"Jane"}, "1980-03-07")},
      {"missing given", Fuzzy("Smith", {}, "1980-03-07")},
      {"nickname", Fuzzy("Smith", {"Janey"}, "1980-03-07")},
      {"middle name as given", Fuzzy("Smith", {"Anne"}, "1980-03-07")},
      {"names transposed", Fuzzy("Jane", {"Smith"}, "1980-03-07")},
      {"day and month swapped", Fuzzy("Smith", {"Jane"}, "1980-07-03")},
      {"historic name", Fuzzy("Watson", {"Jane"}, "1980-03-07")},
  };
  cases.push_back({"old postcode", exact});
  cases.back().q.postcode = "YO10 5DD";
  cases.push_back({"partial postcode", exact});
  cases.back().q.postcode = "LS1";
  for (const auto& c : cases) {
    double s = score(c.q);
    EXPECT_GE(s, kFuzzyThreshold) << c.what;
    EXPECT_LT(s, 1.0 + 1e-9) << c.what;
  }
  // Errors cost something: each scores below the exact query.
  for (size_t i = 0; i < cases.size(); ++i) {
    if (std::string(cases[i].what) == "missing given") continue;  // nothing contradicts
    EXPECT_LT(score(cases[i].q), 1.0) << cases[i].what;
  }
}

TEST(TraceFuzzyTest, OtherPeopleStayBelowTheThreshold) {
  TracePatient p = Read(kJane);
  // A twin: same family, birth date, address; another given name, even one
  // that sounds alike.
  for (const char* twin : {"Emily", "Joan"}) {
    TraceQuery q = Fuzzy("Smith", {twin}, "1980-03-07");
    q.postcode = "LS1 4AB";
    EXPECT_LT(ScoreFuzzy(q, p), kFuzzyThreshold) << twin;
  }
  // Same name, another birthday.
  EXPECT_LT(ScoreFuzzy(Fuzzy("Smith", {"Jane"}, "1975-11-20"), p), kFuzzyThreshold);
  // Same birthday, another family.
  EXPECT_LT(ScoreFuzzy(Fuzzy("Jones", {"Jane"}, "1980-03-07"), p), kFuzzyThreshold);
}

}  // namespace
}  // namespace crs::nhs::trace
