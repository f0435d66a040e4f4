// The access policy's rules, table by table. The end-to-end matrix
// (tests/e2e/access_test.cc) checks the same decisions through every query
// path of a running server; these pin the rules themselves.
#include "access/policy.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "access/consent.h"
#include "access/facts.h"
#include "access/rbac.h"

namespace crs::access {
namespace {

Caller Staff(std::string role, std::string org) {
  Caller c;
  c.user = "u";
  c.role = role;
  c.org = std::move(org);
  std::vector<std::string> none;
  auto defaults = rbac::DefaultActivities(role);
  c.activities = rbac::Expand(defaults);
  return c;
}

Caller PatientCaller(std::string nhs) {
  Caller c;
  c.user = "p";
  c.role = "patient";
  c.patient = std::move(nhs);
  return c;
}

store::AccessFacts Facts(std::string patient, uint32_t labels = 0, std::string author = "GP1") {
  return store::AccessFacts{std::move(patient), labels, std::move(author), {}};
}

// GP1 has a relationship with patient "p1" only.
bool RelatedToGp1(std::string_view patient) { return patient == "p1"; }

TEST(PolicyTest, RequestHeaders) {
  Caller gp = Staff("R8000", "GP1");
  EXPECT_TRUE(ApplyRequestHeaders("", "", "", "", &gp).ok());
  EXPECT_EQ(gp.purpose, Purpose::kTreat);
  EXPECT_EQ(ApplyRequestHeaders("ETREAT", "", "", "", &gp).code(), Code::kInvalid);
  EXPECT_TRUE(ApplyRequestHeaders("ETREAT", " collapsed ", "granted", "", &gp).ok());
  EXPECT_TRUE(gp.break_glass());
  EXPECT_EQ(gp.justification, "collapsed");
  EXPECT_TRUE(gp.permission_to_view);
  EXPECT_EQ(ApplyRequestHeaders("SNOOP", "", "", "", &gp).code(), Code::kInvalid);
  EXPECT_EQ(ApplyRequestHeaders("", "", "yes", "", &gp).code(), Code::kInvalid);
  EXPECT_EQ(ApplyRequestHeaders("", "", "", "self-claimed", &gp).code(), Code::kInvalid);
  Caller clerk = Staff("R8008", "GP1");
  EXPECT_EQ(ApplyRequestHeaders("ETREAT", "why", "", "", &clerk).code(), Code::kForbidden);
  Caller me = PatientCaller("9990000018");
  EXPECT_TRUE(ApplyRequestHeaders("", "", "", "", &me).ok());
  EXPECT_EQ(me.purpose, Purpose::kPatientRequest);
  EXPECT_EQ(ApplyRequestHeaders("", "why", "", "self-claimed", &me).code(), Code::kForbidden);
}

TEST(PolicyTest, TypeLevelPermissions) {
  struct Case {
    Caller caller;
    const char* type;
    char interaction;
    bool allowed;
  };
  Caller scoped = Staff("R8000", "GP1");
  scoped.scope_allows = [](std::string_view type, char i) { return type == "Patient" && i == 'r'; };
  Caller system = Staff("system", "SYS");
  const Case cases[] = {
      {Staff("R8000", "GP1"), "AllergyIntolerance", 'c', true},
      {Staff("R8000", "GP1"), "Patient", 'u', true},
      {Staff("R8000", "GP1"), "Patient", 'd', false},
      {Staff("R8000", "GP1"), "Consent", 'c', true},
      {Staff("R8000", "GP1"), "AuditEvent", 's', false},
      {Staff("R8003", "PH1"), "AllergyIntolerance", 'c', false},  // pharmacist: view only
      {Staff("R8003", "PH1"), "Patient", 'u', false},
      {Staff("R8008", "GP1"), "Patient", 'c', true},
      {Staff("R8008", "GP1"), "AllergyIntolerance", 'u', false},
      {Staff("R8008", "GP1"), "Consent", 'c', false},
      {Staff("R0001", "GP1"), "AuditEvent", 's', true},
      {Staff("R0001", "GP1"), "AuditEvent", 'c', false},
      {PatientCaller("p1"), "AllergyIntolerance", 's', true},
      {PatientCaller("p1"), "Consent", 'c', true},
      {PatientCaller("p1"), "Consent", 'd', false},
      {PatientCaller("p1"), "Observation", 'c', false},
      {PatientCaller("p1"), "AuditEvent", 's', true},
      {scoped, "Patient", 'r', true},
      {scoped, "Patient", 's', false},
      {scoped, "Observation", 'r', false},
      {system, "Observation", 'd', true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(TypeAllowed(c.caller, c.type, c.interaction).ok(), c.allowed)
        << c.caller.role << " " << c.interaction << " " << c.type;
  }
}

TEST(PolicyTest, Visibility) {
  PolicyOptions national;
  struct Case {
    const char* label;
    Caller caller;
    const char* type;
    store::AccessFacts facts;
    bool visible;
  };
  Caller gp = Staff("R8000", "GP1");
  Caller gp_ptv = gp;
  gp_ptv.permission_to_view = true;
  Caller other = Staff("R8000", "GP2");
  other.permission_to_view = true;
  Caller bg = Staff("R8000", "HOSP");
  bg.purpose = Purpose::kEmergency;
  bg.justification = "why";
  bg.named_patients = {"p2"};
  Caller bg_sealed = bg;
  bg_sealed.activities = rbac::Expand(std::vector<std::string>{"B0168", "B0083"});
  Caller claim = other;
  claim.self_claimed = true;
  claim.justification = "why";
  claim.named_patients = {"p2"};
  Caller me = PatientCaller("p1");
  Caller clerk = Staff("R8008", "GP1");
  clerk.permission_to_view = true;
  const Case cases[] = {
      {"GP, related, PTV", gp_ptv, "AllergyIntolerance", Facts("p1"), true},
      {"GP, related, no PTV", gp, "AllergyIntolerance", Facts("p1"), false},
      {"GP, unrelated", gp_ptv, "AllergyIntolerance", Facts("p2"), false},
      {"GP, demographics", gp, "Patient", Facts("p2"), true},
      {"GP, no patient", gp, "Organization", Facts(""), true},
      {"GP, several patients", gp_ptv, "Group", Facts("*"), false},
      {"GP, unknown facts", gp_ptv, "Observation", Facts("?"), false},
      {"GP, own sealed", gp_ptv, "AllergyIntolerance", Facts("p1", 1, "GP1"), true},
      {"GP, sealed elsewhere", gp_ptv, "AllergyIntolerance", Facts("p1", 1, "GP9"), false},
      {"GP, locked elsewhere", gp_ptv, "AllergyIntolerance", Facts("p1", 2, "GP9"), false},
      {"other org, PTV", other, "AllergyIntolerance", Facts("p1"), false},
      {"break-glass, named", bg, "AllergyIntolerance", Facts("p2", 0, "GP2"), true},
      {"break-glass, not named", bg, "AllergyIntolerance", Facts("p3", 0, "GP2"), false},
      {"break-glass, sealed", bg, "AllergyIntolerance", Facts("p2", 1, "GP2"), false},
      {"break-glass + B0083, sealed", bg_sealed, "AllergyIntolerance", Facts("p2", 1, "GP2"), true},
      {"break-glass + B0083, locked", bg_sealed, "AllergyIntolerance", Facts("p2", 2, "GP2"), false},
      {"self-claimed, named", claim, "AllergyIntolerance", Facts("p2", 0, "GP1"), true},
      {"self-claimed, sealed", claim, "AllergyIntolerance", Facts("p2", 1, "GP1"), false},
      {"patient, own", me, "AllergyIntolerance", Facts("p1"), true},
      {"patient, own sealed", me, "AllergyIntolerance", Facts("p1", 1), false},
      {"patient, other's", me, "AllergyIntolerance", Facts("p2"), false},
      {"patient, other's demographics", me, "Patient", Facts("p2"), false},
      {"clerk, clinical", clerk, "AllergyIntolerance", Facts("p1"), false},
      {"clerk, demographics", clerk, "Patient", Facts("p2"), true},
  };
  for (const auto& c : cases) {
    store::AccessFilter f = FilterFor(c.caller, national, 's');
    // The store answers relationships for the caller's organisation.
    auto related = [&](std::string_view patient) {
      return c.caller.org == "GP1" && RelatedToGp1(patient);
    };
    EXPECT_EQ(Visible(f, c.type, c.facts, related), c.visible) << c.label;
  }
  // On a local node the practice's own records need no permission to view.
  PolicyOptions local;
  local.national = false;
  EXPECT_TRUE(Visible(FilterFor(gp, local, 's'), "AllergyIntolerance", Facts("p1"), RelatedToGp1));
  // A write reaches related patients without permission to view.
  EXPECT_TRUE(Visible(FilterFor(gp, national, 'c'), "AllergyIntolerance", Facts("p1"), RelatedToGp1));
}

TEST(PolicyTest, Alerts) {
  Caller bg = Staff("R8000", "HOSP");
  bg.purpose = Purpose::kEmergency;
  store::AccessFilter f;
  auto none = [](std::string_view) { return false; };
  auto all = [](std::string_view) { return true; };
  EXPECT_EQ(AlertsFor(bg, f, "AllergyIntolerance", Facts("p1"), none),
            std::vector<std::string>{"break-glass"});
  EXPECT_TRUE(AlertsFor(bg, f, "AllergyIntolerance", Facts("p1"), all).empty());
  EXPECT_EQ(AlertsFor(bg, f, "AllergyIntolerance", Facts("p1", 1, "GP1"), all),
            std::vector<std::string>{"sealed-access"});
  EXPECT_EQ(AlertsFor(bg, f, "Patient", Facts("p1", 4), all), std::vector<std::string>{"vip"});
  EXPECT_TRUE(AlertsFor(PatientCaller("p1"), f, "Patient", Facts("p1", 4), none).empty());
}

TEST(ConsentTest, LatestActiveDecisionPerPolicyWins) {
  auto parse = [](const char* json) { return ParseConsent(boost::json::parse(json)); };
  auto deny = parse(R"({"resourceType":"Consent","status":"active","dateTime":"2026-01-01",
      "patient":{"reference":"Patient/p1"},"provision":{"type":"deny"},
      "policyRule":{"coding":[{"code":"urn:opencrs:consent:scr"}]}})");
  auto permit = parse(R"({"resourceType":"Consent","status":"active","dateTime":"2026-02-01",
      "patient":{"reference":"Patient/p1"},"provision":{"type":"permit"},
      "policy":[{"uri":"urn:opencrs:consent:scr"}]})");
  auto inactive = parse(R"({"resourceType":"Consent","status":"inactive","dateTime":"2026-03-01",
      "patient":{"reference":"Patient/p1"},"provision":{"type":"deny"},
      "policyRule":{"coding":[{"system":"urn:opencrs:consent","code":"scr"}]}})");
  auto ndop = parse(R"({"resourceType":"Consent","status":"active",
      "patient":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"p1"}},
      "provision":{"type":"deny"},"policyRule":{"coding":[{"code":"urn:opencrs:consent:ndop"}]}})");
  ASSERT_TRUE(deny && permit && inactive && ndop);
  EXPECT_EQ(inactive->policy, ConsentPolicy::kScr);
  EXPECT_EQ(ndop->patient, "p1");
  EXPECT_FALSE(parse(R"({"resourceType":"Consent","status":"active","provision":{"type":"deny"},
      "patient":{"reference":"Patient/p1"},"policyRule":{"text":"something else"}})"));
  ConsentState none = Decide({});
  EXPECT_TRUE(none.ScrAllowed(ConsentModel::kImplied));
  EXPECT_FALSE(none.ScrAllowed(ConsentModel::kExplicit));
  ConsentState dissent = Decide({{*deny, int64_t{1}}});
  EXPECT_FALSE(dissent.ScrAllowed(ConsentModel::kImplied));
  EXPECT_FALSE(dissent.AdditionalAllowed(ConsentModel::kImplied));
  ConsentState later_permit = Decide({{*permit, int64_t{2}}, {*deny, int64_t{1}}, {*inactive, int64_t{3}}});
  EXPECT_TRUE(later_permit.ScrAllowed(ConsentModel::kExplicit));
  EXPECT_FALSE(later_permit.AdditionalAllowed(ConsentModel::kExplicit));
  EXPECT_EQ(Decide({{*ndop, int64_t{1}}}).ndop_opted_out, true);
  EXPECT_EQ(SummaryPartOf("AllergyIntolerance"), SummaryPart::kCore);
  EXPECT_EQ(SummaryPartOf("Condition"), SummaryPart::kAdditional);
  EXPECT_EQ(SummaryPartOf("Patient"), SummaryPart::kNone);
}

