#include "fhir/search_params.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace crs::fhir {
namespace {

namespace json = boost::json;

// ---- shared test helpers ---------------------------------------------------

const std::string kDataFile = std::string(CRS_SOURCE_DIR) + "/src/fhir/data/search_parameters.json";
const std::string kOfficialFile = std::string(CRS_SHARED_DIR) + "/fhir-r4/search-parameters.json";

// The committed registry, loaded once for the whole binary.
const SearchParamRegistry& Registry() {
  static const SearchParamRegistry* registry = [] {
    auto loaded = SearchParamRegistry::LoadFromFile(kDataFile);
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.status().ToString();
      std::abort();
    }
    return std::move(loaded).value().release();
  }();
  return *registry;
}

std::vector<std::string> Codes(const std::vector<const SearchParam*>& params) {
  std::vector<std::string> codes;
  for (const SearchParam* p : params) codes.push_back(p->code);
  return codes;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A minimal valid registry document around `params` (a JSON array body).
std::string MiniRegistry(const std::string& params) {
  return R"({"fhirVersion":"4.0.1",)"
         R"("resourceTypes":{"Patient":"DomainResource","Observation":"DomainResource",)"
         R"("Bundle":"Resource"},"anyTarget":["Observation","Patient"],"params":[)" +
         params + "]}";
}

Code ParseCode(const std::string& text) {
  auto r = SearchParamRegistry::Parse(text);
  return r.ok() ? Code::kOk : r.status().code();
}

// ---- the generated registry ---------------------------------------------------

TEST(SearchParamRegistryTest, LoadsEveryOfficialParameter) {
  const SearchParamRegistry& r = Registry();
  EXPECT_EQ(r.fhir_version(), "4.0.1");
  EXPECT_EQ(r.All().size(), 1375u);
  EXPECT_EQ(r.ResourceTypes().size(), 146u);
  EXPECT_TRUE(r.IsResourceType("Patient"));
  EXPECT_TRUE(r.IsResourceType("Bundle"));
  EXPECT_FALSE(r.IsResourceType("Resource"));
  EXPECT_FALSE(r.IsResourceType("DomainResource"));
  EXPECT_FALSE(r.IsResourceType("patient"));
  EXPECT_FALSE(r.IsResourceType("HumanName"));
}

TEST(SearchParamRegistryTest, PatientHasExactlyTheSpecParameters) {
  const std::vector<std::string> kPatient = {
      "_content",
      "_id",
      "_lastUpdated",
      "_profile",
      "_query",
      "_security",
      "_source",
      "_tag",
      "_text",
      "active",
      "address",
      "address-city",
      "address-country",
      "address-postalcode",
      "address-state",
      "address-use",
      "birthdate",
      "death-date",
      "deceased",
      "email",
      "family",
      "gender",
      "general-practitioner",
      "given",
      "identifier",
      "language",
      "link",
      "name",
      "organization",
      "phone",
      "phonetic",
      "telecom",
  };
  EXPECT_EQ(Codes(Registry().ForType("Patient")), kPatient);
}

TEST(SearchParamRegistryTest, CountsPerType) {
  const std::map<std::string, size_t> kCounts = {
      {"Patient", 32},   {"Observation", 47}, {"Condition", 30}, {"AllergyIntolerance", 25},
      {"Consent", 24},   {"AuditEvent", 27},  {"Bundle", 13},    {"Binary", 8},
      {"Parameters", 8},
  };
  for (const auto& [type, count] : kCounts) {
    EXPECT_EQ(Registry().ForType(type).size(), count) << type;
  }
  EXPECT_TRUE(Registry().ForType("NotAType").empty());
  EXPECT_TRUE(Registry().ForType("Resource").empty());
  EXPECT_TRUE(Registry().ForType("").empty());
}

// Every type's parameter list against the official bundle, read directly.
TEST(SearchParamRegistryTest, ForTypeMatchesOfficialDefinitionsForEveryType) {
  const json::value official = json::parse(ReadFile(kOfficialFile));
  const std::set<std::string> kNotDomainResources = {"Binary", "Bundle", "Parameters"};
  std::map<std::string, std::set<std::string>> expected;
  std::set<std::string> common_all;
  std::set<std::string> common_domain;
  for (const json::value& entry : official.at("entry").as_array()) {
    const json::object& sp = entry.at("resource").as_object();
    std::string code(sp.at("code").as_string());
    for (const json::value& base : sp.at("base").as_array()) {
      if (base == "Resource") {
        common_all.insert(code);
      } else if (base == "DomainResource") {
        common_domain.insert(code);
      } else {
        expected[std::string(base.as_string())].insert(code);
      }
    }
  }
  EXPECT_EQ(common_all, (std::set<std::string>{"_content", "_id", "_lastUpdated", "_profile",
                                               "_query", "_security", "_source", "_tag"}));
  EXPECT_EQ(common_domain, (std::set<std::string>{"_text"}));
  for (const std::string& type : Registry().ResourceTypes()) {
    std::set<std::string> want = expected[type];
    want.insert(common_all.begin(), common_all.end());
    if (!kNotDomainResources.count(type)) want.insert(common_domain.begin(), common_domain.end());
    std::vector<std::string> got = Codes(Registry().ForType(type));
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end())) << type;
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), want) << type;
    EXPECT_EQ(got.size(), want.size()) << type;
  }
}

