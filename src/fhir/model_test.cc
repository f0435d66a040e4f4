#include "fhir/model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace crs::fhir {
namespace {

const Model& M() { return Model::R4(); }

TEST(ModelTest, KnowsAllR4ResourceTypes) {
  // R4 has 146 concrete resource types; the abstract Resource and DomainResource are
  // resource types too (kind = resource) and are listed, flagged by IsAbstract().
  const std::vector<std::string>& types = M().ResourceTypes();
  EXPECT_EQ(types.size(), 148u);
  EXPECT_TRUE(std::is_sorted(types.begin(), types.end()));
  size_t concrete = std::count_if(types.begin(), types.end(),
                                  [](const std::string& t) { return !M().IsAbstract(t); });
  EXPECT_EQ(concrete, 146u);
  for (const char* name :
       {"Patient", "Observation", "Bundle", "Parameters", "Consent", "AuditEvent",
        "OperationOutcome", "Binary", "VerificationResult", "Resource", "DomainResource"}) {
    EXPECT_TRUE(M().IsResourceType(name)) << name;
  }
  EXPECT_TRUE(M().IsAbstract("Resource"));
  EXPECT_TRUE(M().IsAbstract("DomainResource"));
  EXPECT_FALSE(M().IsAbstract("Patient"));
  EXPECT_FALSE(M().IsResourceType("HumanName"));
  EXPECT_FALSE(M().IsResourceType("patient"));
  EXPECT_FALSE(M().IsResourceType("MetadataResource"));  // a logical model, not a resource
  EXPECT_EQ(M().FhirVersion(), "4.0.1");
}

TEST(ModelTest, ResourceTypesMatchTheOfficialDefinitions) {
  std::filesystem::path file =
      std::filesystem::path(CRS_SHARED_DIR) / "fhir-r4" / "profiles-resources.json";
  std::ifstream in(file);
  if (!in) GTEST_SKIP() << "shared data missing: " << file;
  std::stringstream text;
  text << in.rdbuf();
  boost::json::value bundle = boost::json::parse(text.str());
  std::set<std::string> official;
  for (const auto& entry : bundle.at("entry").as_array()) {
    const auto& res = entry.at("resource").as_object();
    if (res.at("resourceType") == "StructureDefinition" && res.at("kind") == "resource") {
      official.insert(std::string(res.at("id").as_string()));
    }
  }
  std::set<std::string> ours(M().ResourceTypes().begin(), M().ResourceTypes().end());
  EXPECT_EQ(ours, official);
}

TEST(ModelTest, DatatypesAndBaseTypes) {
  for (const char* name :
       {"HumanName", "Quantity", "Age", "Duration", "SimpleQuantity", "MoneyQuantity", "Extension",
        "Element", "BackboneElement", "Meta", "Narrative", "Dosage", "Timing", "xhtml"}) {
    EXPECT_TRUE(M().IsDatatype(name)) << name;
  }
  EXPECT_FALSE(M().IsDatatype("Patient"));
  EXPECT_FALSE(M().IsDatatype("NoSuchType"));
  for (const char* name :
       {"base64Binary", "boolean",     "canonical", "code",     "date", "dateTime",    "decimal",
        "id",           "instant",     "integer",   "markdown", "oid",  "positiveInt", "string",
        "time",         "unsignedInt", "uri",       "url",      "uuid", "xhtml"}) {
    EXPECT_TRUE(M().IsPrimitiveType(name)) << name;
  }
  EXPECT_FALSE(M().IsPrimitiveType("HumanName"));
  EXPECT_FALSE(M().IsPrimitiveType("String"));

  EXPECT_EQ(M().BaseType("Patient"), "DomainResource");
  EXPECT_EQ(M().BaseType("DomainResource"), "Resource");
  EXPECT_EQ(M().BaseType("Bundle"), "Resource");
  EXPECT_EQ(M().BaseType("Resource"), "");
  EXPECT_EQ(M().BaseType("Element"), "");
  EXPECT_EQ(M().BaseType("Age"), "Quantity");
  EXPECT_EQ(M().BaseType("SimpleQuantity"), "Quantity");
  EXPECT_EQ(M().BaseType("code"), "string");
  EXPECT_EQ(M().BaseType("positiveInt"), "integer");
  EXPECT_EQ(M().BaseType("uuid"), "uri");
  EXPECT_EQ(M().BaseType("HumanName"), "Element");
  EXPECT_EQ(M().BaseType("Dosage"), "BackboneElement");
  EXPECT_EQ(M().BaseType("Nope"), "");
}

TEST(ModelTest, PrimitiveRegexesAndSystemTypes) {
  EXPECT_EQ(M().PrimitiveRegex("id"), "[A-Za-z0-9\\-\\.]{1,64}");
  EXPECT_EQ(M().PrimitiveRegex("date"),
            "([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2]"
            "[0-9]|3[0-1]))?)?");
  EXPECT_EQ(M().PrimitiveRegex("xhtml"), "");
  EXPECT_EQ(M().PrimitiveRegex("HumanName"), "");
  EXPECT_EQ(M().PrimitiveSystemType("string"), "String");
  EXPECT_EQ(M().PrimitiveSystemType("code"), "String");
  EXPECT_EQ(M().PrimitiveSystemType("boolean"), "Boolean");
  EXPECT_EQ(M().PrimitiveSystemType("positiveInt"), "Integer");
  EXPECT_EQ(M().PrimitiveSystemType("unsignedInt"), "Integer");
  EXPECT_EQ(M().PrimitiveSystemType("decimal"), "Decimal");
  EXPECT_EQ(M().PrimitiveSystemType("date"), "Date");
  EXPECT_EQ(M().PrimitiveSystemType("instant"), "DateTime");
  EXPECT_EQ(M().PrimitiveSystemType("time"), "Time");
  EXPECT_EQ(M().PrimitiveSystemType("HumanName"), "");
}

TEST(ModelTest, ResolvesPlainElements) {
  auto name = M().Child("Patient", "name");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->def->path, "Patient.name");
  EXPECT_EQ(name->type, "HumanName");
  EXPECT_EQ(name->next_key, "HumanName");
  EXPECT_TRUE(name->def->many);
  EXPECT_FALSE(name->def->choice);

