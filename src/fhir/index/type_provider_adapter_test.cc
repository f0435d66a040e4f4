#include "fhir/index/type_provider_adapter.h"

#include <gtest/gtest.h>

#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "fhir/fhirpath/fhirpath.h"
#include "fhir/fhirpath/sd_type_provider.h"
#include "fhir/index/test_support.h"
#include "fhir/model.h"

namespace crs::fhir::index {
namespace {

namespace json = boost::json;

const ModelTypeProvider& Provider() { return ModelTypeProvider::R4(); }

TEST(ModelTypeProviderTest, Children) {
  auto c = Provider().Child("Observation", "valueQuantity");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->type, "Quantity");
  EXPECT_EQ(c->key, "Quantity");
  EXPECT_TRUE(c->choice);

  c = Provider().Child("Observation", "component");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->type, "BackboneElement");
  EXPECT_EQ(c->key, "Observation.component");
  EXPECT_FALSE(c->choice);

  c = Provider().Child("Observation.component", "valueCodeableConcept");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->type, "CodeableConcept");

  c = Provider().Child("Questionnaire.item", "item");  // contentReference
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->key, "Questionnaire.item");

  c = Provider().Child("Patient", "id");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->type, "id");
  c = Provider().Child("HumanName", "id");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->type, "string");
  c = Provider().Child("Extension", "url");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->type, "uri");

  EXPECT_FALSE(Provider().Child("Observation", "value").has_value());  // JSON never says so
  EXPECT_FALSE(Provider().Child("Observation", "nonsense").has_value());
  EXPECT_FALSE(Provider().Child("NoSuchType", "id").has_value());
}

TEST(ModelTypeProviderTest, TypesAndElements) {
  EXPECT_EQ(Provider().BaseType("Patient"), "DomainResource");
  EXPECT_EQ(Provider().BaseType("Age"), "Quantity");
  EXPECT_EQ(Provider().BaseType("code"), "string");
  EXPECT_EQ(Provider().BaseType("Resource"), "");
  EXPECT_TRUE(Provider().IsType("BackboneElement"));
  EXPECT_TRUE(Provider().IsType("dateTime"));
  EXPECT_TRUE(Provider().IsType("Patient"));
  EXPECT_FALSE(Provider().IsType("Nope"));
  EXPECT_TRUE(Provider().IsResourceType("DomainResource"));
  EXPECT_FALSE(Provider().IsResourceType("HumanName"));
  EXPECT_TRUE(Provider().HasElement("Observation", "value"));
  EXPECT_FALSE(Provider().HasElement("Observation", "valueQuantity"));
  EXPECT_TRUE(Provider().HasElement("Observation.component", "code"));
}

// The adapter answers as the reference provider built from the official
// StructureDefinitions does, for every element of every structure reachable from the
// resource types.
TEST(ModelTypeProviderTest, AgreesWithStructureDefinitions) {
  CRS_REQUIRE_SHARED_DATA();
  fhirpath::StructureDefinitionTypeProvider reference;
  for (const char* file : {"fhir-r4/profiles-types.json", "fhir-r4/profiles-resources.json"}) {
    ASSERT_TRUE(reference.Add(testing::ReadJson(testing::SharedPath(file))).ok());
  }
  const Model& model = Model::R4();
  std::vector<std::string> pending(model.ResourceTypes().begin(), model.ResourceTypes().end());
  std::set<std::string> seen(pending.begin(), pending.end());
  size_t compared = 0;
  std::vector<std::string> differences;
  while (!pending.empty()) {
    std::string key = pending.back();
    pending.pop_back();
    for (const ElementDef* def : model.Children(key)) {
      std::string name = def->path.substr(def->path.rfind('.') + 1);
      if (def->choice) name.resize(name.size() - 3);
      for (const std::string& type : def->types) {
        std::string json_name = name;
        if (def->choice) json_name += static_cast<char>(std::toupper(type[0])) + type.substr(1);
        auto mine = Provider().Child(key, json_name);
        auto theirs = reference.Child(key, json_name);
        ++compared;
        if (!mine || !theirs || mine->type != theirs->type || mine->key != theirs->key ||
            mine->choice != theirs->choice) {
          differences.push_back(
              key + "." + json_name + ": " +
              (mine ? std::string(mine->type) + "@" + std::string(mine->key) : "none") + " vs " +
              (theirs ? std::string(theirs->type) + "@" + std::string(theirs->key) : "none"));
        } else if (seen.insert(std::string(mine->key)).second) {
          pending.emplace_back(mine->key);
        }
        EXPECT_EQ(Provider().HasElement(key, name), reference.HasElement(key, name))
            << key << "." << name;
        if (!def->choice) break;
      }
    }
  }
  std::cout << "type provider: " << compared << " children compared over " << seen.size()
            << " structures, " << differences.size() << " differences\n";
  for (size_t i = 0; i < differences.size() && i < 20; ++i) {
    std::cout << "  " << differences[i] << "\n";
  }
  EXPECT_GT(compared, 5000u);
  EXPECT_TRUE(differences.empty());
}

std::vector<std::string> Eval(std::string_view expression, const json::value& resource) {
  Result<fhirpath::Expression> e = fhirpath::Compile(expression);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  fhirpath::EvalContext ctx;
  ctx.types = &Provider();
  Result<fhirpath::Collection> r = fhirpath::Evaluate(*e, resource, ctx);
  EXPECT_TRUE(r.ok()) << expression << ": " << r.status().ToString();
  std::vector<std::string> out;
  if (r.ok()) {
    for (const fhirpath::Item& item : *r) out.push_back(item.DebugString());
  }
  return out;
}

TEST(ModelTypeProviderTest, TypedExpressions) {
  json::value obs = json::parse(R"({
    "resourceType": "Observation", "id": "o1", "status": "final",
    "code": {"text": "x"},
    "subject": {"reference": "Patient/p1"},
    "performer": [{"reference": "Practitioner/x"}, {"reference": "Patient/p1"}],
    "valueQuantity": {"value": 5.5, "unit": "mg", "system": "http://unitsofmeasure.org",
                      "code": "mg"},
    "component": [{"code": {"text": "c"}, "valueString": "s"},
                  {"code": {"text": "d"}, "valueQuantity": {"value": 1, "code": "g"}}]
  })");
  EXPECT_EQ(Eval("(Observation.value as Quantity).value", obs).size(), 1u);
  EXPECT_EQ(Eval("Observation.value is Quantity", obs), std::vector<std::string>{"true"});
  EXPECT_EQ(Eval("Observation.value.ofType(string)", obs).size(), 0u);
  EXPECT_EQ(Eval("Observation.component.value.ofType(string)", obs).size(), 1u);
  EXPECT_EQ(Eval("Observation.component.value.ofType(Quantity)", obs).size(), 1u);
  EXPECT_EQ(Eval("Observation.subject.ofType(Reference)", obs).size(), 1u);
  EXPECT_EQ(Eval("Observation.performer.where(resolve() is Patient)", obs).size(), 1u);
  EXPECT_EQ(Eval("Observation.id is id", obs), std::vector<std::string>{"true"});
  EXPECT_EQ(Eval("Observation.status is code", obs), std::vector<std::string>{"true"});
  EXPECT_EQ(Eval("Observation.value > 5 'mg'", obs), std::vector<std::string>{"true"});
}

}  // namespace
}  // namespace crs::fhir::index