TEST(SearchParamRegistryTest, CommonParametersApplyToObservation) {
  const SearchParam* id = Registry().Find("Observation", "_id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->id, "Resource-id");
  EXPECT_EQ(id->type, SearchParamType::kToken);
  EXPECT_TRUE(id->IsCommon());
  EXPECT_EQ(id->ExpressionFor("Observation"), "Resource.id");

  const SearchParam* updated = Registry().Find("Observation", "_lastUpdated");
  ASSERT_NE(updated, nullptr);
  EXPECT_EQ(updated->type, SearchParamType::kDate);
  EXPECT_EQ(updated->ExpressionFor("Observation"), "Resource.meta.lastUpdated");
  for (const char* code : {"_tag", "_profile", "_security", "_source", "_text", "_content"}) {
    EXPECT_NE(Registry().Find("Observation", code), nullptr) << code;
  }
  const SearchParam* text = Registry().Find("Patient", "_text");
  ASSERT_NE(text, nullptr);
  EXPECT_TRUE(text->expression.empty());
  EXPECT_EQ(text->ExpressionFor("Patient"), "");
  // _text is a DomainResource parameter; Bundle is not a DomainResource.
  EXPECT_EQ(Registry().Find("Bundle", "_text"), nullptr);
  EXPECT_NE(Registry().Find("Bundle", "_id"), nullptr);
}

TEST(SearchParamRegistryTest, FindMisses) {
  EXPECT_EQ(Registry().Find("Patient", "no-such-param"), nullptr);
  EXPECT_EQ(Registry().Find("Patient", ""), nullptr);
  EXPECT_EQ(Registry().Find("Patient", "Family"), nullptr);  // codes are case sensitive
  EXPECT_EQ(Registry().Find("NotAType", "_id"), nullptr);
  EXPECT_EQ(Registry().Find("Resource", "_id"), nullptr);
  EXPECT_EQ(Registry().Find("Observation", "family"), nullptr);
}

TEST(SearchParamRegistryTest, PatientParameterDetails) {
  const SearchParam* family = Registry().Find("Patient", "family");
  ASSERT_NE(family, nullptr);
  EXPECT_EQ(family->id, "individual-family");
  EXPECT_EQ(family->type, SearchParamType::kString);
  EXPECT_EQ(family->ExpressionFor("Patient"), "Patient.name.family");
  EXPECT_EQ(family->ExpressionFor("Practitioner"), "Practitioner.name.family");

  const SearchParam* birthdate = Registry().Find("Patient", "birthdate");
  ASSERT_NE(birthdate, nullptr);
  EXPECT_EQ(birthdate->ExpressionFor("Patient"), "Patient.birthDate");
  EXPECT_EQ(birthdate->comparator,
            (std::vector<std::string>{"ap", "eb", "eq", "ge", "gt", "le", "lt", "ne", "sa"}));

  const SearchParam* gp = Registry().Find("Patient", "general-practitioner");
  ASSERT_NE(gp, nullptr);
  EXPECT_EQ(gp->type, SearchParamType::kReference);
  EXPECT_EQ(gp->target,
            (std::vector<std::string>{"Organization", "Practitioner", "PractitionerRole"}));

  const SearchParam* phonetic = Registry().Find("Patient", "phonetic");
  ASSERT_NE(phonetic, nullptr);
  EXPECT_EQ(phonetic->xpath_usage, "phonetic");
  EXPECT_EQ(phonetic->ExpressionFor("Patient"), "Patient.name");
  EXPECT_EQ(Registry().Find("Patient", "name")->xpath_usage, "normal");
}

TEST(SearchParamRegistryTest, ImplicitSystemsComeFromRequiredBindings) {
  const SearchParam* gender = Registry().Find("Patient", "gender");
  ASSERT_NE(gender, nullptr);
  EXPECT_EQ(gender->ImplicitSystemFor("Patient"), "http://hl7.org/fhir/administrative-gender");
  EXPECT_EQ(gender->ImplicitSystemFor("Practitioner"), "http://hl7.org/fhir/administrative-gender");
  EXPECT_EQ(gender->ImplicitSystemFor("Observation"), "");
  EXPECT_EQ(Registry().Find("Observation", "status")->ImplicitSystemFor("Observation"),
            "http://hl7.org/fhir/observation-status");
  // CodeableConcepts carry their own systems; identifiers have none implied.
  EXPECT_EQ(Registry().Find("Observation", "code")->ImplicitSystemFor("Observation"), "");
  EXPECT_EQ(Registry().Find("Patient", "identifier")->ImplicitSystemFor("Patient"), "");
}

// The search layer reads a bare code of such a parameter as "no system"
// (api/search_parse.cc): that holds because each one's expression for the
// type is one plain path to a `code` element, whose index rows carry none.
TEST(SearchParamRegistryTest, ImplicitSystemsAreOnPlainPathsOnly) {
  const std::regex plain("[A-Z][A-Za-z]+(\\.[a-z][A-Za-z]*)+");
  int pairs = 0;
  for (const SearchParam& p : Registry().All()) {
    for (const auto& [type, system] : p.implicit_systems) {
      ++pairs;
      std::string expr(p.ExpressionFor(type));
      EXPECT_TRUE(std::regex_match(expr, plain)) << p.id << " on " << type << ": " << expr;
    }
  }
  EXPECT_GT(pairs, 100);
}

TEST(SearchParamRegistryTest, CompositeComponentsAreResolved) {
  const SearchParam* p = Registry().Find("Observation", "code-value-quantity");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->type, SearchParamType::kComposite);
  EXPECT_EQ(p->expression, "Observation");
  EXPECT_EQ(p->multiple_or, std::optional<bool>(false));
  ASSERT_EQ(p->component.size(), 2u);
  EXPECT_EQ(p->component[0].definition, "http://hl7.org/fhir/SearchParameter/clinical-code");
  EXPECT_EQ(p->component[0].code, "code");
  EXPECT_EQ(p->component[0].type, SearchParamType::kToken);
  EXPECT_EQ(p->component[0].expression, "code");
  EXPECT_EQ(p->component[1].definition,
            "http://hl7.org/fhir/SearchParameter/Observation-value-quantity");
  EXPECT_EQ(p->component[1].code, "value-quantity");
  EXPECT_EQ(p->component[1].type, SearchParamType::kQuantity);
  EXPECT_EQ(p->component[1].expression, "value.as(Quantity)");

  // Every component of every composite names a parameter we hold, whose code
  // and type it repeats.
  int composites = 0;
  for (const SearchParam& sp : Registry().All()) {
    if (sp.type != SearchParamType::kComposite) continue;
    ++composites;
    ASSERT_FALSE(sp.component.empty()) << sp.id;
    for (const SearchParamComponent& c : sp.component) {
      const SearchParam* def = Registry().FindByUrl(c.definition);
      ASSERT_NE(def, nullptr) << sp.id << " " << c.definition;
      EXPECT_EQ(def->code, c.code);
      EXPECT_EQ(def->type, c.type);
    }
  }
  EXPECT_EQ(composites, 46);
}