  auto family = M().Child(name->next_key, "family");
  ASSERT_TRUE(family);
  EXPECT_EQ(family->type, "string");
  EXPECT_FALSE(family->def->many);

  auto status = M().Child("Observation", "status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->def->min, 1);
  EXPECT_EQ(status->type, "code");

  auto subject = M().Child("Observation", "subject");
  ASSERT_TRUE(subject);
  EXPECT_EQ(subject->type, "Reference");
  const auto& targets = subject->def->target_profiles;
  EXPECT_NE(std::find(targets.begin(), targets.end(), "Patient"), targets.end());
  EXPECT_NE(std::find(targets.begin(), targets.end(), "Group"), targets.end());

  // Inherited from Resource / DomainResource through the snapshot.
  EXPECT_TRUE(M().Child("Patient", "meta"));
  EXPECT_TRUE(M().Child("Patient", "contained"));
  EXPECT_EQ(M().Child("Patient", "contained")->type, "Resource");
  EXPECT_TRUE(M().Child("Bundle", "meta"));
  EXPECT_FALSE(M().Child("Bundle", "text"));  // Bundle is not a DomainResource

  EXPECT_FALSE(M().Child("Patient", "unknownElement"));
  EXPECT_FALSE(M().Child("Patient", "_birthDate"));
  EXPECT_FALSE(M().Child("Patient", "resourceType"));
  EXPECT_FALSE(M().Child("NoSuchType", "id"));
}

TEST(ModelTest, ResolvesChoiceElementsFromTheSuffix) {
  auto quantity = M().Child("Observation", "valueQuantity");
  ASSERT_TRUE(quantity);
  EXPECT_EQ(quantity->def->path, "Observation.value[x]");
  EXPECT_TRUE(quantity->def->choice);
  EXPECT_EQ(quantity->type, "Quantity");
  EXPECT_EQ(quantity->next_key, "Quantity");

  auto date_time = M().Child("Observation", "effectiveDateTime");
  ASSERT_TRUE(date_time);
  EXPECT_EQ(date_time->type, "dateTime");
  auto codeable = M().Child("Observation", "valueCodeableConcept");
  ASSERT_TRUE(codeable);
  EXPECT_EQ(codeable->type, "CodeableConcept");
  auto age = M().Child("Condition", "onsetAge");
  ASSERT_TRUE(age);
  EXPECT_EQ(age->type, "Age");
  auto ext = M().Child("Extension", "valueBase64Binary");
  ASSERT_TRUE(ext);
  EXPECT_EQ(ext->type, "base64Binary");

  EXPECT_FALSE(M().Child("Observation", "value"));
  EXPECT_FALSE(M().Child("Observation", "valueFoo"));
  EXPECT_FALSE(M().Child("Observation", "valuequantity"));
  EXPECT_FALSE(M().Child("Observation", "valueAge"));  // not one of value[x]'s types

  const Structure* observation = M().FindStructure("Observation");
  ASSERT_NE(observation, nullptr);
  const ElementDef* value = observation->FindElement("value");
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(value->path, "Observation.value[x]");
  EXPECT_GT(value->types.size(), 5u);
}

TEST(ModelTest, ResolvesInlineStructuresAndContentReferences) {
  auto component = M().Child("Observation", "component");
  ASSERT_TRUE(component);
  EXPECT_EQ(component->type, "BackboneElement");
  EXPECT_EQ(component->next_key, "Observation.component");
  auto code = M().Child(component->next_key, "code");
  ASSERT_TRUE(code);
  EXPECT_EQ(code->def->min, 1);

  auto item = M().Child("Questionnaire", "item");
  ASSERT_TRUE(item);
  EXPECT_EQ(item->next_key, "Questionnaire.item");
  auto nested = M().Child(item->next_key, "item");
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->def->path, "Questionnaire.item.item");
  EXPECT_EQ(nested->def->content_reference, "Questionnaire.item");
  EXPECT_EQ(nested->type, "BackboneElement");
  EXPECT_EQ(nested->next_key, "Questionnaire.item");
  EXPECT_TRUE(nested->def->many);
  EXPECT_TRUE(M().Child(nested->next_key, "linkId"));

