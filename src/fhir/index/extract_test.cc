// ExtractIndex() on official examples and hand-written resources: the exact rows a
// user's searches will rely on.
#include "fhir/index/extract.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fhir/index/date_range.h"
#include "fhir/index/registry.h"
#include "fhir/index/row_format.h"
#include "fhir/index/test_support.h"

namespace crs::fhir::index {
namespace {

namespace json = boost::json;
using testing::CompositesOf;
using testing::DatesOf;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::NumbersOf;
using testing::Present;
using testing::QuantitiesOf;
using testing::ReferencesOf;
using testing::StringsOf;
using testing::TokensOf;
using ::testing::UnorderedElementsAre;
using testing::UrisOf;

IndexEntries Extract(const json::value& resource) {
  Result<IndexEntries> r = ExtractIndex(resource);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return IndexEntries();
  for (const IndexWarning& w : r->warnings) ADD_FAILURE() << w.param << ": " << w.message;
  return std::move(r).value();
}

IndexEntries ExtractText(std::string_view text) { return Extract(json::parse(text)); }

DateRow Range(std::string_view param, const char* low, const char* high) {
  return DateRow{param, ParseSearchDate(low)->low_ms, ParseSearchDate(high)->high_ms};
}

TEST(ExtractPatientTest, OfficialExampleRows) {
  CRS_REQUIRE_SHARED_DATA();
  IndexEntries e = Extract(testing::ReadExample("Patient-example.json"));
  EXPECT_EQ(e.resource_type, "Patient");
  EXPECT_THAT(StringsOf(e, "family"), ElementsAre("chalmers|Chalmers", "windsor|Windsor"));
  EXPECT_THAT(StringsOf(e, "given"), ElementsAre("james|James", "jim|Jim", "peter|Peter"));
  EXPECT_THAT(StringsOf(e, "name"), ElementsAre("chalmers|Chalmers", "james|James", "jim|Jim",
                                                "peter|Peter", "windsor|Windsor"));
  EXPECT_THAT(DatesOf(e, "birthdate"), ElementsAre(Range("birthdate", "1974-12-25", "1974-12-25")));
  EXPECT_THAT(TokensOf(e, "identifier"),
              ElementsAre("urn:oid:1.2.36.146.595.217.0.1|12345 "
                          "type=http://terminology.hl7.org/CodeSystem/v2-0203|MR"));
  EXPECT_THAT(TokensOf(e, "gender"), ElementsAre("|male"));
  EXPECT_THAT(TokensOf(e, "active"), ElementsAre("|true"));
  EXPECT_THAT(TokensOf(e, "deceased"), ElementsAre("|false"));
  EXPECT_THAT(TokensOf(e, "_id"), ElementsAre("|example"));
  EXPECT_THAT(StringsOf(e, "address-postalcode"), ElementsAre("3999|3999"));
  EXPECT_THAT(StringsOf(e, "address-city"), ElementsAre("pleasantville|PleasantVille"));
  EXPECT_THAT(StringsOf(e, "address-state"), ElementsAre("vic|Vic"));
  EXPECT_THAT(StringsOf(e, "address-country"), IsEmpty());
  EXPECT_THAT(TokensOf(e, "address-use"), ElementsAre("|home"));
  // Every part of the address, the text with its double space collapsed.
  EXPECT_THAT(StringsOf(e, "address"),
              ElementsAre("3999|3999", "534 erewhon st|534 Erewhon St",
                          "534 erewhon st peasantville, rainbow, vic 3999|"
                          "534 Erewhon St PeasantVille, Rainbow, Vic  3999",
                          "pleasantville|PleasantVille", "rainbow|Rainbow", "vic|Vic"));
  // ContactPoint tokens are the value alone; the first telecom has none.
  EXPECT_THAT(TokensOf(e, "phone"),
              ElementsAre("|(03) 3410 5613", "|(03) 5555 6473", "|(03) 5555 8834"));
  EXPECT_THAT(TokensOf(e, "email"), IsEmpty());
  EXPECT_THAT(ReferencesOf(e, "organization"), ElementsAre("relative Organization/1"));
  EXPECT_THAT(
      Present(e),
      ElementsAre("_id", "active", "address", "address-city", "address-postalcode", "address-state",
                  "address-use", "birthdate", "deceased", "family", "gender", "given", "identifier",
                  "name", "organization", "phone", "phonetic", "telecom"));
}

TEST(ExtractPatientTest, AccentsAndCommonParameters) {
  IndexEntries e = ExtractText(R"({
    "resourceType": "Patient", "id": "p1",
    "meta": {"lastUpdated": "2024-05-06T07:08:09.123Z", "versionId": "3",
             "profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"],
             "tag": [{"system": "urn:tags", "code": "t1", "display": "Tag One"}],
             "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                           "code": "R"}],
             "source": "https://gp.example.nhs.uk/fhir"},
    "name": [{"family": "Müller", "given": ["ÅSA", "Zoë"], "prefix": ["Dr"],
              "suffix": ["PhD"], "text": "Dr Åsa Zoë Müller PhD"}],
    "telecom": [{"system": "email", "value": "asa@example.org", "use": "home"}],
    "deceasedDateTime": "2023-01-02T03:04:05Z",
    "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000009",
                    "type": {"text": "NHS Number", "coding": [
                      {"system": "urn:t", "code": "NH"}, {"system": "urn:t", "code": "X"}]}}]
  })");
  EXPECT_THAT(StringsOf(e, "family"), ElementsAre("muller|Müller"));
  EXPECT_THAT(StringsOf(e, "given"), ElementsAre("asa|ÅSA", "zoe|Zoë"));
  EXPECT_THAT(StringsOf(e, "name"),
              ElementsAre("asa|ÅSA", "dr|Dr", "dr asa zoe muller phd|Dr Åsa Zoë Müller PhD",
                          "muller|Müller", "phd|PhD", "zoe|Zoë"));
  EXPECT_THAT(TokensOf(e, "email"), ElementsAre("|asa@example.org"));
  EXPECT_THAT(TokensOf(e, "deceased"), ElementsAre("|true"));
  EXPECT_THAT(DatesOf(e, "death-date"),
              ElementsAre(Range("death-date", "2023-01-02T03:04:05Z", "2023-01-02T03:04:05Z")));
  // One row per Identifier.type coding, for :of-type; :text reads the type's text.
  EXPECT_THAT(
      TokensOf(e, "identifier"),
      ElementsAre("https://fhir.nhs.uk/Id/nhs-number|9000000009 text=nhs number type=urn:t|NH",
                  "https://fhir.nhs.uk/Id/nhs-number|9000000009 text=nhs number type=urn:t|X"));
  EXPECT_THAT(
      DatesOf(e, "_lastUpdated"),
      ElementsAre(Range("_lastUpdated", "2024-05-06T07:08:09.123Z", "2024-05-06T07:08:09.123Z")));
  EXPECT_THAT(UrisOf(e, "_profile"),
              ElementsAre("https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"));
  EXPECT_THAT(TokensOf(e, "_tag"), ElementsAre("urn:tags|t1 text=tag one"));
  EXPECT_THAT(TokensOf(e, "_security"),
              ElementsAre("http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"));
  EXPECT_THAT(UrisOf(e, "_source"), ElementsAre("https://gp.example.nhs.uk/fhir"));
}