TEST(SearchParamRegistryTest, ReferenceTargets) {
  const SearchParam* item = Registry().Find("List", "item");
  ASSERT_NE(item, nullptr);
  // Stored as "*" and expanded: every resource type but Parameters.
  EXPECT_EQ(item->target.size(), 145u);
  EXPECT_EQ(std::count(item->target.begin(), item->target.end(), "Parameters"), 0);
  EXPECT_EQ(std::count(item->target.begin(), item->target.end(), "Patient"), 1);
  const SearchParam* patient = Registry().Find("Observation", "patient");
  ASSERT_NE(patient, nullptr);
  // As the R4 definition lists it (sorted), although the expression keeps Patients only.
  EXPECT_EQ(patient->target, (std::vector<std::string>{"Group", "Patient"}));
}

// ---- per-type expressions ------------------------------------------------------

TEST(SearchParamExpressionTest, ClinicalPatientSplitsPerType) {
  const SearchParam* p = Registry().Find("Observation", "patient");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->id, "clinical-patient");
  EXPECT_EQ(p->base.size(), 32u);
  EXPECT_EQ(p->ExpressionFor("Observation"), "Observation.subject.where(resolve() is Patient)");
  EXPECT_EQ(p->ExpressionFor("AllergyIntolerance"), "AllergyIntolerance.patient");
  EXPECT_EQ(p->ExpressionFor("Immunization"), "Immunization.patient");
  EXPECT_EQ(p->ExpressionFor("Patient"), "");  // not a base of this parameter
  EXPECT_EQ(Registry().Find("AllergyIntolerance", "patient"), p);
}

