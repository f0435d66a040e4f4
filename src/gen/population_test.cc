// The synthetic population: deterministic, valid identifiers, realistic
// shape (ages, names, postcodes), and the hard cases tracing must handle.
#include "gen/population.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "gen/places.h"
#include "nhs/nhs_number.h"

namespace crs::gen {
namespace {

namespace json = boost::json;

// `extras`: with --summaries and --records.
std::string GenerateText(std::uint64_t patients, std::uint64_t seed, bool extras = false) {
  std::string out;
  Status s = Generate({patients, seed, extras, extras}, [&](std::string_view r) {
    out.append(r);
    out += '\n';
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::vector<json::object> GenerateResources(std::uint64_t patients, std::uint64_t seed,
                                            bool summaries = false, bool records = false) {
  std::vector<json::object> resources;
  Status s = Generate({patients, seed, summaries, records}, [&](std::string_view r) {
    resources.push_back(json::parse(r).as_object());
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return resources;
}

std::vector<json::object> Patients(const std::vector<json::object>& all) {
  std::vector<json::object> out;
  for (const auto& r : all) {
    if (r.at("resourceType") == "Patient") out.push_back(r);
  }
  return out;
}

std::string Str(const json::value& v) { return std::string(v.as_string()); }

int BirthYear(const json::object& p) { return std::stoi(Str(p.at("birthDate")).substr(0, 4)); }

// Age on kPopulationDate (2025-01-01); every birthday is on or before it.
int Age(const json::object& p) {
  std::string d = Str(p.at("birthDate"));
  return 2024 - std::stoi(d.substr(0, 4)) + (d.substr(5) == "01-01" ? 1 : 0);
}

const json::object& HomeAddress(const json::object& p) {
  return p.at("address").as_array().at(0).as_object();
}

std::string Key(const json::object& p, bool with_address) {
  const auto& name = p.at("name").as_array().at(0).as_object();
  std::string key = Str(name.at("family")) + "|" + Str(p.at("birthDate"));
  if (with_address) {
    const auto& a = HomeAddress(p);
    key += "|" + Str(a.at("postalCode")) + "|" + Str(a.at("line").as_array().back());
  }
  return key;
}

TEST(PopulationTest, SameSeedSameBytesOtherSeedOtherBytes) {
  std::string a = GenerateText(3000, 42, true);
  EXPECT_EQ(a, GenerateText(3000, 42, true));
  EXPECT_NE(a, GenerateText(3000, 43, true));
}

TEST(PopulationTest, EmitsExactlyTheRequestedPatientsWithPracticesFirst) {
  auto all = GenerateResources(1234, 3);
  EXPECT_EQ(Patients(all).size(), 1234u);
  std::set<std::string> orgs;
  bool seen_patient = false;
  for (const auto& r : all) {
    if (r.at("resourceType") == "Organization") {
      EXPECT_FALSE(seen_patient) << "practices come before the patients";
      orgs.insert(Str(r.at("id")));
      EXPECT_TRUE(std::regex_match(Str(r.at("id")), std::regex("[A-Z][0-9]{5}")));
    } else {
      seen_patient = true;
      const auto& gp = r.at("generalPractitioner").as_array().at(0).as_object();
      std::string ods = Str(gp.at("identifier").at("value"));
      EXPECT_EQ(Str(gp.at("reference")), "Organization/" + ods);
      EXPECT_EQ(Str(gp.at("identifier").at("system")),
                "https://fhir.nhs.uk/Id/ods-organization-code");
      EXPECT_TRUE(orgs.count(ods)) << ods;
    }
  }
  EXPECT_EQ(orgs.size(), PracticeCount(1234));
}

TEST(PopulationTest, NhsNumbersAreValidDistinctAndTheResourceId) {
  std::set<std::string> seen;
  for (const auto& p : Patients(GenerateResources(5000, 9))) {
    std::string id = Str(p.at("id"));
    EXPECT_TRUE(nhs::IsValidNhsNumber(id)) << id;
    EXPECT_EQ(id.substr(0, 3), "999");
    const auto& ident = p.at("identifier").as_array().at(0).as_object();
    EXPECT_EQ(Str(ident.at("system")), nhs::kNhsNumberSystem);
    EXPECT_EQ(Str(ident.at("value")), id);
    EXPECT_TRUE(seen.insert(id).second) << "duplicate " << id;
  }
  EXPECT_EQ(seen.size(), 5000u);
}

TEST(PopulationTest, NhsNumbersContinueBeyondThe999Range) {
  auto capacity = nhs::ValidNhsNumbersInRange(nhs::kTestNhsNumberRange);
  ASSERT_TRUE(capacity.ok());
  auto last = PatientNhsNumber(*capacity - 1);
  auto next = PatientNhsNumber(*capacity);
  ASSERT_TRUE(last.ok() && next.ok());
  EXPECT_EQ(last->substr(0, 3), "999");
  EXPECT_EQ(next->substr(0, 1), "9");
  EXPECT_NE(next->substr(0, 3), "999");
  EXPECT_TRUE(nhs::IsValidNhsNumber(*next));
  auto far = PatientNhsNumber(50'000'000);
  ASSERT_TRUE(far.ok());
  EXPECT_TRUE(nhs::IsValidNhsNumber(*far));
}

TEST(PopulationTest, PostcodesAreWellFormedAndNearThePractice) {
  std::regex uk("^[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}$");
  auto all = GenerateResources(5000, 11);
  std::map<std::string, std::string> practice_area;
  auto area_of = [](const std::string& postcode) {
    std::size_t n = 0;
    while (n < postcode.size() && std::isalpha(static_cast<unsigned char>(postcode[n]))) ++n;
    return postcode.substr(0, n);
  };
  int near = 0, patients = 0;
  for (const auto& r : all) {
    for (const auto& a : r.at("address").as_array()) {
      std::string pc = Str(a.at("postalCode"));
      EXPECT_TRUE(std::regex_match(pc, uk)) << pc;
      EXPECT_TRUE(IsWellFormedPostcode(pc)) << pc;
    }
    std::string pc = Str(HomeAddress(r).at("postalCode"));
    if (r.at("resourceType") == "Organization") {
      practice_area[Str(r.at("id"))] = area_of(pc);
      continue;
    }
    ++patients;
    std::string ods = Str(r.at("generalPractitioner").at(0).at("identifier").at("value"));
    if (practice_area[ods] == area_of(pc)) ++near;
  }
  EXPECT_EQ(near, patients) << "every patient's home is in their practice's postcode area";
}

TEST(PopulationTest, AllSixPostcodeFormatsOccur) {
  std::set<std::string> shapes;
  for (const auto& area : PostcodeAreas()) {
    for (const auto& d : area.districts) {
      std::string shape;
      for (char c : d) shape += std::isdigit(static_cast<unsigned char>(c)) ? '9' : 'A';
      shapes.insert(shape);
    }
  }
  EXPECT_EQ(shapes, (std::set<std::string>{"A9", "A99", "AA9", "AA99", "A9A", "AA9A"}));
  EXPECT_TRUE(IsWellFormedPostcode("SW1A 1AA"));
  EXPECT_FALSE(IsWellFormedPostcode("SW1A1AA"));
  EXPECT_FALSE(IsWellFormedPostcode("1W1A 1AA"));
}

TEST(PopulationTest, AgesFollowTheUkPyramid) {
  auto patients = Patients(GenerateResources(20000, 5));
  int under5 = 0, over85 = 0, over65 = 0, working = 0;
  for (const auto& p : patients) {
    int age = Age(p);
    EXPECT_GE(age, 0);
    EXPECT_LE(age, 105);
    if (age < 5) ++under5;
    if (age >= 85) ++over85;
    if (age >= 65) ++over65;
    if (age >= 20 && age < 65) ++working;
    if (p.contains("deceasedDateTime")) {
      EXPECT_GE(age, 70);
      EXPECT_GT(Str(p.at("deceasedDateTime")), Str(p.at("birthDate")));
    }
  }
  double n = static_cast<double>(patients.size());
  EXPECT_NEAR(under5 / n, 0.054, 0.012);
  EXPECT_NEAR(over85 / n, 0.024, 0.008);
  EXPECT_NEAR(over65 / n, 0.19, 0.025);
  EXPECT_NEAR(working / n, 0.58, 0.03);
}

TEST(PopulationTest, AboutOnePercentAreRestricted) {
  int restricted = 0;
  auto patients = Patients(GenerateResources(20000, 8));
  for (const auto& p : patients) {
    if (!p.contains("meta")) continue;
    const auto& label = p.at("meta").at("security").at(0);
    EXPECT_EQ(Str(label.at("system")), "http://terminology.hl7.org/CodeSystem/v3-Confidentiality");
    EXPECT_EQ(Str(label.at("code")), "R");
    ++restricted;
  }
  EXPECT_GT(restricted, 20000 * 0.006);
  EXPECT_LT(restricted, 20000 * 0.015);
}

TEST(PopulationTest, TwinsAndUnrelatedNamesakesArePresent) {
  auto patients = Patients(GenerateResources(10000, 13));
  std::map<std::string, std::vector<const json::object*>> households, namesakes;
  for (const auto& p : patients) {
    households[Key(p, true)].push_back(&p);
    std::string given = Str(p.at("name").at(0).at("given").at(0));
    namesakes[given + "|" + Key(p, false)].push_back(&p);
  }
  int twins = 0;
  for (const auto& [key, group] : households) {
    if (group.size() < 2) continue;
    if (Str(group[0]->at("name").at(0).at("given").at(0)) !=
        Str(group[1]->at("name").at(0).at("given").at(0))) {
      ++twins;
    }
  }
  int unrelated = 0;
  for (const auto& [key, group] : namesakes) {
    if (group.size() < 2) continue;
    if (Str(HomeAddress(*group[0]).at("postalCode")) !=
        Str(HomeAddress(*group[1]).at("postalCode"))) {
      ++unrelated;
    }
  }
  EXPECT_GE(twins, 30);
  EXPECT_GE(unrelated, 5);
}

TEST(PopulationTest, NamesFollowRealFrequencies) {
  auto patients = Patients(GenerateResources(20000, 21));
  std::map<std::string, int> surnames, recent_boys, fifties_girls;
  int with_old_name = 0;
  for (const auto& p : patients) {
    const auto& name = p.at("name").at(0).as_object();
    ++surnames[Str(name.at("family"))];
    std::string given = Str(name.at("given").at(0));
    int year = BirthYear(p);
    if (year >= 2019 && p.at("gender") == "male") ++recent_boys[given];
    if (year >= 1950 && year <= 1958 && p.at("gender") == "female") ++fifties_girls[given];
    if (p.at("name").as_array().size() > 1) {
      const auto& old = p.at("name").at(1).as_object();
      EXPECT_EQ(Str(old.at("use")), "old");
      EXPECT_TRUE(old.at("period").as_object().contains("end"));
      ++with_old_name;
    }
  }
  EXPECT_GT(surnames["Smith"], surnames["Jones"] / 2);
  EXPECT_GT(surnames["Smith"], 5 * (surnames["Postlethwaite"] + 1));
  EXPECT_GT(surnames["Smith"], 150);
  // Era-appropriate first names: a 2024 top name among young boys, a 1954
  // top name among women born in the fifties, and not the other way round.
  EXPECT_GT(recent_boys["Muhammad"] + recent_boys["Noah"] + recent_boys["Oliver"], 10);
  EXPECT_GT(fifties_girls["Susan"] + fifties_girls["Linda"] + fifties_girls["Christine"], 10);
  EXPECT_EQ(fifties_girls["Olivia"] + fifties_girls["Isla"], 0);
  EXPECT_GT(with_old_name, 20000 * 0.05);
}

TEST(PopulationTest, SummariesReferenceTheirPatient) {
  auto all = GenerateResources(2000, 7, /*summaries=*/false, /*records=*/true);
  std::set<std::string> patients;
  std::map<std::string, int> types;
  int no_known_allergy = 0;
  for (const auto& r : all) {
    std::string type = Str(r.at("resourceType"));
    ++types[type];
    if (type == "Patient") patients.insert(Str(r.at("id")));
    if (type == "Organization" || type == "Patient") continue;
    std::string ref = Str(r.at(type == "AllergyIntolerance" ? "patient" : "subject").at("reference"));
    EXPECT_TRUE(patients.count(ref.substr(8))) << ref << " precedes or lacks its patient";
    EXPECT_EQ(Str(r.at("id")).substr(0, 10), ref.substr(8));
    if (type == "AllergyIntolerance" && r.at("code").as_object().contains("coding") &&
        r.at("code").at("coding").at(0).at("code") == "716186003") {
      ++no_known_allergy;
    }
  }
  EXPECT_GT(types["Condition"], 500);
  EXPECT_GT(types["MedicationStatement"], 300);
  EXPECT_GT(types["AllergyIntolerance"], 1000);
  EXPECT_GT(no_known_allergy, 600);
}

// --observations N: N vital signs per patient after the patient, dated in
// the five years before the population date and not before birth, with
// UCUM quantities (blood pressure as two components); the records of
// --records are unchanged by them.
TEST(PopulationTest, ObservationsAreVitalSignsOfTheirPatient) {
  GenOptions with;
  with.patients = 500;
  with.seed = 5;
  with.records = true;
  with.observations = 3;
  std::vector<json::object> all;
  std::string without_text, with_text_records;
  ASSERT_TRUE(Generate(with, [&](std::string_view r) {
                auto o = json::parse(r).as_object();
                if (o.at("resourceType") != "Observation") with_text_records += std::string(r) + "\n";
                all.push_back(std::move(o));
              }).ok());
  GenOptions plain = with;
  plain.observations = 0;
  ASSERT_TRUE(Generate(plain, [&](std::string_view r) { without_text += std::string(r) + "\n"; }).ok());
  EXPECT_EQ(with_text_records, without_text);

  std::map<std::string, std::string> birth, last;  // patient id -> birthDate, last day seen
  std::map<std::string, int> per_patient, codes;
  for (const auto& r : all) {
    if (r.at("resourceType") == "Patient") {
      birth[Str(r.at("id"))] = Str(r.at("birthDate"));
      last[Str(r.at("id"))] = r.contains("deceasedDateTime")
                                  ? Str(r.at("deceasedDateTime")).substr(0, 10)
                                  : std::string(kPopulationDate);
    }
    if (r.at("resourceType") != "Observation") continue;
    std::string patient = Str(r.at("subject").at("reference")).substr(8);
    ASSERT_TRUE(birth.count(patient)) << "an Observation precedes its patient";
    EXPECT_EQ(Str(r.at("id")).rfind(patient + "-o", 0), 0u);
    ++per_patient[patient];
    EXPECT_EQ(r.at("status"), "final");
    std::string date = Str(r.at("effectiveDateTime"));
    EXPECT_TRUE(std::regex_match(date, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:00Z)"))) << date;
    EXPECT_GE(date.substr(0, 10), birth[patient]);
    EXPECT_LE(date.substr(0, 10), last[patient]);
    int years_before = std::stoi(last[patient].substr(0, 4)) - std::stoi(date.substr(0, 4));
    EXPECT_LE(years_before, 5) << date << " for " << last[patient];
    const auto& coding = r.at("code").at("coding").at(0);
    EXPECT_EQ(coding.at("system"), "http://loinc.org");
    std::string code = Str(coding.at("code"));
    ++codes[code];
    const json::object* quantity = nullptr;
    if (code == "85354-9") {
      const auto& components = r.at("component").as_array();
      ASSERT_EQ(components.size(), 2u);
      double systolic = components[0].at("valueQuantity").at("value").to_number<double>();
      double diastolic = components[1].at("valueQuantity").at("value").to_number<double>();
      EXPECT_GT(systolic, diastolic);
      quantity = &components[0].at("valueQuantity").as_object();
    } else {
      quantity = &r.at("valueQuantity").as_object();
    }
    EXPECT_EQ(quantity->at("system"), "http://unitsofmeasure.org");
    EXPECT_GT(quantity->at("value").to_number<double>(), 0.0);
  }
  EXPECT_EQ(per_patient.size(), birth.size());
  for (const auto& [patient, n] : per_patient) EXPECT_EQ(n, 3) << patient;
  for (const char* code : {"29463-7", "8302-2", "85354-9", "8867-4", "8310-5", "39156-5"}) {
    EXPECT_GT(codes[code], 20) << code;
  }
}

// --summaries: a GP summary document per patient holding exactly the items
// --records writes for them, or, for a patient who dissented, a Consent
// deny and no document.
TEST(PopulationTest, SummaryDocumentsHoldThePatientsItemsUnlessTheyDissented) {
  auto all = GenerateResources(4000, 7, /*summaries=*/true, /*records=*/true);
  std::map<std::string, std::map<std::string, json::object>> items;  // nhs -> "Type/id" -> item
  std::map<std::string, std::string> decisions;                       // nhs -> consent
  int documents = 0, patients = 0, additional = 0;
  for (const auto& r : all) {
    std::string type = Str(r.at("resourceType"));
    if (type == "Patient") ++patients;
    if (type == "AllergyIntolerance" || type == "Condition" || type == "MedicationStatement") {
      std::string id = Str(r.at("id"));
      items[id.substr(0, 10)][type + "/" + id] = r;
    }
    if (type == "Consent") {
      std::string nhs = Str(r.at("patient").at("reference")).substr(8);
      std::string rule = Str(r.at("policyRule").at("coding").at(0).at("code"));
      std::string provision = Str(r.at("provision").at("type"));
      if (rule == "urn:opencrs:consent:scr") {
        EXPECT_EQ(provision, "deny");
        decisions[nhs] = "dissent";
      } else {
        EXPECT_EQ(rule, "urn:opencrs:consent:scr-additional");
        EXPECT_EQ(provision, "permit");
        decisions[nhs] = "additional";
        ++additional;
      }
    }
    if (type != "Bundle") continue;
    ++documents;
    EXPECT_EQ(Str(r.at("type")), "document");
    const auto& entries = r.at("entry").as_array();
    const auto& comp = entries.at(0).at("resource");
    ASSERT_EQ(Str(comp.at("resourceType")), "Composition");
    EXPECT_EQ(Str(comp.at("type").at("coding").at(0).at("code")), "196981000000101");
    std::string nhs = Str(comp.at("subject").at("reference")).substr(8);
    EXPECT_EQ(Str(r.at("id")), nhs + "-scr");
    EXPECT_NE(decisions[nhs], "dissent") << nhs;
    // Every entry has a distinct fullUrl; every section entry resolves.
    std::set<std::string> urls, held;
    std::map<std::string, json::object> in_document;
    for (const auto& e : entries) {
      EXPECT_TRUE(urls.insert(Str(e.at("fullUrl"))).second);
      const auto& res = e.at("resource").as_object();
      std::string key = Str(res.at("resourceType")) + "/" + Str(res.at("id"));
      held.insert(key);
      std::string t = Str(res.at("resourceType"));
      if (t != "Composition" && t != "Patient" && t != "Organization") in_document[key] = res;
    }
    EXPECT_TRUE(held.count("Patient/" + nhs));
    EXPECT_TRUE(held.count(Str(comp.at("author").at(0).at("reference"))));
    if (const auto* sections = comp.as_object().if_contains("section")) {
      for (const auto& sec : sections->as_array()) {
        for (const auto& ref : sec.at("entry").as_array()) {
          EXPECT_TRUE(held.count(Str(ref.at("reference")))) << Str(ref.at("reference"));
        }
      }
    }
    EXPECT_EQ(in_document, items[nhs]) << nhs;
  }
  int dissents = 0;
  for (const auto& [nhs, d] : decisions) dissents += d == "dissent";
  EXPECT_EQ(documents + dissents, patients);
  EXPECT_GT(dissents, 4000 * 0.005);
  EXPECT_LT(dissents, 4000 * 0.03);
  EXPECT_GT(additional, 4000 * 0.07);
  EXPECT_LT(additional, 4000 * 0.13);
}

TEST(PopulationTest, TooManyPatientsIsInvalid) {
  Status s = Generate({200'000'000, 1, false, false}, [](std::string_view) { FAIL(); });
  EXPECT_EQ(s.code(), Code::kInvalid);
}

}  // namespace
}  // namespace crs::gen