constexpr std::string_view kObservation = R"({
  "resourceType": "Observation", "id": "o1", "status": "final",
  "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs"}]}],
  "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"},
                      {"system": "http://snomed.info/sct", "code": "364075005"}],
           "text": "Heart Rate"},
  "subject": {"reference": "Patient/p1"},
  "encounter": {"reference": "Encounter/e1"},
  "effectiveDateTime": "2021-04-05T10:11:12+02:00",
  "valueQuantity": {"value": 72.5, "unit": "beats/minute", "system": "http://unitsofmeasure.org",
                    "code": "/min"}
})";

TEST(ExtractObservationTest, CodeValueDateAndSubject) {
  IndexEntries e = ExtractText(kObservation);
  EXPECT_THAT(TokensOf(e, "code"),
              ElementsAre("| text=heart rate", "http://loinc.org|8867-4 text=heart rate",
                          "http://snomed.info/sct|364075005"));
  EXPECT_THAT(
      TokensOf(e, "category"),
      ElementsAre("http://terminology.hl7.org/CodeSystem/observation-category|vital-signs"));
  EXPECT_THAT(TokensOf(e, "status"), ElementsAre("|final"));
  EXPECT_THAT(QuantitiesOf(e, "value-quantity"),
              ElementsAre("72.5 [72.45,72.55) http://unitsofmeasure.org|/min beats/minute = "
                          "1.20833 s-1"));
  EXPECT_THAT(DatesOf(e, "date"),
              ElementsAre(Range("date", "2021-04-05T08:11:12Z", "2021-04-05T08:11:12Z")));
  EXPECT_THAT(ReferencesOf(e, "subject"), ElementsAre("relative Patient/p1"));
  EXPECT_THAT(ReferencesOf(e, "patient"), ElementsAre("relative Patient/p1"));
  EXPECT_THAT(ReferencesOf(e, "encounter"), ElementsAre("relative Encounter/e1"));
  EXPECT_THAT(CompositesOf(e, "code-value-quantity"),
              ElementsAre("http://loinc.org|8867-4 text=heart rate $ 72.5 [72.45,72.55) "
                          "http://unitsofmeasure.org|/min beats/minute = 1.20833 s-1",
                          "http://snomed.info/sct|364075005 $ 72.5 [72.45,72.55) "
                          "http://unitsofmeasure.org|/min beats/minute = 1.20833 s-1"));
}