TEST(SearchParamExpressionTest, ParenthesisedAndUnprefixedParts) {
  const SearchParam* context = Registry().Find("CodeSystem", "context");
  ASSERT_NE(context, nullptr);
  EXPECT_EQ(context->ExpressionFor("CodeSystem"),
            "(CodeSystem.useContext.value as CodeableConcept)");
  const SearchParam* date = Registry().Find("RiskAssessment", "date");
  ASSERT_NE(date, nullptr);
  EXPECT_EQ(date->id, "clinical-date");
  EXPECT_EQ(date->ExpressionFor("RiskAssessment"), "(RiskAssessment.occurrence as dateTime)");
  // Single base, two alternatives: both kept.
  const SearchParam* vq = Registry().Find("Observation", "value-quantity");
  ASSERT_NE(vq, nullptr);
  EXPECT_EQ(vq->ExpressionFor("Observation"),
            "(Observation.value as Quantity) | (Observation.value as SampledData)");
  // The spec writes InsurancePlan.name as "name | alias": relative parts apply
  // to the base.
  const SearchParam* name = Registry().Find("InsurancePlan", "name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->ExpressionFor("InsurancePlan"), "name | alias");
}

// No parameter loses part of its expression in the split, and every base of
// a parameter with an expression gets a non-empty one.
TEST(SearchParamExpressionTest, SplitCoversEveryPartAndBase) {
  int multi_base = 0;
  for (const SearchParam& p : Registry().All()) {
    if (p.expression.empty()) continue;
    std::multiset<std::string> assigned;
    for (const auto& [base, expr] : p.base_expressions) {
      EXPECT_FALSE(expr.empty()) << p.id << " on " << base;
      EXPECT_EQ(p.ExpressionFor(base), expr);
      for (std::string_view part : SplitTopLevelUnion(expr)) assigned.insert(std::string(part));
    }
    for (std::string_view part : SplitTopLevelUnion(p.expression)) {
      EXPECT_TRUE(assigned.count(std::string(part))) << p.id << ": " << part;
    }
    if (p.base.size() > 1) {
      ++multi_base;
      // Type-prefixed parts are assigned to exactly one base.
      size_t parts = SplitTopLevelUnion(p.expression).size();
      EXPECT_EQ(assigned.size(), parts) << p.id;
    }
  }
  EXPECT_EQ(multi_base, 37);
}

TEST(SearchParamExpressionTest, SplitTopLevelUnion) {
  struct Case {
    std::string in;
    std::vector<std::string> out;
  } kCases[] = {
      {"", {}},
      {"Patient.name", {"Patient.name"}},
      {"A.x | B.y", {"A.x", "B.y"}},
      {"  A.x|B.y  ", {"A.x", "B.y"}},
      {"(A.x | A.y) | B.z", {"(A.x | A.y)", "B.z"}},
      {"A.where(x = 'a|b') | B", {"A.where(x = 'a|b')", "B"}},
      {"A.where(x = 'it\\'s | here') | B", {"A.where(x = 'it\\'s | here')", "B"}},
      {"A.`odd|name` | B", {"A.`odd|name`", "B"}},
      {"A.x[0] | B.y[(1)]", {"A.x[0]", "B.y[(1)]"}},
      {"A | ", {"A", ""}},
      {"| A", {"", "A"}},
      {"A.where(x | y", {"A.where(x | y"}},  // unbalanced: no top level
      {"A) | B", {"A)", "B"}},               // stray close paren tolerated
      {"'unterminated | B", {"'unterminated | B"}},
      {"A \\", {"A \\"}},
  };
  for (const Case& c : kCases) {
    std::vector<std::string> got;
    for (std::string_view part : SplitTopLevelUnion(c.in)) got.emplace_back(part);
    EXPECT_EQ(got, c.out) << "input: " << c.in;
  }
}

TEST(SearchParamExpressionTest, LeadingTypeName) {
  EXPECT_EQ(LeadingTypeName("Observation.subject"), "Observation");
  EXPECT_EQ(LeadingTypeName("((Observation.value as Quantity))"), "Observation");
  EXPECT_EQ(LeadingTypeName("( Observation.value)"), "Observation");
  EXPECT_EQ(LeadingTypeName("Observation"), "Observation");
  EXPECT_EQ(LeadingTypeName("name"), "");
  EXPECT_EQ(LeadingTypeName("%resource.id"), "");
  EXPECT_EQ(LeadingTypeName(""), "");
  EXPECT_EQ(LeadingTypeName("((("), "");
}

// ---- parsing errors -------------------------------------------------------------

TEST(SearchParamParseTest, MinimalRegistry) {
  auto r = SearchParamRegistry::Parse(MiniRegistry(
      R"({"id":"Resource-id","code":"_id","type":"token","base":["Resource"],)"
      R"("expression":"Resource.id"},)"
      R"({"id":"DomainResource-text","code":"_text","type":"string","base":["DomainResource"]},)"
      R"({"id":"x-subject","code":"subject","type":"reference","base":["Observation","Patient"],)"
      R"("expression":"Observation.subject | Patient.link.other","target":"*"})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Codes((*r)->ForType("Bundle")), (std::vector<std::string>{"_id"}));
  EXPECT_EQ(Codes((*r)->ForType("Patient")), (std::vector<std::string>{"_id", "_text", "subject"}));
  const SearchParam* subject = (*r)->Find("Patient", "subject");
  ASSERT_NE(subject, nullptr);
  EXPECT_EQ(subject->url, "http://hl7.org/fhir/SearchParameter/x-subject");
  EXPECT_EQ(subject->target, (std::vector<std::string>{"Observation", "Patient"}));
  EXPECT_EQ(subject->ExpressionFor("Patient"), "Patient.link.other");
  EXPECT_EQ((*r)->FindByUrl("http://hl7.org/fhir/SearchParameter/Resource-id")->code, "_id");
}

TEST(SearchParamParseTest, RejectsMalformedData) {
  const std::string kOk =
      R"({"id":"p","code":"c","type":"token","base":["Patient"],"expression":"Patient.x"})";
  EXPECT_EQ(ParseCode(MiniRegistry(kOk)), Code::kOk);
  const std::vector<std::string> kBad = {
      "",
      "not json",
      "[]",
      "{}",
      R"({"resourceTypes":{},"params":[]})",
      R"({"resourceTypes":{"Patient":"Element"},"params":[]})",
      R"({"resourceTypes":{"Resource":"Resource"},"params":[]})",
      R"({"resourceTypes":{"Patient":"DomainResource"},"params":{}})",
      MiniRegistry("1"),
      MiniRegistry(R"({"code":"c","type":"token","base":["Patient"]})"),
      MiniRegistry(R"({"id":"p","type":"token","base":["Patient"]})"),
      MiniRegistry(R"({"id":"p","code":"c","type":"tokn","base":["Patient"]})"),
      MiniRegistry(R"({"id":"p","code":"c","type":"token","base":[]})"),
      MiniRegistry(R"({"id":"p","code":"c","type":"token","base":"Patient"})"),
      MiniRegistry(R"({"id":"p","code":"c","type":"token","base":["Alien"]})"),
      MiniRegistry(R"({"id":"p","code":"c","type":"token","base":["Patient"],"expression":7})"),
      MiniRegistry(R"({"id":"p","code":"c","type":"token","base":["Patient"],"target":[1]})"),
      MiniRegistry(R"({"id":"p","code":"c","type":"token","base":["Patient"],"multipleOr":"yes"})"),
      MiniRegistry(R"({"id":"p","code":"c","type":"composite","base":["Patient"]})"),
      MiniRegistry(
          R"({"id":"p","code":"c","type":"composite","base":["Patient"],"component":[)"
          R"({"definition":"http://x/none","code":"a","type":"token","expression":"a"}]})"),
      MiniRegistry(kOk + "," + kOk),  // duplicate url
      MiniRegistry(kOk + R"(,{"id":"q","code":"c","type":"token","base":["Patient"]})"),
      MiniRegistry(kOk + R"(,{"id":"q","code":"c","type":"token","base":["Resource"]})"),
      std::string(100000, '['),
  };
  for (const std::string& text : kBad) {
    EXPECT_EQ(ParseCode(text), Code::kInvalid) << text.substr(0, 200);
  }
  EXPECT_EQ(SearchParamRegistry::LoadFromFile("/nonexistent/search.json").status().code(),
            Code::kNotFound);
}

// ---- generator and thread safety --------------------------------------------------

// The committed data is what the generator makes from the official bundle.
TEST(SearchParamGeneratorTest, CommittedDataIsUpToDate) {
  if (std::system("python3 --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  std::string command = std::string("python3 ") + CRS_SOURCE_DIR +
                        "/tools/gen_search_params.py --check --shared " + CRS_SHARED_DIR +
                        " --out " + kDataFile;
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

TEST(SearchParamRegistryTest, ConcurrentReaders) {
  const SearchParamRegistry& r = Registry();
  std::vector<std::thread> threads;
  std::vector<int> found(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&r, &found, t] {
      for (int i = 0; i < 2000; ++i) {
        for (const std::string& type : r.ResourceTypes()) {
          if (r.Find(type, "_id") != nullptr) ++found[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int n : found) EXPECT_EQ(n, 2000 * 146);
}

}  // namespace
}  // namespace crs::fhir