  auto repeat = M().Child("Timing", "repeat");  // an inline structure of type Element
  ASSERT_TRUE(repeat);
  EXPECT_EQ(repeat->type, "Element");
  EXPECT_EQ(repeat->next_key, "Timing.repeat");
  EXPECT_TRUE(M().Child(repeat->next_key, "boundsDuration"));

  auto entry = M().Child("Bundle", "entry");
  ASSERT_TRUE(entry);
  auto resource = M().Child(entry->next_key, "resource");
  ASSERT_TRUE(resource);
  EXPECT_EQ(resource->type, "Resource");
  EXPECT_EQ(resource->next_key, "Resource");
}

TEST(ModelTest, SystemTypedElementsAreNormalised) {
  auto element_id = M().Child("HumanName", "id");
  ASSERT_TRUE(element_id);
  EXPECT_EQ(element_id->def->types, std::vector<std::string>{"string"});
  EXPECT_TRUE(element_id->def->system_typed);
  auto url = M().Child("Extension", "url");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->def->types, std::vector<std::string>{"uri"});
  EXPECT_TRUE(url->def->system_typed);
  EXPECT_EQ(url->def->min, 1);
  auto resource_id = M().Child("Patient", "id");
  ASSERT_TRUE(resource_id);
  EXPECT_TRUE(resource_id->def->system_typed);
  EXPECT_FALSE(M().Child("Patient", "gender")->def->system_typed);
  // A primitive's own children: id and extension, not its value.
  auto date_ext = M().Child("date", "extension");
  ASSERT_TRUE(date_ext);
  EXPECT_TRUE(date_ext->def->many);
  EXPECT_FALSE(M().Child("date", "value"));
  EXPECT_FALSE(M().Child("xhtml", "extension"));  // max 0 in R4
  EXPECT_FALSE(M().Child("SimpleQuantity", "comparator"));
  EXPECT_TRUE(M().Child("Quantity", "comparator"));
}