TEST(ExtractObservationTest, PatientOnlyWhenTheSubjectIsAPatient) {
  json::value obs = json::parse(kObservation);
  obs.as_object()["subject"] = json::parse(R"({"reference": "Group/g1"})");
  IndexEntries e = Extract(obs);
  EXPECT_THAT(ReferencesOf(e, "subject"), ElementsAre("relative Group/g1"));
  EXPECT_THAT(ReferencesOf(e, "patient"), IsEmpty());
  EXPECT_THAT(Present(e), ::testing::Not(::testing::Contains("patient")));
  EXPECT_THAT(Present(e), ::testing::Contains("subject"));
}

TEST(ExtractObservationTest, EffectivePeriodWithOpenEnd) {
  json::value obs = json::parse(kObservation);
  json::object& o = obs.as_object();
  o.erase("effectiveDateTime");
  o["effectivePeriod"] = json::parse(R"({"start": "2021-04"})");
  EXPECT_THAT(DatesOf(Extract(obs), "date"),
              ElementsAre(DateRow{"date", ParseSearchDate("2021-04")->low_ms, kDateMax}));
  o["effectivePeriod"] = json::parse(R"({"end": "2021-04-05"})");
  EXPECT_THAT(DatesOf(Extract(obs), "date"),
              ElementsAre(DateRow{"date", kDateMin, ParseSearchDate("2021-04-05")->high_ms}));
  o["effectivePeriod"] = json::parse(R"({"start": "2021-04-05T10:00:00Z",
                                        "end": "2021-04-05T11:30:00Z"})");
  EXPECT_THAT(DatesOf(Extract(obs), "date"),
              ElementsAre(Range("date", "2021-04-05T10:00:00Z", "2021-04-05T11:30:00Z")));
}