TEST(FactsTest, PatientLabelsAndRelationships) {
  auto facts = [](const char* type, const char* id, const char* json) {
    return ComputeFacts(type, id, boost::json::parse(json), nullptr, "ORG");
  };
  auto p = facts("Patient", "9990000018",
                 R"({"resourceType":"Patient","meta":{"security":[
                     {"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"},
                     {"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"EMP"}]},
                     "generalPractitioner":[{"reference":"Organization/GP1"},
                     {"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"GP2"}}]})");
  EXPECT_EQ(p.patient, "9990000018");
  EXPECT_EQ(p.labels, store::AccessFacts::kRestricted | store::AccessFacts::kVip);
  EXPECT_EQ(p.relationship_orgs, (std::vector<std::string>{"GP1", "GP2"}));
  EXPECT_EQ(p.author_org, "ORG");
  auto ended = facts("Encounter", "e1",
                     R"({"resourceType":"Encounter","status":"finished","serviceProvider":{"reference":"Organization/H"}})");
  EXPECT_TRUE(ended.relationship_orgs.empty());
  auto open = facts("Encounter", "e1",
                    R"({"resourceType":"Encounter","status":"in-progress","serviceProvider":{"reference":"Organization/H"}})");
  EXPECT_EQ(open.relationship_orgs, std::vector<std::string>{"H"});
  auto sealed = facts("AllergyIntolerance", "a1",
                      R"({"resourceType":"AllergyIntolerance","meta":{"security":[
                          {"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"V"}]}})");
  EXPECT_EQ(sealed.labels, store::AccessFacts::kLocked);
  EXPECT_EQ(sealed.patient, "");  // no index rows given: no patient found
  // Outside the patient compartment, a patient anywhere in the resource binds it.
  fhir::index::IndexEntries none;
  auto bundle = ComputeFacts("Bundle", "b1", boost::json::parse(R"({"resourceType":"Bundle",
      "type":"collection","entry":[{"resource":{"resourceType":"Observation",
      "subject":{"reference":"http://x/fhir/Patient/9990000018"}}}]})"), &none, "ORG");
  EXPECT_EQ(bundle.patient, "9990000018");
  auto two = ComputeFacts("Bundle", "b2", boost::json::parse(R"({"resourceType":"Bundle",
      "type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"9990000018"}},
      {"resource":{"resourceType":"Observation","subject":{"identifier":{
      "system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000026"}}}}]})"), &none, "ORG");
  EXPECT_EQ(two.patient, "*");
  auto org = ComputeFacts("Organization", "o1", boost::json::parse(R"({"resourceType":"Organization",
      "partOf":{"reference":"Organization/X"}})"), &none, "ORG");
  EXPECT_EQ(org.patient, "");
}

}  // namespace
}  // namespace crs::access