TEST(ModelTest, ChildrenAndStructures) {
  std::vector<const ElementDef*> children = M().Children("Patient");
  ASSERT_FALSE(children.empty());
  EXPECT_EQ(children.front()->path, "Patient.id");
  auto has = [&](std::string_view path) {
    return std::any_of(children.begin(), children.end(),
                       [&](const ElementDef* d) { return d->path == path; });
  };
  EXPECT_TRUE(has("Patient.name"));
  EXPECT_TRUE(has("Patient.deceased[x]"));
  EXPECT_TRUE(has("Patient.contact"));
  EXPECT_FALSE(has("Patient.contact.name"));  // not direct
  EXPECT_TRUE(M().Children("Nope").empty());

  const Structure* patient = M().FindStructure("Patient");
  ASSERT_NE(patient, nullptr);
  EXPECT_EQ(patient->kind(), Structure::Kind::kResource);
  const ChildView* deceased = patient->Find("deceasedBoolean");
  ASSERT_NE(deceased, nullptr);
  EXPECT_EQ(deceased->name, "deceased");
  EXPECT_EQ(patient->elements()[deceased->index], deceased->def);
  EXPECT_EQ(deceased->next->key(), "boolean");
  EXPECT_EQ(deceased->next->kind(), Structure::Kind::kPrimitiveType);
  EXPECT_EQ(M().FindStructure("Observation.component")->kind(), Structure::Kind::kInline);
  EXPECT_EQ(M().FindStructure("HumanName")->kind(), Structure::Kind::kComplexType);
}

// Every element of every structure resolves: each type code names a structure, each
// required index points at a min >= 1 element, and no structure is wider than the
// validator's seen-set (256).
TEST(ModelTest, EveryElementResolves) {
  size_t elements = 0;
  for (const std::string& type : M().ResourceTypes()) {
    std::vector<std::string> keys = {type};
    for (size_t k = 0; k < keys.size(); ++k) {
      const Structure* s = M().FindStructure(keys[k]);
      ASSERT_NE(s, nullptr) << keys[k];
      EXPECT_LE(s->elements().size(), 256u) << keys[k];
      for (uint16_t index : s->required()) EXPECT_GE(s->elements()[index]->min, 1);
      for (const ElementDef* def : s->elements()) {
        ++elements;
        ASSERT_FALSE(def->types.empty()) << def->path;
        for (const std::string& t : def->types) {
          EXPECT_NE(M().FindStructure(t), nullptr) << def->path << " " << t;
        }
        std::string name = def->path.substr(def->path.rfind('.') + 1);
        if (def->choice) {
          name.resize(name.size() - 3);
          for (std::string t : def->types) {
            t[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(t[0])));
            auto child = M().Child(keys[k], name + t);
            ASSERT_TRUE(child) << def->path << " " << t;
            EXPECT_EQ(child->def, def);
          }
          continue;
        }
        auto child = M().Child(keys[k], name);
        ASSERT_TRUE(child) << def->path;
        EXPECT_EQ(child->def, def);
        // Descend into inline structures, but not into content references (cycles).
        if (def->content_reference.empty() && child->next_key == def->path) {
          keys.push_back(def->path);
        }
      }
    }
  }
  EXPECT_GT(elements, 4000u);
}

// The committed model.json is what tools/gen_fhir_model.py writes from the shared data.
TEST(ModelGeneratorTest, CommittedModelIsUpToDate) {
  if (std::system("python3 --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  std::filesystem::path fhir = std::filesystem::path(CRS_SHARED_DIR) / "fhir-r4";
  if (!std::filesystem::exists(fhir / "profiles-types.json")) {
    GTEST_SKIP() << "shared data missing: " << fhir;
  }
  std::string command = std::string("python3 ") + CRS_SOURCE_DIR +
                        "/tools/gen_fhir_model.py --check --shared " + fhir.string() + " --out " +
                        CRS_SOURCE_DIR + "/src/fhir/data/model.json";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

}  // namespace
}  // namespace crs::fhir