TEST(ExtractObservationTest, BloodPressureComponents) {
  CRS_REQUIRE_SHARED_DATA();
  IndexEntries e = Extract(testing::ReadExample("Observation-blood-pressure.json"));
  const std::string systolic =
      "107 [106.5,107.5) http://unitsofmeasure.org|mm[Hg] mmHg = "
      "1.42655e+07 m-1.g.s-2";
  const std::string diastolic =
      "60 [59.5,60.5) http://unitsofmeasure.org|mm[Hg] mmHg = "
      "7.99932e+06 m-1.g.s-2";
  EXPECT_THAT(
      CompositesOf(e, "component-code-value-quantity"),
      ElementsAre("http://acme.org/devices/clinical-codes|bp-s text=systolic blood "
                  "pressure $ " +
                      systolic,
                  "http://loinc.org|8462-4 text=diastolic blood pressure $ " + diastolic,
                  "http://loinc.org|8480-6 text=systolic blood pressure $ " + systolic,
                  "http://snomed.info/sct|271649006 text=systolic blood pressure $ " + systolic));
  // The panel itself has no value: no code-value-quantity tuple, no value-quantity.
  EXPECT_THAT(CompositesOf(e, "code-value-quantity"), IsEmpty());
  EXPECT_THAT(QuantitiesOf(e, "value-quantity"), IsEmpty());
  EXPECT_THAT(QuantitiesOf(e, "component-value-quantity"), ElementsAre(diastolic, systolic));
  EXPECT_THAT(
      TokensOf(e, "component-code"),
      ElementsAre("http://acme.org/devices/clinical-codes|bp-s text=systolic blood pressure",
                  "http://loinc.org|8462-4 text=diastolic blood pressure",
                  "http://loinc.org|8480-6 text=systolic blood pressure",
                  "http://snomed.info/sct|271649006 text=systolic blood pressure"));
  // combo-*: the Observation's own code and value as well as its components'.
  EXPECT_EQ(CompositesOf(e, "combo-code-value-quantity").size(), 4u);
  EXPECT_THAT(TokensOf(e, "combo-code"), ::testing::Contains("http://loinc.org|85354-9 text=blood "
                                                             "pressure panel with all children "
                                                             "optional"));
}

TEST(ExtractObservationTest, ValueDateAndStringComposites) {
  json::value obs = json::parse(kObservation);
  json::object& o = obs.as_object();
  o.erase("valueQuantity");
  o["valueDateTime"] = "2020-02";
  IndexEntries e = Extract(obs);
  EXPECT_THAT(DatesOf(e, "value-date"), ElementsAre(Range("value-date", "2020-02", "2020-02")));
  EXPECT_EQ(CompositesOf(e, "code-value-date").size(), 2u);
  o.erase("valueDateTime");
  o["valueString"] = "Trace Ämounts";
  e = Extract(obs);
  EXPECT_THAT(StringsOf(e, "value-string"), ElementsAre("trace amounts|Trace Ämounts"));
  EXPECT_THAT(CompositesOf(e, "code-value-string"),
              ElementsAre("http://loinc.org|8867-4 text=heart rate $ Trace Ämounts",
                          "http://snomed.info/sct|364075005 $ Trace Ämounts"));
}

TEST(ExtractReferenceTest, Forms) {
  IndexEntries e = ExtractText(R"({
    "resourceType": "Observation", "status": "final", "code": {"text": "x"},
    "contained": [{"resourceType": "Practitioner", "id": "pr1"}],
    "subject": {"reference": "https://other.example/fhir/Patient/p9/_history/2"},
    "performer": [{"reference": "#pr1"},
                  {"reference": "Practitioner/pr2/_history/7"},
                  {"reference": "urn:uuid:0c1f7b5a-1c4e-4a5e-8c1e-1a2b3c4d5e6f"},
                  {"reference": "#missing"},
                  {"identifier": {"system": "https://fhir.nhs.uk/Id/sds-user-id",
                                  "value": "123456"}},
                  {"display": "nobody"}],
    "basedOn": [{"reference": "CarePlan/cp1",
                 "identifier": {"system": "urn:plans", "value": "7"}}]
  })");
  EXPECT_THAT(ReferencesOf(e, "subject"),
              ElementsAre("absolute Patient/p9 v=2 url=https://other.example/fhir/Patient/p9"));
  // The absolute reference to a Patient still counts as the patient.
  EXPECT_THAT(ReferencesOf(e, "patient"),
              ElementsAre("absolute Patient/p9 v=2 url=https://other.example/fhir/Patient/p9"));
  EXPECT_THAT(ReferencesOf(e, "performer"),
              UnorderedElementsAre("relative Practitioner/pr2 v=7", "contained Practitioner/pr1",
                                   "contained /missing",
                                   "other / url=urn:uuid:0c1f7b5a-1c4e-4a5e-8c1e-1a2b3c4d5e6f"));
  // Reference.identifier is a token under the reference parameter (:identifier).
  EXPECT_THAT(TokensOf(e, "performer"), ElementsAre("https://fhir.nhs.uk/Id/sds-user-id|123456"));
  EXPECT_THAT(ReferencesOf(e, "based-on"), ElementsAre("relative CarePlan/cp1"));
  EXPECT_THAT(TokensOf(e, "based-on"), ElementsAre("urn:plans|7"));
}

TEST(ExtractReferenceTest, CanonicalsAndUris) {
  IndexEntries e = ExtractText(R"({
    "resourceType": "CarePlan", "status": "active", "intent": "plan",
    "subject": {"reference": "Patient/p1"},
    "instantiatesCanonical": ["http://example.org/fhir/PlanDefinition/pd1|2.0",
                              "http://example.org/fhir/Questionnaire/q"],
    "instantiatesUri": ["http://example.org/protocols/asthma"]
  })");
  EXPECT_THAT(ReferencesOf(e, "instantiates-canonical"),
              ElementsAre("canonical PlanDefinition/pd1 v=2.0 "
                          "url=http://example.org/fhir/PlanDefinition/pd1",
                          "canonical Questionnaire/q url=http://example.org/fhir/Questionnaire/q"));
  EXPECT_THAT(UrisOf(e, "instantiates-uri"), ElementsAre("http://example.org/protocols/asthma"));
}

TEST(ExtractValueTest, MoneyRangeAndNumbers) {
  IndexEntries charge = ExtractText(R"({
    "resourceType": "ChargeItem", "status": "billable", "code": {"text": "x"},
    "subject": {"reference": "Patient/p1"},
    "factorOverride": 0.8, "priceOverride": {"value": 40, "currency": "EUR"},
    "quantity": {"value": 2}
  })");
  EXPECT_THAT(NumbersOf(charge, "factor-override"), ElementsAre("0.8 [0.75,0.85)"));
  EXPECT_THAT(QuantitiesOf(charge, "price-override"),
              ElementsAre("40 [39.5,40.5) urn:iso:std:iso:4217|EUR"));
  EXPECT_THAT(QuantitiesOf(charge, "quantity"), ElementsAre("2 [1.5,2.5) |"));

  IndexEntries risk = ExtractText(R"({
    "resourceType": "RiskAssessment", "status": "final", "subject": {"reference": "Patient/p1"},
    "prediction": [{"probabilityDecimal": 0.02},
                   {"probabilityRange": {"low": {"value": 10}, "high": {"value": 20.5}}},
                   {"probabilityRange": {"high": {"value": 5}}}]
  })");
  EXPECT_THAT(NumbersOf(risk, "probability"),
              ElementsAre("[-inf,5.5)", "[9.5,20.55)", "0.02 [0.015,0.025)"));
}

TEST(ExtractValueTest, QuantityRangeAndAge) {
  IndexEntries e = ExtractText(R"({
    "resourceType": "Condition", "subject": {"reference": "Patient/p1"},
    "onsetRange": {"low": {"value": 5, "system": "http://unitsofmeasure.org", "code": "a"},
                   "high": {"value": 10, "system": "http://unitsofmeasure.org", "code": "a"}},
    "abatementAge": {"value": 40, "unit": "years", "system": "http://unitsofmeasure.org",
                     "code": "a"}
  })");
  EXPECT_THAT(QuantitiesOf(e, "abatement-age"),
              ElementsAre("40 [39.5,40.5) http://unitsofmeasure.org|a years = 1.2623e+09 s"));
  EXPECT_THAT(QuantitiesOf(e, "onset-age"),
              ElementsAre("[4.5,10.5) http://unitsofmeasure.org|a = range s"));
}

TEST(ExtractValueTest, TimingOuterLimits) {
  IndexEntries e = ExtractText(R"({
    "resourceType": "CarePlan", "status": "active", "intent": "plan",
    "subject": {"reference": "Patient/p1"},
    "activity": [
      {"detail": {"status": "scheduled", "scheduledTiming": {
         "event": ["2021-03-01T09:00:00Z", "2021-01-15"],
         "repeat": {"boundsPeriod": {"start": "2021-01-01", "end": "2021-06-30"}}}}},
      {"detail": {"status": "scheduled", "scheduledPeriod": {"start": "2022-01-01"}}},
      {"detail": {"status": "scheduled", "scheduledString": "daily"}}]
  })");
  EXPECT_THAT(
      DatesOf(e, "activity-date"),
      ElementsAre(Range("activity-date", "2021-01-01", "2021-06-30"),
                  DateRow{"activity-date", ParseSearchDate("2022-01-01")->low_ms, kDateMax}));
}

// Parameters whose expressions fail on some resources: single() is an error for
// two items, as is `is` on a collection.
constexpr std::string_view kFailingParams = R"({
  "resourceTypes": {"Patient": "DomainResource"},
  "params": [
    {"id": "p-family", "code": "family", "type": "string", "base": ["Patient"],
     "expression": "Patient.name.family"},
    {"id": "p-one", "code": "one-family", "type": "string", "base": ["Patient"],
     "expression": "Patient.name.single().family"},
    {"id": "p-is", "code": "is-name", "type": "token", "base": ["Patient"],
     "expression": "Patient.where(name is HumanName).gender"},
    {"id": "p-special", "code": "special", "type": "special", "base": ["Patient"],
     "expression": "Patient.name"},
    {"id": "p-bad", "code": "bad", "type": "string", "base": ["Patient"],
     "expression": "Patient.name.(("},
    {"id": "p-text", "code": "_text", "type": "string", "base": ["DomainResource"]}
  ]})";

TEST(ExtractRobustnessTest, FailingExpressionsWarnAndSkip) {
  Result<std::unique_ptr<IndexRegistry>> registry = IndexRegistry::Create(kFailingParams);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  EXPECT_EQ((*registry)->skipped_count(SkipReason::kCompileError), 1u);
  EXPECT_EQ((*registry)->skipped_count(SkipReason::kSpecial), 1u);
  EXPECT_EQ((*registry)->skipped_count(SkipReason::kNoExpression), 1u);

  json::value one = json::parse(R"({"resourceType": "Patient", "gender": "female",
                                    "name": [{"family": "Ng"}]})");
  Result<IndexEntries> r = ExtractIndex(**registry, one, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->warnings.empty());
  EXPECT_THAT(Present(*r), ElementsAre("family", "is-name", "one-family"));

  json::value two = json::parse(R"({"resourceType": "Patient", "gender": "female",
                                    "name": [{"family": "Ng"}, {"family": "Li"}]})");
  ExtractStats stats;
  r = ExtractIndex(**registry, two, &stats);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->warnings.size(), 2u);
  EXPECT_EQ(r->warnings[0].param, "is-name");
  EXPECT_EQ(r->warnings[1].param, "one-family");
  EXPECT_EQ(stats.warnings, 2u);
  // The failing parameters are neither present nor missing-by-omission silently:
  // they are absent from `present` and named in `warnings`; the rest is indexed.
  EXPECT_THAT(Present(*r), ElementsAre("family"));
  EXPECT_THAT(StringsOf(*r, "family"), ElementsAre("li|Li", "ng|Ng"));
}

TEST(ExtractRobustnessTest, HostileValuesNeverFail) {
  const char* cases[] = {
      R"({"resourceType":"Patient","name":5,"birthDate":123,"identifier":"x","gender":[]})",
      R"({"resourceType":"Patient","name":[{"family":["a"],"given":"b"}],"birthDate":"soon"})",
      R"({"resourceType":"Patient","telecom":[null,{"value":7}],"address":[{"line":[1,null]}]})",
      R"({"resourceType":"Patient","_birthDate":{"extension":[]},"_gender":"x","id":7})",
      R"({"resourceType":"Observation","code":{"coding":"x"},"valueQuantity":{"value":"1"}})",
      R"({"resourceType":"Observation","effectivePeriod":{"start":"x","end":5}})",
      R"({"resourceType":"Observation","subject":{"reference":7},"component":[{"code":1}]})",
      R"({"resourceType":"Observation","valueQuantity":{"value":1e308,"code":"kg",
          "system":"http://unitsofmeasure.org"}})",
      R"({"resourceType":"Patient","meta":{"lastUpdated":"2020-13-45"},
          "managingOrganization":{"reference":"#"}})",
      R"({"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient"}},5]})",
  };
  for (const char* text : cases) {
    Result<IndexEntries> r = ExtractIndex(json::parse(text));
    EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  }
}

TEST(ExtractRobustnessTest, NotAResource) {
  for (const char* text :
       {R"([1,2])", R"("Patient")", R"({})", R"({"resourceType":5})", R"({"resourceType":"Nope"})",
        R"({"resourceType":"DomainResource"})", R"({"resourceType":"Resource"})"}) {
    Result<IndexEntries> r = ExtractIndex(json::parse(text));
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Code::kInvalid) << text;
  }
}

TEST(ExtractRowsTest, SortedAndWithoutDuplicates) {
  // The same family in two names and the same code twice yield one row each.
  IndexEntries e = ExtractText(R"({
    "resourceType": "Patient",
    "name": [{"family": "Smith", "given": ["Ann"]}, {"family": "Smith", "given": ["Ann"]}],
    "identifier": [{"system": "s", "value": "1"}, {"system": "s", "value": "1"}]
  })");
  EXPECT_THAT(StringsOf(e, "family"), ElementsAre("smith|Smith"));
  EXPECT_THAT(TokensOf(e, "identifier"), ElementsAre("s|1"));
  EXPECT_TRUE(std::is_sorted(e.strings.begin(), e.strings.end()));
  EXPECT_TRUE(std::is_sorted(e.tokens.begin(), e.tokens.end()));
  EXPECT_TRUE(std::is_sorted(e.present.begin(), e.present.end()));
}

}  // namespace
}  // namespace crs::fhir::index

namespace crs::fhir::index {
namespace {

TEST(PhoneticRowsTest, KeysOfFamilyAndGivenNamesNotText) {
  auto e = ExtractIndex(boost::json::parse(R"({"resourceType":"Patient","id":"p",
    "name":[{"family":"Smyth","given":["Jon","Paul"],"prefix":["Mr"]},
            {"use":"old","family":"O'Brien"}]})"));
  ASSERT_TRUE(e.ok());
  std::vector<std::string> keys;
  for (const auto& r : e->strings) {
    if (r.param != "phonetic") continue;
    EXPECT_EQ(r.normalized, r.exact);
    keys.push_back(r.normalized);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"j500", "o165", "p400", "s530"}));
  auto org = ExtractIndex(boost::json::parse(
      R"({"resourceType":"Organization","id":"o","name":"Leeds Surgery"})"));
  ASSERT_TRUE(org.ok());
  int phonetic = 0;
  for (const auto& r : org->strings) phonetic += r.param == "phonetic";
  EXPECT_EQ(phonetic, 3);  // leeds, surgery, leedssurgery
}

}  // namespace
}  // namespace crs::fhir::index
